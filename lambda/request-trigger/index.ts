import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { z } from 'zod';
import { createClient } from '../shared/clients';
import type { StreamEventName, WorkflowInput } from '../shared/contracts';
import { requireEnv } from '../shared/env';
import { beginInvocation, createLogger } from '../shared/logger';
import { createMetrics, METRIC, MetricUnit } from '../shared/metrics';
import { executionName } from '../shared/schema';

/**
 * Request trigger: the requests table's stream starts one workflow execution per
 * request version. The execution name is derived from the request id and version,
 * so a record delivered twice starts nothing twice (ExecutionAlreadyExists).
 * Records that fail are reported (ReportBatchItemFailures) and delivered again.
 */

const logger = createLogger('request-trigger');
const sfn = createClient(SFNClient);
const metrics = createMetrics();

/** The part of a requests-table item the trigger reads. */
const ImageSchema = z.object({
  id: z.string().min(1),
  version: z.number().int().nonnegative(),
  request: z.unknown().optional(),
  updatedAt: z.string().optional(),
});
type Image = z.infer<typeof ImageSchema>;

export type RecordOutcome = 'started' | 'duplicate' | 'skipped' | 'failed';

export interface RecordResult {
  outcome: RecordOutcome;
  /** Null when the record could not be read far enough to name an execution. */
  executionName: string | null;
  sequenceNumber: string | undefined;
  requestId: string | null;
  error?: string;
}

function readImage(image: Record<string, unknown> | undefined, which: string): Image | undefined {
  if (!image) return undefined;
  const parsed = ImageSchema.safeParse(unmarshall(image as Record<string, AttributeValue>));
  if (!parsed.success) {
    throw new Error(
      `${which} is not a request item: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

/** The workflow input for a stream record, or null when the record needs no execution. */
export function workflowInputOf(record: DynamoDBRecord): WorkflowInput | null {
  const eventName = record.eventName as StreamEventName | undefined;
  if (eventName !== 'INSERT' && eventName !== 'MODIFY' && eventName !== 'REMOVE') {
    throw new Error(`unexpected stream event name ${String(record.eventName)}`);
  }
  const next = readImage(record.dynamodb?.NewImage, 'NewImage');
  const previous = readImage(record.dynamodb?.OldImage, 'OldImage');
  const current = eventName === 'REMOVE' ? previous : next;
  if (!current) {
    throw new Error(
      `${eventName} record has no ${eventName === 'REMOVE' ? 'OldImage' : 'NewImage'} (the stream must be NEW_AND_OLD_IMAGES)`,
    );
  }
  // A write that did not bump the version (e.g. bookkeeping on the item) is not a new request version.
  if (eventName === 'MODIFY' && previous && previous.version === current.version) return null;
  return {
    requestId: current.id,
    version: current.version,
    eventName,
    request: next?.request ?? null,
    previous: previous?.request ?? null,
    writtenAt: current.updatedAt,
  };
}

async function processRecord(
  sfn: SFNClient,
  stateMachineArn: string,
  record: DynamoDBRecord,
): Promise<RecordResult> {
  const sequenceNumber = record.dynamodb?.SequenceNumber;
  let input: WorkflowInput | null;
  try {
    input = workflowInputOf(record);
  } catch (err) {
    return {
      outcome: 'failed',
      executionName: null,
      sequenceNumber,
      requestId: null,
      error: (err as Error).message,
    };
  }
  if (!input) {
    return { outcome: 'skipped', executionName: null, sequenceNumber, requestId: null };
  }
  const name = executionName(input.requestId, input.version, input.eventName, input.writtenAt);
  const base = { executionName: name, sequenceNumber, requestId: input.requestId };
  try {
    await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
    return { outcome: 'started', ...base };
  } catch (err) {
    if ((err as Error).name === 'ExecutionAlreadyExists') return { outcome: 'duplicate', ...base };
    return { outcome: 'failed', ...base, error: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

/**
 * Starts the executions of a batch, in order. Once a record of a request fails,
 * the later records of the same request are failed too (not started), so that
 * request's versions never run out of order; the stream delivers them again.
 */
export async function processRecords(
  sfn: SFNClient,
  stateMachineArn: string,
  records: DynamoDBRecord[],
): Promise<RecordResult[]> {
  const results: RecordResult[] = [];
  const blocked = new Set<string>();
  let unreadableFailure = false;
  for (const record of records) {
    const key = requestKeyOf(record);
    if (unreadableFailure || (key !== null && blocked.has(key))) {
      results.push({
        outcome: 'failed',
        executionName: null,
        sequenceNumber: record.dynamodb?.SequenceNumber,
        requestId: key,
        error: 'an earlier record of the same request failed',
      });
      continue;
    }
    const result = await processRecord(sfn, stateMachineArn, record);
    if (result.outcome === 'failed') {
      if (key === null) unreadableFailure = true;
      else blocked.add(key);
    }
    results.push(result);
  }
  return results;
}

/** The request id from the record's keys (present whatever the stream view type). */
function requestKeyOf(record: DynamoDBRecord): string | null {
  const keys = record.dynamodb?.Keys;
  if (!keys) return null;
  try {
    const id = unmarshall(keys as Record<string, AttributeValue>).id;
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}

export async function handler(event: DynamoDBStreamEvent, context?: Context): Promise<DynamoDBBatchResponse> {
  beginInvocation(logger, event, context);
  const results = await processRecords(sfn, requireEnv('STATE_MACHINE_ARN'), event.Records ?? []);
  const batchItemFailures: DynamoDBBatchResponse['batchItemFailures'] = [];
  for (const r of results) {
    if (r.outcome === 'failed') {
      logger.error('record failed', { ...r });
      // A record without a sequence number cannot be retried by itself: report it as an
      // empty identifier, which makes Lambda retry the whole batch.
      batchItemFailures.push({ itemIdentifier: r.sequenceNumber ?? '' });
    } else {
      logger.info(`record ${r.outcome}`, { ...r });
    }
  }
  const started = results.filter((r) => r.outcome === 'started').length;
  if (started) metrics.addMetric(METRIC.EXECUTIONS_STARTED, MetricUnit.Count, started);
  if (batchItemFailures.length)
    metrics.addMetric(METRIC.TRIGGER_RECORDS_FAILED, MetricUnit.Count, batchItemFailures.length);
  metrics.publishStoredMetrics();
  return { batchItemFailures };
}
