import {
  AttributeValue,
  DeleteItemCommand,
  DeleteItemCommandInput,
  DynamoDBClient,
  UpdateItemCommand,
  UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { isConditionalCheckFailed } from './errors';

/**
 * The one writer of request items: the AccountRequest custom resource (lambda/request-item)
 * and the local engine (local/engine/request-stream.ts) both write through here, so the
 * item a deployed factory sees is the item the local run sees.
 *
 * Each write sets the request, its source and `updatedAt` (the time of the write) and adds 1
 * to `version`. A request removed and written again starts over at version 1; its
 * `updatedAt` tells the two lives apart, so their executions get different names (Step
 * Functions refuses a name used in the last 90 days, whatever the input: "An execution
 * can't use the name of another execution for 90 days"; "When the original execution is
 * closed, the ExecutionAlreadyExists message is returned regardless of input",
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html).
 */
export interface RequestWrite {
  tableName: string;
  /** The request as written (validated again by the workflow). */
  request: unknown;
  /** Where the request comes from: `construct:<path>`, `file:<name>`, `cli`, `local`. */
  source: string;
  /** The time of the write: the item's updatedAt. */
  now: Date;
}

/** The table key of a request as written (before validation: a bad request still gets an id). */
export function requestKey(request: unknown): string {
  const email = (request as { accountEmail?: unknown })?.accountEmail;
  if (typeof email === 'string' && email.trim()) return email.trim().toLowerCase();
  throw new Error('A request needs an accountEmail to be written: it is the requests table key');
}

/** The UpdateItem that writes one version of a request. */
export function requestItemUpdate(write: RequestWrite): UpdateItemCommandInput {
  return {
    TableName: write.tableName,
    Key: marshall({ id: requestKey(write.request) }),
    UpdateExpression: 'SET #request = :request, #source = :source, #updatedAt = :now ADD #version :one',
    ExpressionAttributeNames: {
      '#request': 'request',
      '#source': 'source',
      '#updatedAt': 'updatedAt',
      '#version': 'version',
    },
    ExpressionAttributeValues: marshall(
      {
        ':request': write.request,
        ':source': write.source,
        ':now': write.now.toISOString(),
        ':one': 1,
      },
      { removeUndefinedValues: true },
    ),
    ReturnValues: 'ALL_NEW',
  };
}

/** Writes one version of a request; returns its id, its version and the item as written. */
export async function writeRequestItem(
  ddb: DynamoDBClient,
  write: RequestWrite,
): Promise<{ id: string; version: number; item: Record<string, AttributeValue> }> {
  const out = await ddb.send(new UpdateItemCommand(requestItemUpdate(write)));
  const item = out.Attributes ?? {};
  return { id: requestKey(write.request), version: Number(item.version?.N ?? 0), item };
}

/**
 * The DeleteItem that removes a request. With `source`, only while the item is still that
 * source's (a request moved to another construct or file stays).
 */
export function requestItemDelete(tableName: string, id: string, source?: string): DeleteItemCommandInput {
  return {
    TableName: tableName,
    Key: marshall({ id }),
    ...(source !== undefined
      ? {
          ConditionExpression: '#source = :source',
          ExpressionAttributeNames: { '#source': 'source' },
          ExpressionAttributeValues: marshall({ ':source': source }),
        }
      : {}),
    ReturnValues: 'ALL_OLD',
  };
}

/**
 * Removes a request; returns the item removed, or undefined when there was none or it
 * belongs to another source now.
 */
export async function deleteRequestItem(
  ddb: DynamoDBClient,
  tableName: string,
  id: string,
  source?: string,
): Promise<Record<string, AttributeValue> | undefined> {
  try {
    const out = await ddb.send(new DeleteItemCommand(requestItemDelete(tableName, id, source)));
    return out.Attributes;
  } catch (err) {
    if (isConditionalCheckFailed(err)) return undefined;
    throw err;
  }
}
