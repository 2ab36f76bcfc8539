import * as path from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Command } from 'commander';
import { STACK_OUTPUTS } from '../lib/account-factory-stack';
import { createClient } from '../lambda/shared/clients';
import { writeRequestItem } from '../lambda/shared/request-item';
import { UsageError } from './errors';
import { readMetadata, readRequests } from './factory-data';
import type { GlobalOptions } from './index';

/**
 * Where the lifecycle commands (plan, rerun, status) act: a deployed factory (its
 * tables and state machines named by options or read from its CloudFormation
 * stack outputs), or, with `--local`, a factory started on the local engine for
 * the time of the command, with request files provisioned first.
 */
/** A lock of the factory's semaphore: where it lives, and its limit when known. */
export interface LockRef {
  /** E.g. `Control Tower operations`. */
  readonly label: string;
  readonly table: string;
  readonly lockName: string;
  readonly limit?: number;
}

export interface FactoryTarget {
  /** E.g. "stack AccountFactory (eu-west-1)" or "the local engine (14 requests provisioned from ...)". */
  readonly description: string;
  readonly doc: DynamoDBDocumentClient;
  readonly sfn: SFNClient;
  readonly requestsTable: string;
  readonly metadataTable: string;
  /** The locks whose holders and waiters `status` shows: Control Tower operations first. */
  readonly locks: readonly LockRef[];
  /** Its limit, when known. */
  readonly semaphoreLimit?: number;
  /** The provisioning state machine, when known (status counts its failed executions). */
  readonly stateMachineArn?: string;
  /** The factory's time now (the emulated clock locally). @default - the wall clock */
  now?(): Date;
  readonly rerunStateMachineArn: string;
  /** How often to poll an execution (ms). */
  readonly pollMs: number;
  /** The drift check's state table (the last scheduled report), when the factory has drift detection. */
  readonly driftStateTable?: string;
  /** Runs the drift check now and returns its report (local only: in AWS the CLI reads the last scheduled report). */
  checkDrift?(input: { accounts?: string[]; ous?: string[] }): Promise<unknown>;
  /** Writes a request again, unchanged, so that the workflow runs it again (a new version). */
  rewriteRequest(item: { request: unknown; source?: string }): Promise<{ id: string; version: number }>;
  /** Removes an account request (local only: removing a request is a deploy). */
  removeRequest?(requestId: string): Promise<void>;
  /** Resolves when nothing runs any more (local only). */
  idle?(): Promise<void>;
  /** The approvals, when the factory has them (approve, reject). */
  readonly approvals?: ApprovalsAccess;
  close(): Promise<void>;
}

/** How an approver reaches the approvals: the table, who the approver is, and as whom the calls are made. */
export interface ApprovalsAccess {
  readonly table: string;
  /** The approver's identity (sts:GetCallerIdentity's ARN). */
  identity(): Promise<string>;
  /** Runs the approver's calls (locally: as a session of the approver role). */
  asApprover<T>(fn: () => Promise<T>): Promise<T>;
  /** Locally: waits until every execution has ended or waits for an approval. */
  settle?(): Promise<void>;
}

/** What a command needs of the target beyond the common options. */
export interface TargetNeeds {
  /** The factory with approvals (locally: synthesized with approvals of every operation). */
  approvals?: {
    /** Locally: the approver's session name of the approver role. */
    session?: string;
  };
}

/** Options every lifecycle command takes. */
export interface TargetOptions {
  stack: string;
  requestsTable?: string;
  metadataTable?: string;
  semaphoreTable?: string;
  rerunStateMachine?: string;
  driftStateTable?: string;
  approvalsTable?: string;
}

export const DEFAULT_STACK = 'AccountFactory';
export const CONTROL_TOWER_LOCK_LABEL = 'Control Tower operations';
export const CUSTOMIZATIONS_LOCK_LABEL = 'Customizations pipelines';

function positive(value: string | undefined): number | undefined {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}
export const DEFAULT_LOCAL_REQUESTS = 'examples/account-requests';

export function addTargetOptions(command: Command): Command {
  return command
    .option(
      '--stack <name>',
      'the factory stack whose outputs name its tables and state machines',
      DEFAULT_STACK,
    )
    .option('--requests-table <name>', 'the requests table (default: stack output RequestsTableName)')
    .option('--metadata-table <name>', 'the metadata table (default: stack output MetadataTableName)')
    .option('--semaphore-table <name>', 'the semaphore table (default: stack output SemaphoreTableName)')
    .option(
      '--rerun-state-machine <arn>',
      'the re-run state machine (default: stack output RerunStateMachineArn)',
    )
    .option(
      '--drift-state-table <name>',
      "the drift check's state table (default: stack output DriftStateTableName)",
    )
    .option('--approvals-table <name>', 'the approvals table (default: stack output ApprovalsTableName)');
}

