import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { acknowledge, nagResource } from '../../lib/private/nag';
import { HandlerFunction } from '../../lib/private/handler-function';
import { THROTTLING_RETRY } from '../../lib/workflow/step-task';

/** The handler id the local engine loads for this example's function. */
export const EXAMPLE_HANDLER = 'examples/provisioning-customizations/handler';

export interface ExampleProvisioningCustomizationsProps {
  /**
   * The execution role the customization acts through in each account.
   * @default 'AWSAFTExecution'
   */
  readonly executionRoleName?: string;
  /**
   * The account whose principals may assume the `audit-readonly` role.
   * @default - this stack's account
   */
  readonly auditTrustedAccount?: string;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /** @default - AWS-managed encryption */
  readonly encryptionKey?: kms.IKey;
}

/**
 * An example of provisioning customizations: a state machine that the account
 * factory runs for every account (pass `stateMachine` as the factory's
 * `provisioningCustomizations`). It creates an `audit-readonly` role with
 * ReadOnlyAccess in the account, through its execution role.
 */
export class ExampleProvisioningCustomizations extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly function: lambda.IFunction;
  /** The role that assumes the execution role in each account (the factory must trust it). */
  public readonly role: iam.IRole;

  constructor(scope: Construct, id: string, props: ExampleProvisioningCustomizationsProps = {}) {
    super(scope, id);
    const executionRoleName = props.executionRoleName ?? 'AWSAFTExecution';

    const step = new HandlerFunction(this, 'AuditRole', {
      handler: EXAMPLE_HANDLER,
      serviceName: 'example-provisioning-customizations',
      description: 'Creates the audit-readonly role in a new account',
      logRetention: props.logRetention,
      encryptionKey: props.encryptionKey,
      environment: { AUDIT_TRUSTED_ACCOUNT: props.auditTrustedAccount ?? Aws.ACCOUNT_ID },
    });
    const executionRoles = `arn:${Stack.of(this).partition}:iam::*:role/${executionRoleName}`;
    step.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [executionRoles] }),
    );
    acknowledge(
      step.role,
      'AwsSolutions-IAM5',
      'Acts in each vended account (any account ID) through its execution role',
      [`Resource::${nagResource(this, executionRoles)}`],
    );
    this.function = step.function;
    this.role = step.role;

    const createRole = new tasks.LambdaInvoke(this, 'Create audit role', {
      lambdaFunction: step.function,
      payloadResponseOnly: true,
      resultPath: '$.auditRole',
    });
    createRole.addRetry(THROTTLING_RETRY);

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'Example provisioning customizations: an audit-readonly role in each new account',
      definitionBody: sfn.DefinitionBody.fromChainable(createRole.next(new sfn.Succeed(this, 'Done'))),
      queryLanguage: sfn.QueryLanguage.JSON_PATH,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
      timeout: Duration.minutes(30),
    });
    acknowledge(
      this.stateMachine.role,
      'AwsSolutions-IAM5',
      'Invokes any version of its function; X-Ray and vended-log delivery have no resource-level permissions',
      [`Resource::${nagResource(this, `${step.function.functionArn}:*`)}`, 'Resource::*'],
    );
  }
}
