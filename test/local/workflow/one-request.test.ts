import { cachedTemplate } from '../../fixtures/templates';
import type { CfnTemplate } from '../../../local/engine/template';
import type { LocalFactory } from '../../../local/engine';
import { metadataItem, notifications, request, startFactory } from './harness';

let template: CfnTemplate;
let factory: LocalFactory;

beforeAll(() => {
  template = cachedTemplate({ exampleCustomizations: true });
});

afterEach(async () => {
  await factory?.close();
});

test('one request end to end: account in its OU with tags, metadata, execution role, pipeline started, one success notification', async () => {
  factory = await startFactory(template);

  await factory.submit(
    request('solo', { organizationalUnit: 'Workloads', tags: { owner: 'team-a', env: 'dev' } }),
  );
  await factory.idle();

  const [execution] = factory.executions();
  expect(execution.status).toBe('SUCCEEDED');

  const account = factory.landingZone.account('solo@example.com');
  expect(account).toMatchObject({ name: 'solo', ouName: 'Workloads', status: 'ACTIVE' });
  expect(account!.tags).toEqual({ owner: 'team-a', env: 'dev' });
  expect(factory.landingZone.accountsCreatedByEmail).toEqual({ 'solo@example.com': 1 });

  const item = await metadataItem(factory, account!.id);
  expect(item).toMatchObject({
    accountId: account!.id,
    email: 'solo@example.com',
    accountName: 'solo',
    status: 'ACTIVE',
    lastOperation: 'CREATE',
    lastOutcome: 'SUCCEEDED',
    organizationalUnit: { name: 'Workloads' },
  });

  const roles = factory.landingZone.roles(account!.id).map((r) => r.name);
  expect(roles).toEqual(
    expect.arrayContaining(['AWSControlTowerExecution', 'AWSAFTExecution', 'audit-readonly']),
  );

  const pipelines = factory.landingZone.pipelines.map((p: { name: string }) => p.name);
  expect(pipelines).toEqual([`account-customizations-${account!.id}`]);
  expect(factory.landingZone.pipelineExecutions).toHaveLength(1);

  const success = notifications(factory, 'success');
  expect(success).toHaveLength(1);
  expect(success[0]).toMatchObject({
    outcome: 'SUCCEEDED',
    operation: 'CREATE',
    accountId: account!.id,
    requestId: 'solo@example.com',
  });
  expect(notifications(factory, 'failure')).toHaveLength(0);
});

test('without a provisioning customizations state machine the step is a no-op', async () => {
  factory = await startFactory(cachedTemplate({ exampleCustomizations: false }));

  await factory.submit(request('plain'));
  await factory.idle();

  const [execution] = factory.executions();
  expect(execution.status).toBe('SUCCEEDED');
  expect((execution.output as { provisioningCustomizations: unknown }).provisioningCustomizations).toEqual({
    skipped: true,
  });
  const account = factory.landingZone.account('plain@example.com')!;
  expect(factory.landingZone.roles(account.id).map((r) => r.name)).not.toContain('audit-readonly');
  // Only the factory's own state machine ran: no child execution.
  expect(factory.stepFunctions.list()).toHaveLength(1);
});

test('with provisioning customizations, the user state machine runs with the account context', async () => {
  factory = await startFactory(template);

  await factory.submit(request('custom', { customFields: { budgetUsd: '100' } }));
  await factory.idle();

  const children = factory.stepFunctions.list().filter((e) => e.stateMachineArn !== factory.stateMachineArn);
  expect(children).toHaveLength(1);
  const account = factory.landingZone.account('custom@example.com')!;
  expect(children[0].status).toBe('SUCCEEDED');
  expect(children[0].input).toMatchObject({
    requestId: 'custom@example.com',
    operation: 'CREATE',
    account: { accountId: account.id, email: 'custom@example.com', name: 'custom' },
    organizationalUnit: { name: 'Sandbox' },
    request: { customFields: { budgetUsd: '100' } },
    executionRoleArn: `arn:aws:iam::${account.id}:role/AWSAFTExecution`,
  });
});

test('a failing provisioning customization is reported, not swallowed', async () => {
  factory = await startFactory(template, {
    lambdaFaults: {
      crash: [{ handler: 'examples/provisioning-customizations/handler', times: 50, when: 'before' }],
    },
  });

  await factory.submit(request('broken-custom'));
  await factory.idle();

  const [execution] = factory.executions();
  expect(execution.status).toBe('FAILED');
  expect(execution.transitionsByState['Run account customizations']).toBeUndefined();
  const [failure] = notifications(factory, 'failure');
  expect(failure).toMatchObject({
    outcome: 'FAILED',
    requestId: 'broken-custom@example.com',
    error: { name: 'States.TaskFailed' },
  });
  expect(notifications(factory, 'success')).toHaveLength(0);
});