/** Opens the target of a command: AWS, or the local engine with `--local`. */
export async function openTarget(
  globals: GlobalOptions,
  options: TargetOptions,
  needs: TargetNeeds = {},
): Promise<FactoryTarget> {
  return globals.local
    ? openLocal(globals.localRequests ?? DEFAULT_LOCAL_REQUESTS, globals.localApply, needs)
    : openAws(globals, options);
}

async function openAws(globals: GlobalOptions, options: TargetOptions): Promise<FactoryTarget> {
  const config = globals.region ? { region: globals.region } : {};
  const explicit = {
    requestsTable: options.requestsTable,
    metadataTable: options.metadataTable,
    semaphoreTable: options.semaphoreTable,
    rerunStateMachineArn: options.rerunStateMachine,
  };
  let outputs: Record<string, string> = {};
  if (Object.values(explicit).some((v) => v === undefined)) {
    outputs = await stackOutputs(createClient(CloudFormationClient, config), options.stack);
    if (!Object.values(STACK_OUTPUTS).some((key) => key in outputs)) {
      throw new UsageError(
        `stack ${options.stack} is not an account factory (it has no ${STACK_OUTPUTS.REQUESTS_TABLE} output): ` +
          "pass --stack with the factory's stack name",
      );
    }
  }
  const need = (value: string | undefined, output: string, option: string): string => {
    const v = value ?? outputs[output];
    if (!v) {
      throw new UsageError(
        `stack ${options.stack} has no output ${output}: deploy this version of the factory, or pass ${option}`,
      );
    }
    return v;
  };
  const ddb = createClient(DynamoDBClient, config);
  const approvalsTable = options.approvalsTable ?? outputs[STACK_OUTPUTS.APPROVALS_TABLE];
  return {
    description: `stack ${options.stack}${globals.region ? ` (${globals.region})` : ''}`,
    doc: documentClient(ddb),
    sfn: createClient(SFNClient, config),
    requestsTable: need(explicit.requestsTable, STACK_OUTPUTS.REQUESTS_TABLE, '--requests-table'),
    metadataTable: need(explicit.metadataTable, STACK_OUTPUTS.METADATA_TABLE, '--metadata-table'),
    locks: [
      {
        label: CONTROL_TOWER_LOCK_LABEL,
        table: need(explicit.semaphoreTable, STACK_OUTPUTS.SEMAPHORE_TABLE, '--semaphore-table'),
        lockName: outputs[STACK_OUTPUTS.SEMAPHORE_LOCK] ?? 'control-tower',
        limit: positive(outputs[STACK_OUTPUTS.SEMAPHORE_LIMIT]),
      },
      // A factory deployed before the customizations lock has no such outputs.
      ...(outputs[STACK_OUTPUTS.CUSTOMIZATIONS_SEMAPHORE_TABLE] && outputs[STACK_OUTPUTS.CUSTOMIZATIONS_LOCK]
        ? [
            {
              label: CUSTOMIZATIONS_LOCK_LABEL,
              table: outputs[STACK_OUTPUTS.CUSTOMIZATIONS_SEMAPHORE_TABLE],
              lockName: outputs[STACK_OUTPUTS.CUSTOMIZATIONS_LOCK],
              limit: positive(outputs[STACK_OUTPUTS.CUSTOMIZATIONS_LIMIT]),
            },
          ]
        : []),
    ],
    stateMachineArn: outputs[STACK_OUTPUTS.STATE_MACHINE] || undefined,
    rerunStateMachineArn: need(
      explicit.rerunStateMachineArn,
      STACK_OUTPUTS.RERUN_STATE_MACHINE,
      '--rerun-state-machine',
    ),
    driftStateTable: options.driftStateTable ?? outputs[STACK_OUTPUTS.DRIFT_STATE_TABLE],
    rewriteRequest: (item) =>
      writeRequestItem(ddb, {
        tableName: need(explicit.requestsTable, STACK_OUTPUTS.REQUESTS_TABLE, '--requests-table'),
        request: item.request,
        source: item.source ?? 'cli',
        now: new Date(),
      }),
    pollMs: 2000,
    approvals: approvalsTable
      ? {
          table: approvalsTable,
          identity: async () => {
            const out = await createClient(STSClient, config).send(new GetCallerIdentityCommand({}));
            if (!out.Arn) throw new Error('sts:GetCallerIdentity returned no ARN');
            return out.Arn;
          },
          asApprover: (fn) => fn(),
        }
      : undefined,
    close: async () => undefined,
  };
}

