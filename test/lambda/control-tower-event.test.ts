import { DescribeRecordCommand, ServiceCatalogClient } from '@aws-sdk/client-service-catalog';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { awaitControlTower } from '../../lambda/await-control-tower';
import { onControlTowerEvent } from '../../lambda/control-tower-event';
import { startSemaphoreFixture, type SemaphoreFixture } from './semaphore-fixture';

const scMock = mockClient(ServiceCatalogClient);
const sfnMock = mockClient(SFNClient);
const serviceCatalog = new ServiceCatalogClient({ region: 'us-east-1' });
const sfn = new SFNClient({ region: 'us-east-1' });

let fx: SemaphoreFixture;
/** Record ID -> status DescribeRecord answers. */
let records: Record<string, 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED'>;
/** Tokens completed, with their output; a second completion answers TaskTimedOut, as Step Functions does. */
let completed: Map<string, unknown>;

beforeAll(async () => {
  fx = await startSemaphoreFixture();
});
afterAll(() => fx.close());

beforeEach(() => {
  scMock.reset();
  sfnMock.reset();
  records = {};
  completed = new Map();
  scMock.on(DescribeRecordCommand).callsFake(({ Id }) => {
    const status = records[Id];
    if (!status)
      throw Object.assign(new Error(`Record ${Id} not found.`), { name: 'ResourceNotFoundException' });
    return {
      RecordDetail: {
        RecordId: Id,
        Status: status,
        RecordErrors:
          status === 'FAILED' ? [{ Code: 'InvalidParameter', Description: 'OU not registered' }] : [],
      },
      RecordOutputs: status === 'SUCCEEDED' ? [{ OutputKey: 'AccountId', OutputValue: '333333333333' }] : [],
    };
  });
  sfnMock.on(SendTaskSuccessCommand).callsFake(({ taskToken, output }) => {
    if (completed.has(taskToken)) {
      throw Object.assign(new Error('Task timed out'), { name: 'TaskTimedOut' });
    }
    completed.set(taskToken, JSON.parse(output));
    return {};
  });
});

const clients = () => ({ ddb: fx.ddb, sfn, serviceCatalog });
let n = 0;
const unique = (s: string) => `${s}-${++n}`;

function lifecycleEvent(
  eventName: string,
  account: { accountName: string; accountId?: string },
  state = 'SUCCEEDED',
): Record<string, unknown> {
  const key =
    eventName === 'CreateManagedAccount' ? 'createManagedAccountStatus' : 'updateManagedAccountStatus';
  return {
    version: '0',
    id: 'e1',
    'detail-type': 'AWS Service Event via CloudTrail',
    source: 'aws.controltower',
    account: '111111111111',
    region: 'us-east-1',
    resources: [],
    detail: {
      eventSource: 'controltower.amazonaws.com',
      eventName,
      eventType: 'AwsServiceEvent',
      serviceEventDetails: {
        [key]: {
          organizationalUnit: { organizationalUnitName: 'Sandbox', organizationalUnitId: 'ou-abcd-11111111' },
          account,
          state,
          message: 'AWS Control Tower successfully created a managed account.',
        },
      },
    },
  };
}

async function register(opts: {
  accountName: string;
  accountId?: string | null;
  recordId: string;
  token: string;
}) {
  return awaitControlTower(clients(), fx.table, {
    taskToken: opts.token,
    executionId: `arn:aws:states:us-east-1:222222222222:execution:provisioning:${opts.token}`,
    recordId: opts.recordId,
    startedAt: '2026-01-01T00:00:00.000Z',
    accountName: opts.accountName,
    accountId: opts.accountId,
  });
}

async function waitItems(recordId: string) {
  const out = await fx.ddb.send(new ScanCommand({ TableName: fx.table }));
  return (out.Items ?? []).filter((i) => i.sk === recordId);
}

test('a CREATE waits under its account name; the CreateManagedAccount event completes it with the record status', async () => {
  const recordId = unique('rec-create');
  records[recordId] = 'IN_PROGRESS';
  const name = unique('Sandbox');
  const registered = await register({ accountName: name, recordId, token: unique('t') });
  expect(registered.outcome).toBe('waiting');
  expect(registered.keys).toEqual([`name#${name.toLowerCase()}`]);

  records[recordId] = 'SUCCEEDED';
  const result = await onControlTowerEvent(
    clients(),
    fx.table,
    lifecycleEvent('CreateManagedAccount', { accountName: name.toUpperCase(), accountId: '333333333333' }),
  );

  expect(result).toMatchObject({ matched: 1, completed: 1, gone: 0, stillRunning: 0 });
  const [output] = [...completed.values()];
  expect(output).toMatchObject({ status: 'SUCCEEDED', recordId, accountId: '333333333333' });
  expect(await waitItems(recordId)).toHaveLength(0);
});

