import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV } from '../lambda/shared/env';
import { grantTableRead, grantTableReadWrite } from './private/grants';
import { HandlerFunction } from './private/handler-function';

export interface AccountIndexProps {
  /** The role the factory assumes in the Control Tower management account (ListAccounts there). */
  readonly managementRole: iam.IRole;
  /** @default '/account-factory/' */
  readonly rolePath?: string;
  /**
   * The Control Tower home region (Organizations is global; the management clients are made there).
   * @default - this stack's region
   */
  readonly controlTowerHomeRegion?: string;
  /**
   * How often the index is rebuilt from a full listing of the organization. A stale miss
   * (an account made outside the factory since) is refused by Account Factory itself.
   * @default Duration.hours(1)
   */
  readonly reconcileInterval?: Duration;
  /** @default - AWS-managed encryption */
  readonly encryptionKey?: kms.IKey;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The organization's accounts by email and by name (lambda/shared/account-index.ts), so
 * validating a request costs the same at 100 or 5,000 accounts: one GetItem and at
 * most one DescribeAccount, instead of a full ListAccounts. A scheduled reconcile
 * rebuilds it from one listing.
 */
export class AccountIndex extends Construct {
  /** Partition key `pk` (`email#...` / `name#...`), sort key `sk`. */
  public readonly table: dynamodb.Table;
  public readonly reconcileFunction: lambda.IFunction;
  /** The reconcile function with its role and log group. */
  public readonly reconcileHandler: HandlerFunction;
  public readonly reconcileRule: events.Rule;

  constructor(scope: Construct, id: string, props: AccountIndexProps) {
    super(scope, id);
    const interval = props.reconcileInterval ?? Duration.hours(1);
    if (!interval.isUnresolved() && (interval.toSeconds() < 300 || interval.toSeconds() > 86_400)) {
      throw new Error(
        `AccountIndex: reconcileInterval must be between 5 minutes and 24 hours, got ${interval.toHumanString()}`,
      );
    }
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      ...(props.encryptionKey
        ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.encryptionKey }
        : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
      // A cache of Organizations: the reconcile rebuilds it.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const fn = new HandlerFunction(this, 'Reconcile', {
      handler: 'reconcile-account-index',
      description: "Rebuilds the index of the organization's accounts from one listing",
      environment: {
        [ENV.ACCOUNT_INDEX_TABLE]: this.table.tableName,
        [ENV.MANAGEMENT_ROLE_ARN]: props.managementRole.roleArn,
        [ENV.CONTROL_TOWER_HOME_REGION]: props.controlTowerHomeRegion ?? Stack.of(this).region,
      },
      rolePath: props.rolePath ?? '/account-factory/',
      logRetention: props.logRetention,
      encryptionKey: props.encryptionKey,
      timeout: Duration.minutes(5),
    });
    grantTableReadWrite(this.table, fn.role);
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [props.managementRole.roleArn] }),
    );
    this.reconcileFunction = fn.function;
    this.reconcileHandler = fn;
    this.reconcileRule = new events.Rule(this, 'Schedule', {
      description: "Rebuilds the account factory's index of the organization's accounts",
      schedule: events.Schedule.rate(interval),
      targets: [new targets.LambdaFunction(fn.function, { retryAttempts: 2 })],
    });
  }

  /** Lets a step read the index (validate-request, fetch-account-id). */
  public grantRead(grantee: iam.IGrantable): void {
    grantTableRead(this.table, grantee);
  }
}
