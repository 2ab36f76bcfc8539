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
  /** The handler's own file (its `Handler` setting, e.g. acquire-slot/index.js). */
  indexJsKb: number;
  /** What the handler loads from its asset: its file and the vendor/ files it requires. */
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
        const setting = (r as { Properties?: { Handler?: unknown } }).Properties?.Handler;
        if (typeof setting !== 'string') continue;
        // One asset holds every handler (acquire-slot/index.js) and what they share (vendor/).
        const index = path.join(dir, `${setting.slice(0, setting.lastIndexOf('.'))}.js`);
        if (!fs.existsSync(index)) continue;
        const handler = r.Metadata?.[HANDLER_METADATA_KEY];
        const text = fs.readFileSync(index, 'utf8');
        const vendors = new Set(
          [...text.matchAll(/require\("([^"]*vendor\/[^"]+\.js)"\)/g)].map((m) =>
            path.resolve(path.dirname(index), m[1]),
          ),
        );
        const loads = [index, ...vendors].reduce((a, f) => a + fs.statSync(f).size, 0);
        bundles.push({
          handler: typeof handler === 'string' ? handler : `(${logicalId}: not a project handler)`,
          logicalId,
          asset,
          indexJsKb: kb(fs.statSync(index).size),
          assetKb: kb(loads),
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
