import type { Context } from 'aws-lambda';
import { MessageAttributeValue, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { z } from 'zod';
import { ApprovalDecisionSchema } from '../shared/approval';
import { createClient } from '../shared/clients';
import { now, nowIso } from '../shared/clock';
import { OPERATIONS, type NotificationMessage, type Operation } from '../shared/contracts';
import { requireEnv } from '../shared/env';
import { parseInput } from '../shared/input';
import { createLogger, beginInvocation } from '../shared/logger';
import { withRemainingTime } from '../shared/retry';
import {
  createMetrics,
  ERROR_NAME_DIMENSION,
  METRIC,
  MetricUnit,
  Metrics,
  withMetrics,
} from '../shared/metrics';
import {
  createMetadataDocumentClient,
  MetadataTable,
  metadataTableFromEnv,
  updateOutcome,
} from '../shared/metadata';

/**
 * Step 11, Notify: publishes the outcome of the execution to the success or failure
 * topic, and records it in the account's metadata item. A publish that fails fails
 * the step.
 */

const logger = createLogger('notify');
const sns = createClient(SNSClient);
const doc = createMetadataDocumentClient();
const metrics = createMetrics();

/** SNS: a subject is ASCII, without line breaks, and shorter than 100 characters. */
export const MAX_SUBJECT_LENGTH = 99;

/**
 * What Notify reads: most of the state is optional, since a failure can happen at any
 * step, and a part that cannot be read is left out rather than failing the notification.
 */
export const NotifyInputSchema = z.object({
  outcome: z.enum(['SUCCEEDED', 'FAILED', 'REMOVED']),
  state: z.object({
    requestId: z.string().min(1),
    version: z.number().int().nonnegative(),
    /** The request as written: read leniently, for its name only. */
    request: z.unknown().optional(),
    validation: z
      .object({
        operation: z.enum(OPERATIONS),
        accountId: z.string().nullish(),
        request: z.object({ accountName: z.string() }).partial().optional(),
      })
      .optional()
      .catch(undefined),
    account: z
      .object({ accountId: z.string().min(1), name: z.string().optional() })
      .optional()
      .catch(undefined),
    provisioningStatus: z
      .object({ elapsedSeconds: z.number().nonnegative() })
      .partial()
      .optional()
      .catch(undefined),
    featureOptions: z
      .object({ skippedRegions: z.array(z.object({ region: z.string(), reason: z.string() })) })
      .partial()
      .optional()
      .catch(undefined),
    error: z.object({ Error: z.string(), Cause: z.string().nullish() }).optional(),
    approval: ApprovalDecisionSchema.optional().catch(undefined),
  }),
  execution: z.object({ id: z.string().min(1), startTime: z.string().optional() }),
});
export type NotifyInput = z.output<typeof NotifyInputSchema>;

export interface NotifyConfig {
  successTopicArn: string;
  failureTopicArn: string;
}

export function configFromEnv(): NotifyConfig {
  return {
    successTopicArn: requireEnv('SUCCESS_TOPIC_ARN'),
    failureTopicArn: requireEnv('FAILURE_TOPIC_ARN'),
  };
}

/** A Lambda failure's Cause is `{"errorMessage", "errorType", "trace"}`: its message; anything else as is. */
export function causeMessage(cause: string | null | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as unknown;
    const message = (parsed as { errorMessage?: unknown } | null)?.errorMessage;
    if (typeof message === 'string') return message;
  } catch {
    // Not JSON: a Step Functions or service error message.
  }
  return cause;
}

/**
 * The field an InvalidAccountRequest message starts with (`sso.email: must be ...` ->
 * `sso.email`). Issues are joined with '; ', so a field may hold ':' or ';' (tag keys
 * such as `aws:x` or `semi;colon`) but not '; '.
 */
export function leadingField(message: string): string | undefined {
  return /^(\S(?:(?!; ).)*?):\s/.exec(message)?.[1];
}

function nameOf(request: unknown): string | null {
  const name = (request as { accountName?: unknown } | null | undefined)?.accountName;
  return typeof name === 'string' && name.length > 0 ? name : null;
}

function secondsSince(startTime: string | undefined): number | null {
  if (!startTime) return null;
  const start = Date.parse(startTime);
  if (Number.isNaN(start)) return null;
  return Math.max(0, Math.round((now().getTime() - start) / 1000));
}

export function buildMessage(input: NotifyInput): NotificationMessage {
  const { state, outcome } = input;
  const message: NotificationMessage = {
    outcome,
    requestId: state.requestId,
    version: state.version,
    operation: (state.validation?.operation ?? null) as Operation | null,
    accountId: state.account?.accountId ?? state.validation?.accountId ?? null,
    accountName: state.account?.name ?? state.validation?.request?.accountName ?? nameOf(state.request),
    executionArn: input.execution.id,
    durations: {
      totalSeconds: secondsSince(input.execution.startTime),
      controlTowerSeconds: state.provisioningStatus?.elapsedSeconds ?? null,
    },
    at: nowIso(),
  };
  if (state.approval) message.approval = state.approval;
  const skipped = state.featureOptions?.skippedRegions;
  if (skipped?.length) message.skippedRegions = skipped;
  if (outcome === 'FAILED') {
    const name = state.error?.Error ?? 'UnknownError';
    const cause = state.error
      ? causeMessage(state.error.Cause)
      : 'The execution failed without a recorded error';
    const field = name === 'InvalidAccountRequest' ? leadingField(cause) : undefined;
    message.error = field ? { name, cause, field } : { name, cause };
  }
  return message;
}

