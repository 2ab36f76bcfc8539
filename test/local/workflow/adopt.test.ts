import { cachedTemplate } from '../../fixtures/templates';
import type { CfnTemplate } from '../../../local/engine/template';
import type { LocalFactory } from '../../../local/engine';
import { DEFAULT_ORGANIZATION } from '../../../local/emulator';
import { metadataItem, notifications, request, startFactory } from './harness';

let template: CfnTemplate;
let factory: LocalFactory;

beforeAll(() => {
  template = cachedTemplate({ exampleCustomizations: false });
});

afterEach(async () => {
  await factory?.close();
});

/** An account Account Factory vended before the factory was deployed (e.g. from the console, or by AFT). */
const organization = {
  ...DEFAULT_ORGANIZATION,
  accounts: [
    ...(DEFAULT_ORGANIZATION.accounts ?? []),
    { name: 'legacy', email: 'legacy@example.com', ou: 'Sandbox', provisioned: true },
  ],
};

test('an account Account Factory vended earlier is adopted: no Control Tower operation, set up and managed', async () => {
  factory = await startFactory(template, { landingZone: { organization } });
  const account = factory.landingZone.account('legacy@example.com')!;
  const operationsBefore = factory.landingZone.controlTowerOperations.length;

  await factory.submit(request('legacy', { organizationalUnit: 'Sandbox' }));
  await factory.idle();

  const [execution] = factory.executions();
  expect(execution.status).toBe('SUCCEEDED');
  expect(factory.landingZone.controlTowerOperations).toHaveLength(operationsBefore);
  expect(factory.landingZone.accountsCreatedByEmail).toEqual({});
  const item = await metadataItem(factory, account.id);
  expect(item).toMatchObject({
    accountId: account.id,
    status: 'ACTIVE',
    lastOperation: 'ADOPT',
    lastOutcome: 'SUCCEEDED',
    provisionedProductId: expect.stringMatching(/^pp-/),
  });
  expect(factory.landingZone.roles(account.id).map((r) => r.name)).toContain('AWSAFTExecution');
  expect(notifications(factory, 'success')).toEqual([
    expect.objectContaining({ outcome: 'SUCCEEDED', operation: 'ADOPT', accountId: account.id }),
  ]);
  expect(notifications(factory, 'failure')).toEqual([]);
});

test('an account vended earlier, requested into another OU, is moved by updating its provisioned product', async () => {
  factory = await startFactory(template, { landingZone: { organization } });
  const account = factory.landingZone.account('legacy@example.com')!;

  await factory.submit(request('legacy', { organizationalUnit: 'Workloads' }));
  await factory.idle();

  expect(factory.executions()[0].status).toBe('SUCCEEDED');
  expect(factory.landingZone.account('legacy@example.com')).toMatchObject({
    id: account.id,
    ouName: 'Workloads',
  });
  expect(factory.landingZone.accountsCreatedByEmail).toEqual({});
  expect(await metadataItem(factory, account.id)).toMatchObject({ lastOperation: 'UPDATE' });
});
