import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AccountFactory, AccountFactoryProps } from '../../lib/account-factory';
import { HANDLER } from '../../lib/workflow/step-names';
import { actionsOf, functionOf, identityStatements, newStack, statementsOfFunction } from './helpers';

function build(props: AccountFactoryProps = {}) {
  const { stack } = newStack();
  const factory = new AccountFactory(stack, 'Factory', props);
  return { stack, factory, template: Template.fromStack(stack) };
}

const ALL_HANDLERS = Object.values(HANDLER);

describe('AccountFactory resources', () => {
  const { factory, template } = build();

  test('six tables: requests (stream), metadata (email GSI), semaphore, customizations lock, Control Tower waits, account index; on demand, PITR, encrypted', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 6);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'accountId', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'email',
          KeySchema: [{ AttributeName: 'email', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
    const tables = template.findResources('AWS::DynamoDB::Table');
    for (const table of Object.values(tables) as any[]) {
      expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
      expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true });
    }
  });

  test('requests and metadata are retained; the semaphore is not', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({ KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }] }),
      DeletionPolicy: 'Retain',
    });
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({ KeySchema: [{ AttributeName: 'accountId', KeyType: 'HASH' }] }),
      DeletionPolicy: 'Retain',
    });
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({
        KeySchema: Match.arrayWith([{ AttributeName: 'pk', KeyType: 'HASH' }]),
      }),
      DeletionPolicy: 'Delete',
    });
  });

  test('two notification topics, encrypted with the AWS-managed SNS key, SSL enforced (and the alarm topic)', () => {
    // The third is the alarms' topic, under a key of its own (test/lib/monitoring.test.ts).
    template.resourceCountIs('AWS::SNS::Topic', 3);
    const topics = template.findResources('AWS::SNS::Topic', {
      Properties: { DisplayName: Match.stringLikeRegexp('requests|accounts') },
    });
    expect(Object.keys(topics)).toHaveLength(2);
    for (const topic of Object.values(topics) as any[]) {
      expect(JSON.stringify(topic.Properties.KmsMasterKeyId)).toContain(':alias/aws/sns');
    }
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('one function per handler, each marked with its handler name, Node.js 22 on arm64, traced, outside any VPC', () => {
    // Every handler (the Control Tower wait's two and the index reconcile among them), and
    // the deploy-time association with Account Factory's portfolio.
    template.resourceCountIs('AWS::Lambda::Function', ALL_HANDLERS.length + 1);
    for (const handler of ALL_HANDLERS) {
      const { props } = functionOf(template, handler);
      expect(props).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        MemorySize: 256,
        TracingConfig: { Mode: 'Active' },
        Handler: `${handler}/index.handler`,
      });
      expect(props.VpcConfig).toBeUndefined();
      expect(props.Environment.Variables.POWERTOOLS_SERVICE_NAME).toBe(handler);
      expect(props.LoggingConfig.LogGroup).toEqual({ Ref: expect.any(String) });
    }
    expect(Object.keys(factory.functions).sort()).toEqual([...ALL_HANDLERS].sort());
  });

  test('every log group has the default retention of one year', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup')) as any[];
    expect(groups.length).toBeGreaterThanOrEqual(ALL_HANDLERS.length + 2);
    for (const g of groups) expect(g.Properties.RetentionInDays).toBe(365);
  });

  test('the step functions get the tables, topics, role names, pipeline settings', () => {
    const vars = functionOf(template, 'validate-request').props.Environment.Variables;
    expect(vars).toMatchObject({
      METADATA_EMAIL_INDEX: 'email',
      ACCOUNT_FACTORY_PRODUCT_NAME: 'AWS Control Tower Account Factory',
      CONTROL_TOWER_EXECUTION_ROLE_NAME: 'AWSControlTowerExecution',
      EXECUTION_ROLE_NAME: 'AWSAFTExecution',
      FEATURE_DELETE_DEFAULT_VPCS: 'false',
      FEATURE_ENTERPRISE_SUPPORT: 'false',
      PIPELINE_NAME_PREFIX: 'account-customizations',
      CUSTOMIZATIONS_OBJECT_KEY: 'customizations.zip',
    });
    for (const name of [
      'REQUESTS_TABLE',
      'METADATA_TABLE',
      'SUCCESS_TOPIC_ARN',
      'FAILURE_TOPIC_ARN',
      'PIPELINE_ROLE_ARN',
      'PIPELINE_ARTIFACT_BUCKET',
      'CUSTOMIZATIONS_BUCKET',
      'CUSTOMIZATIONS_PROJECT',
    ]) {
      expect(vars[name]).toBeDefined();
    }
    expect(vars.FEATURE_CLOUDTRAIL_DATA_EVENTS_TRAIL).toBeUndefined();
    // In the management account the factory assumes the management role it creates itself.
    expect(vars.MANAGEMENT_ROLE_ARN).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^FactoryControlTowerAccessRole/), 'Arn'],
    });
    expect(vars.STATE_MACHINE_ARN).toBeUndefined();
    expect(functionOf(template, 'request-trigger').props.Environment.Variables.STATE_MACHINE_ARN).toEqual({
      Ref: expect.stringMatching(/^FactoryWorkflow/),
    });
  });

  test('the requests stream triggers the request trigger; a record it cannot process goes to the failure topic', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionOf(template, 'request-trigger').id },
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FactoryRequests'), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 10,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: {
        OnFailure: { Destination: { Ref: Match.stringLikeRegexp('^FactoryFailureTopic') } },
      },
    });
  });

  test('the state machine is Standard, logs ALL to a log group with retention, traces', () => {
    // The provisioning workflow and the customizations re-run.
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [
          {
            CloudWatchLogsLogGroup: {
              LogGroupArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FactoryWorkflowLogs'), 'Arn'] },
            },
          },
        ],
      },
    });
  });

  test('customizations: versioned, encrypted, SSL-only, private, retained source bucket; one shared CodeBuild project', () => {
    template.resourceCountIs('AWS::S3::Bucket', 3);
    template.hasResource('AWS::S3::Bucket', {
      Properties: Match.objectLike({
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'customizations-source/' }),
      }),
      DeletionPolicy: 'Retain',
    });
    for (const policy of Object.values(template.findResources('AWS::S3::BucketPolicy')) as any[]) {
      expect(policy.Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      );
    }
    template.resourceCountIs('AWS::CodeBuild::Project', 1);
    const project = Object.values(template.findResources('AWS::CodeBuild::Project'))[0] as any;
    const buildspec = JSON.stringify(project.Properties.Source.BuildSpec);
    expect(buildspec).toContain('credential_source = EcsContainer');
    expect(buildspec).toContain('run.sh');
    expect(project.Properties.Environment.EnvironmentVariables).toEqual(
      expect.arrayContaining([{ Name: 'EXECUTION_ROLE_NAME', Type: 'PLAINTEXT', Value: 'AWSAFTExecution' }]),
    );
    expect(project.Properties.LogsConfig.CloudWatchLogs.GroupName).toEqual({
      Ref: expect.stringMatching(/^FactoryCustomizationsLogs/),
    });
  });

  test('the pipeline role trusts CodePipeline only', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'codepipeline.amazonaws.com' } })],
      },
      Description: 'Role of the per-account customizations pipelines',
    });
  });
});

