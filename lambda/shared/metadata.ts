import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createClient } from './clients';
import { writeIf } from './conditional-write';
import { nowIso } from './clock';
import type { CustomizationsRecord, Operation, OrganizationalUnitRef, ResolvedAssignment } from './contracts';
import { optionalEnv, requireEnv } from './env';
import { isConditionalCheckFailed, StaleRequestVersion } from './errors';
import type { AccountRequest } from './schema';
import type { ApprovalDecision } from './approval';

/**
 * The metadata table: one item per managed account (partition key `accountId`, a GSI
 * on `email`). It records what the factory last did to the account and which request
 * version it applied, so a stale execution cannot overwrite a newer one.
 */

export type AccountStatus = 'ACTIVE' | 'REMOVED';
export type LastOutcome = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';

export interface MetadataItem {
  accountId: string;
  /** Lower-case. */
  email: string;
  accountName: string;
  requestId: string;
  requestVersion: number;
  /** The validated request that was applied. */
  request: AccountRequest;
  organizationalUnit: OrganizationalUnitRef;
  provisionedProductId: string | null;
  status: AccountStatus;
  lastOperation: Operation;
  lastExecutionArn: string;
  lastOutcome: LastOutcome;
  lastError?: { name: string; cause: string };
  /** Tag keys the factory set on the account (written by the Tag account step). */
  appliedTagKeys?: string[];
  /** Alternate contact kinds (billing, operations, security) the factory set (Alternate contacts step). */
  appliedAlternateContacts?: string[];
  /** Opt-in Regions the factory enabled (Opt-in Regions step): only these are ever disabled. */
  enabledRegions?: string[];
  /** Identity Center assignments the factory created (Identity Center access step): only these are ever deleted. */
  identityCenterAssignments?: ResolvedAssignment[];
  /** The account's latest customizations pipeline execution (written by customizations-result). */
  customizations?: CustomizationsRecord;
  /** Who approved the request version last applied, when and why (with approvals; absent when it needed none). */
  lastApproval?: ApprovalDecision;
  createdAt: string;
  updatedAt: string;
  removedAt?: string;
}

export interface MetadataTable {
  doc: DynamoDBDocumentClient;
  tableName: string;
  /** The GSI on `email`; needed only by getMetadataByEmail / queryMetadataByEmail. */
  emailIndexName?: string;
}

