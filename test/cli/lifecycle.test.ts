import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { cli } from './run-cli';

/**
 * plan, rerun and status as commands: bad arguments (exit 2 and a message that
 * says what to do), and each command against the local engine (`--local`), with
 * three request files provisioned first.
 */

const REQUESTS = path.join('test', 'fixtures', 'lifecycle');
const LOCAL = ['--local', '--local-requests', REQUESTS];

describe('bad arguments: exit 2 with a clear message, before anything is opened', () => {
  test('rerun without a selector', async () => {
    const out = await cli('rerun');
    expect(out.status).toBe(2);
    expect(out.stderr).toBe(
      'account-factory: say which accounts to re-run: --accounts <ids|emails|names>, --ous <names|ids> or --tags <key=value>\n',
    );
    expect(out.stdout).toBe('');
  });

  test('rerun with a malformed tag filter', async () => {
    const out = await cli('rerun', '--tags', 'Environment');
    expect(out.status).toBe(2);
    expect(out.stderr).toBe(
      "account-factory: malformed tag filter 'Environment': write key=value (e.g. --tags Environment=sandbox)\n",
    );
    expect((await cli('rerun', '--tags', '=sandbox')).status).toBe(2);
  });

  test('rerun --no-wait with --local', async () => {
    const out = await cli(...LOCAL, 'rerun', '--ous', 'Sandbox', '--no-wait');
    expect(out.status).toBe(2);
    expect(out.stderr).toContain('--no-wait cannot be used with --local');
  });

  test('plan of a directory that does not exist', async () => {
    const out = await cli('plan', 'no/such/dir');
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(/no\/such\/dir does not exist/);
  });
});

describe('on the local engine', () => {
  test('rerun for an unknown OU: exit 2, naming the OUs that have managed accounts', async () => {
    const out = await cli(...LOCAL, 'rerun', '--ous', 'Sandbx');
    expect(out.status).toBe(2);
    expect(out.stderr).toContain(
      "account-factory: unknown OU 'Sandbx': no managed account is in it (OUs with managed accounts: Sandbox, Security, Workloads)",
    );
    expect(out.stdout).toBe('');
  });

  test('rerun for an OU: one line per account of that OU, then the counts', async () => {
    const out = await cli(...LOCAL, 'rerun', '--ous', 'Sandbox', '--json');
    expect(out.status).toBe(0);
    const { executions, results } = JSON.parse(out.stdout);
    expect(executions).toHaveLength(1);
    expect(executions[0].status).toBe('SUCCEEDED');
    expect(results).toEqual([expect.objectContaining({ outcome: 'SUCCEEDED' })]);

    const text = await cli(...LOCAL, 'rerun', '--ous', 'Sandbox', 'Workloads', '--exclude', 'workloads-one');
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/sandbox-one +succeeded/);
    expect(text.stdout).not.toMatch(/\d{12} +workloads-one/);
    expect(text.stdout.trimEnd().split('\n').pop()).toBe('1 succeeded, 0 failed, 0 skipped.');
  });

  test('status: every account and the Control Tower slots; one account in detail; an unknown one', async () => {
    const all = await cli(...LOCAL, 'status');
    expect(all.status).toBe(0);
    const lines = all.stdout.split('\n');
    expect(lines[1]).toMatch(
      /^ {2}ACCOUNT +NAME +OU +STATUS +LAST OPERATION +OUTCOME +WHEN +CUSTOMIZATIONS$/,
    );
    for (const name of ['sandbox-one', 'security-one', 'workloads-one']) {
      expect(all.stdout).toMatch(new RegExp(`\\d{12} +${name} +\\w+ +ACTIVE +CREATE +SUCCEEDED`));
    }
    expect(all.stdout).toContain(
      'Control Tower operations (lock control-tower): 0 of 5 slots held, 0 waiting',
    );
    expect(all.stdout).toMatch(
      /Customizations pipelines \(lock customizations\): 0 of \d+ slots held, 0 waiting/,
    );

    const one = await cli(...LOCAL, 'status', 'sandbox-one@example.com');
    expect(one.status).toBe(0);
    expect(one.stdout).toMatch(/^Account \d{12}: sandbox-one <sandbox-one@example.com>/);
    expect(one.stdout).toMatch(/last operation +CREATE: SUCCEEDED/);

    const unknown = await cli(...LOCAL, 'status', 'nobody@example.com');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("unknown account 'nobody@example.com'");
  });

  test('plan: an edited copy of the provisioned files', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-'));
    try {
      for (const f of fs.readdirSync(REQUESTS)) fs.copyFileSync(path.join(REQUESTS, f), path.join(dir, f));
      // Move one account to another OU (an update), retag another (customize), drop the third (a removal, with closure), add one.
      const moved = path.join(dir, 'workloads-one.json');
      const workloads = JSON.parse(fs.readFileSync(moved, 'utf8'));
      fs.writeFileSync(moved, JSON.stringify({ ...workloads, organizationalUnit: 'Sandbox' }));
      const sandbox = path.join(dir, 'sandbox-one.yaml');
      fs.writeFileSync(
        sandbox,
        fs.readFileSync(sandbox, 'utf8').replace('Environment: sandbox', 'Environment: training'),
      );
      const security = parseYaml(fs.readFileSync(path.join(dir, 'security-one.yaml'), 'utf8'));
      fs.rmSync(path.join(dir, 'security-one.yaml'));
      const two = path.join(dir, 'sandbox-two.yaml');
      fs.writeFileSync(
        two,
        fs
          .readFileSync(path.join(REQUESTS, 'sandbox-one.yaml'), 'utf8')
          .replace(/sandbox-one/g, 'sandbox-two'),
      );

      const out = await cli(...LOCAL, 'plan', dir);
      expect(out.status).toBe(0);
      expect(out.stdout).toContain('update: Control Tower (ManagedOrganizationalUnit), then customizations');
      expect(out.stdout).toContain('organizationalUnit: "Workloads" -> "Sandbox"');
      expect(out.stdout).toContain('tags.Environment: "sandbox" -> "training"');
      expect(out.stdout).toContain(
        'remove: leaves management, and the account is CLOSED (closeOnRemoval: true)',
      );
      expect(out.stdout).toContain('+ sandbox-two <sandbox-two@example.com>');
      expect(out.stdout).toContain(`- ${security.accountName} <${security.accountEmail}>`);
      expect(out.stdout.trimEnd().split('\n').pop()).toBe(
        'Plan: 1 to create, 1 to update, 1 to customize, 1 to remove, 0 unchanged.',
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
