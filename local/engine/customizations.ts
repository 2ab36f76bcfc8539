import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import type { PipelineDeclaration } from '@aws-sdk/client-codepipeline';
import type { PipelineRunResult, StageReporter } from '../emulator';
import { REPO_ROOT } from './lambda-runtime';
import type { EngineClock } from './step-functions';
import { LOCAL_REGION } from './template';

/**
 * The account pipelines' builds, on this machine. Each stage after Source is one
 * build of the shared customizations project (lib/private/customizations-buildspec.ts),
 * and follows its rules on a local folder instead of the source bucket or repository:
 *
 * - no folder: nothing to run for `global/`, a failure for `accounts/<name>/`;
 * - a CDK app (`cdk.json`): SYNTHESIZED, in this process, with the account ID and
 *   region as context and in CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION: an app that
 *   throws, or whose synthesis reports an error, fails its stage as `cdk deploy`
 *   would (nothing is deployed: the emulated accounts have no CloudFormation);
 * - `run.sh`: checked with `bash -n` (running it would call AWS);
 * - neither: a failure.
 *
 * Each stage takes emulated time (`stageSeconds`), as the CodeBuild job would.
 */
export interface CustomizationsRunnerOptions {
  /** The customizations folder (`global/`, `accounts/<name>/`). */
  readonly dir: string;
  readonly clock: EngineClock & { sleep(ms: number): Promise<void> };
  /** Emulated seconds per stage. @default { source: 20, cdk: 120, script: 45, empty: 15 } */
  readonly stageSeconds?: Partial<StageSeconds>;
  /** Fails these stages (by stage name, or `<stage>:<account id>`) with an injected error. */
  readonly failStages?: string[];
}

export interface StageSeconds {
  source: number;
  cdk: number;
  script: number;
  empty: number;
}

const DEFAULT_SECONDS: StageSeconds = { source: 20, cdk: 120, script: 45, empty: 15 };

/** One build, as the local runner did it. */
export interface BuildRecord {
  pipelineName: string;
  executionId: string;
  stage: string;
  accountId: string;
  path: string;
  kind: 'cdk' | 'script' | 'empty' | 'missing' | 'injected';
  ok: boolean;
  message: string;
  /** Real milliseconds the synthesis took (0 when cached). */
  synthMs: number;
  cached: boolean;
  /** Stacks the CDK app synthesized. */
  stacks: string[];
}

export class CustomizationFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CustomizationFailed';
  }
}

interface SynthResult {
  ok: boolean;
  message: string;
  stacks: string[];
  ms: number;
}

export class CustomizationsRunner {
  readonly builds: BuildRecord[] = [];
  private readonly seconds: StageSeconds;
  private readonly synthCache = new Map<string, SynthResult>();
  private closed = false;

  constructor(private readonly options: CustomizationsRunnerOptions) {
    this.seconds = { ...DEFAULT_SECONDS, ...options.stageSeconds };
  }

  close(): void {
    this.closed = true;
  }

  /** The PipelineRunner of the emulated CodePipeline. */
  async run(
    pipelineName: string,
    executionId: string,
    declaration: PipelineDeclaration,
    stages: StageReporter,
  ): Promise<PipelineRunResult> {
    for (const stage of declaration.stages ?? []) {
      const name = stage.name ?? '';
      if (this.closed)
        return { status: 'Failed', failedStage: name, message: 'The local factory was closed' };
      stages.start(name);
      const action = stage.actions?.[0];
      if (action?.actionTypeId?.category === 'Source') {
        await this.options.clock.sleep(this.seconds.source * 1000);
        stages.end(name, 'Succeeded');
        continue;
      }
      const vars = buildVariables(action?.configuration?.EnvironmentVariables);
      const build = this.build(pipelineName, executionId, name, vars);
      this.builds.push(build);
      const kind = build.kind === 'missing' || build.kind === 'injected' ? 'empty' : build.kind;
      await this.options.clock.sleep(this.seconds[kind] * 1000);
      if (!build.ok) {
        stages.end(name, 'Failed');
        return { status: 'Failed', failedStage: name, message: build.message };
      }
      stages.end(name, 'Succeeded');
    }
    return { status: 'Succeeded' };
  }

