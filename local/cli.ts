import * as path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { readRequestFiles } from '../lib/request-files';
import type { ApprovalItem } from '../lambda/shared/approval';
import { formatMetrics } from './engine/metrics';
import { synthTemplate } from './engine/synth';
import { formatLine, type RequestLine } from './progress';
import { generateRequests } from './requests';
import { runScenario, type ScenarioRequest, type ScenarioSummary } from './scenario';

/**
 * `npm start`: the whole pipeline on this machine. Synthesizes the app, deploys it onto
 * the local engine, provisions the example requests (plus generated ones) through the
 * very state machine `cdk synth` produces, shows each request's progress, and ends with
 * a summary measured in the emulated organization.
 */
const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number >= 0');
  return n;
};
const positiveNumber = (v: string) => {
  const n = Number(v);
  if (!(n > 0)) throw new InvalidArgumentError('expected a number > 0');
  return n;
};
const limit = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 100)
    throw new InvalidArgumentError('expected a whole number from 1 to 100');
  return n;
};
const rate = (v: string) => {
  const n = Number(v);
  if (!(n >= 0 && n < 1)) throw new InvalidArgumentError('expected a rate from 0 to below 1');
  return n;
};

const program = new Command('npm start --')
  .description('Run the account factory locally: the synthesized workflow against an emulated landing zone')
  .option('--requests <dir>', 'folder of account request files (JSON / YAML)', 'examples/account-requests')
  .option('--generate <n>', 'also provision N generated requests', positiveInt, 0)
  .option(
    '--create-minutes <m>',
    'emulated minutes Control Tower takes to create an account',
    positiveNumber,
    25,
  )
  .option('--jitter <j>', 'spread of Control Tower durations (0..1)', rate, 0)
  .option(
    '--scale <x>',
    'run on a scaled clock, x emulated ms per real ms, instead of the virtual clock (where emulated time moves only when nothing runs); --approve manual runs at 200 unless given',
    positiveNumber,
  )
  .option('--fail <emails>', 'comma-separated account emails whose Control Tower operation fails')
  .option(
    '--limit <n>',
    'semaphore limit: Control Tower operations the factory runs at once (maxConcurrentAccountOperations)',
    limit,
    5,
  )
  .option(
    '--throttle <rate>',
    "fraction of AWS calls throttled (with each service's own throttling error)",
    rate,
    0,
  )
  .option('--crash <handler>', 'crash this step handler once, after it ran (e.g. tag-account)')
  .option('--abort <n>', 'abort N executions while they hold a Control Tower slot', positiveInt, 0)
  .option('--no-customizations', 'synthesize without the example provisioning customizations')
  .addOption(
    new Option(
      '--topology <where>',
      'delegated: the factory in a vending account, reaching the Control Tower management account through its management role (as AWS recommends); management: the factory in the management account',
    )
      .choices(['delegated', 'management'])
      .default('delegated'),
  )
  .addOption(
    new Option(
      '--approve <mode>',
      'synthesize with approvals of every operation (CREATE, UPDATE, IMPORT, REMOVE): auto, a local approver approves each request as it asks; manual, print the requests that wait and the commands that decide them',
    ).choices(['auto', 'manual']),
  )
  .option('--seed <n>', 'seed of the emulated landing zone', positiveInt, 1)
  .option('--json', 'print the summary as JSON')
  .option('--verbose', "show the handlers' logs");

/** The valid requests of the folder, and the rejected files (each named, with its fields). */
function loadRequests(dir: string, generate: number): { requests: ScenarioRequest[]; rejected: string[] } {
  const { loaded, problems } = readRequestFiles(path.resolve(dir));
  const fromFiles = loaded.map((f) => ({
    request: f.request,
    label: path.basename(f.source.replace(/^file:/, '')),
  }));
  const generated = generateRequests(generate).map((r) => ({ request: r, label: r.accountName }));
  return { requests: [...fromFiles, ...generated], rejected: problems };
}

function minutes(seconds: number): string {
  return `${(seconds / 60).toFixed(1)} min`;
}

export function formatSummary(s: ScenarioSummary): string {
  const ratio = s.boundSeconds > 0 ? (s.makespanSeconds / s.boundSeconds).toFixed(2) : 'n/a';
  return [
    'Summary (durations in emulated time)',
    `  requests                      ${s.requests}: ${s.succeeded} succeeded, ${s.failed} failed, ${s.aborted} aborted`,
    `  accounts created              ${s.accountsCreated}${s.duplicateAccounts.length ? ` (DUPLICATES: ${s.duplicateAccounts.join(', ')})` : ', none twice'}`,
    `  notifications                 ${s.notifications.success} success, ${s.notifications.failure} failure`,
    `  failed without a notification ${s.failedWithoutNotification.length}`,
    `  Control Tower operations      ${s.controlTowerOperations}, peak ${s.peakConcurrentControlTowerOperations} at once (limit ${s.semaphoreLimit})`,
    `  account settings              ${s.accountSettings.alternateContacts} alternate contacts, ${s.accountSettings.optInRegionsEnabled} opt-in Regions enabled, ${s.accountSettings.identityCenterAssignments} Identity Center assignments`,
    `  customization pipelines       ${s.customizationPipelinesStarted} started: ${s.customizations.succeeded} succeeded, ${s.customizations.failed} failed${s.customizations.other ? `, ${s.customizations.other} other` : ''}; peak ${s.customizations.peakConcurrent} at once (limit ${s.customizations.limit})`,
    `  makespan                      ${minutes(s.makespanSeconds)} vs bound ceil(N/${s.semaphoreLimit}) x ${minutes(s.createSeconds)} = ${minutes(s.boundSeconds)} (ratio ${ratio})`,
    ...(s.approvals
      ? [
          `  ${`approvals (${s.approvals.mode})`.padEnd(30)}${s.approvals.approved} approved by the local approver, ${s.approvals.waiting} waiting`,
        ]
      : []),
    `  state transitions             ${s.stateTransitions}`,
    `  wall time                     ${(s.wallMs / 1000).toFixed(1)} s`,
    '',
    'Metrics the handlers emitted (namespace AccountFactory; the alarms and the dashboard watch these)',
    ...formatMetrics(s.metrics),
  ].join('\n');
}

