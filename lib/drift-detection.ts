import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ENV } from '../lambda/shared/env';
import { grantKey, grantTableRead, grantTopicPublish, KEY_ENCRYPT_DECRYPT_ACTIONS } from './private/grants';
import { acknowledge, nagResource } from './private/nag';
import { HandlerFunction } from './private/handler-function';

/** The `driftDetection` option of AccountFactory. */
export interface DriftDetectionOptions {
  /**
   * When the scheduled check runs.
   * @default events.Schedule.rate(Duration.days(1))
   */
  readonly schedule?: events.Schedule;
  /**
   * Receives a message when the set of drifted accounts (and their items) changes.
   * @default - the factory's failure topic
   */
  readonly topic?: sns.ITopic;
}

export interface DriftDetectionProps extends DriftDetectionOptions {
  /** The factory's metadata table (what each account should be). */
  readonly metadataTable: dynamodb.ITable;
  /** The role in the Control Tower management account the factory assumes (read-only sessions here). */
  readonly managementRole: iam.IRole;
  /** Where Control Tower's API is called. */
  readonly controlTowerHomeRegion: string;
  /** The IAM path the management role trusts (the check's role is created under it). */
  readonly rolePath: string;
  readonly controlTowerExecutionRoleName: string;
  readonly executionRoleName: string;
  /** Comma-separated ARNs of the roles the execution role must trust (as create-execution-role sets them). */
  readonly executionRoleTrustedRoles: string;
  /** The account pipelines' name prefix (`<prefix>-<account id>`). */
  readonly customizationsPipelineNamePrefix: string;
  /** Where a changed drift set is published. */
  readonly topic: sns.ITopic;
  /** @default - AWS-managed encryption */
  readonly encryptionKey?: kms.IKey;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
}

/** What a read-only drift session may do in the management account. */
export const DRIFT_MANAGEMENT_READ_ACTIONS = [
  'organizations:DescribeAccount',
  'organizations:ListParents',
  'organizations:ListTagsForResource',
  'controltower:ListEnabledBaselines',
  'controltower:GetEnabledBaseline',
];
/** What a read-only drift session may do in a member account. */
export const DRIFT_ACCOUNT_READ_ACTIONS = ['iam:GetRole'];

/**
 * A scheduled, read-only drift check of every managed account (lambda/drift-check): OU,
 * account name, email, the tags the factory manages, the execution role and its trust
 * policy, the account pipeline and Control Tower's baseline drift. It publishes to
 * `topic` only when the drift set changes, and keeps that set in `stateTable`.
 *
 * Read-only by construction: its own role can only assume the management role and read
 * (plus its own state table and the topic); every session it opens in the management
 * account and, from there, in a member account carries a session policy that allows only
 * the reads above (`DRIFT_SESSION_POLICIES`), so even the management role's and
 * AWSControlTowerExecution's write permissions are out of its reach.
 */
export class DriftDetection extends Construct {
  public readonly function: lambda.IFunction;
  public readonly role: iam.IRole;
  /** One item: the last drift set notified. */
  public readonly stateTable: dynamodb.ITable;
  public readonly rule: events.Rule;
  public readonly topic: sns.ITopic;

  constructor(scope: Construct, id: string, props: DriftDetectionProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const key = props.encryptionKey;
    this.topic = props.topic;

    const stateTable = new dynamodb.Table(this, 'State', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      ...(key
        ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: key }
        : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateTable = stateTable;

    const partition = stack.partition;
    const sessionPolicies = {
      management: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: DRIFT_MANAGEMENT_READ_ACTIONS, Resource: '*' },
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Resource: `arn:${partition}:iam::*:role/${props.controlTowerExecutionRoleName}`,
          },
        ],
      },
      account: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: DRIFT_ACCOUNT_READ_ACTIONS,
            Resource: `arn:${partition}:iam::*:role/${props.executionRoleName}`,
          },
        ],
      },
    };

    const step = new HandlerFunction(this, 'Check', {
      handler: 'drift-check',
      description: 'Reads every managed account and reports what drifted from its request (read-only)',
      timeout: Duration.minutes(15),
      rolePath: props.rolePath,
      logRetention: props.logRetention,
      encryptionKey: key,
      environment: {
        [ENV.METADATA_TABLE]: props.metadataTable.tableName,
        [ENV.DRIFT_STATE_TABLE]: stateTable.tableName,
        [ENV.DRIFT_TOPIC_ARN]: props.topic.topicArn,
        [ENV.DRIFT_SESSION_POLICIES]: stack.toJsonString(sessionPolicies),
        [ENV.MANAGEMENT_ROLE_ARN]: props.managementRole.roleArn,
        [ENV.CONTROL_TOWER_HOME_REGION]: props.controlTowerHomeRegion,
        [ENV.CONTROL_TOWER_EXECUTION_ROLE_NAME]: props.controlTowerExecutionRoleName,
        [ENV.EXECUTION_ROLE_NAME]: props.executionRoleName,
        [ENV.EXECUTION_ROLE_TRUSTED_ROLES]: props.executionRoleTrustedRoles,
        [ENV.PIPELINE_NAME_PREFIX]: props.customizationsPipelineNamePrefix,
      },
    });
    this.function = step.function;
    this.role = step.role;

    // Its own identity: assume the management role (sessions narrowed by the policies above),
    // read the metadata, read the account pipelines, keep its one state item, publish.
    step.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [props.managementRole.roleArn] }),
    );
    grantTableRead(props.metadataTable, step.role);
    stateTable.grant(step.role, 'dynamodb:GetItem', 'dynamodb:PutItem');
    grantKey(stateTable.encryptionKey, step.role, KEY_ENCRYPT_DECRYPT_ACTIONS);
    grantTopicPublish(props.topic, step.role);
    const pipelines = stack.formatArn({
      service: 'codepipeline',
      resource: `${props.customizationsPipelineNamePrefix}-*`,
      arnFormat: ArnFormat.NO_RESOURCE_NAME,
    });
    step.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['codepipeline:GetPipeline'], resources: [pipelines] }),
    );
    acknowledge(
      step.role,
      'AwsSolutions-IAM5',
      'Reads the pipeline of each account, named <prefix>-<account id>',
      [`Resource::${nagResource(this, pipelines)}`],
    );
    acknowledge(step.role, 'AwsSolutions-IAM5', 'Reads the metadata table and its GSI', [
      `Resource::${nagResource(this, `${props.metadataTable.tableArn}/index/*`)}`,
    ]);

    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Runs the account factory drift check',
      schedule: props.schedule ?? events.Schedule.rate(Duration.days(1)),
      targets: [
        new targets.LambdaFunction(step.function, {
          event: events.RuleTargetInput.fromObject({ record: true }),
          retryAttempts: 2,
        }),
      ],
    });
  }
}
