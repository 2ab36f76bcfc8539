import type { Context } from 'aws-lambda';
import { CodePipelineClient, GetPipelineExecutionCommand } from '@aws-sdk/client-codepipeline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeRecordCommand, ServiceCatalogClient } from '@aws-sdk/client-service-catalog';
import { SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createClient } from '../shared/clients';
import { now } from '../shared/clock';
import { optionalEnv, requireEnv } from '../shared/env';
import { beginInvocation, createLogger } from '../shared/logger';
import { createManagementClients } from '../shared/management';
import { createMetrics, LOCK_DIMENSION, METRIC, MetricUnit, Metrics } from '../shared/metrics';
import {
  dequeue,
  isExecutionRunning,
  listWaiters,
  LockRef,
  parsePipelineHolder,
  readLock,
  release,
  serveHolders,
  Slot,
  wakeNext,
} from '../shared/semaphore';

/**
 * Semaphore cleanup, for slots and queue places that an ended execution still holds.
 *
 * (a) EventBridge "Step Functions Execution Status Change" with status FAILED,
 *     TIMED_OUT or ABORTED: unless the execution RUNS now (DescribeExecution: the
 *     event may be late, and a redriven execution keeps its ARN), drop its waiter
 *     items, free its slot unless a Control Tower operation still runs on it, wake.
 * (b) Any other event (the scheduled reaper): EventBridge delivery is best effort,
 *     so check every holder and every waiter with DescribeExecution and drop those
 *     whose execution is no longer RUNNING; then wake (this also repairs a lost
 *     wake-up). A holder `codepipeline:<pipeline>:<execution id>` (a slot handed
 *     over to the pipeline an execution started) is alive while CodePipeline says
 *     that pipeline execution is in progress.
 *
 * A slot stands for a Control Tower operation: the slot of an ended execution is
 * freed only once the operation marked on it has ended (its Service Catalog record
 * is terminal); until then the reaper checks it again each period.
 *
 * Both serve every lock of the semaphore: its own (SEMAPHORE_LOCK_NAME) and the
 * ones added with addLock (SEMAPHORE_EXTRA_LOCKS).
 */

const logger = createLogger('semaphore-cleanup');
const ddb = DynamoDBDocumentClient.from(createClient(DynamoDBClient));
const sfn = createClient(SFNClient);
const codePipeline = createClient(CodePipelineClient);
const sns = createClient(SNSClient);
let serviceCatalog: ServiceCatalogClient | undefined;
const metrics = createMetrics();

/** A Control Tower operation that ran on when the execution that started it had ended. */
export interface OrphanedOperation {
  holder: string;
  recordId: string;
  recordStatus: string;
}

/**
 * Tells the failure topic (ORPHANED_OPERATIONS_TOPIC_ARN) what an ended execution left
 * behind: the operation's record and how it ended, and how to bring the account under
 * management. Without a topic it is logged only.
 */
export type OrphanReporter = (operation: OrphanedOperation) => Promise<void>;

export const reportOrphan: OrphanReporter = async (operation) => {
  logger.warn('An execution ended while its Control Tower operation ran', { ...operation });
  const topic = optionalEnv('ORPHANED_OPERATIONS_TOPIC_ARN');
  if (!topic) return;
  const succeeded = operation.recordStatus === 'SUCCEEDED';
  await sns.send(
    new PublishCommand({
      TopicArn: topic,
      Subject: 'Account factory: a Control Tower operation outlived its execution',
      Message: JSON.stringify({
        kind: 'ORPHANED_CONTROL_TOWER_OPERATION',
        execution: operation.holder,
        serviceCatalogRecordId: operation.recordId,
        recordStatus: operation.recordStatus,
        whatExists: succeeded
          ? 'Control Tower finished the operation: the account exists and is enrolled, but the factory did not set it up (metadata, execution role, tags, customizations).'
          : `Control Tower ended the operation ${operation.recordStatus}: see the record for what it changed.`,
        toResume: succeeded
          ? 'Write the account request again (edit it, or deploy it again): validation finds the enrolled account and sets it up without a new Control Tower operation.'
          : 'Fix the cause named in the record, then write the account request again.',
      }),
    }),
  );
};

/** Service Catalog record statuses of an operation that still runs. */
const RECORD_IN_PROGRESS = new Set(['CREATED', 'IN_PROGRESS', 'IN_PROGRESS_IN_ERROR']);
/**
 * A slot marked as starting an operation, with no record yet, is kept this long
 * after the mark: the longest Lambda invocation (15 min). Past it, the step that
 * marked it has ended without a record: its call never reached Service Catalog.
 */
