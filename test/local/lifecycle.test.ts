import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { planChanges } from '../../cli/plan';
import { readMetadata, readRequests } from '../../cli/factory-data';
import { runRerun, selectAccounts } from '../../cli/rerun';
import { createClient } from '../../lambda/shared/clients';
import type { NotificationMessage, WorkflowState } from '../../lambda/shared/contracts';
import { ENV } from '../../lambda/shared/env';
import { AccountRequestInput, AccountRequestSchema } from '../../lambda/shared/schema';
import { CLOSURE_STEP } from '../../lib/workflow/close-account';
import { LocalFactory } from '../../local/engine';
import { cachedTemplate } from '../fixtures/templates';
import type { CfnTemplate } from '../../local/engine/template';

/**
 * The account request lifecycle after the first provisioning, on the local
 * engine: a plan that predicts what the workflow then does, a customizations
 * re-run for one OU, and removal with and without closing the account.
 */

let template: CfnTemplate;
let factory: LocalFactory;

beforeAll(() => {
  template = cachedTemplate({ exampleCustomizations: false });
});

afterEach(async () => {
  await factory?.close();
});

async function start(): Promise<LocalFactory> {
  factory = await LocalFactory.start({
    template,
    virtualTime: true,
    schedules: false,
    landingZone: { seed: 7, controlTower: { createSeconds: 600, updateSeconds: 300, jitter: 0 } },
  });
  return factory;
}

function request(name: string, overrides: Partial<AccountRequestInput> = {}): AccountRequestInput {
  return {
    accountEmail: `${name}@example.com`,
    accountName: name,
    organizationalUnit: 'Sandbox',
    sso: { email: 'platform-team@example.com', firstName: 'Platform', lastName: 'Team' },
    tags: { Owner: 'platform-team' },
    ...overrides,
  };
}

/** Waits until no execution runs and every pipeline execution has ended. */
async function settle(f: LocalFactory): Promise<void> {
  await f.idle();
  await f.landingZone.pipelinesIdle();
  await f.idle();
}

function tables(f: LocalFactory) {
  const env = f.lambda.functionFor('store-metadata').environment;
  return {
    doc: DynamoDBDocumentClient.from(f.ddb),
    requests: env[ENV.REQUESTS_TABLE],
    metadata: env[ENV.METADATA_TABLE],
  };
}

function rerunStateMachineArn(f: LocalFactory): string {
  const outputs = (template as unknown as { Outputs: Record<string, { Value: { Ref: string } }> }).Outputs;
  return f.template.stateMachines.find((s) => s.logicalId === outputs.RerunStateMachineArn.Value.Ref)!.arn;
}

function notifications(f: LocalFactory): NotificationMessage[] {
  const topic = f.lambda.functionFor('notify').environment[ENV.SUCCESS_TOPIC_ARN];
  return f.landingZone
    .messages(topic)
    .map((m) => JSON.parse(m.message))
    .filter((m) => m.kind === undefined) as NotificationMessage[];
}

async function semaphoreHolders(f: LocalFactory): Promise<number> {
  const table = f.lambda.functionFor('acquire-slot').environment[ENV.SEMAPHORE_TABLE];
  const out = await f.ddb.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
  return (out.Items ?? [])
    .map((i) => unmarshall(i))
    .filter((i) => i.sk === 'lock')
    .reduce((n, i) => n + Number(i.count ?? 0), 0);
}

