import { formatPlanEntry, planEntryOf } from '../../lambda/shared/plan';
import { parseAccountRequest } from '../../lambda/shared/schema';
import type { RequestItem } from '../../lambda/shared/contracts';
import type { MetadataItem } from '../../lambda/shared/metadata';
import { AccountRequest, AccountRequestInput, AccountRequestSchema } from '../../lambda/shared/schema';
import { diffRequests, formatPlan, planChanges, summaryLine } from '../../cli/plan';

function request(name: string, overrides: Partial<AccountRequestInput> = {}): AccountRequest {
  return AccountRequestSchema.parse({
    accountEmail: `${name}@example.com`,
    accountName: name,
    organizationalUnit: 'Sandbox',
    sso: { email: 'platform-team@example.com', firstName: 'Platform', lastName: 'Team' },
    tags: { Owner: 'platform-team' },
    ...overrides,
  });
}

function item(r: AccountRequest, version = 1): RequestItem {
  return {
    id: r.accountEmail,
    version,
    request: r,
    source: 'file:x.json',
    updatedAt: '2025-01-01T00:00:00.000Z',
  };
}

let nextId = 111111111111;
function managed(r: AccountRequest, overrides: Partial<MetadataItem> = {}): MetadataItem {
  return {
    accountId: String(nextId++),
    email: r.accountEmail,
    accountName: r.accountName,
    requestId: r.accountEmail,
    requestVersion: 1,
    request: r,
    organizationalUnit: { id: 'ou-abcd-11111111', name: r.organizationalUnit },
    provisionedProductId: 'pp-1',
    status: 'ACTIVE',
    lastOperation: 'CREATE',
    lastExecutionArn: 'arn:aws:states:us-east-1:111111111111:execution:Workflow:x',
    lastOutcome: 'SUCCEEDED',
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
    ...overrides,
  };
}

