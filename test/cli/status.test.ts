import type { MetadataItem } from '../../lambda/shared/metadata';
import {
  findAccount,
  formatAccount,
  formatAccounts,
  formatHealth,
  formatLocks,
  readHealth,
} from '../../cli/status';
import type { FactoryTarget } from '../../cli/target';

function item(name: string, overrides: Partial<MetadataItem> = {}): MetadataItem {
  return {
    accountId: '111111111111',
    email: `${name}@example.com`,
    accountName: name,
    requestId: `${name}@example.com`,
    requestVersion: 2,
    request: {
      accountEmail: `${name}@example.com`,
      accountName: name,
      organizationalUnit: 'Sandbox',
      sso: { email: 'platform-team@example.com', firstName: 'Platform', lastName: 'Team' },
      tags: { Owner: 'platform-team' },
      customFields: {},
      closeOnRemoval: false,
    },
    organizationalUnit: { id: 'ou-abcd-11111111', name: 'Sandbox' },
    provisionedProductId: 'pp-1',
    status: 'ACTIVE',
    lastOperation: 'UPDATE',
    lastExecutionArn: 'arn:aws:states:us-east-1:111111111111:execution:Workflow:x',
    lastOutcome: 'FAILED',
    lastError: { name: 'ControlTowerOperationFailed', cause: 'AccountFactory: the OU is not registered' },
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-02T00:00:00.000Z',
    ...overrides,
  };
}

test('formatLocks: each lock with its limit, then who holds a slot and who waits, first in line first', () => {
  const lines = formatLocks([
    {
      label: 'Control Tower operations',
      lockName: 'control-tower',
      limit: 5,
      count: 2,
      holders: [
        {
          holder: 'arn:aws:states:us-east-1:111111111111:execution:Workflow:a-v1',
          since: '2025-01-01T00:00:00Z',
        },
        {
          holder: 'arn:aws:states:us-east-1:111111111111:execution:Workflow:b-v1',
          since: '2025-01-01T00:01:00Z',
        },
      ],
      waiters: [
        {
          holder: 'arn:aws:states:us-east-1:111111111111:execution:Workflow:c-v1',
          queuedAt: '2025-01-01T00:02:00Z',
        },
      ],
    },
    {
      label: 'Customizations pipelines',
      lockName: 'customizations',
      count: 1,
      holders: [
        { holder: 'codepipeline:account-customizations-111111111111:e-1', since: '2025-01-01T00:03:00Z' },
      ],
      waiters: [],
    },
  ]);
  expect(lines).toEqual([
    'Control Tower operations (lock control-tower): 2 of 5 slots held, 1 waiting',
    '  held by   a-v1 since 2025-01-01T00:00:00Z',
    '  held by   b-v1 since 2025-01-01T00:01:00Z',
    '  waiting   c-v1 (started 2025-01-01T00:02:00Z)',
    'Customizations pipelines (lock customizations): 1 slots held, 0 waiting',
    '  held by   codepipeline:account-customizations-111111111111:e-1 since 2025-01-01T00:03:00Z',
  ]);
});

test('formatAccounts: one row per account with the last operation, its outcome and error name', () => {
  const [header, row] = formatAccounts([
    item('steady', { customizations: { status: 'FAILED', failedStage: 'Account' } } as Partial<MetadataItem>),
  ]);
  expect(header).toMatch(/^ {2}ACCOUNT +NAME +OU +STATUS +LAST OPERATION +OUTCOME +WHEN +CUSTOMIZATIONS$/);
  expect(row).toMatch(
    /^ {2}111111111111 +steady +Sandbox +ACTIVE +UPDATE +FAILED \(ControlTowerOperationFailed\) +2025-01-02T00:00:00.000Z +FAILED \(Account\)$/,
  );
});

test('formatAccount: the error cause, and "no run recorded" when no customizations ran', () => {
  const text = formatAccount(item('steady')).join('\n');
  expect(text).toContain(
    'error             ControlTowerOperationFailed: AccountFactory: the OU is not registered',
  );
  expect(text).toContain('customizations    - (no run recorded)');
});

test('findAccount: by ID, email or name, the ACTIVE item first; an unknown one is a usage error', () => {
  const removed = item('twice', { accountId: '222222222222', status: 'REMOVED' });
  const active = item('twice', { accountId: '333333333333' });
  expect(findAccount([removed, active], 'TWICE@example.com').accountId).toBe('333333333333');
  expect(findAccount([removed, active], '222222222222').status).toBe('REMOVED');
  expect(() => findAccount([active], 'nobody')).toThrow(/unknown account 'nobody'/);
});

describe('health', () => {
  const now = new Date('2025-01-02T12:00:00.000Z');
  const locks = [
    {
      label: 'Control Tower operations',
      lockName: 'control-tower',
      limit: 5,
      count: 1,
      holders: [
        {
          holder: 'arn:aws:states:us-east-1:111111111111:execution:W:a-v1',
          since: '2025-01-02T08:00:00.000Z',
        },
      ],
      waiters: [
        {
          holder: 'arn:aws:states:us-east-1:111111111111:execution:W:b-v1',
          queuedAt: '2025-01-02T11:30:00.000Z',
        },
      ],
    },
  ];
  const executions: Record<string, { stopDate: Date; startDate: Date }[]> = {
    FAILED: [
      { startDate: new Date('2025-01-02T10:00:00Z'), stopDate: new Date('2025-01-02T11:00:00Z') },
      { startDate: new Date('2024-12-30T10:00:00Z'), stopDate: new Date('2024-12-30T11:00:00Z') },
    ],
    TIMED_OUT: [],
    ABORTED: [{ startDate: new Date('2025-01-01T10:00:00Z'), stopDate: new Date('2025-01-01T13:00:00Z') }],
  };
  const target = {
    stateMachineArn: 'arn:aws:states:us-east-1:111111111111:stateMachine:W',
    now: () => now,
    sfn: {
      send: async (command: { input: { statusFilter: string } }) => ({
        executions: executions[command.input.statusFilter],
      }),
    },
  } as unknown as FactoryTarget;

  test('slots vs limit, the oldest wait and hold, executions failed in the last day, pipelines failed', async () => {
    const health = await readHealth(
      target,
      [
        item('broken', {
          customizations: { status: 'FAILED', failedStage: 'Account' },
        } as Partial<MetadataItem>),
        item('fine', {
          accountId: '222222222222',
          customizations: { status: 'SUCCEEDED' },
        } as Partial<MetadataItem>),
      ],
      locks,
    );
    expect(health).toEqual({
      locks: [
        {
          label: 'Control Tower operations',
          lockName: 'control-tower',
          inUse: 1,
          limit: 5,
          waiters: 1,
          oldestWaitSeconds: 1800,
          oldestHeldSeconds: 4 * 3600,
        },
      ],
      executionsFailedLastDay: { total: 2, byStatus: { FAILED: 1, TIMED_OUT: 0, ABORTED: 1 } },
      pipelinesFailed: [{ accountId: '111111111111', accountName: 'broken', failedStage: 'Account' }],
    });
    expect(formatHealth(health)).toEqual([
      'Health',
      '  Control Tower operations 1 of 5 in use, held longest 4.0 h; 1 waiting, oldest waiting 30 min',
      '  executions failed        2 in the last day (FAILED 1, TIMED_OUT 0, ABORTED 1)',
      '  pipelines failed         1: broken (111111111111, at Account)',
    ]);
  });
});
