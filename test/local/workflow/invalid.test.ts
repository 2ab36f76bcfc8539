import { cachedTemplate } from '../../fixtures/templates';
import type { CfnTemplate } from '../../../local/engine/template';
import type { LocalFactory } from '../../../local/engine';
import { notifications, request, startFactory } from './harness';

let template: CfnTemplate;
let factory: LocalFactory;

beforeAll(() => {
  template = cachedTemplate({ exampleCustomizations: false });
});

afterEach(async () => {
  await factory?.close();
});

/** Calls that change the emulated organization (the notification and the execution itself aside). */
const MUTATING = /\.(Create|Provision|Update|Tag|Untag|Move|Close|Terminate|Attach|Delete|Put|Start)/;

test.each([
  ['an aws: tag key', { tags: { 'aws:owner': 'x' } }, 'tags.aws:owner'],
  ['an account name with <', { accountName: 'bad<name>' }, 'accountName'],
  ['a malformed SSO email', { sso: { email: 'not-an-email', firstName: 'A', lastName: 'B' } }, 'sso.email'],
])(
  'an invalid request (%s): failure notification naming the field, nothing written',
  async (_what, change, field) => {
    factory = await startFactory(template);
    const before = factory.landingZone.accounts.length;

    await factory.submit({ ...request('invalid'), ...change });
    await factory.idle();

    const [execution] = factory.executions();
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('InvalidAccountRequest');
    const [failure] = notifications(factory, 'failure');
    expect(failure.error).toMatchObject({ name: 'InvalidAccountRequest', field });
    expect(failure.error!.cause).toContain(field);
    expect(factory.landingZone.accounts).toHaveLength(before);
    expect(factory.landingZone.controlTowerOperations).toHaveLength(0);
    const mutating = Object.keys(factory.landingZone.callCounts).filter(
      (c) => MUTATING.test(c) && !c.startsWith('SNS.') && !c.startsWith('SFN.'),
    );
    expect(mutating).toEqual([]);
  },
);

test('an organizational unit that does not exist fails validation with OrganizationalUnitNotFound', async () => {
  factory = await startFactory(template);

  await factory.submit(request('lost', { organizationalUnit: 'Nowhere' }));
  await factory.idle();

  expect(factory.executions()[0].error).toBe('OrganizationalUnitNotFound');
  expect(notifications(factory, 'failure')[0].error).toMatchObject({ name: 'OrganizationalUnitNotFound' });
  expect(factory.landingZone.controlTowerOperations).toHaveLength(0);
});
