import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import {
  ArnContext,
  iamActionFor,
  mappedOperations,
  parseIntegrationArn,
  STEP_FUNCTIONS_INTEGRATION_ACTION,
} from '../../../local/emulator/iam-actions';
import { actionMatches, evaluateIdentityPolicies } from '../../../local/emulator/iam-policy';
import { AccountFactory } from '../../../lib/account-factory';
import { identityStatements, newStack } from '../../lib/helpers';

const CTX: ArnContext = {
  partition: 'aws',
  region: 'us-east-1',
  accountId: '111111111111',
  organizationId: 'o-abc123',
  managementAccountId: '999999999999',
};

describe('iamActionFor', () => {
  test('STS AssumeRole is authorized on the target role', () => {
    const m = iamActionFor('STS', 'AssumeRole', { RoleArn: 'arn:aws:iam::222222222222:role/R' }, CTX);

    expect(m).toMatchObject({ action: 'sts:AssumeRole', resources: ['arn:aws:iam::222222222222:role/R'] });
    expect(m.source).toMatch(/service-authorization\/latest\/reference\/list_sts\.html$/);
    expect(m.guess).toBeUndefined();
  });

  test('GetCallerIdentity needs no authorization', () => {
    expect(iamActionFor('STS', 'GetCallerIdentity', {}, CTX).authorizationNotRequired).toBeDefined();
  });

  test('Organizations: account, OU and root ARNs carry the management account and org id', () => {
    const describe = iamActionFor('Organizations', 'DescribeAccount', { AccountId: '333333333333' }, CTX);
    const move = iamActionFor(
      'Organizations',
      'MoveAccount',
      { AccountId: '333333333333', SourceParentId: 'r-ab12', DestinationParentId: 'ou-ab12-cdef3456' },
      { ...CTX, organizationId: 'abc123' },
    );

    expect(describe.resources).toEqual(['arn:aws:organizations::999999999999:account/o-abc123/333333333333']);
    expect(move.action).toBe('organizations:MoveAccount');
    expect(move.resources).toEqual([
      'arn:aws:organizations::999999999999:account/o-abc123/333333333333',
      'arn:aws:organizations::999999999999:root/o-abc123/r-ab12',
      'arn:aws:organizations::999999999999:ou/o-abc123/ou-ab12-cdef3456',
    ]);
  });

  test('Organizations without an org id: the documented pattern with *, marked as a guess', () => {
    const m = iamActionFor(
      'Organizations',
      'CloseAccount',
      { AccountId: '333333333333' },
      { ...CTX, organizationId: undefined },
    );

    expect(m.resources).toEqual(['arn:aws:organizations::999999999999:account/o-*/333333333333']);
    expect(m.guess).toMatch(/organizationId/);
  });

  test('Organizations ListAccounts is authorized on *', () => {
    expect(iamActionFor('Organizations', 'ListAccounts', {}, CTX).resources).toEqual(['*']);
  });

  test('Service Catalog: ProvisionProduct on the product ARN, SearchProducts on *', () => {
    const provision = iamActionFor('ServiceCatalog', 'ProvisionProduct', { ProductId: 'prod-abc' }, CTX);
    const byName = iamActionFor(
      'ServiceCatalog',
      'ProvisionProduct',
      { ProductName: 'AWS Control Tower Account Factory' },
      CTX,
    );

    expect(provision.resources).toEqual(['arn:aws:catalog:us-east-1:111111111111:product/prod-abc']);
    expect(iamActionFor('ServiceCatalog', 'SearchProducts', {}, CTX).resources).toEqual(['*']);
    expect(
      iamActionFor('ServiceCatalog', 'UpdateProvisionedProduct', { ProductId: 'prod-abc' }, CTX).resources,
    ).toEqual(['*']);
    expect(byName.resources).toEqual(['arn:aws:catalog:us-east-1:111111111111:product/*']);
    expect(byName.guess).toBeDefined();
  });

  test('DynamoDB Query on an index is authorized on the index ARN', () => {
    const m = iamActionFor('DynamoDB', 'Query', { TableName: 'Requests', IndexName: 'ByStatus' }, CTX);

    expect(m.resources).toEqual(['arn:aws:dynamodb:us-east-1:111111111111:table/Requests/index/ByStatus']);
  });

  test('DynamoDB TransactWriteItems is checked item by item', () => {
    const m = iamActionFor(
      'DynamoDB',
      'TransactWriteItems',
      { TransactItems: [{ Update: { TableName: 'Semaphore' } }, { Put: { TableName: 'Requests' } }] },
      CTX,
    );

    expect(m.action).toBe('dynamodb:UpdateItem');
    expect(m.resources).toEqual(['arn:aws:dynamodb:us-east-1:111111111111:table/Semaphore']);
    expect(m.additional).toEqual([
      { action: 'dynamodb:PutItem', resources: ['arn:aws:dynamodb:us-east-1:111111111111:table/Requests'] },
    ]);
  });

  test('Lambda Invoke maps to lambda:InvokeFunction on the (qualified) function ARN', () => {
    expect(iamActionFor('Lambda', 'Invoke', { FunctionName: 'fn', Qualifier: 'live' }, CTX)).toMatchObject({
      action: 'lambda:InvokeFunction',
      resources: ['arn:aws:lambda:us-east-1:111111111111:function:fn:live'],
    });
  });

  test('IAM role actions use the resolved role path when the context knows it', () => {
    const plain = iamActionFor('IAM', 'GetRole', { RoleName: 'AWSControlTowerExecution' }, CTX);
    const withPath = iamActionFor(
      'IAM',
      'DeleteRole',
      { RoleName: 'R' },
      {
        ...CTX,
        resolveRoleArn: (n) => `arn:aws:iam::111111111111:role/factory/${n}`,
      },
    );

    expect(plain.resources).toEqual(['arn:aws:iam::111111111111:role/AWSControlTowerExecution']);
    expect(plain.guess).toMatch(/path/);
    expect(withPath.resources).toEqual(['arn:aws:iam::111111111111:role/factory/R']);
    expect(withPath.guess).toBeUndefined();
  });

  test('CodePipeline, EC2, CloudTrail and SFN resource ARNs', () => {
    expect(iamActionFor('CodePipeline', 'StartPipelineExecution', { name: 'acct-1' }, CTX).resources).toEqual(
      ['arn:aws:codepipeline:us-east-1:111111111111:acct-1'],
    );
    expect(
      iamActionFor('EC2', 'DetachInternetGateway', { InternetGatewayId: 'igw-1', VpcId: 'vpc-1' }, CTX)
        .resources,
    ).toEqual([
      'arn:aws:ec2:us-east-1:111111111111:internet-gateway/igw-1',
      'arn:aws:ec2:us-east-1:111111111111:vpc/vpc-1',
    ]);
    expect(
      iamActionFor('CloudTrail', 'PutEventSelectors', { TrailName: 'org-trail' }, CTX).resources,
    ).toEqual(['arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail']);
  });

  test('SendTask* is authorized on the state machine that issued the token (observed, marked as a guess)', () => {
    const sm = 'arn:aws:states:us-east-1:111111111111:stateMachine:Workflow';
    const known = iamActionFor(
      'SFN',
      'SendTaskFailure',
      { taskToken: 't-1' },
      {
        ...CTX,
        resolveTaskToken: (t) => (t === 't-1' ? sm : undefined),
      },
    );
    const unknown = iamActionFor('SFN', 'SendTaskSuccess', { taskToken: 't-2' }, CTX);

    expect(known).toMatchObject({ action: 'states:SendTaskFailure', resources: [sm] });
    expect(known.guess).toMatch(/observed/);
    expect(unknown.resources).toEqual(['arn:aws:states:us-east-1:111111111111:stateMachine:*']);
  });

  test('an unmapped call or a missing input field throws', () => {
    expect(() => iamActionFor('Organizations', 'LeaveOrganization', {}, CTX)).toThrow(/no IAM mapping/);
    expect(() => iamActionFor('SNS', 'Subscribe', {}, CTX)).toThrow(/no IAM mapping/);
    expect(() => iamActionFor('Organizations', 'DescribeAccount', {}, CTX)).toThrow(/AccountId is required/);
  });

  test('the mapping feeds the evaluator: a product-scoped grant allows that product only', () => {
    const grant = [
      {
        Statement: [
          {
            Effect: 'Allow' as const,
            Action: 'servicecatalog:ProvisionProduct',
            Resource: 'arn:aws:catalog:us-east-1:111111111111:product/prod-abc',
          },
        ],
      },
    ];
    const ok = iamActionFor('ServiceCatalog', 'ProvisionProduct', { ProductId: 'prod-abc' }, CTX);
    const other = iamActionFor('ServiceCatalog', 'ProvisionProduct', { ProductId: 'prod-xyz' }, CTX);

    expect(evaluateIdentityPolicies(grant, { action: ok.action, resource: ok.resources[0] }).effect).toBe(
      'Allow',
    );
    expect(
      evaluateIdentityPolicies(grant, { action: other.action, resource: other.resources[0] }).effect,
    ).toBe('ImplicitDeny');
  });
});

