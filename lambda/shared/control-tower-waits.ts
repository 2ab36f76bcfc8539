import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { now } from './clock';
import type { ProvisioningStatus } from './contracts';

/**
 * Executions waiting for a Control Tower operation, and the lifecycle events that end
 * the wait.
 *
 * Control Tower's `CreateManagedAccount` / `UpdateManagedAccount` lifecycle events carry
 * the account's name and ID and its OU, never the email, the provisioned product or the
 * Service Catalog record (Control Tower user guide, "Lifecycle events"). A CREATE does
 * not know its account ID before the event, so a wait is registered under the account
 * name (lower-cased), and also under the account ID when the execution knows it
 * (UPDATE, IMPORT). The event is only a wake-up: the handler reads the registered
 * record (DescribeRecord) before completing anything, so two accounts with the same
 * name, a stale event or a duplicate can never end a wait with a wrong outcome.
 */

/** A wait item of the waits table: partition key `pk` (see waitKeys), sort key `sk` (the record ID). */
export interface ControlTowerWait {
  pk: string;
  /** The Service Catalog record of the operation. */
  sk: string;
  taskToken: string;
  startedAt: string;
  executionId: string;
  /** Every key this wait is registered under (to remove them all). */
  keys: string[];
  registeredAt: string;
  /** TTL (epoch seconds): waits of executions that died unnoticed go away. */
  expiresAt: number;
}

/**
 * SendTaskSuccess errors that mean the task no longer waits: its token was completed or
 * timed out, or its execution ended ("Provided task does not exist anymore" / "expired or
 * ... already closed"): https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html
 */
const GONE_TASK_ERRORS = ['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'];

/** How long a wait item outlives its registration when nobody removes it. */
export const WAIT_TTL_SECONDS = 7 * 24 * 3600;

/** The keys a wait is registered under: the account name, and the account ID when known. */
export function waitKeys(accountName: string, accountId?: string | null): string[] {
  const keys = [`name#${accountName.trim().toLowerCase()}`];
  if (accountId) keys.push(`account#${accountId}`);
  return keys;
}

export interface RegisterWaitInput {
  recordId: string;
  startedAt: string;
  accountName: string;
  accountId?: string | null;
  executionId: string;
  taskToken: string;
}

/**
 * Registers (or re-registers, after a timeout: the newest token wins) the wait under
 * each of its keys.
 */
export async function registerWait(
  ddb: DynamoDBDocumentClient,
  table: string,
  input: RegisterWaitInput,
): Promise<ControlTowerWait[]> {
  const keys = waitKeys(input.accountName, input.accountId);
  const at = now();
  const items = keys.map((pk): ControlTowerWait => ({
    pk,
    sk: input.recordId,
    taskToken: input.taskToken,
    startedAt: input.startedAt,
    executionId: input.executionId,
    keys,
    registeredAt: at.toISOString(),
    expiresAt: Math.floor(at.getTime() / 1000) + WAIT_TTL_SECONDS,
  }));
  for (const item of items) await ddb.send(new PutCommand({ TableName: table, Item: item }));
  return items;
}

/** The waits registered under any of `keys`, one per record (the newest token). */
export async function findWaits(
  ddb: DynamoDBDocumentClient,
  table: string,
  keys: readonly string[],
): Promise<ControlTowerWait[]> {
  const byRecord = new Map<string, ControlTowerWait>();
  for (const pk of keys) {
    let start: Record<string, unknown> | undefined;
    do {
      const out = await ddb.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of (out.Items ?? []) as ControlTowerWait[]) {
        const seen = byRecord.get(item.sk);
        if (!seen || seen.registeredAt < item.registeredAt) byRecord.set(item.sk, item);
      }
      start = out.LastEvaluatedKey;
    } while (start);
  }
  return [...byRecord.values()];
}

/**
 * Removes the wait's items, each only while it still holds `wait.taskToken` (a newer
 * registration of the same record keeps its own).
 */
