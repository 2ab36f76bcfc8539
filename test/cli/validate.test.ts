import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { UsageError } from '../../cli/errors';
import { formatProblem, organizationalUnitProblem, summary, validateFiles } from '../../cli/validate';
import {
  duplicateEmailBatches,
  malformedRequests,
  organizationalUnitLookalikes,
  validRequest,
} from '../fixtures/malformed-requests';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'requests');
const fixture = (...parts: string[]) => path.join(FIXTURES, ...parts);

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'account-factory-validate-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Writes files (text as given) into a fresh directory under the test's temp dir. */
function writeRaw(name: string, files: Record<string, string>): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), text);
  return dir;
}

/** Writes requests as JSON or YAML files, by extension. */
function writeDir(name: string, requests: Record<string, unknown>): string {
  return writeRaw(
    name,
    Object.fromEntries(
      Object.entries(requests).map(([file, r]) => [
        file,
        file.endsWith('.json') ? JSON.stringify(r) : toYaml(r),
      ]),
    ),
  );
}

const problemsOf = (outcome: ReturnType<typeof validateFiles>, file: string) =>
  outcome.problems.filter((p) => p.file === file);

describe('valid files', () => {
  test('a directory of valid JSON, YAML and YML requests: every file valid, no problem', () => {
    const outcome = validateFiles([fixture('valid')]);

    expect(outcome.problems).toEqual([]);
    expect(outcome.results.map((r) => [path.basename(r.file), r.valid])).toEqual([
      ['sandbox-alice.yaml', true],
      ['security-tools.yml', true],
      ['workloads-bob.json', true],
    ]);
    expect(summary(outcome)).toBe('3 files, 3 valid, 0 invalid');
  });

  test('the example requests shipped with the project are valid', () => {
    const outcome = validateFiles([path.join(__dirname, '..', '..', 'examples', 'account-requests')]);

    expect(outcome.problems).toEqual([]);
    expect(outcome.results.length).toBeGreaterThan(0);
  });

  test('each result carries the validated request, normalized and with defaults', () => {
    const outcome = validateFiles([fixture('valid', 'workloads-bob.json')]);

    expect(outcome.results[0].request).toMatchObject({
      accountEmail: 'workloads-bob@example.com',
      organizationalUnit: 'Workloads (ou-abcd-22222222)',
      tags: {},
      closeOnRemoval: false,
    });
  });

  test('a file named twice (directly and through its directory) is validated once', () => {
    const outcome = validateFiles([fixture('valid', 'sandbox-alice.yaml'), fixture('valid')]);

    expect(outcome.results.map((r) => path.basename(r.file))).toEqual([
      'sandbox-alice.yaml',
      'security-tools.yml',
      'workloads-bob.json',
    ]);
  });

  test('files in a subdirectory are not read (as the app reads its requests directory)', () => {
    const dir = writeDir('top', { 'a.json': validRequest() });
    writeDir(path.join('top', 'nested'), { 'b.json': { broken: true } });

    expect(validateFiles([dir]).results.map((r) => path.basename(r.file))).toEqual(['a.json']);
  });
});

describe('problems', () => {
  test('each invalid fixture is reported with its file, field and reason', () => {
    const outcome = validateFiles([fixture('invalid')]);
    const lines = outcome.problems.map(formatProblem);

    expect(lines).toEqual([
      `${fixture('invalid', 'aws-tag.yaml')}: tags.AWS:createdBy: tag keys must not start with "aws:" (reserved by AWS)`,
      `${fixture('invalid', 'bad-email.json')}: accountEmail: accountEmail must be a plain ASCII email address (name@example.com)`,
      expect.stringMatching(/ou-lookalike\.yaml: organizationalUnit: "ou-INVALID" is not an OU id/),
      `${fixture('invalid', 'syntax-error.json')}: (syntax): invalid JSON at line 5, column 1: expected a property name in double quotes but found '}'`,
      `${fixture('invalid', 'syntax-error.yaml')}: (syntax): invalid YAML at line 5, column 1: Tabs are not allowed as indentation`,
    ]);
    expect(outcome.results.every((r) => !r.valid)).toBe(true);
    expect(summary(outcome)).toBe('5 files, 0 valid, 5 invalid');
  });

  test('every issue of a file is reported, not only the first', () => {
    const dir = writeDir('many', {
      'r.json': validRequest({ accountEmail: 'dev.example.com', accountName: '<x>', tags: { 'aws:a': '1' } }),
    });

    const fields = validateFiles([dir]).problems.map((p) => p.field);

    expect(fields).toEqual(['accountEmail', 'accountName', 'tags.aws:a']);
  });

  test('an empty YAML file is a request that is missing', () => {
    const dir = writeRaw('empty', { 'empty.yaml': '' });

    const [problem] = validateFiles([dir]).problems;

    expect(problem).toMatchObject({
      field: '(request)',
      reason: expect.stringContaining('an account request must be an object of fields'),
    });
  });

  test('a request file may not hold two YAML documents', () => {
    const dir = writeRaw('docs', { 'two.yaml': `${toYaml(validRequest())}---\n${toYaml(validRequest())}` });

    expect(validateFiles([dir]).problems).toEqual([
      expect.objectContaining({
        field: '(syntax)',
        reason: expect.stringMatching(
          /^invalid YAML at line \d+, column 1: Source contains multiple documents/,
        ),
      }),
    ]);
  });
});

