import {
  DescribeExecutionCommand,
  SendTaskSuccessCommand,
  SFNClient,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import {
  acquire,
  attemptOrder,
  beginOperation,
  confirmSlot,
  dequeue,
  enqueue,
  listWaiters,
  readLock,
  release,
  wakeNext,
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

const ref = () => ({ table: fx.table, lockName });
const sentTokens = () => sfnMock.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input.taskToken);

describe('acquire / release', () => {
  test('acquires until the limit, then reports full', async () => {
    const outcomes = [];
    for (const name of ['a', 'b', 'c', 'd']) {
      outcomes.push(await acquire(fx.ddb, { ...ref(), limit: 3, holder: arn(name) }));
    }

    expect(outcomes).toEqual(['acquired', 'acquired', 'acquired', 'full']);
    const lock = await readLock(fx.ddb, ref());
    expect(lock.count).toBe(3);
    expect(Object.keys(lock.holders).sort()).toEqual([arn('a'), arn('b'), arn('c')]);
  });

  test('a holder that asks again re-enters and still holds one slot', async () => {
    await acquire(fx.ddb, { ...ref(), limit: 2, holder: arn('a') });

    const again = await acquire(fx.ddb, { ...ref(), limit: 2, holder: arn('a') });

    expect(again).toBe('reentered');
    expect((await readLock(fx.ddb, ref())).count).toBe(1);
  });

  test('a holder re-enters even when the semaphore is full', async () => {
    await acquire(fx.ddb, { ...ref(), limit: 1, holder: arn('a') });

    expect(await acquire(fx.ddb, { ...ref(), limit: 1, holder: arn('a') })).toBe('reentered');
    expect(await acquire(fx.ddb, { ...ref(), limit: 1, holder: arn('b') })).toBe('full');
  });

  test('release is idempotent and frees exactly one slot', async () => {
    await acquire(fx.ddb, { ...ref(), limit: 2, holder: arn('a') });
    await acquire(fx.ddb, { ...ref(), limit: 2, holder: arn('b') });

    const first = await release(fx.ddb, { ...ref(), holder: arn('a') });
    const second = await release(fx.ddb, { ...ref(), holder: arn('a') });
    const never = await release(fx.ddb, { ...ref(), holder: arn('never-held') });

    expect([first, second, never]).toEqual([true, false, false]);
    const lock = await readLock(fx.ddb, ref());
    expect(lock.count).toBe(1);
    expect(Object.keys(lock.holders)).toEqual([arn('b')]);
    expect(await acquire(fx.ddb, { ...ref(), limit: 2, holder: arn('c') })).toBe('acquired');
  });

  test('30 concurrent acquires against a limit of 5: exactly 5 get a slot', async () => {
    const holders = Array.from({ length: 30 }, (_, i) => arn(`race-${i}`));

    const outcomes = await Promise.all(
      holders.map((holder) => acquire(fx.ddb, { ...ref(), limit: 5, holder })),
    );

    expect(outcomes.filter((o) => o === 'acquired')).toHaveLength(5);
    expect(outcomes.filter((o) => o === 'full')).toHaveLength(25);
    const lock = await readLock(fx.ddb, ref());
    expect(lock.count).toBe(5);
    expect(Object.keys(lock.holders)).toHaveLength(5);
  });
});

describe('waiter queue', () => {
  test('re-registering the same holder keeps one waiter item, with the new token', async () => {
    await enqueue(fx.ddb, {
      ...ref(),
      holder: arn('a'),
      queuedAt: '2024-01-01T00:00:00.000Z',
      token: 'token-1',
    });
    await enqueue(fx.ddb, {
      ...ref(),
      holder: arn('a'),
      queuedAt: '2024-01-01T00:00:00.000Z',
      token: 'token-2',
    });

    const waiters = await listWaiters(fx.ddb, ref());
    expect(waiters.map((w) => w.token)).toEqual(['token-2']);
  });

  test('dequeue with a stale token leaves a newer registration in place', async () => {
    const w = (await enqueue(fx.ddb, {
      ...ref(),
      holder: arn('a'),
      queuedAt: '2024-01-01T00:00:00.000Z',
      token: 'token-1',
    }))!;
    await enqueue(fx.ddb, {
      ...ref(),
      holder: arn('a'),
      queuedAt: '2024-01-01T00:00:00.000Z',
      token: 'token-2',
    });

    expect(await dequeue(fx.ddb, { table: fx.table, waiter: w, token: 'token-1' })).toBe(false);
    expect(await listWaiters(fx.ddb, ref())).toHaveLength(1);
    expect(await dequeue(fx.ddb, { table: fx.table, waiter: w, token: 'token-2' })).toBe(true);
    expect(await listWaiters(fx.ddb, ref())).toHaveLength(0);
  });
});

describe('wakeNext', () => {
  test('serves waiters first come, first served by queuedAt, while slots are free', async () => {
    await acquire(fx.ddb, { ...ref(), limit: 1, holder: arn('a') });
    await enqueue(fx.ddb, {
      ...ref(),
      holder: arn('c'),
      queuedAt: '2024-01-01T00:00:03.000Z',
      token: 'token-c',
    });
    await enqueue(fx.ddb, {
      ...ref(),
      holder: arn('b'),
      queuedAt: '2024-01-01T00:00:01.000Z',
      token: 'token-b',
    });
    await enqueue(fx.ddb, {
      ...ref(),
      holder: arn('d'),
      queuedAt: '2024-01-01T00:00:02.000Z',
      token: 'token-d',
    });

    const whileFull = await wakeNext(fx.ddb, sfn, { ...ref(), limit: 1 });
    await release(fx.ddb, { ...ref(), holder: arn('a') });
    const first = await wakeNext(fx.ddb, sfn, { ...ref(), limit: 1 });
    await release(fx.ddb, { ...ref(), holder: arn('b') });
    const second = await wakeNext(fx.ddb, sfn, { ...ref(), limit: 1 });

    expect(whileFull).toEqual([]);
    expect(first).toEqual([arn('b')]);
    expect(second).toEqual([arn('d')]);
    expect(sentTokens()).toEqual(['token-b', 'token-d']);
    expect(
      JSON.parse(sfnMock.commandCalls(SendTaskSuccessCommand)[0].args[0].input.output as string),
    ).toEqual({
      slot: 'acquired',
    });
    expect(Object.keys((await readLock(fx.ddb, ref())).holders)).toEqual([arn('d')]);
    expect((await listWaiters(fx.ddb, ref())).map((w) => w.holder)).toEqual([arn('c')]);
  });

  test('fills every free slot in one call', async () => {
    for (const [name, second] of [
      ['x', 1],
      ['y', 2],
      ['z', 3],
    ] as const) {
      await enqueue(fx.ddb, {
        ...ref(),
        holder: arn(name),
        queuedAt: `2024-01-01T00:00:0${second}.000Z`,
        token: `token-${name}`,
      });
    }

    const woken = await wakeNext(fx.ddb, sfn, { ...ref(), limit: 2 });

    expect(woken).toEqual([arn('x'), arn('y')]);
    expect((await readLock(fx.ddb, ref())).count).toBe(2);
  });

  test('a waiter whose task is gone and whose execution ended gives its slot back and the next waiter gets it', async () => {
    sfnMock
      .on(SendTaskSuccessCommand, { taskToken: 'token-dead' })
      .rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));
    sfnMock.on(DescribeExecutionCommand, { executionArn: arn('dead') }).resolves({ status: 'ABORTED' });
    await enqueue(fx.ddb, {
      ...ref(),
      holder: arn('dead'),
      queuedAt: '2024-01-01T00:00:01.000Z',
      token: 'token-dead',
    });
    await enqueue(fx.ddb, {
      ...ref(),
      holder: arn('alive'),
      queuedAt: '2024-01-01T00:00:02.000Z',
      token: 'token-alive',
    });

    const woken = await wakeNext(fx.ddb, sfn, { ...ref(), limit: 1 });

    expect(woken).toEqual([arn('alive')]);
    expect(sentTokens()).toEqual(['token-dead', 'token-alive']);
    const lock = await readLock(fx.ddb, ref());
    expect(lock.count).toBe(1);
    expect(Object.keys(lock.holders)).toEqual([arn('alive')]);
    expect(await listWaiters(fx.ddb, ref())).toEqual([]);
  });

  test('a waker whose token was completed by another waker never frees a slot its execution started a Control Tower operation on', async () => {
    // Interleaving seed 711722932 / path 3: waker A hands e0 the slot, waker B (re-entry)
    // completes e0's token first, e0 marks the slot and starts its operation, and is then
    // aborted. A's SendTaskSuccess finds the token gone and the execution ended: before,
    // A gave the slot back and the next waiter started a third operation at limit 2.
    sfnMock.on(SendTaskSuccessCommand, { taskToken: 'token-e0' }).callsFake(async () => {
      // Meanwhile: B completed the token, e0 marked its slot and started, then was aborted.
      expect(await beginOperation(fx.ddb, { ...ref(), holder: arn('e0') })).toBe(true);
      throw new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} });
    });
    sfnMock.on(DescribeExecutionCommand, { executionArn: arn('e0') }).resolves({ status: 'ABORTED' });
    await enqueue(fx.ddb, {
      ...ref(),
      holder: arn('e0'),
      queuedAt: '2024-01-01T00:00:01.000Z',
      token: 'token-e0',
    });
    await enqueue(fx.ddb, {
      ...ref(),
      holder: arn('next'),
      queuedAt: '2024-01-01T00:00:02.000Z',
      token: 'token-next',
    });

    const woken = await wakeNext(fx.ddb, sfn, { ...ref(), limit: 1 });

    expect(woken).toEqual([]);
    const lock = await readLock(fx.ddb, ref());
    expect(Object.keys(lock.slots)).toEqual([arn('e0')]);
    expect(lock.slots[arn('e0')].op?.startedAt).toEqual(expect.any(String));
    expect((await listWaiters(fx.ddb, ref())).map((w) => w.holder)).toEqual([arn('next')]);
  });

  test('a waiter that already holds a slot is removed from the queue without taking a second slot', async () => {
    await acquire(fx.ddb, { ...ref(), limit: 2, holder: arn('a') });
    await enqueue(fx.ddb, {
      ...ref(),
      holder: arn('a'),
      queuedAt: '2024-01-01T00:00:01.000Z',
      token: 'token-a',
    });
    await enqueue(fx.ddb, {
      ...ref(),
      holder: arn('b'),
      queuedAt: '2024-01-01T00:00:02.000Z',
      token: 'token-b',
    });

    const woken = await wakeNext(fx.ddb, sfn, { ...ref(), limit: 2 });

    expect(woken).toEqual([arn('a'), arn('b')]);
    expect(
      JSON.parse(sfnMock.commandCalls(SendTaskSuccessCommand)[0].args[0].input.output as string),
    ).toEqual({
      slot: 'reentered',
    });
    expect((await readLock(fx.ddb, ref())).count).toBe(2);
    expect(await listWaiters(fx.ddb, ref())).toEqual([]);
  });

  test('a waiter whose token timed out while its execution runs on keeps the slot handed to it (it registers again and re-enters)', async () => {
    sfnMock
      .on(SendTaskSuccessCommand, { taskToken: 'token-old' })
      .rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    await enqueue(fx.ddb, {
      ...ref(),
      holder: arn('w'),
      queuedAt: '2024-01-01T00:00:01.000Z',
      token: 'token-old',
    });
    await enqueue(fx.ddb, {
      ...ref(),
      holder: arn('x'),
      queuedAt: '2024-01-01T00:00:02.000Z',
      token: 'token-x',
    });

    const woken = await wakeNext(fx.ddb, sfn, { ...ref(), limit: 1 });

    expect(woken).toEqual([]);
    const lock = await readLock(fx.ddb, ref());
    expect(lock.holders).toEqual({ [arn('w')]: expect.any(String) });
    expect(lock.slots[arn('w')].grant).toBe('token-old');
    expect((await listWaiters(fx.ddb, ref())).map((w) => w.holder)).toEqual([arn('x')]);
  });

  test('a throttled SendTaskSuccess leaves the waiter queued with its slot; the next wake-up completes it as a re-entry', async () => {
    sfnMock
      .on(SendTaskSuccessCommand)
      .rejectsOnce(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }))
      .resolves({});
    await enqueue(fx.ddb, {
      ...ref(),
      holder: arn('a'),
      queuedAt: '2024-01-01T00:00:01.000Z',
      token: 'token-a',
    });

    const first = await wakeNext(fx.ddb, sfn, { ...ref(), limit: 1 });
    const queued = await listWaiters(fx.ddb, ref());
    const second = await wakeNext(fx.ddb, sfn, { ...ref(), limit: 1 });

    expect(first).toEqual([]);
    expect(queued.map((w) => w.token)).toEqual(['token-a']);
    expect(second).toEqual([arn('a')]);
    expect(sentTokens()).toEqual(['token-a', 'token-a']);
    expect(
      JSON.parse(sfnMock.commandCalls(SendTaskSuccessCommand)[1].args[0].input.output as string),
    ).toEqual({
      slot: 'reentered',
    });
    expect((await readLock(fx.ddb, ref())).count).toBe(1);
    expect(await listWaiters(fx.ddb, ref())).toEqual([]);
  });
});

