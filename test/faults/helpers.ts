import * as fs from 'node:fs';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { NotificationMessage } from '../../lambda/shared/contracts';
import { ENV } from '../../lambda/shared/env';
import { LocalFactory, type LocalFactoryOptions } from '../../local/engine';
import type { CfnTemplate } from '../../local/engine/template';
import { cachedTemplate } from '../fixtures/templates';

/**
 * Shared by the fault suite: the synthesized template, a factory with short Control
 * Tower times, and readers of the end state (tables, notifications, the emulated
 * organization).
 */

/**
 * The app's template, synthesized as the engine deploys it. Every fault test file
 * needs the same one, so it is kept in the temporary directory under a hash of its
 * sources: a change to any of them synthesizes again. FAULT_SUITE_TEMPLATE names a
 * template file to use instead.
 */
export function faultTemplate(options: { limit?: number } = {}): CfnTemplate {
  // A given template (e.g. one synthesized by `cdk synth`) instead of the working tree's.
  const given = process.env.FAULT_SUITE_TEMPLATE;
  if (given && options.limit === undefined) return JSON.parse(fs.readFileSync(given, 'utf8')) as CfnTemplate;
  return cachedTemplate(
    options.limit === undefined
      ? {}
      : { stackProps: { factory: { maxConcurrentAccountOperations: options.limit } } },
  );
}

/** Control Tower takes 10 emulated minutes per account: 3 s of real time at scale 200. */
export const FAST_CONTROL_TOWER = { createSeconds: 600, updateSeconds: 300, jitter: 0 };

/** A factory on the fault template, on a virtual clock, short Control Tower times, seed 1. */
export function startFactory(template: CfnTemplate, options: Omit<LocalFactoryOptions, 'template'> = {}) {
  return LocalFactory.start({
    virtualTime: true,
    ...options,
    template,
    landingZone: {
      seed: 1,
      ...options.landingZone,
      controlTower: { ...FAST_CONTROL_TOWER, ...options.landingZone?.controlTower },
    },
  });
}

export type TableKind = 'requests' | 'metadata' | 'semaphore';

/** A table's name, as the functions' environment names it. */
export function tableName(factory: LocalFactory, kind: TableKind): string {
  const env =
    kind === 'semaphore'
      ? factory.lambda.functionFor('acquire-slot').environment[ENV.SEMAPHORE_TABLE]
      : factory.lambda.functionFor('validate-request').environment[
          kind === 'requests' ? ENV.REQUESTS_TABLE : ENV.METADATA_TABLE
        ];
  if (!env || !factory.template.tables.some((t) => t.name === env)) {
    throw new Error(`No ${kind} table in the template`);
  }
  return env;
}

export async function scan(factory: LocalFactory, kind: TableKind): Promise<Record<string, any>[]> {
  const items: Record<string, any>[] = [];
  let start: Record<string, any> | undefined;
  do {
    const out = await factory.ddb.send(
      new ScanCommand({
        TableName: tableName(factory, kind),
        ExclusiveStartKey: start,
        ConsistentRead: true,
      }),
    );
    items.push(...(out.Items ?? []).map((i) => unmarshall(i)));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/** The Control Tower lock: its counter and its holders (the attributes that are execution ARNs). */
export async function semaphoreState(factory: LocalFactory): Promise<{
  count: number;
  holders: string[];
  waiters: number;
}> {
  const items = await scan(factory, 'semaphore');
  const lock = items.find((i) => i.sk === 'lock');
  return {
    count: Number(lock?.count ?? 0),
    holders: Object.keys(lock ?? {}).filter((k) => k.startsWith('arn:')),
    waiters: items.filter((i) => String(i.sk).startsWith('waiter#')).length,
  };
}

export function topicArns(factory: LocalFactory): { success: string; failure: string } {
  const env = factory.lambda.functionFor('notify').environment;
  return { success: env[ENV.SUCCESS_TOPIC_ARN], failure: env[ENV.FAILURE_TOPIC_ARN] };
}

/** The request notifications (the workflow's Notify steps) on a topic; customizations results are left out. */
export function notifications(factory: LocalFactory, which: 'success' | 'failure'): NotificationMessage[] {
  return factory.landingZone
    .messages(topicArns(factory)[which])
    .map((m) => JSON.parse(m.message) as NotificationMessage & { kind?: string })
    .filter((m) => m.kind !== 'CUSTOMIZATIONS');
}

/** The latest execution of each request id (by start time). */
export function latestExecutions(
  factory: LocalFactory,
): Map<string, ReturnType<LocalFactory['executions']>[number]> {
  const out = new Map<string, ReturnType<LocalFactory['executions']>[number]>();
  for (const e of factory.executions()) out.set((e.input as { requestId: string }).requestId, e);
  return out;
}

/** Mutating calls made to the emulated organization (every call not a read). */
export function mutatingCalls(factory: LocalFactory): Record<string, number> {
  const READ = /\.(List|Describe|Get|Search|Scan|Query|BatchGet)\w*$/;
  return Object.fromEntries(Object.entries(factory.landingZone.callCounts).filter(([op]) => !READ.test(op)));
}

/**
 * Resolves when everything has ended: the executions, the account pipelines they
 * started, and the events those pipelines emitted (customizations results).
 */
export async function settle(factory: LocalFactory): Promise<void> {
  for (;;) {
    await factory.idle();
    await factory.landingZone.pipelinesIdle();
    await factory.bus.drain();
    await factory.idle();
    const running = factory.landingZone.pipelineExecutions.some((e) => e.status === 'InProgress');
    if (!running && factory.stepFunctions.list().every((e) => e.status !== 'RUNNING')) return;
  }
}

/** Resolves once `condition` holds, checked every few ms; rejects after `realMs` (a safety net, not a measure). */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  realMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + realMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const VOLATILE = new Set([
  'createdAt',
  'updatedAt',
  'lastExecutionArn',
  'pipelineExecutionId',
  'notifiedAt',
  'validatedAt',
  'checkedAt',
  'startedAt',
  'at',
]);

/** A deep copy without timestamps and execution ids, for comparing two runs. */
export function withoutVolatile(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutVolatile);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => !VOLATILE.has(k))
        .map(([k, v]) => [k, withoutVolatile(v)]),
    );
  }
  return value;
}

/**
 * What a request left in the emulated organization and the metadata table: the
 * account (OU, tags, status), its roles, its metadata item, its pipeline and how
 * many times it ran; timestamps and execution ids left out.
 */
export async function accountEndState(factory: LocalFactory, email: string) {
  const lz = factory.landingZone;
  const account = lz.account(email);
  if (!account) throw new Error(`No account for ${email}`);
  const metadata = (await scan(factory, 'metadata')).filter((i) => i.accountId === account.id);
  const pipelines = lz.pipelines.filter((p) => p.name.endsWith(account.id));
  return {
    account: withoutVolatile(account),
    roles: lz
      .roles(account.id)
      .map((r) => ({ name: r.name, trustPolicy: r.trustPolicy, attachedPolicies: r.attachedPolicies }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    metadata: withoutVolatile(metadata),
    pipelines: withoutVolatile(pipelines),
    pipelineRuns: lz.pipelineExecutions.filter((e) => pipelines.some((p) => p.name === e.pipelineName))
      .length,
    accountsCreated: lz.accountsCreatedByEmail[email] ?? 0,
  };
}
