import type { LocalFactory } from '../../local/engine';
import type { CfnTemplate } from '../../local/engine/template';
import { generateRequests } from '../../local/requests';
import {
  faultTemplate,
  latestExecutions,
  notifications,
  scan,
  semaphoreState,
  startFactory,
} from './helpers';

/**
 * Control Tower faults: operations started outside the factory fill Control Tower's
 * five slots, and an Account Factory operation that ends FAILED.
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

test('a request waits while five operations started outside the factory hold Control Tower, then succeeds', async () => {
  factory = await startFactory(template);
  const lz = factory.landingZone;
  lz.setFaults({ externalOperations: { count: 5, seconds: 900 } });
  const [request] = generateRequests(1, 'busy');

  await factory.submit(request);
  await factory.idle();

  const [execution] = factory.executions();
  expect(execution.status).toBe('SUCCEEDED');
  // ProvisionProduct was refused while the external operations ran, and retried (ControlTowerBusy).
  expect(lz.refusedOperations).toBeGreaterThan(0);
  expect(execution.transitionsByState['Provision account']).toBe(1);
  expect(
    factory.lambda.invocations.filter(
      (i) => i.handler === 'provision-account' && i.errorName === 'ControlTowerBusy',
    ).length,
  ).toBeGreaterThan(0);
  const external = lz.controlTowerOperations.filter((o) => o.type === 'EXTERNAL');
  const ours = lz.controlTowerOperations.filter((o) => o.type === 'PROVISION');
  expect(external).toHaveLength(5);
  expect(ours).toHaveLength(1);
  // Ours started once the external ones had ended: Control Tower never ran more than five.
  expect(ours[0].start).toBeGreaterThanOrEqual(Math.min(...external.map((o) => o.end)));
  expect(lz.peakConcurrentOperations).toBeLessThanOrEqual(5);
  expect(lz.accountsCreatedByEmail).toEqual({ [request.accountEmail]: 1 });
  expect(notifications(factory, 'failure')).toEqual([]);
  expect(await semaphoreState(factory)).toEqual({ count: 0, holders: [], waiters: 0 });
});

test('a failed Control Tower operation is reported with its cause, frees its slot, leaves the others alone, and runs again when edited', async () => {
  const requests = generateRequests(3, 'ct-failure');
  const failing = requests[1];
  factory = await startFactory(template, {
    landingZone: { faults: { failProvisioning: [failing.accountEmail] } },
  });
  const lz = factory.landingZone;

  for (const r of requests) await factory.submit(r);
  await factory.idle();

  const latest = latestExecutions(factory);
  expect(latest.get(failing.accountEmail)).toMatchObject({
    status: 'FAILED',
    error: 'ControlTowerOperationFailed',
  });
  for (const r of [requests[0], requests[2]]) {
    expect(latest.get(r.accountEmail)?.status).toBe('SUCCEEDED');
    expect(lz.account(r.accountEmail)?.tags).toEqual(r.tags);
  }
  const failures = notifications(factory, 'failure');
  expect(failures).toHaveLength(1);
  expect(failures[0]).toMatchObject({
    outcome: 'FAILED',
    requestId: failing.accountEmail,
    operation: 'CREATE',
    error: { name: 'ControlTowerOperationFailed' },
  });
  expect(failures[0].error!.cause.length).toBeGreaterThan(0);
  expect(lz.faultsInjected.byKind.failProvisioning).toBeGreaterThan(0);
  expect(lz.account(failing.accountEmail)).toBeUndefined();
  // The slot went back: no holder left, the counter at zero.
  expect(await semaphoreState(factory)).toEqual({ count: 0, holders: [], waiters: 0 });

  // The cause is fixed; the request is edited (a tag changes) and runs again.
  lz.setFaults({});
  const edited = { ...failing, tags: { ...failing.tags, attempt: 'second' } };
  const { version } = await factory.submit(edited);
  await factory.idle();

  expect(version).toBe(2);
  const rerun = latestExecutions(factory).get(failing.accountEmail)!;
  expect([rerun.status, rerun.error, rerun.cause]).toEqual(['SUCCEEDED', undefined, undefined]);
  expect((rerun.input as { version: number }).version).toBe(2);
  expect(lz.account(failing.accountEmail)).toMatchObject({ status: 'ACTIVE', tags: edited.tags });
  expect(lz.accountsCreatedByEmail).toEqual(Object.fromEntries(requests.map((r) => [r.accountEmail, 1])));
  const metadata = (await scan(factory, 'metadata')).find((i) => i.email === failing.accountEmail);
  expect(metadata).toMatchObject({
    requestVersion: 2,
    lastOutcome: 'SUCCEEDED',
    request: { tags: edited.tags },
  });
  expect(
    notifications(factory, 'success')
      .map((m) => m.requestId)
      .sort(),
  ).toEqual(requests.map((r) => r.accountEmail).sort());
  expect(await semaphoreState(factory)).toEqual({ count: 0, holders: [], waiters: 0 });
});
