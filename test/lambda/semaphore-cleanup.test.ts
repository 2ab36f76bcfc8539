import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  SendTaskSuccessCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import {
  cleanupExecution,
  configFromEnv,
  freeEndedHolder,
  handleCleanupEvent,
  reap,
} from '../../lambda/semaphore-cleanup';
import {
  acquire,
  beginOperation,
  enqueue,
  listWaiters,
  readLock,
  recordOperation,
  release,
} from '../../lambda/shared/semaphore';
import { arn, SemaphoreFixture, startSemaphoreFixture } from './semaphore-fixture';

const sfnMock = mockClient(SFNClient);
const sfn = new SFNClient({ region: 'us-east-1' });
const lockName = 'control-tower';

let fx: SemaphoreFixture;
beforeEach(async () => {
  sfnMock.reset();
  sfnMock.on(SendTaskSuccessCommand).resolves({});
  fx = await startSemaphoreFixture();
});
afterEach(async () => {
  await fx.close();
});

const config = (limit: number) => ({ table: fx.table, lockName, limit });
const statusChange = (name: string, status: string) => ({
  source: 'aws.states',
  'detail-type': 'Step Functions Execution Status Change',
  detail: { executionArn: arn(name), status },
});

test('a FAILED execution releases its slot and the oldest waiter gets it', async () => {
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'FAILED' });
  await acquire(fx.ddb, { ...config(1), holder: arn('failed') });
  await enqueue(fx.ddb, {
    ...config(1),
    holder: arn('next'),
    queuedAt: '2024-01-01T00:00:01.000Z',
    token: 'token-next',
  });

  const result = await handleCleanupEvent(fx.ddb, sfn, config(1), statusChange('failed', 'FAILED'));

  expect(result).toEqual({
    released: [arn('failed')],
    removedWaiters: [],
    woken: [arn('next')],
    operationsRunning: [],
  });
  expect(Object.keys((await readLock(fx.ddb, config(1))).holders)).toEqual([arn('next')]);
  expect(sfnMock.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input.taskToken)).toEqual([
    'token-next',
  ]);
});

test('an ABORTED execution that was still queued leaves the queue', async () => {
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'ABORTED' });
  await acquire(fx.ddb, { ...config(1), holder: arn('busy') });
  await enqueue(fx.ddb, {
    ...config(1),
    holder: arn('aborted'),
    queuedAt: '2024-01-01T00:00:01.000Z',
    token: 'token-aborted',
  });

  const result = await handleCleanupEvent(fx.ddb, sfn, config(1), statusChange('aborted', 'ABORTED'));

  expect(result).toEqual({
    released: [],
    removedWaiters: [arn('aborted')],
    woken: [],
    operationsRunning: [],
  });
  expect(await listWaiters(fx.ddb, config(1))).toEqual([]);
  expect((await readLock(fx.ddb, config(1))).count).toBe(1);
});

test('a SUCCEEDED execution changes nothing', async () => {
  await acquire(fx.ddb, { ...config(1), holder: arn('done') });

  const result = await handleCleanupEvent(fx.ddb, sfn, config(1), statusChange('done', 'SUCCEEDED'));

  expect(result).toEqual({ released: [], removedWaiters: [], woken: [] });
  expect((await readLock(fx.ddb, config(1))).count).toBe(1);
});