export const OPERATION_START_GRACE_MS = 15 * 60_000;

/** The status of a Service Catalog record (undefined: no such record). */
export type RecordStatus = (recordId: string) => Promise<string | undefined>;

/** DescribeRecord, through the Control Tower management account (MANAGEMENT_ROLE_ARN) when set. */
export const describeRecordStatus: RecordStatus = async (recordId) => {
  serviceCatalog ??= createManagementClients(createClient(STSClient)).serviceCatalog;
  try {
    const out = await serviceCatalog.send(new DescribeRecordCommand({ Id: recordId }));
    return out.RecordDetail?.Status;
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
};

/** Pipeline execution statuses after which a pipeline holder no longer holds its slot. */
const PIPELINE_ENDED = new Set(['Succeeded', 'Failed', 'Stopped', 'Superseded', 'Cancelled']);

const ENDED_STATUSES = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);

export interface CleanupResult {
  released: string[];
  removedWaiters: string[];
  woken: string[];
  /** Ended executions whose slot stays: the Control Tower operation they started still runs. */
  operationsRunning?: string[];
}

/**
 * Frees the slot of an execution that no longer runs, unless the Control Tower
 * operation marked on it still runs. Each release is conditional on the slot being
 * as read, so a mark written meanwhile keeps it. Returns 'released', 'running'
 * (the operation runs: the reaper looks again), or 'none'.
 */
