import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { z } from 'zod';
import { respond, type ResourceResult } from '../shared/cfn-response';
import { createClient } from '../shared/clients';
import { beginInvocation, createLogger } from '../shared/logger';
import { deleteRequestItem, requestKey, writeRequestItem } from '../shared/request-item';

/**
 * The AccountRequest custom resource (Custom::AccountRequest): writes the request item on
 * create and update, deletes it on delete while it is still this resource's source. The
 * item is written by lambda/shared/request-item.ts, the code the local engine runs too.
 *
 * CloudFormation passes every property as a string, so the request travels as JSON.
 * The response goes to the pre-signed ResponseURL
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html).
 */

const logger = createLogger('request-item');
/** The request holds emails and names: keep them out of the stack's outputs and events. */
const NO_ECHO = true;
const ddb = createClient(DynamoDBClient);

const PropertiesSchema = z.object({
  TableName: z.string().min(1),
  /** The validated request, as JSON. */
  Request: z.string().min(2),
  Source: z.string().min(1),
});

/** What the resource does for one CloudFormation event. */
export async function onEvent(
  client: DynamoDBClient,
  event: CloudFormationCustomResourceEvent,
  now: () => Date = () => new Date(),
): Promise<ResourceResult> {
  const props = PropertiesSchema.parse(event.ResourceProperties);
  const request: unknown = JSON.parse(props.Request);
  const id = requestKey(request);
  if (event.RequestType === 'Delete') {
    // The request of the deleted resource, from its own properties: when the email changed
    // (a new physical id), CloudFormation deletes the old one, which removes the old item.
    await deleteRequestItem(client, props.TableName, event.PhysicalResourceId, props.Source);
    return { PhysicalResourceId: event.PhysicalResourceId };
  }
  const written = await writeRequestItem(client, {
    tableName: props.TableName,
    request,
    source: props.Source,
    now: now(),
  });
  return { PhysicalResourceId: id, Data: { Version: String(written.version) } };
}

export async function handler(event: CloudFormationCustomResourceEvent, context?: Context): Promise<void> {
  beginInvocation(logger, event, context);
  try {
    const result = await onEvent(ddb, event);
    logger.info('request item', { requestType: event.RequestType, id: result.PhysicalResourceId });
    await respond(event, 'SUCCESS', result, NO_ECHO);
  } catch (err) {
    logger.error('request item failed', { requestType: event.RequestType, error: (err as Error).message });
    await respond(event, 'FAILED', { Reason: `${(err as Error).name}: ${(err as Error).message}` }, NO_ECHO);
  }
}
