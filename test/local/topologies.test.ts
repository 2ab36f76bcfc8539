import type { LocalFactory } from '../../local/engine';
import { FACTORY_ACCOUNT, MANAGEMENT_ACCOUNT, type SynthesizedTemplate } from '../../local/engine/deployment';
import { cachedTemplate } from '../fixtures/templates';
import type { CfnTemplate } from '../../local/engine/template';
import { notifications, request, startFactory } from './workflow/harness';

/**
 * The factory where it is deployed: in a vending account reaching the Control Tower
 * management account through its management role (delegated, as AWS recommends for
 * AFT), or in the management account itself. The emulator enforces the synthesized
 * IAM, the roles' trust and Account Factory's portfolio access, so these runs fail as
 * AWS would when the template lacks a permission.
 */

let factory: LocalFactory | undefined;
afterEach(async () => {
  await factory?.close();
  factory = undefined;
});

const templates: Record<'delegated' | 'management', SynthesizedTemplate> = {} as never;
beforeAll(() => {
  templates.delegated = cachedTemplate({ topology: 'delegated', exampleCustomizations: false });
  templates.management = cachedTemplate({ topology: 'management', exampleCustomizations: false });
});

/** A copy of a deployment with the management account's (or the only) template changed. */
function withTemplate(
  base: SynthesizedTemplate,
  which: 'factory' | 'management',
  change: (t: CfnTemplate) => void,
): SynthesizedTemplate {
  const deployment = structuredClone(base.localDeployment!);
  const target = which === 'factory' ? deployment.factory : deployment.management!;
  change(target.template);
  return { ...deployment.factory.template, localDeployment: deployment };
}

describe.each(['delegated', 'management'] as const)('the %s topology', (topology) => {
  test('requests are vended: accounts created, execution roles made through the management account, pipelines started', async () => {
    factory = await startFactory(templates[topology]);
    const names = ['topo-a', 'topo-b', 'topo-c'];
    for (const n of names) await factory.submit(request(`${topology}-${n}`));
    await factory.idle();

    expect(factory.executions().map((e) => e.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    for (const n of names) {
      const account = factory.landingZone.account(`${topology}-${n}@example.com`)!;
      expect(factory.landingZone.roles(account.id).map((r) => r.name)).toContain('AWSAFTExecution');
    }
    expect(notifications(factory, 'success')).toHaveLength(3);
    // The one principal that calls Service Catalog is associated with the portfolio at deploy time.
    const expectedRole =
      topology === 'delegated'
        ? `arn:aws:iam::${MANAGEMENT_ACCOUNT}:role/AccountFactoryManagement`
        : expect.stringMatching(new RegExp(`^arn:aws:iam::${MANAGEMENT_ACCOUNT}:role/`));
    expect(factory.landingZone.portfolioPrincipals).toEqual(expect.arrayContaining([expectedRole]));
    // Control Tower's lifecycle events reach the factory's event function: forwarded from the
    // management account's bus in the delegated topology, on the factory's own bus otherwise.
    await factory.landingZone.controlTowerEventsIdle();
    await factory.idle();
    expect(factory.landingZone.controlTowerEvents.map((e) => e.detail.eventName)).toEqual([
      'CreateManagedAccount',
      'CreateManagedAccount',
      'CreateManagedAccount',
    ]);
    const handled = factory.bus.delivered.filter((d) => d.event.source === 'aws.controltower');
    expect(handled.map((d) => d.ok)).toEqual([true, true, true]);
    expect(handled.every((d) => /:function:.*ControlTowerEventsEvent/.test(d.target))).toBe(true);
    const forwarded = factory.managementBus?.delivered ?? [];
    expect(forwarded).toHaveLength(topology === 'delegated' ? 3 : 0);
    expect(forwarded.every((d) => d.ok && d.target.endsWith(':event-bus/default'))).toBe(true);
  });
});

test('delegated: the factory runs in the vending account, apart from the management account', () => {
  const deployment = templates.delegated.localDeployment!;
  expect(deployment.factory.target.account).toBe(FACTORY_ACCOUNT);
  expect(deployment.management!.target.account).toBe(MANAGEMENT_ACCOUNT);
  // The management role trusts the factory's account only through roles under /account-factory/.
  const role = Object.values(deployment.management!.template.Resources).find(
    (r) => r.Type === 'AWS::IAM::Role' && r.Properties?.RoleName === 'AccountFactoryManagement',
  );
  expect(role?.Properties?.AssumeRolePolicyDocument.Statement).toEqual([
    expect.objectContaining({
      Principal: { AWS: expect.objectContaining({ 'Fn::Join': expect.anything() }) },
      Condition: {
        ArnLike: {
          'aws:PrincipalArn': expect.objectContaining({
            'Fn::Join': ['', expect.arrayContaining([`:iam::${FACTORY_ACCOUNT}:role/account-factory/*`])],
          }),
        },
      },
    }),
  ]);
});

test('a permission removed from the template fails the run with AccessDenied naming the action', async () => {
  // Validate request may no longer assume the management role.
  const template = withTemplate(templates.delegated, 'factory', (t) => {
    const validateRole = Object.entries(t.Resources).find(
      ([id, r]) => r.Type === 'AWS::IAM::Role' && /ValidateRequest/.test(id),
    )![0];
    for (const r of Object.values(t.Resources)) {
      if (r.Type !== 'AWS::IAM::Policy') continue;
      if (!JSON.stringify(r.Properties!.Roles).includes(validateRole)) continue;
      r.Properties!.PolicyDocument.Statement = r.Properties!.PolicyDocument.Statement.filter(
        (s: { Action: unknown }) => s.Action !== 'sts:AssumeRole',
      );
    }
  });
  factory = await startFactory(template);
  await factory.submit(request('denied'));
  await factory.idle();

  const [execution] = factory.executions();
  expect(execution.status).toBe('FAILED');
  expect(execution.error).toBe('AccessDenied');
  expect(execution.cause).toContain(
    'is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/AccountFactoryManagement',
  );
  const [failure] = notifications(factory, 'failure');
  expect(failure).toMatchObject({ requestId: 'denied@example.com', error: { name: 'AccessDenied' } });
  expect(factory.landingZone.account('denied@example.com')).toBeUndefined();
});

test('without the portfolio association the Account Factory product is invisible and the request fails before Control Tower is asked', async () => {
  const template = withTemplate(templates.delegated, 'management', (t) => {
    for (const [id, r] of Object.entries(t.Resources)) {
      if (r.Type === 'Custom::AccountFactoryPortfolioAccess') delete t.Resources[id];
    }
  });
  factory = await startFactory(template);
  expect(factory.landingZone.portfolioPrincipals).not.toContain(
    `arn:aws:iam::${MANAGEMENT_ACCOUNT}:role/AccountFactoryManagement`,
  );
  await factory.submit(request('no-portfolio'));
  await factory.idle();

  const [execution] = factory.executions();
  expect(execution.status).toBe('FAILED');
  expect(execution.error).toBe('AccountFactoryProductNotFound');
  expect(execution.cause).toContain('visible to this role');
  expect(factory.landingZone.controlTowerOperations).toHaveLength(0);
  expect(notifications(factory, 'failure')).toHaveLength(1);
});
