import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { DescribeExecutionCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { nowIso } from './clock';
import { writeIf } from './conditional-write';
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
 * The hand-off: the waker first writes the waiter as holder (the slot's `grant`
 * is the waiter's token), then completes the token, then removes the waiter item
 * (conditional on that token). A slot handed over is never taken back because
 * SendTaskSuccess failed: the token may have timed out while the execution runs
 * on and registers again (it then finds itself holder and goes on), or a
 * concurrent waker may have completed it first. Only an execution that is no
 * longer RUNNING (DescribeExecution, now) loses a grant. A throttled
 * SendTaskSuccess leaves the waiter item in place: the next wake-up (a release,
 * the reaper) serves it again, as a re-entry.
 *
 * A slot stands for a Control Tower operation: the step that starts one marks its
 * slot first (`op.startedAt`, only while it still holds the slot) and records the
 * Service Catalog record id after (`op.recordId`). The cleanup and the reaper free
 * the slot of an ended execution only when no operation runs on it: no mark, or a
 * terminal record, or a start mark older than the longest Lambda invocation with
 * no record (the call never reached Service Catalog).
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
  /** The task attempt that registered (attemptOrder); absent from registrations made without one. */
  attempt?: string;
}

/** What Step Functions' context object says of an Acquire task attempt. */
export interface TaskAttempt {
  /** `$$.Execution.RedriveCount`: 0, then one more per redrive. */
  redriveCount: number;
  /** `$$.State.EnteredTime` (ISO): when the execution entered the Acquire state this time. */
  enteredTime: string;
}

/**
 * A string that orders the task attempts of one execution: a redriven run's attempts
 * after the aborted run's (whatever the clocks say), then by when the state was entered
 * (a loop back to Acquire after its timeout enters it again). Compared as strings, in a
 * DynamoDB condition: the redrive count is zero-padded, the time normalized to ISO.
 */
export function attemptOrder(attempt: TaskAttempt): string {
  const entered = new Date(attempt.enteredTime);
  if (
    !Number.isInteger(attempt.redriveCount) ||
    attempt.redriveCount < 0 ||
    Number.isNaN(entered.getTime())
  ) {
    throw new Error(`Not a task attempt: ${JSON.stringify(attempt)}`);
  }
  return `${String(attempt.redriveCount).padStart(6, '0')}#${entered.toISOString()}`;
}

/** The Control Tower operation a slot stands for. */
export interface SlotOperation {
  startedAt: string;
  /** The Service Catalog record, once the call returned it. */
  recordId?: string;
}

/** What the lock item says of one holder. */
export interface Slot {
  /** When the slot was taken (ISO). */
  at: string;
  /** The task token the slot was handed to (a wake-up), if it was. */
  grant?: string;
  /** The task attempt of that token (attemptOrder), when known. */
  attempt?: string;
  op?: SlotOperation;
  /** The attribute is a plain string (a slot handed over with handOver). */
  plain?: true;
}

export interface LockState {
  count: number;
  /** Holder -> acquired at (ISO). */
  holders: Record<string, string>;
  /** Holder -> its slot. */
  slots: Record<string, Slot>;
}

/** A holder attribute: a map (Slot), or a plain string (a slot handed over to a pipeline). */
function toSlot(value: unknown): Slot {
  if (value && typeof value === 'object') {
    const v = value as Partial<Slot>;
    return { at: String(v.at ?? ''), grant: v.grant, attempt: v.attempt, op: v.op };
  }
  return { at: String(value), plain: true };
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
  args: LockRef & { limit: number; holder: string; grant?: string; attempt?: string },
): Promise<AcquireOutcome> {
  const slot: Slot = {
    at: nowIso(),
    ...(args.grant ? { grant: args.grant } : {}),
    ...(args.attempt ? { attempt: args.attempt } : {}),
  };
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: args.table,
        Key: { pk: args.lockName, sk: LOCK_SK },
        UpdateExpression: 'SET #h = :slot ADD #count :one',
        // `<`, never `<>`: the counter must stay at or below the limit.
        ConditionExpression: 'attribute_not_exists(#h) AND (attribute_not_exists(#count) OR #count < :limit)',
        ExpressionAttributeNames: { '#h': args.holder, '#count': 'count' },
        ExpressionAttributeValues: { ':slot': slot, ':one': 1, ':limit': args.limit },
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

/**
 * Frees `holder`'s slot. Idempotent: false when it held none. With `ifUnchanged`,
 * only if the slot is still the one the caller read (same grant, same operation
 * mark): a caller that decided on what it read, then asked whether the execution
 * runs, frees nothing that changed meanwhile (a redriven execution that confirmed
 * its slot, an operation marked or recorded).
 */
export async function release(
  ddb: DynamoDBDocumentClient,
  args: LockRef & { holder: string; ifUnchanged?: Slot },
): Promise<boolean> {
  const names: Record<string, string> = { '#h': args.holder, '#count': 'count' };
  const values: Record<string, unknown> = { ':minusOne': -1 };
  let condition = 'attribute_exists(#h)';
  const slot = args.ifUnchanged;
  if (slot?.plain) {
    values[':plain'] = slot.at;
    condition += ' AND #h = :plain';
  } else if (slot) {
    Object.assign(names, { '#at': 'at', '#grant': 'grant', '#op': 'op' });
    values[':at'] = slot.at;
    condition += ' AND #h.#at = :at';
    if (slot.grant) {
      values[':grant'] = slot.grant;
      condition += ' AND #h.#grant = :grant';
    } else {
      condition += ' AND attribute_not_exists(#h.#grant)';
    }
    if (slot.op) {
      Object.assign(names, { '#st': 'startedAt', '#rid': 'recordId' });
      values[':st'] = slot.op.startedAt;
      condition += ' AND #h.#op.#st = :st';
      if (slot.op.recordId) {
        values[':rid'] = slot.op.recordId;
        condition += ' AND #h.#op.#rid = :rid';
      } else {
        condition += ' AND attribute_not_exists(#h.#op.#rid)';
      }
    } else {
      condition += ' AND attribute_not_exists(#h.#op)';
    }
  }
  return writeIf(
    ddb,
    new UpdateCommand({
      TableName: args.table,
      Key: { pk: args.lockName, sk: LOCK_SK },
      UpdateExpression: 'REMOVE #h ADD #count :minusOne',
      ConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    }),
  );
}

/**
 * The woken (or re-entering) execution confirms its slot: the slot's grant becomes
 * its current token. False when it holds no slot, or when a later task attempt of the
 * execution confirmed it already (with `attempt`: an aborted run's late call never takes
 * the grant back from the redriven run). A cleanup that read the slot before the
 * confirmation can no longer free it (release ifUnchanged).
 */
export async function confirmSlot(
  ddb: DynamoDBDocumentClient,
  args: LockRef & { holder: string; token: string; attempt?: string },
): Promise<boolean> {
  const names: Record<string, string> = { '#h': args.holder, '#grant': 'grant' };
  const values: Record<string, unknown> = { ':token': args.token };
  let update = 'SET #h.#grant = :token';
  let condition = 'attribute_exists(#h)';
  if (args.attempt) {
    names['#attempt'] = 'attempt';
    values[':attempt'] = args.attempt;
    update += ', #h.#attempt = :attempt';
    condition += ' AND (attribute_not_exists(#h.#attempt) OR #h.#attempt <= :attempt)';
  }
  return writeIf(
    ddb,
    new UpdateCommand({
      TableName: args.table,
      Key: { pk: args.lockName, sk: LOCK_SK },
      UpdateExpression: update,
      ConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    }),
  );
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
  const slots: Record<string, Slot> = {};
  for (const [key, value] of Object.entries(item)) {
    if (LOCK_ATTRIBUTES.has(key)) continue;
    slots[key] = toSlot(value);
    holders[key] = slots[key].at;
  }
  return { count: Number(item.count ?? 0), holders, slots };
}

/**
 * Marks `holder`'s slot as the one of a Control Tower operation about to start.
 * Fails (false) when the holder no longer holds a slot: the caller must not start
 * the operation. A mark already there (a retried step) is kept.
 */
export async function beginOperation(
  ddb: DynamoDBDocumentClient,
  args: LockRef & { holder: string },
): Promise<boolean> {
  return writeIf(
    ddb,
    new UpdateCommand({
      TableName: args.table,
      Key: { pk: args.lockName, sk: LOCK_SK },
      UpdateExpression: 'SET #h.#op = if_not_exists(#h.#op, :op)',
      ConditionExpression: 'attribute_exists(#h)',
      ExpressionAttributeNames: { '#h': args.holder, '#op': 'op' },
      ExpressionAttributeValues: { ':op': { startedAt: nowIso() } },
    }),
  );
}

/** Records the Service Catalog record of the operation on `holder`'s slot (false when it holds none). */
export async function recordOperation(
  ddb: DynamoDBDocumentClient,
  args: LockRef & { holder: string; recordId: string },
): Promise<boolean> {
  return writeIf(
    ddb,
    new UpdateCommand({
      TableName: args.table,
      Key: { pk: args.lockName, sk: LOCK_SK },
      UpdateExpression: 'SET #h.#op.#rid = :rid',
      ConditionExpression: 'attribute_exists(#h.#op)',
      ExpressionAttributeNames: { '#h': args.holder, '#op': 'op', '#rid': 'recordId' },
      ExpressionAttributeValues: { ':rid': args.recordId },
    }),
  );
}

/**
 * Registers (or re-registers) a waiter. The key is derived from queuedAt and the
 * holder, so a retried registration overwrites the previous one (with the new
 * token) and keeps its place in the queue.
 *
 * With `attempt` (attemptOrder), a registration never overwrites one of a later task
 * attempt: an aborted run's Acquire invocation that registers its dead token after the
 * redriven run registered (same execution ARN, same key) would strand the redriven run.
 * Returns undefined when a later attempt's registration is there: nothing waits on this
 * one's token any more.
 */
export async function enqueue(
  ddb: DynamoDBDocumentClient,
  args: LockRef & { holder: string; queuedAt: string; token: string; attempt?: string },
): Promise<Waiter | undefined> {
  const waiter: Waiter = {
    ...waiterKey(args.lockName, args.queuedAt, args.holder),
    holder: args.holder,
    token: args.token,
    queuedAt: args.queuedAt,
    registeredAt: nowIso(),
    ...(args.attempt ? { attempt: args.attempt } : {}),
  };
  if (!args.attempt) {
    await ddb.send(new PutCommand({ TableName: args.table, Item: waiter }));
    return waiter;
  }
  const written = await writeIf(
    ddb,
    new PutCommand({
      TableName: args.table,
      Item: waiter,
      ConditionExpression:
        'attribute_not_exists(sk) OR attribute_not_exists(#attempt) OR #attempt <= :attempt',
      ExpressionAttributeNames: { '#attempt': 'attempt' },
      ExpressionAttributeValues: { ':attempt': args.attempt },
    }),
  );
  return written ? waiter : undefined;
}

/**
 * Removes a waiter item. With `token`, only that registration (a newer one with
 * another token stays). Returns whether this call removed it.
 */
export async function dequeue(
  ddb: DynamoDBDocumentClient,
  args: { table: string; waiter: Pick<Waiter, 'pk' | 'sk'>; token?: string },
): Promise<boolean> {
  return writeIf(
    ddb,
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
 * Whether the execution is RUNNING now (an unknown one is not). The cleanup and a
 * wake-up whose token is gone ask this, never an event: events come late, twice or
 * not at all, and a redriven execution keeps its ARN.
 */
export async function isExecutionRunning(sfn: SFNClient, executionArn: string): Promise<boolean> {
  try {
    const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    return out.status === 'RUNNING';
  } catch (err) {
    if ((err as Error).name === 'ExecutionDoesNotExist') return false;
    throw err;
  }
}

export type ServeOutcome = 'full' | 'woken' | 'gone' | 'undelivered';

/**
 * Hands a slot to one waiter: writes it as holder (granted to its token), completes
 * its token, then removes its item (conditional on that token).
 * - 'full': no free slot; nothing changed.
 * - 'woken': the token was completed.
 * - 'gone': the token no longer waits. A slot this call took for an execution that
 *   no longer runs is given back; otherwise the execution keeps it (its token timed
 *   out and it registers again, finding itself holder; or another waker completed
 *   the token first).
 * - 'undelivered': SendTaskSuccess kept failing (throttled): the item stays, so the
 *   next wake-up (a release, the reaper) completes it, as a re-entry.
 */
export async function serveWaiter(
  ddb: DynamoDBDocumentClient,
  sfn: SFNClient,
  args: LockRef & { limit: number },
  waiter: Waiter,
): Promise<ServeOutcome> {
  const outcome = await acquire(ddb, {
    ...args,
    holder: waiter.holder,
    grant: waiter.token,
    attempt: waiter.attempt,
  });
  if (outcome === 'full') return 'full';
  let delivered: boolean;
  try {
    delivered = await notifyWaiter(sfn, waiter.token, outcome);
  } catch {
    return 'undelivered';
  }
  await dequeue(ddb, { table: args.table, waiter, token: waiter.token });
  if (delivered) return 'woken';
  if (outcome === 'acquired') {
    // Read the slot, then ask whether the execution runs, then free the slot only if it
    // is unchanged: an execution redriven meanwhile that confirmed it keeps it. A slot
    // marked with an operation is never given back here: another waker completed the
    // token first and the execution started its Control Tower operation on this slot.
    // Only the cleanup and the reaper free it, once the operation's record is terminal.
    const slot = (await readLock(ddb, args)).slots[waiter.holder];
    if (slot?.grant === waiter.token && !slot.op && !(await isExecutionRunning(sfn, waiter.holder))) {
      await release(ddb, { ...args, holder: waiter.holder, ifUnchanged: slot });
    }
  }
  return 'gone';
}

/**
 * Hands free slots to the oldest waiters, first come first served, until the
 * semaphore is full or nobody waits. Returns the holders that were woken.
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
    const outcome = await serveWaiter(ddb, sfn, args, waiter);
    if (outcome === 'woken') woken.push(waiter.holder);
    if (outcome === 'full' || outcome === 'undelivered') break;
  }
  return woken;
}

/**
 * Completes the tokens of waiters that already hold a slot (a hand-over whose
 * SendTaskSuccess was throttled, or a registration that raced its own grant),
 * whatever their place in the queue: they must not wait behind others for a slot
 * they hold. Returns the holders woken.
 */
export async function serveHolders(
  ddb: DynamoDBDocumentClient,
  sfn: SFNClient,
  args: LockRef & { limit: number },
): Promise<string[]> {
  const lock = await readLock(ddb, args);
  const woken: string[] = [];
  for (const waiter of await listWaiters(ddb, args)) {
    if (lock.slots[waiter.holder] === undefined) continue;
    if ((await serveWaiter(ddb, sfn, args, waiter)) === 'woken') woken.push(waiter.holder);
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
