import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadRequestFiles, readRequestFiles } from '../../lib/request-files';
import { parseAccountRequest } from '../../lambda/shared/schema';

const VALID = {
  accountEmail: 'sandbox-01@example.com',
  accountName: 'sandbox-01',
  organizationalUnit: 'Sandbox',
  sso: { email: 'platform-team@example.com', firstName: 'Platform', lastName: 'Team' },
};

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'requests-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, content: string): void {
  fs.writeFileSync(path.join(dir, name), content);
}

describe('loadRequestFiles', () => {
  test('reads JSON, YAML and YML files in name order, validated and normalized', () => {
    write(
      'b.yaml',
      'accountEmail: B@Example.com\naccountName: b\norganizationalUnit: Workloads\nsso:\n  email: b@example.com\n  firstName: B\n  lastName: Example\n',
    );
    write('a.json', JSON.stringify(VALID));
    write(
      'c.yml',
      'accountEmail: c@example.com\naccountName: c\norganizationalUnit: "Security (ou-ab12-cdef3456)"\nsso: { email: c@example.com, firstName: C, lastName: Example }\ntags: { Team: security }\n',
    );
    write('notes.txt', 'not a request');
    fs.mkdirSync(path.join(dir, 'nested'));
    write('nested/ignored.json', '{}');

    const files = loadRequestFiles(dir);
    expect(files.map((f) => f.file)).toEqual(['a.json', 'b.yaml', 'c.yml']);
    expect(files[1]).toMatchObject({ requestId: 'b@example.com', source: 'file:b.yaml' });
    expect(files[1].request.accountEmail).toBe('b@example.com');
    expect(files[2].request.tags).toEqual({ Team: 'security' });
    expect(files[0].request.closeOnRemoval).toBe(false);
  });

  test('an empty directory has no requests', () => {
    expect(loadRequestFiles(dir)).toEqual([]);
  });

  test('a missing directory is an error', () => {
    expect(() => loadRequestFiles(path.join(dir, 'nope'))).toThrow(
      /Account requests directory .*nope does not exist/,
    );
  });

  test('names every bad file and, in each, every bad field', () => {
    write('good.json', JSON.stringify(VALID));
    write(
      'bad-email.yaml',
      'accountEmail: nope\naccountName: x\norganizationalUnit: Sandbox\nsso: { email: a@example.com, firstName: A, lastName: B }\n',
    );
    write(
      'bad-many.json',
      JSON.stringify({
        ...VALID,
        accountEmail: 'x@example.com',
        accountName: '',
        tags: { 'aws:x': 'y' },
        extra: 1,
      }),
    );
    let message = '';
    try {
      loadRequestFiles(dir);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('bad-email.yaml: InvalidAccountRequest: accountEmail:');
    expect(message).toMatch(/bad-many\.json: .*accountName: accountName must not be empty/);
    expect(message).toMatch(/bad-many\.json: .*unknown field\(s\): extra/);
    expect(message).toMatch(/bad-many\.json: .*tags/);
    expect(message).not.toContain('good.json');
  });

  test('a file that does not parse is named', () => {
    write('broken.json', '{ "accountEmail": ');
    write('broken.yaml', 'accountEmail: [unclosed\n');
    expect(() => loadRequestFiles(dir)).toThrow(
      /broken\.json: not valid JSON[\s\S]*broken\.yaml: not valid YAML/,
    );
  });

  test('two files for the same email: the second is named', () => {
    write('a.json', JSON.stringify(VALID));
    write(
      'b.json',
      JSON.stringify({ ...VALID, accountEmail: 'SANDBOX-01@example.com', accountName: 'other' }),
    );
    expect(() => loadRequestFiles(dir)).toThrow(
      /b\.json: accountEmail: sandbox-01@example\.com is already requested by a\.json/,
    );
  });

  test('the example requests are valid: 12+ across Sandbox, Workloads and Security', () => {
    const files = loadRequestFiles(path.join(__dirname, '..', '..', 'examples', 'account-requests'));
    expect(files.length).toBeGreaterThanOrEqual(12);
    expect(new Set(files.map((f) => f.request.organizationalUnit))).toEqual(
      new Set(['Sandbox', 'Workloads', 'Security']),
    );
    for (const f of files) expect(f.request.accountEmail).toMatch(/@example\.com$/);
    expect(files.some((f) => f.request.customizationsName)).toBe(true);
    expect(files.some((f) => Object.keys(f.request.customFields).length > 0)).toBe(true);
  });
});

describe('bad input is rejected, never rewritten', () => {
  test.each([
    [
      'accountEmail',
      { accountEmail: 'dev@example.com\n' },
      'accountEmail must not start or end with whitespace',
    ],
    [
      'accountEmail',
      { accountEmail: ' dev@example.com' },
      'accountEmail must not start or end with whitespace',
    ],
    ['accountEmail', { accountEmail: 'dev\u0007@example.com' }, 'accountEmail must not contain control'],
    ['accountName', { accountName: 'dev ' }, 'accountName must not start or end with whitespace'],
    ['accountName', { accountName: 'dev\tname' }, 'accountName may only contain printable ASCII'],
    [
      'sso.firstName',
      { sso: { ...VALID.sso, firstName: 'Platform\n' } },
      'sso.firstName must not start or end',
    ],
    [
      'sso.email',
      { sso: { ...VALID.sso, email: 'platform-team@example.com ' } },
      'sso.email must not start or end',
    ],
    [
      'organizationalUnit',
      { organizationalUnit: 'Sandbox (ou-XYZ)' },
      '"ou-XYZ" is not an OU id (ou-xxxx-xxxxxxxx)',
    ],
  ])('%s: %j', (field, change, message) => {
    const result = parseAccountRequest({ ...VALID, ...change });

    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues).toEqual(
      expect.arrayContaining([{ field, message: expect.stringContaining(message) }]),
    );
  });

  test.each([
    ['a string', 'x'],
    ['null', null],
    ['a list', [VALID]],
  ])('a request that is %s is named as such', (what, input) => {
    expect(parseAccountRequest(input)).toEqual({
      ok: false,
      issues: [{ field: '(request)', message: expect.stringContaining(`must be an object of fields`) }],
    });
    expect(JSON.stringify(parseAccountRequest(input))).toContain(`not ${what}`);
  });

  test('one bad file never keeps the valid ones from being judged: each bad file named with its fields', () => {
    write('a.json', JSON.stringify(VALID));
    write('b.json', JSON.stringify({ ...VALID, accountEmail: undefined, accountName: 'b' }));
    write('c.yaml', '- not\n- an object\n');
    write('d.json', JSON.stringify({ ...VALID, accountEmail: 'd@example.com', accountName: 'd' }));

    const { loaded, problems } = readRequestFiles(dir);

    expect(loaded.map((f) => f.file)).toEqual(['a.json', 'd.json']);
    expect(problems).toEqual([
      'b.json: InvalidAccountRequest: accountEmail: accountEmail is required and must be a string',
      expect.stringMatching(
        /^c\.yaml: InvalidAccountRequest: \(request\): an account request must be an object/,
      ),
    ]);
    expect(() => loadRequestFiles(dir)).toThrow(/b\.json: InvalidAccountRequest: accountEmail[\s\S]*c\.yaml/);
  });
});
