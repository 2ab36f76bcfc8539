import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cli as inProcess } from './run-cli';

/**
 * The real command line, in a child process: exit statuses and what goes to stdout and
 * stderr (exit 0, 1 and 2, through tsx and through the package's bin). The other cases run
 * the same `run()` in this process (about 1.5 s of CPU less each).
 */

const ROOT = path.join(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const FIXTURES = path.join('test', 'fixtures', 'requests');

function cli(args: string[], entry: 'ts' | 'js' = 'ts') {
  const [command, prefix] =
    entry === 'ts' ? [TSX, ['bin/account-factory.ts']] : [process.execPath, ['bin/account-factory.js']];
  const out = spawnSync(command, [...prefix, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

test('validate: valid files exit 0 with the summary on stdout and nothing on stderr', () => {
  const out = cli(['validate', path.join(FIXTURES, 'valid')]);

  expect(out).toEqual({ status: 0, stdout: '3 files, 3 valid, 0 invalid\n', stderr: '' });
});

test('validate: problems exit 1, one line per problem on stderr as <file>: <field>: <reason>', () => {
  const out = cli([
    'validate',
    path.join(FIXTURES, 'invalid', 'bad-email.json'),
    path.join(FIXTURES, 'duplicates'),
  ]);

  expect(out.status).toBe(1);
  expect(out.stdout).toBe('3 files, 0 valid, 3 invalid\n');
  expect(out.stderr.trimEnd().split('\n')).toEqual([
    `${FIXTURES}/invalid/bad-email.json: accountEmail: accountEmail must be a plain ASCII email address (name@example.com)`,
    `${FIXTURES}/duplicates/first.json: accountEmail: shared@example.com is also requested by ${FIXTURES}/duplicates/second.yaml`,
    `${FIXTURES}/duplicates/second.yaml: accountEmail: shared@example.com is also requested by ${FIXTURES}/duplicates/first.json`,
  ]);
});

test('validate: no files is bad usage, exit 2', () => {
  const out = cli(['validate']);

  expect(out.status).toBe(2);
  expect(out.stderr).toContain("missing required argument 'paths'");
  expect(out.stdout).toBe('');
});

test('validate: a path that cannot be read is bad usage, exit 2, naming the path', async () => {
  const out = await inProcess('validate', path.join(FIXTURES, 'valid'), 'no/such/dir');

  expect(out).toEqual({
    status: 2,
    stdout: '',
    stderr: 'account-factory: no/such/dir: cannot read (no such file or directory)\n',
  });
});

test('an unknown option and no command at all are bad usage, exit 2', async () => {
  expect((await inProcess('validate', '--strict', path.join(FIXTURES, 'valid'))).status).toBe(2);
  expect((await inProcess()).status).toBe(2);
});

test('the global options are declared: --local and --region are accepted before a command', async () => {
  const out = await inProcess('--local', '--region', 'eu-west-1', 'validate', path.join(FIXTURES, 'valid'));

  expect(out.status).toBe(0);
});

test('schema prints the committed JSON Schema', async () => {
  const out = await inProcess('schema');

  expect(out.status).toBe(0);
  expect(JSON.parse(out.stdout)).toEqual(
    JSON.parse(fs.readFileSync(path.join(ROOT, 'schema', 'account-request.schema.json'), 'utf8')),
  );
});

test('the package bin (bin/account-factory.js) runs the same CLI through tsx', () => {
  expect(cli(['validate', path.join(FIXTURES, 'valid')], 'js')).toEqual({
    status: 0,
    stdout: '3 files, 3 valid, 0 invalid\n',
    stderr: '',
  });
  expect(cli(['validate', path.join(FIXTURES, 'invalid')], 'js').status).toBe(1);
});
