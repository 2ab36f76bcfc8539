import * as path from 'node:path';
import { cli } from './run-cli';
import { formatDrift } from '../../cli/drift';

/**
 * `account-factory drift`: the report's wording, bad arguments, and the command on the
 * local engine (the check runs now, as its own role, on three provisioned requests).
 */

const REQUESTS = path.join('test', 'fixtures', 'lifecycle');
const LOCAL = ['--local', '--local-requests', REQUESTS];

test('the report: one line per account, one per drifted item, and how to reconcile', () => {
  const text = formatDrift(
    {
      checkedAt: '2026-01-01T00:00:00.000Z',
      accounts: [
        {
          accountId: '222222222201',
          accountName: 'sandbox-one',
          requestId: 'sandbox-one@example.com',
          findings: [
            {
              item: 'organizationalUnit',
              expected: 'Sandbox (ou-abcd-11111111)',
              actual: 'ou-abcd-22222222',
            },
            { item: 'executionRole', expected: 'role AWSAFTExecution', actual: 'missing' },
          ],
        },
        { accountId: '222222222202', accountName: 'workloads-one', requestId: 'w@example.com', findings: [] },
      ],
    },
    2,
  );
  expect(text).toBe(
    [
      'Drift check at 2026-01-01T00:00:00.000Z: 1 of 2 managed accounts drifted',
      '  222222222201  sandbox-one               DRIFTED',
      '      OU                       expected Sandbox (ou-abcd-11111111); found ou-abcd-22222222',
      '      execution role           expected role AWSAFTExecution; found missing',
      '  222222222202  workloads-one             in sync',
      '',
      'Reconcile an account with: account-factory drift --fix <account id|email|name>',
      '',
    ].join('\n'),
  );
});

test('--fix with a selector is bad usage', async () => {
  const out = await cli('drift', '--fix', 'a@example.com', '--ous', 'Sandbox');
  expect(out.status).toBe(2);
  expect(out.stderr).toBe('account-factory: --fix takes one account: leave out --accounts and --ous\n');
});

describe('on the local engine', () => {
  test('freshly provisioned accounts are in sync (exit 0); an unknown account is bad usage', async () => {
    const out = await cli(...LOCAL, 'drift');
    expect(out.stderr).toContain('local engine: 3 requests');
    expect(out.stdout).toMatch(/^Drift check at .*: 0 of 3 managed accounts drifted\n/);
    expect(out.stdout.match(/ in sync$/gm)).toHaveLength(3);
    expect(out.status).toBe(0);

    const unknown = await cli(...LOCAL, 'drift', '--accounts', 'nobody@example.com');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("unknown account 'nobody@example.com'");
  });

  test('--fix re-runs the request (a new version) and shows what is left', async () => {
    const out = await cli(...LOCAL, 'drift', '--fix', 'sandbox-one@example.com');
    expect(out.stdout).toMatch(
      /^Re-running request sandbox-one@example\.com \(version 2\) of account \d{12}/,
    );
    expect(out.stdout).toMatch(/: 0 of 1 managed account drifted/);
    expect(out.status).toBe(0);
  });
});
