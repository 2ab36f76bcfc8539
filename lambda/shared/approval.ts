import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  ApprovalExpired,
  ApprovalRejected,
  InvalidApprovalComment,
  isConditionalCheckFailed,
  NoPendingApproval,
  SelfApprovalRefused,
} from './errors';
import { z } from 'zod';
import type { PlanEntry } from './plan';

/**
 * Approvals: what a request version waiting for an approval looks like in the approvals
 * table (written by the approval-request step), and how an approver decides it
 * (`account-factory approve` / `reject`, or the local engine's approver): the decision is
 * claimed in the table, then sent to the waiting task (SendTaskSuccess / SendTaskFailure).
 */

export type ApprovalStatus = 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED' | 'SUPERSEDED';

/** An item of the approvals table (partition key `requestId`): the request's latest approval. */
export interface ApprovalItem {
  requestId: string;
  version: number;
  executionArn: string;
  /** The waiting task's token (removed once decided or closed). */
  taskToken?: string;
  operation: string;
  accountName: string;
  accountId: string | null;
  /** What the version does, in the words of `account-factory plan`. */
  plan: PlanEntry;
  /** The plan entry as text (formatPlanEntry). */
  planText: string;
  /** Who asked for the version (the request's `requestedBy`), when it says. */
  requestedBy?: string;
  requestedAt: string;
  /** When the waiting task times out: the approval expires then. */
  expiresAt: string;
  /** Whether `requestedBy` may approve it (the factory's `allowSelfApproval`). */
  allowSelfApproval: boolean;
  status: ApprovalStatus;
  decidedBy?: string;
  decidedAt?: string;
  comment?: string;
}

/**
 * A decision, as the waiting task receives it: SendTaskSuccess's output (the workflow keeps
 * it at `$.approval`, the metadata and the notifications carry it), or the JSON cause of
 * SendTaskFailure's ApprovalRejected.
 */
export interface ApprovalDecision {
  decision: 'APPROVED' | 'REJECTED';
  requestId: string;
  version: number;
  /** The approver's identity (an IAM principal ARN). */
  by: string;
  at: string;
  comment?: string;
}

/** An ApprovalDecision as the workflow state carries it (read by Store metadata and Notify). */
export const ApprovalDecisionSchema = z.object({
  decision: z.enum(['APPROVED', 'REJECTED']),
  requestId: z.string(),
  version: z.number().int().nonnegative(),
  by: z.string().min(1),
  at: z.string().min(1),
  comment: z.string().optional(),
});

/** At most this many characters of comment (it travels in SendTaskFailure's cause and SNS messages). */
export const MAX_COMMENT_LENGTH = 1024;

/** SendTask* errors that mean the waiting task is gone (timed out, or its execution ended). */
const TASK_GONE = ['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist'];

/**
 * Whether an approver is the principal a request names as `requestedBy` (case-insensitive):
 * the same ARN; an assumed-role session whose session name is it (an Identity Center user's
 * email) or whose role it names; an IAM user of that name or ARN.
 */
export function sameIdentity(requestedBy: string, approverArn: string): boolean {
  const asked = requestedBy.trim().toLowerCase();
  const approver = approverArn.trim().toLowerCase();
  if (asked === approver) return true;
  const session = /^arn:[^:]+:sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/.exec(approver);
  if (session) {
    const [, account, role, name] = session;
    if (asked === name) return true;
    const askedRole = /^arn:[^:]+:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(asked);
    if (askedRole && askedRole[1] === account && askedRole[2] === role) return true;
  }
  const user = /^arn:[^:]+:iam::\d{12}:user\/(?:.*\/)?([^/]+)$/.exec(approver);
  return user !== null && asked === user[1];
}

export async function getApproval(
  doc: DynamoDBDocumentClient,
  tableName: string,
  requestId: string,
): Promise<ApprovalItem | undefined> {
  const out = await doc.send(
    new GetCommand({ TableName: tableName, Key: { requestId }, ConsistentRead: true }),
  );
  return out.Item as ApprovalItem | undefined;
}

