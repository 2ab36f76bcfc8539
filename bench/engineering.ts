import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HANDLER_METADATA_KEY } from '../lambda/shared/env';
import { round } from './stats';

/** Figures about building and testing the project (real time of this machine). */
export interface BundleFigure {
  /** The handler (lambda/<name>), or what the asset is when it is not one of ours. */
  handler: string;
  logicalId: string;
  asset: string;
  /** The bundle Lambda runs. */
  indexJsKb: number;
  /** Everything in the asset folder (what the deployment zips), source map included. */
  assetKb: number;
}

export interface SynthFigures {
  wallSeconds: number;
  ok: boolean;
  bundles: BundleFigure[];
  error?: string;
}

export interface TestFigures {
  wallSeconds: number;
  ok: boolean;
  suites?: string;
  tests?: string;
}

export interface CommandResult {
  code: number | null;
  output: string;
  wallMs: number;
}

export const REPO_ROOT = path.resolve(__dirname, '..');

/** Runs a command in the repository, capturing its output. */
export function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env: { ...process.env, ...env } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output, wallMs: Date.now() - start }));
  });
}

function dirSize(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    total += entry.isDirectory() ? dirSize(p) : fs.statSync(p).size;
  }
  return total;
}

const kb = (bytes: number) => round(bytes / 1024, 0);

/**
 * A real `cdk synth` (bundling on, esbuild without Docker) into a temporary folder,
 * and the size of every Lambda asset it bundled, mapped to its handler through the
 * template's metadata.
 */
export async function measureSynth(): Promise<SynthFigures> {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'account-factory-bench-synth-'));
  try {
    const result = await run('npx', ['cdk', 'synth', '--quiet', '-o', outdir]);
    const wallSeconds = round(result.wallMs / 1000, 1);
    if (result.code !== 0) {
      return { wallSeconds, ok: false, bundles: [], error: result.output.split('\n').slice(-15).join('\n') };
    }
    const bundles: BundleFigure[] = [];
    for (const file of fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json'))) {
      const template = JSON.parse(fs.readFileSync(path.join(outdir, file), 'utf8')) as {
        Resources?: Record<string, { Type: string; Metadata?: Record<string, unknown> }>;
      };
      for (const [logicalId, r] of Object.entries(template.Resources ?? {})) {
        if (r.Type !== 'AWS::Lambda::Function') continue;
        const asset = r.Metadata?.['aws:asset:path'];
        if (typeof asset !== 'string') continue;
        const dir = path.join(outdir, asset);
        const index = path.join(dir, 'index.js');
        if (!fs.existsSync(index)) continue;
        const handler = r.Metadata?.[HANDLER_METADATA_KEY];
        bundles.push({
          handler: typeof handler === 'string' ? handler : `(${logicalId}: not a project handler)`,
          logicalId,
          asset,
          indexJsKb: kb(fs.statSync(index).size),
          assetKb: kb(dirSize(dir)),
        });
      }
    }
    bundles.sort((a, b) => b.indexJsKb - a.indexJsKb);
    return { wallSeconds, ok: true, bundles };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** The whole jest suite, as `npx jest` runs it. */
export async function measureTests(): Promise<TestFigures> {
  const result = await run('npx', ['jest', '--ci'], { FORCE_COLOR: '0' });
  const line = (label: string) =>
    result.output
      .split('\n')
      .find((l) => l.startsWith(`${label}:`))
      ?.slice(label.length + 1)
      .trim();
  return {
    wallSeconds: round(result.wallMs / 1000, 1),
    ok: result.code === 0,
    suites: line('Test Suites'),
    tests: line('Tests'),
  };
}
