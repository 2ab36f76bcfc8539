import { ENV } from '../lambda/shared/env';
import { AccountManagement } from './emulator/account';
import { IdentityCenter } from './emulator/identity-center';
import type { FaultOptions } from './emulator';
import { LocalFactory, type LocalFactoryOptions } from './engine';
import { LocalApprover } from './engine/approver';
import type { ApprovalItem } from '../lambda/shared/approval';
import { summarizeMetrics, type MetricSummary } from './engine/metrics';
import type { CfnTemplate } from './engine/template';
import { customizationsDetail, describeLine, latestByRequest, phasesOf, type RequestLine } from './progress';

/**
 * One run of the pipeline on the local engine: submit requests, wait for every
 * execution, and measure what happened in the emulated organization. `npm start`, the
 * workflow tests and the benchmark all run through here.
 */
export interface ScenarioRequest {
  request: unknown;
  /** How the request is shown (file name, generated id). */
  label: string;
}

export interface ScenarioOptions {
  template: CfnTemplate;
  requests: ScenarioRequest[];
  /** Emulated minutes a Control Tower account creation takes. @default 25 */
  createMinutes?: number;
  /** Spread of Control Tower durations, 0..1. @default 0 */
  jitter?: number;
  /**
   * Emulated ms per real ms. Every step costs real CPU, which the scaled clock counts
   * as emulated time: above a few hundred, a 2-core machine falls behind and the
   * makespan grows with the machine's load, not with the factory's design.
   * @default 200
   */
  scale?: number;
  /**
   * Run on a virtual clock (LocalFactoryOptions.virtualTime): emulated durations are exact,
   * whatever the machine's pace, and a run takes its CPU time only. `scale` applies without it.
   * @default - true, except with `approve: 'manual'` (a person decides, in real time)
   */
  virtualTime?: boolean;
  seed?: number;
  faults?: FaultOptions;
  lambdaFaults?: LocalFactoryOptions['lambdaFaults'];
  streamFaults?: LocalFactoryOptions['streamFaults'];
  dropExecutionEvents?: boolean;
  /** How the account pipelines' builds run (see LocalFactoryOptions.customizations). @default - the engine's default */
  customizations?: LocalFactoryOptions['customizations'];
  /** Abort this many executions while they hold a Control Tower slot (they are waited on by the others). */
  abortWhileHolding?: number;
  /** Called every `progressMs` real ms with a line per request. */
  onProgress?: (lines: RequestLine[]) => void;
  progressMs?: number;
  /** Keep the factory open (the caller closes it) to inspect it further. */
  keepOpen?: boolean;
  /**
   * With a template that has approvals: `auto`, a local approver (a session of the stack's
   * approver role) approves each request as it asks; `manual`, the run ends when every
   * request has ended or waits for a decision (`ScenarioResult.pendingApprovals`).
   * @default - no approver: a template with approvals waits until the approvals expire
   */
  approve?: 'auto' | 'manual';
}

export interface ScenarioSummary {
  requests: number;
  succeeded: number;
  failed: number;
  aborted: number;
  accountsCreated: number;
  /** Emails for which more than one account was created (must be empty). */
  duplicateAccounts: string[];
  notifications: { success: number; failure: number };
  /** Requests whose execution failed with no failure notification (must be empty). */
  failedWithoutNotification: string[];
  controlTowerOperations: number;
  peakConcurrentControlTowerOperations: number;
  semaphoreLimit: number;
  /** Emulated seconds from the first request to the last execution's end. */
  makespanSeconds: number;
  /** Emulated epoch ms just before the first request was submitted (where the makespan starts). */
  startedAtMs: number;
  /** ceil(N / limit) x T for the N requests that needed a Control Tower operation. */
  boundSeconds: number;
  createSeconds: number;
  customizationPipelinesStarted: number;
  /** The account settings in place at the end, over the accounts created: as the emulated services hold them. */
  accountSettings: {
    alternateContacts: number;
    optInRegionsEnabled: number;
    identityCenterAssignments: number;
  };
  /**
   * How the account pipelines ended (each execution once), the most that ran at
   * once, and the bound (maxConcurrentCustomizations).
   */
  customizations: { succeeded: number; failed: number; other: number; peakConcurrent: number; limit: number };
  stateTransitions: number;
  wallMs: number;
  /** With `approve`: how many requests a local approver approved, and how many wait for a decision. */
  approvals?: { mode: 'auto' | 'manual'; approved: number; waiting: number };
  /**
   * The metrics the handlers emitted during the run (embedded metric format, recorded by
   * the local engine as CloudWatch would), per metric and dimensions.
   */
  metrics: MetricSummary[];
}

