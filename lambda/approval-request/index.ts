import type { Context } from 'aws-lambda';
import { MessageAttributeValue, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SendTaskFailureCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { ApprovalDecision, ApprovalItem } from '../shared/approval';
import { createClient } from '../shared/clients';
import { now } from '../shared/clock';
import { OPERATIONS } from '../shared/contracts';
import { flagEnv, requireEnv } from '../shared/env';
import {
  ApprovalExpired,
  ApprovalRejected,
  ApprovalSuperseded,
  isConditionalCheckFailed,
  StaleRequestVersion,
} from '../shared/errors';
import { parseInput } from '../shared/input';
import { beginInvocation, createLogger } from '../shared/logger';
import { createMetadataDocumentClient, getMetadata, metadataTableFromEnv } from '../shared/metadata';
import { formatPlanEntry, planEntryOf } from '../shared/plan';
import { withRemainingTime } from '../shared/retry';
import { AccountRequestSchema } from '../shared/schema';

/**
 * The approval gate's step ('Wait for approval', `.waitForTaskToken`): before any Control
 * Tower slot is asked for, it stores the request version's pending approval (token, plan,
 * requester, expiry) in the approvals table and publishes the approval request, with the
 * plan in the words of `account-factory plan`, to the approvals topic. An approver decides
 * with `account-factory approve|reject` (lambda/shared/approval.ts).
 *
 * A newer version of the request asking for its approval ends the older version's wait
 * (SendTaskFailure ApprovalSuperseded): editing a request starts over.
 *
 * Invoked again with `closed: true` ('Notify not approved', after ApprovalRejected,
 * ApprovalSuperseded or the task's timeout) it records the outcome and publishes that
 * nothing changed, to the approvals topic and (but for a supersession) the failure topic.
 */

const logger = createLogger('approval-request');
const sns = createClient(SNSClient);
const sfn = createClient(SFNClient);
const doc: DynamoDBDocumentClient = createMetadataDocumentClient();

/** SNS: a subject is printable ASCII and shorter than 100 characters. */
const MAX_SUBJECT_LENGTH = 99;

const StateSchema = z.object({
  requestId: z.string().min(1),
  version: z.number().int().nonnegative(),
  validation: z.object({
    operation: z.enum(OPERATIONS),
    request: AccountRequestSchema,
    accountId: z.string().nullish(),
    controlTowerChanges: z.array(z.string()).default([]),
  }),
});

export const ApprovalRequestInputSchema = z.object({
  taskToken: z.string().min(1),
  state: StateSchema,
  execution: z.object({ id: z.string().min(1) }),
});
export type ApprovalRequestInput = z.output<typeof ApprovalRequestInputSchema>;

export const ApprovalClosedInputSchema = z.object({
  closed: z.literal(true),
  state: StateSchema.extend({
    approvalOutcome: z.object({ Error: z.string(), Cause: z.string().nullish() }),
  }),
  execution: z.object({ id: z.string().min(1) }),
});
export type ApprovalClosedInput = z.output<typeof ApprovalClosedInputSchema>;

export interface ApprovalConfig {
  tableName: string;
  topicArn: string;
  failureTopicArn: string;
  timeoutSeconds: number;
  allowSelfApproval: boolean;
}

export function configFromEnv(): ApprovalConfig {
  const timeoutSeconds = Number(requireEnv('APPROVAL_TIMEOUT_SECONDS'));
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds <= 0) {
    throw new Error(`APPROVAL_TIMEOUT_SECONDS must be a whole number of seconds, got ${timeoutSeconds}`);
  }
  return {
    tableName: requireEnv('APPROVALS_TABLE'),
    topicArn: requireEnv('APPROVAL_TOPIC_ARN'),
    failureTopicArn: requireEnv('FAILURE_TOPIC_ARN'),
    timeoutSeconds,
    allowSelfApproval: flagEnv('APPROVAL_ALLOW_SELF'),
  };
}

/** Published to the approvals topic (and, when closed without approval, the failure topic). */
export interface ApprovalNotification {
  kind: 'APPROVAL';
  /**
   * REQUESTED: an approver is asked; REJECTED / EXPIRED: the request ended, nothing changed;
   * SUPERSEDED: a newer version of the request asks for its own approval, this one ended.
   */
  event: 'REQUESTED' | 'REJECTED' | 'EXPIRED' | 'SUPERSEDED';
  requestId: string;
  version: number;
  operation: string;
  accountName: string;
  accountId: string | null;
  requestedBy: string | null;
  executionArn: string;
  /** REQUESTED: the plan's words; the rest: the same, for the record. */
  plan: string;
  expiresAt?: string;
  /** REQUESTED: how to decide. */
  commands?: { approve: string; reject: string };
  /** REJECTED: who, when and why. */
  decision?: ApprovalDecision;
  /** REJECTED / EXPIRED: the error the request ended with. */
  error?: { name: string; cause: string };
  at: string;
}

