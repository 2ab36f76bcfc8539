import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { Command } from 'commander';
import type { MetadataItem } from '../lambda/shared/metadata';
import { MAX_RERUN_ACCOUNTS, RerunOutput, RerunResult } from '../lib/rerun-customizations';
import { EXIT_OK, EXIT_PROBLEMS, UsageError } from './errors';
import { readMetadata } from './factory-data';
import type { GlobalOptions } from './index';
import { addTargetOptions, openTarget, TargetOptions } from './target';

/**
 * `account-factory rerun`: re-runs the customizations of managed accounts chosen
 * by account, OU or tag, through the factory's re-run state machine: no Control
 * Tower operation, each account's pipeline brought up to date and started, a
 * bounded number at once. Prints each account's outcome.
 */

export interface Selectors {
  /** Account IDs, emails or names. */
  accounts?: string[];
  /** OU names or ids. */
  ous?: string[];
  /** `key=value`: the account's request has this tag. */
  tags?: string[];
  /** Account IDs, emails or names to leave out. */
  exclude?: string[];
}

/** Splits "a,b" "c" into [a, b, c]. */
function values(list: string[] | undefined): string[] {
  return (list ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

export function parseTagFilter(filter: string): { key: string; value: string } {
  const at = filter.indexOf('=');
  if (at <= 0)
    throw new UsageError(
      `malformed tag filter '${filter}': write key=value (e.g. --tags Environment=sandbox)`,
    );
  return { key: filter.slice(0, at), value: filter.slice(at + 1) };
}

function matchesAccount(item: MetadataItem, ref: string): boolean {
  const r = ref.toLowerCase();
  return item.accountId === ref || item.email.toLowerCase() === r || item.accountName.toLowerCase() === r;
}

function matchesOu(item: MetadataItem, ou: string): boolean {
  return item.organizationalUnit.name === ou || item.organizationalUnit.id === ou.toLowerCase();
}

/**
 * The managed (ACTIVE) accounts the selectors choose: each selector given must
 * match (accounts, OUs, tags: an account matches a list when it matches one of
 * it; every tag filter must match), then the exclusions are left out. Throws
 * UsageError for no selector, an unknown account or OU, or a malformed tag
 * filter.
 */
export function selectAccounts(metadata: readonly MetadataItem[], selectors: Selectors): MetadataItem[] {
  const accounts = values(selectors.accounts);
  const ous = values(selectors.ous);
  const tags = values(selectors.tags).map(parseTagFilter);
  const exclude = values(selectors.exclude);
  if (!accounts.length && !ous.length && !tags.length) {
    throw new UsageError(
      'say which accounts to re-run: --accounts <ids|emails|names>, --ous <names|ids> or --tags <key=value>',
    );
  }
  const active = metadata.filter((m) => m.status === 'ACTIVE');
  for (const ref of [...accounts, ...exclude]) {
    if (!active.some((m) => matchesAccount(m, ref))) {
      throw new UsageError(
        `unknown account '${ref}': no managed account has this ID, email or name (see account-factory status)`,
      );
    }
  }
  for (const ou of ous) {
    if (!active.some((m) => matchesOu(m, ou))) {
      const known = [...new Set(active.map((m) => m.organizationalUnit.name))].sort();
      throw new UsageError(
        `unknown OU '${ou}': no managed account is in it (OUs with managed accounts: ${known.join(', ') || 'none'})`,
      );
    }
  }
  return active.filter(
    (m) =>
      (!accounts.length || accounts.some((a) => matchesAccount(m, a))) &&
      (!ous.length || ous.some((o) => matchesOu(m, o))) &&
      tags.every((t) => m.request?.tags?.[t.key] === t.value) &&
      !exclude.some((x) => matchesAccount(m, x)),
  );
}

/** Starts one re-run execution and (unless `wait` is false) waits for its end. */
export async function runRerun(
  sfn: SFNClient,
  stateMachineArn: string,
  accountIds: string[],
  options: { name: string; pollMs: number; wait?: boolean },
): Promise<{ executionArn: string; status: string; results: RerunResult[]; error?: string }> {
  const started = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn,
      name: options.name,
      input: JSON.stringify({ accountIds }),
    }),
  );
  const executionArn = started.executionArn!;
  if (options.wait === false) return { executionArn, status: 'RUNNING', results: [] };
  for (;;) {
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (d.status !== 'RUNNING') {
      const output = d.output ? (JSON.parse(d.output) as RerunOutput) : undefined;
      return {
        executionArn,
        status: d.status ?? 'UNKNOWN',
        results: output?.results ?? [],
        ...(d.status === 'SUCCEEDED' ? {} : { error: [d.error, d.cause].filter(Boolean).join(': ') }),
      };
    }
    await new Promise((r) => setTimeout(r, options.pollMs));
  }
}