test('plan shows all five kinds, and deploying it runs exactly those operations', async () => {
  const f = await start();
  const deployed = ['steady', 'moving', 'retagged', 'leaving'].map((n) => request(n));
  for (const r of deployed) await f.submit(r);
  await settle(f);
  expect(f.executions().map((e) => e.status)).toEqual(Array(4).fill('SUCCEEDED'));

  const desired = [
    request('steady'),
    request('moving', { organizationalUnit: 'Workloads' }),
    request('retagged', { tags: { Owner: 'data-team' } }),
    request('newcomer'),
  ];
  const { doc, requests, metadata } = tables(f);
  const plan = planChanges(
    desired.map((r) => ({ requestId: r.accountEmail, request: AccountRequestSchema.parse(r) })),
    await readRequests(doc, requests),
    await readMetadata(doc, metadata),
  );
  const kinds = Object.fromEntries(plan.entries.map((e) => [e.requestId.split('@')[0], e.kind]));
  expect(kinds).toEqual({
    newcomer: 'create',
    moving: 'update',
    retagged: 'customize',
    leaving: 'remove',
    steady: 'unchanged',
  });
  expect(plan.entries.find((e) => e.kind === 'update')!.controlTowerChanges).toEqual([
    'ManagedOrganizationalUnit',
  ]);

  // Deploy: write what changed, remove what is gone.
  const before = f.executions().length;
  for (const r of desired.slice(1)) await f.submit(r);
  await f.remove('leaving@example.com');
  await settle(f);

  const operations = Object.fromEntries(
    f
      .executions()
      .slice(before)
      .map((e) => {
        const state = e.output as WorkflowState;
        return [e.input && (e.input as WorkflowState).requestId.split('@')[0], state?.validation?.operation];
      }),
  );
  expect(operations).toEqual({
    newcomer: 'CREATE',
    moving: 'UPDATE',
    retagged: 'CUSTOMIZE',
    leaving: 'REMOVE',
  });
  expect(f.landingZone.account('moving@example.com')!.ouName).toBe('Workloads');
  expect(f.landingZone.account('retagged@example.com')!.tags.Owner).toBe('data-team');

  // After the deploy, the same files plan nothing.
  const again = planChanges(
    desired.map((r) => ({ requestId: r.accountEmail, request: AccountRequestSchema.parse(r) })),
    await readRequests(doc, requests),
    await readMetadata(doc, metadata),
  );
  expect(again.counts).toEqual({ create: 0, update: 0, customize: 0, remove: 0, unchanged: 4 });
});

