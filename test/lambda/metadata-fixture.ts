import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import type { StepPayload, ValidationResult } from '../../lambda/shared/contracts';
import type { MetadataTable } from '../../lambda/shared/metadata';
import type { AccountRequest } from '../../lambda/shared/schema';

/** An in-memory DynamoDB (dynalite) with a metadata table and its email index: real conditional writes. */
export interface MetadataFixture {
  table: MetadataTable;
  close(): Promise<void>;
}

export async function startMetadataFixture(): Promise<MetadataFixture> {
  const server: Server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  await client.send(
    new CreateTableCommand({
      TableName: 'metadata',
      AttributeDefinitions: [
        { AttributeName: 'accountId', AttributeType: 'S' },
        { AttributeName: 'email', AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: 'accountId', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'by-email',
          KeySchema: [{ AttributeName: 'email', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  return {
    table: {
      doc: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
      tableName: 'metadata',
      emailIndexName: 'by-email',
    },
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

export const ACCOUNT_ID = '111111111111';
export const EXECUTION_ARN = 'arn:aws:states:us-east-1:222222222222:execution:provisioning:sandbox-v1';

export function request(overrides: Partial<AccountRequest> = {}): AccountRequest {
  return {
    accountEmail: 'sandbox@example.com',
    accountName: 'Sandbox',
    organizationalUnit: 'Sandbox (ou-ab12-cdef3456)',
    sso: { email: 'owner@example.com', firstName: 'Ada', lastName: 'Example' },
    tags: {},
    customFields: {},
    closeOnRemoval: false,
    ...overrides,
  };
}

/** The state as it stands after Fetch account ID, for one version of the request. */
export function payload(
  options: {
    version?: number;
    request?: AccountRequest;
    operation?: ValidationResult['operation'];
    previous?: unknown;
  } = {},
): StepPayload {
  const req = options.request ?? request();
  const version = options.version ?? 1;
  return {
    state: {
      requestId: req.accountEmail,
      version,
      eventName: version === 1 ? 'INSERT' : 'MODIFY',
      request: req,
      previous: options.previous ?? null,
      validation: {
        requestId: req.accountEmail,
        version,
        operation: options.operation ?? (version === 1 ? 'CREATE' : 'UPDATE'),
        request: req,
        organizationalUnit: { id: 'ou-ab12-cdef3456', name: 'Sandbox' },
        accountId: version === 1 ? null : ACCOUNT_ID,
        provisionedProductId: version === 1 ? null : 'pp-abcdefgh12345',
        controlTowerChanges: [],
        validatedAt: '2026-01-01T00:00:00.000Z',
      },
      account: { accountId: ACCOUNT_ID, email: req.accountEmail, name: req.accountName },
    },
    execution: { id: EXECUTION_ARN.replace(/v1$/, `v${version}`), startTime: '2026-01-01T00:00:00.000Z' },
  };
}
