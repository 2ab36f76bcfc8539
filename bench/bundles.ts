import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { buildAssets, handlerEntries, HANDLERS_ASSET_DIR } from '../scripts/build-assets';
import { spread } from './stats';

/**
 * The Lambda bundles, before and after prebuilt assets: size and the time to load
 * each one (`require` in a fresh node process, the median of several), printed.
 *
 *   npm run bench:bundles [-- --runs 5] [-- --json]
 *
 * before: what NodejsFunction built until now (esbuild, minified, the whole AWS SDK
 *         bundled, a source map with names only, loaded with --enable-source-maps).
 * after:  scripts/build-assets.ts (the runtime's AWS SDK left out, zod, the logger and
 *         the Control Tower client shared in vendor/); "loads" counts the handler's
 *         file and the vendor files it requires. The SDK it requires comes from
 *         node_modules here, from the Lambda runtime in AWS.
 */

interface Figure {
  handler: string;
  /** index.js. */
  kb: number;
  /** Everything the handler loads from its asset (after: index.js and its vendor files; before: index.js). */
  loadsKb: number;
  /** Source map (before only). */
  mapKb?: number;
  loadMs?: number;
  error?: string;
}

const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1]) || 5;
const kb = (bytes: number) => Math.round(bytes / 1024);

/** Environment a handler module may read when it loads. */
const ENV = {
  ...process.env,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIDBENCH',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
};

/** Milliseconds to `require` a file in a fresh node process (median of RUNS). */
function loadMs(file: string, nodeArgs: string[] = []): { ms?: number; error?: string } {
  const script =
    'const t = process.hrtime.bigint(); require(process.argv[1]); ' +
    'process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));';
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const out = spawnSync(process.execPath, [...nodeArgs, '-e', script, file], {
      env: ENV,
      encoding: 'utf8',
    });
    if (out.status !== 0) return { error: out.stderr.split('\n').find((l) => /Error/.test(l)) ?? 'failed' };
    times.push(Number(out.stdout));
  }
  return { ms: spread(times).median ?? undefined };
}

async function before(dir: string): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const [handler, entry] of Object.entries(handlerEntries())) {
    const outfile = path.join(dir, handler, 'index.js');
    await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'cjs',
      minify: true,
      sourcemap: true,
      sourcesContent: false,
      logLevel: 'error',
    });
    const size = fs.statSync(outfile).size;
    figures.push({
      handler,
      kb: kb(size),
      loadsKb: kb(size),
      mapKb: kb(fs.statSync(`${outfile}.map`).size),
      ...rename(loadMs(outfile, ['--enable-source-maps'])),
    });
  }
  return figures;
}

async function after(): Promise<{ figures: Figure[]; totalKb: number }> {
  const built = await buildAssets();
  const vendorSize = new Map(
    built.filter((b) => b.handler.startsWith('vendor/')).map((b) => [b.file, b.bytes]),
  );
  const figures: Figure[] = [];
  for (const b of built.filter((x) => !x.handler.startsWith('vendor/'))) {
    const text = fs.readFileSync(b.file, 'utf8');
    const vendors = [...text.matchAll(/require\("([^"]*vendor\/[^"]+\.js)"\)/g)].map((m) =>
      path.resolve(path.dirname(b.file), m[1]),
    );
    const loads = b.bytes + [...new Set(vendors)].reduce((a, f) => a + (vendorSize.get(f) ?? 0), 0);
    figures.push({ handler: b.handler, kb: kb(b.bytes), loadsKb: kb(loads), ...rename(loadMs(b.file)) });
  }
  for (const [file, bytes] of vendorSize) {
    figures.push({ handler: path.relative(HANDLERS_ASSET_DIR, file), kb: kb(bytes), loadsKb: kb(bytes) });
  }
  return { figures, totalKb: kb(built.reduce((a, b) => a + b.bytes, 0)) };
}

function rename(r: { ms?: number; error?: string }): Pick<Figure, 'loadMs' | 'error'> {
  return r.ms === undefined ? { error: r.error } : { loadMs: r.ms };
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'account-factory-bundles-'));
  try {
    const b = await before(tmp);
    const a = await after();
    const result = {
      runs: RUNS,
      node: process.version,
      before: {
        totalKb: b.reduce((s, f) => s + f.kb, 0),
        mapsKb: b.reduce((s, f) => s + (f.mapKb ?? 0), 0),
        bundles: b,
      },
      after: { totalKb: a.totalKb, bundles: a.figures },
    };
    if (args.includes('--json')) {
      console.log(JSON.stringify(result, null, 2));
      return;
    }
    const byHandler = new Map(a.figures.map((f) => [f.handler, f]));
    const row = (cells: (string | number | undefined)[]) =>
      `| ${cells.map((c) => (c === undefined ? '' : String(c))).join(' | ')} |`;
    console.log(
      `Lambda bundles (node ${process.version}; load = require in a fresh process, median of ${RUNS})\n`,
    );
    console.log(
      row(['handler', 'before KB', 'before load ms', 'after KB', 'after loads KB', 'after load ms']),
    );
    console.log(row(['---', '---:', '---:', '---:', '---:', '---:']));
    for (const f of b) {
      const x = byHandler.get(f.handler);
      console.log(row([f.handler, f.kb, f.loadMs ?? f.error, x?.kb, x?.loadsKb, x?.loadMs ?? x?.error]));
    }
    for (const f of a.figures.filter((x) => x.handler.startsWith('vendor/'))) {
      console.log(row([f.handler, '', '', f.kb, '', '']));
    }
    console.log(
      `\nbefore: ${result.before.totalKb} KB of index.js (+ ${result.before.mapsKb} KB of source maps), one asset per handler` +
        `\nafter:  ${result.after.totalKb} KB in one asset shared by every function; largest file ` +
        `${Math.max(...a.figures.map((f) => f.kb))} KB, largest a handler loads ${Math.max(...a.figures.map((f) => f.loadsKb))} KB`,
    );
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
