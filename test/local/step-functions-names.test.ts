import type { LambdaRuntime } from '../../local/engine/lambda-runtime';
import { LocalStepFunctions, type EngineClock } from '../../local/engine/step-functions';
import { ScaledClock } from '../../local/emulator/clock';

/**
 * StartExecution with a name already used, as the API reference says
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html):
 * the same name and input as a running execution succeeds with that execution; a closed
 * execution's name, or another input, is ExecutionAlreadyExists; names can be reused after 90 days.
 */
const DAY = 24 * 3600 * 1000;
let nowMs = Date.parse('2026-01-01T00:00:00.000Z');
// A real-time clock whose "now" the test sets (waits run at real speed).
const realTime = new ScaledClock({ scale: 1 });
const clock: EngineClock = {
  now: () => new Date(nowMs),
  toRealMs: (ms: number) => ms,
  virtual: false,
  sleep: (ms, options) => realTime.sleep(ms, options),
  setTimer: (fn, ms, options) => realTime.setTimer(fn, ms, options),
  clearTimer: (timer) => realTime.clearTimer(timer),
  track: (fn) => fn(),
};
const lambda = { has: () => false } as unknown as LambdaRuntime;
const ARN = 'arn:aws:states:us-east-1:111111111111:stateMachine:m';
const WAITING_ARN = 'arn:aws:states:us-east-1:111111111111:stateMachine:waiting';

function engine(): LocalStepFunctions {
  const sfn = new LocalStepFunctions({ clock, lambda });
  sfn.register({
    logicalId: 'M',
    name: 'm',
    roleArn: 'arn:aws:iam::111111111111:role/Workflow',
    arn: ARN,
    definition: { StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } },
  });
  // Waits an hour of real time: running for the whole test.
  sfn.register({
    logicalId: 'W',
    name: 'waiting',
    roleArn: 'arn:aws:iam::111111111111:role/Workflow',
    arn: WAITING_ARN,
    definition: { StartAt: 'Wait', States: { Wait: { Type: 'Wait', Seconds: 3600, End: true } } },
  });
  return sfn;
}

const errorOf = (fn: () => unknown): Error | undefined => {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  return undefined;
};

test('a closed execution name is refused for 90 days, whatever the input, then reusable', async () => {
  const sfn = engine();
  const first = sfn.start(ARN, { a: 1 }, 'request-v1');
  await sfn.wait(first.executionArn);
  expect(sfn.describe(first.executionArn).status).toBe('SUCCEEDED');

  expect(errorOf(() => sfn.start(ARN, { a: 1 }, 'request-v1'))?.name).toBe('ExecutionAlreadyExists');
  expect(errorOf(() => sfn.start(ARN, { a: 2 }, 'request-v1'))?.name).toBe('ExecutionAlreadyExists');
  nowMs += 89 * DAY;
  expect(errorOf(() => sfn.start(ARN, { a: 2 }, 'request-v1'))?.name).toBe('ExecutionAlreadyExists');

  nowMs += 1 * DAY;
  const again = sfn.start(ARN, { a: 2 }, 'request-v1');
  expect(again).not.toBe(first);
  await sfn.wait(again.executionArn);
  expect(sfn.describe(again.executionArn).input).toEqual({ a: 2 });
});

test('a running execution: the same input returns it (idempotent), another input is refused', async () => {
  const sfn = engine();
  const running = sfn.start(WAITING_ARN, { a: 1 }, 'request-v2');

  expect(sfn.start(WAITING_ARN, { a: 1 }, 'request-v2')).toBe(running);
  expect(errorOf(() => sfn.start(WAITING_ARN, { a: 2 }, 'request-v2'))?.name).toBe('ExecutionAlreadyExists');

  sfn.stop(running.executionArn);
  await sfn.wait(running.executionArn);
  expect(errorOf(() => sfn.start(WAITING_ARN, { a: 1 }, 'request-v2'))?.name).toBe('ExecutionAlreadyExists');
});
