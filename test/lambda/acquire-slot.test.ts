import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { acquireSlot, handler } from '../../lambda/acquire-slot';
import { acquire, enqueue, listWaiters, readLock, release } from '../../lambda/shared/semaphore';
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

const input = (name: string, second: number, limit = 1) => ({
  lockName,
  limit,
  holder: arn(name),
  queuedAt: `2024-01-01T00:00:${String(second).padStart(2, '0')}.000Z`,
  taskToken: `token-${name}`,
});
const sent = () =>
  sfnMock
    .commandCalls(SendTaskSuccessCommand)
    .map((c) => [c.args[0].input.taskToken, JSON.parse(c.args[0].input.output!)]);

test('a free slot is taken at once: the task token is completed and the queue is left empty', async () => {
  const result = await acquireSlot(fx.ddb, sfn, fx.table, input('a', 1));

  expect(result).toEqual({ status: 'acquired', woken: [arn('a')] });
  expect(sent()).toEqual([['token-a', { slot: 'acquired' }]]);
  expect(Object.keys((await readLock(fx.ddb, { table: fx.table, lockName })).holders)).toEqual([arn('a')]);
  expect(await listWaiters(fx.ddb, { table: fx.table, lockName })).toEqual([]);
});

test('when full, the execution waits in the queue and its token is not completed', async () => {
  await acquireSlot(fx.ddb, sfn, fx.table, input('a', 1));
  sfnMock.resetHistory();

  const result = await acquireSlot(fx.ddb, sfn, fx.table, input('b', 2));

  expect(result).toEqual({ status: 'waiting', woken: [] });
  expect(sent()).toEqual([]);
  expect((await listWaiters(fx.ddb, { table: fx.table, lockName })).map((w) => w.token)).toEqual(['token-b']);
});

test('an execution that already holds a slot re-enters without queueing', async () => {
  await acquire(fx.ddb, { table: fx.table, lockName, limit: 1, holder: arn('a') });
  // An older waiter is queued: re-entry must not wait behind it for a slot it holds.
  await enqueue(fx.ddb, {
    table: fx.table,
    lockName,
    holder: arn('old'),
    queuedAt: '2023-12-31T00:00:00.000Z',
    token: 'token-old',
  });

  const result = await acquireSlot(fx.ddb, sfn, fx.table, input('a', 1));

  expect(result.status).toBe('reentered');
  expect(sent()).toEqual([['token-a', { slot: 'reentered' }]]);
  expect((await readLock(fx.ddb, { table: fx.table, lockName })).count).toBe(1);
  expect((await listWaiters(fx.ddb, { table: fx.table, lockName })).map((w) => w.holder)).toEqual([
    arn('old'),
  ]);
});

test('first come, first served: a free slot goes to the oldest waiter, not to the newcomer', async () => {
  await acquireSlot(fx.ddb, sfn, fx.table, input('a', 1));
  await acquireSlot(fx.ddb, sfn, fx.table, input('b', 2));
  // A's slot is freed but nobody is woken (a lost wake-up).
  await release(fx.ddb, { table: fx.table, lockName, holder: arn('a') });
  sfnMock.resetHistory();

  const result = await acquireSlot(fx.ddb, sfn, fx.table, input('c', 3));

  expect(result).toEqual({ status: 'waiting', woken: [arn('b')] });
  expect(sent()).toEqual([['token-b', { slot: 'acquired' }]]);
  expect((await listWaiters(fx.ddb, { table: fx.table, lockName })).map((w) => w.holder)).toEqual([arn('c')]);
});

test('the handler rejects a malformed payload with a named error', async () => {
  process.env.SEMAPHORE_TABLE = fx.table;

  await expect(handler({ lockName, limit: 0, holder: arn('a') })).rejects.toMatchObject({
    name: 'InvalidStepInput',
    message: expect.stringMatching(/limit.*taskToken/),
  });
  expect(sent()).toEqual([]);
});

test("a late invocation of an aborted run (its execution redriven since) leaves the redriven run's registration in place", async () => {
  await acquire(fx.ddb, { table: fx.table, lockName, limit: 1, holder: arn('other') });
  const redriven = {
    ...input('a', 1),
    taskToken: 'token-redriven',
    attempt: { redriveCount: 1, enteredTime: '2024-01-01T01:00:05Z' },
  };
  expect(await acquireSlot(fx.ddb, sfn, fx.table, redriven)).toMatchObject({ status: 'waiting' });

  const late = {
    ...input('a', 1),
    taskToken: 'token-aborted',
    attempt: { redriveCount: 0, enteredTime: '2024-01-01T01:00:50Z' },
  };
  const result = await acquireSlot(fx.ddb, sfn, fx.table, late);

  expect(result).toEqual({ status: 'superseded', woken: [] });
  expect((await listWaiters(fx.ddb, { table: fx.table, lockName })).map((w) => w.token)).toEqual([
    'token-redriven',
  ]);
  await release(fx.ddb, { table: fx.table, lockName, holder: arn('other') });
  await acquireSlot(fx.ddb, sfn, fx.table, { ...input('b', 2), taskToken: 'token-b' });
  expect(sent()).toContainEqual(['token-redriven', { slot: 'acquired' }]);
});

test('an attempt whose entry time is not a time is refused by name, and nothing is registered', async () => {
  await expect(
    handler({ ...input('a', 1), table: fx.table, attempt: { redriveCount: 0, enteredTime: 'soon' } }),
  ).rejects.toMatchObject({ name: 'InvalidStepInput' });
  expect(await listWaiters(fx.ddb, { table: fx.table, lockName })).toEqual([]);
});