function describeSelection(selectors: Selectors): string {
  const parts: string[] = [];
  if (values(selectors.accounts).length) parts.push(`accounts ${values(selectors.accounts).join(', ')}`);
  if (values(selectors.ous).length) parts.push(`OU ${values(selectors.ous).join(', ')}`);
  if (values(selectors.tags).length) parts.push(`tags ${values(selectors.tags).join(', ')}`);
  const excluded = values(selectors.exclude);
  return parts.join('; ') + (excluded.length ? `; excluding ${excluded.join(', ')}` : '');
}

export function formatResult(r: RerunResult, names: Map<string, string>): string {
  const name = (names.get(r.accountId) ?? '').padEnd(24);
  switch (r.outcome) {
    case 'SUCCEEDED':
      return `  ${r.accountId}  ${name}  succeeded  pipeline execution ${r.pipelineExecutionId}`;
    case 'SKIPPED':
      return `  ${r.accountId}  ${name}  skipped    ${r.reason}`;
    default:
      return (
        `  ${r.accountId}  ${name}  FAILED     ${r.error}: ${r.cause}` +
        (r.pipelineExecutionId ? ` (pipeline execution ${r.pipelineExecutionId})` : '')
      );
  }
}

/** A name for the re-run execution: when, and which batch. */
function executionName(batch: number): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  return `rerun-${stamp}-${Math.random().toString(36).slice(2, 8)}-${batch}`;
}

interface RerunOptions extends TargetOptions, Selectors {
  json?: boolean;
  wait: boolean;
}

export function registerRerun(program: Command): void {
  const command = program
    .command('rerun')
    .description(
      're-run the customizations of managed accounts (no Control Tower operation): ' +
        'those that match every selector given, less the exclusions',
    )
    .option('--accounts <accounts...>', 'account IDs, emails or names')
    .option('--ous <ous...>', 'organizational units, by name or id')
    .option('--tags <filters...>', 'key=value: accounts whose request has the tag (all filters must match)')
    .option('--exclude <accounts...>', 'account IDs, emails or names to leave out')
    .option('--no-wait', 'start the re-run and exit, without waiting for the pipelines (not with --local)')
    .option('--json', 'print the outcome as JSON');
  addTargetOptions(command).action(async (options: RerunOptions, cmd: Command) => {
    // Bad arguments are reported before anything is opened.
    values(options.tags).forEach(parseTagFilter);
    if (!values(options.accounts).length && !values(options.ous).length && !values(options.tags).length) {
      selectAccounts([], options);
    }
    const globals = cmd.optsWithGlobals<GlobalOptions>();
    if (globals.local && !options.wait) {
      throw new UsageError('--no-wait cannot be used with --local: the local factory ends with the command');
    }
    const target = await openTarget(globals, options);
    try {
      const metadata = await readMetadata(target.doc, target.metadataTable);
      const selected = selectAccounts(metadata, options);
      if (!selected.length) {
        process.stderr.write(`account-factory: no managed account matches (${describeSelection(options)})\n`);
        process.exitCode = EXIT_PROBLEMS;
        return;
      }
      const names = new Map(metadata.map((m) => [m.accountId, m.accountName]));
      const ids = selected.map((m) => m.accountId);
      if (!options.json) {
        process.stdout.write(
          `Re-running the customizations of ${ids.length} account${ids.length === 1 ? '' : 's'} ` +
            `(${describeSelection(options)}) on ${target.description}: no Control Tower operation\n`,
        );
      }
      const results: RerunResult[] = [];
      const executions: { executionArn: string; status: string; error?: string }[] = [];
      for (let i = 0; i < ids.length; i += MAX_RERUN_ACCOUNTS) {
        const run = await runRerun(
          target.sfn,
          target.rerunStateMachineArn,
          ids.slice(i, i + MAX_RERUN_ACCOUNTS),
          {
            name: executionName(i / MAX_RERUN_ACCOUNTS + 1),
            pollMs: target.pollMs,
            wait: options.wait,
          },
        );
        executions.push({
          executionArn: run.executionArn,
          status: run.status,
          ...(run.error ? { error: run.error } : {}),
        });
        results.push(...run.results);
        if (!options.json) {
          process.stdout.write(
            `execution ${run.executionArn}: ${run.status}${run.error ? ` (${run.error})` : ''}\n`,
          );
        }
      }
      const count = (o: RerunResult['outcome']) => results.filter((r) => r.outcome === o).length;
      if (!options.wait) {
        if (options.json) process.stdout.write(`${JSON.stringify({ executions }, null, 2)}\n`);
        process.exitCode = EXIT_OK;
        return;
      }
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ executions, results }, null, 2)}\n`);
      } else {
        process.stdout.write(`\n${results.map((r) => formatResult(r, names)).join('\n')}\n\n`);
        process.stdout.write(
          `${count('SUCCEEDED')} succeeded, ${count('FAILED')} failed, ${count('SKIPPED')} skipped.\n`,
        );
      }
      const ok = executions.every((e) => e.status === 'SUCCEEDED') && count('FAILED') === 0;
      process.exitCode = ok ? EXIT_OK : EXIT_PROBLEMS;
    } finally {
      await target.close();
    }
  });
}