describe('STEP_FUNCTIONS_INTEGRATION_ACTION', () => {
  test('aws-sdk integrations map to the SDK client and PascalCase operation', () => {
    const { service, action } = parseIntegrationArn(
      'arn:aws:states:::aws-sdk:servicecatalog:provisionProduct',
    );

    expect(STEP_FUNCTIONS_INTEGRATION_ACTION(service, action)).toMatchObject({
      service: 'ServiceCatalog',
      operation: 'ProvisionProduct',
      pattern: 'request-response',
    });
    expect(
      STEP_FUNCTIONS_INTEGRATION_ACTION('aws-sdk:codepipeline', 'startPipelineExecution.waitForTaskToken'),
    ).toMatchObject({
      service: 'CodePipeline',
      operation: 'StartPipelineExecution',
      pattern: 'waitForTaskToken',
    });
  });

  test('optimized integrations', () => {
    expect(STEP_FUNCTIONS_INTEGRATION_ACTION('dynamodb', 'updateItem')).toMatchObject({
      service: 'DynamoDB',
      operation: 'UpdateItem',
    });
    expect(STEP_FUNCTIONS_INTEGRATION_ACTION('lambda', 'invoke')).toMatchObject({
      service: 'Lambda',
      operation: 'Invoke',
    });
    expect(STEP_FUNCTIONS_INTEGRATION_ACTION('sns', 'publish')).toMatchObject({
      service: 'SNS',
      operation: 'Publish',
    });
  });

  test('startExecution.sync:2 also needs DescribeExecution, StopExecution and the managed rule', () => {
    const m = STEP_FUNCTIONS_INTEGRATION_ACTION('states', 'startExecution.sync:2');

    expect(m).toMatchObject({ service: 'SFN', operation: 'StartExecution', pattern: 'sync' });
    expect(m.additional?.map((a) => a.action)).toEqual([
      'states:DescribeExecution',
      'states:StopExecution',
      'events:PutTargets',
      'events:PutRule',
      'events:DescribeRule',
    ]);
    expect(m.additional?.[2].resources[0]).toMatch(
      /rule\/StepFunctionsGetEventsForStepFunctionsExecutionRule$/,
    );
    expect(STEP_FUNCTIONS_INTEGRATION_ACTION('states', 'startExecution').additional).toBeUndefined();
  });

  test('unknown integrations throw', () => {
    expect(() => STEP_FUNCTIONS_INTEGRATION_ACTION('aws-sdk:quicksight', 'listUsers')).toThrow(
      /no SDK client/,
    );
    expect(() => STEP_FUNCTIONS_INTEGRATION_ACTION('glue', 'startJobRun.sync')).toThrow(/no mapping/);
    expect(() => STEP_FUNCTIONS_INTEGRATION_ACTION('dynamodb', 'updateItem.sync')).toThrow(
      /request-response/,
    );
  });
});

