import type { LocalFactory } from '../../local/engine';
import { STEP } from '../../lib/workflow/step-names';
import { cachedTemplate } from '../fixtures/templates';
import { notifications, request, startFactory } from '../local/workflow/harness';

/**
 * The Control Tower wait ends by event (CreateManagedAccount / UpdateManagedAccount),
 * in both topologies; when an event is lost the slow poll of the record ends it; a
 * duplicated event changes nothing. Control Tower takes 5 emulated minutes here, less
 * than the wait's 10-minute poll interval, so a wait that ends on its first entry was
 * ended by an event (a poll would enter the state again).
 */

const CONTROL_TOWER = { createSeconds: 300, updateSeconds: 180, jitter: 0 };

let factory: LocalFactory | undefined;
afterEach(async () => {
  await factory?.close();
  factory = undefined;
});

const waitEntries = (f: LocalFactory) =>
  f.executions().map((e) => e.history.filter((h) => h.state === STEP.WAIT_FOR_CONTROL_TOWER).length);

/** The lifecycle events the factory's event function was given, and whether each was handled. */
const handled = (f: LocalFactory) => f.bus.delivered.filter((d) => d.event.source === 'aws.controltower');

describe.each(['delegated', 'management'] as const)('the %s topology', (topology) => {
  test('the lifecycle event ends the wait: one entry of the wait per execution, no poll', async () => {
    factory = await startFactory(cachedTemplate({ topology, exampleCustomizations: false }), {
      landingZone: { controlTower: CONTROL_TOWER },
    });
    for (const n of ['ev-a', 'ev-b']) await factory.submit(request(`${topology}-${n}`));
    await factory.idle();

    expect(factory.executions().map((e) => e.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(waitEntries(factory)).toEqual([1, 1]);
    expect(factory.landingZone.controlTowerEvents.map((e) => e.detail.eventName)).toEqual([
      'CreateManagedAccount',
      'CreateManagedAccount',
    ]);
    expect(handled(factory).map((d) => d.ok)).toEqual([true, true]);
    if (topology === 'delegated') {
      // Forwarded by the management stack's rule to the factory account's bus.
      expect(factory.managementBus?.delivered.map((d) => d.ok)).toEqual([true, true]);
    }
    expect(notifications(factory, 'success')).toHaveLength(2);
  });
});

describe('events are best effort', () => {
  test('every event lost: the poll of the record ends each wait, and the requests succeed', async () => {
    factory = await startFactory(cachedTemplate({ exampleCustomizations: false }), {
      landingZone: { controlTower: CONTROL_TOWER, faults: { lifecycleEvents: { lose: 1 } } },
    });
    for (const n of ['lost-a', 'lost-b']) await factory.submit(request(n));
    await factory.idle();

    expect(factory.executions().map((e) => e.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(factory.landingZone.controlTowerEvents).toHaveLength(2);
    expect(factory.landingZone.deliveredControlTowerEvents).toHaveLength(0);
    expect(handled(factory)).toHaveLength(0);
    // The wait timed out and was entered again: the second entry read the ended record.
    for (const entries of waitEntries(factory)) expect(entries).toBeGreaterThanOrEqual(2);
    for (const n of ['lost-a', 'lost-b']) {
      expect(factory.landingZone.account(`${n}@example.com`)?.status).toBe('ACTIVE');
    }
    expect(notifications(factory, 'success')).toHaveLength(2);
  });

  test('every event duplicated: each wait ends once, by the first copy; the second finds nothing to do', async () => {
    factory = await startFactory(cachedTemplate({ exampleCustomizations: false }), {
      landingZone: { controlTower: CONTROL_TOWER, faults: { lifecycleEvents: { duplicate: 1 } } },
    });
    for (const n of ['dup-a', 'dup-b']) await factory.submit(request(n));
    await factory.idle();
    await factory.landingZone.controlTowerEventsIdle();
    await factory.idle();

    expect(factory.executions().map((e) => e.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(factory.landingZone.controlTowerEvents).toHaveLength(2);
    expect(factory.landingZone.deliveredControlTowerEvents).toHaveLength(4);
    // Both copies handled without error; no execution waited twice or notified twice.
    expect(handled(factory).map((d) => d.ok)).toEqual([true, true, true, true]);
    expect(waitEntries(factory)).toEqual([1, 1]);
    expect(notifications(factory, 'success')).toHaveLength(2);
    expect(factory.executions()).toHaveLength(2);
  });
});
