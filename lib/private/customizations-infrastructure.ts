import { Aws, ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { HANDLER } from '../workflow/step-names';
import type { AccountFactoryProps } from '../account-factory';
import type { ConcurrencySemaphore, SemaphoreLock } from '../concurrency-semaphore';
import type { CustomizationsSource, CustomizationsSourceConfig } from '../customizations-source';
import { customizationsBuildSpec, DEFAULT_CDK_CLI_VERSION } from './customizations-buildspec';
import type { ResolvedProps } from './factory-props';
import { grantBucketReadWrite, grantKey, grantTableReadWrite, grantTopicPublish } from './grants';
import { HandlerFunction } from './handler-function';
import { acknowledge, nagResource } from './nag';

/**
 * What the account customizations pipelines need, created in the factory's scope (the
 * construct ids, and so the logical IDs, are the factory's own).
 */

/** The access logs bucket, the pipelines' artifact store, and the bound customizations source. */
export function createCustomizationsStorage(
  scope: Construct,
  key: kms.IKey | undefined,
  source: CustomizationsSource,
): { accessLogsBucket: s3.Bucket; artifactsBucket: s3.Bucket; sourceConfig: CustomizationsSourceConfig } {
  const bucketEncryption = key
    ? { encryption: s3.BucketEncryption.KMS, encryptionKey: key, bucketKeyEnabled: true }
    : { encryption: s3.BucketEncryption.S3_MANAGED };
  const accessLogsBucket = new s3.Bucket(scope, 'AccessLogs', {
    // Server access log delivery supports SSE-S3 only.
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    versioned: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  acknowledge(
    accessLogsBucket,
    'AwsSolutions-S1',
    'This is the access log bucket: it does not log to itself',
  );
  const artifactsBucket = new s3.Bucket(scope, 'PipelineArtifacts', {
    ...bucketEncryption,
    versioned: true,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    serverAccessLogsBucket: accessLogsBucket,
    serverAccessLogsPrefix: 'pipeline-artifacts/',
    lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30), expiration: Duration.days(90) }],
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const sourceConfig = source.bind(scope, { encryptionKey: key, accessLogsBucket });
  return { accessLogsBucket, artifactsBucket, sourceConfig };
}

/** The role of every account pipeline: reads the source, reads and writes artifacts, runs the project. */
export function createPipelineRole(
  scope: Construct,
  sourceConfig: CustomizationsSourceConfig,
  artifactsBucket: s3.IBucket,
  project: codebuild.IProject,
): iam.Role {
  const pipelineRole = new iam.Role(scope, 'PipelineRole', {
    assumedBy: new iam.ServicePrincipal('codepipeline.amazonaws.com'),
    description: 'Role of the per-account customizations pipelines',
  });
  sourceConfig.grantRead(pipelineRole);
  grantBucketReadWrite(artifactsBucket, pipelineRole);
  pipelineRole.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['codebuild:StartBuild', 'codebuild:BatchGetBuilds', 'codebuild:StopBuild'],
      resources: [project.projectArn],
    }),
  );
  acknowledge(
    pipelineRole,
    'AwsSolutions-IAM5',
    'The pipelines read and write objects of their own buckets',
    [
      ...(sourceConfig.bucket
        ? [`Resource::${nagResource(scope, sourceConfig.bucket.arnForObjects('*'))}`]
        : []),
      `Resource::${nagResource(scope, artifactsBucket.arnForObjects('*'))}`,
    ],
  );
  return pipelineRole;
}

/** `arn:<partition>:codepipeline:<region>:<account>:<prefix>-*`: every account pipeline. */
export function pipelineArnPatternOf(scope: Construct, pipelinePrefix: string): string {
  return Stack.of(scope).formatArn({
    service: 'codepipeline',
    resource: `${pipelinePrefix}-*`,
    arnFormat: ArnFormat.NO_RESOURCE_NAME,
  });
}