test('the reaper releases dead holders, drops dead waiters and wakes the living', async () => {
  await acquire(fx.ddb, { ...config(3), holder: arn('running') });
  await acquire(fx.ddb, { ...config(3), holder: arn('failed') });
  await acquire(fx.ddb, { ...config(3), holder: arn('unknown') });
  await enqueue(fx.ddb, {
    ...config(3),
    holder: arn('aborted-waiter'),
    queuedAt: '2024-01-01T00:00:01.000Z',
    token: 'token-aborted',
  });
  await enqueue(fx.ddb, {
    ...config(3),
    holder: arn('live-waiter'),
    queuedAt: '2024-01-01T00:00:02.000Z',
    token: 'token-live',
  });
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
  sfnMock.on(DescribeExecutionCommand, { executionArn: arn('failed') }).resolves({ status: 'FAILED' });
  sfnMock
    .on(DescribeExecutionCommand, { executionArn: arn('aborted-waiter') })
    .resolves({ status: 'ABORTED' });
  sfnMock
    .on(DescribeExecutionCommand, { executionArn: arn('unknown') })
    .rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));

  const result = await handleCleanupEvent(fx.ddb, sfn, config(3), {
    source: 'aws.events',
    'detail-type': 'Scheduled Event',
    detail: {},
  });

  expect(result.released.sort()).toEqual([arn('failed'), arn('unknown')].sort());
  expect(result.removedWaiters).toEqual([arn('aborted-waiter')]);
  expect(result.woken).toEqual([arn('live-waiter')]);
  const lock = await readLock(fx.ddb, config(3));
  expect(Object.keys(lock.holders).sort()).toEqual([arn('live-waiter'), arn('running')].sort());
  expect(lock.count).toBe(2);
  expect(sfnMock.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input.taskToken)).toEqual([
    'token-live',
  ]);
});

test('a late FAILED event for an execution that was redriven (same ARN, RUNNING again) frees nothing', async () => {
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
  await acquire(fx.ddb, { ...config(1), holder: arn('redriven') });

  const result = await handleCleanupEvent(fx.ddb, sfn, config(1), statusChange('redriven', 'FAILED'));

  expect(result.released).toEqual([]);
  expect(Object.keys((await readLock(fx.ddb, config(1))).holders)).toEqual([arn('redriven')]);
});

test('an ended execution keeps its slot while its Control Tower operation runs; the slot is freed once the record is terminal', async () => {
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'ABORTED' });
  await acquire(fx.ddb, { ...config(1), holder: arn('aborted') });
  expect(await beginOperation(fx.ddb, { ...config(1), holder: arn('aborted') })).toBe(true);
  expect(await recordOperation(fx.ddb, { ...config(1), holder: arn('aborted'), recordId: 'rec-1' })).toBe(
    true,
  );
  let status = 'IN_PROGRESS';
  const recordStatus = async (id: string) => (id === 'rec-1' ? status : undefined);

  const during = await cleanupExecution(fx.ddb, sfn, config(1), arn('aborted'), recordStatus);
  const held = await readLock(fx.ddb, config(1));
  status = 'SUCCEEDED';
  const after = await reap(fx.ddb, sfn, config(1), undefined, recordStatus);

  expect(during).toMatchObject({ released: [], operationsRunning: [arn('aborted')] });
  expect(held.slots[arn('aborted')].op).toEqual({ startedAt: expect.any(String), recordId: 'rec-1' });
  expect(after).toMatchObject({ released: [arn('aborted')], operationsRunning: [] });
  expect((await readLock(fx.ddb, config(1))).count).toBe(0);
});

test('an operation cannot start on a slot the cleanup freed, and the cleanup cannot free a slot marked meanwhile', async () => {
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'ABORTED' });
  await acquire(fx.ddb, { ...config(1), holder: arn('a') });
  const seen = (await readLock(fx.ddb, config(1))).slots[arn('a')];
  await beginOperation(fx.ddb, { ...config(1), holder: arn('a') });

  // The cleanup decided on what it read before the mark: its conditional release fails.
  expect(await freeEndedHolder(fx.ddb, config(1), arn('a'), seen, async () => undefined)).toBe('none');
  expect((await readLock(fx.ddb, config(1))).count).toBe(1);

  await acquire(fx.ddb, { ...config(1), holder: arn('b') }).catch(() => undefined);
  await release(fx.ddb, { ...config(1), holder: arn('a') });
  expect(await beginOperation(fx.ddb, { ...config(1), holder: arn('a') })).toBe(false);
});

test('configuration comes from the environment and a bad limit is refused', () => {
  process.env.SEMAPHORE_TABLE = 'semaphore';
  process.env.SEMAPHORE_LOCK_NAME = 'control-tower';
  process.env.SEMAPHORE_LIMIT = '5';
  expect(configFromEnv()).toEqual({ table: 'semaphore', lockName: 'control-tower', limit: 5 });

  process.env.SEMAPHORE_LIMIT = 'five';
  expect(() => configFromEnv()).toThrow('SEMAPHORE_LIMIT');
});