export interface ScenarioResult {
  summary: ScenarioSummary;
  lines: RequestLine[];
  factory: LocalFactory;
  /** With `approve: 'manual'`: the approvals that wait for a decision. */
  pendingApprovals: ApprovalItem[];
}

function topicArns(factory: LocalFactory): { success: string; failure: string } {
  const notify = factory.lambda.functionFor('notify');
  return {
    success: notify.environment[ENV.SUCCESS_TOPIC_ARN],
    failure: notify.environment[ENV.FAILURE_TOPIC_ARN],
  };
}

export function linesOf(factory: LocalFactory, requests: { id: string; label: string }[]): RequestLine[] {
  const latest = latestByRequest(factory.executions());
  const runs = factory.landingZone.pipelineExecutions;
  const workflow = factory.template.stateMachines.find((m) => m.arn === factory.stateMachineArn);
  const phases = workflow ? phasesOf(workflow.definition) : undefined;
  return requests.map((r) => {
    const execution = latest.get(r.id);
    const line = describeLine(r.id, r.label, execution, phases);
    const accountId = (execution?.output as { account?: { accountId?: string } } | undefined)?.account
      ?.accountId;
    const run = accountId ? runs.filter((e) => e.pipelineName.endsWith(`-${accountId}`)).pop() : undefined;
    const custom = customizationsDetail(run);
    return custom ? { ...line, detail: `${line.detail}  customizations: ${custom}` } : line;
  });
}

export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const createSeconds = (options.createMinutes ?? 25) * 60;
  const wallStart = Date.now();
  const factory = await LocalFactory.start({
    template: options.template,
    scale: options.scale ?? 200,
    virtualTime: options.virtualTime ?? options.approve !== 'manual',
    landingZone: {
      seed: options.seed ?? 1,
      controlTower: { createSeconds, jitter: options.jitter ?? 0 },
      faults: options.faults,
    },
    lambdaFaults: options.lambdaFaults,
    streamFaults: options.streamFaults,
    dropExecutionEvents: options.dropExecutionEvents,
    customizations: options.customizations,
  });
  try {
    const start = factory.clock.nowMs();
    const submitted: { id: string; label: string }[] = [];
    const progress = options.onProgress
      ? setInterval(() => options.onProgress!(linesOf(factory, submitted)), options.progressMs ?? 100)
      : undefined;
    let toAbort = options.abortWhileHolding ?? 0;
    const abortHolders = () => {
      for (const e of factory.executions()) {
        if (toAbort > 0 && e.status === 'RUNNING' && e.currentState === 'Wait for Control Tower') {
          factory.stepFunctions.stop(e.executionArn);
          toAbort--;
        }
      }
    };
    // An operator who stops executions: every 2 real ms on a scaled clock; on a virtual one,
    // every emulated second (a background sleeper: it sees each wait before time passes it).
    const aborter = toAbort > 0 && !factory.clock.virtual ? setInterval(abortHolders, 2) : undefined;
    if (toAbort > 0 && factory.clock.virtual) {
      void (async () => {
        while (toAbort > 0 && !factory.closed) {
          abortHolders();
          await factory.clock.sleep(1000, { background: true });
        }
      })();
    }
    const approver = options.approve ? new LocalApprover(factory) : undefined;
    if (options.approve === 'auto') approver!.auto();
    for (const r of options.requests) {
      const { id } = await factory.submit(r.request, r.label);
      submitted.push({ id, label: r.label });
    }
    let pendingApprovals: ApprovalItem[] = [];
    if (options.approve === 'manual') {
      // Every request ends, or waits for a decision.
      await approver!.settled();
      pendingApprovals = await approver!.pending();
    } else {
      await factory.idle();
      // The account pipelines outlive the executions that started them.
      await factory.customizationsIdle();
    }
    approver?.stop();
    clearInterval(progress);
    clearInterval(aborter);
    const lines = linesOf(factory, submitted);
    options.onProgress?.(lines);
    const summary = summarize(factory, submitted, start, createSeconds, Date.now() - wallStart);
    if (options.approve) {
      if (approver!.errors.length) {
        const [first] = approver!.errors;
        throw new Error(
          `The local approver failed on ${first.requestId}: ${first.error.name}: ${first.error.message}`,
        );
      }
      summary.approvals = {
        mode: options.approve,
        approved: approver!.decided.length,
        waiting: pendingApprovals.length,
      };
    }
    return { summary, lines, factory, pendingApprovals };
  } finally {
    if (!options.keepOpen) await factory.close();
  }
}