describe('planChanges', () => {
  // What is deployed: four managed accounts, and one to be removed with closure.
  const unchanged = request('steady');
  const moving = request('moving');
  const retagged = request('retagged');
  const renamedCustomizations = request('custom');
  const leaving = request('leaving');
  const closing = request('closing', { closeOnRemoval: true });
  const deployed = [unchanged, moving, retagged, renamedCustomizations, leaving, closing];
  const items = deployed.map((r) => item(r));
  const metadata = deployed.map((r) => managed(r));

  const desired = [
    unchanged,
    request('moving', { organizationalUnit: 'Workloads' }),
    request('retagged', { tags: { Owner: 'data-team', Environment: 'dev' } }),
    request('custom', { customizationsName: 'security-baseline' }),
    request('newcomer', { organizationalUnit: 'Security' }),
  ].map((r) => ({ requestId: r.accountEmail, request: r, file: `${r.accountName}.json` }));

  const plan = planChanges(desired, items, metadata);
  const byId = new Map(plan.entries.map((e) => [e.requestId, e]));

  test('all five kinds, counted in the summary line', () => {
    expect(plan.counts).toEqual({ create: 1, update: 1, customize: 2, remove: 2, unchanged: 1 });
    expect(summaryLine(plan.counts)).toBe(
      'Plan: 1 to create, 1 to update, 2 to customize, 2 to remove, 1 unchanged.',
    );
    expect(plan.entries.map((e) => e.kind)).toEqual([
      'create',
      'update',
      'customize',
      'customize',
      'remove',
      'remove',
      'unchanged',
    ]);
  });

  test('create: a request not in the table and no managed account', () => {
    expect(byId.get('newcomer@example.com')).toMatchObject({
      kind: 'create',
      accountId: null,
      file: 'newcomer.json',
    });
  });

  test('update: names the Control Tower parameters that change, and the fields', () => {
    const e = byId.get('moving@example.com')!;
    expect(e.kind).toBe('update');
    expect(e.controlTowerChanges).toEqual(['ManagedOrganizationalUnit']);
    expect(e.changes).toEqual([{ field: 'organizationalUnit', before: 'Sandbox', after: 'Workloads' }]);
    expect(e.accountId).toMatch(/^\d{12}$/);
  });

  test('customize: tags or customizations changed, no Control Tower parameter', () => {
    const tags = byId.get('retagged@example.com')!;
    expect(tags).toMatchObject({ kind: 'customize', controlTowerChanges: [] });
    expect(tags.changes).toEqual([
      { field: 'tags.Environment', after: 'dev' },
      { field: 'tags.Owner', before: 'platform-team', after: 'data-team' },
    ]);
    expect(byId.get('custom@example.com')!.changes).toEqual([
      { field: 'customizationsName', after: 'security-baseline' },
    ]);
  });

  test('remove: a request no file holds; closure only when the removed request asked for it', () => {
    expect(byId.get('leaving@example.com')).toMatchObject({ kind: 'remove', closeAccount: false });
    expect(byId.get('closing@example.com')).toMatchObject({ kind: 'remove', closeAccount: true });
  });

  test('unchanged: same request as in the table, nothing runs', () => {
    expect(byId.get('steady@example.com')).toMatchObject({
      kind: 'unchanged',
      changes: [],
      controlTowerChanges: [],
    });
  });

  test('the update decision compares with the request last applied (metadata), as the Validate request step does', () => {
    // The table already holds the new OU (written, but its run failed before Store metadata).
    const target = request('drift', { organizationalUnit: 'Workloads' });
    const applied = request('drift');
    const p = planChanges(
      [{ requestId: target.accountEmail, request: { ...target, tags: { Owner: 'x' } } }],
      [item(target, 2)],
      [managed(applied)],
    );
    expect(p.entries[0]).toMatchObject({
      kind: 'update',
      controlTowerChanges: ['ManagedOrganizationalUnit'],
    });
  });

  test('a removed account (metadata REMOVED) with its request written again is created (or imported) again', () => {
    const r = request('returning');
    const p = planChanges(
      [{ requestId: r.accountEmail, request: r }],
      [],
      [managed(r, { status: 'REMOVED' })],
    );
    expect(p.entries[0].kind).toBe('create');
  });

  test('an unchanged request whose last run failed says so', () => {
    const r = request('stuck');
    const p = planChanges(
      [{ requestId: r.accountEmail, request: r }],
      [item(r)],
      [
        managed(r, {
          lastOutcome: 'FAILED',
          lastOperation: 'UPDATE',
          lastError: { name: 'ControlTowerOperationFailed', cause: 'x' },
        }),
      ],
    );
    expect(p.entries[0]).toMatchObject({ kind: 'unchanged' });
    expect(p.entries[0].note).toMatch(/last UPDATE FAILED \(ControlTowerOperationFailed\)/);
  });

  test('formatPlan: one block per change, unchanged left out, the summary last', () => {
    const text = formatPlan(plan);
    expect(text).toContain('~ moving <moving@example.com>');
    expect(text).toContain('update: Control Tower (ManagedOrganizationalUnit)');
    expect(text).toContain('organizationalUnit: "Sandbox" -> "Workloads"');
    expect(text).toContain('remove: leaves management, and the account is CLOSED (closeOnRemoval: true)');
    expect(text).toContain('remove: leaves management; the account stays open');
    expect(text).not.toContain('steady');
    expect(text.trim().split('\n').pop()).toBe(summaryLine(plan.counts));
  });
});

test('diffRequests: no change between a request and itself', () => {
  const r = request('same', { customFields: { budget: '100' } });
  expect(diffRequests(r, { ...r })).toEqual([]);
  expect(diffRequests(r, { ...r, customFields: {} })).toEqual([
    { field: 'customFields.budget', before: '100' },
  ]);
});