  private build(
    pipelineName: string,
    executionId: string,
    stage: string,
    vars: Record<string, string>,
  ): BuildRecord {
    const accountId = vars.ACCOUNT_ID ?? '';
    const rel = vars.CUSTOMIZATIONS_PATH ?? 'global';
    const base = {
      pipelineName,
      executionId,
      stage,
      accountId,
      path: rel,
      synthMs: 0,
      cached: false,
      stacks: [],
    };
    const injected = this.options.failStages?.find((f) => f === stage || f === `${stage}:${accountId}`);
    if (injected) {
      return { ...base, kind: 'injected', ok: false, message: `Injected failure of stage ${stage}` };
    }
    const folder = path.resolve(this.options.dir, rel);
    if (!folder.startsWith(path.resolve(this.options.dir) + path.sep) || !fs.existsSync(folder)) {
      return vars.CUSTOMIZATIONS_SCOPE === 'account'
        ? {
            ...base,
            kind: 'missing',
            ok: false,
            message: `The customizations source has no ${rel}/ folder, which the account request names`,
          }
        : { ...base, kind: 'empty', ok: true, message: `No ${rel}/ folder: nothing to run` };
    }
    if (fs.existsSync(path.join(folder, 'cdk.json'))) {
      const key = `${folder}\0${accountId}\0${LOCAL_REGION}`;
      const cached = this.synthCache.get(key);
      const result = cached ?? synthesize(folder, accountId, LOCAL_REGION);
      if (!cached) this.synthCache.set(key, result);
      return {
        ...base,
        kind: 'cdk',
        ok: result.ok,
        message: result.message,
        synthMs: cached ? 0 : result.ms,
        cached: Boolean(cached),
        stacks: result.stacks,
      };
    }
    const script = path.join(folder, 'run.sh');
    if (fs.existsSync(script)) {
      const check = spawnSync('bash', ['-n', script], { encoding: 'utf8' });
      const ok = check.status === 0;
      return {
        ...base,
        kind: 'script',
        ok,
        message: ok ? `${rel}/run.sh: syntax checked` : check.stderr.trim(),
      };
    }
    return {
      ...base,
      kind: 'missing',
      ok: false,
      message: `${rel}/ holds neither cdk.json (a CDK app) nor run.sh`,
    };
  }
}

function buildVariables(raw: string | undefined): Record<string, string> {
  if (!raw) return {};
  const list = JSON.parse(raw) as { name: string; value: string }[];
  return Object.fromEntries(list.map((v) => [v.name, v.value]));
}

/** `npx tsx app.ts`, `tsx bin/app.ts`, `npx ts-node app.ts`, `node app.js`: the entry file of a cdk.json app. */
export function appEntry(folder: string): string {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(folder, 'cdk.json'), 'utf8')) as { app?: string };
  const words = (cdkJson.app ?? '')
    .trim()
    .split(/\s+/)
    .filter((w) => w !== 'npx' && !w.startsWith('-'));
  const file = words.find((w) => /\.(ts|js|mjs|cjs)$/.test(w));
  if (!file)
    throw new CustomizationFailed(
      `cdk.json "app" names no .ts or .js entry file: ${cdkJson.app ?? '(none)'}`,
    );
  return path.resolve(folder, file);
}

