import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { Command } from 'commander';
import type { AccountDrift, DriftReport, DriftState } from '../lambda/drift-check';
import type { MetadataItem } from '../lambda/shared/metadata';
import { EXIT_OK, EXIT_PROBLEMS, UsageError } from './errors';
import { readMetadata, readRequests } from './factory-data';
import type { GlobalOptions } from './index';
import { addTargetOptions, openTarget, TargetOptions } from './target';

/**
 * `account-factory drift`: what changed by hand in the managed accounts, per account and
 * per item (OU, name, email, managed tags, execution role and trust, account pipeline,
 * Control Tower baseline drift). With `--local` the check runs now; against AWS the CLI
 * reads the last scheduled check. `--fix <account>` writes the account's request again,
 * unchanged: the workflow runs it and reconciles what it can.
 */

interface DriftOptions extends TargetOptions {
  accounts?: string[];
  ous?: string[];
  fix?: string;
  json?: boolean;
}

/** Splits "a,b" "c" into [a, b, c]. */
function values(list: string[] | undefined): string[] {
  return (list ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

const ITEM_LABELS: Record<string, string> = {
  organizationalUnit: 'OU',
  accountName: 'account name',
  email: 'email',
  tags: 'tags',
  executionRole: 'execution role',
  executionRoleTrust: 'execution role trust',
  accountPipeline: 'account pipeline',
  controlTowerBaseline: 'Control Tower baseline',
};

/** The report as text: one line per account, one indented line per drifted item. */
export function formatDrift(report: Pick<DriftReport, 'checkedAt' | 'accounts'>, checked: number): string {
  const drifted = report.accounts.filter((a) => a.findings.length);
  const lines = [
    `Drift check at ${report.checkedAt}: ${drifted.length} of ${checked} managed account${checked === 1 ? '' : 's'} drifted`,
  ];
  for (const a of report.accounts) {
    lines.push(`  ${a.accountId}  ${a.accountName.padEnd(24)}  ${a.findings.length ? 'DRIFTED' : 'in sync'}`);
    for (const f of a.findings) {
      lines.push(
        `      ${(ITEM_LABELS[f.item] ?? f.item).padEnd(24)} expected ${f.expected}; found ${f.actual}`,
      );
    }
  }
  if (drifted.length) {
    lines.push('', 'Reconcile an account with: account-factory drift --fix <account id|email|name>');
  }
  return `${lines.join('\n')}\n`;
}

function matches(m: Pick<MetadataItem, 'accountId' | 'email' | 'accountName'>, ref: string): boolean {
  const r = ref.toLowerCase();
  return m.accountId === ref || m.email.toLowerCase() === r || m.accountName.toLowerCase() === r;
}

export function registerDrift(program: Command): void {
  const command = program
    .command('drift')
    .description(
      'show what changed by hand in the managed accounts (OU, name, email, managed tags, execution role, ' +
        "account pipeline, Control Tower baseline drift); --fix re-runs one account's request to reconcile it",
    )
    .option('--accounts <accounts...>', 'account IDs, emails or names')
    .option('--ous <ous...>', 'organizational units, by name or id')
    .option('--fix <account>', "write this account's request again (unchanged) so the workflow reconciles it")
    .option('--json', 'print the report as JSON');
  addTargetOptions(command).action(async (options: DriftOptions, cmd: Command) => {
    const globals = cmd.optsWithGlobals<GlobalOptions>();
    const accounts = values(options.accounts);
    const ous = values(options.ous);
    if (options.fix && (accounts.length || ous.length)) {
      throw new UsageError('--fix takes one account: leave out --accounts and --ous');
    }
    const target = await openTarget(globals, options);
    try {
      const metadata = (await readMetadata(target.doc, target.metadataTable)).filter(
        (m) => m.status === 'ACTIVE',
      );
      for (const ref of options.fix ? [options.fix] : accounts) {
        if (!metadata.some((m) => matches(m, ref))) {
          throw new UsageError(
            `unknown account '${ref}': no managed account has this ID, email or name (see account-factory status)`,
          );
        }
      }
      for (const ou of ous) {
        if (!metadata.some((m) => m.organizationalUnit.name === ou || m.organizationalUnit.id === ou)) {
          throw new UsageError(`unknown OU '${ou}': no managed account is in it`);
        }
      }

      if (options.fix) {
        const m = metadata.find((i) => matches(i, options.fix!))!;
        const item = (await readRequests(target.doc, target.requestsTable)).find((r) => r.id === m.requestId);
        if (!item) {
          throw new UsageError(
            `account ${m.accountId} has no request in the requests table (request ${m.requestId}): nothing to re-run`,
          );
        }
        const written = await target.rewriteRequest({ request: item.request, source: item.source });
        process.stdout.write(
          `Re-running request ${written.id} (version ${written.version}) of account ${m.accountId} ${m.accountName} ` +
            `on ${target.description}: the workflow reconciles OU, name and baseline (a Control Tower update), ` +
            `tags, execution role and pipeline; an email changed by hand stays as it is\n`,
        );
        if (!target.checkDrift) return;
        // Locally the re-run has ended: show what is left.
        const after = (await target.checkDrift({ accounts: [m.accountId] })) as DriftReport;
        process.stdout.write(formatDrift(after, after.accounts.length));
        process.exitCode = after.drifted ? EXIT_PROBLEMS : EXIT_OK;
        return;
      }

      let report: Pick<DriftReport, 'checkedAt' | 'accounts'>;
      let checked: number;
      if (target.checkDrift) {
        const now = (await target.checkDrift({
          ...(accounts.length ? { accounts } : {}),
          ...(ous.length ? { ous } : {}),
        })) as DriftReport;
        report = now;
        checked = now.accounts.length;
      } else {
        if (!target.driftStateTable) {
          throw new UsageError(
            'this factory has no drift detection (no stack output DriftStateTableName): ' +
              'deploy it with driftDetection, or pass --drift-state-table',
          );
        }
        const out = await target.doc.send(
          new GetCommand({
            TableName: target.driftStateTable,
            Key: { id: 'drift-set' },
            ConsistentRead: true,
          }),
        );
        const state = out.Item as DriftState | undefined;
        if (!state) {
          throw new UsageError(
            'the scheduled drift check has not run yet: invoke its function, or wait for it',
          );
        }
        // The state keeps drifted accounts only: the selected managed accounts not in it are in sync.
        const selected = metadata.filter(
          (m) =>
            (!accounts.length || accounts.some((a) => matches(m, a))) &&
            (!ous.length ||
              ous.some((o) => m.organizationalUnit.name === o || m.organizationalUnit.id === o)),
        );
        const byId = new Map(state.accounts.map((a) => [a.accountId, a]));
        report = {
          checkedAt: state.checkedAt,
          accounts: selected.map(
            (m): AccountDrift =>
              byId.get(m.accountId) ?? {
                accountId: m.accountId,
                accountName: m.accountName,
                requestId: m.requestId,
                findings: [],
              },
          ),
        };
        checked = selected.length;
      }
      if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else process.stdout.write(formatDrift(report, checked));
      process.exitCode = report.accounts.some((a) => a.findings.length) ? EXIT_PROBLEMS : EXIT_OK;
    } finally {
      await target.close();
    }
  });
}