test('an UPDATE is found by account ID even when the event carries the account under a new name', async () => {
  const recordId = unique('rec-update');
  records[recordId] = 'IN_PROGRESS';
  await register({
    accountName: unique('Old name'),
    accountId: '444444444444',
    recordId,
    token: unique('t'),
  });
  records[recordId] = 'FAILED';

  const result = await onControlTowerEvent(
    clients(),
    fx.table,
    lifecycleEvent(
      'UpdateManagedAccount',
      { accountName: unique('Renamed'), accountId: '444444444444' },
      'FAILED',
    ),
  );

  expect(result).toMatchObject({ matched: 1, completed: 1 });
  expect([...completed.values()][0]).toMatchObject({
    status: 'FAILED',
    errors: 'InvalidParameter: OU not registered',
  });
  expect(await waitItems(recordId)).toHaveLength(0);
});

test('a duplicate event completes nothing twice', async () => {
  const recordId = unique('rec-dup');
  records[recordId] = 'IN_PROGRESS';
  const name = unique('Dup');
  await register({ accountName: name, recordId, token: unique('t') });
  records[recordId] = 'SUCCEEDED';
  const event = lifecycleEvent('CreateManagedAccount', { accountName: name, accountId: '333333333333' });

  const results = await Promise.all([
    onControlTowerEvent(clients(), fx.table, event),
    onControlTowerEvent(clients(), fx.table, event),
  ]);
  const again = await onControlTowerEvent(clients(), fx.table, event);

  expect(completed.size).toBe(1);
  expect(results.reduce((sum, r) => sum + r.completed, 0)).toBe(1);
  expect(again).toMatchObject({ matched: 0, completed: 0 });
  expect(sfnMock.commandCalls(SendTaskSuccessCommand).length).toBeLessThanOrEqual(2);
});

test('an event nobody waits for is ignored, and other lifecycle events are not read', async () => {
  const unknown = await onControlTowerEvent(
    clients(),
    fx.table,
    lifecycleEvent('CreateManagedAccount', {
      accountName: unique('Console-made'),
      accountId: '555555555555',
    }),
  );
  const guardrail = await onControlTowerEvent(clients(), fx.table, {
    ...lifecycleEvent('CreateManagedAccount', { accountName: 'x' }),
    detail: {
      eventName: 'EnableGuardrail',
      serviceEventDetails: { enableGuardrailStatus: { state: 'SUCCEEDED' } },
    },
  });

  expect(unknown).toMatchObject({ matched: 0, completed: 0 });
  expect(guardrail).toMatchObject({ eventName: 'EnableGuardrail', matched: 0 });
  expect(scMock.commandCalls(DescribeRecordCommand)).toHaveLength(0);
  expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
});

test('a wait whose record still runs (another account with the same name) is left waiting', async () => {
  const recordId = unique('rec-same-name');
  records[recordId] = 'IN_PROGRESS';
  const name = unique('Shared name');
  const token = unique('t');
  await register({ accountName: name, recordId, token });

  const result = await onControlTowerEvent(
    clients(),
    fx.table,
    lifecycleEvent('CreateManagedAccount', { accountName: name, accountId: '666666666666' }),
  );

  expect(result).toMatchObject({ matched: 1, completed: 0, stillRunning: 1 });
  expect(completed.has(token)).toBe(false);
  expect(await waitItems(recordId)).toHaveLength(1);
});

test('registering after the operation ended (event came first, or lost) completes the wait at once', async () => {
  const recordId = unique('rec-early');
  records[recordId] = 'SUCCEEDED';
  const token = unique('t');

  const result = await register({ accountName: unique('Early'), accountId: '777777777777', recordId, token });

  expect(result.outcome).toBe('completed');
  expect(completed.get(token)).toMatchObject({ status: 'SUCCEEDED', recordId });
  expect(await waitItems(recordId)).toHaveLength(0);
});

test('a re-registration after a timeout replaces the token: the event completes the newest one', async () => {
  const recordId = unique('rec-retimed');
  records[recordId] = 'IN_PROGRESS';
  const name = unique('Slow');
  await register({ accountName: name, recordId, token: 'old-token' + n });
  const fresh = unique('new-token');
  await register({ accountName: name, recordId, token: fresh });
  records[recordId] = 'SUCCEEDED';

  await onControlTowerEvent(
    clients(),
    fx.table,
    lifecycleEvent('CreateManagedAccount', { accountName: name }),
  );

  expect([...completed.keys()]).toEqual([fresh]);
});

test('an account event without the documented fields is a named error', async () => {
  const bad = lifecycleEvent('CreateManagedAccount', { accountName: 'x' });
  (bad.detail as any).serviceEventDetails = { createManagedAccountStatus: { state: 'SUCCEEDED' } };

  await expect(onControlTowerEvent(clients(), fx.table, bad)).rejects.toMatchObject({
    name: 'MalformedLifecycleEvent',
  });
  await expect(onControlTowerEvent(clients(), fx.table, { source: 'aws.s3' })).rejects.toMatchObject({
    name: 'InvalidStepInput',
  });
});
