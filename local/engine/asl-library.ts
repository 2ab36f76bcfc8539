import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * aws-local-stepfunctions, loaded with the engine's timers. The library waits with the
 * global setTimeout (Wait states, Retry intervals, an execution's TimeoutSeconds) and has
 * no option for another clock; on a virtual clock those waits must be emulated time. So
 * its CommonJS build is evaluated once per module registry with `setTimeout` and
 * `clearTimeout` bound to the timers installed here (the engine's clock), and falls back
 * to the real ones when none are installed.
 */

type Library = typeof import('aws-local-stepfunctions');

export interface LibraryTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

let installed: LibraryTimers | undefined;

/** The timers the library's waits use from now on (undefined: the real ones). */
export function setLibraryTimers(timers: LibraryTimers | undefined): void {
  installed = timers;
}

const REAL = Symbol('real timer');
type Handle = { [REAL]: NodeJS.Timeout } | { timers: LibraryTimers; handle: unknown };

function libSetTimeout(fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]): Handle {
  if (installed) return { timers: installed, handle: installed.setTimeout(() => fn(...args), ms ?? 0) };
  return { [REAL]: setTimeout(fn, ms, ...args) };
}

function libClearTimeout(h: Handle | undefined): void {
  if (!h) return;
  if (REAL in h) clearTimeout(h[REAL]);
  else h.timers.clearTimeout(h.handle);
}

let library: Library | undefined;

export function aslLibrary(): Library {
  if (library) return library;
  const file = require.resolve('aws-local-stepfunctions');
  const source = fs.readFileSync(file, 'utf8');
  const module = { exports: {} as Library };
  // The module's own scope, as Node's CommonJS wrapper gives it, plus the two timers.
  const wrapper = new Function(
    'exports',
    'require',
    'module',
    '__filename',
    '__dirname',
    'setTimeout',
    'clearTimeout',
    source,
  ) as (...args: unknown[]) => void;
  wrapper(module.exports, require, module, file, path.dirname(file), libSetTimeout, libClearTimeout);
  library = module.exports;
  return library;
}
