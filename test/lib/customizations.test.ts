import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import {
  buildPipelineDeclaration,
  PipelineConfig,
  sourceFromEnv,
} from '../../lambda/create-account-pipeline';
import { ENV } from '../../lambda/shared/env';
import { pipelineHolder } from '../../lambda/shared/semaphore';
import { AccountFactory, AccountFactoryProps } from '../../lib/account-factory';
import { AccountRequest } from '../../lib/account-request';
import { CustomizationsSource } from '../../lib/customizations-source';
import { CUSTOMIZATIONS_SCRIPT } from '../../lib/private/customizations-buildspec';
import { PIPELINE_HOLDER_FORMAT } from '../../lib/workflow/customizations';
import { identityStatements, newStack, render } from './helpers';

const CONNECTION_ARN =
  'arn:aws:codeconnections:us-east-1:111111111111:connection/0b1c2d3e-aaaa-bbbb-cccc-000000000001';

function factoryTemplate(
  props: AccountFactoryProps = {},
  requests = 0,
): { template: Template; factory: AccountFactory } {
  const { stack } = newStack();
  const factory = new AccountFactory(stack, 'Factory', props);
  for (let i = 1; i <= requests; i++) {
    new AccountRequest(stack, `Request${i}`, {
      factory,
      accountEmail: `sandbox-${i}@example.com`,
      accountName: `sandbox-${i}`,
      organizationalUnit: 'Sandbox',
      sso: { email: 'platform-team@example.com', firstName: 'Platform', lastName: 'Team' },
      customizationsName: 'sandbox',
    });
  }
  return { template: Template.fromStack(stack), factory };
}

/** The CodeBuild project's role: the statements of its policy. */
function codeBuildStatements(template: Template) {
  const [project] = Object.values(template.findResources('AWS::CodeBuild::Project')) as any[];
  const roleId = project.Properties.ServiceRole['Fn::GetAtt'][0];
  const policies = template.findResources('AWS::IAM::Policy');
  const ids = Object.entries(policies)
    .filter(([, p]) => (p as any).Properties.Roles.some((r: any) => r.Ref === roleId))
    .map(([id]) => id);
  return identityStatements(template).filter((s) => ids.includes(s.policy));
}

