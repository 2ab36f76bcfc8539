import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { CustomizationsNotification, NotificationMessage } from '../../lambda/shared/contracts';
import { ENV } from '../../lambda/shared/env';
import type { AccountRequestInput } from '../../lambda/shared/schema';
import { LocalFactory } from '../../local/engine';
import { cachedTemplate } from '../fixtures/templates';
import type { CfnTemplate } from '../../local/engine/template';

/**
 * Account customizations on the local engine: each account's pipeline runs its
 * global and account folders (CDK apps synthesized for the account), the outcome
 * is recorded in the metadata and notified, and at most
 * maxConcurrentCustomizations pipelines run at once.
 */
const LIMIT = 2;
let template: CfnTemplate;
let dir: string;
let factory: LocalFactory | undefined;

/** A customization that cannot synthesize: the budget amount is invalid. */
const BROKEN_APP = `import { App, Stack } from 'aws-cdk-lib';
const app = new App();
class Broken extends Stack {}
new Broken(app, 'Broken', { env: { account: app.node.tryGetContext('ACCOUNT_ID') } });
throw new Error('budget amount must be positive, got -1');
`;

beforeAll(() => {
  template = cachedTemplate({
    exampleCustomizations: false,
    stackProps: { factory: { maxConcurrentCustomizations: LIMIT } },
  });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'customizations-'));
  fs.cpSync(path.join(__dirname, '..', '..', 'examples', 'customizations'), dir, { recursive: true });
  fs.mkdirSync(path.join(dir, 'accounts', 'broken'));
  fs.writeFileSync(
    path.join(dir, 'accounts', 'broken', 'cdk.json'),
    JSON.stringify({ app: 'npx tsx app.ts' }),
  );
  fs.writeFileSync(path.join(dir, 'accounts', 'broken', 'app.ts'), BROKEN_APP);
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  await factory?.close();
  factory = undefined;
});

async function start(): Promise<LocalFactory> {
  factory = await LocalFactory.start({
    template,
    virtualTime: true,
    schedules: false,
    landingZone: { seed: 3, controlTower: { createSeconds: 600, updateSeconds: 300, jitter: 0 } },
    customizations: { dir },
  });
  return factory;
}

function request(name: string, overrides: Partial<AccountRequestInput> = {}): AccountRequestInput {
  return {
    accountEmail: `${name}@example.com`,
    accountName: name,
    organizationalUnit: 'Sandbox',
    sso: { email: 'platform-team@example.com', firstName: 'Platform', lastName: 'Team' },
    ...overrides,
  };
}

function messages(
  f: LocalFactory,
  which: 'success' | 'failure',
): (NotificationMessage | CustomizationsNotification)[] {
  const env = f.lambda.functionFor('notify').environment;
  const topic = which === 'success' ? env[ENV.SUCCESS_TOPIC_ARN] : env[ENV.FAILURE_TOPIC_ARN];
  return f.landingZone.messages(topic).map((m) => JSON.parse(m.message));
}

const customizationMessages = (f: LocalFactory, which: 'success' | 'failure') =>
  messages(f, which).filter(
    (m): m is CustomizationsNotification => 'kind' in m && m.kind === 'CUSTOMIZATIONS',
  );

async function metadata(f: LocalFactory, accountId: string): Promise<Record<string, any>> {
  const table = f.lambda.functionFor('store-metadata').environment[ENV.METADATA_TABLE];
  const out = await f.ddb.send(
    new GetItemCommand({ TableName: table, Key: marshall({ accountId }), ConsistentRead: true }),
  );
  return unmarshall(out.Item!);
}

async function customizationsLock(f: LocalFactory): Promise<Record<string, any>> {
  const table = f.lambda.functionFor('customizations-result').environment[ENV.CUSTOMIZATIONS_SEMAPHORE_TABLE];
  const out = await f.ddb.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
  return unmarshall((out.Items ?? []).find((i) => i.sk?.S === 'lock') ?? marshall({ count: 0 }));
}

