import * as fs from 'node:fs';
import { ServiceCatalogClient } from '@aws-sdk/client-service-catalog';
import { createClient, installClientHook } from '../lambda/shared/clients';
import { setClock } from '../lambda/shared/clock';
import { ENV } from '../lambda/shared/env';
import { AccountRequestSchema } from '../lambda/shared/schema';
import { ACCOUNT_FACTORY_PRODUCT_NAME, LandingZone, ScaledClock } from '../local/emulator';
import type { CfnTemplate } from '../local/engine/template';
import '../local/polyfill';
import { generateRequests } from '../local/requests';
import { runScenario } from '../local/scenario';
import { AftScheduler } from './aft-scheduler';
import { factoryFigures, peakConcurrent, type FactoryFigures } from './factory-figures';
import { LoadMonitor, type LoadFigures } from './load';
import { ratio, round } from './stats';

/**
 * One measured run, in a process of its own: the handlers keep their SDK clients in
 * module scope (as in Lambda), so each run gets a fresh process, a fresh emulator and
 * an event loop measured on its own. `tsx bench/worker.ts <job.json>` writes the
 * result to the job's `out` file.
 */
export interface WorkerJob {
  mode: 'factory' | 'aft';
  n: number;
  /** Emulated ms per real ms on a scaled clock; 0: the virtual clock (local/emulator/clock.ts). */
  scale: number;
  createMinutes: number;
  jitter: number;
  seed: number;
  /** Control Tower operations at once (the semaphore limit for the factory, the in-flight cap for AFT). */
  limit: number;
  /** The synthesized template (factory runs). */
  templatePath?: string;
  out: string;
}

export interface FactoryRunResult {
  mode: 'factory';
  job: WorkerJob;
  figures: FactoryFigures;
  load: LoadFigures;
  sanity: {
    succeeded: number;
    failed: number;
    accountsCreated: number;
    duplicateAccounts: string[];
    successNotifications: number;
    refusedOperations: number;
  };
}

export interface AftRunResultFigures {
  mode: 'aft';
  job: WorkerJob;
  makespanSeconds: number;
  boundSeconds: number;
  ratio: number | null;
  ticks: number;
  ticksAtLimit: number;
  failed: number;
  operations: number;
  peakConcurrentOperations: number;
  refusedOperations: number;
  load: LoadFigures;
}

export type WorkerResult = FactoryRunResult | AftRunResultFigures;

const requestsFor = (n: number) => generateRequests(n, 'bench');

async function runFactory(job: WorkerJob): Promise<FactoryRunResult> {
  const template = JSON.parse(fs.readFileSync(job.templatePath!, 'utf8')) as CfnTemplate;
  const load = new LoadMonitor(job.scale);
  load.begin();
  const { summary, factory } = await runScenario({
    template,
    requests: requestsFor(job.n).map((r) => ({ request: r, label: r.accountName })),
    createMinutes: job.createMinutes,
    jitter: job.jitter,
    virtualTime: job.scale === 0,
    scale: job.scale || undefined,
    seed: job.seed,
    // The account pipelines' stages take the emulator's stage time. The engine can also
    // synthesize each account's CDK customizations in this process; on a scaled clock that
    // blocks the event loop for up to seconds, counted against the orchestration (in AWS those
    // builds run in CodeBuild, beside it). On the virtual clock CPU costs no emulated time:
    // BENCH_CUSTOMIZATIONS=1 runs them.
    customizations: process.env.BENCH_CUSTOMIZATIONS === '1' ? undefined : false,
    keepOpen: true,
  });
  const loadFigures = load.end();
  try {
    const lz = factory.landingZone;
    const executions = factory.executions();
    const successTopic = factory.lambda.functionFor('notify').environment[ENV.SUCCESS_TOPIC_ARN];
    // The request's own notification; the customizations results (kind CUSTOMIZATIONS,
    // sent when each account pipeline ends) share the topic and are left out.
    const successNotifications = lz
      .messages(successTopic)
      .map((m) => ({ body: JSON.parse(m.message) as { requestId: string; kind?: string }, at: m.at }))
      .filter((m) => m.body.kind !== 'CUSTOMIZATIONS')
      .map((m) => ({ requestId: m.body.requestId, at: new Date(m.at).getTime() }));
    const figures = factoryFigures({
      executions,
      operations: lz.controlTowerOperations.filter((o) => o.type !== 'EXTERNAL'),
      successNotifications,
      submittedAt: summary.startedAtMs,
      limit: summary.semaphoreLimit,
      createSeconds: summary.createSeconds,
      makespanSeconds: summary.makespanSeconds,
      boundSeconds: summary.boundSeconds,
    });
    return {
      mode: 'factory',
      job,
      figures,
      load: loadFigures,
      sanity: {
        succeeded: summary.succeeded,
        failed: summary.failed,
        accountsCreated: summary.accountsCreated,
        duplicateAccounts: summary.duplicateAccounts,
        successNotifications: summary.notifications.success,
        refusedOperations: lz.refusedOperations,
      },
    };
  } finally {
    await factory.close();
  }
}

async function runAft(job: WorkerJob): Promise<AftRunResultFigures> {
  const clock = new ScaledClock({ scale: job.scale });
  const lz = new LandingZone({
    clock,
    seed: job.seed,
    controlTower: { createSeconds: job.createMinutes * 60, jitter: job.jitter },
  });
  installClientHook(lz.hook());
  setClock(clock);
  try {
    const sc = createClient(ServiceCatalogClient);
    const requests = requestsFor(job.n).map((r) => AccountRequestSchema.parse(r));
    const load = new LoadMonitor(job.scale);
    load.begin();
    const t0 = clock.nowMs();
    const result = await new AftScheduler(sc, clock, {
      intervalSeconds: 300,
      maxInFlight: job.limit,
      productName: ACCOUNT_FACTORY_PRODUCT_NAME,
    }).run(requests);
    const loadFigures = load.end();
    const ops = lz.controlTowerOperations.filter((o) => o.type !== 'EXTERNAL');
    const makespanSeconds = round((Math.max(...ops.map((o) => o.end)) - t0) / 1000, 0);
    const boundSeconds = Math.ceil(job.n / job.limit) * job.createMinutes * 60;
    sc.destroy();
    return {
      mode: 'aft',
      job,
      makespanSeconds,
      boundSeconds,
      ratio: ratio(makespanSeconds, boundSeconds, 3),
      ticks: result.ticks,
      ticksAtLimit: result.ticksAtLimit,
      failed: result.failed,
      operations: ops.length,
      peakConcurrentOperations: peakConcurrent(ops),
      refusedOperations: lz.refusedOperations,
      load: loadFigures,
    };
  } finally {
    clock.dispose();
    installClientHook(undefined);
    setClock(undefined);
  }
}

async function main(): Promise<void> {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as WorkerJob;
  const result = job.mode === 'factory' ? await runFactory(job) : await runAft(job);
  fs.writeFileSync(job.out, JSON.stringify(result, null, 2));
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exitCode = 1;
});