export interface ApprovalClients {
  sns: SNSClient;
  /** Ends an older version's waiting task (SendTaskFailure ApprovalSuperseded). */
  sfn: SFNClient;
  doc: DynamoDBDocumentClient;
  /** Where the request last applied to the account is read (the plan compares with it). */
  metadataTableName: string;
}

function subject(what: string, name: string): string {
  const who = name.replace(/[^\x20-\x7e]+/g, '?');
  const prefix = `Account factory: ${what} `;
  const room = MAX_SUBJECT_LENGTH - prefix.length;
  return `${prefix}${who.length > room ? `${who.slice(0, room - 3)}...` : who}`;
}

async function publish(
  client: SNSClient,
  topicArn: string,
  subjectLine: string,
  message: ApprovalNotification,
): Promise<void> {
  const attributes: Record<string, MessageAttributeValue> = {
    kind: { DataType: 'String', StringValue: 'APPROVAL' },
    event: { DataType: 'String', StringValue: message.event },
    operation: { DataType: 'String', StringValue: message.operation },
  };
  await client.send(
    new PublishCommand({
      TopicArn: topicArn,
      Subject: subjectLine,
      Message: JSON.stringify(message),
      MessageAttributes: attributes,
    }),
  );
}

/** The plan entry of the version: what it changes against the request last applied to the account. */
async function planOf(clients: ApprovalClients, state: ApprovalRequestInput['state']) {
  const { validation } = state;
  const accountId = validation.accountId ?? null;
  const applied = accountId
    ? await getMetadata({ doc: clients.doc, tableName: clients.metadataTableName }, accountId)
    : undefined;
  const entry = planEntryOf({
    requestId: state.requestId,
    operation: validation.operation,
    request: validation.request,
    previous: applied?.status === 'ACTIVE' ? applied.request : undefined,
    accountId,
    controlTowerChanges: validation.controlTowerChanges,
  });
  return { entry, text: formatPlanEntry(entry).join('\n') };
}

/** Stores the pending approval and publishes the approval request. */
export async function requestApproval(
  clients: ApprovalClients,
  input: ApprovalRequestInput,
  config: ApprovalConfig,
): Promise<ApprovalItem> {
  const { state } = input;
  const { validation } = state;
  const { entry, text } = await planOf(clients, state);
  const at = now();
  const item: ApprovalItem = {
    requestId: state.requestId,
    version: state.version,
    executionArn: input.execution.id,
    taskToken: input.taskToken,
    operation: validation.operation,
    accountName: validation.request.accountName,
    accountId: validation.accountId ?? null,
    plan: entry,
    planText: text,
    ...(validation.request.requestedBy ? { requestedBy: validation.request.requestedBy } : {}),
    requestedAt: at.toISOString(),
    expiresAt: new Date(at.getTime() + config.timeoutSeconds * 1000).toISOString(),
    allowSelfApproval: config.allowSelfApproval,
    status: 'PENDING',
  };
  let replaced: ApprovalItem | undefined;
  try {
    // A retry of the task (a new token) replaces its own item; an older version never replaces a newer one.
    const out = await clients.doc.send(
      new PutCommand({
        TableName: config.tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(requestId) OR #version <= :version',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':version': state.version },
        ReturnValues: 'ALL_OLD',
      }),
    );
    replaced = out.Attributes as ApprovalItem | undefined;
  } catch (err) {
    if (!isConditionalCheckFailed(err)) throw err;
    throw new StaleRequestVersion(
      `Request ${state.requestId} version ${state.version} was superseded: a newer version waits for its own approval`,
    );
  }
  if (replaced?.status === 'PENDING' && replaced.taskToken && replaced.version < item.version) {
    await supersede(clients, replaced, item);
  }
  const message: ApprovalNotification = {
    kind: 'APPROVAL',
    event: 'REQUESTED',
    requestId: item.requestId,
    version: item.version,
    operation: item.operation,
    accountName: item.accountName,
    accountId: item.accountId,
    requestedBy: item.requestedBy ?? null,
    executionArn: item.executionArn,
    plan: text,
    expiresAt: item.expiresAt,
    commands: {
      approve: `account-factory approve ${item.requestId} --comment "<why>"`,
      reject: `account-factory reject ${item.requestId} --comment "<why>"`,
    },
    at: item.requestedAt,
  };
  await publish(clients.sns, config.topicArn, subject('approval needed for', item.accountName), message);
  logger.info('Approval requested', {
    requestId: item.requestId,
    version: item.version,
    operation: item.operation,
    expiresAt: item.expiresAt,
  });
  return item;
}

