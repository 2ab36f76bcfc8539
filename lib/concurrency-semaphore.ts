import { ArnFormat, Duration, Lazy, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { AcquireSlotInput, ReleaseSlotInput } from '../lambda/shared/contracts';
import { ENV } from '../lambda/shared/env';
import { grantTableReadWrite, grantTopicPublish } from './private/grants';
import { acknowledge, nagResource } from './private/nag';
import { HandlerFunction } from './private/handler-function';
import { HANDLER } from './workflow/step-names';
import { LAMBDA_FAILURE_RETRY } from './private/retry';

/** The default number of slots. */
export const DEFAULT_SEMAPHORE_LIMIT = 5;
/** The largest limit the semaphore accepts (one DynamoDB item holds every holder). */
export const MAX_SEMAPHORE_LIMIT = 100;

export interface ConcurrencySemaphoreProps {
  /**
   * The table that holds the lock and its waiters (partition key `pk`, sort key
   * `sk`, both strings). Several semaphores may share one table under different
   * lock names.
   * @default - a new on-demand table with point-in-time recovery
   */
  readonly table?: dynamodb.ITable;
  /**
   * The name of the lock (the partition key of its items).
   * @default 'control-tower'
   */
  readonly lockName?: string;
  /**
   * How many executions may hold a slot at once: an integer from 1 to 100.
   * @default 5
   */
  readonly limit?: number;
  /**
   * How long an Acquire task waits for its slot before it registers again. A
   * wake-up is sent as soon as a slot is free, and the reaper repairs a lost one
   * within `reaperSchedule`; this timeout is the last safety net (the execution
   * keeps its place in the queue). Keep it longer than a Control Tower operation:
   * a shorter one makes every waiter time out and register again each round,
   * costing state transitions for nothing.
   * @default Duration.hours(6)
   */
  readonly slotWaitTimeout?: Duration;
  /**
   * How often the reaper checks every holder and waiter, and releases those whose
   * execution no longer runs (EventBridge delivery is best effort).
   * @default Duration.minutes(5)
   */
  readonly reaperSchedule?: Duration;
  /**
   * Encrypts the table (when the semaphore creates it) and the function logs.
   * @default - AWS-managed encryption
   */
  readonly encryptionKey?: kms.IKey;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /**
   * The IAM path of the cleanup function's role: it reads Service Catalog records through
   * the Control Tower management role, which trusts the factory's roles under one path.
   * @default '/'
   */
  readonly cleanupRolePath?: string;
}

export interface AcquireOptions {
  /**
   * The state name.
   * @default - the construct id
   */
  readonly stateName?: string;
}

/** A lock added to a semaphore (`ConcurrencySemaphore.addLock`). */
export interface SemaphoreLockOptions {
  /** The name of the lock (the partition key of its items). */
  readonly lockName: string;
  /** How many holders at once: an integer from 1 to 100. */
  readonly limit: number;
  /**
   * The table of the lock.
   * @default - a new on-demand table with point-in-time recovery
   */
  readonly table?: dynamodb.ITable;
}

export interface SemaphoreLockProps extends SemaphoreLockOptions {
  /** The semaphore whose functions (acquire, release, cleanup and reaper) serve the lock. */
  readonly semaphore: ConcurrencySemaphore;
  /**
   * Encrypts the lock's table, when the lock creates it.
   * @default - AWS-managed encryption
   */
  readonly encryptionKey?: kms.IKey;
}

export interface HandOverOptions extends AcquireOptions {
  /**
   * The new holder, as a JSONPath or intrinsic function (e.g.
   * `JsonPath.format('codepipeline:{}:{}', ...)`): the slot passes from this
   * execution to it, and outlives the execution. Whoever runs the new holder's
   * work releases it; the reaper releases it once `isRunning` says it ended.
   */
  readonly holder: string;
}

interface LockTaskProps {
  readonly lockName: string;
  readonly limit: number;
  /** Sent in the payload when the lock is not in the semaphore's own table. */
  readonly table?: dynamodb.ITable;
}

/**
 * Another lock served by a semaphore's functions (acquire, release, cleanup and
 * reaper), in its own table: see `ConcurrencySemaphore.addLock`.
 */
export class SemaphoreLock extends Construct {
  public readonly table: dynamodb.ITable;
  public readonly lockName: string;
  public readonly limit: number;

  private readonly semaphore: ConcurrencySemaphore;

  constructor(scope: Construct, id: string, props: SemaphoreLockProps) {
    super(scope, id);
    this.semaphore = props.semaphore;
    validateLimit(props.limit, 'SemaphoreLock limit');
    validateLockName(props.lockName);
    this.lockName = props.lockName;
    this.limit = props.limit;
    this.table = props.table ?? newLockTable(this, props.encryptionKey);
  }

  /** The Acquire task of this lock (see `ConcurrencySemaphore.acquire`). */
  public acquire(scope: Construct, id: string, options: AcquireOptions = {}): tasks.LambdaInvoke {
    return this.semaphore._acquireTask(scope, id, this.task(), options);
  }

  /** The Acquire task with its `States.Timeout` loop (see `ConcurrencySemaphore.acquireWithRetryLoop`). */
  public acquireWithRetryLoop(
    scope: Construct,
    id: string,
    options: AcquireOptions = {},
  ): tasks.LambdaInvoke {
    return loopOnTimeout(this.acquire(scope, id, options));
  }

  /** The Release task of this lock (a no-op when the execution holds no slot). */
  public release(scope: Construct, id: string, options: AcquireOptions = {}): tasks.LambdaInvoke {
    return this.semaphore._releaseTask(scope, id, this.task(), options);
  }

  /**
   * Passes this execution's slot to another holder, in one conditional update of
   * the lock item (the count does not change). Fails with
   * `DynamoDB.ConditionalCheckFailedException` when the execution holds no slot
   * (e.g. the task is retried after it succeeded).
   */
  public handOver(scope: Construct, id: string, options: HandOverOptions): tasks.DynamoUpdateItem {
    return new tasks.DynamoUpdateItem(scope, id, {
      stateName: options.stateName,
      comment: `Passes this execution's slot of the ${this.lockName} semaphore to the work it started`,
      table: this.table,
      key: {
        pk: tasks.DynamoAttributeValue.fromString(this.lockName),
        sk: tasks.DynamoAttributeValue.fromString('lock'),
      },
      updateExpression: 'REMOVE #from SET #to = :by',
      conditionExpression: 'attribute_exists(#from) AND attribute_not_exists(#to)',
      expressionAttributeNames: { '#from': sfn.JsonPath.stringAt('$$.Execution.Id'), '#to': options.holder },
      // The value of a holder attribute is informational: here, who handed the slot over.
      expressionAttributeValues: {
        ':by': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$$.Execution.Id')),
      },
      resultPath: sfn.JsonPath.DISCARD,
    });
  }

  private task(): LockTaskProps {
    return { lockName: this.lockName, limit: this.limit, table: this.table };
  }
}

/**
 * A counting semaphore for Step Functions executions: at most `limit` executions
 * hold a slot of the lock at once; the others wait, first come first served by
 * execution start time, on a task token that the release of a slot completes.
 *
 * Acquire is a `lambda:invoke.waitForTaskToken` task, release a plain Lambda
 * task. A slot that a FAILED, TIMED_OUT or ABORTED execution still holds is
 * released by a cleanup function, triggered by EventBridge for each guarded state
 * machine (`guard()`) and on a schedule (the reaper).
 *
 * @example
 * const semaphore = new ConcurrencySemaphore(this, 'Semaphore', { limit: 3 });
 * const acquire = semaphore.acquireWithRetryLoop(this, 'Acquire slot');
 * const definition = acquire.next(work).next(semaphore.release(this, 'Release slot'));
 * const machine = new sfn.StateMachine(this, 'Machine', { definitionBody: sfn.DefinitionBody.fromChainable(definition) });
 * semaphore.guard(machine);
 */
export class ConcurrencySemaphore extends Construct {
  /** The table that holds the lock item and the waiter items. */
  public readonly table: dynamodb.ITable;
  public readonly lockName: string;
  public readonly limit: number;
  public readonly slotWaitTimeout: Duration;
  /** Registers a waiter and hands out a free slot (completes task tokens). */
  public readonly acquireFunction: lambda.IFunction;
  /** Releases a slot and wakes the next waiter. */
  public readonly releaseFunction: lambda.IFunction;
  /** Releases the slots and queue places of executions that ended without releasing. */
  public readonly cleanupFunction: lambda.IFunction;
  /** Runs the cleanup every `reaperSchedule`. */
  public readonly reaperRule: events.Rule;
  /** One rule per guarded state machine: runs the cleanup when an execution fails, times out or is aborted. */
  public readonly cleanupRules: events.Rule[] = [];

  /** Locks added with `addLock`. */
  public readonly extraLocks: SemaphoreLock[] = [];

  /** The acquire, release and cleanup functions. */
  private readonly handlerFunctions: HandlerFunction[];
  private readonly cleanup: HandlerFunction;
  private readonly encryptionKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: ConcurrencySemaphoreProps = {}) {
    super(scope, id);

    const limit = props.limit ?? DEFAULT_SEMAPHORE_LIMIT;
    validateLimit(limit, 'ConcurrencySemaphore limit');
    const lockName = props.lockName ?? 'control-tower';
    validateLockName(lockName);
    const slotWaitTimeout = props.slotWaitTimeout ?? Duration.hours(6);
    if (slotWaitTimeout.toSeconds() < 60) {
      throw new Error(
        `ConcurrencySemaphore slotWaitTimeout must be at least 1 minute, got ${slotWaitTimeout.toHumanString()}`,
      );
    }
    const reaperSchedule = props.reaperSchedule ?? Duration.minutes(5);
    if (reaperSchedule.toSeconds() < 60) {
      throw new Error(
        `ConcurrencySemaphore reaperSchedule must be at least 1 minute, got ${reaperSchedule.toHumanString()}`,
      );
    }
    this.limit = limit;
    this.lockName = lockName;
    this.slotWaitTimeout = slotWaitTimeout;

    this.encryptionKey = props.encryptionKey;
    this.table = props.table ?? newLockTable(this, props.encryptionKey);

    const environment = {
      [ENV.SEMAPHORE_TABLE]: this.table.tableName,
      [ENV.SEMAPHORE_LOCK_NAME]: lockName,
      [ENV.SEMAPHORE_LIMIT]: String(limit),
    };
    const common = { environment, logRetention: props.logRetention, encryptionKey: props.encryptionKey };
    const acquire = new HandlerFunction(this, 'Acquire', {
      ...common,
      handler: HANDLER.ACQUIRE_SLOT,
      description: 'Queues an execution for a semaphore slot and hands out free slots',
    });
    const release = new HandlerFunction(this, 'Release', {
      ...common,
      handler: HANDLER.RELEASE_SLOT,
      description: 'Releases a semaphore slot and wakes the next waiter',
    });
    const cleanup = new HandlerFunction(this, 'Cleanup', {
      ...common,
      handler: HANDLER.SEMAPHORE_CLEANUP,
      description: 'Releases semaphore slots of executions that ended without releasing them',
      timeout: Duration.minutes(5),
      rolePath: props.cleanupRolePath,
    });
    cleanup.function.addEnvironment(
      ENV.SEMAPHORE_EXTRA_LOCKS,
      Lazy.string({
        produce: () =>
          JSON.stringify(
            this.extraLocks.map((l) => ({ table: l.table.tableName, lockName: l.lockName, limit: l.limit })),
          ),
      }),
    );
    this.handlerFunctions = [acquire, release, cleanup];
    this.cleanup = cleanup;
    for (const f of this.handlerFunctions) grantTableReadWrite(this.table, f.role);
    this.acquireFunction = acquire.function;
    this.releaseFunction = release.function;
    this.cleanupFunction = cleanup.function;

    this.reaperRule = new events.Rule(this, 'Reaper', {
      description: `Releases ${lockName} semaphore slots whose execution no longer runs`,
      schedule: events.Schedule.rate(reaperSchedule),
      targets: [new targets.LambdaFunction(cleanup.function, { retryAttempts: 2 })],
    });
  }

  /**
   * The Acquire task: registers this execution as a waiter and waits for its task
   * token (`lambda:invoke.waitForTaskToken`). Its `taskTimeout` is
   * `slotWaitTimeout`: add a Catch on `States.Timeout` that loops back to this
   * task (re-registering keeps the queue place), or use `acquireWithRetryLoop`.
   */
  public acquire(scope: Construct, id: string, options: AcquireOptions = {}): tasks.LambdaInvoke {
    return this._acquireTask(scope, id, { lockName: this.lockName, limit: this.limit }, options);
  }

  /**
   * Another lock (e.g. one that bounds a later phase of the same workflow), in
   * its own table, served by this semaphore's functions: its slots are released
   * by the same cleanup rules and reaper.
   */
  public addLock(id: string, props: SemaphoreLockOptions): SemaphoreLock {
    const names = [this.lockName, ...this.extraLocks.map((l) => l.lockName)];
    if (names.includes(props.lockName)) {
      throw new Error(`ConcurrencySemaphore already has a lock named "${props.lockName}"`);
    }
    const lock = new SemaphoreLock(this, id, {
      ...props,
      semaphore: this,
      encryptionKey: this.encryptionKey,
    });
    for (const f of this.handlerFunctions) grantTableReadWrite(lock.table, f.role);
    this.extraLocks.push(lock);
    return lock;
  }

  /** @internal */
  public _acquireTask(
    scope: Construct,
    id: string,
    lock: LockTaskProps,
    options: AcquireOptions,
  ): tasks.LambdaInvoke {
    const payload: Record<Exclude<keyof AcquireSlotInput, 'table'>, unknown> & { table?: string } = {
      lockName: lock.lockName,
      limit: lock.limit,
      holder: sfn.JsonPath.stringAt('$$.Execution.Id'),
      queuedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
      taskToken: sfn.JsonPath.taskToken,
      // Orders this execution's task attempts: an aborted run's late registration never
      // overwrites the redriven run's (same ARN).
      attempt: {
        redriveCount: sfn.JsonPath.numberAt('$$.Execution.RedriveCount'),
        enteredTime: sfn.JsonPath.stringAt('$$.State.EnteredTime'),
      },
      ...(lock.table ? { table: lock.table.tableName } : {}),
    };
    const task = new tasks.LambdaInvoke(scope, id, {
      stateName: options.stateName,
      comment: `Waits for a slot of the ${lock.lockName} semaphore (limit ${lock.limit})`,
      lambdaFunction: this.acquireFunction,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject(payload),
      resultPath: sfn.JsonPath.DISCARD,
      taskTimeout: sfn.Timeout.duration(this.slotWaitTimeout),
    });
    task.addRetry(LAMBDA_FAILURE_RETRY);
    return task;
  }

  /**
   * The Acquire task with its safety net in place: on `States.Timeout` it loops
   * back to itself, so a lost wake-up costs at most `slotWaitTimeout`. Add the
   * caller's own Retry and Catch after this one.
   */
  public acquireWithRetryLoop(
    scope: Construct,
    id: string,
    options: AcquireOptions = {},
  ): tasks.LambdaInvoke {
    return loopOnTimeout(this.acquire(scope, id, options));
  }

  /** The Release task: frees this execution's slot and wakes the next waiter. */
  public release(scope: Construct, id: string, options: AcquireOptions = {}): tasks.LambdaInvoke {
    return this._releaseTask(scope, id, { lockName: this.lockName, limit: this.limit }, options);
  }

  /** @internal */
  public _releaseTask(
    scope: Construct,
    id: string,
    lock: LockTaskProps,
    options: AcquireOptions,
  ): tasks.LambdaInvoke {
    const payload: Record<Exclude<keyof ReleaseSlotInput, 'table'>, unknown> & { table?: string } = {
      lockName: lock.lockName,
      limit: lock.limit,
      holder: sfn.JsonPath.stringAt('$$.Execution.Id'),
      ...(lock.table ? { table: lock.table.tableName } : {}),
    };
    const task = new tasks.LambdaInvoke(scope, id, {
      stateName: options.stateName,
      comment: `Releases this execution's slot of the ${lock.lockName} semaphore`,
      lambdaFunction: this.releaseFunction,
      payload: sfn.TaskInput.fromObject(payload),
      resultPath: sfn.JsonPath.DISCARD,
    });
    task.addRetry(LAMBDA_FAILURE_RETRY);
    return task;
  }

  /**
   * Lets a step that starts a Control Tower operation mark its slot with the
   * operation (`beginOperation` / `recordOperation` in lambda/shared/semaphore.ts):
   * UpdateItem on the lock item. The slot is then freed only when the operation's
   * Service Catalog record is terminal, whatever happens to the execution.
   */
  public grantOperationMarks(grantee: iam.IGrantable): iam.Grant {
    return grantTableReadWrite(this.table, grantee);
  }

  /**
   * Lets the cleanup and the reaper read the Service Catalog records marked on
   * slots (DescribeRecord), through `managementRole` (the Control Tower management
   * account's role) when the factory runs in another account.
   */
  public checkOperationRecords(managementRole?: iam.IRole, homeRegion?: string): void {
    const cleanup = this.cleanup;
    if (homeRegion) cleanup.function.addEnvironment(ENV.CONTROL_TOWER_HOME_REGION, homeRegion);
    if (managementRole) {
      cleanup.function.addEnvironment(ENV.MANAGEMENT_ROLE_ARN, managementRole.roleArn);
      cleanup.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [managementRole.roleArn] }),
      );
    } else {
      cleanup.allowOnAnyResource(
        ['servicecatalog:DescribeRecord'],
        'reads the records of the Control Tower operations marked on slots, whose IDs are known at run time only',
      );
    }
  }

  /**
   * Reports, to `topic`, each Control Tower operation that ran on after the execution
   * that started it had ended (aborted, timed out): what exists and how to resume.
   */
  public reportOrphanedOperations(topic: sns.ITopic): void {
    const cleanup = this.cleanup;
    cleanup.function.addEnvironment(ENV.ORPHANED_OPERATIONS_TOPIC_ARN, topic.topicArn);
    grantTopicPublish(topic, cleanup.role);
  }

  /**
   * Lets the semaphore serve a state machine: its functions may complete the
   * machine's task tokens, and an EventBridge rule runs the cleanup when one of
   * its executions fails, times out or is aborted.
   */
  public guard(stateMachine: sfn.IStateMachine): events.Rule {
    const stack = Stack.of(this);
    const index = this.cleanupRules.length;
    const suffix = index === 0 ? '' : String(index + 1);

    // A separate policy (not the roles' default policies): the functions do not
    // depend on it, so the state machine may depend on the functions without a cycle.
    const taskTokenPolicy = new iam.Policy(this, `TaskTokens${suffix}`, {
      statements: [
        new iam.PolicyStatement({
          actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
          resources: [stateMachine.stateMachineArn],
        }),
      ],
    });
    for (const f of this.handlerFunctions) taskTokenPolicy.attachToRole(f.role);

    const machineName = stack.splitArn(
      stateMachine.stateMachineArn,
      ArnFormat.COLON_RESOURCE_NAME,
    ).resourceName;
    const executionsArn = stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${machineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const describePolicy = new iam.Policy(this, `DescribeExecutions${suffix}`, {
      statements: [
        new iam.PolicyStatement({ actions: ['states:DescribeExecution'], resources: [executionsArn] }),
      ],
    });
    // The cleanup, and a wake-up whose token is gone, ask whether the execution still runs.
    for (const f of this.handlerFunctions) describePolicy.attachToRole(f.role);
    acknowledge(
      describePolicy,
      'AwsSolutions-IAM5',
      'The cleanup describes the executions of the guarded state machine: their names are not known in advance',
      [`Resource::${nagResource(this, executionsArn)}`],
    );

    const rule = new events.Rule(this, `ExecutionEnded${suffix}`, {
      description: `Releases the ${this.lockName} semaphore slot of an execution that failed, timed out or was aborted`,
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
          stateMachineArn: [stateMachine.stateMachineArn],
        },
      },
      targets: [new targets.LambdaFunction(this.cleanupFunction, { retryAttempts: 8 })],
    });
    this.cleanupRules.push(rule);
    return rule;
  }
}

