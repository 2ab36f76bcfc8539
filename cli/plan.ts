import * as path from 'node:path';
import { Command } from 'commander';
import type { RequestItem } from '../lambda/shared/contracts';
import type { MetadataItem } from '../lambda/shared/metadata';
import { AccountRequest, controlTowerChanges, parseAccountRequest } from '../lambda/shared/schema';
import {
  diffRequests,
  emptyLike,
  formatPlan,
  KIND_ORDER,
  type Plan,
  type PlanEntry,
  type PlanKind,
} from '../lambda/shared/plan';
import { loadRequestFiles } from '../lib/request-files';
import { EXIT_OK, UsageError } from './errors';
import { readMetadata, readRequests } from './factory-data';
import type { GlobalOptions } from './index';
import { addTargetOptions, openTarget, TargetOptions } from './target';

/**
 * `account-factory plan [dir]`: what deploying the request files of `dir` would
 * do to each account, like a Terraform plan. The decision is the Validate
 * request step's: a request not in the table is created; a written request of a
 * managed account is an UPDATE when a Control Tower parameter changed (compared
 * with the request last applied, in the metadata), else a CUSTOMIZE; a request
 * no file holds any more is removed; an unchanged request is not written again,
 * so nothing runs.
 */

// The plan's words live in lambda/shared/plan.ts (an approval request carries them too).
export {
  diffRequests,
  flattenRequest,
  formatPlan,
  formatPlanEntry,
  summaryLine,
  type FieldChange,
  type Plan,
  type PlanEntry,
  type PlanKind,
} from '../lambda/shared/plan';

export interface DesiredRequest {
  requestId: string;
  request: AccountRequest;
  file?: string;
}

function parsed(value: unknown): AccountRequest | undefined {
  const result = parseAccountRequest(value);
  return result.ok ? result.request : undefined;
}

/**
 * The plan: a pure function of the request files, the requests table and the
 * metadata table. One entry per request id (file or table), sorted by kind
 * (create, update, customize, remove, unchanged), then by request id.
 */
export function planChanges(
  desired: readonly DesiredRequest[],
  requestItems: readonly RequestItem[],
  metadata: readonly MetadataItem[],
): Plan {
  const items = new Map(requestItems.map((i) => [i.id, i]));
  const managed = new Map<string, MetadataItem>();
  for (const m of metadata) if (m.status === 'ACTIVE') managed.set(m.email.toLowerCase(), m);
  const entries: PlanEntry[] = [];

  for (const d of desired) {
    const item = items.get(d.requestId);
    const stored = item ? parsed(item.request) : undefined;
    const account = managed.get(d.requestId);
    const base = { requestId: d.requestId, accountName: d.request.accountName, file: d.file };

    if (item && stored && diffRequests(stored, d.request).length === 0) {
      const note = !account
        ? 'not a managed account yet: its last run did not finish (see account-factory status); edit the request to run it again'
        : account.lastOutcome === 'FAILED'
          ? `last ${account.lastOperation} FAILED (${account.lastError?.name ?? 'see status'}); edit the request to run it again`
          : undefined;
      entries.push({
        ...base,
        kind: 'unchanged',
        accountId: account?.accountId ?? null,
        changes: [],
        controlTowerChanges: [],
        ...(note ? { note } : {}),
      });
      continue;
    }
    if (!account) {
      entries.push({
        ...base,
        kind: 'create',
        accountId: null,
        changes: diffRequests(stored ?? emptyLike(d.request), d.request),
        controlTowerChanges: [],
        ...(stored
          ? {
              note: 'in the requests table but not a managed account: written again, it is created (or imported)',
            }
          : {}),
      });
      continue;
    }
    const applied = parsed(account.request) ?? stored;
    const ct = applied ? controlTowerChanges(applied, d.request) : [];
    entries.push({
      ...base,
      kind: ct.length ? 'update' : 'customize',
      accountId: account.accountId,
      changes: stored ? diffRequests(stored, d.request) : applied ? diffRequests(applied, d.request) : [],
      controlTowerChanges: ct,
    });
  }

  const wanted = new Set(desired.map((d) => d.requestId));
  for (const item of requestItems) {
    if (wanted.has(item.id)) continue;
    const stored = parsed(item.request);
    const account = managed.get(item.id);
    entries.push({
      kind: 'remove',
      requestId: item.id,
      accountName: stored?.accountName ?? account?.accountName ?? item.id,
      accountId: account?.accountId ?? null,
      changes: [],
      controlTowerChanges: [],
      closeAccount: stored?.closeOnRemoval === true,
    });
  }

  entries.sort(
    (a, b) =>
      KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.requestId.localeCompare(b.requestId),
  );
  const counts = Object.fromEntries(
    KIND_ORDER.map((k) => [k, entries.filter((e) => e.kind === k).length]),
  ) as Record<PlanKind, number>;
  return { entries, counts };
}

interface PlanOptions extends TargetOptions {
  json?: boolean;
  all?: boolean;
}

export function registerPlan(program: Command): void {
  const command = program
    .command('plan')
    .description(
      'show what deploying the request files of a directory would do to each account: ' +
        'create, update (which Control Tower fields), customize only, remove, or nothing',
    )
    .argument('[dir]', 'the account requests directory', 'examples/account-requests')
    .option('--all', 'list the unchanged requests too')
    .option('--json', 'print the plan as JSON');
  addTargetOptions(command).action(async (dir: string, options: PlanOptions, cmd: Command) => {
    let files;
    try {
      files = loadRequestFiles(path.resolve(dir));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const target = await openTarget(cmd.optsWithGlobals<GlobalOptions>(), options);
    try {
      const [items, metadata] = await Promise.all([
        readRequests(target.doc, target.requestsTable),
        readMetadata(target.doc, target.metadataTable),
      ]);
      const plan = planChanges(
        files.map((f) => ({ requestId: f.requestId, request: f.request, file: f.file })),
        items,
        metadata,
      );
      if (options.json) {
        process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
      } else {
        process.stdout.write(
          `Account factory plan: ${files.length} request files in ${dir}, against ${target.description}\n\n`,
        );
        process.stdout.write(`${formatPlan(plan, { all: options.all })}\n`);
      }
      process.exitCode = EXIT_OK;
    } finally {
      await target.close();
    }
  });
}