/**
 * Ends an older version's wait: its execution goes to 'Notify not approved' and changes
 * nothing. A task already gone (expired, or its execution stopped) is left as it is.
 */
async function supersede(clients: ApprovalClients, older: ApprovalItem, newer: ApprovalItem): Promise<void> {
  try {
    await clients.sfn.send(
      new SendTaskFailureCommand({
        taskToken: older.taskToken,
        error: ApprovalSuperseded.errorName,
        cause: `request ${older.requestId} version ${newer.version} was written while version ${older.version} waited for approval: it asks for its own`,
      }),
    );
  } catch (err) {
    const name = (err as { name?: string }).name ?? '';
    if (!['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist'].includes(name)) throw err;
    logger.info('The superseded approval was no longer waiting', { requestId: older.requestId, name });
  }
}

/** Records a rejection, an expiry or a supersession, and notifies that nothing changed. */
export async function closeApproval(
  clients: ApprovalClients,
  input: ApprovalClosedInput,
  config: ApprovalConfig,
): Promise<ApprovalNotification> {
  const { state } = input;
  const outcome = state.approvalOutcome;
  const rejected = outcome.Error === ApprovalRejected.errorName;
  const superseded = outcome.Error === ApprovalSuperseded.errorName;
  let decision: ApprovalDecision | undefined;
  if (rejected) {
    try {
      decision = JSON.parse(outcome.Cause ?? '') as ApprovalDecision;
    } catch {
      decision = undefined;
    }
  }
  const at = now().toISOString();
  try {
    await clients.doc.send(
      new UpdateCommand({
        TableName: config.tableName,
        Key: { requestId: state.requestId },
        UpdateExpression: 'SET #status = :status, #closedAt = :at REMOVE #token',
        // Only this execution's approval: a newer version's stays as it is.
        ConditionExpression: '#executionArn = :arn',
        ExpressionAttributeNames: {
          '#status': 'status',
          '#closedAt': 'closedAt',
          '#token': 'taskToken',
          '#executionArn': 'executionArn',
        },
        ExpressionAttributeValues: {
          ':status': rejected ? 'REJECTED' : superseded ? 'SUPERSEDED' : 'EXPIRED',
          ':at': at,
          ':arn': input.execution.id,
        },
      }),
    );
  } catch (err) {
    if (!isConditionalCheckFailed(err)) throw err;
    logger.info('A newer version holds the approval item: not recorded', { requestId: state.requestId });
  }
  const { text } = await planOf(clients, state);
  const error = rejected
    ? {
        name: ApprovalRejected.errorName,
        cause: decision
          ? `rejected by ${decision.by} at ${decision.at}${decision.comment ? `: ${decision.comment}` : ''}`
          : (outcome.Cause ?? 'rejected'),
      }
    : superseded
      ? { name: ApprovalSuperseded.errorName, cause: outcome.Cause ?? 'a newer version was written' }
      : {
          name: ApprovalExpired.errorName,
          cause: `no approver decided within ${config.timeoutSeconds} seconds`,
        };
  const message: ApprovalNotification = {
    kind: 'APPROVAL',
    event: rejected ? 'REJECTED' : superseded ? 'SUPERSEDED' : 'EXPIRED',
    requestId: state.requestId,
    version: state.version,
    operation: state.validation.operation,
    accountName: state.validation.request.accountName,
    accountId: state.validation.accountId ?? null,
    requestedBy: state.validation.request.requestedBy ?? null,
    executionArn: input.execution.id,
    plan: text,
    ...(decision ? { decision } : {}),
    error,
    at,
  };
  const what = rejected ? 'rejected' : superseded ? 'superseded' : 'approval expired';
  const line = subject(`${what}, nothing changed:`, message.accountName);
  await publish(clients.sns, config.topicArn, line, message);
  // A superseded version is no failure: the newer one goes on.
  if (!superseded) await publish(clients.sns, config.failureTopicArn, line, message);
  logger.info('Approval closed without approval', { requestId: state.requestId, event: message.event });
  return message;
}

export const handler = withRemainingTime(async (event: unknown, context?: Context): Promise<unknown> => {
  beginInvocation(logger, event, context);
  const config = configFromEnv();
  const clients: ApprovalClients = {
    sns,
    sfn,
    doc,
    metadataTableName: metadataTableFromEnv(doc).tableName,
  };
  if ((event as { closed?: unknown } | null)?.closed === true) {
    return closeApproval(
      clients,
      parseInput(ApprovalClosedInputSchema, event, 'Notify not approved'),
      config,
    );
  }
  const item = await requestApproval(
    clients,
    parseInput(ApprovalRequestInputSchema, event, 'Wait for approval'),
    config,
  );
  return { requestId: item.requestId, version: item.version, expiresAt: item.expiresAt };
});
