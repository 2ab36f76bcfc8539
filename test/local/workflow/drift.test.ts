import { cachedTemplate } from '../../fixtures/templates';
import type { CfnTemplate } from '../../../local/engine/template';
import type { LocalFactory } from '../../../local/engine';
import { ENV } from '../../../lambda/shared/env';
import type { DriftReport } from '../../../lambda/drift-check';
import { request, startFactory } from './harness';

/**
 * The drift check on the local engine: a provisioned account changed by hand, one item at
 * a time, as the emulated landing zone lets a person change it; the check (run as its own
 * role, IAM enforced) reports exactly that item, and a re-run of the request reconciles it.
 */

let template: CfnTemplate;
let factory: LocalFactory;
let accountId: string;

beforeAll(() => {
  template = cachedTemplate({
    exampleCustomizations: false,
    stackProps: { factory: { driftDetection: {} } },
  });
});

beforeEach(async () => {
  factory = await startFactory(template);
  await factory.submit(request('drifty', { tags: { owner: 'team-a', tier: 'gold' } }));
  await factory.idle();
  await factory.landingZone.pipelinesIdle();
  await factory.idle();
  accountId = factory.landingZone.account('drifty@example.com')!.id;
});

afterEach(async () => {
  await factory?.close();
});

async function drift(input: Record<string, unknown> = {}): Promise<DriftReport> {
  const fn = factory.lambda.functionFor('drift-check');
  return (await factory.lambda.invoke(fn.name, input)) as DriftReport;
}

async function items(): Promise<string[]> {
  const report = await drift();
  expect(report.accounts.map((a) => a.accountId)).toEqual([accountId]);
  return report.accounts[0].findings.map((f) => f.item);
}

async function rerun(): Promise<void> {
  await factory.submit(request('drifty', { tags: { owner: 'team-a', tier: 'gold' } }));
  await factory.idle();
  await factory.landingZone.pipelinesIdle();
  await factory.idle();
  expect(factory.executions().at(-1)!.status).toBe('SUCCEEDED');
}

const byHand = () => factory.landingZone.byHand;

test('a freshly provisioned account has no drift', async () => {
  expect(await items()).toEqual([]);
});

test('an account moved to another OU by hand: OU and Control Tower baseline drift, fixed by a re-run', async () => {
  byHand().moveAccount(accountId, 'Workloads');

  const report = await drift();
  expect(report.accounts[0].findings).toEqual([
    expect.objectContaining({ item: 'organizationalUnit', actual: factory.landingZone.ou('Workloads')!.id }),
    expect.objectContaining({ item: 'controlTowerBaseline', expected: 'IN_SYNC' }),
  ]);

  await rerun();
  const last = factory.executions().at(-1)!.output as { validation: { operation: string } };
  expect(last.validation.operation).toBe('UPDATE');
  expect(factory.landingZone.account(accountId)!.ouName).toBe('Sandbox');
  expect(await items()).toEqual([]);
});

test('a renamed account drifts in its name; a re-run renames it back', async () => {
  byHand().renameAccount(accountId, 'renamed-by-hand');
  expect(await items()).toEqual(['accountName']);
  await rerun();
  expect(factory.landingZone.account(accountId)!.name).toBe('drifty');
  expect(await items()).toEqual([]);
});

test('a changed email is reported', async () => {
  byHand().changeEmail(accountId, 'someone-else@example.com');
  const report = await drift();
  expect(report.accounts[0].findings).toEqual([
    { item: 'email', expected: 'drifty@example.com', actual: 'someone-else@example.com' },
  ]);
});

test('only the tags the factory manages count; a re-run restores them', async () => {
  byHand().editTags(accountId, { owner: 'someone', 'added-by-hand': 'x' });
  expect(await items()).toEqual(['tags']);
  const finding = (await drift()).accounts[0].findings[0];
  expect(finding).toEqual({ item: 'tags', expected: 'owner=team-a', actual: 'owner=someone' });

  byHand().editTags(accountId, { tier: undefined });
  expect((await drift()).accounts[0].findings[0].actual).toBe('owner=someone, tier=(absent)');

  await rerun();
  expect(await items()).toEqual([]);
  expect(factory.landingZone.account(accountId)!.tags['added-by-hand']).toBe('x');
});

test('a deleted execution role, then a changed trust policy, each fixed by a re-run', async () => {
  byHand().deleteRole(accountId, 'AWSAFTExecution');
  expect(await items()).toEqual(['executionRole']);
  await rerun();
  expect(await items()).toEqual([]);

  byHand().setTrustPolicy(accountId, 'AWSAFTExecution', {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::333333333333:root' }, Action: 'sts:AssumeRole' },
    ],
  });
  expect(await items()).toEqual(['executionRoleTrust']);
  await rerun();
  expect(await items()).toEqual([]);
});

test('a deleted account pipeline is reported and re-created by a re-run', async () => {
  const prefix = factory.lambda.functionFor('drift-check').environment[ENV.PIPELINE_NAME_PREFIX];
  byHand().deletePipeline(`${prefix}-${accountId}`);
  expect(await items()).toEqual(['accountPipeline']);
  await rerun();
  expect(await items()).toEqual([]);
});

test('baseline drift marked in Control Tower is reported and cleared by a re-run (an update enrolls again)', async () => {
  byHand().markBaselineDrift(accountId);
  expect(await items()).toEqual(['controlTowerBaseline']);
  await rerun();
  const last = factory.executions().at(-1)!.output as {
    validation: { operation: string; controlTowerChanges: string[] };
  };
  expect(last.validation).toMatchObject({
    operation: 'UPDATE',
    controlTowerChanges: ['ControlTowerBaseline'],
  });
  expect(await items()).toEqual([]);
});

test('the scheduled run publishes only when the drift set changes', async () => {
  const topic = factory.lambda.functionFor('drift-check').environment[ENV.DRIFT_TOPIC_ARN];
  const published = () => factory.landingZone.messages(topic).filter((m) => /drift/i.test(m.subject ?? ''));

  expect((await drift({ record: true })).changed).toBe(false);
  expect(published()).toHaveLength(0);

  byHand().renameAccount(accountId, 'renamed-by-hand');
  expect((await drift({ record: true })).changed).toBe(true);
  expect(published()).toHaveLength(1);
  expect(published()[0].message).toContain(`${accountId} drifty`);
  expect(published()[0].message).toContain('accountName: expected drifty, found renamed-by-hand');

  expect((await drift({ record: true })).changed).toBe(false);
  expect(published()).toHaveLength(1);

  await rerun();
  expect((await drift({ record: true })).changed).toBe(true);
  expect(published()).toHaveLength(2);
  expect(published()[1].subject).toBe('Account factory: drift cleared');
});

test('an unknown account is refused by name, and nothing is checked', async () => {
  await expect(drift({ accounts: ['nobody@example.com'] })).rejects.toMatchObject({
    name: 'UnknownDriftTarget',
  });
  const report = await drift({ ous: ['Sandbox'] });
  expect(report.accounts).toHaveLength(1);
});
