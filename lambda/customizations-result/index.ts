import type { Context } from 'aws-lambda';
import {
  CodePipelineClient,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
} from '@aws-sdk/client-codepipeline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { MessageAttributeValue, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { createClient } from '../shared/clients';
import { nowIso } from '../shared/clock';
import type {
  CustomizationsNotification,
  CustomizationsRecord,
  CustomizationsStatus,
} from '../shared/contracts';
import { optionalEnv, requireEnv } from '../shared/env';
import { isConditionalCheckFailed } from '../shared/errors';
import { parseInput } from '../shared/input';
import { beginInvocation, createLogger } from '../shared/logger';
import { createMetrics, METRIC, MetricUnit, Metrics, withMetrics } from '../shared/metrics';
import {
  createMetadataDocumentClient,
  getMetadata,
  MetadataTable,
  metadataTableFromEnv,
} from '../shared/metadata';
import { LockRef, pipelineHolder, release, wakeNext } from '../shared/semaphore';

/**
 * Customizations result: EventBridge "CodePipeline Pipeline Execution State
 * Change" of an account pipeline (`<prefix>-<account id>`).
 *
 * - STARTED: records the execution as IN_PROGRESS in the account's metadata.
 * - SUCCEEDED, FAILED, STOPPED, SUPERSEDED (the end): releases the
 *   customizations slot the workflow handed over to this pipeline execution and
 *   wakes the next waiting account; records the outcome (with the failed stage)
 *   in the metadata; publishes it to the success topic (SUCCEEDED) or the
 *   failure topic (FAILED, STOPPED).
 *
 * EventBridge delivers at least once: a second delivery of the same event
 * releases nothing, and publishes nothing again.
 */

const logger = createLogger('customizations-result');
const doc = createMetadataDocumentClient();
const lockDoc = DynamoDBDocumentClient.from(createClient(DynamoDBClient));
const sfn = createClient(SFNClient);
const metrics = createMetrics();
const sns = createClient(SNSClient);
const codePipeline = createClient(CodePipelineClient);

export const PIPELINE_EVENT_DETAIL_TYPE = 'CodePipeline Pipeline Execution State Change';

/** Event states that end an execution, and what the factory calls them. */
const ENDED: Record<string, Exclude<CustomizationsStatus, 'IN_PROGRESS'>> = {
  SUCCEEDED: 'SUCCEEDED',
  FAILED: 'FAILED',
  STOPPED: 'STOPPED',
  SUPERSEDED: 'SUPERSEDED',
  CANCELED: 'STOPPED',
};

export const PipelineEventSchema = z.object({
  'detail-type': z.literal(PIPELINE_EVENT_DETAIL_TYPE),
  time: z.string().optional(),
  detail: z.object({
    pipeline: z.string().min(1),
    'execution-id': z.string().min(1),
    state: z.string().min(1),
  }),
});
export type PipelineEvent = z.output<typeof PipelineEventSchema>;

export interface ResultConfig {
  pipelinePrefix: string;
  successTopicArn: string;
  failureTopicArn: string;
  lock: LockRef & { limit: number };
}

export function configFromEnv(): ResultConfig {
  const limit = Number(requireEnv('CUSTOMIZATIONS_LIMIT'));
  if (!Number.isInteger(limit) || limit < 1) {
    throw new Error(`CUSTOMIZATIONS_LIMIT must be a positive integer, not ${limit}`);
  }
  return {
    pipelinePrefix: optionalEnv('PIPELINE_NAME_PREFIX') ?? 'account-customizations',
    successTopicArn: requireEnv('SUCCESS_TOPIC_ARN'),
    failureTopicArn: requireEnv('FAILURE_TOPIC_ARN'),
    lock: {
      table: requireEnv('CUSTOMIZATIONS_SEMAPHORE_TABLE'),
      lockName: requireEnv('CUSTOMIZATIONS_LOCK_NAME'),
      limit,
    },
  };
}

export interface ResultClients {
  metadata: MetadataTable;
  lockDoc: DynamoDBDocumentClient;
  sfn: SFNClient;
  sns: SNSClient;
  codePipeline: CodePipelineClient;
}

export interface CustomizationsResult {
  /** Why nothing was done: not an account pipeline, or a state that is neither a start nor an end. */
  ignored?: string;
  accountId?: string;
  status?: CustomizationsStatus;
  /** Whether this call released the pipeline's customizations slot. */
  released?: boolean;
  /** Executions handed a customizations slot by this call. */
  woken?: string[];
  /** What happened to the metadata item. */
  recorded?: 'updated' | 'duplicate' | 'stale' | 'absent';
  notification?: CustomizationsNotification;
}