function summarize(
  factory: LocalFactory,
  submitted: { id: string }[],
  start: number,
  createSeconds: number,
  wallMs: number,
): ScenarioSummary {
  const lz = factory.landingZone;
  const executions = factory.executions();
  const latest = latestByRequest(executions);
  const topics = topicArns(factory);
  type Message = { requestId?: string; kind?: string };
  const isCustomizations = (m: Message) => m.kind === 'CUSTOMIZATIONS';
  const failureMessages = lz
    .messages(topics.failure)
    .map((m) => JSON.parse(m.message) as Message)
    .filter((m) => !isCustomizations(m));
  const successMessages = lz
    .messages(topics.success)
    .map((m) => JSON.parse(m.message) as Message)
    .filter((m) => !isCustomizations(m));
  const runs = lz.pipelineExecutions;
  const edges = runs
    .flatMap((r) => [
      { at: r.start, d: 1 },
      { at: r.status === 'InProgress' ? Infinity : r.updated, d: -1 },
    ])
    .sort((a, b) => a.at - b.at || a.d - b.d);
  let runningNow = 0;
  let peakPipelines = 0;
  for (const e of edges) peakPipelines = Math.max(peakPipelines, (runningNow += e.d));
  const notifiedFailures = new Set(failureMessages.map((m) => m.requestId));
  const failed = [...latest.values()].filter((e) => e.status === 'FAILED');
  const limit = Number(factory.lambda.functionFor('acquire-slot').environment[ENV.SEMAPHORE_LIMIT] ?? 5);
  const ctRequests = executions.filter((e) => e.transitionsByState['Provision account']).length;
  const end = Math.max(start, ...executions.map((e) => e.stopDate?.getTime() ?? start));
  const created = lz.accountsCreatedByEmail;
  return {
    requests: submitted.length,
    succeeded: [...latest.values()].filter((e) => e.status === 'SUCCEEDED').length,
    failed: failed.length,
    aborted: [...latest.values()].filter((e) => e.status === 'ABORTED').length,
    accountsCreated: Object.values(created).reduce((a, b) => a + b, 0),
    duplicateAccounts: Object.entries(created)
      .filter(([, n]) => n > 1)
      .map(([email]) => email),
    notifications: { success: successMessages.length, failure: failureMessages.length },
    failedWithoutNotification: failed
      .map((e) => (e.input as { requestId: string }).requestId)
      .filter((id) => !notifiedFailures.has(id)),
    controlTowerOperations: lz.controlTowerOperations.filter((o) => o.type !== 'EXTERNAL').length,
    peakConcurrentControlTowerOperations: lz.peakConcurrentOperations,
    semaphoreLimit: limit,
    makespanSeconds: Math.round((end - start) / 1000),
    startedAtMs: start,
    boundSeconds: Math.ceil(ctRequests / limit) * createSeconds,
    createSeconds,
    customizationPipelinesStarted: lz.pipelineExecutions.length,
    accountSettings: accountSettings(factory, Object.keys(created)),
    customizations: {
      succeeded: runs.filter((r) => r.status === 'Succeeded').length,
      failed: runs.filter((r) => r.status === 'Failed').length,
      other: runs.filter((r) => r.status !== 'Succeeded' && r.status !== 'Failed').length,
      peakConcurrent: peakPipelines,
      limit: Number(
        factory.lambda.functionFor('customizations-result').environment[ENV.CUSTOMIZATIONS_LIMIT] ?? 0,
      ),
    },
    stateTransitions: executions.reduce((a, e) => a + e.transitions, 0),
    wallMs,
    metrics: summarizeMetrics(factory.lambda.metrics),
  };
}

/** Alternate contacts, enabled opt-in Regions and Identity Center assignments of these accounts. */
function accountSettings(factory: LocalFactory, emails: string[]): ScenarioSummary['accountSettings'] {
  const lz = factory.landingZone;
  const accounts = lz.service(AccountManagement);
  const identityCenter = lz.service(IdentityCenter);
  const out = { alternateContacts: 0, optInRegionsEnabled: 0, identityCenterAssignments: 0 };
  for (const email of emails) {
    const id = lz.account(email)?.id;
    if (!id) continue;
    out.alternateContacts += Object.keys(accounts.alternateContacts(id)).length;
    out.optInRegionsEnabled += Object.values(accounts.regionStatuses(id)).filter(
      (s) => s === 'ENABLED',
    ).length;
    out.identityCenterAssignments += identityCenter.assignmentsOf(id).length;
  }
  return out;
}