/** Every approval waiting for a decision, oldest first. */
export async function listPendingApprovals(
  doc: DynamoDBDocumentClient,
  tableName: string,
): Promise<ApprovalItem[]> {
  const items: ApprovalItem[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(
      new ScanCommand({
        TableName: tableName,
        ConsistentRead: true,
        FilterExpression: '#status = :pending',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':pending': 'PENDING' },
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...((out.Items ?? []) as ApprovalItem[]));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return items.sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
}

export interface DecideInput {
  requestId: string;
  decision: 'APPROVED' | 'REJECTED';
  /** The approver's identity (sts:GetCallerIdentity's ARN). */
  approver: string;
  comment?: string;
  now: Date;
}

export interface DecideClients {
  doc: DynamoDBDocumentClient;
  sfn: SFNClient;
  tableName: string;
}

/**
 * Decides the request's pending approval: refuses (changing nothing) when there is none
 * (NoPendingApproval), when it has expired (ApprovalExpired), or when the approver asked for
 * it and self-approval is off (SelfApprovalRefused). Else claims the decision in the table
 * (one decider wins), then sends it to the waiting task; a task already gone marks the
 * approval EXPIRED, and any other failure to send puts it back to PENDING.
 */
export async function decideApproval(
  clients: DecideClients,
  input: DecideInput,
): Promise<{ item: ApprovalItem; decision: ApprovalDecision }> {
  const comment = input.comment?.trim() || undefined;
  if (comment && comment.length > MAX_COMMENT_LENGTH) {
    throw new InvalidApprovalComment(
      `the comment is ${comment.length} characters: at most ${MAX_COMMENT_LENGTH}`,
    );
  }
  const item = await getApproval(clients.doc, clients.tableName, input.requestId);
  if (!item || item.status !== 'PENDING' || !item.taskToken) {
    throw new NoPendingApproval(
      item
        ? `request ${input.requestId} version ${item.version} has no approval waiting: it was ${item.status.toLowerCase()}` +
            `${item.decidedBy ? ` by ${item.decidedBy}` : ''}${item.decidedAt ? ` at ${item.decidedAt}` : ''}`
        : `request ${input.requestId} has no approval waiting (none was asked for it)`,
    );
  }
  if (input.now.getTime() >= Date.parse(item.expiresAt)) {
    throw new ApprovalExpired(
      `the approval of request ${item.requestId} version ${item.version} expired at ${item.expiresAt}: write the request again to ask anew`,
    );
  }
  if (item.requestedBy && !item.allowSelfApproval && sameIdentity(item.requestedBy, input.approver)) {
    throw new SelfApprovalRefused(
      `${input.approver} asked for request ${item.requestId} version ${item.version} (requestedBy ${item.requestedBy}) ` +
        'and cannot approve or reject it: another approver must decide',
    );
  }
  const decision: ApprovalDecision = {
    decision: input.decision,
    requestId: item.requestId,
    version: item.version,
    by: input.approver,
    at: input.now.toISOString(),
    ...(comment ? { comment } : {}),
  };
  const token = item.taskToken;
  await setStatus(clients, item, 'PENDING', input.decision, decision);
  try {
    if (input.decision === 'APPROVED') {
      await clients.sfn.send(
        new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(decision) }),
      );
    } else {
      await clients.sfn.send(
        new SendTaskFailureCommand({
          taskToken: token,
          error: ApprovalRejected.errorName,
          cause: JSON.stringify(decision),
        }),
      );
    }
  } catch (err) {
    const name = (err as { name?: string }).name ?? '';
    if (TASK_GONE.includes(name)) {
      await setStatus(clients, item, input.decision, 'EXPIRED');
      throw new ApprovalExpired(
        `the approval of request ${item.requestId} version ${item.version} is no longer waiting (${name}): ` +
          'it expired, or its execution ended',
      );
    }
    await setStatus(clients, item, input.decision, 'PENDING');
    throw err;
  }
  return {
    item: { ...item, status: input.decision, decidedBy: decision.by, decidedAt: decision.at, comment },
    decision,
  };
}

/** Moves this approval (same version and token) from one status to another. */
async function setStatus(
  clients: DecideClients,
  item: ApprovalItem,
  from: ApprovalStatus,
  to: ApprovalStatus,
  decision?: ApprovalDecision,
): Promise<void> {
  const names: Record<string, string> = { '#status': 'status', '#version': 'version', '#token': 'taskToken' };
  const values: Record<string, unknown> = {
    ':from': from,
    ':to': to,
    ':version': item.version,
    ':token': item.taskToken,
  };
  const sets = ['#status = :to'];
  const removes: string[] = [];
  if (decision) {
    names['#decidedBy'] = 'decidedBy';
    names['#decidedAt'] = 'decidedAt';
    values[':by'] = decision.by;
    values[':at'] = decision.at;
    sets.push('#decidedBy = :by', '#decidedAt = :at');
    names['#comment'] = 'comment';
    if (decision.comment) {
      values[':comment'] = decision.comment;
      sets.push('#comment = :comment');
    } else removes.push('#comment');
  } else if (to === 'PENDING') {
    names['#decidedBy'] = 'decidedBy';
    names['#decidedAt'] = 'decidedAt';
    names['#comment'] = 'comment';
    removes.push('#decidedBy', '#decidedAt', '#comment');
  }
  try {
    await clients.doc.send(
      new UpdateCommand({
        TableName: clients.tableName,
        Key: { requestId: item.requestId },
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: '#status = :from AND #version = :version AND #token = :token',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  } catch (err) {
    if (!isConditionalCheckFailed(err)) throw err;
    throw new NoPendingApproval(
      `request ${item.requestId} version ${item.version}: its approval changed meanwhile (decided by someone else, ` +
        'or a newer version asks for its own): nothing was decided',
    );
  }
}
