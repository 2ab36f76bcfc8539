import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { UsageError } from './errors';

/**
 * Request files as the CLI reads them: one account request per `.json`, `.yaml`
 * or `.yml` file; a directory stands for the request files directly in it (not
 * its subdirectories), as the app reads its requests directory.
 */

export const REQUEST_FILE_EXTENSIONS = ['.json', '.yaml', '.yml'] as const;

export function isRequestFile(file: string): boolean {
  return (REQUEST_FILE_EXTENSIONS as readonly string[]).includes(path.extname(file).toLowerCase());
}

/**
 * The request files that `paths` name, in order (a directory's files sorted by
 * name), each once. Throws UsageError when there are no paths, a path cannot be
 * read, a file is not a request file, or a directory holds no request file.
 */
export function collectRequestFiles(paths: readonly string[]): string[] {
  if (paths.length === 0) throw new UsageError('no request files given: name files or directories');
  const files: string[] = [];
  const seen = new Set<string>();
  const add = (file: string) => {
    const key = path.resolve(file);
    if (seen.has(key)) return;
    seen.add(key);
    files.push(file);
  };
  for (const p of paths) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(p);
    } catch (err) {
      throw new UsageError(`${p}: cannot read (${describeFsError(err)})`);
    }
    if (stat.isDirectory()) {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(p, { withFileTypes: true });
      } catch (err) {
        throw new UsageError(`${p}: cannot read directory (${describeFsError(err)})`);
      }
      const names = entries
        .filter((e) => e.isFile() && isRequestFile(e.name))
        .map((e) => e.name)
        .sort();
      if (names.length === 0) {
        throw new UsageError(
          `${p}: no request files (${REQUEST_FILE_EXTENSIONS.join(', ')}) in this directory`,
        );
      }
      names.forEach((n) => add(path.join(p, n)));
    } else if (stat.isFile()) {
      if (!isRequestFile(p)) {
        throw new UsageError(`${p}: not a request file (expected ${REQUEST_FILE_EXTENSIONS.join(', ')})`);
      }
      add(p);
    } else {
      throw new UsageError(`${p}: not a file or directory`);
    }
  }
  return files;
}

export type ReadResult =
  | { ok: true; data: unknown }
  | { ok: false; format: 'JSON' | 'YAML'; reason: string; line?: number; column?: number };

/**
 * Reads and parses one request file (JSON or YAML, by extension). A syntax error
 * is returned with its line and column (1-based) when they are known; a file that
 * cannot be read throws UsageError.
 */
export function readRequestFile(file: string): ReadResult {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${file}: cannot read (${describeFsError(err)})`);
  }
  return path.extname(file).toLowerCase() === '.json' ? parseJson(text) : parseYaml(text);
}

export function parseJson(source: string): ReadResult {
  const text = source.replace(/^\uFEFF/, '');
  try {
    return { ok: true, data: JSON.parse(text) };
  } catch (err) {
    const located = locateJsonError(text);
    if (located)
      return { ok: false, format: 'JSON', reason: located.reason, ...lineAndColumn(text, located.offset) };
    return { ok: false, format: 'JSON', reason: firstLine((err as Error).message) };
  }
}

export function parseYaml(text: string): ReadResult {
  const doc = parseDocument(text, { prettyErrors: true });
  const [error] = doc.errors;
  if (error) {
    // The message ends with " at line L, column C:" and a code frame: keep the sentence.
    const reason = firstLine(error.message).replace(/ at line \d+, column \d+:?$/, '');
    const pos = error.linePos?.[0];
    return { ok: false, format: 'YAML', reason, ...(pos ? { line: pos.line, column: pos.col } : {}) };
  }
  return { ok: true, data: doc.toJS() };
}

function firstLine(message: string): string {
  return message.split('\n')[0].trim();
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return code ?? String(err);
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/**
 * Where and why `text` is not JSON. Node's JSON.parse does not always say where
 * (e.g. "Unexpected token '}', ... is not valid JSON"), so this small scanner
 * finds the first offending character. Returns undefined if it finds no error.
 */
export function locateJsonError(text: string): { offset: number; reason: string } | undefined {
  let i = 0;
  const fail = (reason: string): never => {
    throw new JsonSyntax(i, reason);
  };
  const what = () => (i >= text.length ? 'end of input' : `'${text[i]}'`);
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const expect = (c: string) => {
    if (text[i] !== c) fail(`expected '${c}' but found ${what()}`);
    i++;
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail(`unexpected ${what()}`);
  };
  const string = () => {
    expect('"');
    while (i < text.length && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c < 0x20) fail('control character in string (escape it)');
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail('bad \\u escape');
          i += 5;
        } else if (i < text.length && '"\\/bfnrt'.includes(text[i])) i++;
        else fail(`bad escape ${what()}`);
      } else i++;
    }
    if (i >= text.length) fail('unterminated string');
    i++;
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m || m[0] === '-' || m[0] === '') fail(`unexpected ${what()}`);
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`expected a property name in double quotes but found ${what()}`);
        string();
        ws();
        expect(':');
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail(`expected ',' or '}' but found ${what()}`);
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail(`expected ',' or ']' but found ${what()}`);
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    fail(`unexpected ${what()}`);
  };
  try {
    value();
    ws();
    if (i < text.length) fail(`unexpected ${what()} after the end of the JSON value`);
    return undefined;
  } catch (err) {
    if (err instanceof JsonSyntax) return { offset: err.offset, reason: err.reason };
    throw err;
  }
}

class JsonSyntax extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}
