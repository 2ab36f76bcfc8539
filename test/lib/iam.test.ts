import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { ExampleProvisioningCustomizations } from '../../examples/provisioning-customizations';
import { AccountFactory, AccountFactoryProps } from '../../lib/account-factory';
import { AccountRequest } from '../../lib/account-request';
import { actionsOf, identityStatements, newStack, render, Statement, statementsOfFunction } from './helpers';

const ALL_FEATURES: AccountFactoryProps['featureOptions'] = {
  deleteDefaultVpcs: true,
  enterpriseSupport: true,
  cloudTrailDataEvents: { trailName: 'org-trail' },
};

function configurations(): { name: string; template: Template }[] {
  const out: { name: string; template: Template }[] = [];
  {
    const { stack } = newStack();
    new AccountFactory(stack, 'Factory');
    out.push({ name: 'defaults', template: Template.fromStack(stack) });
  }
  {
    const { stack } = newStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const custom = new ExampleProvisioningCustomizations(stack, 'Custom', { encryptionKey: key });
    const factory = new AccountFactory(stack, 'Factory', {
      encryptionKey: key,
      featureOptions: ALL_FEATURES,
      provisioningCustomizations: custom.stateMachine,
    });
    new AccountRequest(stack, 'Request', {
      factory,
      accountEmail: 'sandbox-01@example.com',
      accountName: 'sandbox-01',
      organizationalUnit: 'Sandbox',
      sso: { email: 'platform-team@example.com', firstName: 'Platform', lastName: 'Team' },
    });
    out.push({ name: 'key, features, customizations, a request', template: Template.fromStack(stack) });
  }
  {
    const { stack } = newStack();
    new AccountFactory(stack, 'Factory', {
      featureOptions: ALL_FEATURES,
      controlTowerManagementRole: iam.Role.fromRoleArn(
        stack,
        'Mgmt',
        'arn:aws:iam::222222222222:role/factory-management',
      ),
    });
    out.push({ name: 'management role', template: Template.fromStack(stack) });
  }
  return out;
}

/** Actions that have no resource-level permissions: the only ones allowed on `*`. */
const UNSCOPED_ACTIONS = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
  'dynamodb:ListStreams',
  'organizations:ListRoots',
  'organizations:ListOrganizationalUnitsForParent',
  'organizations:DescribeOrganizationalUnit',
  'organizations:ListAccounts',
  'organizations:DescribeAccount',
  'organizations:ListParents',
  'organizations:ListTagsForResource',
  'organizations:TagResource',
  'organizations:UntagResource',
  'controltower:ListEnabledBaselines',
  'servicecatalog:SearchProducts',
  'servicecatalog:ListProvisioningArtifacts',
  'servicecatalog:ListLaunchPaths',
  'servicecatalog:ProvisionProduct',
  'servicecatalog:UpdateProvisionedProduct',
  'servicecatalog:DescribeRecord',
  'servicecatalog:SearchProvisionedProducts',
  'servicecatalog:TerminateProvisionedProduct',
  'organizations:CloseAccount',
  'support:DescribeCases',
  'support:CreateCase',
  // Account Factory's requester creates an account that does not exist yet.
  'organizations:CreateAccount',
  'organizations:DescribeCreateAccountStatus',
  'servicecatalog:ListPortfolios',
  'sso:ListInstances',
]);

describe.each(configurations())('IAM least privilege ($name)', ({ template }) => {
  const statements = identityStatements(template);
  const allows = statements.filter((s) => s.Effect === 'Allow');

  test('no action wildcard anywhere', () => {
    const wildcards = allows.flatMap((s) => s.Action).filter((a) => a.includes('*'));
    expect(wildcards).toEqual([]);
  });

  test('sts:AssumeRole only on the Control Tower / factory execution roles in any account, or the management role', () => {
    const targets = new Set(
      allows.filter((s) => s.Action.includes('sts:AssumeRole')).flatMap((s) => s.Resource.map(render)),
    );
    expect(targets.size).toBeGreaterThan(0);
    for (const target of targets) {
      expect(target).toMatch(
        /^(arn:<AWS::Partition>:iam::\*:role\/(AWSControlTowerExecution|AWSAFTExecution)|arn:aws:iam::222222222222:role\/factory-management|<FactoryControlTowerAccessRole[0-9A-F]+\.Arn>)$/,
      );
    }
    for (const s of allows.filter((x) => x.Action.includes('sts:AssumeRole')))
      expect(s.Action).toEqual(['sts:AssumeRole']);
  });

  test('a `*` resource only for actions without resource-level permissions', () => {
    const onStar = allows.filter((s) => s.Resource.includes('*')).flatMap((s: Statement) => s.Action);
    expect(onStar.filter((a) => !UNSCOPED_ACTIONS.has(a))).toEqual([]);
  });

  test('iam:PassRole only for the pipeline role, to CodePipeline', () => {
    const pass = allows.filter((s) => s.Action.includes('iam:PassRole'));
    expect(pass).toHaveLength(1);
    expect(render(pass[0].Resource[0])).toMatch(/^<FactoryPipelineRole[0-9A-F]+\.Arn>$/);
    expect(pass[0].Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'codepipeline.amazonaws.com' },
    });
  });
});

