import type { LocalFactory } from '../../local/engine';
import { evaluateAlarms, formatMetrics, metricLabel } from '../../local/engine/metrics';
import type { CfnTemplate } from '../../local/engine/template';
import { generateRequests } from '../../local/requests';
import { runScenario } from '../../local/scenario';
import { METRIC } from '../../lambda/shared/metrics';
import { faultTemplate, startFactory } from './helpers';

/**
 * Operating the factory, on the local engine: the metrics the handlers emit (recorded
 * from their stdout, as CloudWatch Logs would), and the synthesized template's alarms
 * applied to them. A failing Control Tower operation and a slot held for hours each
 * meet their alarm's condition; a healthy run meets none.
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

function alarm(evaluations: ReturnType<typeof evaluateAlarms>, metric: string) {
  const found = evaluations.find((e) => e.metric === metric);
  if (!found) throw new Error(`no alarm on ${metric} in the template`);
  return found;
}

test('a run with a failing Control Tower operation: the metrics record it, and its alarm condition is met', async () => {
  const requests = generateRequests(3, 'monitoring');
  const failing = requests[1];
  const { summary, factory: f } = await runScenario({
    template,
    requests: requests.map((r) => ({ request: r, label: r.accountName })),
    createMinutes: 10,
    customizations: false,
    faults: { failProvisioning: [failing.accountEmail] },
    keepOpen: true,
  });
  factory = f;
  expect(summary).toMatchObject({ succeeded: 2, failed: 1 });
  const recorded = f.lambda.metrics;

  // What the handlers emitted, each where it happened.
  expect(recorded.sum(METRIC.ACCOUNTS_VENDED)).toBe(2);
  expect(recorded.sum(METRIC.REQUESTS_FAILED)).toBe(1);
  expect(recorded.sum(METRIC.STEP_FAILURES, { ErrorName: 'ControlTowerOperationFailed' })).toBe(1);
  expect(recorded.sum(METRIC.CONTROL_TOWER_FAILED)).toBe(1);
  expect(recorded.sum(METRIC.CONTROL_TOWER_SUCCEEDED)).toBe(2);
  expect(recorded.sum(METRIC.EXECUTIONS_STARTED)).toBe(3);
  expect(recorded.sum(METRIC.TRIGGER_RECORDS_FAILED)).toBe(0);
  // Each Control Tower operation took the emulated 10 minutes, measured by whichever saw it end
  // first and completed the wait: the lifecycle event, or the wait's own read of the record.
  // On the virtual clock the steps cost no emulated time: it is seen within the lifecycle
  // event's delivery delay (at most 4 emulated seconds) of its end.
  const durations = recorded.points(METRIC.CONTROL_TOWER_DURATION);
  expect(durations).toHaveLength(3);
  for (const d of durations) {
    expect(d.value).toBeGreaterThanOrEqual(600);
    expect(d.value).toBeLessThanOrEqual(604);
    expect(['control-tower-event', 'await-control-tower']).toContain(d.handler);
  }
  expect(recorded.points(METRIC.SLOT_WAIT)).toHaveLength(3);
  // Every data point carries the factory's name, and nothing that identifies an account.
  const factoryName = f.lambda.functionFor('notify').environment.ACCOUNT_FACTORY_NAME;
  expect(factoryName).toBeTruthy();
  for (const p of recorded.datapoints) {
    expect(p.namespace).toBe('AccountFactory');
    expect(p.dimensions.Factory).toBe(factoryName);
    expect(Object.keys(p.dimensions).every((k) => ['Factory', 'ErrorName', 'Lock'].includes(k))).toBe(true);
  }

  // The summary carries them, and prints them.
  const byLabel = Object.fromEntries(summary.metrics.map((m) => [metricLabel(m), m]));
  expect(byLabel.AccountsVended.sum).toBe(2);
  expect(byLabel['StepFailures{ErrorName=ControlTowerOperationFailed}'].sum).toBe(1);
  const text = formatMetrics(summary.metrics).join('\n');
  expect(text).toMatch(/AccountsVended +2\n/);
  expect(text).toMatch(/ControlTowerOperationDuration +3 values: average 1\d\.\d min/);

  // The template's alarms, applied to what was recorded.
  const evaluations = evaluateAlarms(template, recorded);
  expect(alarm(evaluations, METRIC.CONTROL_TOWER_FAILED).state).toBe('ALARM');
  expect(alarm(evaluations, `${METRIC.OLDEST_SLOT_AGE}{Lock=control-tower}`).state).toBe('OK');
  expect(alarm(evaluations, `${METRIC.OLDEST_WAITER_AGE}{Lock=control-tower}`).state).toBe('OK');
  expect(alarm(evaluations, METRIC.CUSTOMIZATIONS_FAILED).state).toBe('OK');
});

test('a slot held for hours (a Control Tower operation that does not end): the reaper measures it and the alarm condition is met', async () => {
  // Four emulated hours of Control Tower, on the virtual clock.
  factory = await startFactory(template, {
    landingZone: { controlTower: { createSeconds: 4 * 3600 } },
    customizations: false,
  });
  const [request] = generateRequests(1, 'stuck');
  await factory.submit(request);
  await factory.idle();
  expect(factory.executions()[0].status).toBe('SUCCEEDED');

  const recorded = factory.lambda.metrics;
  // The reaper (every 5 emulated minutes) saw the slot age past 3 hours while the operation ran.
  const ages = recorded.points(METRIC.OLDEST_SLOT_AGE, { Lock: 'control-tower' });
  expect(ages.length).toBeGreaterThan(10);
  expect(ages.every((p) => p.handler === 'semaphore-cleanup')).toBe(true);
  expect(Math.max(...ages.map((p) => p.value))).toBeGreaterThan(3 * 3600);
  expect(recorded.max(METRIC.SLOTS_IN_USE, { Lock: 'control-tower' })).toBe(1);

  const evaluations = evaluateAlarms(template, recorded);
  const held = alarm(evaluations, `${METRIC.OLDEST_SLOT_AGE}{Lock=control-tower}`);
  expect(held.state).toBe('ALARM');
  expect(held.breaching.every((b) => b.value > 3 * 3600)).toBe(true);
  expect(alarm(evaluations, METRIC.CONTROL_TOWER_FAILED).state).toBe('OK');
});