/** `<prefix>-<12 digits>` -> the account ID; anything else is not an account pipeline of this factory. */
export function accountIdOf(pipelineName: string, prefix: string): string | undefined {
  const rest = pipelineName.startsWith(`${prefix}-`) ? pipelineName.slice(prefix.length + 1) : '';
  return /^\d{12}$/.test(rest) ? rest : undefined;
}

/** The failed stage of a pipeline execution and CodePipeline's message, as well as they can be read. */
export async function failureOf(
  client: CodePipelineClient,
  pipelineName: string,
  executionId: string,
): Promise<{ failedStage?: string; message?: string }> {
  const state = await client.send(new GetPipelineStateCommand({ name: pipelineName }));
  const stage = (state.stageStates ?? []).find(
    (s) => s.latestExecution?.pipelineExecutionId === executionId && s.latestExecution.status === 'Failed',
  );
  let message = stage?.actionStates
    ?.map((a) => a.latestExecution?.errorDetails?.message)
    .find((m): m is string => typeof m === 'string' && m.length > 0);
  if (!message) {
    const execution = await client.send(
      new GetPipelineExecutionCommand({ pipelineName, pipelineExecutionId: executionId }),
    );
    message = execution.pipelineExecution?.statusSummary ?? undefined;
  }
  return { failedStage: stage?.stageName, message };
}

/**
 * Writes `customizations` unless the item already holds this very status of this
 * execution (a repeated event), or a later event.
 */
export async function recordCustomizations(
  table: MetadataTable,
  accountId: string,
  record: CustomizationsRecord,
): Promise<'updated' | 'duplicate' | 'stale' | 'absent'> {
  try {
    await table.doc.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: { accountId },
        UpdateExpression: 'SET #c = :record',
        ConditionExpression:
          'attribute_exists(#accountId) AND (attribute_not_exists(#c) OR ' +
          '(#c.#at <= :at AND NOT (#c.#id = :id AND #c.#status = :status)))',
        ExpressionAttributeNames: {
          '#accountId': 'accountId',
          '#c': 'customizations',
          '#at': 'at',
          '#id': 'pipelineExecutionId',
          '#status': 'status',
        },
        ExpressionAttributeValues: {
          ':record': record,
          ':at': record.at,
          ':id': record.pipelineExecutionId,
          ':status': record.status,
        },
      }),
    );
    return 'updated';
  } catch (err) {
    if (!isConditionalCheckFailed(err)) throw err;
    const item = await getMetadata(table, accountId);
    if (!item) return 'absent';
    const c = item.customizations;
    return c && c.pipelineExecutionId === record.pipelineExecutionId && c.status === record.status
      ? 'duplicate'
      : 'stale';
  }
}

/** Marks the recorded outcome as published (only while the item still holds it). */
async function markNotified(
  table: MetadataTable,
  accountId: string,
  record: CustomizationsRecord,
): Promise<void> {
  try {
    await table.doc.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: { accountId },
        UpdateExpression: 'SET #c.#notifiedAt = :now',
        ConditionExpression: '#c.#id = :id AND #c.#status = :status',
        ExpressionAttributeNames: {
          '#c': 'customizations',
          '#notifiedAt': 'notifiedAt',
          '#id': 'pipelineExecutionId',
          '#status': 'status',
        },
        ExpressionAttributeValues: {
          ':now': nowIso(),
          ':id': record.pipelineExecutionId,
          ':status': record.status,
        },
      }),
    );
  } catch (err) {
    if (!isConditionalCheckFailed(err)) throw err;
  }
}

export function subjectOf(n: CustomizationsNotification): string {
  const who = (n.accountName ?? n.accountId).replace(/[^\x20-\x7e]+/g, '?').slice(0, 40);
  const what = n.failedStage ? `${n.outcome} at ${n.failedStage}` : n.outcome;
  return `Account factory: ${who} customizations ${what}`.slice(0, 99);
}

