import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { parse as parseYaml } from 'yaml';
import { accountRequestJsonSchema } from '../../cli/json-schema';
import { parseAccountRequest } from '../../lambda/shared/schema';
import { SCHEMA_FILE } from '../../scripts/generate-schema';
import { malformedRequests, validRequest } from '../fixtures/malformed-requests';

const ROOT = path.join(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

const validate = new Ajv2020({ strict: true, allErrors: true }).compile(
  JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8')),
);

test('the committed schema is what `npm run schema` generates now (run it after changing the request schema)', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'schema-')), 'out', 'schema.json');

  // As a child process: prettier formats through a dynamic import, which jest's module system does not run.
  const run = spawnSync(TSX, ['scripts/generate-schema.ts', file], { cwd: ROOT, encoding: 'utf8' });
  expect(run.status).toBe(0);

  expect(fs.readFileSync(SCHEMA_FILE, 'utf8')).toBe(fs.readFileSync(file, 'utf8'));
  expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual(accountRequestJsonSchema());
});

test('the schema names itself and says which checks it leaves to the factory and the CLI', () => {
  const schema = accountRequestJsonSchema();
  expect(schema).toMatchObject({
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'urn:cdk-account-factory:schema:account-request',
    title: 'Account request',
  });
  expect(schema.description).toMatch(/Checked only by the factory.*16384 bytes/);
  expect(schema.description).toMatch(
    /Checked only by `account-factory validate`: two files with the same accountEmail/,
  );
});

describe('accepts valid requests', () => {
  const dir = path.join(__dirname, '..', 'fixtures', 'requests', 'valid');
  test.each(fs.readdirSync(dir))('fixture %s', (file) => {
    const data = parseYaml(fs.readFileSync(path.join(dir, file), 'utf8'));
    expect(validate(data)).toBe(true);
  });

  test('a request with every field', () => {
    expect(validate(validRequest())).toBe(true);
    expect(validate(validRequest({ organizationalUnit: `${'o'.repeat(128)} (ou-abcd-11111111)` }))).toBe(
      true,
    );
  });
});

describe('rejects', () => {
  test.each(
    [
      ['aws:x', 'AWS:x', 'Aws:x', 'aWs:createdBy'].map((k) => [
        `tag key ${k}`,
        validRequest({ tags: { [k]: 'v' } }),
      ]),
      [
        [
          '51 tags',
          validRequest({ tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }),
        ],
        ['an unknown field', validRequest({ accountId: '111111111111' })],
        ['an account name with a leading space', validRequest({ accountName: ' Dev' })],
        ['an OU with a trailing space', validRequest({ organizationalUnit: 'Sandbox ' })],
        ['an OU name of 129 characters', validRequest({ organizationalUnit: 'o'.repeat(129) })],
        [
          'an SSO first name of spaces',
          validRequest({ sso: { email: 'a@example.com', firstName: '  ', lastName: 'A' } }),
        ],
        [
          '51 custom fields',
          validRequest({
            customFields: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])),
          }),
        ],
      ],
    ].flat() as [string, unknown][],
  )('%s', (_what, request) => {
    expect(parseAccountRequest(request).ok).toBe(false);
    expect(validate(request)).toBe(false);
  });

  // Documented in the schema's description: the total size of customFields is checked by the factory only.
  const FACTORY_ONLY = /^custom-fields: \d+ KiB in all/;

  test("every request of the malformed corpus, but those whose check is the factory's only", () => {
    const accepted = malformedRequests()
      .filter((e) => validate(e.request))
      .map((e) => e.name);

    expect(accepted.filter((name) => !FACTORY_ONLY.test(name))).toEqual([]);
    expect(accepted.length).toBeGreaterThan(0);
  });
});