/** `Account factory: <name or request id> <outcome>`: printable ASCII, at most MAX_SUBJECT_LENGTH. */
export function subjectOf(message: NotificationMessage): string {
  const who = (message.accountName ?? message.requestId).replace(/[^\x20-\x7e]+/g, '?');
  const what =
    message.error?.name === 'StaleRequestVersion' ? `${message.outcome} (superseded)` : message.outcome;
  const suffix = ` ${what}`;
  const prefix = 'Account factory: ';
  const room = MAX_SUBJECT_LENGTH - prefix.length - suffix.length;
  const shortWho = who.length > room ? `${who.slice(0, room - 3)}...` : who;
  return `${prefix}${shortWho}${suffix}`;
}

export interface NotifyClients {
  sns: SNSClient;
  metadata: MetadataTable;
}

export async function notify(
  clients: NotifyClients,
  input: NotifyInput,
  config: NotifyConfig,
): Promise<NotificationMessage> {
  const message = buildMessage(input);
  // The metadata first: it is idempotent, so when the publish fails and the step is
  // retried, the retry publishes once and the item is the same.
  if (message.accountId) {
    const recorded = await updateOutcome(clients.metadata, message.accountId, {
      outcome: message.outcome === 'FAILED' ? 'FAILED' : 'SUCCEEDED',
      error: message.error ? { name: message.error.name, cause: message.error.cause } : undefined,
      executionArn: input.execution.id,
      requestVersion: message.version,
    });
    if (recorded !== 'updated')
      logger.info('Outcome not recorded in metadata', { accountId: message.accountId, recorded });
  }
  const attributes: Record<string, MessageAttributeValue> = {
    outcome: { DataType: 'String', StringValue: message.outcome },
  };
  if (message.operation) attributes.operation = { DataType: 'String', StringValue: message.operation };
  await clients.sns.send(
    new PublishCommand({
      TopicArn: message.outcome === 'FAILED' ? config.failureTopicArn : config.successTopicArn,
      Subject: subjectOf(message),
      Message: JSON.stringify(message),
      MessageAttributes: attributes,
    }),
  );
  logger.info('Published notification', { outcome: message.outcome, requestId: message.requestId });
  return message;
}

/** The metric of each successful operation. */
const SUCCEEDED_METRIC: Record<Operation, string> = {
  CREATE: METRIC.ACCOUNTS_VENDED,
  UPDATE: METRIC.ACCOUNTS_UPDATED,
  IMPORT: METRIC.ACCOUNTS_IMPORTED,
  ADOPT: METRIC.ACCOUNTS_ADOPTED,
  CUSTOMIZE: METRIC.ACCOUNTS_CUSTOMIZED,
  REMOVE: METRIC.ACCOUNTS_REMOVED,
};

/**
 * The metrics of a published notification: the account vended (updated, imported,
 * customized, removed), or the request failed and by which error; and how long the
 * request took. A request superseded by a newer version of itself (StaleRequestVersion)
 * counts among the step failures by name, not among the failed requests: the newer
 * version applies it.
 */
export function recordOutcomeMetrics(metrics: Metrics, message: NotificationMessage): void {
  if (message.outcome === 'FAILED') {
    const name = message.error?.name ?? 'UnknownError';
    if (name !== 'StaleRequestVersion') metrics.addMetric(METRIC.REQUESTS_FAILED, MetricUnit.Count, 1);
    const byName = metrics.singleMetric();
    byName.addDimension(ERROR_NAME_DIMENSION, name);
    byName.addMetric(METRIC.STEP_FAILURES, MetricUnit.Count, 1);
  } else {
    const operation = message.outcome === 'REMOVED' ? 'REMOVE' : message.operation;
    if (operation) metrics.addMetric(SUCCEEDED_METRIC[operation], MetricUnit.Count, 1);
  }
  if (message.durations.totalSeconds !== null)
    metrics.addMetric(METRIC.REQUEST_DURATION, MetricUnit.Seconds, message.durations.totalSeconds);
}

export const handler = withRemainingTime(
  async (event: unknown, context?: Context): Promise<NotificationMessage> => {
    beginInvocation(logger, event, context);
    const input = parseInput(NotifyInputSchema, event, 'Notify');
    return withMetrics(metrics, async () => {
      const message = await notify({ sns, metadata: metadataTableFromEnv(doc) }, input, configFromEnv());
      recordOutcomeMetrics(metrics, message);
      return message;
    });
  },
);
