import type { MetadataItem } from '../../lambda/shared/metadata';
import { findAccount, formatAccount, formatAccounts, formatLocks } from '../../cli/status';

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
