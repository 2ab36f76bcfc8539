import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createClient } from '../shared/clients';
import { requireEnv } from '../shared/env';
import { createLogger } from '../shared/logger';
import {
  dequeue,
  listWaiters,
  LockRef,
  readLock,
  release,
  removeWaitersOf,
  wakeNext,
} from '../shared/semaphore';

/**
 * Semaphore cleanup, for slots and queue places that an ended execution still holds.
 *
 * (a) EventBridge "Step Functions Execution Status Change" with status FAILED,
 *     TIMED_OUT or ABORTED: release that execution, drop its waiter items, wake.
 * (b) Any other event (the scheduled reaper): EventBridge delivery is best effort,
 *     so check every holder and every waiter with DescribeExecution and drop those
 *     whose execution is no longer RUNNING; then wake (this also repairs a lost
 *     wake-up).
 */

const logger = createLogger('semaphore-cleanup');
const ddb = DynamoDBDocumentClient.from(createClient(DynamoDBClient));
const sfn = createClient(SFNClient);

const ENDED_STATUSES = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);

export interface CleanupResult {
  released: string[];
  removedWaiters: string[];
  woken: string[];
}

export interface SemaphoreConfig extends LockRef {
  limit: number;
}

interface StatusChangeEvent {
  'detail-type': 'Step Functions Execution Status Change';
  detail: { executionArn: string; status: string };
}

function isStatusChange(event: unknown): event is StatusChangeEvent {
  const e = event as Partial<StatusChangeEvent> | null;
  return (
    e?.['detail-type'] === 'Step Functions Execution Status Change' &&
    typeof e.detail?.executionArn === 'string' &&
    typeof e.detail.status === 'string'
  );
}

/** (a): one execution ended. Waiters first, so no wakeNext hands it a slot after its release. */
export async function cleanupExecution(
  ddb: DynamoDBDocumentClient,
  sfn: SFNClient,
  config: SemaphoreConfig,
  executionArn: string,
): Promise<CleanupResult> {
  const removed = await removeWaitersOf(ddb, { ...config, holder: executionArn });
  const released = await release(ddb, { ...config, holder: executionArn });
  const woken = await wakeNext(ddb, sfn, config);
  return {
    released: released ? [executionArn] : [],
    removedWaiters: removed > 0 ? [executionArn] : [],
    woken,
  };
}

/** Whether the execution is still RUNNING (an unknown execution is not). */
export async function isRunning(sfn: SFNClient, executionArn: string): Promise<boolean> {
  try {
    const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    return out.status === 'RUNNING';
  } catch (err) {
    if ((err as Error).name === 'ExecutionDoesNotExist') return false;
    throw err;
  }
}

/** (b): the reaper. */
export async function reap(
  ddb: DynamoDBDocumentClient,
  sfn: SFNClient,
  config: SemaphoreConfig,
): Promise<CleanupResult> {
  const running = new Map<string, boolean>();
  const check = async (arn: string) => {
    if (!running.has(arn)) running.set(arn, await isRunning(sfn, arn));
    return running.get(arn) as boolean;
  };

  const result: CleanupResult = { released: [], removedWaiters: [], woken: [] };
  const lock = await readLock(ddb, config);
  for (const holder of Object.keys(lock.holders)) {
    if (!(await check(holder)) && (await release(ddb, { ...config, holder }))) result.released.push(holder);
  }
  for (const waiter of await listWaiters(ddb, config)) {
    if (
      !(await check(waiter.holder)) &&
      (await dequeue(ddb, { table: config.table, waiter, token: waiter.token }))
    ) {
      result.removedWaiters.push(waiter.holder);
    }
  }
  result.woken = await wakeNext(ddb, sfn, config);
  return result;
}

export function configFromEnv(): SemaphoreConfig {
  const limit = Number(requireEnv('SEMAPHORE_LIMIT'));
  if (!Number.isInteger(limit) || limit < 1)
    throw new Error(`SEMAPHORE_LIMIT must be a positive integer, not ${limit}`);
  return { table: requireEnv('SEMAPHORE_TABLE'), lockName: requireEnv('SEMAPHORE_LOCK_NAME'), limit };
}

export async function handleCleanupEvent(
  ddb: DynamoDBDocumentClient,
  sfn: SFNClient,
  config: SemaphoreConfig,
  event: unknown,
): Promise<CleanupResult> {
  if (isStatusChange(event)) {
    if (!ENDED_STATUSES.has(event.detail.status)) return { released: [], removedWaiters: [], woken: [] };
    return cleanupExecution(ddb, sfn, config, event.detail.executionArn);
  }
  return reap(ddb, sfn, config);
}

export async function handler(event: unknown): Promise<CleanupResult> {
  const result = await handleCleanupEvent(ddb, sfn, configFromEnv(), event);
  logger.info('semaphore cleanup', { ...result });
  return result;
}