/** The outputs of a stack, by output key. */
export async function stackOutputs(
  cfn: CloudFormationClient,
  stackName: string,
): Promise<Record<string, string>> {
  let out;
  try {
    out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    if (/does not exist/i.test(message)) {
      throw new UsageError(`stack ${stackName} does not exist (pass --stack, or --region)`);
    }
    throw err;
  }
  const stack = out.Stacks?.[0];
  if (!stack) throw new UsageError(`stack ${stackName} does not exist (pass --stack, or --region)`);
  return Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
}

function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/**
 * The local engine: the app synthesized as `cdk synth` would, started in this
 * process, the request files of `localRequests` provisioned to the end, then
 * (with `localApply`) the files of another directory deployed over them.
 * Its state lives only as long as the command.
 */
async function openLocal(
  localRequests: string,
  localApply: string | undefined,
  needs: TargetNeeds,
): Promise<FactoryTarget> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  const started = Date.now();
  // Loaded only here: the local engine and its emulator are development dependencies.
  // (require, not import(): the bin runs TypeScript through tsx's CommonJS hook.)
  const { synthTemplate, LocalFactory, LocalApprover } = loadLocalEngine();
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { loadRequestFiles } = require('../lib/request-files') as typeof import('../lib/request-files');
  const { planChanges } = require('./plan') as typeof import('./plan');
  /* eslint-enable @typescript-eslint/no-require-imports */

  const load = (option: string, dir: string) => {
    try {
      return loadRequestFiles(path.resolve(dir));
    } catch (err) {
      throw new UsageError(`${option}: ${(err as Error).message}`);
    }
  };
  const files = load('--local-requests', localRequests);
  const applied = localApply === undefined ? undefined : load('--local-apply', localApply);
  // Synthesized once per process (a few seconds): the app does not change while it runs.
  // With drift detection (read-only, never scheduled locally): `drift --local` runs it.
  // With approvals (approve, reject): every operation that can wait for one does.
  const key = needs.approvals ? 'approvals' : 'plain';
  localTemplates[key] ??= synthTemplate({
    stackProps: {
      factory: {
        driftDetection: {},
        ...(needs.approvals ? { approvals: { operations: ['CREATE', 'UPDATE', 'IMPORT', 'REMOVE'] } } : {}),
      },
    },
  });
  const template = localTemplates[key];
  const factory = await LocalFactory.start({
    template,
    // A person decides approvals between commands: those runs keep a scaled clock.
    virtualTime: !needs.approvals,
    scale: LOCAL_SCALE,
    schedules: false,
    landingZone: {
      seed: 1,
      controlTower: { createSeconds: 600, updateSeconds: 300, jitter: 0 },
    },
  });
  const approver = needs.approvals ? new LocalApprover(factory) : undefined;
  const session = needs.approvals?.session ?? 'approver@example.com';
  try {
    // With approvals and --local-apply, the requests of --local-requests are the state before
    // (approved as they came); the files applied then wait. Without --local-apply, they wait.
    if (approver && applied) approver.auto('approved before this command (--local-requests)');
    for (const f of files) await factory.submit(f.request, f.source);
    if (approver && !applied) await approver.settled();
    else await settle(factory);
    approver?.stop();
  } catch (err) {
    await factory.close();
    throw err;
  }
  const executions = factory.executions();
  const succeeded = executions.filter((e) => e.status === 'SUCCEEDED').length;
  const waiting = executions.filter((e) => e.status === 'RUNNING').length;
  process.stderr.write(
    `local engine: ${files.length} requests from ${localRequests} provisioned ` +
      `(${succeeded} succeeded, ${waiting ? `${waiting} waiting for approval, ` : ''}` +
      `${executions.length - succeeded - waiting} failed) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );

  const outputs = (template as { Outputs?: Record<string, { Value: unknown }> }).Outputs ?? {};
  const ref = (key: string): string => {
    const value = outputs[key]?.Value as { Ref?: string } | string | undefined;
    if (typeof value === 'string') return value;
    if (!value?.Ref) throw new Error(`The synthesized template has no output ${key}`);
    // Locally a table is named after its logical ID; a state machine has an ARN.
    return factory.template.stateMachines.find((s) => s.logicalId === value.Ref)?.arn ?? value.Ref;
  };
  const target: FactoryTarget = {
    description:
      `the local engine (${files.length} requests of ${localRequests} provisioned` +
      `${localApply ? `, then ${localApply} deployed` : ''})`,
    doc: documentClient(factory.ddb),
    sfn: createClient(SFNClient),
    requestsTable: ref(STACK_OUTPUTS.REQUESTS_TABLE),
    metadataTable: ref(STACK_OUTPUTS.METADATA_TABLE),
    locks: [
      {
        label: CONTROL_TOWER_LOCK_LABEL,
        table: ref(STACK_OUTPUTS.SEMAPHORE_TABLE),
        lockName: ref(STACK_OUTPUTS.SEMAPHORE_LOCK),
        limit: positive(ref(STACK_OUTPUTS.SEMAPHORE_LIMIT)),
      },
      {
        label: CUSTOMIZATIONS_LOCK_LABEL,
        table: ref(STACK_OUTPUTS.CUSTOMIZATIONS_SEMAPHORE_TABLE),
        lockName: ref(STACK_OUTPUTS.CUSTOMIZATIONS_LOCK),
        limit: positive(ref(STACK_OUTPUTS.CUSTOMIZATIONS_LIMIT)),
      },
    ],
    rerunStateMachineArn: ref(STACK_OUTPUTS.RERUN_STATE_MACHINE),
    stateMachineArn: factory.stateMachineArn,
    now: () => factory.clock.now(),
    pollMs: 20,
    checkDrift: async (input) => {
      const fn = factory.lambda.functions.find((f) => f.handler === 'drift-check');
      if (!fn) throw new UsageError('the local factory has no drift detection');
      return factory.lambda.invoke(fn.name, input);
    },
    rewriteRequest: async (item) => {
      const written = await factory.submit(item.request, item.source);
      if (approver) await approver.settled();
      else await settle(factory);
      return written;
    },
    removeRequest: (id) => factory.remove(id),
    idle: () => (approver ? approver.settled() : settle(factory)),
    approvals: approver
      ? {
          table: approver.tableName,
          identity: () => approver.identity(session),
          asApprover: (fn) => approver.as(session, fn),
          settle: () => approver.settled(),
        }
      : undefined,
    close: () => factory.close(),
  };
  if (applied) {
    try {
      const [items, metadata] = await Promise.all([
        readRequests(target.doc, target.requestsTable),
        readMetadata(target.doc, target.metadataTable),
      ]);
      const plan = planChanges(applied, items, metadata);
      const bySource = new Map(applied.map((f) => [f.requestId, f]));
      for (const e of plan.entries) {
        if (e.kind === 'remove') await factory.remove(e.requestId);
        else if (e.kind !== 'unchanged') {
          const f = bySource.get(e.requestId)!;
          await factory.submit(f.request, f.source);
        }
      }
      if (approver) await approver.settled();
      else await settle(factory);
      const c = plan.counts;
      process.stderr.write(
        `local engine: ${localApply} deployed (${c.create} created, ${c.update} updated, ` +
          `${c.customize} customized, ${c.remove} removed, ${c.unchanged} unchanged)\n`,
      );
    } catch (err) {
      await factory.close();
      throw err;
    }
  }
  return target;
}

/** The development dependencies --local needs, with the major versions the repository tests. */
const LOCAL_DEPENDENCIES = ['aws-local-stepfunctions@3', 'dynalite@4', 'cdk-nag@3'];

/**
 * The local engine, loaded only for --local. It is part of the repository, not of the
 * npm package; in the repository it needs development dependencies. A missing piece is
 * a UsageError that says what to install.
 */
function loadLocalEngine(): typeof import('../local/engine/synth') &
  typeof import('../local/engine') &
  typeof import('../local/engine/approver') {
  try {
    /* eslint-disable @typescript-eslint/no-require-imports */
    return {
      ...(require('../local/engine/synth') as typeof import('../local/engine/synth')),
      ...(require('../local/engine') as typeof import('../local/engine')),
      ...(require('../local/engine/approver') as typeof import('../local/engine/approver')),
    };
    /* eslint-enable @typescript-eslint/no-require-imports */
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== 'MODULE_NOT_FOUND') throw err;
    const missing = /Cannot find module '([^']+)'/.exec(e.message)?.[1] ?? '';
    if (missing.includes('local/engine')) {
      throw new UsageError(
        '--local runs the local engine, which is in the cdk-account-factory repository, not in the npm package: ' +
          'clone the repository, run `npm ci` there, and run the command from it',
      );
    }
    throw new UsageError(
      `--local needs ${missing || 'a development dependency'}: run \`npm ci\` in the repository ` +
        `(or \`npm install --no-save ${LOCAL_DEPENDENCIES.join(' ')}\`)`,
    );
  }
}

/** Waits until no execution runs and every customizations pipeline has ended (and its result is recorded). */
async function settle(factory: {
  idle(): Promise<void>;
  landingZone: { pipelinesIdle(): Promise<void> };
}): Promise<void> {
  await factory.idle();
  await factory.landingZone.pipelinesIdle();
  await factory.idle();
}

const localTemplates: Record<string, ReturnType<typeof import('../local/engine/synth').synthTemplate>> = {};

/** Emulated milliseconds per real millisecond on the local engine, when it runs on a scaled clock. */
const LOCAL_SCALE = 200;
