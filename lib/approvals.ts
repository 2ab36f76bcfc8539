import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ENV } from '../lambda/shared/env';
import { grantKey, grantTableRead, grantTopicPublish, KEY_ENCRYPT_DECRYPT_ACTIONS } from './private/grants';
import { HandlerFunction } from './private/handler-function';
import { acknowledge, nagResource } from './private/nag';

/** The operations an approval can be required for. */
export type ApprovalOperation = 'CREATE' | 'UPDATE' | 'IMPORT' | 'REMOVE';
const APPROVAL_OPERATIONS: readonly ApprovalOperation[] = ['CREATE', 'UPDATE', 'IMPORT', 'REMOVE'];

/** The `approvals` option of AccountFactory. */
export interface ApprovalsOptions {
  /**
   * The operations that wait for an approval before the workflow asks for a Control Tower
   * slot (REMOVE: a removal, with or without closing). CUSTOMIZE and ADOPT never wait.
   */
  readonly operations: readonly ApprovalOperation[];
  /**
   * How long a request waits for a decision; then it expires (ApprovalExpired), is notified
   * and changes nothing. From 1 minute to 365 days.
   * @default Duration.days(7)
   */
  readonly timeout?: Duration;
  /**
   * Whether the principal a request names as `requestedBy` may approve or reject it.
   * @default false
   */
  readonly allowSelfApproval?: boolean;
  /**
   * Receives each approval request (with the plan of the request version) and each
   * rejection or expiry.
   * @default - a new topic, encrypted, SSL enforced
   */
  readonly topic?: sns.ITopic;
}

export interface ApprovalsProps extends ApprovalsOptions {
  /** The factory's metadata table (the plan compares with the request last applied). */
  readonly metadataTable: dynamodb.ITable;
  /** A rejection or an expiry is published here too. */
  readonly failureTopic: sns.ITopic;
  /** @default - AWS-managed encryption */
  readonly encryptionKey?: kms.IKey;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
}

/** Default of `timeout`. */
export const DEFAULT_APPROVAL_TIMEOUT = Duration.days(7);

/**
 * Approvals of account requests: the approvals table (one item per request, its latest
 * approval), the approval-request function the workflow's approval gate invokes with a task
 * token (it stores the pending approval and publishes the plan), and the topic approvers
 * subscribe to. `grantApprove` lets a principal decide (`account-factory approve|reject`).
 */
export class Approvals extends Construct {
  /** One item per request (partition key `requestId`): its latest approval. */
  public readonly table: dynamodb.Table;
  /** Stores a pending approval and publishes it; records and notifies a rejection or expiry. */
  public readonly function: lambda.IFunction;
  public readonly role: iam.IRole;
  /** Approval requests, rejections and expiries. */
  public readonly topic: sns.ITopic;
  public readonly operations: readonly ApprovalOperation[];
  public readonly timeout: Duration;
  public readonly allowSelfApproval: boolean;
  private stateMachine?: sfn.IStateMachine;
  /**
   * The approval-request role's states:SendTaskFailure on the workflow (a newer version ends an
   * older one's wait): a policy of its own, added in `bind`, which the function does not depend
   * on (the workflow's definition refers to the function).
   */
  private readonly supersedePolicy: iam.Policy;