export async function freeEndedHolder(
  ddb: DynamoDBDocumentClient,
  config: SemaphoreConfig,
  holder: string,
  slot: Slot,
  recordStatus: RecordStatus = describeRecordStatus,
  orphan: OrphanReporter = reportOrphan,
): Promise<'released' | 'running' | 'none'> {
  const op = slot.op;
  if (!op) {
    const released = await release(ddb, { ...config, holder, ifUnchanged: slot });
    return released ? 'released' : 'none';
  }
  if (op.recordId) {
    const status = await recordStatus(op.recordId);
    if (status && RECORD_IN_PROGRESS.has(status)) return 'running';
    const released = await release(ddb, { ...config, holder, ifUnchanged: slot });
    // Reported once: by the cleanup that freed the slot.
    if (released) await orphan({ holder, recordId: op.recordId, recordStatus: status ?? 'NOT_FOUND' });
    return released ? 'released' : 'none';
  } else if (now().getTime() - Date.parse(op.startedAt) < OPERATION_START_GRACE_MS) {
    return 'running';
  }
  const released = await release(ddb, { ...config, holder, ifUnchanged: slot });
  return released ? 'released' : 'none';
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

/**
 * (a): an event says one execution ended. What counts is its status now: a
 * redriven execution runs again under the same ARN, and keeps its slot.
 */
export async function cleanupExecution(
  ddb: DynamoDBDocumentClient,
  sfn: SFNClient,
  config: SemaphoreConfig,
  executionArn: string,
  recordStatus: RecordStatus = describeRecordStatus,
): Promise<CleanupResult> {
  const result: CleanupResult = { released: [], removedWaiters: [], woken: [], operationsRunning: [] };
  // Read first, then ask whether the execution runs, then change only what is unchanged
  // (conditional on the token, on the slot): a redrive in between keeps what it made.
  const waiters = (await listWaiters(ddb, config)).filter((w) => w.holder === executionArn);
  const slot = (await readLock(ddb, config)).slots[executionArn];
  if (!(await isExecutionRunning(sfn, executionArn))) {
    // Waiters first, so no wake-up hands it a slot after its release.
    for (const waiter of waiters) {
      if (await dequeue(ddb, { table: config.table, waiter, token: waiter.token })) {
        if (!result.removedWaiters.includes(executionArn)) result.removedWaiters.push(executionArn);
      }
    }
    const freed = slot ? await freeEndedHolder(ddb, config, executionArn, slot, recordStatus) : 'none';
    if (freed === 'released') result.released.push(executionArn);
    if (freed === 'running') result.operationsRunning!.push(executionArn);
  }
  result.woken = await wakeNext(ddb, sfn, config);
  return result;
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
  return isExecutionRunning(sfn, executionArn);
}

/**
 * (b): the reaper. Frees the slots of ended executions (unless their Control Tower
 * operation still runs), drops the queue places of ended executions, completes the
 * tokens of waiters that already hold a slot, and wakes.
 */
export async function reap(
  ddb: DynamoDBDocumentClient,
  sfn: SFNClient,
  config: SemaphoreConfig,
  codePipeline?: CodePipelineClient,
  recordStatus: RecordStatus = describeRecordStatus,
): Promise<CleanupResult> {
  // Each decision reads first, then asks whether the execution runs, then changes only
  // what is unchanged (see cleanupExecution).
  const result: CleanupResult = { released: [], removedWaiters: [], woken: [], operationsRunning: [] };
  for (const waiter of await listWaiters(ddb, config)) {
    if (
      !(await isRunning(sfn, waiter.holder, codePipeline)) &&
      (await dequeue(ddb, { table: config.table, waiter, token: waiter.token }))
    ) {
      result.removedWaiters.push(waiter.holder);
    }
  }
  const lock = await readLock(ddb, config);
  for (const [holder, slot] of Object.entries(lock.slots)) {
    if (await isRunning(sfn, holder, codePipeline)) continue;
    const freed = await freeEndedHolder(ddb, config, holder, slot, recordStatus);
    if (freed === 'released') result.released.push(holder);
    if (freed === 'running') result.operationsRunning!.push(holder);
  }
  result.woken = [...(await serveHolders(ddb, sfn, config)), ...(await wakeNext(ddb, sfn, config))];
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
    operationsRunning: results.flatMap((r) => r.operationsRunning ?? []),
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
  recordStatus: RecordStatus = describeRecordStatus,
): Promise<CleanupResult> {
  if (isStatusChange(event)) {
    if (!ENDED_STATUSES.has(event.detail.status)) return { released: [], removedWaiters: [], woken: [] };
    return cleanupExecution(ddb, sfn, config, event.detail.executionArn, recordStatus);
  }
  return reap(ddb, sfn, config, codePipeline, recordStatus);
}

export async function handler(event: unknown, context?: Context): Promise<CleanupResult> {
  beginInvocation(logger, event, context);
  const locks = locksFromEnv();
  const result = await handleCleanupEventForLocks(ddb, sfn, locks, event, codePipeline);
  logger.info('semaphore cleanup', { ...result });
  // What the semaphore looks like after this run, for the dashboard and the alarms
  // (a slot held too long, a waiter queued too long). A failed read fails the run.
  for (const lock of locks) emitLockGauges(metrics, lock.lockName, await readLockGauges(ddb, lock));
  return result;
}

/** What each run of the cleanup measures of a lock. */
export interface LockGauges {
  slotsInUse: number;
  waiters: number;
  /** Seconds since the first waiter in line queued (its execution's start); 0 without waiters. */
  oldestWaiterAgeSeconds: number;
  /** Seconds since the longest-held slot was taken; 0 when no slot is held. */
  oldestSlotAgeSeconds: number;
}

function secondsSince(iso: string, at: number): number {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : Math.max(0, Math.round((at - t) / 1000));
}

/** Reads a lock (consistent reads) and measures it now. */
export async function readLockGauges(ddb: DynamoDBDocumentClient, lock: LockRef): Promise<LockGauges> {
  const state = await readLock(ddb, lock);
  const waiters = await listWaiters(ddb, lock);
  const at = now().getTime();
  const slots = Object.values(state.slots);
  return {
    slotsInUse: Math.max(state.count, slots.length),
    waiters: waiters.length,
    oldestWaiterAgeSeconds: Math.max(0, ...waiters.map((w) => secondsSince(w.queuedAt, at))),
    oldestSlotAgeSeconds: Math.max(0, ...slots.map((s) => secondsSince(s.at, at))),
  };
}

/**
 * One document per lock, with the lock's name as a dimension (a handful of locks: low
 * cardinality). Synchronous from the dimension to the publish: nothing else stored in
 * `metrics` can take the lock's dimension.
 */
export function emitLockGauges(metrics: Metrics, lockName: string, gauges: LockGauges): void {
  metrics.publishStoredMetrics();
  metrics.addDimension(LOCK_DIMENSION, lockName);
  metrics.addMetric(METRIC.SLOTS_IN_USE, MetricUnit.Count, gauges.slotsInUse);
  metrics.addMetric(METRIC.WAITERS, MetricUnit.Count, gauges.waiters);
  metrics.addMetric(METRIC.OLDEST_WAITER_AGE, MetricUnit.Seconds, gauges.oldestWaiterAgeSeconds);
  metrics.addMetric(METRIC.OLDEST_SLOT_AGE, MetricUnit.Seconds, gauges.oldestSlotAgeSeconds);
  metrics.publishStoredMetrics();
}