export function createCustomizationsProject(
  scope: Construct,
  config: ResolvedProps,
  artifactsBucket: s3.IBucket,
  executionRoleArns: string,
  props: Pick<AccountFactoryProps, 'encryptionKey' | 'logRetention'>,
): codebuild.PipelineProject {
  const key = props.encryptionKey;
  const logGroup = new logs.LogGroup(scope, 'CustomizationsLogs', {
    retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
    encryptionKey: key,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const role = new iam.Role(scope, 'CustomizationsRole', {
    assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
    description: "Runs an account's customizations through its execution role",
  });
  const project = new codebuild.PipelineProject(scope, 'CustomizationsProject', {
    description:
      "Deploys an account's customizations (a CDK app, or run.sh, of the selected folder) through its execution role",
    role,
    environment: {
      buildImage: codebuild.LinuxBuildImage.STANDARD_7_0,
      computeType: codebuild.ComputeType.SMALL,
      privileged: false,
    },
    environmentVariables: {
      EXECUTION_ROLE_NAME: { value: config.executionRoleName },
      AWS_PARTITION: { value: Aws.PARTITION },
      CDK_CLI_VERSION: { value: DEFAULT_CDK_CLI_VERSION },
    },
    timeout: config.customizationsBuildTimeout,
    logging: { cloudWatch: { logGroup } },
    buildSpec: customizationsBuildSpec(),
  });
  if (!key) {
    acknowledge(
      project,
      'AwsSolutions-CB4',
      'No customer-managed key was given (encryptionKey): build artifacts use the AWS-managed S3 key',
    );
  }
  if (key) {
    // Set directly: the Project's own key grant uses action wildcards.
    (project.node.defaultChild as codebuild.CfnProject).encryptionKey = key.keyArn;
    grantKey(key, role, ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey']);
  }
  grantBucketReadWrite(artifactsBucket, role);
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [executionRoleArns] }),
  );
  const stack = Stack.of(scope);
  acknowledge(
    role,
    'AwsSolutions-IAM5',
    'CodeBuild writes its own log streams and reports; builds read and write pipeline artifacts; customizations run in any vended account through its execution role',
    [
      `Resource::${nagResource(scope, artifactsBucket.arnForObjects('*'))}`,
      `Resource::${nagResource(scope, executionRoleArns)}`,
      // The Project's own grants: its default log group and its report groups.
      `Resource::${nagResource(
        scope,
        `${stack.formatArn({
          service: 'logs',
          resource: 'log-group',
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          resourceName: `/aws/codebuild/${project.projectName}`,
        })}:*`,
      )}`,
      `Resource::${nagResource(
        scope,
        stack.formatArn({
          service: 'codebuild',
          resource: 'report-group',
          resourceName: `${project.projectName}-*`,
        }),
      )}`,
    ],
  );
  return project;
}

export interface CustomizationsResultProps {
  readonly environment: Record<string, string>;
  readonly logRetention?: logs.RetentionDays;
  readonly encryptionKey?: kms.IKey;
  readonly metadataTable: dynamodb.ITable;
  readonly customizationsLock: SemaphoreLock;
  readonly successTopic: sns.ITopic;
  readonly failureTopic: sns.ITopic;
  readonly stateMachine: sfn.IStateMachine;
  readonly semaphore: ConcurrencySemaphore;
  readonly pipelineArnPattern: string;
  readonly pipelinePrefix: string;
}

/**
 * The customizations result function, the EventBridge rule (every end of an account
 * pipeline execution, and its start) and what the function may do: release the slot and
 * wake the next waiting execution, read the failed stage, record, publish.
 */
export function createCustomizationsResult(
  scope: Construct,
  props: CustomizationsResultProps,
): { result: HandlerFunction; rule: events.Rule } {
  const result = new HandlerFunction(scope, 'CustomizationsResult', {
    logRetention: props.logRetention,
    encryptionKey: props.encryptionKey,
    handler: HANDLER.CUSTOMIZATIONS_RESULT,
    description: "Records and notifies an account pipeline's outcome and frees its customizations slot",
    environment: props.environment,
  });
  const { pipelineArnPattern } = props;
  grantTableReadWrite(props.metadataTable, result.role);
  grantTableReadWrite(props.customizationsLock.table, result.role);
  grantTopicPublish(props.successTopic, result.role);
  grantTopicPublish(props.failureTopic, result.role);
  props.stateMachine.grantTaskResponse(result.role);
  result.role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['codepipeline:GetPipelineState', 'codepipeline:GetPipelineExecution'],
      resources: [pipelineArnPattern],
    }),
  );
  acknowledge(
    result.role,
    'AwsSolutions-IAM5',
    'Reads the pipeline of each account, named <prefix>-<account id>; queries the metadata table GSI',
    [
      `Resource::${nagResource(scope, pipelineArnPattern)}`,
      `Resource::${nagResource(scope, `${props.metadataTable.tableArn}/index/*`)}`,
    ],
  );
  // The reaper asks CodePipeline whether a pipeline holding a slot still runs.
  const cleanupRole = props.semaphore.cleanupFunction.role;
  if (cleanupRole) {
    cleanupRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['codepipeline:GetPipelineExecution'],
        resources: [pipelineArnPattern],
      }),
    );
    acknowledge(
      cleanupRole,
      'AwsSolutions-IAM5',
      'Checks whether the pipeline of an account (<prefix>-<account id>) still runs',
      [`Resource::${nagResource(scope, pipelineArnPattern)}`],
    );
  }
  const rule = new events.Rule(scope, 'CustomizationsResultRule', {
    description:
      'An account pipeline execution started or ended: record, notify, free its customizations slot',
    eventPattern: {
      source: ['aws.codepipeline'],
      detailType: ['CodePipeline Pipeline Execution State Change'],
      detail: {
        pipeline: [{ prefix: `${props.pipelinePrefix}-` }],
        state: ['STARTED', 'SUCCEEDED', 'FAILED', 'STOPPED', 'SUPERSEDED', 'CANCELED'],
      },
    },
    targets: [new targets.LambdaFunction(result.function, { retryAttempts: 8 })],
  });
  return { result, rule };
}
