import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';

/** An in-memory DynamoDB (dynalite) with a semaphore table, for tests that need real conditional writes. */
export interface SemaphoreFixture {
  ddb: DynamoDBDocumentClient;
  table: string;
  close(): Promise<void>;
}

let tables = 0;

export async function startSemaphoreFixture(): Promise<SemaphoreFixture> {
  const server: Server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  // Calls still in flight when a test ends (a Promise.all that rejected early) finish
  // before the server closes: dynalite would otherwise go on with them after the test
  // file's environment is torn down.
  const inFlight = new Set<Promise<unknown>>();
  client.middlewareStack.add(
    (next) => (args) => {
      const call = next(args);
      inFlight.add(call);
      void call.then(
        () => inFlight.delete(call),
        () => inFlight.delete(call),
      );
      return call;
    },
    { step: 'initialize', name: 'trackInFlight' },
  );
  const table = `semaphore-${++tables}`;
  await client.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  return {
    ddb: DynamoDBDocumentClient.from(client),
    table,
    close: async () => {
      while (inFlight.size) await Promise.allSettled([...inFlight]);
      client.destroy();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

export const arn = (name: string) => `arn:aws:states:us-east-1:111111111111:execution:provisioning:${name}`;