describe('each function gets the API actions of its own step only', () => {
  const { stack } = newStack();
  new AccountFactory(stack, 'Factory', { featureOptions: ALL_FEATURES });
  const template = Template.fromStack(stack);
  const servicesOf = (handler: string) =>
    [...new Set(actionsOf(statementsOfFunction(template, handler)).map((a) => a.split(':')[0]))].sort();

  test.each([
    // Management-account APIs through the management role (sts:AssumeRole), see below.
    ['validate-request', ['dynamodb', 'logs', 'sts', 'xray']],
    ['provision-account', ['dynamodb', 'logs', 'sts', 'xray']],
    // The Control Tower wait: its waits table, the record through the management role, and
    // the state machine's task tokens (states:SendTask*).
    ['await-control-tower', ['dynamodb', 'logs', 'states', 'sts', 'xray']],
    ['control-tower-event', ['dynamodb', 'logs', 'states', 'sts', 'xray']],
    // The account index: rebuilt from one ListAccounts through the management role.
    ['reconcile-account-index', ['dynamodb', 'logs', 'sts', 'xray']],
    ['fetch-account-id', ['dynamodb', 'logs', 'sts', 'xray']],
    ['store-metadata', ['dynamodb', 'logs', 'xray']],
    ['create-execution-role', ['logs', 'sts', 'xray']],
    ['tag-account', ['dynamodb', 'logs', 'sts', 'xray']],
    ['apply-feature-options', ['logs', 'sts', 'xray']],
    ['create-account-pipeline', ['codepipeline', 'iam', 'logs', 'xray']],
    ['notify', ['dynamodb', 'logs', 'sns', 'xray']],
    ['remove-from-management', ['codepipeline', 'dynamodb', 'logs', 'xray']],
    // dynamodb: marks its semaphore slot with the termination it starts.
    ['close-account', ['dynamodb', 'logs', 'sts', 'xray']],
    ['request-trigger', ['dynamodb', 'logs', 'sns', 'states', 'xray']],
    ['acquire-slot', ['dynamodb', 'logs', 'states', 'xray']],
    ['release-slot', ['dynamodb', 'logs', 'states', 'xray']],
    // servicecatalog: DescribeRecord of the operations marked on slots.
    ['semaphore-cleanup', ['codepipeline', 'dynamodb', 'logs', 'sns', 'states', 'sts', 'xray']],
    ['customizations-result', ['codepipeline', 'dynamodb', 'logs', 'sns', 'states', 'xray']],
  ])('%s', (handler, services) => {
    expect(servicesOf(handler)).toEqual(services);
  });

  test('the management role: only what the management-account steps need', () => {
    const role = Object.entries(template.findResources('AWS::IAM::Role')).find(([id]) =>
      /ControlTowerAccessRole/.test(id),
    )![0];
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes(role),
    );
    const actions = policies
      .flatMap((p) => [p.Properties.PolicyDocument.Statement].flat())
      .flatMap((st: { Action: string | string[] }) => [st.Action].flat());
    expect(actions.sort()).toEqual(
      [
        'organizations:ListRoots',
        'organizations:ListAccounts',
        'organizations:ListOrganizationalUnitsForParent',
        'organizations:DescribeAccount',
        'organizations:DescribeOrganizationalUnit',
        'organizations:ListParents',
        'organizations:ListTagsForResource',
        'organizations:TagResource',
        'organizations:UntagResource',
        'organizations:CloseAccount',
        'organizations:CreateAccount',
        'organizations:DescribeCreateAccountStatus',
        'servicecatalog:SearchProducts',
        'servicecatalog:ListProvisioningArtifacts',
        'servicecatalog:ListLaunchPaths',
        'servicecatalog:ProvisionProduct',
        'servicecatalog:UpdateProvisionedProduct',
        'servicecatalog:TerminateProvisionedProduct',
        'servicecatalog:DescribeRecord',
        'servicecatalog:SearchProvisionedProducts',
        'controltower:ListEnabledBaselines',
        'sts:AssumeRole',
        'support:DescribeCases',
        'support:CreateCase',
        'cloudtrail:GetEventSelectors',
        'cloudtrail:PutEventSelectors',
        'account:GetAlternateContact',
        'account:PutAlternateContact',
        'account:DeleteAlternateContact',
        'account:GetRegionOptStatus',
        'account:EnableRegion',
        'account:DisableRegion',
        'sso:ListInstances',
        'sso:ListPermissionSets',
        'sso:DescribePermissionSet',
        'sso:ListAccountAssignments',
        'sso:CreateAccountAssignment',
        'sso:DeleteAccountAssignment',
        'sso:DescribeAccountAssignmentCreationStatus',
        'sso:DescribeAccountAssignmentDeletionStatus',
        'identitystore:GetGroupId',
        'identitystore:GetUserId',
      ].sort(),
    );
  });

  test('CloudTrail data events: only on the named trail', () => {
    const trail = identityStatements(template).find((s) => s.Action.includes('cloudtrail:PutEventSelectors'));
    expect(render(trail?.Resource[0])).toBe(
      'arn:<AWS::Partition>:cloudtrail:us-east-1:111111111111:trail/org-trail',
    );
  });

  test('the request trigger may start executions of the workflow only', () => {
    const start = statementsOfFunction(template, 'request-trigger').find((s) =>
      s.Action.includes('states:StartExecution'),
    );
    expect(start?.Resource.map(render)).toEqual([expect.stringMatching(/^<FactoryWorkflow[0-9A-F]+>$/)]);
  });
});
