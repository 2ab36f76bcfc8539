import type { LocalFactory } from '../../local/engine';
import type { CfnTemplate } from '../../local/engine/template';
import { generateRequests } from '../../local/requests';
import { faultTemplate, latestExecutions, notifications, semaphoreState, startFactory } from './helpers';

/**
 * Thirty requests at once (six rounds) against Control Tower's limit of five
 * concurrent operations: never more than five run, every request finishes, none
 * starves. The waits are printed (they depend on the machine's load), not asserted.
 * The bench (`npm run bench`) runs the same up to 200 requests.
 */

const N = 30;
let template: CfnTemplate;
let factory: LocalFactory | undefined;

beforeAll(() => {
  template = faultTemplate();
});

afterEach(async () => {
  await factory?.close();
  factory = undefined;
});

test(`${N} concurrent requests: at most five Control Tower operations at a time, all succeed, none starves`, async () => {
  const wallStart = Date.now();
  factory = await startFactory(template, {
    // The reaper's timer stays on, as deployed.
    landingZone: { controlTower: { createSeconds: 240, jitter: 0.1 } },
  });
  const requests = generateRequests(N, 'load');

  await Promise.all(requests.map((r) => factory!.submit(r)));
  await factory.idle();

  const lz = factory.landingZone;
  expect(lz.peakConcurrentOperations).toBe(5);
  expect(lz.refusedOperations).toBe(0);
  const latest = latestExecutions(factory);
  expect(latest.size).toBe(N);
  const notSucceeded = [...latest.values()].filter((e) => e.status !== 'SUCCEEDED');
  expect(notSucceeded.map((e) => [e.name, e.status, e.error])).toEqual([]);
  expect(lz.accountsCreatedByEmail).toEqual(Object.fromEntries(requests.map((r) => [r.accountEmail, 1])));
  expect(notifications(factory, 'success')).toHaveLength(N);
  expect(await semaphoreState(factory)).toEqual({ count: 0, holders: [], waiters: 0 });

  // Wait for a slot: from the first entry into Acquire slot (right after the
  // 'Control Tower operation?' choice, entered once) to Provision account.
  const waits = [...latest.values()].map((e) => {
    const queued = e.enteredAt['Control Tower operation?'].getTime();
    const provisioned = e.enteredAt['Provision account'].getTime();
    return { request: (e.input as { requestId: string }).requestId, seconds: (provisioned - queued) / 1000 };
  });
  const longest = waits.reduce((a, b) => (b.seconds > a.seconds ? b : a));
  const sorted = waits.map((w) => w.seconds).sort((a, b) => a - b);
  const end = Math.max(...[...latest.values()].map((e) => e.stopDate!.getTime()));
  const start = Math.min(...[...latest.values()].map((e) => e.startDate.getTime()));
  console.log(
    [
      `${N} requests, Control Tower 240 s per account, limit 5 (bound ${Math.ceil(N / 5) * 240} s)`,
      `makespan ${Math.round((end - start) / 1000)} s emulated, ${Date.now() - wallStart} ms wall`,
      `wait for a slot: median ${Math.round(sorted[Math.floor(N / 2)])} s, longest ${Math.round(longest.seconds)} s (${longest.request})`,
      `peak concurrent Control Tower operations ${lz.peakConcurrentOperations}`,
    ].join('\n'),
  );
  // A hang guard, not a timing assertion: thirty executions with IAM enforced take about
  // twenty seconds of CPU, more on a loaded machine.
}, 240_000);