/** A document client for the metadata table: create it once, at module level. */
export function createMetadataDocumentClient(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(createClient(DynamoDBClient), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/** The table as the handler's environment names it (METADATA_TABLE, METADATA_EMAIL_INDEX). */
export function metadataTableFromEnv(doc: DynamoDBDocumentClient): MetadataTable {
  return {
    doc,
    tableName: requireEnv('METADATA_TABLE'),
    emailIndexName: optionalEnv('METADATA_EMAIL_INDEX'),
  };
}

export async function getMetadata(
  table: MetadataTable,
  accountId: string,
): Promise<MetadataItem | undefined> {
  const out = await table.doc.send(
    new GetCommand({ TableName: table.tableName, Key: { accountId }, ConsistentRead: true }),
  );
  return out.Item as MetadataItem | undefined;
}

/** Every item with this email (GSI, eventually consistent), whatever its status. */
export async function queryMetadataByEmail(table: MetadataTable, email: string): Promise<MetadataItem[]> {
  if (!table.emailIndexName)
    throw new Error('The metadata table email index name is not set (METADATA_EMAIL_INDEX)');
  const items: MetadataItem[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await table.doc.send(
      new QueryCommand({
        TableName: table.tableName,
        IndexName: table.emailIndexName,
        KeyConditionExpression: '#email = :email',
        ExpressionAttributeNames: { '#email': 'email' },
        ExpressionAttributeValues: { ':email': email.trim().toLowerCase() },
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...((out.Items ?? []) as MetadataItem[]));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** The account that uses this email: an ACTIVE one first, else a removed one, else undefined. */
export async function getMetadataByEmail(
  table: MetadataTable,
  email: string,
): Promise<MetadataItem | undefined> {
  const items = await queryMetadataByEmail(table, email);
  return items.find((i) => i.status === 'ACTIVE') ?? items[0];
}

/** What the Store metadata step writes: everything but the timestamps and the outcome. */
export interface MetadataWrite {
  accountId: string;
  email: string;
  accountName: string;
  requestId: string;
  requestVersion: number;
  request: AccountRequest;
  organizationalUnit: OrganizationalUnitRef;
  provisionedProductId: string | null;
  operation: Operation;
  executionArn: string;
  /** The approval of this version, when it needed one. */
  approval?: ApprovalDecision;
}

/** The condition that keeps a stale execution from overwriting a newer request version. */
const NOT_NEWER = '(attribute_not_exists(#requestVersion) OR #requestVersion <= :version)';

/**
 * Writes the account's item for a new request version: status ACTIVE, outcome
 * IN_PROGRESS, createdAt kept from the first write. Running it twice with the same
 * input leaves the same item (but for updatedAt). Throws StaleRequestVersion when the
 * table already holds a newer version of the request.
 */
export async function putMetadata(table: MetadataTable, write: MetadataWrite): Promise<MetadataItem> {
  const at = nowIso();
  const values: Record<string, unknown> = {
    email: write.email.trim().toLowerCase(),
    accountName: write.accountName,
    requestId: write.requestId,
    requestVersion: write.requestVersion,
    request: write.request,
    organizationalUnit: { id: write.organizationalUnit.id, name: write.organizationalUnit.name },
    provisionedProductId: write.provisionedProductId,
    status: 'ACTIVE' satisfies AccountStatus,
    lastOperation: write.operation,
    lastExecutionArn: write.executionArn,
    lastOutcome: 'IN_PROGRESS' satisfies LastOutcome,
    updatedAt: at,
    ...(write.approval ? { lastApproval: write.approval } : {}),
  };
  const names: Record<string, string> = {
    '#createdAt': 'createdAt',
    '#removedAt': 'removedAt',
    '#lastError': 'lastError',
  };
  const removes = ['#removedAt', '#lastError'];
  if (!write.approval) {
    names['#lastApproval'] = 'lastApproval';
    removes.push('#lastApproval');
  }
  const attributeValues: Record<string, unknown> = { ':createdAt': at };
  const sets = Object.entries(values).map(([k, v]) => {
    names[`#${k}`] = k;
    attributeValues[`:${k}`] = v;
    return `#${k} = :${k}`;
  });
  attributeValues[':version'] = write.requestVersion;
  attributeValues[':removed'] = 'REMOVED' satisfies AccountStatus;
  try {
    const out = await table.doc.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: { accountId: write.accountId },
        UpdateExpression: `SET ${sets.join(', ')}, #createdAt = if_not_exists(#createdAt, :createdAt) REMOVE ${removes.join(', ')}`,
        // A request removed and written again starts its versions over at 1: a REMOVED item never blocks it.
        ConditionExpression: `${NOT_NEWER} OR #status = :removed`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: attributeValues,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return out.Attributes as MetadataItem;
  } catch (err) {
    if (!isConditionalCheckFailed(err)) throw err;
    const stored = await getMetadata(table, write.accountId);
    throw new StaleRequestVersion(
      `Request ${write.requestId} version ${write.requestVersion} was superseded: ` +
        `account ${write.accountId} already holds version ${stored?.requestVersion ?? 'unknown'}`,
    );
  }
}

export interface OutcomeUpdate {
  outcome: Exclude<LastOutcome, 'IN_PROGRESS'>;
  /** The failure, for FAILED; cleared otherwise. */
  error?: { name: string; cause: string };
  executionArn: string;
  /** The request version of the execution: an older one never overwrites a newer one's outcome. */
  requestVersion: number;
}

/**
 * Records how an execution ended. 'absent' when the account has no item (e.g. a
 * CREATE that failed before Store metadata), 'superseded' when the item belongs to a
 * newer request version: in both cases nothing is written.
 */
export async function updateOutcome(
  table: MetadataTable,
  accountId: string,
  update: OutcomeUpdate,
): Promise<'updated' | 'absent' | 'superseded'> {
  const names: Record<string, string> = {
    '#accountId': 'accountId',
    '#requestVersion': 'requestVersion',
    '#lastOutcome': 'lastOutcome',
    '#lastError': 'lastError',
    '#lastExecutionArn': 'lastExecutionArn',
    '#updatedAt': 'updatedAt',
  };
  const values: Record<string, unknown> = {
    ':outcome': update.outcome,
    ':executionArn': update.executionArn,
    ':updatedAt': nowIso(),
    ':version': update.requestVersion,
  };
  let expression = 'SET #lastOutcome = :outcome, #lastExecutionArn = :executionArn, #updatedAt = :updatedAt';
  if (update.error) {
    expression += ', #lastError = :error';
    values[':error'] = { name: update.error.name, cause: update.error.cause };
  } else {
    expression += ' REMOVE #lastError';
  }
  try {
    await table.doc.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: { accountId },
        UpdateExpression: expression,
        ConditionExpression: `attribute_exists(#accountId) AND ${NOT_NEWER}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
    return 'updated';
  } catch (err) {
    if (!isConditionalCheckFailed(err)) throw err;
    return (await getMetadata(table, accountId)) ? 'superseded' : 'absent';
  }
}

/**
 * Marks the account as no longer managed: status REMOVED, removedAt set once. The item
 * stays, for audit. Returns false when the account has no item. Throws
 * StaleRequestVersion when the item holds a newer request version than the removal's.
 */
export async function markRemoved(
  table: MetadataTable,
  accountId: string,
  removal: { executionArn: string; requestVersion: number },
): Promise<boolean> {
  const at = nowIso();
  try {
    await table.doc.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: { accountId },
        UpdateExpression:
          'SET #status = :removed, #removedAt = if_not_exists(#removedAt, :at), #updatedAt = :at, ' +
          '#lastOperation = :remove, #lastExecutionArn = :executionArn',
        ConditionExpression: `attribute_exists(#accountId) AND ${NOT_NEWER}`,
        ExpressionAttributeNames: {
          '#accountId': 'accountId',
          '#requestVersion': 'requestVersion',
          '#status': 'status',
          '#removedAt': 'removedAt',
          '#updatedAt': 'updatedAt',
          '#lastOperation': 'lastOperation',
          '#lastExecutionArn': 'lastExecutionArn',
        },
        ExpressionAttributeValues: {
          ':removed': 'REMOVED' satisfies AccountStatus,
          ':at': at,
          ':remove': 'REMOVE' satisfies Operation,
          ':executionArn': removal.executionArn,
          ':version': removal.requestVersion,
        },
      }),
    );
    return true;
  } catch (err) {
    if (!isConditionalCheckFailed(err)) throw err;
    const stored = await getMetadata(table, accountId);
    if (!stored) return false;
    throw new StaleRequestVersion(
      `Removal at request version ${removal.requestVersion} was superseded: ` +
        `account ${accountId} holds version ${stored.requestVersion}`,
    );
  }
}

/**
 * Records the tag keys the factory has set on the account, so a later run removes
 * only its own tags. Written only while the item holds this request version; returns
 * whether it was written.
 */
export async function recordAppliedTagKeys(
  table: MetadataTable,
  accountId: string,
  keys: string[],
  requestVersion: number,
): Promise<boolean> {
  return writeIf(
    table.doc,
    new UpdateCommand({
      TableName: table.tableName,
      Key: { accountId },
      UpdateExpression: 'SET #appliedTagKeys = :keys',
      ConditionExpression: '#requestVersion = :version',
      ExpressionAttributeNames: {
        '#appliedTagKeys': 'appliedTagKeys',
        '#requestVersion': 'requestVersion',
      },
      ExpressionAttributeValues: { ':keys': [...keys].sort(), ':version': requestVersion },
    }),
  );
}

/** What the account-settings steps record of what they made (see MetadataItem). */
export type FactoryMadeField = 'appliedAlternateContacts' | 'enabledRegions' | 'identityCenterAssignments';

/**
 * Records what an account-settings step made in the account, so a later run removes only
 * what the factory made. Written only while the item holds this request version (a newer
 * execution records its own); returns whether it was written.
 */
export async function recordFactoryMade(
  table: MetadataTable,
  accountId: string,
  field: FactoryMadeField,
  value: string[] | ResolvedAssignment[],
  requestVersion: number,
): Promise<boolean> {
  try {
    await table.doc.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: { accountId },
        UpdateExpression: 'SET #field = :value',
        ConditionExpression: '#requestVersion = :version',
        ExpressionAttributeNames: { '#field': field, '#requestVersion': 'requestVersion' },
        ExpressionAttributeValues: { ':value': value, ':version': requestVersion },
      }),
    );
    return true;
  } catch (err) {
    if (isConditionalCheckFailed(err)) return false;
    throw err;
  }
}
