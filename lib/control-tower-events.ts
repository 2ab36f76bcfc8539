import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ENV } from '../lambda/shared/env';
import { grantTableReadWrite } from './private/grants';
import { HandlerFunction } from './private/handler-function';

/** The handler folders (lambda/<name>) of the Control Tower wait. */
export const CONTROL_TOWER_EVENT_HANDLERS = {
  AWAIT: 'await-control-tower',
  EVENT: 'control-tower-event',
} as const;

/**
 * The lifecycle events that end an Account Factory operation, as Control Tower sends
 * them to EventBridge in its home region (Control Tower user guide, "Lifecycle events").
 */
export const CONTROL_TOWER_ACCOUNT_EVENT_PATTERN: events.EventPattern = {
  source: ['aws.controltower'],
  detailType: ['AWS Service Event via CloudTrail'],
  detail: { eventName: ['CreateManagedAccount', 'UpdateManagedAccount'] },
};

export interface ControlTowerEventsProps {
  /** The role the factory assumes in the Control Tower management account (DescribeRecord). */
  readonly managementRole: iam.IRole;
  /**
   * The IAM path the management role trusts: the two functions' roles get it.
   * @default '/account-factory/'
   */
  readonly rolePath?: string;
  /**
   * The Control Tower home region (Service Catalog is called there).
   * @default - this stack's region
   */
  readonly controlTowerHomeRegion?: string;
  /**
   * The Control Tower management account, when the factory runs in another account:
   * the default event bus here then accepts Control Tower's events from that account
   * (a bus policy limited to `source: aws.controltower` and its detail type), as the
   * management stack's `ControlTowerEventForwarding` sends them.
   * An account equal to this stack's needs no policy (the factory runs in the management account).
   * @default - the factory runs in the management account: Control Tower's events reach this bus directly
   */
  readonly managementAccountId?: string;
  /** @default - AWS-managed encryption */
  readonly encryptionKey?: kms.IKey;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Control Tower tells the factory when an account operation ends: the waiting
 * execution registers its task token (`awaitFunction`, a `waitForTaskToken` task),
 * and a rule on the default bus sends each `CreateManagedAccount` /
 * `UpdateManagedAccount` lifecycle event to `eventFunction`, which completes the
 * waits of that account from the Service Catalog record. See
 * lib/workflow/control-tower-wait.ts for the state machine side, and its slow poll
 * for a lost event.
 *
 * Call `grantTaskResponse(stateMachine)` once the state machine exists.
 */
export class ControlTowerEvents extends Construct {
  /** Waits by account name / ID (partition key `pk`) and record (sort key `sk`); TTL `expiresAt`. */
  public readonly waitsTable: dynamodb.Table;
  /** Registers a waiting execution's token and reads the record once. */
  public readonly awaitFunction: lambda.IFunction;
  /** Completes the waits of the account a lifecycle event is about. */
  public readonly eventFunction: lambda.IFunction;
  /** Both functions, with their roles and log groups. */
  public readonly handlerFunctions: HandlerFunction[];
  /** Sends Control Tower's account lifecycle events to `eventFunction`. */
  public readonly rule: events.Rule;
  /** Lets the management account put Control Tower's events on this account's default bus (delegated topology). */
  public readonly busPolicy?: events.CfnEventBusPolicy;
  private readonly roles: iam.IRole[];
  private grants = 0;

  constructor(scope: Construct, id: string, props: ControlTowerEventsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const account = props.managementAccountId;
    if (account !== undefined && !Token.isUnresolved(account) && !/^\d{12}$/.test(account)) {
      throw new Error(
        `ControlTowerEvents: managementAccountId must be a 12-digit account ID, got ${props.managementAccountId}`,
      );
    }

    this.waitsTable = new dynamodb.Table(this, 'Waits', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'expiresAt',
      ...(props.encryptionKey
        ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.encryptionKey }
        : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
      // Only short-lived waits: nothing to keep once the stack is gone.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const environment = {
      [ENV.CONTROL_TOWER_WAITS_TABLE]: this.waitsTable.tableName,
      [ENV.MANAGEMENT_ROLE_ARN]: props.managementRole.roleArn,
      [ENV.CONTROL_TOWER_HOME_REGION]: props.controlTowerHomeRegion ?? stack.region,
    };
    const make = (handler: string, description: string) => {
      const fn = new HandlerFunction(
        this,
        handler === CONTROL_TOWER_EVENT_HANDLERS.AWAIT ? 'Await' : 'Event',
        {
          handler,
          description,
          environment,
          rolePath: props.rolePath ?? '/account-factory/',
          logRetention: props.logRetention,
          encryptionKey: props.encryptionKey,
          timeout: Duration.minutes(1),
        },
      );
      grantTableReadWrite(this.waitsTable, fn.role);
      // Service Catalog is reached through the management role (DescribeRecord there).
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [props.managementRole.roleArn] }),
      );
      return fn;
    };
    const awaitFn = make(
      CONTROL_TOWER_EVENT_HANDLERS.AWAIT,
      'Registers an execution waiting for a Control Tower operation, and reads its record once',
    );
    const eventFn = make(
      CONTROL_TOWER_EVENT_HANDLERS.EVENT,
      'Completes the executions waiting for the account a Control Tower lifecycle event is about',
    );
    this.awaitFunction = awaitFn.function;
    this.eventFunction = eventFn.function;
    this.roles = [awaitFn.role, eventFn.role];
    this.handlerFunctions = [awaitFn, eventFn];

    this.rule = new events.Rule(this, 'Rule', {
      description: 'A Control Tower account operation ended: complete the executions waiting for it',
      eventPattern: CONTROL_TOWER_ACCOUNT_EVENT_PATTERN,
      targets: [new targets.LambdaFunction(eventFn.function, { retryAttempts: 8 })],
    });

    // Same account: Control Tower's events reach this bus without forwarding.
    if (account && account !== stack.account) {
      this.busPolicy = new events.CfnEventBusPolicy(this, 'BusPolicy', {
        eventBusName: 'default',
        statementId: `ControlTowerEventsFrom${props.managementAccountId}`,
        statement: {
          Sid: `ControlTowerEventsFrom${props.managementAccountId}`,
          Effect: 'Allow',
          Principal: { AWS: `arn:${stack.partition}:iam::${props.managementAccountId}:root` },
          Action: 'events:PutEvents',
          Resource: stack.formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' }),
          Condition: {
            StringEquals: {
              'events:source': 'aws.controltower',
              'events:detail-type': 'AWS Service Event via CloudTrail',
            },
          },
        },
      });
    }
  }

  /**
   * Lets both functions complete the task tokens of `stateMachine`'s executions. The
   * statement is a policy of its own: in the functions' default policies it would make
   * a cycle (function -> its policy -> state machine -> function).
   */
  public grantTaskResponse(stateMachine: sfn.IStateMachine): iam.Policy {
    const policy = new iam.Policy(this, `TaskTokens${this.grants++ || ''}`, {
      statements: [
        new iam.PolicyStatement({
          actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
          resources: [stateMachine.stateMachineArn],
        }),
      ],
    });
    for (const role of this.roles) policy.attachToRole(role);
    return policy;
  }
}