export async function handlePipelineEvent(
  clients: ResultClients,
  config: ResultConfig,
  event: PipelineEvent,
): Promise<CustomizationsResult> {
  const { pipeline, 'execution-id': executionId, state } = event.detail;
  const accountId = accountIdOf(pipeline, config.pipelinePrefix);
  if (!accountId) return { ignored: `${pipeline} is not an account pipeline of this factory` };
  const at = event.time ?? nowIso();

  if (state === 'STARTED') {
    const recorded = await recordCustomizations(clients.metadata, accountId, {
      status: 'IN_PROGRESS',
      pipelineName: pipeline,
      pipelineExecutionId: executionId,
      at,
    });
    return { accountId, status: 'IN_PROGRESS', recorded };
  }
  const status = ENDED[state];
  if (!status) return { ignored: `state ${state} neither starts nor ends an execution` };

  // The slot first: another account is waiting for it, whatever happens below.
  const holder = pipelineHolder(pipeline, executionId);
  const released = await release(clients.lockDoc, { ...config.lock, holder });
  const woken = await wakeNext(clients.lockDoc, clients.sfn, config.lock);

  const failure = status === 'FAILED' ? await failureOf(clients.codePipeline, pipeline, executionId) : {};
  const record: CustomizationsRecord = {
    status,
    pipelineName: pipeline,
    pipelineExecutionId: executionId,
    ...(failure.failedStage ? { failedStage: failure.failedStage } : {}),
    ...(failure.message ? { message: failure.message } : {}),
    at,
  };
  const recorded = await recordCustomizations(clients.metadata, accountId, record);
  const result: CustomizationsResult = { accountId, status, released, woken, recorded };
  if (status === 'SUPERSEDED') return result;
  const item = await getMetadata(clients.metadata, accountId);
  // A repeated event publishes again only if the first delivery failed before it published.
  if (recorded === 'duplicate' && item?.customizations?.notifiedAt) return result;

  const notification: CustomizationsNotification = {
    kind: 'CUSTOMIZATIONS',
    outcome: status,
    accountId,
    accountName: item?.accountName ?? null,
    requestId: item?.requestId ?? null,
    pipelineName: pipeline,
    pipelineExecutionId: executionId,
    at,
  };
  if (status !== 'SUCCEEDED') {
    if (failure.failedStage) notification.failedStage = failure.failedStage;
    const cause =
      status === 'STOPPED'
        ? 'The customizations pipeline execution was stopped'
        : (failure.message ?? 'The customizations pipeline failed');
    notification.error = {
      name: 'CustomizationsFailed',
      cause,
      ...(failure.failedStage ? { stage: failure.failedStage } : {}),
    };
  }
  const attributes: Record<string, MessageAttributeValue> = {
    kind: { DataType: 'String', StringValue: 'CUSTOMIZATIONS' },
    outcome: { DataType: 'String', StringValue: status },
  };
  await clients.sns.send(
    new PublishCommand({
      TopicArn: status === 'SUCCEEDED' ? config.successTopicArn : config.failureTopicArn,
      Subject: subjectOf(notification),
      Message: JSON.stringify(notification),
      MessageAttributes: attributes,
    }),
  );
  if (recorded === 'updated' || recorded === 'duplicate')
    await markNotified(clients.metadata, accountId, record);
  return { ...result, notification };
}

/**
 * An account pipeline's outcome, counted once: a repeated event (recorded as a
 * duplicate) counts nothing; a superseded execution is neither outcome (the newer
 * one counts).
 */
export function recordCustomizationsMetrics(metrics: Metrics, result: CustomizationsResult): void {
  if (result.recorded === 'duplicate') return;
  if (result.status === 'SUCCEEDED') metrics.addMetric(METRIC.CUSTOMIZATIONS_SUCCEEDED, MetricUnit.Count, 1);
  if (result.status === 'FAILED' || result.status === 'STOPPED')
    metrics.addMetric(METRIC.CUSTOMIZATIONS_FAILED, MetricUnit.Count, 1);
}

export async function handler(event: unknown, context?: Context): Promise<CustomizationsResult> {
  beginInvocation(logger, event, context);
  const input = parseInput(PipelineEventSchema, event, 'Customizations result');
  const result = await withMetrics(metrics, async () => {
    const r = await handlePipelineEvent(
      { metadata: metadataTableFromEnv(doc), lockDoc, sfn, sns, codePipeline },
      configFromEnv(),
      input,
    );
    recordCustomizationsMetrics(metrics, r);
    return r;
  });
  logger.info('customizations result', {
    pipeline: input.detail.pipeline,
    executionId: input.detail['execution-id'],
    state: input.detail.state,
    ...result,
    notification: undefined,
  });
  return result;
}