describe('duplicates across files', () => {
  test('two files for one email (in another case): both are invalid, each naming the other', () => {
    const first = fixture('duplicates', 'first.json');
    const second = fixture('duplicates', 'second.yaml');

    const outcome = validateFiles([fixture('duplicates')]);

    expect(outcome.problems.map(formatProblem)).toEqual([
      `${first}: accountEmail: shared@example.com is also requested by ${second}`,
      `${second}: accountEmail: shared@example.com is also requested by ${first}`,
    ]);
    expect(summary(outcome)).toBe('2 files, 0 valid, 2 invalid');
  });

  test('files in different directories collide too', () => {
    const a = writeDir('a', { 'x.json': validRequest({ accountName: 'x-1' }) });
    const b = writeDir('b', {
      'y.yml': validRequest({ accountEmail: 'DEV@example.com', accountName: 'x-2' }),
    });

    const outcome = validateFiles([a, b]);

    expect(outcome.problems.map((p) => [path.basename(p.file), p.field])).toEqual([
      ['x.json', 'accountEmail'],
      ['y.yml', 'accountEmail'],
    ]);
  });

  test('two files with one account name collide (the second account could not be created)', () => {
    const dir = writeDir('names', {
      'a.json': validRequest({ accountEmail: 'a@example.com', accountName: 'Shared' }),
      'b.json': validRequest({ accountEmail: 'b@example.com', accountName: 'Shared' }),
      'c.json': validRequest({ accountEmail: 'c@example.com', accountName: 'shared' }),
    });

    const outcome = validateFiles([dir]);

    expect(outcome.problems.map((p) => [path.basename(p.file), p.field, p.reason])).toEqual([
      ['a.json', 'accountName', `'Shared' is also the account name in ${path.join(dir, 'b.json')}`],
      ['b.json', 'accountName', `'Shared' is also the account name in ${path.join(dir, 'a.json')}`],
    ]);
    expect(outcome.results.find((r) => r.file.endsWith('c.json'))?.valid).toBe(true);
  });

  test.each(duplicateEmailBatches())('corpus batch: $name', ({ requests, colliding }) => {
    const files = Object.fromEntries(requests.map((r, i) => [`request-${i}.json`, r]));
    const dir = writeDir('batch', files);

    const outcome = validateFiles([dir]);

    const flagged = outcome.problems.map((p) => [path.basename(p.file), p.field]);
    expect(flagged).toEqual(colliding.map((i) => [`request-${i}.json`, 'accountEmail']));
    // Each problem names every other colliding file.
    for (const p of outcome.problems) {
      const others = colliding.map((i) => `request-${i}.json`).filter((f) => f !== path.basename(p.file));
      for (const other of others) expect(p.reason).toContain(other);
    }
    expect(outcome.results.filter((r) => r.valid)).toHaveLength(requests.length - colliding.length);
  });
});

describe('the malformed-request corpus, as files', () => {
  const corpus = malformedRequests();

  test.each(['json', 'yaml'])(
    'every corpus request written as %s is invalid, with problems on its field only',
    (ext) => {
      const dir = writeDir(
        ext,
        Object.fromEntries(corpus.map((e, i) => [`request-${String(i).padStart(3, '0')}.${ext}`, e.request])),
      );

      const outcome = validateFiles([dir]);

      expect(outcome.results).toHaveLength(corpus.length);
      const wrong = corpus.flatMap((entry, i) => {
        const file = path.join(dir, `request-${String(i).padStart(3, '0')}.${ext}`);
        const problems = problemsOf(outcome, file);
        const offField = problems.filter(
          (p) => p.field !== entry.field && !p.field.startsWith(`${entry.field}.`),
        );
        return problems.length === 0 || offField.length ? [{ name: entry.name, problems }] : [];
      });
      expect(wrong).toEqual([]);
      expect(summary(outcome)).toBe(`${corpus.length} files, 0 valid, ${corpus.length} invalid`);
    },
  );

  test.each(organizationalUnitLookalikes())('OU look-alike $name is invalid', ({ request }) => {
    const dir = writeDir('ou', { 'r.yaml': request });

    const outcome = validateFiles([dir]);

    expect(outcome.problems).toEqual([
      expect.objectContaining({ field: 'organizationalUnit', reason: expect.stringMatching(/write "/) }),
    ]);
  });

  test('a well-formed "Name (ou-id)" is not a look-alike', () => {
    expect(organizationalUnitProblem('Sandbox (ou-abcd-11111111)')).toBeUndefined();
    expect(organizationalUnitProblem('Team (Blue)')).toBeUndefined();
    expect(organizationalUnitProblem('ou-team')).toBeUndefined();
  });
});

describe('bad usage throws UsageError', () => {
  test('no paths', () => {
    expect(() => validateFiles([])).toThrow(UsageError);
  });

  test('a path that does not exist', () => {
    const missing = path.join(tmp, 'missing.json');
    expect(() => validateFiles([missing])).toThrow(
      new UsageError(`${missing}: cannot read (no such file or directory)`),
    );
  });

  test('a file that is not a request file', () => {
    fs.writeFileSync(path.join(tmp, 'notes.txt'), 'x');
    expect(() => validateFiles([path.join(tmp, 'notes.txt')])).toThrow(/not a request file/);
  });

  test('a directory without request files', () => {
    const dir = writeRaw('nothing', { 'README.md': '# nothing' });
    expect(() => validateFiles([dir])).toThrow(/no request files/);
  });
});
