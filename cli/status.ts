import { ListExecutionsCommand, type ExecutionStatus } from '@aws-sdk/client-sfn';
import { Command } from 'commander';
import type { MetadataItem } from '../lambda/shared/metadata';
import { EXIT_OK, UsageError } from './errors';
import { executionNameOf, LockView, readLocks, readMetadata } from './factory-data';
import type { GlobalOptions } from './index';
import { addTargetOptions, FactoryTarget, openTarget, TargetOptions } from './target';

/**
 * `account-factory status [account]`: the factory's view of one account or all:
 * status, last operation, its outcome and when, the customizations' last run
 * when recorded; and who holds and who waits for the semaphore's slots now.
 */

/** The customizations record of a metadata item, when one was written. */
interface CustomizationsView {
  status?: string;
  pipelineExecutionId?: string;
  failedStage?: string;
  message?: string;
  at?: string;
}

function customizationsOf(item: MetadataItem): CustomizationsView | undefined {
  const value = (item as unknown as { customizations?: CustomizationsView }).customizations;
  return value && typeof value === 'object' ? value : undefined;
}

/** The account `ref` names (ID, email or name), among all items (removed ones too). */
export function findAccount(metadata: readonly MetadataItem[], ref: string): MetadataItem {
  const r = ref.toLowerCase();
  const matches = metadata.filter(
    (m) => m.accountId === ref || m.email.toLowerCase() === r || m.accountName.toLowerCase() === r,
  );
  const found = matches.find((m) => m.status === 'ACTIVE') ?? matches[0];
  if (!found)
    throw new UsageError(
      `unknown account '${ref}': the metadata table has no account with this ID, email or name`,
    );
  return found;
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) =>
    `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')}`.trimEnd(),
  );
}

function customizationsCell(item: MetadataItem): string {
  const c = customizationsOf(item);
  if (!c?.status) return '-';
  return c.failedStage ? `${c.status} (${c.failedStage})` : c.status;
}

export function formatAccounts(metadata: readonly MetadataItem[]): string[] {
  if (!metadata.length) return ['  (no account in the metadata table)'];
  return table([
    ['ACCOUNT', 'NAME', 'OU', 'STATUS', 'LAST OPERATION', 'OUTCOME', 'WHEN', 'CUSTOMIZATIONS'],
    ...metadata.map((m) => [
      m.accountId,
      m.accountName,
      m.organizationalUnit?.name ?? '-',
      m.status,
      m.lastOperation,
      m.lastOutcome + (m.lastError ? ` (${m.lastError.name})` : ''),
      m.removedAt ?? m.updatedAt,
      customizationsCell(m),
    ]),
  ]);
}

