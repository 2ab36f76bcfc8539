import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { CloudFormationCustomResourceEvent, DynamoDBRecord } from 'aws-lambda';
import dynalite from 'dynalite';
import { onEvent } from '../../lambda/request-item';
import { workflowInputOf } from '../../lambda/request-trigger';
import { writeRequestItem } from '../../lambda/shared/request-item';
import { executionName } from '../../lambda/shared/schema';

let server: Server;
let ddb: DynamoDBClient;

beforeAll(async () => {
  server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  ddb = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  await ddb.send(
    new CreateTableCommand({
      TableName: 'requests',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
});

afterAll(async () => {
  ddb.destroy();
  await new Promise((resolve) => server.close(resolve));
});

const REQUEST = {
  accountEmail: 'sandbox-01@example.com',
  accountName: 'sandbox-01',
  organizationalUnit: 'Sandbox',
  sso: { email: 'platform-team@example.com', firstName: 'Platform', lastName: 'Team' },
  tags: {},
  customFields: {},
  closeOnRemoval: false,
};
const SOURCE = 'construct:Requests/Sandbox01';

function event(
  type: 'Create' | 'Update' | 'Delete',
  source = SOURCE,
  request: object = REQUEST,
): CloudFormationCustomResourceEvent {
  return {
    RequestType: type,
    ServiceToken: 'arn:aws:lambda:us-east-1:111111111111:function:writer',
    ResponseURL: 'https://cloudformation-custom-resource-response.example/',
    StackId: 'arn:aws:cloudformation:us-east-1:111111111111:stack/Requests/x',
    RequestId: `req-${type}`,
    LogicalResourceId: 'Sandbox01Item',
    ResourceType: 'Custom::AccountRequest',
    ResourceProperties: {
      ServiceToken: 'arn:aws:lambda:us-east-1:111111111111:function:writer',
      TableName: 'requests',
      Request: JSON.stringify(request),
      Source: source,
    },
    ...(type === 'Create' ? {} : { PhysicalResourceId: 'sandbox-01@example.com' }),
    ...(type === 'Update' ? { OldResourceProperties: {} } : {}),
  } as CloudFormationCustomResourceEvent;
}

async function item(id = 'sandbox-01@example.com') {
  const out = await ddb.send(
    new GetItemCommand({ TableName: 'requests', Key: marshall({ id }), ConsistentRead: true }),
  );
  return out.Item;
}

/** The stream record DynamoDB would produce for a write, as request-trigger reads it. */
function insert(newImage: Record<string, any>): DynamoDBRecord {
  return {
    eventName: 'INSERT',
    dynamodb: { Keys: { id: newImage.id }, NewImage: newImage, SequenceNumber: '1' },
  } as DynamoDBRecord;
}

const at = (iso: string) => () => new Date(iso);

describe('the deployed AccountRequest resource (lambda/request-item)', () => {
  test('create writes the request, its source, version 1 and updatedAt; update bumps the version', async () => {
    const created = await onEvent(ddb, event('Create'), at('2026-03-01T10:00:00.000Z'));
    expect(created).toEqual({ PhysicalResourceId: 'sandbox-01@example.com', Data: { Version: '1' } });
    expect(unmarshall((await item())!)).toEqual({
      id: 'sandbox-01@example.com',
      request: REQUEST,
      source: SOURCE,
      version: 1,
      updatedAt: '2026-03-01T10:00:00.000Z',
    });

    await onEvent(ddb, event('Update'), at('2026-03-02T10:00:00.000Z'));
    expect(unmarshall((await item())!)).toMatchObject({ version: 2, updatedAt: '2026-03-02T10:00:00.000Z' });
  });

  test('delete by another source (the request moved to another construct or file) leaves the item', async () => {
    await onEvent(ddb, event('Delete', 'construct:Requests/Elsewhere'));
    expect(await item()).toBeDefined();
    await onEvent(ddb, event('Delete'));
    expect(await item()).toBeUndefined();
  });

  test('a request removed and added again starts an execution of another name', async () => {
    await onEvent(ddb, event('Create'), at('2026-04-01T10:00:00.000Z'));
    const first = workflowInputOf(insert((await item())!))!;
    await onEvent(ddb, event('Delete'));
    await onEvent(ddb, event('Create'), at('2026-04-20T10:00:00.000Z'));
    const second = workflowInputOf(insert((await item())!))!;

    // Both lives start at version 1: only updatedAt tells them apart.
    expect(first.version).toBe(1);
    expect(second.version).toBe(1);
    const name = (i: typeof first) => executionName(i.requestId, i.version, i.eventName, i.writtenAt);
    expect(name(second)).not.toBe(name(first));
    await onEvent(ddb, event('Delete'));
  });

  test('the local engine writes the same item as the deployed resource', async () => {
    const now = new Date('2026-05-01T10:00:00.000Z');
    await onEvent(ddb, event('Create'), () => now);
    const deployed = unmarshall((await item())!);
    await onEvent(ddb, event('Delete'));

    await writeRequestItem(ddb, { tableName: 'requests', request: REQUEST, source: SOURCE, now });
    expect(unmarshall((await item())!)).toEqual(deployed);
  });
});
