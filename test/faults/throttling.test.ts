import { ListRootsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { createClient } from '../../lambda/shared/clients';
import { BUSY_RETRY_ATTEMPTS } from '../../lambda/shared/retry';
import { SDK_MAX_ATTEMPTS } from '../../local/engine/sdk-retry';
import type { LocalFactory } from '../../local/engine';
import type { CfnTemplate } from '../../local/engine/template';
import { generateRequests } from '../../local/requests';
import { faultTemplate, latestExecutions, notifications, semaphoreState, startFactory } from './helpers';

/**
 * Throttling on every emulated API: a fifth of all calls fail with the service's
 * throttling error (TooManyRequestsException, ConcurrentModificationException on
 * Organizations) before they have any effect. The SDK's standard retry (which the
 * engine keeps in front of the emulator, as a real client has it) and the state
 * machine's retries absorb them.
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

test('every request completes and no account is created twice when a fifth of all calls are throttled', async () => {
  factory = await startFactory(template, { landingZone: { faults: { throttle: { rate: 0.2 } } } });
  const requests = generateRequests(4, 'throttled');

  for (const r of requests) await factory.submit(r);
  await factory.idle();

  const lz = factory.landingZone;
  const injected = lz.faultsInjected;
  expect(injected.total).toBeGreaterThan(0);
  expect(Object.keys(injected.byKind).some((k) => k.startsWith('throttle:Organizations.'))).toBe(true);
  const latest = latestExecutions(factory);
  expect([...latest.values()].map((e) => [e.name, e.status, e.error])).toEqual(
    [...latest.values()].map((e) => [e.name, 'SUCCEEDED', undefined]),
  );
  expect(latest.size).toBe(requests.length);
  expect(lz.accountsCreatedByEmail).toEqual(Object.fromEntries(requests.map((r) => [r.accountEmail, 1])));
  for (const r of requests) {
    expect(lz.account(r.accountEmail)?.tags).toEqual(r.tags);
  }
  expect(
    notifications(factory, 'success')
      .map((m) => m.requestId)
      .sort(),
  ).toEqual(requests.map((r) => r.accountEmail).sort());
  expect(notifications(factory, 'failure')).toEqual([]);
  expect(await semaphoreState(factory)).toEqual({ count: 0, holders: [], waiters: 0 });
});

describe('the retries in front of the emulated landing zone', () => {
  test("a throttled call is tried three times by the SDK (standard mode), and that eight times by the handlers' busy retry, then fails", async () => {
    factory = await startFactory(template, {
      landingZone: {
        faults: {
          throttle: { rate: 1, errors: ['TooManyRequestsException'], services: ['OrganizationsClient'] },
        },
      },
    });
    const organizations = createClient(OrganizationsClient);

    await expect(organizations.send(new ListRootsCommand({}))).rejects.toMatchObject({
      name: 'TooManyRequestsException',
    });

    expect(factory.landingZone.callCounts['Organizations.ListRoots']).toBe(
      SDK_MAX_ATTEMPTS * BUSY_RETRY_ATTEMPTS,
    );
    factory.landingZone.setFaults({});
    await expect(organizations.send(new ListRootsCommand({}))).resolves.toMatchObject({
      Roots: [expect.anything()],
    });
  });

  test("an error the SDK does not retry (ConcurrentModificationException) is retried by the handlers' busy retry only", async () => {
    factory = await startFactory(template, {
      landingZone: {
        faults: {
          throttle: {
            rate: 1,
            errors: ['ConcurrentModificationException'],
            services: ['OrganizationsClient'],
          },
        },
      },
    });
    const organizations = createClient(OrganizationsClient);

    await expect(organizations.send(new ListRootsCommand({}))).rejects.toMatchObject({
      name: 'ConcurrentModificationException',
    });

    expect(factory.landingZone.callCounts['Organizations.ListRoots']).toBe(BUSY_RETRY_ATTEMPTS);
  });
});