describe('slots read, then checked, then freed only if unchanged', () => {
  test('a cleanup that read the slot before a redrive frees nothing once the redriven execution confirmed it', async () => {
    await acquire(fx.ddb, { ...ref(), limit: 1, holder: arn('e0'), grant: 'token-1' });
    const seen = (await readLock(fx.ddb, ref())).slots[arn('e0')];
    // Redriven, e0 registers again and finds itself holder: it confirms with its new token.
    expect(await confirmSlot(fx.ddb, { ...ref(), holder: arn('e0'), token: 'token-2' })).toBe(true);

    expect(await release(fx.ddb, { ...ref(), holder: arn('e0'), ifUnchanged: seen })).toBe(false);
    expect(Object.keys((await readLock(fx.ddb, ref())).slots)).toEqual([arn('e0')]);
  });

  test('an execution whose slot was freed cannot confirm one', async () => {
    expect(await confirmSlot(fx.ddb, { ...ref(), holder: arn('gone'), token: 't' })).toBe(false);
    expect((await readLock(fx.ddb, ref())).count).toBe(0);
  });
});

describe('task attempts (an aborted run and its redrive share the execution ARN)', () => {
  const attempt = (redriveCount: number, second: number) =>
    attemptOrder({ redriveCount, enteredTime: `2024-01-01T01:00:${String(second).padStart(2, '0')}Z` });
  const register = (token: string, order: string) =>
    enqueue(fx.ddb, {
      ...ref(),
      holder: arn('a'),
      queuedAt: '2024-01-01T00:00:00.000Z',
      token,
      attempt: order,
    });

  test('a registration of an earlier attempt never overwrites a later one', async () => {
    expect(await register('redriven', attempt(1, 5))).toBeDefined();

    // The aborted run's invocation registers late: its entry time is later, its redrive count lower.
    expect(await register('aborted', attempt(0, 50))).toBeUndefined();

    expect((await listWaiters(fx.ddb, ref())).map((w) => w.token)).toEqual(['redriven']);
    // The same attempt (a retried invocation) and later ones do overwrite.
    expect(await register('retried', attempt(1, 5))).toBeDefined();
    expect(await register('looped', attempt(1, 9))).toBeDefined();
    expect((await listWaiters(fx.ddb, ref())).map((w) => w.token)).toEqual(['looped']);
  });

  test("an earlier attempt's confirmation does not take the grant back", async () => {
    await acquire(fx.ddb, {
      ...ref(),
      limit: 1,
      holder: arn('a'),
      grant: 'redriven',
      attempt: attempt(1, 5),
    });

    const late = await confirmSlot(fx.ddb, {
      ...ref(),
      holder: arn('a'),
      token: 'aborted',
      attempt: attempt(0, 50),
    });

    expect(late).toBe(false);
    expect((await readLock(fx.ddb, ref())).slots[arn('a')]).toMatchObject({ grant: 'redriven' });
  });

  test('attemptOrder orders redrives first, then entry times, and refuses what is not an attempt', () => {
    expect(attempt(0, 59) < attempt(1, 0)).toBe(true);
    expect(attempt(1, 1) < attempt(1, 2)).toBe(true);
    expect(attemptOrder({ redriveCount: 10, enteredTime: '2024-01-01T01:00:00.5Z' })).toBe(
      '000010#2024-01-01T01:00:00.500Z',
    );
    expect(() => attemptOrder({ redriveCount: -1, enteredTime: '2024-01-01T01:00:00Z' })).toThrow(
      'Not a task attempt',
    );
    expect(() => attemptOrder({ redriveCount: 0, enteredTime: 'yesterday' })).toThrow('Not a task attempt');
  });
});