test('a re-run for one OU starts pipelines for that OU only, with no Control Tower operation', async () => {
  const f = await start();
  const sandbox = ['sbx-a', 'sbx-b', 'sbx-c'].map((n) =>
    request(n, { customizationsName: n === 'sbx-a' ? 'security-baseline' : undefined }),
  );
  const workloads = ['wl-a', 'wl-b'].map((n) => request(n, { organizationalUnit: 'Workloads' }));
  for (const r of [...sandbox, ...workloads]) await f.submit(r);
  await settle(f);

  const { doc, metadata } = tables(f);
  const accounts = await readMetadata(doc, metadata);
  const selected = selectAccounts(accounts, { ous: ['Sandbox'] });
  expect(selected.map((m) => m.accountName).sort()).toEqual(['sbx-a', 'sbx-b', 'sbx-c']);

  const operationsBefore = f.landingZone.controlTowerOperations.length;
  const pipelineRunsBefore = f.landingZone.pipelineExecutions.length;
  const run = await runRerun(
    createClient(SFNClient),
    rerunStateMachineArn(f),
    selected.map((m) => m.accountId),
    {
      name: 'rerun-sandbox',
      pollMs: 10,
    },
  );
  await settle(f);

  expect(run.status).toBe('SUCCEEDED');
  expect(run.results.map((r) => r.outcome)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
  const newRuns = f.landingZone.pipelineExecutions.slice(pipelineRunsBefore);
  expect(newRuns.map((e) => e.pipelineName).sort()).toEqual(
    selected.map((m) => `account-customizations-${m.accountId}`).sort(),
  );
  expect(newRuns.map((e) => e.status)).toEqual(['Succeeded', 'Succeeded', 'Succeeded']);
  expect(f.landingZone.controlTowerOperations).toHaveLength(operationsBefore);
  // The account customizations of sbx-a are still in its pipeline (brought up to date from its metadata).
  const sbxA = selected.find((m) => m.accountName === 'sbx-a')!;
  const pipeline = f.landingZone.pipelines.find((p) => p.name.endsWith(sbxA.accountId))!;
  expect(pipeline.declaration.stages!.map((s) => s.name)).toEqual(['Source', 'Global', 'Account']);
  // No provisioning execution ran for the re-run.
  expect(f.executions()).toHaveLength(5);
});

test('a re-run reports each account: a failed pipeline, an account not managed, a success', async () => {
  const f = await start();
  await f.submit(request('fine'));
  // The customizations source has no accounts/no-such-folder/: this account's pipeline fails.
  await f.submit(request('broken', { customizationsName: 'no-such-folder' }));
  await settle(f);
  const fine = f.landingZone.account('fine@example.com')!.id;
  const broken = f.landingZone.account('broken@example.com')!.id;
  const run = await runRerun(
    createClient(SFNClient),
    rerunStateMachineArn(f),
    [broken, '999999999999', fine],
    {
      name: 'rerun-mixed',
      pollMs: 10,
    },
  );
  expect(run.status).toBe('SUCCEEDED');
  expect(run.results).toEqual([
    expect.objectContaining({ accountId: broken, outcome: 'FAILED', error: 'CustomizationsFailed' }),
    expect.objectContaining({ accountId: '999999999999', outcome: 'SKIPPED' }),
    expect.objectContaining({ accountId: fine, outcome: 'SUCCEEDED' }),
  ]);
  expect(run.results[0]).toMatchObject({ cause: 'The customizations pipeline execution ended Failed' });
});

test('removal: the account leaves management; it is closed only with closeOnRemoval, through the semaphore', async () => {
  const f = await start();
  await f.submit(request('keeper'));
  await f.submit(request('closer', { closeOnRemoval: true }));
  await settle(f);
  const keeper = f.landingZone.account('keeper@example.com')!;
  const closer = f.landingZone.account('closer@example.com')!;
  expect(f.landingZone.pipelines.map((p) => p.name).sort()).toEqual(
    [`account-customizations-${closer.id}`, `account-customizations-${keeper.id}`].sort(),
  );

  const before = f.executions().length;
  await f.remove('keeper@example.com');
  await f.remove('closer@example.com');
  await settle(f);

  const removals = f.executions().slice(before);
  expect(removals.map((e) => e.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  const byName = Object.fromEntries(
    removals.map((e) => [(e.input as WorkflowState).requestId.split('@')[0], e]),
  );

  // In the emulated organization: the one account stays open, the other is closing (or closed).
  expect(f.landingZone.account(keeper.id)!.status).toBe('ACTIVE');
  expect(['PENDING_CLOSURE', 'SUSPENDED']).toContain(f.landingZone.account(closer.id)!.status);
  // Closure is a Control Tower operation: a slot, a termination, and no slot held afterwards.
  expect(byName.closer.transitionsByState[CLOSURE_STEP.ACQUIRE_SLOT]).toBe(1);
  expect(byName.keeper.transitionsByState[CLOSURE_STEP.ACQUIRE_SLOT]).toBeUndefined();
  const terminations = f.landingZone.controlTowerOperations.filter((o) => o.type === 'TERMINATE');
  expect(terminations.map((o) => o.email)).toEqual(['closer@example.com']);
  expect(await semaphoreHolders(f)).toBe(0);

  // Both leave management: metadata REMOVED, pipeline deleted, a REMOVED notification.
  const { doc, metadata } = tables(f);
  const items = await readMetadata(doc, metadata);
  expect(items.map((m) => [m.accountName, m.status, m.lastOperation])).toEqual([
    ['closer', 'REMOVED', 'REMOVE'],
    ['keeper', 'REMOVED', 'REMOVE'],
  ]);
  expect(f.landingZone.pipelines).toEqual([]);
  const removed = notifications(f).filter((n) => n.outcome === 'REMOVED');
  expect(removed.map((n) => [n.requestId, n.accountId]).sort()).toEqual(
    [
      ['closer@example.com', closer.id],
      ['keeper@example.com', keeper.id],
    ].sort(),
  );
});
