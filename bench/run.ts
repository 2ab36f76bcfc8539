import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { STEP } from '../lib/workflow/step-names';
import { synthTemplate } from '../local/engine/synth';
import type { CfnTemplate } from '../local/engine/template';
import { measureCliScale, type CliScaleFigure } from './cli-scale';
import { measureSynth, measureTests, REPO_ROOT, type SynthFigures, type TestFigures } from './engineering';
import { measureOrgScale, type OrgScaleFigure } from './org-scale';
import { renderMarkdown } from './report';
import { ratio, round } from './stats';
import type { AftRunResultFigures, FactoryRunResult, WorkerJob, WorkerResult } from './worker';

/**
 * `npm run bench`: figures measured on the local engine, each a ratio or a count (or
 * an emulated duration) from one run, so they compare across machines.
 *
 *   npm run bench                  N = 5, 20, 50, 200, 1000, the organization-scale and engineering figures, writes bench/results.{json,md}
 *   npm run bench -- --quick       N = 5, 20 only; prints, writes nothing (add --write to write)
 *   npm run bench -- --skip-tests  leaves out the wall time of the test suite
 *   npm run bench -- --skip-synth  leaves out `cdk synth` and the bundle sizes
 *   npm run bench -- --scale 300   the factory runs on a scaled clock (default: the virtual clock)
 *   npm run bench -- --sizes 5,50  these N only
 */
export const CREATE_MINUTES = 25;
export const LIMIT = 5;
export const AFT_INTERVAL_SECONDS = 300;
/**
 * The factory runs are on the virtual clock (scale 0 in a job): emulated time stands still
 * while anything runs, so no figure depends on this machine's pace. `--scale x` runs them
 * on a scaled clock instead, where every real millisecond of CPU is x emulated ones.
 */
export const VIRTUAL = 0;
export const clockLabel = (scale: number) => (scale === VIRTUAL ? 'the virtual clock' : `scale ${scale}`);
/** The organization sizes whose AWS calls per request are compared. */
export const ORG_SIZES = [100, 5000];
/** Managed accounts for the `plan` / `rerun --ous` wall times. */
export const CLI_ACCOUNTS = 5000;
/** The AFT scheduler makes a few calls per 5 minutes: it can run much faster. */
export const AFT_SCALE = 2000;
/** The extra run that varies Control Tower durations (the polls no longer line up with them). */
export const JITTER_RUN = { n: 20, jitter: 0.1 };

export interface ThroughputRow {
  n: number;
  factory: FactoryRunResult;
  aft: AftRunResultFigures;
  aftOverFactory: number | null;
}

export interface BenchResults {
  command: string;
  date: string;
  machine: { cores: number; cpu: string; node: string; platform: string; memoryGb: number };
  settings: {
    createMinutes: number;
    limit: number;
    jitter: number;
    aftIntervalSeconds: number;
    aftScale: number;
    pollIntervalSeconds?: number;
    slotWaitTimeoutSeconds?: number;
  };
  throughput: ThroughputRow[];
  jitterRun?: FactoryRunResult;
  /** AWS calls per request in organizations of ORG_SIZES accounts. */
  orgScale?: OrgScaleFigure[];
  /** `plan` and `rerun --ous` at CLI_ACCOUNTS managed accounts. */
  cliScale?: CliScaleFigure;
  engineering: { synth?: SynthFigures; tests?: TestFigures };
  benchWallSeconds: number;
}

interface Options {
  quick: boolean;
  skipTests: boolean;
  skipSynth: boolean;
  write: boolean;
  scale?: number;
  sizes?: number[];
}

function parseArgs(argv: string[]): Options {
  const o: Options = { quick: false, skipTests: false, skipSynth: false, write: true };
  let writeGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--skip-tests') o.skipTests = true;
    else if (a === '--skip-synth') o.skipSynth = true;
    else if (a === '--write') writeGiven = true;
    else if (a === '--sizes') {
      o.sizes = String(argv[++i] ?? '')
        .split(',')
        .map(Number);
      if (!o.sizes.length || o.sizes.some((n) => !(Number.isInteger(n) && n > 0)))
        throw new Error('--sizes needs N values > 0, comma-separated (e.g. 5,50,200)');
    } else if (a === '--scale') {
      o.scale = Number(argv[++i]);
      if (!(o.scale > 0)) throw new Error('--scale needs a number > 0');
    } else
      throw new Error(
        `Unknown option ${a} (options: --quick, --skip-tests, --skip-synth, --write, --scale <x>, --sizes <n,...>)`,
      );
  }
  o.write = !o.quick || writeGiven;
  return o;
}

/** The provisioning workflow's definition from the template (ARNs and refs blanked). */
export function workflowDefinition(template: CfnTemplate): any {
  for (const r of Object.values<any>(template.Resources ?? {})) {
    if (r.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const d = r.Properties?.DefinitionString;
    const text =
      typeof d === 'string'
        ? d
        : (d?.['Fn::Join']?.[1] ?? []).map((p: unknown) => (typeof p === 'string' ? p : 'REF')).join('');
    if (!text.includes(`"${STEP.ACQUIRE_SLOT}"`)) continue;
    return JSON.parse(text);
  }
  return undefined;
}

const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');

function runWorker(job: WorkerJob, dir: string): Promise<WorkerResult> {
  const jobPath = path.join(dir, `job-${job.mode}-${job.n}-${job.jitter}.json`);
  fs.writeFileSync(jobPath, JSON.stringify(job));
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [path.join(__dirname, 'worker.ts'), jobPath], {
      cwd: REPO_ROOT,
      env: { ...process.env, NODE_NO_WARNINGS: '1', POWERTOOLS_LOG_LEVEL: 'SILENT' },
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0)
        return reject(new Error(`The ${job.mode} run for N=${job.n} failed (exit ${code}):\n${stderr}`));
      resolve(JSON.parse(fs.readFileSync(job.out, 'utf8')) as WorkerResult);
    });
  });
}