describe('AccountFactory props', () => {
  test('maxConcurrentAccountOperations is the semaphore limit in the state machine', () => {
    const { template } = build({ maxConcurrentAccountOperations: 3 });
    const definition = JSON.stringify(
      (Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as any).Properties
        .DefinitionString,
    );
    expect(definition).toContain('\\"limit\\":3');
    expect(definition).not.toContain('\\"limit\\":5');
    expect(functionOf(template, 'semaphore-cleanup').props.Environment.Variables.SEMAPHORE_LIMIT).toBe('3');
  });

  test.each([0, 101, 1.5, -3])('maxConcurrentAccountOperations %p is rejected', (value) => {
    expect(() => build({ maxConcurrentAccountOperations: value })).toThrow(
      /maxConcurrentAccountOperations must be an integer from 1 to 100/,
    );
  });

  test('feature options turn on their flags and their permissions', () => {
    const { template } = build({
      featureOptions: {
        deleteDefaultVpcs: true,
        enterpriseSupport: true,
        cloudTrailDataEvents: { trailName: 'org-trail' },
      },
    });
    const vars = functionOf(template, 'apply-feature-options').props.Environment.Variables;
    expect(vars).toMatchObject({
      FEATURE_DELETE_DEFAULT_VPCS: 'true',
      FEATURE_ENTERPRISE_SUPPORT: 'true',
      FEATURE_CLOUDTRAIL_DATA_EVENTS_TRAIL: 'org-trail',
    });
    // Support and CloudTrail through the management role, which holds those permissions.
    const actions = actionsOf(statementsOfFunction(template, 'apply-feature-options'));
    expect(actions.filter((a) => !/^(logs|xray):/.test(a))).toEqual(['sts:AssumeRole', 'sts:AssumeRole']);
    expect(actionsOf(identityStatements(template))).toEqual(
      expect.arrayContaining([
        'support:DescribeCases',
        'support:CreateCase',
        'cloudtrail:GetEventSelectors',
        'cloudtrail:PutEventSelectors',
      ]),
    );
  });

  test('feature options off: no Support, CloudTrail or AssumeRole permission for apply-feature-options', () => {
    const { template } = build();
    const actions = actionsOf(statementsOfFunction(template, 'apply-feature-options'));
    expect(actions.filter((a) => /^(support|cloudtrail|sts):/.test(a))).toEqual([]);
  });

  test('a customer-managed key encrypts tables, topics, buckets, logs and the project', () => {
    const { stack } = newStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new AccountFactory(stack, 'Factory', { encryptionKey: key });
    const template = Template.fromStack(stack);
    const keyArn = { 'Fn::GetAtt': ['Key961B73FD', 'Arn'] };
    for (const table of Object.values(template.findResources('AWS::DynamoDB::Table')) as any[]) {
      expect(table.Properties.SSESpecification).toEqual({
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: keyArn,
      });
    }
    for (const topic of Object.values(template.findResources('AWS::SNS::Topic')) as any[]) {
      expect(topic.Properties.KmsMasterKeyId).toEqual(keyArn);
    }
    template.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'customizations-source/' }),
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn },
          }),
        ],
      },
    });
    for (const group of Object.values(template.findResources('AWS::Logs::LogGroup')) as any[]) {
      expect(group.Properties.KmsKeyId).toEqual(keyArn);
    }
    template.hasResourceProperties('AWS::CodeBuild::Project', { EncryptionKey: keyArn });
    // CloudWatch Logs may use the key for this account's log groups.
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'logs.us-east-1.amazonaws.com' } }),
        ]),
      },
    });
  });

  test('given topics are used, none created (but the alarm topic)', () => {
    const { stack } = newStack();
    const success = new sns.Topic(stack, 'Ok');
    const failure = new sns.Topic(stack, 'Ko');
    const factory = new AccountFactory(stack, 'Factory', { successTopic: success, failureTopic: failure });
    expect(factory.successTopic).toBe(success);
    expect(factory.failureTopic).toBe(failure);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SNS::Topic', 3);
    expect(factory.monitoring.alarmTopic).not.toBe(failure);
    const notify = statementsOfFunction(template, 'notify').filter((s) => s.Action.includes('sns:Publish'));
    expect(notify.flatMap((s) => s.Resource)).toEqual([
      stack.resolve(success.topicArn),
      stack.resolve(failure.topicArn),
    ]);
  });

  test('names and poll interval', () => {
    const { template } = build({
      accountFactoryProductName: 'Custom Factory',
      controlTowerExecutionRoleName: 'CTExec',
      executionRoleName: 'FactoryExec',
      customizationsPipelineNamePrefix: 'acct',
      controlTowerPollInterval: Duration.seconds(15),
      logRetention: logs.RetentionDays.ONE_MONTH,
    });
    const vars = functionOf(template, 'create-execution-role').props.Environment.Variables;
    expect(vars).toMatchObject({
      ACCOUNT_FACTORY_PRODUCT_NAME: 'Custom Factory',
      CONTROL_TOWER_EXECUTION_ROLE_NAME: 'CTExec',
      EXECUTION_ROLE_NAME: 'FactoryExec',
      PIPELINE_NAME_PREFIX: 'acct',
    });
    // The first hop (CTExec) is the management role's; the check of the new role is the step's own.
    const assumed = JSON.stringify(
      statementsOfFunction(template, 'create-execution-role')
        .filter((s) => s.Action.includes('sts:AssumeRole'))
        .map((s) => s.Resource),
    );
    expect(assumed).toContain(':iam::*:role/FactoryExec');
    expect(assumed).not.toContain('CTExec');
    expect(JSON.stringify(identityStatements(template))).toContain(':iam::*:role/CTExec');
    const pipeline = statementsOfFunction(template, 'create-account-pipeline').find((s) =>
      s.Action.includes('codepipeline:CreatePipeline'),
    );
    expect(JSON.stringify(pipeline?.Resource)).toContain(':acct-*');
    const definition = JSON.stringify(template.toJSON());
    // The Control Tower wait's slow poll (and the closure's, never longer than a minute).
    expect(definition).toContain('\\"TimeoutSeconds\\":15');
    for (const g of Object.values(template.findResources('AWS::Logs::LogGroup')) as any[]) {
      expect(g.Properties.RetentionInDays).toBe(30);
    }
  });

  test('a management role: management-account functions assume it (and only them), with MANAGEMENT_ROLE_ARN', () => {
    const { stack } = newStack();
    const role = iam.Role.fromRoleArn(stack, 'Mgmt', 'arn:aws:iam::222222222222:role/factory-management');
    new AccountFactory(stack, 'Factory', {
      controlTowerManagementRole: role,
      featureOptions: { enterpriseSupport: true },
    });
    const template = Template.fromStack(stack);
    const management = [
      'create-execution-role',
      // The reaper reads the Service Catalog records marked on slots.
      'semaphore-cleanup',
      'validate-request',
      'provision-account',
      // Register waits and read records through the management role; the reconcile lists accounts there.
      'await-control-tower',
      'control-tower-event',
      'reconcile-account-index',
      'fetch-account-id',
      'tag-account',
      'apply-feature-options',
      'alternate-contacts',
      'opt-in-regions',
      'identity-center-access',
      'close-account',
      // Reads the Service Catalog records of the operations marked on semaphore slots.
      'semaphore-cleanup',
    ];
    for (const handler of ALL_HANDLERS) {
      const vars = functionOf(template, handler).props.Environment.Variables;
      const actions = actionsOf(statementsOfFunction(template, handler));
      if (management.includes(handler)) {
        expect(vars.MANAGEMENT_ROLE_ARN).toBe('arn:aws:iam::222222222222:role/factory-management');
        const assume = statementsOfFunction(template, handler).filter((s) =>
          s.Action.includes('sts:AssumeRole'),
        );
        expect(assume.map((s) => s.Resource)).toContainEqual([
          'arn:aws:iam::222222222222:role/factory-management',
        ]);
      } else {
        expect(vars.MANAGEMENT_ROLE_ARN).toBeUndefined();
      }
      // No direct Organizations / Service Catalog / Control Tower / Support call anywhere.
      expect(actions.filter((a) => /^(organizations|servicecatalog|controltower|support):/.test(a))).toEqual(
        [],
      );
    }
  });

  test.each<[string, AccountFactoryProps, RegExp]>([
    [
      'a bad role name',
      { executionRoleName: 'bad role' },
      /executionRoleName "bad role" is not an IAM role name/,
    ],
    [
      'a too long role name',
      { controlTowerExecutionRoleName: 'x'.repeat(65) },
      /controlTowerExecutionRoleName .* is not an IAM role name/,
    ],
    [
      'equal role names',
      { executionRoleName: 'AWSControlTowerExecution' },
      /executionRoleName must differ from controlTowerExecutionRoleName/,
    ],
    [
      'a poll interval under 10 s',
      { controlTowerPollInterval: Duration.seconds(5) },
      /controlTowerPollInterval must be at least 10 seconds/,
    ],
    [
      'a poll interval over an hour',
      { controlTowerPollInterval: Duration.hours(2) },
      /controlTowerPollInterval must be at most 1 hour/,
    ],
    [
      'a bad pipeline prefix',
      { customizationsPipelineNamePrefix: 'no spaces' },
      /customizationsPipelineNamePrefix "no spaces"/,
    ],
    [
      'an empty product name',
      { accountFactoryProductName: ' ' },
      /accountFactoryProductName must not be empty/,
    ],
    [
      'a bad trail name',
      { featureOptions: { cloudTrailDataEvents: { trailName: 'x' } } },
      /cloudTrailDataEvents.trailName "x" must be a trail name/,
    ],
    ['a bad object key', { customizationsObjectKey: '/abs.zip' }, /customizationsObjectKey "\/abs.zip"/],
  ])('rejects %s', (_what, props, message) => {
    expect(() => build(props)).toThrow(message);
  });
});
