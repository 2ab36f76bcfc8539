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
  waitFor,
} from './helpers';

/**
 * At-least-once delivery of the requests table's stream (every record delivered
 * twice), and edits that follow each other before the previous version has finished:
 * one execution per request version, none started twice, and the account ends as the
 * last edit says.
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

function executionsOf(f: LocalFactory, requestId: string) {
  return f.executions().filter((e) => (e.input as { requestId: string }).requestId === requestId);
}

async function expectEndsAsLastEdit(
  f: LocalFactory,
  last: ReturnType<typeof generateRequests>[number],
  version: number,
) {
  const lz = f.landingZone;
  const account = lz.account(last.accountEmail)!;
  expect(account).toMatchObject({ name: last.accountName, ouName: last.organizationalUnit, tags: last.tags });
  expect(lz.accountsCreatedByEmail).toEqual({ [last.accountEmail]: 1 });
  const metadata = (await scan(f, 'metadata')).filter((i) => i.email === last.accountEmail);
  expect(metadata).toEqual([
    expect.objectContaining({
      accountId: account.id,
      requestVersion: version,
      lastOutcome: 'SUCCEEDED',
      request: expect.objectContaining({ tags: last.tags, customFields: last.customFields }),
      appliedTagKeys: Object.keys(last.tags ?? {}).sort(),
    }),
  ]);
  expect(await semaphoreState(f)).toEqual({ count: 0, holders: [], waiters: 0 });
}

test('every record delivered twice, and two edits in quick succession: one execution per version, the last edit wins', async () => {
  factory = await startFactory(template, { streamFaults: { duplicateDelivery: true } });
  const [request] = generateRequests(1, 'duplicated');
  await factory.submit(request);
  await factory.idle();

  // Two edits, the second written while the first still runs.
  const edit1 = {
    ...request,
    tags: { ...request.tags, stage: 'one' },
    customFields: { purpose: 'first edit' },
  };
  // The second edit drops the owner tag: the account loses it.
  const keptTags = Object.fromEntries(Object.entries(request.tags!).filter(([k]) => k !== 'owner'));
  const edit2 = { ...request, tags: { ...keptTags, stage: 'two' }, customFields: { purpose: 'second edit' } };
  await factory.submit(edit1);
  await factory.submit(edit2);
  await factory.idle();

  const executions = executionsOf(factory, request.accountEmail);
  expect(executions.map((e) => (e.input as { version: number }).version)).toEqual([1, 2, 3]);
  expect(new Set(executions.map((e) => e.name)).size).toBe(executions.length);
  expect(executions.at(-1)!.status).toBe('SUCCEEDED');
  // Each record reached the trigger twice; every delivery succeeded (the duplicate start was absorbed).
  const deliveries = factory.requests.deliveries;
  expect(deliveries).toHaveLength(6);
  expect(deliveries.filter((d) => !d.ok || d.sentToFailureDestination)).toEqual([]);
  expect(new Set(deliveries.map((d) => d.record.eventID)).size).toBe(3);
  expect(notifications(factory, 'failure').filter((m) => m.version === 3)).toEqual([]);
  await expectEndsAsLastEdit(factory, edit2, 3);
});

test('an edit written while the creation still runs: one account, which ends as the edit says', async () => {
  factory = await startFactory(template, { streamFaults: { duplicateDelivery: true } });
  const [request] = generateRequests(1, 'raced');
  const edit = {
    ...request,
    tags: { ...request.tags, stage: 'edited' },
    customFields: { purpose: 'edited' },
  };

  await factory.submit(request);
  // The edit is written once Control Tower is creating the account of version 1.
  await waitFor(
    () => factory!.executions().some((e) => e.enteredAt['Wait for Control Tower']),
    'version 1 to provision',
  );
  await factory.submit(edit);
  await factory.idle();

  const executions = executionsOf(factory, request.accountEmail);
  expect(executions.map((e) => (e.input as { version: number }).version)).toEqual([1, 2]);
  expect(new Set(executions.map((e) => e.name)).size).toBe(2);
  // Version 2 found the account's product being created by version 1: it waited, then
  // applied its own parameters through an update of that product.
  expect(executions.map((e) => [e.status, e.error])).toEqual([
    ['SUCCEEDED', undefined],
    ['SUCCEEDED', undefined],
  ]);
  expect(latestExecutions(factory).get(request.accountEmail)!.output).toMatchObject({
    provisioning: { recordType: 'UPDATE_PROVISIONED_PRODUCT' },
  });
  expect(notifications(factory, 'failure')).toEqual([]);
  expect(factory.requests.deliveries.filter((d) => !d.ok)).toEqual([]);
  await expectEndsAsLastEdit(factory, edit, 2);
});
