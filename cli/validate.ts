import { Command } from 'commander';
import {
  AccountRequest,
  OU_ID,
  organizationalUnitIdProblem,
  parseAccountRequest,
  requestIdOf,
} from '../lambda/shared/schema';
import { EXIT_OK, EXIT_PROBLEMS } from './errors';
import { collectRequestFiles, readRequestFile } from './request-files';

/**
 * `account-factory validate <files...>`: checks request files before they are
 * deployed. Each file against the request schema (the one the AccountRequest
 * construct and the Validate request step use), then checks that need all the
 * files (two files for one email or one account name) and a few the schema
 * leaves to the CLI (an OU written like "Name (ou-id)" with a malformed id).
 */

export interface Problem {
  file: string;
  /** Dotted path of the field (`tags.aws:x`), `(request)` for the whole request, `(syntax)` for a parse error. */
  field: string;
  reason: string;
}

export interface FileResult {
  file: string;
  valid: boolean;
  /** The validated request (defaults filled in), when the file matches the schema. */
  request?: AccountRequest;
}

export interface ValidateOutcome {
  results: FileResult[];
  problems: Problem[];
}

/**
 * Validates the request files that `paths` name (files or directories). Never
 * throws for a bad request: every problem is in `problems`, and the files it
 * concerns are not `valid`. Throws UsageError when `paths` cannot be read.
 */
export function validateFiles(paths: readonly string[]): ValidateOutcome {
  const files = collectRequestFiles(paths);
  const problems: Problem[] = [];
  const parsed: { file: string; request: AccountRequest }[] = [];

  for (const file of files) {
    const read = readRequestFile(file);
    if (!read.ok) {
      const where = read.line !== undefined ? ` at line ${read.line}, column ${read.column}` : '';
      problems.push({ file, field: '(syntax)', reason: `invalid ${read.format}${where}: ${read.reason}` });
      continue;
    }
    const result = parseAccountRequest(read.data);
    if (!result.ok) {
      result.issues.forEach((i) => problems.push({ file, field: i.field, reason: i.message }));
      continue;
    }
    const ouProblem = organizationalUnitProblem(result.request.organizationalUnit);
    if (ouProblem) problems.push({ file, field: 'organizationalUnit', reason: ouProblem });
    parsed.push({ file, request: result.request });
  }

  problems.push(
    ...duplicates(
      parsed,
      (r) => requestIdOf(r),
      'accountEmail',
      (v) => `${v} is also requested by`,
    ),
    ...duplicates(
      parsed,
      (r) => r.accountName,
      'accountName',
      (v) => `'${v}' is also the account name in`,
    ),
  );

  const bad = new Set(problems.map((p) => p.file));
  const requests = new Map(parsed.map((p) => [p.file, p.request]));
  const results = files.map((file) => ({
    file,
    valid: !bad.has(file),
    ...(requests.has(file) ? { request: requests.get(file) } : {}),
  }));
  return { results, problems };
}

/**
 * One problem for each file whose key (email, name) another file also has,
 * naming the other files. Both sides are invalid: neither file is "the" right one.
 */
function duplicates(
  parsed: { file: string; request: AccountRequest }[],
  key: (r: AccountRequest) => string,
  field: string,
  says: (value: string) => string,
): Problem[] {
  const groups = new Map<string, string[]>();
  for (const { file, request } of parsed) {
    const k = key(request);
    groups.set(k, [...(groups.get(k) ?? []), file]);
  }
  const problems: Problem[] = [];
  for (const [value, files] of groups) {
    if (files.length < 2) continue;
    for (const file of files) {
      problems.push({ file, field, reason: `${says(value)} ${files.filter((f) => f !== file).join(', ')}` });
    }
  }
  return problems;
}

/**
 * The schema takes any OU name, and Organizations allows parentheses in names;
 * but a value that ends like "(ou-...)" without a well-formed OU id, or a bare
 * OU id, is a mistake in a request file: the Validate request step would look
 * for an OU of that name and not find it.
 */
export function organizationalUnitProblem(value: string): string | undefined {
  const problem = organizationalUnitIdProblem(value);
  if (problem) return problem;
  if (OU_ID.test(value.toLowerCase())) {
    return `an OU id alone is not accepted: write "Name (${value.toLowerCase()})" or the OU name`;
  }
  return undefined;
}

export function formatProblem(p: Problem): string {
  return `${p.file}: ${p.field}: ${p.reason}`;
}

export function summary(outcome: ValidateOutcome): string {
  const valid = outcome.results.filter((r) => r.valid).length;
  const n = outcome.results.length;
  return `${n} ${n === 1 ? 'file' : 'files'}, ${valid} valid, ${n - valid} invalid`;
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description(
      'check account request files (.json, .yaml, .yml; a directory means the request files in it) ' +
        'against the request schema, and across files for duplicate emails and account names',
    )
    .argument('<paths...>', 'request files or directories')
    .action((paths: string[]) => {
      const outcome = validateFiles(paths);
      outcome.problems.forEach((p) => process.stderr.write(`${formatProblem(p)}\n`));
      process.stdout.write(`${summary(outcome)}\n`);
      process.exitCode = outcome.problems.length ? EXIT_PROBLEMS : EXIT_OK;
    });
}