  constructor(scope: Construct, id: string, props: ApprovalsProps) {
    super(scope, id);
    const ops = [...new Set(props.operations)];
    if (!ops.length) {
      throw new Error(
        'approvals.operations must name at least one operation (CREATE, UPDATE, IMPORT, REMOVE)',
      );
    }
    const unknown = ops.filter((o) => !APPROVAL_OPERATIONS.includes(o));
    if (unknown.length) {
      throw new Error(
        `approvals.operations: ${unknown.join(', ')} cannot need an approval (only CREATE, UPDATE, IMPORT, REMOVE)`,
      );
    }
    this.operations = ops;
    this.timeout = props.timeout ?? DEFAULT_APPROVAL_TIMEOUT;
    const seconds = this.timeout.toSeconds();
    if (seconds < 60 || seconds > 365 * 24 * 3600) {
      throw new Error(
        `approvals.timeout must be from 1 minute to 365 days (a Standard execution lasts at most a year), got ${this.timeout.toHumanString()}`,
      );
    }
    this.allowSelfApproval = props.allowSelfApproval ?? false;
    const key = props.encryptionKey;

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'requestId', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      ...(key
        ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: key }
        : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
      // Who approved what: kept with the account data.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.topic =
      props.topic ??
      new sns.Topic(this, 'Topic', {
        displayName: 'Account factory: approvals',
        masterKey: key ?? kms.Alias.fromAliasName(this, 'SnsManagedKey', 'alias/aws/sns'),
        enforceSSL: true,
      });

    const step = new HandlerFunction(this, 'Request', {
      handler: 'approval-request',
      description: 'Stores a pending approval with its plan and publishes it; records a rejection or expiry',
      logRetention: props.logRetention,
      encryptionKey: key,
      environment: {
        [ENV.APPROVALS_TABLE]: this.table.tableName,
        [ENV.APPROVAL_TOPIC_ARN]: this.topic.topicArn,
        [ENV.FAILURE_TOPIC_ARN]: props.failureTopic.topicArn,
        [ENV.METADATA_TABLE]: props.metadataTable.tableName,
        [ENV.APPROVAL_TIMEOUT_SECONDS]: String(seconds),
        [ENV.APPROVAL_ALLOW_SELF]: String(this.allowSelfApproval),
      },
    });
    this.function = step.function;
    this.role = step.role;
    // Its own item per request, the metadata (read), the two topics.
    this.table.grant(step.role, 'dynamodb:PutItem', 'dynamodb:UpdateItem');
    grantKey(this.table.encryptionKey, step.role, KEY_ENCRYPT_DECRYPT_ACTIONS);
    grantTableRead(props.metadataTable, step.role);
    grantTopicPublish(this.topic, step.role);
    grantTopicPublish(props.failureTopic, step.role);
    this.supersedePolicy = new iam.Policy(this, 'SupersedePolicy', { roles: [step.role] });
    acknowledge(step.role, 'AwsSolutions-IAM5', 'Reads the metadata table (grantReadData includes its GSI)', [
      `Resource::${nagResource(this, `${props.metadataTable.tableArn}/index/*`)}`,
    ]);
  }

  /** The workflow whose approval tasks the approvers answer (AccountFactory binds it). */
  public bind(stateMachine: sfn.IStateMachine): void {
    if (this.stateMachine) throw new Error('Approvals are bound to a workflow already');
    this.stateMachine = stateMachine;
    this.supersedePolicy.addStatements(
      new iam.PolicyStatement({
        actions: ['states:SendTaskFailure'],
        resources: [stateMachine.stateMachineArn],
      }),
    );
  }

  /**
   * Lets a principal approve or reject requests (`account-factory approve|reject`): read the
   * approvals table and claim a decision in it, and answer the workflow's waiting approval
   * task (states:SendTaskSuccess / SendTaskFailure on the provisioning state machine). The
   * refusal of self-approval is made by the CLI; grant this only to approvers.
   */
  public grantApprove(grantee: iam.IGrantable): iam.Grant {
    if (!this.stateMachine) throw new Error('grantApprove: the approvals are not bound to the workflow yet');
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:GetItem', 'dynamodb:Scan', 'dynamodb:UpdateItem'],
      resourceArns: [this.table.tableArn],
    })
      .combine(grantKey(this.table.encryptionKey, grantee, KEY_ENCRYPT_DECRYPT_ACTIONS))
      .combine(
        iam.Grant.addToPrincipal({
          grantee,
          actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
          resourceArns: [this.stateMachine.stateMachineArn],
        }),
      );
  }
}
