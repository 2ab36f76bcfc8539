import { ALTERNATE_CONTACT_TYPES, type AccountRequest } from './schema';

/**
 * The words of a plan: what a request version does to its account, as `account-factory
 * plan` prints it and as an approval request (the approval-request step) carries it. One
 * module, so the approver reads exactly what the plan says.
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

export const KIND_ORDER: PlanKind[] = ['create', 'update', 'customize', 'remove', 'unchanged'];

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
    lines.push(...formatPlanEntry(e));
  }
  if (lines.length) lines.push('');
  lines.push(summaryLine(plan.counts));
  return lines.join('\n');
}

/** One account's block of a plan: who, what happens, and each field that changes. */
export function formatPlanEntry(e: PlanEntry): string[] {
  const lines: string[] = [];
  {
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
  return lines;
}

/** A request with no tags or custom fields and nothing else set: what a new request is compared with. */
export function emptyLike(request: AccountRequest): AccountRequest {
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

/** What the workflow's operations are, in the plan's words. */
const KIND_OF_OPERATION: Record<string, PlanKind> = {
  CREATE: 'create',
  IMPORT: 'create',
  ADOPT: 'create',
  UPDATE: 'update',
  CUSTOMIZE: 'customize',
  REMOVE: 'remove',
};

/**
 * The plan entry of one validated request version, as the workflow decided it: what an
 * approver is asked to allow.
 */
export function planEntryOf(v: {
  requestId: string;
  operation: string;
  request: AccountRequest;
  /** The request last applied (managed accounts). */
  previous?: AccountRequest;
  accountId: string | null;
  controlTowerChanges: string[];
}): PlanEntry {
  const kind = KIND_OF_OPERATION[v.operation] ?? 'update';
  return {
    kind,
    requestId: v.requestId,
    accountName: v.request.accountName,
    accountId: v.accountId,
    changes: kind === 'remove' ? [] : diffRequests(v.previous ?? emptyLike(v.request), v.request),
    controlTowerChanges: v.controlTowerChanges,
    ...(kind === 'remove' && v.request.closeOnRemoval ? { closeAccount: true } : {}),
    ...(v.operation === 'IMPORT' || v.operation === 'ADOPT'
      ? { note: `${v.operation === 'IMPORT' ? 'imports' : 'adopts'} an existing account` }
      : {}),
  };
}
