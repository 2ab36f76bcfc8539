import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handler, processRecords } from '../../lambda/request-trigger';
import { executionName } from '../../lambda/shared/schema';

const sfnMock = mockClient(SFNClient);
const WRITTEN_AT = '2024-01-01T00:00:00.000Z';
const sfn = new SFNClient({ region: 'us-east-1' });
const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:111111111111:stateMachine:provisioning';

const request = (accountName: string) => ({
  accountEmail: 'dev@example.com',
  accountName,
  organizationalUnit: 'Sandbox',
  sso: { email: 'admin@example.com', firstName: 'Ada', lastName: 'Admin' },
});
const item = (id: string, version: number, accountName = 'Dev') => ({
  id,
  version,
  request: request(accountName),
  updatedAt: WRITTEN_AT,
});

let seq = 100;
function record(
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE',
  images: { newItem?: Record<string, unknown>; oldItem?: Record<string, unknown> },
): DynamoDBRecord {
  const id = (images.newItem ?? images.oldItem)!.id;
  return {
    eventName,
    dynamodb: {
      Keys: marshall({ id }) as never,
      NewImage: images.newItem ? (marshall(images.newItem) as never) : undefined,
      OldImage: images.oldItem ? (marshall(images.oldItem) as never) : undefined,
      SequenceNumber: String(++seq),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

beforeEach(() => {
  sfnMock.reset();
  sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });
  process.env.STATE_MACHINE_ARN = STATE_MACHINE_ARN;
});

const startCalls = () => sfnMock.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);

test('INSERT starts one execution named after the request id and version, with the workflow input', async () => {
  const results = await processRecords(sfn, STATE_MACHINE_ARN, [
    record('INSERT', { newItem: item('dev@example.com', 1) }),
  ]);

  expect(results.map((r) => r.outcome)).toEqual(['started']);
  const [call] = startCalls();
  expect(call.stateMachineArn).toBe(STATE_MACHINE_ARN);
  expect(call.name).toBe(executionName('dev@example.com', 1, 'INSERT', WRITTEN_AT));
  expect(JSON.parse(call.input!)).toEqual({
    requestId: 'dev@example.com',
    version: 1,
    eventName: 'INSERT',
    request: request('Dev'),
    previous: null,
    writtenAt: WRITTEN_AT,
  });
});

test('a request removed and written again is not taken for a duplicate of its first life', async () => {
  await processRecords(sfn, STATE_MACHINE_ARN, [
    record('INSERT', { newItem: item('dev@example.com', 1) }),
    record('INSERT', { newItem: { ...item('dev@example.com', 1), updatedAt: '2024-02-01T00:00:00.000Z' } }),
  ]);

  const [first, second] = startCalls();
  expect(first.name).not.toBe(second.name);
});

test('MODIFY with a new version passes the new and the previous request', async () => {
  await processRecords(sfn, STATE_MACHINE_ARN, [
    record('MODIFY', {
      oldItem: item('dev@example.com', 1, 'Dev'),
      newItem: item('dev@example.com', 2, 'Dev Two'),
    }),
  ]);

  const input = JSON.parse(startCalls()[0].input!);
  expect(input).toMatchObject({
    version: 2,
    eventName: 'MODIFY',
    request: request('Dev Two'),
    previous: request('Dev'),
  });
  expect(startCalls()[0].name).toBe(executionName('dev@example.com', 2, 'MODIFY', WRITTEN_AT));
});

test('MODIFY that keeps the version starts nothing', async () => {
  const results = await processRecords(sfn, STATE_MACHINE_ARN, [
    record('MODIFY', {
      oldItem: item('dev@example.com', 3),
      newItem: { ...item('dev@example.com', 3), updatedAt: 'later' },
    }),
  ]);

  expect(results.map((r) => r.outcome)).toEqual(['skipped']);
  expect(startCalls()).toHaveLength(0);
});

test('REMOVE starts a removal execution for the old version, with a null request', async () => {
  await processRecords(sfn, STATE_MACHINE_ARN, [record('REMOVE', { oldItem: item('dev@example.com', 4) })]);

  const [call] = startCalls();
  expect(call.name).toBe(executionName('dev@example.com', 4, 'REMOVE', WRITTEN_AT));
  expect(JSON.parse(call.input!)).toMatchObject({
    eventName: 'REMOVE',
    version: 4,
    request: null,
    previous: request('Dev'),
  });
});

test('a duplicate record is absorbed (ExecutionAlreadyExists is a success)', async () => {
  sfnMock.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
  const event: DynamoDBStreamEvent = { Records: [record('INSERT', { newItem: item('dev@example.com', 1) })] };

  const response = await handler(event);
  const results = await processRecords(sfn, STATE_MACHINE_ARN, event.Records);

  expect(response).toEqual({ batchItemFailures: [] });
  expect(results.map((r) => r.outcome)).toEqual(['duplicate']);
});

test('failures are reported by sequence number; later versions of the same request wait, other requests go on', async () => {
  const failing = record('INSERT', { newItem: item('a@example.com', 1) });
  const laterSameRequest = record('MODIFY', {
    oldItem: item('a@example.com', 1),
    newItem: item('a@example.com', 2),
  });
  const otherRequest = record('INSERT', { newItem: item('b@example.com', 1) });
  sfnMock
    .on(StartExecutionCommand, { name: executionName('a@example.com', 1, 'INSERT', WRITTEN_AT) })
    .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

  const response = await handler({ Records: [failing, laterSameRequest, otherRequest] });

  expect(response.batchItemFailures).toEqual([
    { itemIdentifier: failing.dynamodb!.SequenceNumber },
    { itemIdentifier: laterSameRequest.dynamodb!.SequenceNumber },
  ]);
  expect(startCalls().map((c) => c.name)).toEqual([
    executionName('a@example.com', 1, 'INSERT', WRITTEN_AT),
    executionName('b@example.com', 1, 'INSERT', WRITTEN_AT),
  ]);
});

test('a record that is not a request item is reported, not swallowed', async () => {
  const bad = record('INSERT', { newItem: { id: 'dev@example.com', version: 'one' } });

  const response = await handler({ Records: [bad] });

  expect(response.batchItemFailures).toEqual([{ itemIdentifier: bad.dynamodb!.SequenceNumber }]);
  expect(startCalls()).toHaveLength(0);
});