/**
 * The Acquire task with its safety net in place: on `States.Timeout` it loops back to
 * itself (re-registering keeps the queue place), so a lost wake-up costs at most the
 * slot wait timeout.
 */
function loopOnTimeout(task: tasks.LambdaInvoke): tasks.LambdaInvoke {
  task.addCatch(task, { errors: [sfn.Errors.TIMEOUT], resultPath: sfn.JsonPath.DISCARD });
  return task;
}

function validateLockName(lockName: string): void {
  if (!Token.isUnresolved(lockName) && !/^[A-Za-z0-9_.:-]{1,128}$/.test(lockName)) {
    throw new Error(
      `ConcurrencySemaphore lockName must be 1-128 characters of A-Z a-z 0-9 _ . : -, got "${lockName}"`,
    );
  }
}

function newLockTable(scope: Construct, encryptionKey: kms.IKey | undefined): dynamodb.Table {
  return new dynamodb.Table(scope, 'Table', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: encryptionKey
      ? dynamodb.TableEncryption.CUSTOMER_MANAGED
      : dynamodb.TableEncryption.AWS_MANAGED,
    encryptionKey,
    // The semaphore only holds in-flight state: nothing to keep once the factory is gone.
    removalPolicy: RemovalPolicy.DESTROY,
  });
}

/** Throws unless `limit` is an integer from 1 to MAX_SEMAPHORE_LIMIT. */
export function validateLimit(limit: number, what: string): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEMAPHORE_LIMIT) {
    throw new Error(`${what} must be an integer from 1 to ${MAX_SEMAPHORE_LIMIT}, got ${limit}`);
  }
}
