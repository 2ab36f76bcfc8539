import { DescribeRecordCommand, ServiceCatalogClient } from '@aws-sdk/client-service-catalog';
import { mockClient } from 'aws-sdk-client-mock';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { handler as awaitControlTowerHandler } from '../../lambda/await-control-tower';
import { recordCustomizationsMetrics } from '../../lambda/customizations-result';
import { recordOutcomeMetrics } from '../../lambda/notify';
import { slotWaitSeconds } from '../../lambda/provision-account';
import { emitLockGauges } from '../../lambda/semaphore-cleanup';
import { setClock } from '../../lambda/shared/clock';
import type { NotificationMessage } from '../../lambda/shared/contracts';
import { invocationKeysOf } from '../../lambda/shared/logger';
import { EmfDocument, InvalidMetric, Metrics, MetricUnit } from '../../lambda/shared/metrics';

/** The metrics the handlers emit, as the EMF documents they write. */

function collector() {
  const docs: EmfDocument[] = [];
  const metrics = new Metrics({
    namespace: 'AccountFactory',
    defaultDimensions: { Factory: 'Test/Factory' },
    write: (line) => docs.push(JSON.parse(line) as EmfDocument),
  });
  return { docs, metrics };
}

const AT = new Date('2025-01-01T01:00:00.000Z');
beforeEach(() => setClock({ now: () => AT }));
afterAll(() => setClock(undefined));

function message(overrides: Partial<NotificationMessage>): NotificationMessage {
  return {
    outcome: 'SUCCEEDED',
    requestId: 'sandbox-alice@example.com',
    version: 1,
    operation: 'CREATE',
    accountId: '111111111111',
    accountName: 'sandbox-alice',
    executionArn: 'arn:aws:states:us-east-1:111111111111:execution:Workflow:x',
    durations: { totalSeconds: 1800, controlTowerSeconds: 1500 },
    at: AT.toISOString(),
    ...overrides,
  };
}

