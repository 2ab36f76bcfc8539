import { generateRequests } from '../../../local/requests';
import { cachedTemplate } from '../../fixtures/templates';
import type { CfnTemplate } from '../../../local/engine/template';
import type { LocalFactory } from '../../../local/engine';
import { notifications, request, semaphoreState, startFactory } from './harness';

let template: CfnTemplate;
let factory: LocalFactory;

beforeAll(() => {
  template = cachedTemplate({ exampleCustomizations: false });
});

afterEach(async () => {
  await factory?.close();
});

// Many requests at once against the limit of five (never more than five operations, each
// account created once, every request succeeds, none starves): test/faults/load.test.ts,
// with thirty requests; the bench runs the same up to 1,000.

test('a failing Control Tower operation: failure notification with the cause, slot released, the others unaffected', async () => {
  factory = await startFactory(template, {
    landingZone: { faults: { failProvisioning: ['doomed@example.com'] } },
  });

  await factory.submit(request('doomed'));
  for (const r of generateRequests(6, 'fine')) await factory.submit(r);
  await factory.idle();

  const byRequest = new Map(
    factory.executions().map((e) => [(e.input as { requestId: string }).requestId, e]),
  );
  expect(byRequest.get('doomed@example.com')!.status).toBe('FAILED');
  expect(byRequest.get('doomed@example.com')!.error).toBe('ControlTowerOperationFailed');
  for (let i = 1; i <= 6; i++) expect(byRequest.get(`fine-00${i}@example.com`)!.status).toBe('SUCCEEDED');

  const [failure] = notifications(factory, 'failure');
  expect(failure).toMatchObject({
    outcome: 'FAILED',
    requestId: 'doomed@example.com',
    error: { name: 'ControlTowerOperationFailed' },
  });
  expect(failure.error!.cause.length).toBeGreaterThan(0);
  expect(factory.landingZone.account('doomed@example.com')).toBeUndefined();
  expect(await semaphoreState(factory)).toEqual({ count: 0, holders: [], waiters: 0 });
});

test('an execution aborted while its Control Tower operation runs: its slot is kept until the operation ends, then reclaimed, and a waiting request proceeds', async () => {
  factory = await startFactory(template);

  const requests = generateRequests(6, 'queue');
  for (const r of requests) await factory.submit(r);
  // Wait until five hold a slot (polling Control Tower) and the sixth waits for one.
  const holding = () => factory.executions().filter((e) => e.currentState === 'Wait for Control Tower');
  while (holding().length < 5) await new Promise((r) => setTimeout(r, 5));
  const victim = holding()[0];
  factory.stepFunctions.stop(victim.executionArn);
  await factory.idle();

  const executions = factory.executions();
  expect(executions.filter((e) => e.status === 'ABORTED').map((e) => e.executionArn)).toEqual([
    victim.executionArn,
  ]);
  // The four other holders, and the sixth request that was waiting for a slot.
  expect(executions.filter((e) => e.status === 'SUCCEEDED')).toHaveLength(5);
  // The cleanup Lambda ran on the ABORTED event and released the dead holder.
  const cleanup = factory.bus.delivered.filter(
    (d) => d.event['detail-type'] === 'Step Functions Execution Status Change' && d.ok,
  );
  expect(cleanup.some((d) => (d.event.detail as { status: string }).status === 'ABORTED')).toBe(true);
  // Control Tower never had more than five operations at once, nor was asked for a sixth.
  expect(factory.landingZone.peakConcurrentOperations).toBeLessThanOrEqual(5);
  expect(factory.landingZone.refusedOperations).toBe(0);
  // The victim's operation has ended: the next reaper run frees its slot.
  factory.bus.runSchedules();
  await factory.bus.drain();
  expect(await semaphoreState(factory)).toEqual({ count: 0, holders: [], waiters: 0 });
});