export async function removeWait(
  ddb: DynamoDBDocumentClient,
  table: string,
  wait: Pick<ControlTowerWait, 'sk' | 'keys' | 'taskToken'>,
): Promise<void> {
  for (const pk of wait.keys) {
    try {
      await ddb.send(
        new DeleteCommand({
          TableName: table,
          Key: { pk, sk: wait.sk },
          ConditionExpression: 'attribute_not_exists(pk) OR taskToken = :token',
          ExpressionAttributeValues: { ':token': wait.taskToken },
        }),
      );
    } catch (err) {
      if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
    }
  }
}

/**
 * Ends the wait with the record's terminal status. `gone`: the token was completed
 * already (a duplicate event, or the poll came first) or its execution ended.
 */
export async function completeWait(
  sfn: SFNClient,
  taskToken: string,
  status: ProvisioningStatus,
): Promise<'completed' | 'gone'> {
  try {
    await sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(status) }));
    return 'completed';
  } catch (err) {
    if (GONE_TASK_ERRORS.includes((err as Error).name)) return 'gone';
    throw err;
  }
}

// ---- the lifecycle event ----------------------------------------------------------

/** The lifecycle events that end an Account Factory operation, and their detail keys. */
export const ACCOUNT_LIFECYCLE_EVENTS = {
  CreateManagedAccount: 'createManagedAccountStatus',
  UpdateManagedAccount: 'updateManagedAccountStatus',
} as const;
export type AccountLifecycleEventName = keyof typeof ACCOUNT_LIFECYCLE_EVENTS;

const AccountStatusSchema = z.object({
  organizationalUnit: z
    .object({ organizationalUnitName: z.string().optional(), organizationalUnitId: z.string().optional() })
    .optional(),
  account: z.object({
    accountName: z.string().min(1),
    // A failed CreateManagedAccount may have no account.
    accountId: z.string().optional(),
  }),
  state: z.string().min(1),
  message: z.string().optional(),
  requestedTimestamp: z.string().optional(),
  completedTimestamp: z.string().optional(),
});

/**
 * `source: aws.controltower`, `detail-type: AWS Service Event via CloudTrail`,
 * `detail.serviceEventDetails.<create|update>ManagedAccountStatus` (docs/aws-behaviour.md CT-16).
 */
export const LifecycleEventSchema = z.object({
  id: z.string().optional(),
  source: z.literal('aws.controltower'),
  'detail-type': z.literal('AWS Service Event via CloudTrail'),
  detail: z.object({
    eventName: z.string().min(1),
    serviceEventDetails: z.record(z.string(), z.unknown()),
  }),
});

export interface AccountLifecycleEvent {
  eventName: AccountLifecycleEventName;
  accountName: string;
  accountId: string | null;
  organizationalUnitId: string | null;
  state: string;
}

/**
 * The account a lifecycle event is about, or undefined for a lifecycle event that ends
 * no Account Factory operation (EnableGuardrail, RegisterOrganizationalUnit, ...).
 * Throws when an account event lacks what the documented shape carries.
 */
export function accountEventOf(
  event: z.output<typeof LifecycleEventSchema>,
): AccountLifecycleEvent | undefined {
  const name = event.detail.eventName;
  if (!(name in ACCOUNT_LIFECYCLE_EVENTS)) return undefined;
  const eventName = name as AccountLifecycleEventName;
  const key = ACCOUNT_LIFECYCLE_EVENTS[eventName];
  const parsed = AccountStatusSchema.safeParse(event.detail.serviceEventDetails[key]);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${[key, ...i.path.map(String)].join('.')}: ${i.message}`);
    throw new MalformedLifecycleEvent(`${eventName} event ${event.id ?? ''}: ${issues.join('; ')}`);
  }
  const s = parsed.data;
  return {
    eventName,
    accountName: s.account.accountName,
    accountId: s.account.accountId || null,
    organizationalUnitId: s.organizationalUnit?.organizationalUnitId ?? null,
    state: s.state,
  };
}

/** A Control Tower account lifecycle event without the fields of its documented shape. */
export class MalformedLifecycleEvent extends Error {
  static readonly errorName = 'MalformedLifecycleEvent';
  constructor(message: string) {
    super(message);
    this.name = 'MalformedLifecycleEvent';
  }
}
