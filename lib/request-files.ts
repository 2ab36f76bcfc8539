import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { AccountRequest, formatIssues, parseAccountRequest, requestIdOf } from '../lambda/shared/schema';

/** One account request read from a file. */
export interface RequestFile {
  /** The file name, relative to the directory (e.g. `sandbox-alice.yaml`). */
  readonly file: string;
  /** The request id: the account email, lower-cased. */
  readonly requestId: string;
  /** Recorded with the request: `file:<file name>`. */
  readonly source: string;
  /** The validated request, defaults filled in. */
  readonly request: AccountRequest;
}

/** The extensions read as requests. */
export const REQUEST_FILE_EXTENSIONS = ['.json', '.yaml', '.yml'];

/**
 * Reads every `*.json`, `*.yaml` and `*.yml` file of a directory (not its
 * subdirectories) as one account request, in file-name order, and validates
 * each. Throws one error that names every bad file and, for each, every bad
 * field; and an error when two files request the same account email.
 */
export function loadRequestFiles(dir: string): RequestFile[] {
  const { loaded, problems } = readRequestFiles(dir);
  if (problems.length > 0) {
    throw new Error(`Invalid account request file(s) in ${dir}:\n  ${problems.join('\n  ')}`);
  }
  return loaded;
}

/**
 * Reads and judges every request file of a directory, each on its own: the valid
 * requests, and one problem per bad file (`<file>: InvalidAccountRequest: <field>:
 * <reason>; ...`). A bad file never keeps the others from being judged.
 */
export function readRequestFiles(dir: string): { loaded: RequestFile[]; problems: string[] } {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new Error(`Account requests directory ${dir} does not exist`);
  }
  const names = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && REQUEST_FILE_EXTENSIONS.includes(path.extname(e.name).toLowerCase()))
    .map((e) => e.name)
    .sort();

  const problems: string[] = [];
  const loaded: RequestFile[] = [];
  const byEmail = new Map<string, string>();
  for (const file of names) {
    let data: unknown;
    try {
      data = parseFile(path.join(dir, file));
    } catch (err) {
      problems.push(
        `${file}: not valid ${isJson(file) ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`,
      );
      continue;
    }
    const parsed = parseAccountRequest(data);
    if (!parsed.ok) {
      problems.push(`${file}: InvalidAccountRequest: ${formatIssues(parsed.issues)}`);
      continue;
    }
    const requestId = requestIdOf(parsed.request);
    const other = byEmail.get(requestId);
    if (other !== undefined) {
      problems.push(`${file}: accountEmail: ${requestId} is already requested by ${other}`);
      continue;
    }
    byEmail.set(requestId, file);
    loaded.push({ file, requestId, source: `file:${file}`, request: parsed.request });
  }
  return { loaded, problems };
}

function isJson(file: string): boolean {
  return path.extname(file).toLowerCase() === '.json';
}

function parseFile(file: string): unknown {
  const text = fs.readFileSync(file, 'utf8');
  return isJson(file) ? JSON.parse(text) : parseYaml(text, { prettyErrors: true });
}