/**
 * Real IAM actions (Service Authorization Reference) that the synthesized policies use
 * for calls the emulator does not map: logging, tracing, streams, CodeBuild reports,
 * S3 bucket reads, KMS. Checked against the reference when this list was written.
 */
const OTHER_REAL_ACTIONS = [
  'codebuild:BatchPutCodeCoverages',
  'codebuild:BatchPutTestCases',
  'codebuild:CreateReport',
  'codebuild:CreateReportGroup',
  'codebuild:StopBuild',
  'codebuild:UpdateReport',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeStream',
  'dynamodb:GetRecords',
  'dynamodb:GetShardIterator',
  'dynamodb:ListStreams',
  'events:DescribeRule',
  'events:PutRule',
  'events:PutTargets',
  'kms:DescribeKey',
  'kms:Encrypt',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
  'logs:CreateLogDelivery',
  'logs:CreateLogGroup',
  'logs:CreateLogStream',
  'logs:DeleteLogDelivery',
  'logs:DescribeLogGroups',
  'logs:DescribeResourcePolicies',
  'logs:GetLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutLogEvents',
  'logs:PutResourcePolicy',
  'logs:UpdateLogDelivery',
  's3:GetBucketLocation',
  's3:GetBucketVersioning',
  's3:GetObjectVersion',
  's3:ListBucket',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'xray:PutTelemetryRecords',
  'xray:PutTraceSegments',
];

