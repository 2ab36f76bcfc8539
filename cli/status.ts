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

export async function statusReport(
  target: FactoryTarget,
  account?: string,
): Promise<{ accounts: MetadataItem[]; locks: LockStatus[]; text: string }> {
  const [metadata, locks] = await Promise.all([
    readMetadata(target.doc, target.metadataTable),
    readLockStatus(target),
  ]);
  const accounts = account ? [findAccount(metadata, account)] : metadata;
  const lines = [
    ...(account
      ? formatAccount(accounts[0])
      : [`Accounts (${metadata.length}) on ${target.description}`, ...formatAccounts(accounts)]),
    '',
    ...formatLocks(locks),
  ];
  return { accounts, locks, text: lines.join('\n') };
}

interface StatusOptions extends TargetOptions {
  json?: boolean;
}

export function registerStatus(program: Command): void {
  const command = program
    .command('status')
    .description(
      'show the managed accounts (or one): last operation, outcome, when, customizations; ' +
        'and who holds or waits for the Control Tower slots now',
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
            `${JSON.stringify({ accounts: report.accounts, locks: report.locks }, null, 2)}\n`,
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