const minutes = (s: number) => `${round(s / 60, 1)} min`;

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const wallStart = Date.now();
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'account-factory-bench-'));
  try {
    console.log('Synthesizing the app (bundling skipped) for the local engine...');
    const template = synthTemplate();
    const templatePath = path.join(dir, 'template.json');
    fs.writeFileSync(templatePath, JSON.stringify(template));
    const definition = workflowDefinition(template);
    // The Control Tower wait's slow poll: its task's timeout (the lifecycle event ends it first).
    const pollIntervalSeconds = definition?.States?.[STEP.WAIT_FOR_CONTROL_TOWER]?.TimeoutSeconds;
    const slotWaitTimeoutSeconds = definition?.States?.[STEP.ACQUIRE_SLOT]?.TimeoutSeconds;

    const base = { createMinutes: CREATE_MINUTES, jitter: 0, seed: 1, limit: LIMIT, templatePath };
    const sizes = options.sizes ?? (options.quick ? [5, 20] : [5, 20, 50, 200, 1000]);
    const throughput: ThroughputRow[] = [];
    for (const n of sizes) {
      const scale = options.scale ?? VIRTUAL;
      console.log(`N=${n}: factory on ${clockLabel(scale)}...`);
      const factory = (await runWorker(
        { ...base, mode: 'factory', n, scale, out: path.join(dir, `factory-${n}.json`) },
        dir,
      )) as FactoryRunResult;
      const t = factory.figures.throughput;
      console.log(
        `  makespan ${minutes(t.makespanSeconds)} vs bound ${minutes(t.boundSeconds)} (ratio ${t.ratio}), ELU ${factory.load.elu}, wall ${round(factory.load.wallMs / 1000, 1)} s`,
      );
      console.log(`N=${n}: AFT policy at scale ${AFT_SCALE}...`);
      const aft = (await runWorker(
        { ...base, mode: 'aft', n, scale: AFT_SCALE, out: path.join(dir, `aft-${n}.json`) },
        dir,
      )) as AftRunResultFigures;
      console.log(`  makespan ${minutes(aft.makespanSeconds)} (ratio to the bound ${aft.ratio})`);
      throughput.push({ n, factory, aft, aftOverFactory: ratio(aft.makespanSeconds, t.makespanSeconds, 2) });
    }

    let jitterRun: FactoryRunResult | undefined;
    if (!options.quick) {
      const scale = options.scale ?? VIRTUAL;
      console.log(
        `N=${JITTER_RUN.n}, Control Tower durations +/-${JITTER_RUN.jitter * 100} %: factory on ${clockLabel(scale)}...`,
      );
      jitterRun = (await runWorker(
        {
          ...base,
          mode: 'factory',
          n: JITTER_RUN.n,
          jitter: JITTER_RUN.jitter,
          scale,
          out: path.join(dir, `factory-jitter-${JITTER_RUN.n}.json`),
        },
        dir,
      )) as FactoryRunResult;
    }

    const orgScale: OrgScaleFigure[] = [];
    for (const accounts of ORG_SIZES) {
      console.log(`AWS calls per request, organization of ${accounts} accounts...`);
      const f = await measureOrgScale(accounts);
      console.log(`  validate ${f.validateTotal}, fetch by email ${f.fetchByEmailTotal}`);
      orgScale.push(f);
    }
    console.log(`plan and rerun --ous at ${CLI_ACCOUNTS} managed accounts...`);
    const cliScale = await measureCliScale(CLI_ACCOUNTS);
    console.log(`  plan ${cliScale.plan.wallMs} ms, rerun --ous ${cliScale.rerunOus.wallMs} ms`);

    const engineering: BenchResults['engineering'] = {};
    if (!options.skipSynth) {
      console.log('cdk synth with bundling...');
      engineering.synth = await measureSynth();
      console.log(`  ${engineering.synth.wallSeconds} s, ${engineering.synth.bundles.length} bundles`);
    }
    if (!options.skipTests) {
      console.log('The test suite (npx jest)...');
      engineering.tests = await measureTests();
      console.log(`  ${engineering.tests.wallSeconds} s: ${engineering.tests.tests ?? '?'}`);
    }

    const cpus = os.cpus();
    const results: BenchResults = {
      command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(
        ' ',
      ),
      date: new Date().toISOString(),
      machine: {
        cores: cpus.length,
        cpu: cpus[0]?.model.trim() ?? 'unknown',
        node: process.version,
        platform: `${os.platform()} ${os.release()}`,
        memoryGb: round(os.totalmem() / 1024 ** 3, 1),
      },
      settings: {
        createMinutes: CREATE_MINUTES,
        limit: LIMIT,
        jitter: 0,
        aftIntervalSeconds: AFT_INTERVAL_SECONDS,
        aftScale: AFT_SCALE,
        pollIntervalSeconds,
        slotWaitTimeoutSeconds,
      },
      throughput,
      jitterRun,
      orgScale,
      cliScale,
      engineering,
      benchWallSeconds: round((Date.now() - wallStart) / 1000, 0),
    };
    const markdown = renderMarkdown(results);
    console.log(`\n${markdown}`);
    if (options.write) {
      fs.writeFileSync(path.join(__dirname, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
      fs.writeFileSync(path.join(__dirname, 'results.md'), markdown);
      console.log('Wrote bench/results.json and bench/results.md');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exitCode = 1;
});
