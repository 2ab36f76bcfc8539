import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { createClient } from '../../lambda/shared/clients';
import {
  indexAccount,
  indexedLookup,
  indexKey,
  lookUpAccount,
  reconcileAccountIndex,
} from '../../lambda/shared/account-index';
import { largeOrganization } from '../../local/emulator/large-organization';
import { landingZone, uninstall } from '../local/emulator/fixture';
import { startSemaphoreFixture, type SemaphoreFixture } from './semaphore-fixture';

let fx: SemaphoreFixture;
beforeEach(async () => {
  fx = await startSemaphoreFixture();
});
afterEach(async () => {
  uninstall();
  await fx.close();
});

/** Organizations calls one look-up makes, in an organization of `size` existing accounts. */
async function callsPerLookUp(size: number): Promise<{ calls: number; found: string | undefined }> {
  const { lz } = landingZone({ organization: largeOrganization(size), pageSize: 20 });
  const org = createClient(OrganizationsClient);
  const email = `existing-${String(size).padStart(5, '0')}@example.com`;
  // What the reconcile (or the factory itself) indexed: the looked-up account among others.
  for (const a of lz.accounts.slice(-3)) await indexAccount(fx.ddb, fx.table, a);
  const before = lz.summary().calls;
  const found = await lookUpAccount(fx.ddb, fx.table, org, 'email', email.toUpperCase());
  return { calls: lz.summary().calls - before, found: found?.email };
}

test('a look-up costs the same AWS calls at 100 and at 5,000 accounts (one DescribeAccount)', async () => {
  const small = await callsPerLookUp(100);
  uninstall();
  await fx.close();
  fx = await startSemaphoreFixture();
  const large = await callsPerLookUp(5000);

  expect(small).toEqual({ calls: 1, found: 'existing-00100@example.com' });
  expect(large).toEqual({ calls: 1, found: 'existing-05000@example.com' });
  expect(Math.abs(large.calls - small.calls)).toBeLessThanOrEqual(0.1 * small.calls);
});

test('a stale hit (the indexed account no longer has that email) is a miss, and its item is dropped', async () => {
  const { lz } = landingZone({ organization: largeOrganization(3), pageSize: 20 });
  const org = createClient(OrganizationsClient);
  await reconcileAccountIndex(fx.ddb, fx.table, org);
  const other = lz.account('existing-00002@example.com')!;
  await fx.ddb.send(
    new PutCommand({
      TableName: fx.table,
      Item: {
        pk: indexKey('email', 'moved@example.com'),
        sk: 'account',
        accountId: other.id,
        email: 'moved@example.com',
        name: 'x',
      },
    }),
  );

  expect(await lookUpAccount(fx.ddb, fx.table, org, 'email', 'moved@example.com')).toBeUndefined();
  expect(await lookUpAccount(fx.ddb, fx.table, org, 'name', 'existing-00002')).toMatchObject({
    id: other.id,
  });
  const again = await reconcileAccountIndex(fx.ddb, fx.table, org);
  expect(again.removed).toBe(0);
});

test('a stale miss (an account made since the last reconcile) is found once the reconcile has run', async () => {
  const { lz } = landingZone({ organization: largeOrganization(3), pageSize: 20 });
  const org = createClient(OrganizationsClient);
  await reconcileAccountIndex(fx.ddb, fx.table, org);
  // The same organization (same seed, same IDs) with one more account, made outside the factory.
  const { lz: bigger } = landingZone({ clock: lz.clock, organization: largeOrganization(4), pageSize: 20 });
  const org2 = createClient(OrganizationsClient);

  expect(await lookUpAccount(fx.ddb, fx.table, org2, 'email', 'existing-00004@example.com')).toBeUndefined();
  const result = await reconcileAccountIndex(fx.ddb, fx.table, org2);
  expect(result).toMatchObject({ accounts: bigger.accounts.length, written: 1 });
  expect(await lookUpAccount(fx.ddb, fx.table, org2, 'email', 'existing-00004@example.com')).toMatchObject({
    id: bigger.account('existing-00004@example.com')!.id,
  });
});

test('before the first reconcile the index is not trusted: a look-up lists the organization; after it, the index answers', async () => {
  const { lz } = landingZone({ organization: largeOrganization(30), pageSize: 20 });
  const org = createClient(OrganizationsClient);
  const email = 'existing-00030@example.com';

  const before = lz.summary().calls;
  const early = await indexedLookup(fx.ddb, fx.table, org, 'read').byEmail(email);
  const listingCalls = lz.summary().calls - before;
  expect(early?.email).toBe(email);
  expect(lz.callCounts['Organizations.ListAccounts']).toBe(2);

  await reconcileAccountIndex(fx.ddb, fx.table, org);
  const afterReconcile = lz.summary().calls;
  const late = await indexedLookup(fx.ddb, fx.table, org, 'read').byEmail(email);
  expect(late?.email).toBe(email);
  // One DescribeAccount of the hit: no listing any more.
  expect(lz.summary().calls - afterReconcile).toBe(1);
  expect(listingCalls).toBe(2);
});
