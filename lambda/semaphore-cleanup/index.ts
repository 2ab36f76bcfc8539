import { CodePipelineClient, GetPipelineExecutionCommand } from '@aws-sdk/client-codepipeline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createClient } from '../shared/clients';
import { optionalEnv, requireEnv } from '../shared/env';
import { createLogger } from '../shared/logger';
import {
  dequeue,
  listWaiters,
  LockRef,
  parsePipelineHolder,
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
 *     wake-up). A holder `codepipeline:<pipeline>:<execution id>` (a slot handed
 *     over to the pipeline an execution started) is alive while CodePipeline says
 *     that pipeline execution is in progress.
 *
 * Both serve every lock of the semaphore: its own (SEMAPHORE_LOCK_NAME) and the
 * ones added with addLock (SEMAPHORE_EXTRA_LOCKS).
 */

const logger = createLogger('semaphore-cleanup');
const ddb = DynamoDBDocumentClient.from(createClient(DynamoDBClient));
const sfn = createClient(SFNClient);
const codePipeline = createClient(CodePipelineClient);

/** Pipeline execution statuses after which a pipeline holder no longer holds its slot. */
const PIPELINE_ENDED = new Set(['Succeeded', 'Failed', 'Stopped', 'Superseded', 'Cancelled']);

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

/** Whether a pipeline execution still runs (an unknown one does not). */
export async function isPipelineRunning(
  client: CodePipelineClient,
  pipelineName: string,
  executionId: string,
): Promise<boolean> {
  try {
    const out = await client.send(
      new GetPipelineExecutionCommand({ pipelineName, pipelineExecutionId: executionId }),
    );
    return !PIPELINE_ENDED.has(out.pipelineExecution?.status ?? 'Failed');
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'PipelineNotFoundException' || name === 'PipelineExecutionNotFoundException') return false;
    throw err;
  }
}

/**
 * Whether the execution is still RUNNING (an unknown execution is not). A
 * pipeline holder is asked of CodePipeline instead (with `codePipeline`; without
 * it, it counts as running: never released by a guess).
 */
export async function isRunning(
  sfn: SFNClient,
  executionArn: string,
  codePipeline?: CodePipelineClient,
): Promise<boolean> {
  const pipeline = parsePipelineHolder(executionArn);
  if (pipeline) {
    return codePipeline ? isPipelineRunning(codePipeline, pipeline.pipelineName, pipeline.executionId) : true;
  }
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
  codePipeline?: CodePipelineClient,
): Promise<CleanupResult> {
  const running = new Map<string, boolean>();
  const check = async (arn: string) => {
    if (!running.has(arn)) running.set(arn, await isRunning(sfn, arn, codePipeline));
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

/** The semaphore's own lock, then the locks added with addLock. */
export function locksFromEnv(): SemaphoreConfig[] {
  const extra = optionalEnv('SEMAPHORE_EXTRA_LOCKS');
  const locks = [configFromEnv()];
  if (!extra) return locks;
  const parsed = JSON.parse(extra) as unknown;
  if (!Array.isArray(parsed)) throw new Error('SEMAPHORE_EXTRA_LOCKS must be a JSON array');
  for (const l of parsed as Partial<SemaphoreConfig>[]) {
    if (typeof l.table !== 'string' || typeof l.lockName !== 'string' || !Number.isInteger(l.limit)) {
      throw new Error(`SEMAPHORE_EXTRA_LOCKS: ${JSON.stringify(l)} is not { table, lockName, limit }`);
    }
    locks.push({ table: l.table, lockName: l.lockName, limit: l.limit as number });
  }
  return locks;
}

function merge(results: CleanupResult[]): CleanupResult {
  return {
    released: results.flatMap((r) => r.released),
    removedWaiters: results.flatMap((r) => r.removedWaiters),
    woken: results.flatMap((r) => r.woken),
  };
}

/** handleCleanupEvent for each lock. */
export async function handleCleanupEventForLocks(
  ddb: DynamoDBDocumentClient,
  sfn: SFNClient,
  locks: SemaphoreConfig[],
  event: unknown,
  codePipeline?: CodePipelineClient,
): Promise<CleanupResult> {
  const results: CleanupResult[] = [];
  for (const lock of locks) results.push(await handleCleanupEvent(ddb, sfn, lock, event, codePipeline));
  return merge(results);
}

export async function handleCleanupEvent(
  ddb: DynamoDBDocumentClient,
  sfn: SFNClient,
  config: SemaphoreConfig,
  event: unknown,
  codePipeline?: CodePipelineClient,
): Promise<CleanupResult> {
  if (isStatusChange(event)) {
    if (!ENDED_STATUSES.has(event.detail.status)) return { released: [], removedWaiters: [], woken: [] };
    return cleanupExecution(ddb, sfn, config, event.detail.executionArn);
  }
  return reap(ddb, sfn, config, codePipeline);
}

export async function handler(event: unknown): Promise<CleanupResult> {
  const result = await handleCleanupEventForLocks(ddb, sfn, locksFromEnv(), event, codePipeline);
  logger.info('semaphore cleanup', { ...result });
  return result;
}
