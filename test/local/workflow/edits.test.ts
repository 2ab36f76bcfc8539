import { cachedTemplate } from '../../fixtures/templates';
import type { CfnTemplate } from '../../../local/engine/template';
import type { LocalFactory } from '../../../local/engine';
import { metadataItem, notifications, request, startFactory } from './harness';

let template: CfnTemplate;
let factory: LocalFactory;

beforeAll(() => {
  template = cachedTemplate({ exampleCustomizations: false });
});

beforeEach(async () => {
  factory = await startFactory(template);
  await factory.submit(request('editable', { tags: { owner: 'team-a', tier: 'gold' } }));
  await factory.idle();
});

afterEach(async () => {
  await factory?.close();
});

const operations = () => factory.landingZone.controlTowerOperations.map((o) => o.type);

test('editing tags and the customizations name re-runs customizations without a Control Tower operation', async () => {
  const account = factory.landingZone.account('editable@example.com')!;
  expect(operations()).toEqual(['PROVISION']);
  expect(factory.landingZone.pipelineExecutions).toHaveLength(1);

  await factory.submit(request('editable', { tags: { owner: 'team-b' }, customizationsName: 'sandbox' }));
  await factory.idle();

  const [, edit] = factory.executions();
  expect(edit.status).toBe('SUCCEEDED');
  expect((edit.output as { validation: { operation: string } }).validation.operation).toBe('CUSTOMIZE');
  expect(operations()).toEqual(['PROVISION']);
  expect(factory.landingZone.pipelineExecutions).toHaveLength(2);
  // The dropped tag is removed, the changed one updated.
  expect(factory.landingZone.account(account.id)!.tags).toEqual({ owner: 'team-b' });
  const pipeline = factory.landingZone.pipelines.find((p: { name: string }) => p.name.endsWith(account.id));
  expect(JSON.stringify(pipeline)).toContain('accounts/sandbox');
  expect(await metadataItem(factory, account.id)).toMatchObject({
    requestVersion: 2,
    lastOperation: 'CUSTOMIZE',
    lastOutcome: 'SUCCEEDED',
  });
});

test('editing the organizational unit updates the account through Service Catalog', async () => {
  const account = factory.landingZone.account('editable@example.com')!;

  await factory.submit(
    request('editable', { organizationalUnit: 'Workloads', tags: { owner: 'team-a', tier: 'gold' } }),
  );
  await factory.idle();

  const [, edit] = factory.executions();
  expect(edit.status).toBe('SUCCEEDED');
  expect(
    (edit.output as { validation: { operation: string; controlTowerChanges: string[] } }).validation,
  ).toMatchObject({
    operation: 'UPDATE',
    controlTowerChanges: ['ManagedOrganizationalUnit'],
  });
  expect(operations()).toEqual(['PROVISION', 'UPDATE']);
  expect(factory.landingZone.account(account.id)).toMatchObject({ ouName: 'Workloads' });
  expect(factory.landingZone.accountsCreatedByEmail).toEqual({ 'editable@example.com': 1 });
  expect(notifications(factory, 'success').map((n) => n.operation)).toEqual(['CREATE', 'UPDATE']);
});
