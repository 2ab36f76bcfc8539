import type { LocalFactory } from '../../local/engine';
import { generateRequests } from '../../local/requests';
import { runScenario, type ScenarioSummary } from '../../local/scenario';
import {
  faultTemplate,
  latestExecutions,
  notifications,
  semaphoreState,
  settle,
  startFactory,
  waitFor,
} from './helpers';

/** The run with every API throttled. */
const THROTTLED_N = 40;

/**
 * The Control Tower limit under aborts and heavy faults, measured by the emulated
 * Control Tower (its operations' intervals), not by the semaphore. Each run prints
 * its figures: requests, succeeded, failed with a notification, lost, peak vs limit.
 */

// A safety net against a hang, not a measure: on the virtual clock the whole file takes
// about 20 s alone on 2 cores.
jest.setTimeout(300_000);

let factory: LocalFactory | undefined;
afterEach(async () => {
  await factory?.close();
  factory = undefined;
});

function report(name: string, s: ScenarioSummary): void {
  const lost = s.requests - s.succeeded - s.failed - s.aborted;
  console.log(
    `${name}: ${s.requests} requests, ${s.succeeded} succeeded, ${s.failed} failed (${s.failed - s.failedWithoutNotification.length} with a notification), ` +
      `${s.aborted} aborted, ${lost} lost; Control Tower peak ${s.peakConcurrentControlTowerOperations} at once (limit ${s.semaphoreLimit}); ` +
      `${s.controlTowerOperations} operations`,
  );
}

describe.each([1, 3])(
  'limit %i with two executions aborted while their Control Tower operation runs',
  (limit) => {
    test('never more operations at once than the limit; every other request succeeds; the slots come back', async () => {
      const { summary, factory: f } = await runScenario({
        template: faultTemplate({ limit }),
        requests: generateRequests(2 * limit + 2, `abort-l${limit}`).map((r) => ({
          request: r,
          label: r.accountName,
        })),
        createMinutes: 5,
        abortWhileHolding: 2,
        customizations: false,
        keepOpen: true,
      });
      factory = f;
      report(`limit ${limit}, 2 aborts`, summary);

      expect(summary.semaphoreLimit).toBe(limit);
      expect(summary.peakConcurrentControlTowerOperations).toBeLessThanOrEqual(limit);
      expect(f.landingZone.refusedOperations).toBe(0);
      expect(summary.aborted).toBe(2);
      expect(summary.succeeded).toBe(summary.requests - 2);
      expect(summary.failedWithoutNotification).toEqual([]);
      expect(summary.duplicateAccounts).toEqual([]);
      // The aborted executions' operations ran to their end; one reaper period later
      // their slots are free.
      f.bus.runSchedules();
      await f.idle();
      expect(await semaphoreState(f)).toEqual({ count: 0, holders: [], waiters: 0 });
      // Each aborted execution's account was created by Control Tower all the same: the
      // failure topic says what exists and how to bring it under management.
      const topic = f.lambda.functionFor('notify').environment.FAILURE_TOPIC_ARN;
      const orphans = f.landingZone
        .messages(topic)
        .map((m) => JSON.parse(m.message))
        .filter((m) => m.kind === 'ORPHANED_CONTROL_TOWER_OPERATION');
      expect(orphans).toHaveLength(2);
      for (const o of orphans) {
        expect(o).toMatchObject({ recordStatus: 'SUCCEEDED', serviceCatalogRecordId: expect.any(String) });
        expect(o.toResume).toContain('Write the account request again');
      }
    });
  },
);

test(`every API throttled at 50 % (each service its own throttling error, Organizations its ConcurrentModificationException), ${THROTTLED_N} requests: all succeed`, async () => {
  const { summary, factory: f } = await runScenario({
    template: faultTemplate(),
    requests: generateRequests(THROTTLED_N, 'half-throttled').map((r) => ({
      request: r,
      label: r.accountName,
    })),
    createMinutes: 5,
    faults: { throttle: { rate: 0.5 } },
    customizations: false,
    keepOpen: true,
  });
  factory = f;
  report('every API throttled at 50 %', summary);
  // What failed, if anything: the error each failure notification names.
  const failures = notifications(f, 'failure').map(
    (m) => `${m.requestId}: ${m.error?.name}: ${m.error?.cause}`,
  );
  if (failures.length) console.log(failures.join('\n'));
  const kinds = Object.keys(f.landingZone.faultsInjected.byKind);

  expect(kinds.some((k) => k.startsWith('throttle:ServiceCatalog.'))).toBe(true);
  expect(kinds.some((k) => k.startsWith('throttle:Organizations.'))).toBe(true);
  expect(summary.succeeded).toBe(THROTTLED_N);
  expect(summary.failed).toBe(0);
  expect(summary.duplicateAccounts).toEqual([]);
  expect(summary.peakConcurrentControlTowerOperations).toBeLessThanOrEqual(summary.semaphoreLimit);
  expect(await semaphoreState(f)).toEqual({ count: 0, holders: [], waiters: 0 });
});

test('Step Functions throttled at 50 %: no execution waits for its slot past one reaper period', async () => {
  const { summary, factory: f } = await runScenario({
    template: faultTemplate(),
    requests: generateRequests(12, 'sfn-throttled').map((r) => ({ request: r, label: r.accountName })),
    createMinutes: 5,
    faults: { throttle: { rate: 0.5, services: ['SFNClient'] } },
    customizations: false,
    keepOpen: true,
  });
  factory = f;
  report('Step Functions throttled at 50 %', summary);

  expect(f.landingZone.faultsInjected.total).toBeGreaterThan(0);
  expect(summary.succeeded).toBe(12);
  // No Acquire slot task ran into its timeout (6 h): every wait ended by a wake-up,
  // a re-entry or the reaper.
  for (const e of f.executions()) {
    expect([e.name, e.transitionsByState['Acquire slot'] ?? 0]).toEqual([e.name, 1]);
  }
  expect(summary.makespanSeconds).toBeLessThan(6 * 3600);
  expect(await semaphoreState(f)).toEqual({ count: 0, holders: [], waiters: 0 });
});

test('the account name edited while the account is being created: the new name lands', async () => {
  factory = await startFactory(faultTemplate());
  const [request] = generateRequests(1, 'renamed');
  await factory.submit(request);
  await waitFor(
    () =>
      factory!
        .executions()
        .some((e) => e.status === 'RUNNING' && e.currentState === 'Wait for Control Tower'),
    'the creation to run',
  );
  const renamed = { ...request, accountName: `${request.accountName}-new` };
  await factory.submit(renamed);
  await settle(factory);

  const lz = factory.landingZone;
  expect(lz.account(request.accountEmail)?.name).toBe(renamed.accountName);
  expect(lz.accountsCreatedByEmail[request.accountEmail.toLowerCase()]).toBe(1);
  const latest = latestExecutions(factory).get(request.accountEmail)!;
  expect([latest.status, latest.error]).toEqual(['SUCCEEDED', undefined]);
  expect(notifications(factory, 'failure')).toEqual([]);
  expect(await semaphoreState(factory)).toEqual({ count: 0, holders: [], waiters: 0 });
});
