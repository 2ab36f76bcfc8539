import { AccountManagement } from '../../local/emulator/account';
import { AccountClient, PutAlternateContactCommand } from '@aws-sdk/client-account';
import { AlternateContactsInputSchema, reconcileAlternateContacts } from '../../lambda/alternate-contacts';
import { createClient } from '../../lambda/shared/clients';
import { AccountManagementTrustedAccessDisabled } from '../../lambda/shared/errors';
import { SettingsFixture, startSettingsFixture } from './settings-fixture';

const billing = {
  name: 'Billing Team',
  title: 'Finance',
  email: 'billing@example.com',
  phone: '+1 555 0100',
};
const security = {
  name: 'Security Team',
  title: 'CISO office',
  email: 'security@example.com',
  phone: '+1 555 0101',
};
const operations = { name: 'Ops Team', title: 'On call', email: 'ops@example.com', phone: '(555) 0102' };

let f: SettingsFixture;
let account: AccountClient;

beforeEach(async () => {
  f = await startSettingsFixture();
  account = createClient(AccountClient);
});
afterEach(() => f.close());

async function run(version: number, alternateContacts: object | undefined) {
  const p = await f.version(version, { alternateContacts } as never);
  return reconcileAlternateContacts(
    { account, metadata: f.metadata.table },
    AlternateContactsInputSchema.parse(p),
  );
}

describe('alternate contacts', () => {
  test('creates the contacts of the request and records them', async () => {
    const result = await run(1, { billing, security });

    expect(result).toEqual({ put: ['billing', 'security'], deleted: [], unchanged: [] });
    const contacts = f.lz.service(AccountManagement).alternateContacts(f.accountId);
    expect(contacts.BILLING).toMatchObject({ Name: 'Billing Team', EmailAddress: 'billing@example.com' });
    expect(contacts.SECURITY).toMatchObject({ Name: 'Security Team', PhoneNumber: '+1 555 0101' });
    expect(contacts.OPERATIONS).toBeUndefined();
    expect((await f.item())?.appliedAlternateContacts).toEqual(['billing', 'security']);
  });

  test('a second run changes nothing; an edit puts only what changed', async () => {
    await run(1, { billing, security });
    expect(await run(1, { billing, security })).toEqual({
      put: [],
      deleted: [],
      unchanged: ['billing', 'security'],
    });

    const result = await run(2, { billing: { ...billing, phone: '+1 555 0199' }, security });

    expect(result).toEqual({ put: ['billing'], deleted: [], unchanged: ['security'] });
    expect(f.lz.service(AccountManagement).alternateContacts(f.accountId).BILLING.PhoneNumber).toBe(
      '+1 555 0199',
    );
  });

  test('a contact dropped from the request is deleted; one set by hand is kept', async () => {
    await run(1, { billing, security });
    // Someone sets the operations contact by hand.
    await account.send(
      new PutAlternateContactCommand({
        AccountId: f.accountId,
        AlternateContactType: 'OPERATIONS',
        Name: operations.name,
        Title: operations.title,
        EmailAddress: operations.email,
        PhoneNumber: operations.phone,
      }),
    );

    const result = await run(2, { billing });

    expect(result).toEqual({ put: [], deleted: ['security'], unchanged: ['billing'] });
    expect(Object.keys(f.lz.service(AccountManagement).alternateContacts(f.accountId)).sort()).toEqual([
      'BILLING',
      'OPERATIONS',
    ]);
    expect((await f.item())?.appliedAlternateContacts).toEqual(['billing']);

    // Dropping every contact deletes only the factory's.
    expect(await run(3, undefined)).toEqual({ put: [], deleted: ['billing'], unchanged: [] });
    expect(Object.keys(f.lz.service(AccountManagement).alternateContacts(f.accountId))).toEqual([
      'OPERATIONS',
    ]);
  });

  test('without trusted access for Account Management: AccountManagementTrustedAccessDisabled, nothing set', async () => {
    f.lz.service(AccountManagement).setTrustedAccess('account.amazonaws.com', false);

    const err = await run(1, { billing }).catch((e: Error) => e);

    expect(err).toBeInstanceOf(AccountManagementTrustedAccessDisabled);
    expect((err as Error).name).toBe('AccountManagementTrustedAccessDisabled');
    expect((err as Error).message).toMatch(
      /enable-aws-service-access --service-principal account\.amazonaws\.com/,
    );
    expect(f.lz.service(AccountManagement).alternateContacts(f.accountId)).toEqual({});
    expect((await f.item())?.appliedAlternateContacts).toBeUndefined();
  });
});