function cdkJsonContext(folder: string): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(folder, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

/**
 * Runs a CDK app's entry file in this process, as `cdk synth` runs it in a child
 * process: context in CDK_CONTEXT_JSON, the assembly in CDK_OUTDIR (a temporary
 * directory). The app's own files are compiled with esbuild and evaluated afresh
 * each time (a module cache would skip the second account); packages such as
 * aws-cdk-lib come from Node's cache, so a synthesis costs milliseconds after the
 * first.
 */
export function synthesize(folder: string, accountId: string, region: string): SynthResult {
  const started = Date.now();
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'customization-synth-'));
  const saved: Record<string, string | undefined> = {};
  const env: Record<string, string> = {
    CDK_CONTEXT_JSON: JSON.stringify({
      ...cdkJsonContext(folder),
      ACCOUNT_ID: accountId,
      region,
      // What the CLI would add for `cdk deploy`, less what only costs time here.
      'aws:cdk:version-reporting': false,
      'aws:cdk:enable-path-metadata': false,
      'aws:cdk:enable-asset-metadata': false,
    }),
    CDK_OUTDIR: outdir,
    CDK_DEFAULT_ACCOUNT: accountId,
    CDK_DEFAULT_REGION: region,
  };
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  // An App made while CDK_OUTDIR is set synthesizes again before the process exits: not here.
  const exitListeners = new Set(process.listeners('beforeExit'));
  try {
    loadFresh(appEntry(folder), new Map());
    const stacks = assemblyStacks(outdir);
    if (stacks.errors.length) {
      return { ok: false, message: stacks.errors.join('; '), stacks: stacks.names, ms: Date.now() - started };
    }
    if (stacks.names.length === 0) {
      return { ok: false, message: 'The CDK app synthesized no stack', stacks: [], ms: Date.now() - started };
    }
    return {
      ok: true,
      message: `synthesized ${stacks.names.join(', ')}`,
      stacks: stacks.names,
      ms: Date.now() - started,
    };
  } catch (err) {
    const e = err as Error;
    return { ok: false, message: `${e.name}: ${e.message}`, stacks: [], ms: Date.now() - started };
  } finally {
    for (const l of process.listeners('beforeExit'))
      if (!exitListeners.has(l)) process.removeListener('beforeExit', l);
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** Stack names of the cloud assembly, and the error annotations `cdk deploy` would stop on. */
function assemblyStacks(outdir: string): { names: string[]; errors: string[] } {
  const manifestFile = path.join(outdir, 'manifest.json');
  if (!fs.existsSync(manifestFile))
    return { names: [], errors: ['The CDK app did not synthesize (no app.synth()?)'] };
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as {
    artifacts?: Record<
      string,
      { type: string; metadata?: Record<string, { type: string; data: unknown }[]> }
    >;
  };
  const names: string[] = [];
  const errors: string[] = [];
  for (const [name, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    names.push(name);
    for (const [where, entries] of Object.entries(artifact.metadata ?? {})) {
      for (const m of entries) if (m.type === 'aws:cdk:error') errors.push(`${where}: ${String(m.data)}`);
    }
  }
  return { names, errors };
}

/** Evaluates a module of the app (and its relative imports) afresh; packages through Node's require. */
function loadFresh(file: string, seen: Map<string, { exports: unknown }>): unknown {
  const known = seen.get(file);
  if (known) return known.exports;
  const code = compiled(file);
  const mod = { exports: {} as unknown };
  seen.set(file, mod);
  const nodeRequire = createRequire(file);
  const localRequire = (id: string): unknown => {
    if (id.startsWith('.') || id.startsWith('/')) {
      const resolved = resolveLocal(path.resolve(path.dirname(file), id));
      if (resolved) return loadFresh(resolved, seen);
    }
    try {
      return nodeRequire(id);
    } catch (err) {
      // An app without its own node_modules (its build would `npm ci`): the repository's packages.
      if ((err as { code?: string }).code !== 'MODULE_NOT_FOUND' && !/Cannot find module/.test(String(err)))
        throw err;
      return repoRequire(id);
    }
  };
  const run = new Function('exports', 'require', 'module', '__filename', '__dirname', code) as (
    ...args: unknown[]
  ) => void;
  run(mod.exports, localRequire, mod, file, path.dirname(file));
  return mod.exports;
}

const repoRequire = createRequire(path.join(REPO_ROOT, 'package.json'));

/** Compiled app files, by path and modification time: each account runs the same code. */
const compiledCache = new Map<string, { mtimeMs: number; code: string }>();

function compiled(file: string): string {
  const mtimeMs = fs.statSync(file).mtimeMs;
  const hit = compiledCache.get(file);
  if (hit && hit.mtimeMs === mtimeMs) return hit.code;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  const { code } = esbuild.transformSync(fs.readFileSync(file, 'utf8'), {
    loader: file.endsWith('.ts') ? 'ts' : 'js',
    format: 'cjs',
    target: 'node20',
    sourcefile: file,
  });
  compiledCache.set(file, { mtimeMs, code });
  return code;
}

function resolveLocal(base: string): string | undefined {
  for (const candidate of [
    base,
    `${base}.ts`,
    `${base}.js`,
    path.join(base, 'index.ts'),
    path.join(base, 'index.js'),
  ]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}