describe('account settings in the plan', () => {
  const contact = { name: 'Ops', title: 'On call', email: 'ops@example.com', phone: '+1 555 0100' };
  const before = request('settings', {
    alternateContacts: { operations: contact },
    regions: ['af-south-1'],
    identityCenter: [{ group: 'Developers', permissionSet: 'ReadOnlyAccess' }],
  });
  const after = request('settings', {
    alternateContacts: { operations: { ...contact, phone: '+1 555 0199' }, security: contact },
    regions: ['me-south-1'],
    disableRemovedRegions: true,
    identityCenter: [
      { group: 'Developers', permissionSet: 'ReadOnlyAccess' },
      { group: 'Developers', permissionSet: 'PowerUserAccess' },
      { user: 'alice@example.com', permissionSet: 'AdministratorAccess' },
    ],
  });

  test('an edit of contacts, Regions and Identity Center access is a CUSTOMIZE listing each change', () => {
    const p = planChanges(
      [{ requestId: after.accountEmail, request: after }],
      [item(before)],
      [managed(before)],
    );

    expect(p.entries[0]).toMatchObject({ kind: 'customize', controlTowerChanges: [] });
    expect(p.entries[0].changes).toEqual([
      {
        field: 'alternateContacts.operations',
        before: 'Ops, On call, ops@example.com, +1 555 0100',
        after: 'Ops, On call, ops@example.com, +1 555 0199',
      },
      { field: 'alternateContacts.security', after: 'Ops, On call, ops@example.com, +1 555 0100' },
      { field: 'regions.af-south-1', before: 'enabled' },
      { field: 'regions.me-south-1', after: 'enabled' },
      { field: 'disableRemovedRegions', after: 'true' },
      {
        field: 'identityCenter.group:Developers',
        before: 'ReadOnlyAccess',
        after: 'PowerUserAccess, ReadOnlyAccess',
      },
      { field: 'identityCenter.user:alice@example.com', after: 'AdministratorAccess' },
    ]);
  });

  test('a new account shows the settings it will get', () => {
    const text = formatPlan(planChanges([{ requestId: after.accountEmail, request: after }], [], []));

    expect(text).toContain('regions.me-south-1: "enabled"');
    expect(text).toContain('identityCenter.group:Developers: "PowerUserAccess, ReadOnlyAccess"');
    expect(text).toContain('alternateContacts.security: "Ops, On call, ops@example.com, +1 555 0100"');
  });
});

describe('the plan of one request version (what an approval request carries)', () => {
  const parse = (r: unknown) => {
    const p = parseAccountRequest(r);
    if (!p.ok) throw new Error('bad fixture');
    return p.request;
  };
  const base = {
    accountEmail: 'dev@example.com',
    accountName: 'dev',
    organizationalUnit: 'Sandbox',
    sso: { email: 'admin@example.com', firstName: 'Ada', lastName: 'Admin' },
  };

  test('an UPDATE reads as the plan reads it: Control Tower changes, then each field', () => {
    const entry = planEntryOf({
      requestId: 'dev@example.com',
      operation: 'UPDATE',
      previous: parse(base),
      request: parse({ ...base, organizationalUnit: 'Workloads' }),
      accountId: '222222222222',
      controlTowerChanges: ['ManagedOrganizationalUnit'],
    });
    expect(formatPlanEntry(entry)).toEqual([
      '  ~ dev <dev@example.com> 222222222222',
      '      update: Control Tower (ManagedOrganizationalUnit), then customizations',
      '      organizationalUnit: "Sandbox" -> "Workloads"',
    ]);
  });

  test('a CREATE shows the name and the OU', () => {
    const entry = planEntryOf({
      requestId: 'dev@example.com',
      operation: 'CREATE',
      request: parse(base),
      accountId: null,
      controlTowerChanges: [],
    });
    expect(formatPlanEntry(entry)).toEqual([
      '  + dev <dev@example.com>',
      '      create: a new account through Control Tower',
      '      accountName: "dev"',
      '      organizationalUnit: "Sandbox"',
    ]);
  });
});