test('a successful run: global and account CDK apps synthesized for the account, the outcome recorded and notified, the slot freed', async () => {
  const f = await start();
  await f.submit(request('sandbox-ok', { customizationsName: 'sandbox' }));
  await f.customizationsIdle();

  const account = f.landingZone.account('sandbox-ok@example.com')!;
  expect(f.executions()[0].status).toBe('SUCCEEDED');
  const builds = f.customizations!.builds.filter((b) => b.accountId === account.id);
  expect(builds.map((b) => [b.stage, b.path, b.kind, b.ok])).toEqual([
    ['Global', 'global', 'cdk', true],
    ['Account', 'accounts/sandbox', 'cdk', true],
  ]);
  expect(builds.map((b) => b.stacks)).toEqual([['AccountBaseline'], ['SandboxCustomizations']]);

  const [run] = f.landingZone.pipelineExecutions;
  expect(run.status).toBe('Succeeded');
  expect(run.stages.map((s) => [s.name, s.status])).toEqual([
    ['Source', 'Succeeded'],
    ['Global', 'Succeeded'],
    ['Account', 'Succeeded'],
  ]);
  expect((await metadata(f, account.id)).customizations).toMatchObject({
    status: 'SUCCEEDED',
    pipelineExecutionId: run.id,
    pipelineName: `account-customizations-${account.id}`,
  });
  expect(customizationMessages(f, 'success')).toEqual([
    expect.objectContaining({ outcome: 'SUCCEEDED', accountId: account.id, accountName: 'sandbox-ok' }),
  ]);
  expect(customizationMessages(f, 'failure')).toEqual([]);
  const lock = await customizationsLock(f);
  expect(lock.count).toBe(0);
  expect(Object.keys(lock).filter((k) => k.startsWith('codepipeline:') || k.startsWith('arn:'))).toEqual([]);
});

test('a customization that fails to synthesize fails the Account stage: recorded, and the failure notification names the stage', async () => {
  const f = await start();
  await f.submit(request('sandbox-broken', { customizationsName: 'broken' }));
  await f.customizationsIdle();

  const account = f.landingZone.account('sandbox-broken@example.com')!;
  // The request itself succeeded: the account is ready, its customizations failed.
  expect(f.executions()[0].status).toBe('SUCCEEDED');
  const [failure] = customizationMessages(f, 'failure');
  expect(failure).toMatchObject({
    outcome: 'FAILED',
    accountId: account.id,
    failedStage: 'Account',
    error: { name: 'CustomizationsFailed', stage: 'Account' },
  });
  expect(failure.error!.cause).toMatch(/budget amount must be positive/);
  const recorded = (await metadata(f, account.id)).customizations;
  expect(recorded).toMatchObject({ status: 'FAILED', failedStage: 'Account' });
  expect(recorded.message).toMatch(/budget amount must be positive/);
  expect(customizationMessages(f, 'success')).toEqual([]);
  expect((await customizationsLock(f)).count).toBe(0);
});

test('an account request naming customizations that do not exist fails its Account stage', async () => {
  const f = await start();
  await f.submit(request('sandbox-typo', { customizationsName: 'sandbx' }));
  await f.customizationsIdle();
  const [failure] = customizationMessages(f, 'failure');
  expect(failure).toMatchObject({ failedStage: 'Account' });
  expect(failure.error!.cause).toMatch(/no accounts\/sandbx\/ folder/);
});

test(`at most ${LIMIT} pipelines run at once; the others start as slots free, every one runs; an edit of tags only runs the pipeline again`, async () => {
  const f = await start();
  const names = ['bound-1', 'bound-2', 'bound-3', 'bound-4', 'bound-5'];
  for (const n of names) await f.submit(request(n, { customizationsName: 'sandbox' }));
  await f.customizationsIdle();

  const runs = f.landingZone.pipelineExecutions;
  expect(runs).toHaveLength(names.length);
  expect(runs.every((r) => r.status === 'Succeeded')).toBe(true);
  const edges = runs.flatMap((r) => [
    { at: r.start, d: 1 },
    { at: r.updated, d: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.d - b.d);
  let running = 0;
  let peak = 0;
  for (const e of edges) peak = Math.max(peak, (running += e.d));
  expect(peak).toBe(LIMIT);
  expect(customizationMessages(f, 'success')).toHaveLength(names.length);

  await f.submit(request('bound-1', { customizationsName: 'sandbox', tags: { owner: 'team-b' } }));
  await f.customizationsIdle();
  const account = f.landingZone.account('bound-1@example.com')!;
  const own = f.landingZone.pipelineExecutions.filter((r) => r.pipelineName.endsWith(account.id));
  expect(own).toHaveLength(2);
  expect((await metadata(f, account.id)).customizations.pipelineExecutionId).toBe(own[1].id);
  expect((await customizationsLock(f)).count).toBe(0);
});
