import { setClock } from '../../lambda/shared/clock';
import { BUSY_RETRY_ATTEMPTS, retryBusy, withRemainingTime } from '../../lambda/shared/retry';

/**
 * The busy retry within the invocation's time: a virtual clock that each wait moves
 * forward (sleep asks the clock for the real time of a wait, and waits none).
 */

let virtualMs = 0;
beforeEach(() => {
  virtualMs = Date.UTC(2024, 0, 1);
  setClock({
    now: () => new Date(virtualMs),
    toRealMs: (ms) => {
      virtualMs += ms;
      return 0;
    },
  });
  // The longest wait each time (full jitter's upper end).
  jest.spyOn(Math, 'random').mockReturnValue(0.999);
});
afterEach(() => {
  setClock(undefined);
  jest.restoreAllMocks();
});

const throttled = () => {
  const calls: number[] = [];
  const call = async () => {
    calls.push(virtualMs);
    throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
  };
  return { calls, call };
};

test('without an invocation context, a throttled call is tried BUSY_RETRY_ATTEMPTS times, then its error is thrown', async () => {
  const { calls, call } = throttled();

  await expect(retryBusy(call)).rejects.toMatchObject({ name: 'ThrottlingException' });

  expect(calls).toHaveLength(BUSY_RETRY_ATTEMPTS);
});

test("within a handler, the retries stop before the invocation's timeout, with RetryBudgetExhausted (which the step retries)", async () => {
  const { calls, call } = throttled();
  const start = virtualMs;
  const handler = withRemainingTime(async () => retryBusy(call));

  // A 12 s invocation: 3 s kept in reserve, so the waits end by 9 s.
  await expect(handler({}, { getRemainingTimeInMillis: () => 12_000 })).rejects.toMatchObject({
    name: 'RetryBudgetExhausted',
    message: expect.stringContaining('ThrottlingException on 6 attempts'),
  });

  // Waits of 249, 499, 999, 1998 and 3996 ms: the sixth (7992 ms) would end past 9 s.
  expect(calls.map((at) => at - start)).toEqual([0, 249, 748, 1747, 3745, 7741]);
  expect(calls.length).toBeLessThan(BUSY_RETRY_ATTEMPTS);
});

test('a call that succeeds within the budget is not affected', async () => {
  let attempts = 0;
  const handler = withRemainingTime(async () =>
    retryBusy(async () => {
      if (++attempts < 3) throw Object.assign(new Error('busy'), { name: 'TooManyRequestsException' });
      return 'done';
    }),
  );

  await expect(handler({}, { getRemainingTimeInMillis: () => 60_000 })).resolves.toBe('done');
  expect(attempts).toBe(3);
});
