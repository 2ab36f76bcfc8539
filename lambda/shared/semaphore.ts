import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { nowIso } from './clock';
import { isConditionalCheckFailed } from './errors';

/**
 * A counting semaphore in one DynamoDB table (partition key `pk`, sort key `sk`).
 *
 * The lock item `{ pk: lockName, sk: 'lock', count: N, <holder>: <acquired at>, ... }`
 * holds a counter and one top-level attribute per holder (a Step Functions
 * execution ARN). Acquire and release are single conditional updates, so the
 * counter and the holder set never disagree and `count <= limit` holds at all
 * times.
 *
 * Executions that find no free slot wait on a Step Functions task token. Each
 * one registers a waiter item `{ pk: lockName, sk: 'waiter#<queuedAt>#<holder>' }`
 * (queuedAt is the execution start time, so the queue is first come, first
 * served by start time), and whoever frees a slot wakes the oldest waiter
 * (wakeNext): it acquires the slot on the waiter's behalf and completes the
 * waiter's task with SendTaskSuccess.
 *
 * Invariant of the hand-off: the party whose conditional delete (on the token)
 * removes a waiter item is the one, and the only one, that sends that token's
 * SendTaskSuccess. So a token is completed at most once by us, and a failed
 * SendTaskSuccess after our own delete means the waiting task is really gone.
 */

export const LOCK_SK = 'lock';
export const WAITER_PREFIX = 'waiter#';
/** SendTaskSuccess errors that mean the waiting task no longer exists. */
export const GONE_TASK_ERRORS = ['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'];
/** Top-level attributes of the lock item that are not holders. */
const LOCK_ATTRIBUTES = new Set(['pk', 'sk', 'count']);
/** wakeNext stops after this many waiters in one call (a later release continues). */
const MAX_WAKE_ROUNDS = 500;

export type AcquireOutcome = 'acquired' | 'reentered' | 'full';

export interface LockRef {
  table: string;
  lockName: string;
}

export interface Waiter {
  pk: string;
  sk: string;
  holder: string;
  token: string;
  queuedAt: string;
  registeredAt: string;
}

export interface LockState {
  count: number;
  /** Holder -> acquired at (ISO). */
  holders: Record<string, string>;
}

export function waiterKey(lockName: string, queuedAt: string, holder: string): { pk: string; sk: string } {
  return { pk: lockName, sk: `${WAITER_PREFIX}${queuedAt}#${holder}` };
}

/**
 * Takes a slot for `holder` if one is free. A holder that already holds a slot
 * gets 'reentered' (and still holds exactly one).
 */
export async function acquire(
  ddb: DynamoDBDocumentClient,
  args: LockRef & { limit: number; holder: string },
): Promise<AcquireOutcome> {
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: args.table,
        Key: { pk: args.lockName, sk: LOCK_SK },
        UpdateExpression: 'SET #h = :now ADD #count :one',
        // `<`, never `<>`: the counter must stay at or below the limit.
        ConditionExpression: 'attribute_not_exists(#h) AND (attribute_not_exists(#count) OR #count < :limit)',
        ExpressionAttributeNames: { '#h': args.holder, '#count': 'count' },
        ExpressionAttributeValues: { ':now': nowIso(), ':one': 1, ':limit': args.limit },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return 'acquired';
  } catch (err) {
    if (!isConditionalCheckFailed(err)) throw err;
    // The failed condition's item, when the service returns it; otherwise read it.
    const item = err.Item ?? (await readLockItem(ddb, args));
    return item && item[args.holder] !== undefined ? 'reentered' : 'full';
  }
}

/** Frees `holder`'s slot. Idempotent: false when it held none. */
export async function release(
  ddb: DynamoDBDocumentClient,
  args: LockRef & { holder: string },
): Promise<boolean> {
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: args.table,
        Key: { pk: args.lockName, sk: LOCK_SK },
        UpdateExpression: 'REMOVE #h ADD #count :minusOne',
        ConditionExpression: 'attribute_exists(#h)',
        ExpressionAttributeNames: { '#h': args.holder, '#count': 'count' },
        ExpressionAttributeValues: { ':minusOne': -1 },
      }),
    );
    return true;
  } catch (err) {
    if (isConditionalCheckFailed(err)) return false;
    throw err;
  }
}

async function readLockItem(
  ddb: DynamoDBDocumentClient,
  ref: LockRef,
): Promise<Record<string, unknown> | undefined> {
  const out = await ddb.send(
    new GetCommand({ TableName: ref.table, Key: { pk: ref.lockName, sk: LOCK_SK }, ConsistentRead: true }),
  );
  return out.Item;
}

/** The counter and the holders (consistent read). */
export async function readLock(ddb: DynamoDBDocumentClient, ref: LockRef): Promise<LockState> {
  const item = (await readLockItem(ddb, ref)) ?? {};
  const holders: Record<string, string> = {};
  for (const [key, value] of Object.entries(item)) {
    if (!LOCK_ATTRIBUTES.has(key)) holders[key] = String(value);
  }
  return { count: Number(item.count ?? 0), holders };
}

/**
 * Registers (or re-registers) a waiter. The key is derived from queuedAt and the
 * holder, so a retried registration overwrites the previous one (with the new
 * token) and keeps its place in the queue.
 */
