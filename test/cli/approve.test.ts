import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cli } from './run-cli';
import { formatDecision, formatPending } from '../../cli/approve';
import type { ApprovalItem } from '../../lambda/shared/approval';

/**
 * `account-factory approve`, `reject` and `approvals`: the wording, bad arguments, and the
 * commands on the local engine (the factory synthesized with approvals of every operation;
 * the request files wait for a decision; the approver is a session of the stack's approver
 * role, IAM enforced).
 */

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'approve-cli-'));
  const request = (name: string, extra: Record<string, unknown> = {}) => ({
    accountEmail: `${name}@example.com`,
    accountName: name,
    organizationalUnit: 'Sandbox',
    sso: { email: 'platform-team@example.com', firstName: 'Platform', lastName: 'Team' },
    ...extra,
  });
  fs.writeFileSync(
    path.join(dir, 'asked.json'),
    JSON.stringify(request('asked', { requestedBy: 'alice@example.com' })),
  );
  fs.writeFileSync(path.join(dir, 'other.json'), JSON.stringify(request('other')));
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const LOCAL = () => ['--local', '--local-requests', dir];

const ITEM: ApprovalItem = {
  requestId: 'sandbox-01@example.com',
  version: 2,
  executionArn: 'arn:aws:states:us-east-1:111111111111:execution:Workflow:x',
  operation: 'UPDATE',
  accountName: 'sandbox-01',
  accountId: '111111111111',
  plan: {
    kind: 'update',
    requestId: 'sandbox-01@example.com',
    accountName: 'sandbox-01',
    accountId: '111111111111',
    changes: [],
    controlTowerChanges: [],
  },
  planText:
    '  ~ sandbox-01 <sandbox-01@example.com> 111111111111\n      organizationalUnit: "Sandbox" -> "Workloads"',
  requestedBy: 'alice@example.com',
  requestedAt: '2026-01-01T00:00:00.000Z',
  expiresAt: '2026-01-08T00:00:00.000Z',
  allowSelfApproval: false,
  status: 'PENDING',
};

test('the wording of a decision and of the pending list', () => {
  expect(
    formatDecision(
      ITEM,
      {
        decision: 'APPROVED',
        requestId: ITEM.requestId,
        version: 2,
        by: 'arn:aws:sts::111111111111:assumed-role/Approver/bob@example.com',
        at: '2026-01-02T00:00:00.000Z',
        comment: 'CHG-1',
      },
      'stack AccountFactory',
    ),
  ).toBe(
    [
      'Approved request sandbox-01@example.com version 2 (UPDATE sandbox-01) on stack AccountFactory',
      '  by        arn:aws:sts::111111111111:assumed-role/Approver/bob@example.com',
      '  at        2026-01-02T00:00:00.000Z',
      '  comment   CHG-1',
      '  asked by  alice@example.com',
      '  plan',
      '    ~ sandbox-01 <sandbox-01@example.com> 111111111111',
      '        organizationalUnit: "Sandbox" -> "Workloads"',
      '',
    ].join('\n'),
  );
  expect(formatPending([])).toBe('No request waits for an approval\n');
  expect(formatPending([ITEM])).toContain(
    '  approve: account-factory approve sandbox-01@example.com --comment "<why>"',
  );
});

test('a comment too long is bad usage, before anything starts', async () => {
  const r = await cli(...LOCAL(), 'approve', 'asked@example.com', '--comment', 'x'.repeat(1025));
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/--comment is 1025 characters: at most 1024/);
});

test('--local: the requester cannot approve (SelfApprovalRefused, exit 1, nothing decided); an unknown request is bad usage', async () => {
  const r = await cli(...LOCAL(), 'approve', 'asked@example.com', '--as', 'alice@example.com');
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(
    /SelfApprovalRefused: .*alice@example\.com asked for request asked@example\.com version 1/,
  );
  expect(r.stdout).toBe('');

  const unknown = await cli(...LOCAL(), 'reject', 'nobody@example.com');
  expect(unknown.status).toBe(2);
  expect(unknown.stderr).toMatch(
    /no approval for request 'nobody@example.com' \(waiting: asked@example.com, other@example.com\)/,
  );
}, 240_000);

test('--local: approve by account name goes on to the end; reject ends it with nothing changed; approvals lists what waits', async () => {
  const approved = await cli(...LOCAL(), 'approve', 'asked', '--comment', 'CHG-7', '--as', 'bob@example.com');
  expect(approved.status).toBe(0);
  expect(approved.stdout).toMatch(
    /^Approved request asked@example\.com version 1 \(CREATE asked\) on the local engine/,
  );
  expect(approved.stdout).toMatch(
    /by {8}arn:aws:sts::\d{12}:assumed-role\/ApproverRole[^/]*\/bob@example\.com/,
  );
  expect(approved.stdout).toContain('comment   CHG-7');
  expect(approved.stdout).toMatch(/Execution SUCCEEDED: account \d{12} asked/);

  const rejected = await cli(...LOCAL(), 'reject', 'other@example.com', '--comment', 'no budget');
  expect(rejected.status).toBe(0);
  expect(rejected.stdout).toMatch(/^Rejected request other@example\.com/);
  expect(rejected.stdout).toContain('Execution SUCCEEDED: nothing changed');

  const list = await cli(...LOCAL(), 'approvals');
  expect(list.status).toBe(0);
  expect(list.stdout).toMatch(/^2 requests waiting for an approval/);
  expect(list.stdout).toContain('asked@example.com version 1: CREATE asked, asked by alice@example.com');
}, 400_000);

test('against AWS, a factory without approvals is told so', async () => {
  const r = await cli(
    '--region',
    'us-east-1',
    'approve',
    'x@example.com',
    '--requests-table',
    'r',
    '--metadata-table',
    'm',
    '--semaphore-table',
    's',
    '--rerun-state-machine',
    'arn:aws:states:us-east-1:111111111111:stateMachine:r',
  );
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/this factory has no approvals \(no stack output ApprovalsTableName\)/);
});
