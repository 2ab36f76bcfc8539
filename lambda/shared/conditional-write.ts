import { isConditionalCheckFailed } from './errors';

/** Any SDK v3 client (DynamoDBClient, DynamoDBDocumentClient). */
interface Sender {
  send(command: never): Promise<unknown>;
}

/**
 * Sends a conditional write (UpdateItem, PutItem, DeleteItem): true when it was written,
 * false when its condition failed (ConditionalCheckFailedException). Any other error is
 * thrown.
 */
export async function writeIf(client: Sender, command: object): Promise<boolean> {
  try {
    await client.send(command as never);
    return true;
  } catch (err) {
    if (isConditionalCheckFailed(err)) return false;
    throw err;
  }
}