describe('the EMF writer', () => {
  test('one document: namespace, the factory dimension, each metric with its unit, the timestamp of the clock', () => {
    const { docs, metrics } = collector();
    metrics.addMetric('AccountsVended', MetricUnit.Count, 1);
    metrics.addMetric('RequestDuration', MetricUnit.Seconds, 30);
    metrics.addMetric('RequestDuration', MetricUnit.Seconds, 40);
    metrics.publishStoredMetrics();
    metrics.publishStoredMetrics(); // nothing stored: nothing written

    expect(docs).toEqual([
      {
        _aws: {
          Timestamp: AT.getTime(),
          CloudWatchMetrics: [
            {
              Namespace: 'AccountFactory',
              Dimensions: [['Factory']],
              Metrics: [
                { Name: 'AccountsVended', Unit: 'Count' },
                { Name: 'RequestDuration', Unit: 'Seconds' },
              ],
            },
          ],
        },
        Factory: 'Test/Factory',
        AccountsVended: 1,
        RequestDuration: [30, 40],
      },
    ]);
  });

  test('a bad metric is a named error and writes nothing', () => {
    const { docs, metrics } = collector();
    expect(() => metrics.addMetric('X', MetricUnit.Count, Number.NaN)).toThrow(InvalidMetric);
    expect(() => metrics.addMetric('', MetricUnit.Count, 1)).toThrow(/1-255 characters/);
    expect(() => metrics.addMetric('X', 'Bytes' as MetricUnit, 1)).toThrow(/not an EMF unit/);
    metrics.addMetric('X', MetricUnit.Count, 1);
    expect(() => metrics.addMetric('X', MetricUnit.Seconds, 1)).toThrow(/stored with unit Count/);
    expect(() => metrics.addDimension('Lock', '')).toThrow(/non-empty/);
    metrics.publishStoredMetrics();
    expect(docs.map((d) => d.X)).toEqual([1]);
  });

  test('POWERTOOLS_METRICS_DISABLED=true writes nothing', () => {
    const { docs, metrics } = collector();
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    try {
      metrics.addMetric('X', MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
    } finally {
      delete process.env.POWERTOOLS_METRICS_DISABLED;
    }
    expect(docs).toEqual([]);
  });
});

describe('what each handler records', () => {
  test('notify: a vended account and how long the request took', () => {
    const { docs, metrics } = collector();
    recordOutcomeMetrics(metrics, message({}));
    metrics.publishStoredMetrics();
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({ AccountsVended: 1, RequestDuration: 1800 });
  });

  test.each([
    ['UPDATE', 'AccountsUpdated'],
    ['IMPORT', 'AccountsImported'],
    ['ADOPT', 'AccountsAdopted'],
    ['CUSTOMIZE', 'AccountsCustomized'],
  ] as const)('notify: %s succeeded counts %s', (operation, metric) => {
    const { docs, metrics } = collector();
    recordOutcomeMetrics(metrics, message({ operation }));
    metrics.publishStoredMetrics();
    expect(docs[0][metric]).toBe(1);
    expect(docs[0].AccountsVended).toBeUndefined();
  });

  test('notify: a removal counts AccountsRemoved', () => {
    const { docs, metrics } = collector();
    recordOutcomeMetrics(metrics, message({ outcome: 'REMOVED', operation: 'REMOVE' }));
    metrics.publishStoredMetrics();
    expect(docs[0].AccountsRemoved).toBe(1);
  });

  test('notify: a failure counts a failed request, and a step failure under its error name (its own document)', () => {
    const { docs, metrics } = collector();
    recordOutcomeMetrics(
      metrics,
      message({ outcome: 'FAILED', error: { name: 'AccountNameInUse', cause: 'taken' } }),
    );
    metrics.publishStoredMetrics();
    const byName = docs.find((d) => d.StepFailures !== undefined)!;
    expect(byName).toMatchObject({ Factory: 'Test/Factory', ErrorName: 'AccountNameInUse', StepFailures: 1 });
    expect(byName._aws.CloudWatchMetrics[0].Dimensions).toEqual([['Factory', 'ErrorName']]);
    const rest = docs.find((d) => d.RequestsFailed !== undefined)!;
    expect(rest._aws.CloudWatchMetrics[0].Dimensions).toEqual([['Factory']]);
    // No account or request ever becomes a dimension.
    for (const d of docs) expect(JSON.stringify(d)).not.toContain('111111111111');
  });

  test('notify: a superseded version is a step failure by name, not a failed request', () => {
    const { docs, metrics } = collector();
    recordOutcomeMetrics(
      metrics,
      message({ outcome: 'FAILED', error: { name: 'StaleRequestVersion', cause: 'superseded' } }),
    );
    metrics.publishStoredMetrics();
    expect(docs.some((d) => d.RequestsFailed !== undefined)).toBe(false);
    expect(docs.find((d) => d.StepFailures !== undefined)?.ErrorName).toBe('StaleRequestVersion');
  });

  test('customizations-result: an outcome counted once; a repeated event or a superseded execution not at all', () => {
    const { docs, metrics } = collector();
    recordCustomizationsMetrics(metrics, { status: 'SUCCEEDED', recorded: 'updated' });
    recordCustomizationsMetrics(metrics, { status: 'FAILED', recorded: 'updated' });
    recordCustomizationsMetrics(metrics, { status: 'STOPPED', recorded: 'updated' });
    recordCustomizationsMetrics(metrics, { status: 'FAILED', recorded: 'duplicate' });
    recordCustomizationsMetrics(metrics, { status: 'SUPERSEDED', recorded: 'updated' });
    metrics.publishStoredMetrics();
    expect(docs[0]).toMatchObject({ CustomizationsSucceeded: 1, CustomizationsFailed: [1, 1] });
  });

  test('provision-account: the slot wait is the time since the execution started', () => {
    expect(slotWaitSeconds({ execution: { startTime: '2025-01-01T00:15:00.000Z' } })).toBe(45 * 60);
    expect(slotWaitSeconds({ execution: {} })).toBeUndefined();
  });

  test('semaphore-cleanup: the gauges of a lock, with the lock as a dimension', () => {
    const { docs, metrics } = collector();
    emitLockGauges(metrics, 'control-tower', {
      slotsInUse: 5,
      waiters: 3,
      oldestWaiterAgeSeconds: 600,
      oldestSlotAgeSeconds: 1500,
    });
    expect(docs).toEqual([
      expect.objectContaining({
        Factory: 'Test/Factory',
        Lock: 'control-tower',
        SlotsInUse: 5,
        Waiters: 3,
        OldestWaiterAge: 600,
        OldestSlotAge: 1500,
      }),
    ]);
    expect(docs[0]._aws.CloudWatchMetrics[0].Dimensions).toEqual([['Factory', 'Lock']]);
  });
});

describe('a handler writes its metrics on stdout, as EMF', () => {
  const scMock = mockClient(ServiceCatalogClient);
  const ddbMock = mockClient(DynamoDBDocumentClient);
  const sfnMock = mockClient(SFNClient);
  beforeAll(() => {
    process.env.CONTROL_TOWER_WAITS_TABLE = 'waits';
    ddbMock.resolves({});
    sfnMock.on(SendTaskSuccessCommand).resolves({});
  });
  afterAll(() => {
    delete process.env.CONTROL_TOWER_WAITS_TABLE;
    scMock.restore();
    ddbMock.restore();
    sfnMock.restore();
  });

  test('await-control-tower: the duration and outcome of an operation it saw end, nothing while it runs', async () => {
    const lines: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const payload = {
        taskToken: 'token-1',
        executionId: 'arn:aws:states:us-east-1:111111111111:execution:Workflow:one',
        recordId: 'rec-1',
        startedAt: '2025-01-01T00:35:00.000Z',
        accountName: 'sandbox',
        accountId: null,
      };
      scMock
        .on(DescribeRecordCommand)
        .resolves({ RecordDetail: { RecordId: 'rec-1', Status: 'IN_PROGRESS' } });
      await awaitControlTowerHandler(payload);
      expect(lines.filter((l) => l.includes('"_aws"'))).toEqual([]);

      scMock.on(DescribeRecordCommand).resolves({ RecordDetail: { RecordId: 'rec-1', Status: 'FAILED' } });
      await awaitControlTowerHandler(payload);
    } finally {
      spy.mockRestore();
    }
    const emf = lines.filter((l) => l.startsWith('{"_aws"')).map((l) => JSON.parse(l) as EmfDocument);
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({
      ControlTowerOperationDuration: 25 * 60,
      ControlTowerOperationsFailed: 1,
      Factory: 'AccountFactory',
    });
    expect(emf[0]._aws.CloudWatchMetrics[0].Namespace).toBe('AccountFactory');
  });
});

test('the request id and account on every log line come from the event', () => {
  expect(
    invocationKeysOf({
      state: { validation: { requestId: 'sandbox-alice@example.com', accountId: null } },
    }),
  ).toEqual({ requestId: 'sandbox-alice@example.com' });
  expect(
    invocationKeysOf({
      state: { requestId: 'r@example.com', account: { accountId: '111111111111' } },
    }),
  ).toEqual({ requestId: 'r@example.com', accountId: '111111111111' });
  expect(invocationKeysOf(null)).toEqual({});
});
