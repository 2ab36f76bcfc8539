import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { acquireSlot } from '../../lambda/acquire-slot';
import { handler, releaseSlot } from '../../lambda/release-slot';
import { listWaiters, readLock } from '../../lambda/shared/semaphore';
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

const waitFor = (name: string, second: number) =>
  acquireSlot(fx.ddb, sfn, fx.table, {
    lockName,
    limit: 1,
    holder: arn(name),
    queuedAt: `2024-01-01T00:00:0${second}.000Z`,
    taskToken: `token-${name}`,
  });

test('releasing hands the slot to the oldest waiter', async () => {
  await waitFor('a', 1);
  await waitFor('c', 3);
  await waitFor('b', 2);
  sfnMock.resetHistory();

  const result = await releaseSlot(fx.ddb, sfn, fx.table, { lockName, limit: 1, holder: arn('a') });

  expect(result).toEqual({ released: true, woken: [arn('b')] });
  expect(sfnMock.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input.taskToken)).toEqual([
    'token-b',
  ]);
  expect(Object.keys((await readLock(fx.ddb, { table: fx.table, lockName })).holders)).toEqual([arn('b')]);
  expect((await listWaiters(fx.ddb, { table: fx.table, lockName })).map((w) => w.holder)).toEqual([arn('c')]);
});

test('releasing twice is harmless: the second release frees nothing and wakes nobody new', async () => {
  await waitFor('a', 1);
  await waitFor('b', 2);
  await releaseSlot(fx.ddb, sfn, fx.table, { lockName, limit: 1, holder: arn('a') });
  sfnMock.resetHistory();

  const again = await releaseSlot(fx.ddb, sfn, fx.table, { lockName, limit: 1, holder: arn('a') });

  expect(again).toEqual({ released: false, woken: [] });
  expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  expect((await readLock(fx.ddb, { table: fx.table, lockName })).count).toBe(1);
});

test('the handler rejects a payload without a holder', async () => {
  process.env.SEMAPHORE_TABLE = fx.table;

  await expect(handler({ lockName, limit: 1 })).rejects.toMatchObject({
    name: 'InvalidStepInput',
    message: expect.stringContaining('holder'),
  });
});