export function formatAccount(m: MetadataItem): string[] {
  const c = customizationsOf(m);
  const lines = [
    `Account ${m.accountId}: ${m.accountName} <${m.email}>`,
    `  status            ${m.status}${m.removedAt ? ` since ${m.removedAt}` : ''}`,
    `  OU                ${m.organizationalUnit?.name ?? '-'}${m.organizationalUnit?.id ? ` (${m.organizationalUnit.id})` : ''}`,
    `  request           version ${m.requestVersion}${m.request?.customizationsName ? `, customizations ${m.request.customizationsName}` : ''}${m.request?.closeOnRemoval ? ', closeOnRemoval' : ''}`,
    `  last operation    ${m.lastOperation}: ${m.lastOutcome}, ${m.updatedAt}`,
    `  execution         ${m.lastExecutionArn}`,
  ];
  if (m.lastError) lines.push(`  error             ${m.lastError.name}: ${m.lastError.cause}`);
  lines.push(
    c?.status
      ? `  customizations    ${c.status}${c.failedStage ? ` at ${c.failedStage}` : ''}, ${c.at ?? '-'} (pipeline execution ${c.pipelineExecutionId ?? '-'})${c.message ? `: ${c.message}` : ''}`
      : '  customizations    - (no run recorded)',
  );
  const tags = Object.entries(m.request?.tags ?? {});
  if (tags.length) lines.push(`  tags              ${tags.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  lines.push(`  managed since     ${m.createdAt}`);
  return lines;
}

/** The state of one lock, as `status` shows it. */
export interface LockStatus extends LockView {
  label: string;
  limit?: number;
}

/** Who holds a slot: an execution (its name), or a pipeline execution (`codepipeline:<pipeline>:<id>`). */
function holderName(holder: string): string {
  return holder.startsWith('arn:') ? executionNameOf(holder) : holder;
}

export function formatLocks(locks: readonly LockStatus[]): string[] {
  const lines: string[] = [];
  for (const l of locks) {
    const limit = l.limit ? ` of ${l.limit}` : '';
    lines.push(`${l.label} (lock ${l.lockName}): ${l.count}${limit} slots held, ${l.waiters.length} waiting`);
    for (const h of l.holders) lines.push(`  held by   ${holderName(h.holder)} since ${h.since}`);
    for (const w of l.waiters) lines.push(`  waiting   ${holderName(w.holder)} (started ${w.queuedAt})`);
  }
  return lines;
}

/** Each lock of the target, read now (a lock with no item yet shows as free). */
export async function readLockStatus(target: FactoryTarget): Promise<LockStatus[]> {
  const byTable = new Map<string, Promise<LockView[]>>();
  for (const ref of target.locks) {
    if (!byTable.has(ref.table)) byTable.set(ref.table, readLocks(target.doc, ref.table));
  }
  const out: LockStatus[] = [];
  for (const ref of target.locks) {
    const view = (await byTable.get(ref.table)!).find((l) => l.lockName === ref.lockName);
    out.push({
      ...(view ?? { lockName: ref.lockName, count: 0, holders: [], waiters: [] }),
      label: ref.label,
      ...(ref.limit ? { limit: ref.limit } : {}),
    });
  }
  return out;
}

/** What `status` shows of the factory's health: what the dashboard and the alarms watch. */
export interface Health {
  locks: {
    label: string;
    lockName: string;
    inUse: number;
    limit?: number;
    waiters: number;
    /** Seconds the first in line has waited (since its execution started); 0 without waiters. */
    oldestWaitSeconds: number;
    /** Seconds the longest-held slot has been held; 0 when none is. */
    oldestHeldSeconds: number;
  }[];
  /** Executions that ended FAILED, TIMED_OUT or ABORTED in the last 24 hours (undefined: state machine unknown). */
  executionsFailedLastDay?: { total: number; byStatus: Record<string, number> };
  /** Accounts whose last customizations run failed or was stopped. */
  pipelinesFailed: { accountId: string; accountName: string; failedStage?: string; at?: string }[];
}

const DAY_MS = 24 * 3600_000;
const FAILED_STATUSES: ExecutionStatus[] = ['FAILED', 'TIMED_OUT', 'ABORTED'];

function secondsBetween(fromIso: string | undefined, now: number): number {
  const t = fromIso ? Date.parse(fromIso) : NaN;
  return Number.isNaN(t) ? 0 : Math.max(0, Math.round((now - t) / 1000));
}

/** Executions of the state machine that ended badly since `since` (ListExecutions, newest first). */
async function failedExecutionsSince(
  target: FactoryTarget,
  stateMachineArn: string,
  since: number,
): Promise<{ total: number; byStatus: Record<string, number> }> {
  const byStatus: Record<string, number> = {};
  for (const statusFilter of FAILED_STATUSES) {
    let nextToken: string | undefined;
    let count = 0;
    do {
      const out = await target.sfn.send(
        new ListExecutionsCommand({ stateMachineArn, statusFilter, nextToken, maxResults: 1000 }),
      );
      const executions = out.executions ?? [];
      // An execution that ended in the window; without a stop date (local), its start.
      count += executions.filter((e) => (e.stopDate ?? e.startDate ?? new Date(0)).getTime() >= since).length;
      // Newest first: once an execution started before the window's start plus a year of
      // Step Functions' maximum duration, no later page has one that ended in the window.
      const oldest = executions[executions.length - 1]?.startDate?.getTime();
      nextToken = oldest !== undefined && oldest < since - 365 * DAY_MS ? undefined : out.nextToken;
    } while (nextToken);
    byStatus[statusFilter] = count;
  }
  return { total: Object.values(byStatus).reduce((a, b) => a + b, 0), byStatus };
}

export async function readHealth(
  target: FactoryTarget,
  metadata: readonly MetadataItem[],
  locks: readonly LockStatus[],
): Promise<Health> {
  const now = (target.now?.() ?? new Date()).getTime();
  const pipelinesFailed = metadata
    .filter((m) => m.status === 'ACTIVE')
    .map((m) => ({ m, c: customizationsOf(m) }))
    .filter(({ c }) => c?.status === 'FAILED' || c?.status === 'STOPPED')
    .map(({ m, c }) => ({
      accountId: m.accountId,
      accountName: m.accountName,
      ...(c?.failedStage ? { failedStage: c.failedStage } : {}),
      ...(c?.at ? { at: c.at } : {}),
    }));
  return {
    locks: locks.map((l) => ({
      label: l.label,
      lockName: l.lockName,
      inUse: l.count,
      ...(l.limit ? { limit: l.limit } : {}),
      waiters: l.waiters.length,
      oldestWaitSeconds: Math.max(0, ...l.waiters.map((w) => secondsBetween(w.queuedAt, now))),
      oldestHeldSeconds: Math.max(0, ...l.holders.map((h) => secondsBetween(h.since, now))),
    })),
    ...(target.stateMachineArn
      ? { executionsFailedLastDay: await failedExecutionsSince(target, target.stateMachineArn, now - DAY_MS) }
      : {}),
    pipelinesFailed,
  };
}

function duration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export function formatHealth(health: Health): string[] {
  const lines = ['Health'];
  const width = Math.max(20, ...health.locks.map((l) => l.label.length + 1));
  for (const l of health.locks) {
    const limit = l.limit ? ` of ${l.limit}` : '';
    const held = l.inUse ? `, held longest ${duration(l.oldestHeldSeconds)}` : '';
    const waiting = l.waiters ? `, oldest waiting ${duration(l.oldestWaitSeconds)}` : '';
    lines.push(`  ${l.label.padEnd(width)}${l.inUse}${limit} in use${held}; ${l.waiters} waiting${waiting}`);
  }
  const e = health.executionsFailedLastDay;
  lines.push(
    `  ${'executions failed'.padEnd(width)}` +
      (e
        ? `${e.total} in the last day (${FAILED_STATUSES.map((s) => `${s} ${e.byStatus[s] ?? 0}`).join(', ')})`
        : 'unknown (the state machine is not known: deploy this version of the factory)'),
  );
  const p = health.pipelinesFailed;
  lines.push(
    `  ${'pipelines failed'.padEnd(width)}${p.length}${p.length ? `: ${p.map((f) => `${f.accountName} (${f.accountId}${f.failedStage ? `, at ${f.failedStage}` : ''})`).join(', ')}` : ''}`,
  );
  return lines;
}

export async function statusReport(
  target: FactoryTarget,
  account?: string,
): Promise<{ accounts: MetadataItem[]; locks: LockStatus[]; health: Health; text: string }> {
  const [metadata, locks] = await Promise.all([
    readMetadata(target.doc, target.metadataTable),
    readLockStatus(target),
  ]);
  const health = await readHealth(target, metadata, locks);
  const accounts = account ? [findAccount(metadata, account)] : metadata;
  const lines = [
    ...(account
      ? formatAccount(accounts[0])
      : [`Accounts (${metadata.length}) on ${target.description}`, ...formatAccounts(accounts)]),
    '',
    ...formatLocks(locks),
    '',
    ...formatHealth(health),
  ];
  return { accounts, locks, health, text: lines.join('\n') };
}

interface StatusOptions extends TargetOptions {
  json?: boolean;
}

export function registerStatus(program: Command): void {
  const command = program
    .command('status')
    .description(
      'show the managed accounts (or one): last operation, outcome, when, customizations; ' +
        'who holds or waits for the Control Tower slots now; and the health: slots vs limit, ' +
        'the oldest wait, executions failed in the last day, pipelines failed',
    )
    .argument('[account]', 'an account ID, email or name')
    .option('--json', 'print the status as JSON');
  addTargetOptions(command).action(
    async (account: string | undefined, options: StatusOptions, cmd: Command) => {
      const target = await openTarget(cmd.optsWithGlobals<GlobalOptions>(), options);
      try {
        const report = await statusReport(target, account);
        if (options.json) {
          process.stdout.write(
            `${JSON.stringify({ accounts: report.accounts, locks: report.locks, health: report.health }, null, 2)}\n`,
          );
        } else {
          process.stdout.write(`${report.text}\n`);
        }
        process.exitCode = EXIT_OK;
      } finally {
        await target.close();
      }
    },
  );
}