describe('shared customizations projects', () => {
  test.each([0, 1, 12])(
    'one CodeBuild project and one pipeline role, whatever the number of requests (%i)',
    (n) => {
      const { template } = factoryTemplate({}, n);
      template.resourceCountIs('AWS::CodeBuild::Project', 1);
      template.resourceCountIs('AWS::CodePipeline::Pipeline', 0);
      expect(
        Object.values(template.findResources('AWS::IAM::Role')).filter((r: any) =>
          JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('codepipeline.amazonaws.com'),
        ),
      ).toHaveLength(1);
    },
  );

  test('the build assumes the execution role name only: no other role, no other account-wide action', () => {
    const { template } = factoryTemplate({ executionRoleName: 'FactoryExecution' });
    const statements = codeBuildStatements(template);
    const assume = statements.filter((s) => s.Action.some((a) => a.startsWith('sts:')));
    expect(assume).toHaveLength(1);
    expect(assume[0].Action).toEqual(['sts:AssumeRole']);
    expect(assume[0].Resource.map(render)).toEqual(['arn:<AWS::Partition>:iam::*:role/FactoryExecution']);
    // Nothing else on `*`.
    expect(statements.filter((s) => s.Resource.includes('*'))).toEqual([]);
  });

  test('logs to its own log group with retention; build timeout configurable; the script deploys a CDK app or runs run.sh', () => {
    const { template } = factoryTemplate({ customizationsBuildTimeout: Duration.minutes(90) });
    const [project] = Object.values(template.findResources('AWS::CodeBuild::Project')) as any[];
    expect(project.Properties.TimeoutInMinutes).toBe(90);
    expect(project.Properties.LogsConfig.CloudWatchLogs).toMatchObject({ Status: 'ENABLED' });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
    const spec = JSON.parse(project.Properties.Source.BuildSpec);
    const script: string = spec.phases.build.commands[0];
    expect(script).toContain('role/${EXECUTION_ROLE_NAME}');
    expect(script).toContain('deploy --all --require-approval never --context "ACCOUNT_ID=${ACCOUNT_ID}"');
    expect(script).toContain('CDK_DEFAULT_ACCOUNT="$ACCOUNT_ID"');
    expect(script).toContain('bash ./run.sh');
    expect(project.Properties.Environment.EnvironmentVariables).toEqual(
      expect.arrayContaining([{ Name: 'EXECUTION_ROLE_NAME', Type: 'PLAINTEXT', Value: 'AWSAFTExecution' }]),
    );
  });

  test('a build acts through a role profile the tools refresh, not through exported keys that expire in an hour', () => {
    const dir = mkdtempSync(join(tmpdir(), 'customizations-build-'));
    const bin = join(dir, 'bin');
    const src = join(dir, 'src');
    mkdirSync(bin);
    mkdirSync(join(src, 'global'), { recursive: true });
    // A stub AWS CLI: records how it was called and with which credentials.
    writeFileSync(
      join(bin, 'aws'),
      `#!/bin/bash\necho "aws $* profile=\${AWS_PROFILE:-} key=\${AWS_ACCESS_KEY_ID:-}" >> "${dir}/calls"\n`,
      { mode: 0o755 },
    );
    writeFileSync(
      join(src, 'global', 'run.sh'),
      `echo "profile=\${AWS_PROFILE:-} token=\${AWS_SESSION_TOKEN:-}" > "${dir}/env"; cat "$AWS_CONFIG_FILE" > "${dir}/config"\n`,
    );

    const run = spawnSync('bash', ['-c', CUSTOMIZATIONS_SCRIPT], {
      encoding: 'utf8',
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        HOME: dir,
        CODEBUILD_SRC_DIR: src,
        ACCOUNT_ID: '123456789012',
        AWS_REGION: 'us-gov-west-1',
        AWS_PARTITION: 'aws-us-gov',
        EXECUTION_ROLE_NAME: 'AWSAFTExecution',
        // CodeBuild's own credentials, as the container provides them.
        AWS_ACCESS_KEY_ID: 'AKIDCODEBUILD',
        AWS_SECRET_ACCESS_KEY: 'secret',
        AWS_SESSION_TOKEN: 'codebuild-token',
      },
    });

    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(readFileSync(join(dir, 'env'), 'utf8').trim()).toBe('profile=customizations token=');
    const config = readFileSync(join(dir, 'config'), 'utf8');
    expect(config).toContain('[profile customizations]');
    expect(config).toContain('role_arn = arn:aws-us-gov:iam::123456789012:role/AWSAFTExecution');
    expect(config).toContain('credential_source = EcsContainer');
    const calls = readFileSync(join(dir, 'calls'), 'utf8');
    expect(calls).not.toContain('assume-role');
    expect(calls).toContain(
      'aws sts get-caller-identity --output text --query Arn profile=customizations key=',
    );
  });

  test('the build script is valid bash', () => {
    const check = spawnSync('bash', ['-n'], { input: CUSTOMIZATIONS_SCRIPT, encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  test.each([
    [
      'a build timeout under 5 minutes',
      { customizationsBuildTimeout: Duration.minutes(2) },
      /customizationsBuildTimeout must be whole minutes from 5 minutes to 8 hours/,
    ],
    [
      'no concurrent customizations',
      { maxConcurrentCustomizations: 0 },
      /maxConcurrentCustomizations must be an integer from 1 to 100/,
    ],
    [
      'an object key with a given source',
      { customizationsSource: CustomizationsSource.bucket(), customizationsObjectKey: 'a.zip' },
      /customizationsObjectKey applies to the default bucket source only/,
    ],
  ] as [string, AccountFactoryProps, RegExp][])('rejects %s', (_label, props, message) => {
    expect(() => factoryTemplate(props)).toThrow(message);
  });
});

describe('customizations source', () => {
  test('default: a new bucket, versioned, encrypted, SSL only; the pipelines read it', () => {
    const { template, factory } = factoryTemplate();
    expect(factory.customizationsSource.type).toBe('S3');
    expect(factory.customizationsBucket).toBeDefined();
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'customizations-source/' }),
      BucketEncryption: Match.anyValue(),
    });
  });

  test('an existing bucket and key', () => {
    const { stack } = newStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'Existing', 'example-customizations');
    const factory = new AccountFactory(stack, 'Factory', {
      customizationsSource: CustomizationsSource.bucket({ bucket, objectKey: 'source/customizations.zip' }),
    });
    const template = Template.fromStack(stack);
    expect(factory.customizationsBucket).toBe(bucket);
    expect(
      template.findResources('AWS::S3::Bucket', {
        Properties: { LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'customizations-source/' }) },
      }),
    ).toEqual({});
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [ENV.CUSTOMIZATIONS_SOURCE_TYPE]: 'S3',
          [ENV.CUSTOMIZATIONS_BUCKET]: 'example-customizations',
          [ENV.CUSTOMIZATIONS_OBJECT_KEY]: 'source/customizations.zip',
        }),
      },
    });
  });

  test('a CodeConnections repository: no source bucket; the pipeline role may use that connection only', () => {
    const { template, factory } = factoryTemplate({
      customizationsSource: CustomizationsSource.connection({
        connectionArn: CONNECTION_ARN,
        repository: 'example-org/account-customizations',
      }),
    });
    expect(factory.customizationsBucket).toBeUndefined();
    expect(() => factory.grantWriteCustomizations(factory.pipelineRole)).toThrow(/repository/);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [ENV.CUSTOMIZATIONS_SOURCE_TYPE]: 'CODECONNECTIONS',
          [ENV.CUSTOMIZATIONS_CONNECTION_ARN]: CONNECTION_ARN,
          [ENV.CUSTOMIZATIONS_REPOSITORY]: 'example-org/account-customizations',
          [ENV.CUSTOMIZATIONS_BRANCH]: 'main',
        }),
      },
    });
    const use = identityStatements(template).filter((s) =>
      s.Action.some((a) => a.endsWith(':UseConnection')),
    );
    expect(use).toHaveLength(1);
    expect(use[0].Action.sort()).toEqual([
      'codeconnections:UseConnection',
      'codestar-connections:UseConnection',
    ]);
    expect(use[0].Resource).toEqual([CONNECTION_ARN]);
    expect(use[0].policy).toMatch(/^FactoryPipelineRoleDefaultPolicy/);
  });

  test.each([
    [
      { connectionArn: 'arn:aws:s3:::bucket', repository: 'a/b' },
      /connectionArn .* is not a CodeConnections connection ARN/,
    ],
    [{ connectionArn: CONNECTION_ARN, repository: 'no-owner' }, /repository "no-owner" is not owner\/name/],
    [{ connectionArn: CONNECTION_ARN, repository: 'a/b', branch: 'has space' }, /branch "has space"/],
  ])('rejects a bad connection source %j', (props, message) => {
    expect(() => CustomizationsSource.connection(props)).toThrow(message);
  });
});

