import * as path from 'node:path';
import { Command } from 'commander';
import type { RequestItem } from '../lambda/shared/contracts';
import type { MetadataItem } from '../lambda/shared/metadata';
import {
  ALTERNATE_CONTACT_TYPES,
  AccountRequest,
  controlTowerChanges,
  parseAccountRequest,
} from '../lambda/shared/schema';
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

export type PlanKind = 'create' | 'update' | 'customize' | 'remove' | 'unchanged';

export interface FieldChange {
  /** Dotted path: `organizationalUnit`, `sso.email`, `tags.Owner`. */
  field: string;
  before?: string;
  after?: string;
}

export interface PlanEntry {
  kind: PlanKind;
  requestId: string;
  accountName: string;
  /** The managed account, when there is one. */
  accountId: string | null;
  /** The request file (not for a removal). */
  file?: string;
  /** What differs from the request in the table (or, for an update, from the request last applied). */
  changes: FieldChange[];
  /** The Control Tower parameters an update changes (e.g. ManagedOrganizationalUnit). */
  controlTowerChanges: string[];
  /** A removal that closes the account (the removed request says closeOnRemoval: true). */
  closeAccount?: boolean;
  /** Something worth knowing (e.g. the last run failed). */
  note?: string;
}

export interface Plan {
  entries: PlanEntry[];
  counts: Record<PlanKind, number>;
}

export interface DesiredRequest {
  requestId: string;
  request: AccountRequest;
  file?: string;
}

const KIND_ORDER: PlanKind[] = ['create', 'update', 'customize', 'remove', 'unchanged'];

/** The request's fields as dotted paths, values as strings. */
export function flattenRequest(request: AccountRequest): Record<string, string> {
  const out: Record<string, string> = {
    accountEmail: request.accountEmail,
    accountName: request.accountName,
    organizationalUnit: request.organizationalUnit,
    'sso.email': request.sso.email,
    'sso.firstName': request.sso.firstName,
    'sso.lastName': request.sso.lastName,
    closeOnRemoval: String(request.closeOnRemoval),
  };
  if (request.customizationsName !== undefined) out.customizationsName = request.customizationsName;
  for (const [k, v] of Object.entries(request.tags)) out[`tags.${k}`] = v;
  for (const [k, v] of Object.entries(request.customFields)) out[`customFields.${k}`] = v;
  for (const kind of ALTERNATE_CONTACT_TYPES) {
    const c = request.alternateContacts?.[kind];
    if (c) out[`alternateContacts.${kind}`] = `${c.name}, ${c.title}, ${c.email}, ${c.phone}`;
  }
  for (const r of request.regions ?? []) out[`regions.${r}`] = 'enabled';
  if (request.disableRemovedRegions !== undefined)
    out.disableRemovedRegions = String(request.disableRemovedRegions);
  // One line per principal: its permission sets on the account.
  const byPrincipal = new Map<string, string[]>();
  for (const a of request.identityCenter ?? []) {
    const who = a.group !== undefined ? `group:${a.group}` : `user:${a.user}`;
    byPrincipal.set(who, [...(byPrincipal.get(who) ?? []), a.permissionSet]);
  }
  for (const [who, sets] of byPrincipal) out[`identityCenter.${who}`] = sets.sort().join(', ');
  return out;
}

/** The fields whose values differ, in a stable order. */
export function diffRequests(before: AccountRequest, after: AccountRequest): FieldChange[] {
  const a = flattenRequest(before);
  const b = flattenRequest(after);
  const fields = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return fields
    .filter((f) => a[f] !== b[f])
    .sort((x, y) => fieldRank(x) - fieldRank(y) || x.localeCompare(y))
    .map((field) => ({
      field,
      ...(a[field] !== undefined ? { before: a[field] } : {}),
      ...(b[field] !== undefined ? { after: b[field] } : {}),
    }));
}

const FIELD_ORDER = [
  'accountEmail',
  'accountName',
  'organizationalUnit',
  'sso.',
  'customizationsName',
  'tags.',
  'customFields.',
  'alternateContacts.',
  'regions.',
  'disableRemovedRegions',
  'identityCenter.',
  'closeOnRemoval',
];
function fieldRank(field: string): number {
  const i = FIELD_ORDER.findIndex((p) => field === p || (p.endsWith('.') && field.startsWith(p)));
  return i < 0 ? FIELD_ORDER.length : i;
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

/** A request with no tags or custom fields and nothing else set: what a new request is compared with. */
function emptyLike(request: AccountRequest): AccountRequest {
  return {
    ...request,
    accountName: '',
    organizationalUnit: '',
    sso: { email: '', firstName: '', lastName: '' },
    tags: {},
    customFields: {},
    customizationsName: undefined,
    closeOnRemoval: false,
    alternateContacts: undefined,
    regions: undefined,
    disableRemovedRegions: undefined,
    identityCenter: undefined,
    accountEmail: request.accountEmail,
  };
}

export function summaryLine(counts: Record<PlanKind, number>): string {
  return (
    `Plan: ${counts.create} to create, ${counts.update} to update, ${counts.customize} to customize, ` +
    `${counts.remove} to remove, ${counts.unchanged} unchanged.`
  );
}

const SYMBOL: Record<PlanKind, string> = {
  create: '+',
  update: '~',
  customize: '>',
  remove: '-',
  unchanged: '=',
};

function quote(v: string | undefined): string {
  return v === undefined ? '(none)' : JSON.stringify(v);
}

/** The plan as text, like a Terraform plan: one block per account that changes, then the summary line. */
export function formatPlan(plan: Plan, options: { all?: boolean } = {}): string {
  const lines: string[] = [];
  for (const e of plan.entries) {
    if (e.kind === 'unchanged' && !options.all && !e.note) continue;
    const who = `${e.accountName} <${e.requestId}>${e.accountId ? ` ${e.accountId}` : ''}`;
    let what: string;
    switch (e.kind) {
      case 'create':
        what = 'create: a new account through Control Tower';
        break;
      case 'update':
        what = `update: Control Tower (${e.controlTowerChanges.join(', ')}), then customizations`;
        break;
      case 'customize':
        what = 'customize: customizations only, no Control Tower operation';
        break;
      case 'remove':
        what = e.closeAccount
          ? 'remove: leaves management, and the account is CLOSED (closeOnRemoval: true)'
          : 'remove: leaves management; the account stays open';
        break;
      default:
        what = 'unchanged';
    }
    lines.push(`  ${SYMBOL[e.kind]} ${who}`);
    lines.push(`      ${what}${e.file ? `  [${e.file}]` : ''}`);
    if (e.kind !== 'create') {
      for (const c of e.changes) lines.push(`      ${c.field}: ${quote(c.before)} -> ${quote(c.after)}`);
    } else {
      const shown = e.changes.filter(
        (c) =>
          ['accountName', 'organizationalUnit', 'customizationsName'].includes(c.field) ||
          /^(alternateContacts|regions|identityCenter)\./.test(c.field),
      );
      for (const c of shown) lines.push(`      ${c.field}: ${quote(c.after)}`);
    }
    if (e.note) lines.push(`      note: ${e.note}`);
  }
  if (lines.length) lines.push('');
  lines.push(summaryLine(plan.counts));
  return lines.join('\n');
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
