import type { LocalFactory } from '../../local/engine';
import type { CfnTemplate } from '../../local/engine/template';
import { generateRequests } from '../../local/requests';
import { faultTemplate, latestExecutions, semaphoreState, startFactory, waitFor } from './helpers';

/**
 * Executions aborted while their Control Tower operations run. A slot stands for the
 * operation: it stays taken until the operation's record is terminal, however the
 * execution ended, so Control Tower never gets a sixth operation. EventBridge's status
 * change event triggers the cleanup; the scheduled reaper frees each slot once its
 * operation has ended (and when the event is lost). Either way the request that
 * waits for a slot goes on.
 */

let template: CfnTemplate;
let factory: LocalFactory | undefined;

beforeAll(() => {
  template = faultTemplate();
});

afterEach(async () => {
  await factory?.close();
  factory = undefined;
});

/** Six requests: five take the five slots, the sixth waits. Returns the holders' execution ARNs. */
async function fillSlotsAndQueue(f: LocalFactory, prefix: string) {
  const requests = generateRequests(6, prefix);
  for (const r of requests.slice(0, 5)) await f.submit(r);
  await waitFor(async () => (await semaphoreState(f)).count === 5, 'five slots taken');
  await f.submit(requests[5]);
  await waitFor(async () => (await semaphoreState(f)).waiters === 1, 'the sixth request to wait');
  const { holders } = await semaphoreState(f);
  expect(holders).toHaveLength(5);
  return { requests, holders, waiting: requests[5] };
}

/** Resolves once the Control Tower operations of these executions' requests have ended. */
async function operationsEnded(f: LocalFactory, executionArns: string[]): Promise<void> {
  const emails = executionArns.map(
    (arn) => (f.stepFunctions.describe(arn).input as { requestId: string }).requestId,
  );
  await waitFor(
    () =>
      f.landingZone.controlTowerOperations
        .filter((o) => emails.includes(o.email.toLowerCase()))
        .every((o) => o.outcome !== 'PENDING'),
    "the aborted executions' operations to end",
  );
}

const ruleDeliveries = (f: LocalFactory, kind: 'scheduled' | 'event') =>
  f.bus.delivered.filter((d) => (kind === 'scheduled') === (d.event['detail-type'] === 'Scheduled Event'));

test('the status change events lost: the slots stay taken while the operations run, the reaper frees them after, then the waiting request goes on', async () => {
  factory = await startFactory(template, {
    schedules: false,
    dropExecutionEvents: true,
    landingZone: { controlTower: { createSeconds: 300 } },
  });
  const { holders, waiting } = await fillSlotsAndQueue(factory, 'reaped');

  for (const arn of holders) factory.stepFunctions.stop(arn);
  for (const arn of holders) await factory.stepFunctions.wait(arn);
  await factory.bus.drain();

  // Nobody frees the dead holders' slots: the sixth request still waits.
  expect(holders.map((arn) => factory!.stepFunctions.describe(arn).status)).toEqual(
    holders.map(() => 'ABORTED'),
  );
  expect(await semaphoreState(factory)).toEqual({
    count: 5,
    holders: expect.arrayContaining(holders),
    waiters: 1,
  });
  expect(latestExecutions(factory).get(waiting.accountEmail)).toMatchObject({
    status: 'RUNNING',
    currentState: 'Acquire slot',
  });
  expect(ruleDeliveries(factory, 'event')).toEqual([]);

  await operationsEnded(factory, holders);
  factory.bus.runSchedules();
  await factory.idle();

  expect(ruleDeliveries(factory, 'scheduled').map((d) => d.ok)).toContain(true);
  const after = latestExecutions(factory).get(waiting.accountEmail)!;
  expect([after.status, after.error]).toEqual(['SUCCEEDED', undefined]);
  expect(factory.landingZone.account(waiting.accountEmail)?.status).toBe('ACTIVE');
  expect(await semaphoreState(factory)).toEqual({ count: 0, holders: [], waiters: 0 });
  expect(factory.landingZone.peakConcurrentOperations).toBeLessThanOrEqual(5);
});

test('the status change events delivered: the cleanup keeps each slot while its operation runs (no sixth operation), the reaper frees it after', async () => {
  factory = await startFactory(template, {
    schedules: false,
    landingZone: { controlTower: { createSeconds: 300 } },
  });
  const { holders, waiting } = await fillSlotsAndQueue(factory, 'cleaned');

  for (const arn of holders) factory.stepFunctions.stop(arn);
  for (const arn of holders) await factory.stepFunctions.wait(arn);
  await factory.bus.drain();

  // The cleanup ran on the five ABORTED events, and kept the slots: the operations run.
  const aborted = ruleDeliveries(factory, 'event').filter(
    (d) => (d.event.detail as { status?: string }).status === 'ABORTED',
  );
  expect(
    aborted.map((d) => [(d.event.detail as { executionArn: string }).executionArn, d.ok]).sort(),
  ).toEqual(holders.map((arn) => [arn, true]).sort());
  await operationsEnded(factory, holders);
  factory.bus.runSchedules();
  await factory.idle();

  const after = latestExecutions(factory).get(waiting.accountEmail)!;
  expect([after.status, after.error]).toEqual(['SUCCEEDED', undefined]);
  expect(await semaphoreState(factory)).toEqual({ count: 0, holders: [], waiters: 0 });
  // Control Tower was never asked for a sixth operation.
  expect(factory.landingZone.refusedOperations).toBe(0);
  expect(factory.landingZone.peakConcurrentOperations).toBeLessThanOrEqual(5);
});