describe('pipeline declaration by source', () => {
  const base: PipelineConfig = {
    namePrefix: 'account-customizations',
    roleArn: 'arn:aws:iam::111111111111:role/pipelines',
    artifactBucket: 'artifacts',
    customizationsProject: 'customizations',
  };

  test('CodeConnections: a CodeStarSourceConnection action on the branch, not watching for changes; V2; Source, Global, Account', () => {
    const declaration = buildPipelineDeclaration(
      { accountId: '222222222222', customizationsName: 'sandbox' },
      {
        ...base,
        source: {
          type: 'CODECONNECTIONS',
          connectionArn: CONNECTION_ARN,
          repository: 'example-org/account-customizations',
          branch: 'release',
        },
      },
    );
    expect(declaration.pipelineType).toBe('V2');
    expect(declaration.stages!.map((s) => s.name)).toEqual(['Source', 'Global', 'Account']);
    expect(declaration.stages![0].actions![0]).toMatchObject({
      actionTypeId: { category: 'Source', owner: 'AWS', provider: 'CodeStarSourceConnection', version: '1' },
      configuration: {
        ConnectionArn: CONNECTION_ARN,
        FullRepositoryId: 'example-org/account-customizations',
        BranchName: 'release',
        DetectChanges: 'false',
      },
      outputArtifacts: [{ name: 'customizations' }],
    });
  });

  test('no customizations name: Source and Global only', () => {
    const declaration = buildPipelineDeclaration(
      { accountId: '222222222222' },
      { ...base, source: { type: 'S3', bucket: 'source', objectKey: 'customizations.zip' } },
    );
    expect(declaration.stages!.map((s) => s.name)).toEqual(['Source', 'Global']);
    expect(declaration.stages![0].actions![0].configuration).toEqual({
      S3Bucket: 'source',
      S3ObjectKey: 'customizations.zip',
      PollForSourceChanges: 'false',
    });
  });

  test('the source as the factory sets it in the environment', () => {
    const saved = { ...process.env };
    try {
      process.env[ENV.CUSTOMIZATIONS_SOURCE_TYPE] = 'CODECONNECTIONS';
      process.env[ENV.CUSTOMIZATIONS_CONNECTION_ARN] = CONNECTION_ARN;
      process.env[ENV.CUSTOMIZATIONS_REPOSITORY] = 'o/r';
      process.env[ENV.CUSTOMIZATIONS_BRANCH] = 'main';
      expect(sourceFromEnv()).toEqual({
        type: 'CODECONNECTIONS',
        connectionArn: CONNECTION_ARN,
        repository: 'o/r',
        branch: 'main',
      });
      process.env[ENV.CUSTOMIZATIONS_SOURCE_TYPE] = 'FTP';
      expect(() => sourceFromEnv()).toThrow(/S3 or CODECONNECTIONS/);
    } finally {
      process.env = saved;
    }
  });
});

