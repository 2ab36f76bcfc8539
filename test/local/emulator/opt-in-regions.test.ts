import * as fs from 'node:fs';
import * as path from 'node:path';
import { OPT_IN_REGIONS } from '../../../lambda/shared/schema';
import { EMULATED_OPT_IN_REGIONS } from '../../../local/emulator/account';

/**
 * The opt-in Regions are written twice, on purpose: the request schema's list (what the
 * handlers accept) and the emulator's (what emulated Account Management treats as opt-in),
 * each from AWS's Regions documentation. Written apart, so that the emulator does not agree
 * with the handlers by construction; compared here, so that a Region added to one and not
 * the other is caught.
 */

const sorted = (list: readonly string[]) => [...list].sort();

test("the schema's and the emulator's opt-in Region lists hold the same Regions, each once", () => {
  expect(new Set(OPT_IN_REGIONS).size).toBe(OPT_IN_REGIONS.length);
  expect(new Set(EMULATED_OPT_IN_REGIONS).size).toBe(EMULATED_OPT_IN_REGIONS.length);
  expect(sorted(EMULATED_OPT_IN_REGIONS)).toEqual(sorted(OPT_IN_REGIONS));
});

test("the emulator's list is its own: local/emulator/account.ts does not import the request schema", () => {
  const source = fs.readFileSync(
    path.join(__dirname, '..', '..', '..', 'local', 'emulator', 'account.ts'),
    'utf8',
  );
  expect(source).not.toMatch(/from '[./]*\/lambda\/shared\/schema'/);
  expect(source).toMatch(/EMULATED_OPT_IN_REGIONS: readonly string\[\] = \[\n(\s+'[a-z0-9-]+',\n)+\];/);
});

test.each([['lambda/shared/schema.ts'], ['local/emulator/account.ts']])(
  '%s cites the AWS Regions documentation for its list',
  (file) => {
    const source = fs.readFileSync(path.join(__dirname, '..', '..', '..', file), 'utf8');
    expect(source).toContain(
      'https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html',
    );
    expect(source).toContain(
      'https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html',
    );
  },
);