export async function enqueue(
  ddb: DynamoDBDocumentClient,
  args: LockRef & { holder: string; queuedAt: string; token: string },
): Promise<Waiter> {
  const waiter: Waiter = {
    ...waiterKey(args.lockName, args.queuedAt, args.holder),
    holder: args.holder,
    token: args.token,
    queuedAt: args.queuedAt,
    registeredAt: nowIso(),
  };
  await ddb.send(new PutCommand({ TableName: args.table, Item: waiter }));
  return waiter;
}

/**
 * Removes a waiter item. With `token`, only that registration (a newer one with
 * another token stays). Returns whether this call removed it.
 */
export async function dequeue(
  ddb: DynamoDBDocumentClient,
  args: { table: string; waiter: Pick<Waiter, 'pk' | 'sk'>; token?: string },
): Promise<boolean> {
  try {
    await ddb.send(
      new DeleteCommand({
        TableName: args.table,
        Key: { pk: args.waiter.pk, sk: args.waiter.sk },
        ...(args.token === undefined
          ? { ConditionExpression: 'attribute_exists(sk)' }
          : {
              ConditionExpression: '#token = :token',
              ExpressionAttributeNames: { '#token': 'token' },
              ExpressionAttributeValues: { ':token': args.token },
            }),
      }),
    );
    return true;
  } catch (err) {
    if (isConditionalCheckFailed(err)) return false;
    throw err;
  }
}

/** The oldest waiter, or undefined (consistent read). */
export async function oldestWaiter(ddb: DynamoDBDocumentClient, ref: LockRef): Promise<Waiter | undefined> {
  const out = await ddb.send(
    new QueryCommand({
      TableName: ref.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': ref.lockName, ':prefix': WAITER_PREFIX },
      ScanIndexForward: true,
      Limit: 1,
      ConsistentRead: true,
    }),
  );
  return out.Items?.[0] as Waiter | undefined;
}

/** Every waiter, oldest first (consistent read). */
export async function listWaiters(ddb: DynamoDBDocumentClient, ref: LockRef): Promise<Waiter[]> {
  const waiters: Waiter[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await ddb.send(
      new QueryCommand({
        TableName: ref.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': ref.lockName, ':prefix': WAITER_PREFIX },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    waiters.push(...((out.Items ?? []) as Waiter[]));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return waiters;
}

/** Completes a waiting task. Returns false when the task is gone (timed out, aborted, unknown token). */
export async function notifyWaiter(sfn: SFNClient, token: string, slot: AcquireOutcome): Promise<boolean> {
  try {
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ slot }) }));
    return true;
  } catch (err) {
    if (GONE_TASK_ERRORS.includes((err as Error).name)) return false;
    throw err;
  }
}

/**
 * Hands free slots to the oldest waiters, first come first served, until the
 * semaphore is full or nobody waits. Returns the holders that were woken.
 *
 * - 'full': stop; the next release calls wakeNext again.
 * - 'acquired': remove the waiter item (conditional on its token), then complete
 *   its task. If the task is gone, give the slot back and go on with the next
 *   waiter. If the item was already removed or re-registered with a new token,
 *   send nothing: the next round (or whoever removed it) serves it.
 * - 'reentered': the waiter already holds a slot (it acquired by itself, or a
 *   concurrent wakeNext acquired for it): remove the item and, if this call
 *   removed it, complete the task; never release here, the holder may be busy
 *   with its slot.
 */
export async function wakeNext(
  ddb: DynamoDBDocumentClient,
  sfn: SFNClient,
  args: LockRef & { limit: number },
): Promise<string[]> {
  const woken: string[] = [];
  for (let round = 0; round < MAX_WAKE_ROUNDS; round++) {
    const waiter = await oldestWaiter(ddb, args);
    if (!waiter) break;
    const outcome = await acquire(ddb, { ...args, holder: waiter.holder });
    if (outcome === 'full') break;
    const removed = await dequeue(ddb, { table: args.table, waiter, token: waiter.token });
    if (!removed) continue;
    const delivered = await notifyWaiter(sfn, waiter.token, outcome);
    if (delivered) {
      woken.push(waiter.holder);
    } else if (outcome === 'acquired') {
      await release(ddb, { ...args, holder: waiter.holder });
    }
  }
  return woken;
}

/** Removes every waiter item of `holder` (e.g. its execution ended). Returns how many. */
export async function removeWaitersOf(
  ddb: DynamoDBDocumentClient,
  args: LockRef & { holder: string },
): Promise<number> {
  let removed = 0;
  for (const waiter of await listWaiters(ddb, args)) {
    if (waiter.holder === args.holder && (await dequeue(ddb, { table: args.table, waiter }))) removed++;
  }
  return removed;
}

/**
 * A slot held by a CodePipeline execution (handed over by the execution that
 * started it): `codepipeline:<pipeline name>:<execution id>`. Released when the
 * pipeline execution ends; the reaper asks CodePipeline whether it still runs.
 */
export const PIPELINE_HOLDER_PREFIX = 'codepipeline:';

export function pipelineHolder(pipelineName: string, executionId: string): string {
  return `${PIPELINE_HOLDER_PREFIX}${pipelineName}:${executionId}`;
}

export function parsePipelineHolder(
  holder: string,
): { pipelineName: string; executionId: string } | undefined {
  if (!holder.startsWith(PIPELINE_HOLDER_PREFIX)) return undefined;
  const rest = holder.slice(PIPELINE_HOLDER_PREFIX.length);
  // Pipeline names have no ':'; execution ids are UUIDs.
  const at = rest.indexOf(':');
  if (at <= 0 || at === rest.length - 1) return undefined;
  return { pipelineName: rest.slice(0, at), executionId: rest.slice(at + 1) };
}
