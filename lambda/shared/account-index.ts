import { DescribeAccountCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import { nowIso } from './clock';
import { ENV } from './env';
import { type AccountSummary, listAllAccounts } from './organizations';

/**
 * An index of the organization's accounts by email and by name (lower-cased), so a
 * request costs the same few calls in an organization of 100 or 5,000 accounts
 * (one GetItem, at most one DescribeAccount) instead of a full ListAccounts (20 per page).
 *
 * The index may be stale; Organizations stays the truth:
 * - a hit is checked with one DescribeAccount of the indexed ID: an account that is
 *   gone, or whose email / name no longer matches, is a miss (and its item is dropped);
 * - a miss means "no account known": a CREATE goes ahead, and when the email is in
 *   fact in use (an account made outside the factory since the last reconcile),
 *   Account Factory itself refuses the operation (SC-13: "already used by account ...
 *   with a different name", or enrolls the account when the name matches): the request
 *   ends as ControlTowerOperationFailed naming the account, and a re-run after the
 *   next reconcile validates it as an import or EmailInUse.
 * `reconcileAccountIndex` (on a schedule) rebuilds it from one full listing and marks
 * the index as built (`RECONCILED_KEY`); `indexAccount` adds an account as soon as the
 * factory learns it. Until the first reconcile has run (a factory just deployed), the
 * index knows nothing: a look-up then lists the organization instead (once per
 * invocation), so an existing account is never taken for a new one.
 *
 * Items: `pk` = `email#<email>` or `name#<name>`, `sk` = `account`; the marker
 * `pk` = `reconciled`, `sk` = `index`.
 */

export type IndexKind = 'email' | 'name';

export interface IndexedAccount {
  pk: string;
  sk: 'account';
  accountId: string;
  email: string;
  name: string;
  indexedAt: string;
}

export const indexKey = (kind: IndexKind, value: string) => `${kind}#${value.trim().toLowerCase()}`;

/** The item the reconcile writes when it has built the index. */
export const RECONCILED_KEY = { pk: 'reconciled', sk: 'index' } as const;

/** Whether a reconcile has built the index (one GetItem). */
export async function isIndexBuilt(ddb: DynamoDBDocumentClient, table: string): Promise<boolean> {
  const out = await ddb.send(new GetCommand({ TableName: table, Key: RECONCILED_KEY, ConsistentRead: true }));
  return out.Item !== undefined;
}

/** Adds (or refreshes) an account under its email and its name. */
export async function indexAccount(
  ddb: DynamoDBDocumentClient,
  table: string,
  account: Pick<AccountSummary, 'id' | 'email' | 'name'>,
): Promise<void> {
  const at = nowIso();
  for (const kind of ['email', 'name'] as const) {
    const item: IndexedAccount = {
      pk: indexKey(kind, account[kind]),
      sk: 'account',
      accountId: account.id,
      email: account.email.toLowerCase(),
      name: account.name,
      indexedAt: at,
    };
    await ddb.send(new PutCommand({ TableName: table, Item: item }));
  }
}

/**
 * The account using this email (or name), checked against Organizations: one GetItem,
 * and one DescribeAccount on a hit. Undefined when none is known.
 */
export async function lookUpAccount(
  ddb: DynamoDBDocumentClient,
  table: string,
  org: OrganizationsClient,
  kind: IndexKind,
  value: string,
  options: { dropStale?: boolean } = {},
): Promise<AccountSummary | undefined> {
  const pk = indexKey(kind, value);
  const out = await ddb.send(
    new GetCommand({ TableName: table, Key: { pk, sk: 'account' }, ConsistentRead: true }),
  );
  const item = out.Item as IndexedAccount | undefined;
  if (!item) return undefined;
  let account: AccountSummary | undefined;
  try {
    const described = await org.send(new DescribeAccountCommand({ AccountId: item.accountId }));
    const a = described.Account;
    if (a?.Id) {
      account = {
        id: a.Id,
        arn: a.Arn ?? '',
        email: a.Email ?? '',
        name: a.Name ?? '',
        status: String(a.State ?? a.Status ?? ''),
      };
    }
  } catch (err) {
    if ((err as Error).name !== 'AccountNotFoundException') throw err;
  }
  const wanted = value.trim().toLowerCase();
  const matches =
    account && (kind === 'email' ? account.email : account.name).trim().toLowerCase() === wanted;
  if (matches) return account;
  // Stale hit: the item points at an account that is gone or changed: a miss. Drop it (only if
  // unchanged) when the caller may write the index; else the next reconcile replaces it.
  if (options.dropStale === false) return undefined;
  await ddb
    .send(
      new DeleteCommand({
        TableName: table,
        Key: { pk, sk: 'account' },
        ConditionExpression: 'accountId = :id',
        ExpressionAttributeValues: { ':id': item.accountId },
      }),
    )
    .catch((err: Error) => {
      if (err.name !== 'ConditionalCheckFailedException') throw err;
    });
  return undefined;
}

export interface ReconcileResult {
  accounts: number;
  written: number;
  removed: number;
}

/** Rebuilds the index from one full listing of the organization (the scheduled reconcile). */
export async function reconcileAccountIndex(
  ddb: DynamoDBDocumentClient,
  table: string,
  org: OrganizationsClient,
): Promise<ReconcileResult> {
  const accounts = await listAllAccounts(org);
  const wanted = new Map<string, string>();
  for (const a of accounts) {
    wanted.set(indexKey('email', a.email), a.id);
    wanted.set(indexKey('name', a.name), a.id);
  }
  const existing = new Map<string, IndexedAccount>();
  let start: Record<string, unknown> | undefined;
  do {
    const out = await ddb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    for (const item of (out.Items ?? []) as IndexedAccount[]) existing.set(item.pk, item);
    start = out.LastEvaluatedKey;
  } while (start);
  let written = 0;
  for (const a of accounts) {
    const current = existing.get(indexKey('email', a.email));
    const byName = existing.get(indexKey('name', a.name));
    if (current?.accountId === a.id && current.name === a.name && byName?.accountId === a.id) continue;
    await indexAccount(ddb, table, a);
    written += 1;
  }
  let removed = 0;
  for (const [pk, item] of existing) {
    if (pk === RECONCILED_KEY.pk || wanted.get(pk) === item.accountId) continue;
    await ddb.send(new DeleteCommand({ TableName: table, Key: { pk, sk: 'account' } }));
    removed += 1;
  }
  await ddb.send(
    new PutCommand({
      TableName: table,
      Item: { ...RECONCILED_KEY, reconciledAt: nowIso(), accounts: accounts.length },
    }),
  );
  return { accounts: accounts.length, written, removed };
}

/**
 * How a step finds accounts by email or name: through the index (what the factory's
 * functions use: constant calls at any organization size), or, where no index is
 * configured, from one listing of the organization per invocation.
 */
export interface AccountLookup {
  byEmail(email: string): Promise<AccountSummary | undefined>;
  byName(name: string): Promise<AccountSummary | undefined>;
  /** One DescribeAccount. */
  byId(accountId: string): Promise<AccountSummary | undefined>;
  /** Adds an account the step confirmed (the index only). */
  remember(account: Pick<AccountSummary, 'id' | 'email' | 'name'>): Promise<void>;
}

async function describeAccount(
  org: OrganizationsClient,
  accountId: string,
): Promise<AccountSummary | undefined> {
  try {
    const a = (await org.send(new DescribeAccountCommand({ AccountId: accountId }))).Account;
    if (!a?.Id) return undefined;
    return {
      id: a.Id,
      arn: a.Arn ?? '',
      email: a.Email ?? '',
      name: a.Name ?? '',
      status: String(a.State ?? a.Status ?? ''),
    };
  } catch (err) {
    if ((err as Error).name === 'AccountNotFoundException') return undefined;
    throw err;
  }
}

/**
 * Look-ups through the index, each hit checked against Organizations (a stale hit is a
 * miss). `access: 'read'` (Validate request, which may only read the index): a stale
 * item stays until the reconcile or Fetch account ID replaces it, and `remember` does
 * nothing.
 */
export function indexedLookup(
  ddb: DynamoDBDocumentClient,
  table: string,
  org: OrganizationsClient,
  access: 'read' | 'readWrite' = 'readWrite',
): AccountLookup {
  const dropStale = access === 'readWrite';
  // Not built yet (no reconcile since the factory was deployed): one listing instead.
  let source: Promise<AccountLookup | undefined> | undefined;
  const fallback = () =>
    (source ??= isIndexBuilt(ddb, table).then((built) => (built ? undefined : listingLookup(org))));
  const look = async (kind: IndexKind, value: string) => {
    const listing = await fallback();
    if (listing) return kind === 'email' ? listing.byEmail(value) : listing.byName(value);
    return lookUpAccount(ddb, table, org, kind, value, { dropStale });
  };
  return {
    byEmail: (email) => look('email', email),
    byName: (name) => look('name', name),
    byId: (id) => describeAccount(org, id),
    remember: async (account) => {
      if (dropStale) await indexAccount(ddb, table, account);
    },
  };
}

/** Look-ups from one full listing, read once per lookup object (no index configured). */
export function listingLookup(org: OrganizationsClient): AccountLookup {
  let listing: Promise<AccountSummary[]> | undefined;
  const accounts = () => (listing ??= listAllAccounts(org));
  const find = async (field: 'email' | 'name', value: string) => {
    const wanted = value.trim().toLowerCase();
    return (await accounts()).find((a) => a[field].trim().toLowerCase() === wanted);
  };
  return {
    byEmail: (email) => find('email', email),
    byName: (name) => find('name', name),
    byId: async (id) => (await accounts()).find((a) => a.id === id),
    remember: async () => undefined,
  };
}

/** The index named by ACCOUNT_INDEX_TABLE, else a listing (a function deployed without an index). */
export function accountLookupFromEnv(
  ddb: DynamoDBDocumentClient,
  org: OrganizationsClient,
  access: 'read' | 'readWrite',
): AccountLookup {
  const table = process.env[ENV.ACCOUNT_INDEX_TABLE];
  return table ? indexedLookup(ddb, table, org, access) : listingLookup(org);
}
