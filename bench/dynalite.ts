import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';

/**
 * An in-process DynamoDB (dynalite) for the bench's look-up and CLI figures, whose
 * client counts every command it sends (DynamoDB calls are AWS calls too).
 */
export interface CountingDynamoDb {
  readonly doc: DynamoDBDocumentClient;
  /** Commands sent so far. */
  calls(): number;
  createTable(name: string, keys: { pk: string; sk?: string }): Promise<void>;
  close(): Promise<void>;
}

export async function startCountingDynamoDb(): Promise<CountingDynamoDb> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  let calls = 0;
  client.middlewareStack.add(
    (next) => (args) => {
      calls += 1;
      return next(args);
    },
    { step: 'initialize', name: 'countCalls' },
  );
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return {
    doc,
    calls: () => calls,
    async createTable(name, keys) {
      await client.send(
        new CreateTableCommand({
          TableName: name,
          AttributeDefinitions: [
            { AttributeName: keys.pk, AttributeType: 'S' },
            ...(keys.sk ? [{ AttributeName: keys.sk, AttributeType: 'S' as const }] : []),
          ],
          KeySchema: [
            { AttributeName: keys.pk, KeyType: 'HASH' },
            ...(keys.sk ? [{ AttributeName: keys.sk, KeyType: 'RANGE' as const }] : []),
          ],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    },
    async close() {
      client.destroy();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