/**
 * The requests that wait for a decision, and the commands that decide them. The local
 * engine lives as long as this process: each command starts it again from the same files.
 */
export function formatWaiting(items: readonly ApprovalItem[], dir: string): string {
  if (!items.length) return 'No request waits for an approval';
  const lines = [
    `${items.length} request${items.length === 1 ? '' : 's'} waiting for an approval (the plan of each; decide one on a fresh local engine with the commands shown)`,
  ];
  for (const i of items) {
    lines.push(
      '',
      ...i.planText.split('\n'),
      `      ${i.operation}, version ${i.version}${i.requestedBy ? `, asked by ${i.requestedBy}` : ''}, expires ${i.expiresAt}`,
      `  npx account-factory --local --local-requests ${dir} approve ${i.requestId} --comment "<why>"`,
      `  npx account-factory --local --local-requests ${dir} reject ${i.requestId} --comment "<why>"`,
    );
  }
  return lines.join('\n');
}

class ProgressView {
  private printed = 0;
  private readonly last = new Map<string, string>();
  constructor(private readonly tty: boolean) {}

  render(lines: RequestLine[]): void {
    const width = Math.max(10, ...lines.map((l) => l.label.length));
    if (this.tty) {
      if (this.printed) process.stdout.write(`\x1b[${this.printed}A`);
      for (const l of lines) process.stdout.write(`\x1b[2K${formatLine(l, width)}\n`);
      this.printed = lines.length;
      return;
    }
    // Not a terminal (CI, a pipe): a line each time a request changes phase.
    for (const l of lines) {
      // A phase change, or the end of the account's customizations pipeline.
      const ended = /customizations: (SUCCEEDED|FAILED|STOPPED|SUPERSEDED)/.exec(l.detail)?.[0];
      const key = ended ? `${l.phase} ${ended}` : l.phase;
      if (this.last.get(l.requestId) === key) continue;
      this.last.set(l.requestId, key);
      process.stdout.write(`${formatLine(l, width)}\n`);
    }
  }
}

async function main(): Promise<void> {
  program.parse();
  // The SDK's notice that its future versions need Node 22 concerns this machine, not the deployed Lambdas.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const opts = program.opts();
  if (!opts.verbose) process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  const { requests, rejected } = loadRequests(opts.requests, opts.generate);
  for (const problem of rejected) console.error(`Rejected ${problem}`);
  if (rejected.length) process.exitCode = 1;
  if (!requests.length)
    throw new Error(`No requests: ${opts.requests} holds no request files and --generate is 0`);
  const template = synthTemplate({
    exampleCustomizations: opts.customizations,
    topology: opts.topology,
    stackProps: {
      factory: {
        maxConcurrentAccountOperations: opts.limit,
        ...(opts.approve ? { approvals: { operations: ['CREATE', 'UPDATE', 'IMPORT', 'REMOVE'] } } : {}),
      },
    },
  });
  const virtualTime = opts.scale === undefined && opts.approve !== 'manual';
  const scale: number = opts.scale ?? 200;
  const view = new ProgressView(Boolean(process.stdout.isTTY) && !opts.json);
  console.log(
    `Provisioning ${requests.length} account requests on the local engine, ${opts.topology} topology (Control Tower creation ${opts.createMinutes} min, ${virtualTime ? 'virtual clock' : `1 emulated minute = ${(60000 / scale).toFixed(0)} ms`})\n`,
  );
  const { summary, pendingApprovals } = await runScenario({
    template,
    requests,
    createMinutes: opts.createMinutes,
    jitter: opts.jitter,
    scale,
    virtualTime,
    seed: opts.seed,
    faults: {
      failProvisioning: opts.fail
        ? String(opts.fail)
            .split(',')
            .map((e: string) => e.trim().toLowerCase())
        : undefined,
      throttle: opts.throttle > 0 ? { rate: opts.throttle } : undefined,
    },
    lambdaFaults: opts.crash ? { crash: [{ handler: opts.crash, times: 1, when: 'after' }] } : undefined,
    abortWhileHolding: opts.abort,
    approve: opts.approve,
    onProgress: opts.json ? undefined : (lines) => view.render(lines),
  });
  console.log('');
  console.log(opts.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
  if (!opts.json && opts.approve === 'manual')
    console.log(`\n${formatWaiting(pendingApprovals, opts.requests)}`);
  if (summary.failedWithoutNotification.length || summary.duplicateAccounts.length) {
    console.error(
      '\nFAILED: a request failed without a failure notification, or an account was created twice.',
    );
    process.exitCode = 1;
  }
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exitCode = 1;
});