function knownActions(): string[] {
  return [...new Set([...mappedOperations().map((m) => m.action), ...OTHER_REAL_ACTIONS])];
}

describe('the synthesized template', () => {
  let template: Template;

  beforeAll(() => {
    // The factory with every feature, a key, and a delegated management role
    const { stack } = newStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new AccountFactory(stack, 'Factory', {
      encryptionKey: key,
      featureOptions: {
        deleteDefaultVpcs: true,
        enterpriseSupport: true,
        cloudTrailDataEvents: { trailName: 'org-trail' },
      },
      controlTowerManagementRole: iam.Role.fromRoleArn(
        stack,
        'Mgmt',
        'arn:aws:iam::222222222222:role/factory-management',
      ),
    });
    template = Template.fromStack(stack);
  });

  test('every action in every identity policy is a real IAM action (or a wildcard that matches one)', () => {
    // Arrange
    const known = knownActions();

    // Act
    const actions = [...new Set(identityStatements(template).flatMap((s) => s.Action))];
    const unknown = actions.filter((a) => !known.some((k) => actionMatches(a, k)));

    // Assert
    expect(actions.length).toBeGreaterThan(20);
    expect(unknown).toEqual([]);
  });

  test("every Task of every state machine maps to an emulated call its role's policies name", () => {
    // Arrange
    const policies = template.findResources('AWS::IAM::Policy');
    const machines = template.findResources('AWS::StepFunctions::StateMachine');
    const actionOf = new Map(mappedOperations().map((m) => [`${m.service}.${m.operation}`, m.action]));

    // Act
    const missing: string[] = [];
    let tasks = 0;
    for (const [id, machine] of Object.entries<any>(machines)) {
      const roleId = machine.Properties.RoleArn['Fn::GetAtt'][0];
      const allowed = Object.values<any>(policies)
        .filter((p) => (p.Properties.Roles ?? []).some((r: any) => r.Ref === roleId))
        .flatMap((p) => [p.Properties.PolicyDocument.Statement].flat())
        .filter((s: any) => s.Effect === 'Allow')
        .flatMap((s: any) => [s.Action].flat() as string[]);
      const definition = machine.Properties.DefinitionString;
      const text =
        typeof definition === 'string'
          ? definition
          : definition['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : 'REF')).join('');
      for (const [, resource] of text.matchAll(/"Resource":"(arn:[^:"]*:states:::[^"]+)"/g)) {
        tasks++;
        const { service, action } = parseIntegrationArn(resource);
        const target = STEP_FUNCTIONS_INTEGRATION_ACTION(service, action);
        const needed = [
          actionOf.get(`${target.service}.${target.operation}`),
          ...(target.additional ?? []).map((a) => a.action),
        ];
        for (const n of needed) {
          if (!n) missing.push(`${id}: ${resource} maps to no emulated call`);
          else if (!allowed.some((p) => actionMatches(p, n))) missing.push(`${id}: ${resource} needs ${n}`);
        }
      }
    }

    // Assert
    expect(tasks).toBeGreaterThan(5);
    expect(missing).toEqual([]);
  });
});