describe('customizations results', () => {
  test("an EventBridge rule sends the account pipelines' start and end events to the result function", () => {
    const { template } = factoryTemplate({ customizationsPipelineNamePrefix: 'acct' });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.codepipeline'],
        'detail-type': ['CodePipeline Pipeline Execution State Change'],
        detail: {
          pipeline: [{ prefix: 'acct-' }],
          state: ['STARTED', 'SUCCEEDED', 'FAILED', 'STOPPED', 'SUPERSEDED', 'CANCELED'],
        },
      },
    });
  });

  test('the workflow hands the slot to the holder the result function frees', () => {
    const holder = PIPELINE_HOLDER_FORMAT.replace('{}', 'p').replace('{}', 'e');
    expect(holder).toBe(pipelineHolder('p', 'e'));
  });

  test('the customizations lock: its own table, served by the semaphore functions, limit from the prop', () => {
    const { template, factory } = factoryTemplate({ maxConcurrentCustomizations: 25 });
    expect(factory.customizationsLock.limit).toBe(25);
    expect(factory.semaphore.extraLocks).toEqual([factory.customizationsLock]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [ENV.CUSTOMIZATIONS_LIMIT]: '25',
          [ENV.CUSTOMIZATIONS_LOCK_NAME]: 'customizations',
        }),
      },
    });
    const cleanup = Object.values(template.findResources('AWS::Lambda::Function')).find(
      (f: any) => f.Properties.Environment?.Variables?.[ENV.SEMAPHORE_EXTRA_LOCKS],
    ) as any;
    expect(cleanup.Properties.Environment.Variables[ENV.SEMAPHORE_EXTRA_LOCKS]).toBeDefined();
  });
});
