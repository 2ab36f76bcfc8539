import { ServiceCatalogClient, UpdateProvisionedProductCommand } from '@aws-sdk/client-service-catalog';
import { createClient } from '../../../lambda/shared/clients';
import type { ControlTowerLifecycleEvent } from '../../../local/emulator';
import { accountFactory, landingZone, MINUTE, provision, uninstall } from './fixture';

afterEach(uninstall);

const TIMINGS = { jitter: 0, createSeconds: 600, updateSeconds: 300 };

function listen(lz: ReturnType<typeof landingZone>['lz']) {
  const received: { at: number; event: ControlTowerLifecycleEvent }[] = [];
  lz.onControlTowerEvent((event) => received.push({ at: lz.clock.nowMs(), event }));
  return received;
}

describe('Control Tower lifecycle events', () => {
  test('a finished create sends CreateManagedAccount in the documented shape, a few seconds later, without any poll', async () => {
    const { clock, lz } = landingZone({ controlTower: TIMINGS, lifecycleEvents: { deliverySeconds: 4 } });
    const received = listen(lz);
    const sc = createClient(ServiceCatalogClient);
    const ids = await accountFactory(sc);
    const started = await provision(sc, ids, {
      name: 'Events One',
      email: 'events-1@example.com',
      ou: 'Sandbox',
    });
    const startedAt = clock.nowMs();

    await clock.advance(10 * MINUTE - 1000);
    expect(received).toHaveLength(0);
    await clock.advance(1000 + 4000);

    expect(received).toHaveLength(1);
    const { at, event } = received[0];
    const account = lz.account('events-1@example.com')!;
    expect(event).toMatchObject({
      version: '0',
      'detail-type': 'AWS Service Event via CloudTrail',
      source: 'aws.controltower',
      account: '111111111111',
      region: 'us-east-1',
      resources: [],
      detail: {
        eventSource: 'controltower.amazonaws.com',
        eventName: 'CreateManagedAccount',
        eventType: 'AwsServiceEvent',
        readOnly: false,
        userIdentity: { accountId: '111111111111', invokedBy: 'AWS Internal' },
        serviceEventDetails: {
          createManagedAccountStatus: {
            organizationalUnit: { organizationalUnitName: 'Sandbox', organizationalUnitId: account.ouId },
            account: { accountName: 'Events One', accountId: account.id },
            state: 'SUCCEEDED',
            message: 'AWS Control Tower successfully created a managed account.',
          },
        },
      },
    });
    const status = event.detail.serviceEventDetails.createManagedAccountStatus;
    expect(status.completedTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$/);
    expect(Date.parse(status.requestedTimestamp.replace('+0000', 'Z'))).toBe(
      Math.floor(startedAt / 1000) * 1000,
    );
    // Delivered between half and all of the delivery delay after the end.
    expect(at - (startedAt + 10 * MINUTE)).toBeGreaterThanOrEqual(2000);
    expect(at - (startedAt + 10 * MINUTE)).toBeLessThanOrEqual(4000);
    expect(started.RecordDetail!.RecordId).toBeDefined();
  });

  test('an update sends UpdateManagedAccount with the new OU; a failed create sends FAILED without an account ID', async () => {
    const { clock, lz } = landingZone({
      controlTower: TIMINGS,
      faults: { failProvisioning: ['broken@example.com'] },
    });
    const received = listen(lz);
    const sc = createClient(ServiceCatalogClient);
    const ids = await accountFactory(sc);
    const started = await provision(sc, ids, { name: 'Mover', email: 'mover@example.com', ou: 'Sandbox' });
    await provision(sc, ids, { name: 'Broken', email: 'broken@example.com', ou: 'Sandbox' });
    await clock.advance(11 * MINUTE);
    await sc.send(
      new UpdateProvisionedProductCommand({
        ProvisionedProductId: started.RecordDetail!.ProvisionedProductId,
        ProductId: ids.productId,
        ProvisioningArtifactId: ids.artifactId,
        ProvisioningParameters: [
          { Key: 'AccountEmail', UsePreviousValue: true },
          { Key: 'AccountName', UsePreviousValue: true },
          { Key: 'ManagedOrganizationalUnit', Value: 'Workloads' },
          { Key: 'SSOUserEmail', UsePreviousValue: true },
          { Key: 'SSOUserFirstName', UsePreviousValue: true },
          { Key: 'SSOUserLastName', UsePreviousValue: true },
        ],
        UpdateToken: 'upd-1',
      }),
    );
    await clock.advance(6 * MINUTE);

    const byName = (n: string) => received.map((r) => r.event.detail).filter((d) => d.eventName === n);
    const broken = byName('CreateManagedAccount')
      .map((d) => d.serviceEventDetails.createManagedAccountStatus)
      .find((s) => s.account.accountName === 'Broken')!;
    expect(broken.state).toBe('FAILED');
    expect(broken.account.accountId).toBeUndefined();
    const [update] = byName('UpdateManagedAccount');
    expect(update.serviceEventDetails.updateManagedAccountStatus).toMatchObject({
      organizationalUnit: { organizationalUnitName: 'Workloads' },
      account: { accountName: 'Mover', accountId: lz.account('mover@example.com')!.id },
      state: 'SUCCEEDED',
    });
  });

  test('in fault mode some events are lost and some delivered twice; every emitted event is recorded', async () => {
    const { clock, lz } = landingZone({
      controlTower: { ...TIMINGS, maxConcurrentOperations: 20 },
      faults: { lifecycleEvents: { lose: 0.3, duplicate: 0.3 } },
    });
    const received = listen(lz);
    const sc = createClient(ServiceCatalogClient);
    const ids = await accountFactory(sc);
    for (let n = 0; n < 20; n++) {
      await provision(sc, ids, { name: `Flaky ${n}`, email: `flaky-${n}@example.com`, ou: 'Sandbox' });
    }
    await clock.advance(11 * MINUTE);

    const faults = lz.faultsInjected.byKind;
    expect(lz.controlTowerEvents).toHaveLength(20);
    expect(faults['lifecycleEvent:lost']).toBeGreaterThan(0);
    expect(faults['lifecycleEvent:duplicated']).toBeGreaterThan(0);
    expect(received).toHaveLength(20 - faults['lifecycleEvent:lost'] + faults['lifecycleEvent:duplicated']);
    const ids2 = received.map((r) => r.event.id);
    expect(new Set(ids2).size).toBe(20 - faults['lifecycleEvent:lost']);
  });

  test('rejects fault rates outside 0..1', () => {
    expect(() => landingZone({ faults: { lifecycleEvents: { lose: 1.5 } } })).toThrow(
      /faults.lifecycleEvents.lose must be between 0 and 1/,
    );
  });
});
