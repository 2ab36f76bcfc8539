import type { LocalFactory } from '../../local/engine';
import type { CfnTemplate } from '../../local/engine/template';
import { malformedRequests, type MalformedRequest } from '../fixtures/malformed-requests';
import { faultTemplate, mutatingCalls, notifications, scan, semaphoreState, startFactory } from './helpers';

/**
 * Malformed requests through the whole engine: written to the requests table,
 * delivered by the stream, validated by the workflow. Each ends in a failure
 * notification that names the field, and nothing is written to the organization.
 * A sample of the corpus (every run costs real time): the first, middle and last
 * entries of each category.
 */

const usableEmail = (r: unknown) => {
  const email = (r as { accountEmail?: unknown } | null)?.accountEmail;
  return typeof email === 'string' && email.trim().length > 0;
};

function sample(corpus: MalformedRequest[]): MalformedRequest[] {
  const byCategory = new Map<string, MalformedRequest[]>();
  for (const e of corpus) byCategory.set(e.category, [...(byCategory.get(e.category) ?? []), e]);
  const picked: MalformedRequest[] = [];
  for (const entries of byCategory.values()) {
    const keyed = entries.filter((e) => usableEmail(e.request));
    for (const i of new Set([0, Math.floor(keyed.length / 2), keyed.length - 1]))
      if (keyed[i]) picked.push(keyed[i]);
  }
  return picked;
}

const corpus = malformedRequests();
const keyed = sample(corpus);
const unkeyed = corpus.filter((e) => !usableEmail(e.request)).slice(0, 4);

let template: CfnTemplate;
let factory: LocalFactory;

beforeAll(async () => {
  template = faultTemplate();
  // No scheduled rules: the suite counts every mutating call, and the hourly account-index
  // reconcile (an AssumeRole into the management account) would come in after 18 s at scale 200.
  factory = await startFactory(template, { schedules: false });
});

afterAll(async () => {
  await factory?.close();
});

test('the sample covers every category of the corpus', () => {
  expect(new Set(keyed.map((e) => e.category))).toEqual(new Set(corpus.map((e) => e.category)));
  expect(keyed.length).toBeGreaterThanOrEqual(30);
});

test.each(keyed)(
  '$name: a failure notification naming $field, nothing written to the organization',
  async (entry) => {
    const { id, version } = await factory.submit(entry.request);
    await factory.idle();

    const execution = factory
      .executions()
      .find(
        (e) =>
          (e.input as { requestId: string; version: number }).requestId === id &&
          (e.input as { version: number }).version === version,
      )!;
    expect([execution.status, execution.error]).toEqual(['FAILED', 'InvalidAccountRequest']);
    expect(execution.transitionsByState['Acquire slot']).toBeUndefined();
    const message = notifications(factory, 'failure').find(
      (m) => m.requestId === id && m.version === version,
    );
    expect(message?.error).toMatchObject({ name: 'InvalidAccountRequest' });
    const { field, cause } = message!.error!;
    const namesField = field === entry.field || field?.startsWith(`${entry.field}.`);
    expect(namesField ? field : `field ${field} (cause: ${cause})`).toBe(field);
    expect(cause.startsWith(`${field}`)).toBe(true);
  },
);

test('requests without a usable accountEmail cannot be written: submit throws, nothing is stored or started', async () => {
  const before = { executions: factory.executions().length, deliveries: factory.requests.deliveries.length };
  const items = (await scan(factory, 'requests')).length;

  for (const entry of unkeyed) {
    await expect(factory.submit(entry.request)).rejects.toThrow(/accountEmail/);
  }

  expect((await scan(factory, 'requests')).length).toBe(items);
  expect(factory.executions()).toHaveLength(before.executions);
  expect(factory.requests.deliveries).toHaveLength(before.deliveries);
});

test('after the whole sample: no Control Tower operation, no account, no mutating call, no slot taken', async () => {
  const lz = factory.landingZone;
  expect(lz.controlTowerOperations).toEqual([]);
  expect(lz.accountsCreatedByEmail).toEqual({});
  expect(lz.provisionRequestsByEmail).toEqual({});
  // The only writes: the trigger starting each execution, and the failure notifications.
  expect(mutatingCalls(factory)).toEqual({
    // The deploy associated the management role with Account Factory's portfolio.
    'ServiceCatalog.AssociatePrincipalWithPortfolio': 1,
    'SFN.StartExecution': keyed.length,
    'SNS.Publish': keyed.length,
  });
  expect(notifications(factory, 'failure')).toHaveLength(keyed.length);
  expect(notifications(factory, 'success')).toEqual([]);
  expect(await semaphoreState(factory)).toEqual({ count: 0, holders: [], waiters: 0 });
  expect(await scan(factory, 'metadata')).toEqual([]);
});
