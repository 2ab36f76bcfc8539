import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ENV } from '../lambda/shared/env';
import {
  DEFAULT_METRICS_NAMESPACE,
  ERROR_NAME_DIMENSION,
  FACTORY_DIMENSION,
  LOCK_DIMENSION,
  METRIC,
} from '../lambda/shared/metrics';

/**
 * Operating the factory: the metrics its handlers emit, alarms on what means the
 * factory itself is unwell, and one dashboard.
 *
 * Built with the CDK's own CloudWatch constructs (`aws-cdk-lib/aws-cloudwatch`):
 * cdk-monitoring-constructs is not a dependency of this package, and adding it would
 * make every consumer install it (and keep its aws-cdk-lib range in step with ours) for
 * one dashboard and a dozen alarms.
 *
 * The handlers emit their metrics in embedded metric format (lambda/shared/metrics.ts):
 * namespace `namespace`, dimension `Factory` = `factoryName` on every metric (set here
 * on every function as `ACCOUNT_FACTORY_NAME` and `POWERTOOLS_METRICS_NAMESPACE`).
 */

/** A semaphore lock the monitoring shows: its name (the `Lock` dimension) and limit. */
export interface MonitoredLock {
  readonly lockName: string;
  readonly limit: number;
}

/** What a user chooses (`AccountFactoryProps.monitoring`). */
export interface AccountFactoryMonitoringOptions {
  /**
   * The `Factory` dimension of the factory's metrics: 1-255 printable ASCII characters, no quotes.
   * @default - the factory construct's path (e.g. `Accounts/Factory`)
   */
  readonly factoryName?: string;
  /**
   * The CloudWatch namespace of the factory's metrics (not starting with `AWS/`).
   * @default 'AccountFactory'
   */
  readonly namespace?: string;
  /**
   * Create the alarms. Each alarm's description says what it means and what to do.
   * @default true
   */
  readonly alarms?: boolean;
  /**
   * Where the alarms go (on ALARM). A topic encrypted with a customer-managed key needs
   * that key to let CloudWatch use it (`alarmTopicKey`); a topic encrypted with the
   * AWS-managed key `alias/aws/sns` cannot receive CloudWatch alarms at all (AWS: "Enable
   * compatibility between event sources from AWS services and encrypted topics").
   * @default - a new topic, encrypted with a new KMS key that CloudWatch may use
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * The customer-managed key of `alarmTopic`: CloudWatch is allowed to use it (for alarms
   * of this account only). A key imported into the app keeps its policy: add the
   * statement yourself.
   * @default - none (the default topic's key is created with the statement)
   */
  readonly alarmTopicKey?: kms.IKey;
  /**
   * Create the dashboard.
   * @default true
   */
  readonly dashboard?: boolean;
  /**
   * The period of every alarm and of the dashboard's graphs.
   * @default Duration.minutes(5)
   */
  readonly period?: Duration;
  /**
   * Executions that failed, timed out or were aborted within one period. One failed
   * request is its own notification; several in a row is the factory.
   * @default 3
   */
  readonly failedExecutionsThreshold?: number;
  /**
   * Control Tower operations that ended FAILED within one period (Control Tower's own
   * error: a landing zone problem, an SCP, a drifted OU).
   * @default 1
   */
  readonly controlTowerFailuresThreshold?: number;
  /**
   * Stream records the request trigger failed to start an execution for, plus the
   * trigger's own errors, within one period. A record that keeps failing ends on the
   * failure topic (the stream's on-failure destination).
   * @default 1
   */
  readonly triggerFailuresThreshold?: number;
  /**
   * Stream records the request trigger's event source mapping gave up on within one period,
   * after its retries: sent to the on-failure destination (the failure topic), or dropped
   * when even that delivery failed (Lambda's `OnFailureDestinationDeliveredEventCount` and
   * `DroppedEventCount`). Each is a request version that never started: the default, 1,
   * alarms on the first.
   * @default 1
   */
  readonly triggerFailureDestinationThreshold?: number;
  /**
   * A Control Tower slot held longer than this (an account creation takes 25-60 minutes;
   * a slot held for hours is an operation, or a holder, that is stuck). Measured by the
   * semaphore cleanup on each run (every reaper period).
   * @default Duration.hours(3)
   */
  readonly slotHeldLimit?: Duration;
  /**
   * The first execution in line for a Control Tower slot waiting longer than this. At the
   * default limit of 5 operations of about 25 minutes, 300 requests queue for a day.
   * @default Duration.hours(24)
   */
  readonly waiterAgeLimit?: Duration;
  /**
   * Account pipelines that failed or were stopped within one period.
   * @default 1
   */
  readonly pipelineFailuresThreshold?: number;
  /**
   * Errors of one Lambda function within one period. Step handlers throw named errors
   * that the workflow catches (a bad request is one): a few are expected.
   * @default 5
   */
  readonly lambdaErrorsThreshold?: number;
  /**
   * Throttles of one Lambda function within one period.
   * @default 1
   */
  readonly lambdaThrottlesThreshold?: number;
}

export interface AccountFactoryMonitoringProps extends AccountFactoryMonitoringOptions {
  /** The provisioning state machine. */
  readonly stateMachine: sfn.IStateMachine;
  /** Every function of the factory, by handler name (their errors and throttles are alarmed). */
  readonly functions: Record<string, lambda.IFunction>;
  /** The function the requests table's stream invokes. */
  readonly requestTrigger: lambda.IFunction;
  /**
   * The id (UUID) of the event source mapping from the requests table's stream to
   * `requestTrigger`, with its `EventCount` metrics on (`metricsConfig`); its
   * `OnFailureDestinationDeliveredEventCount` and `DroppedEventCount` are alarmed
   * (`triggerFailureDestinationThreshold`). `AccountFactory` passes its own.
   * @default - no alarm on the records the trigger gives up on
   */
  readonly requestTriggerEventSourceMappingId?: string;
  /** The lock of the Control Tower operations. */
  readonly controlTowerLock: MonitoredLock;
  /**
   * The lock of the account pipelines.
   * @default - none shown
   */
  readonly customizationsLock?: MonitoredLock;
}

const NAMESPACE = /^(?!AWS\/)[A-Za-z0-9.\-_/#: ]{1,255}$/;
/** Printable ASCII without quotes (the dashboard's SEARCH expression quotes it). */
const DIMENSION_VALUE = /^[\x20-\x21\x23-\x26\x28-\x7e]{1,255}$/;

function positive(value: number | undefined, fallback: number, what: string): number {
  const v = value ?? fallback;
  if (!(v > 0) || !Number.isFinite(v)) {
    throw new Error(`AccountFactoryMonitoring ${what} must be a number above 0, got ${v}`);
  }
  return v;
}

function atLeastAMinute(value: Duration | undefined, fallback: Duration, what: string): Duration {
  const v = value ?? fallback;
  if (v.toSeconds() < 60) {
    throw new Error(`AccountFactoryMonitoring ${what} must be at least 1 minute, got ${v.toHumanString()}`);
  }
  return v;
}

/**
 * Alarms (on by default) and a dashboard (on by default) for an account factory, and
 * `metric*()` methods for the metrics its handlers emit.
 *
 * @example
 * const monitoring = new AccountFactoryMonitoring(this, 'Monitoring', {
 *   stateMachine: factory.stateMachine,
 *   functions: factory.functions,
 *   requestTrigger: factory.requestTrigger,
 *   requestTriggerEventSourceMappingId: factory.requestTriggerEventSourceMappingId,
 *   controlTowerLock: factory.semaphore,
 *   customizationsLock: factory.customizationsLock,
 *   slotHeldLimit: Duration.hours(2),
 * });
 * monitoring.metricAccountsVended();
 */
export class AccountFactoryMonitoring extends Construct {
  /** The `Factory` dimension of every metric. */
  public readonly factoryName: string;
  public readonly namespace: string;
  public readonly period: Duration;
  /** Where the alarms go (undefined with `alarms: false`). */
  public readonly alarmTopic?: sns.ITopic;
  /** Every alarm created, by what it watches. */
  public readonly alarms: Record<string, cloudwatch.Alarm> = {};
  public readonly dashboard?: cloudwatch.Dashboard;

  private readonly props: AccountFactoryMonitoringProps;

  constructor(scope: Construct, id: string, props: AccountFactoryMonitoringProps) {
    super(scope, id);
    this.props = props;
    this.factoryName = props.factoryName ?? scope.node.path;
    if (!DIMENSION_VALUE.test(this.factoryName)) {
      throw new Error(
        `AccountFactoryMonitoring factoryName must be 1-255 printable ASCII characters without quotes, got "${this.factoryName}"`,
      );
    }
    this.namespace = props.namespace ?? DEFAULT_METRICS_NAMESPACE;
    if (!NAMESPACE.test(this.namespace)) {
      throw new Error(
        `AccountFactoryMonitoring namespace "${this.namespace}" is not a CloudWatch namespace of yours: ` +
          '1-255 of letters, digits and . - _ / # : space, not starting with AWS/',
      );
    }
    this.period = atLeastAMinute(props.period, Duration.minutes(5), 'period');

    // The handlers read the dimension and the namespace from their environment.
    for (const fn of new Set([...Object.values(props.functions), props.requestTrigger])) {
      if (fn instanceof lambda.Function) {
        fn.addEnvironment(ENV.ACCOUNT_FACTORY_NAME, this.factoryName);
        fn.addEnvironment('POWERTOOLS_METRICS_NAMESPACE', this.namespace);
      }
    }

    if (props.alarms ?? true) {
      this.alarmTopic = props.alarmTopic ?? this.createAlarmTopic();
      if (props.alarmTopic && props.alarmTopicKey) this.allowCloudWatch(props.alarmTopicKey);
      this.createAlarms(props);
    } else if (props.alarmTopic) {
      throw new Error('AccountFactoryMonitoring: alarmTopic is given but alarms is false');
    }
    if (props.dashboard ?? true) this.dashboard = this.createDashboard(props);
  }

  // ---- Metrics ---------------------------------------------------------------

  /** A metric the handlers emit, with this factory's dimension (and `dimensions`). */
  public metric(
    metricName: string,
    props: cloudwatch.MetricOptions = {},
    dimensions: Record<string, string> = {},
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName,
      period: this.period,
      statistic: cloudwatch.Stats.SUM,
      ...props,
      dimensionsMap: { [FACTORY_DIMENSION]: this.factoryName, ...dimensions, ...props.dimensionsMap },
    });
  }

  /** New accounts ready (CREATE requests that succeeded). Sum. */
  public metricAccountsVended(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.ACCOUNTS_VENDED, props);
  }

  /** UPDATE requests that succeeded. Sum. */
  public metricAccountsUpdated(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.ACCOUNTS_UPDATED, props);
  }

  /** IMPORT requests that succeeded (existing accounts enrolled). Sum. */
  public metricAccountsImported(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.ACCOUNTS_IMPORTED, props);
  }

  /** ADOPT requests that succeeded (taken over without a Control Tower operation). Sum. */
  public metricAccountsAdopted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.ACCOUNTS_ADOPTED, props);
  }

  /** CUSTOMIZE requests that succeeded. Sum. */
  public metricAccountsCustomized(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.ACCOUNTS_CUSTOMIZED, props);
  }

  /** Removed requests whose account left management. Sum. */
  public metricAccountsRemoved(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.ACCOUNTS_REMOVED, props);
  }

  /** Requests that ended in the failure chain (superseded versions left out). Sum. */
  public metricRequestsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.REQUESTS_FAILED, props);
  }

  /** Failed requests with the error that failed them (e.g. `ControlTowerOperationFailed`). Sum. */
  public metricStepFailures(errorName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.STEP_FAILURES, props, { [ERROR_NAME_DIMENSION]: errorName });
  }

  /** Seconds from an execution's start to its notification. Average. */
  public metricRequestDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.REQUEST_DURATION, {
      statistic: cloudwatch.Stats.AVERAGE,
      unit: cloudwatch.Unit.SECONDS,
      ...props,
    });
  }

  /** Seconds each Control Tower operation took, measured when it ended. Average. */
  public metricControlTowerDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.CONTROL_TOWER_DURATION, {
      statistic: cloudwatch.Stats.AVERAGE,
      unit: cloudwatch.Unit.SECONDS,
      ...props,
    });
  }

  /** Control Tower operations that ended FAILED. Sum. */
  public metricControlTowerOperationsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.CONTROL_TOWER_FAILED, props);
  }

  /** Control Tower operations that ended SUCCEEDED. Sum. */
  public metricControlTowerOperationsSucceeded(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.CONTROL_TOWER_SUCCEEDED, props);
  }

  /** Seconds from an execution's start to the start of its Control Tower operation. Average. */
  public metricSlotWait(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.SLOT_WAIT, {
      statistic: cloudwatch.Stats.AVERAGE,
      unit: cloudwatch.Unit.SECONDS,
      ...props,
    });
  }

  private lockName(lock?: MonitoredLock): string {
    return (lock ?? this.props.controlTowerLock).lockName;
  }

  /** Slots held (sampled by each semaphore cleanup run). Maximum. Default: the Control Tower lock. */
  public metricSlotsInUse(lock?: MonitoredLock, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(
      METRIC.SLOTS_IN_USE,
      { statistic: cloudwatch.Stats.MAXIMUM, ...props },
      { [LOCK_DIMENSION]: this.lockName(lock) },
    );
  }

  /** Executions waiting for a slot. Maximum. Default: the Control Tower lock. */
  public metricWaiters(lock?: MonitoredLock, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(
      METRIC.WAITERS,
      { statistic: cloudwatch.Stats.MAXIMUM, ...props },
      { [LOCK_DIMENSION]: this.lockName(lock) },
    );
  }

  /** Seconds the first execution in line has waited. Maximum. Default: the Control Tower lock. */
  public metricOldestWaiterAge(lock?: MonitoredLock, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(
      METRIC.OLDEST_WAITER_AGE,
      {
        statistic: cloudwatch.Stats.MAXIMUM,
        unit: cloudwatch.Unit.SECONDS,
        ...props,
      },
      { [LOCK_DIMENSION]: this.lockName(lock) },
    );
  }

  /** Seconds the longest-held slot has been held. Maximum. Default: the Control Tower lock. */
  public metricOldestSlotAge(lock?: MonitoredLock, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(
      METRIC.OLDEST_SLOT_AGE,
      {
        statistic: cloudwatch.Stats.MAXIMUM,
        unit: cloudwatch.Unit.SECONDS,
        ...props,
      },
      { [LOCK_DIMENSION]: this.lockName(lock) },
    );
  }

  /** Account pipelines that succeeded. Sum. */
  public metricCustomizationsSucceeded(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.CUSTOMIZATIONS_SUCCEEDED, props);
  }

  /** Account pipelines that failed or were stopped. Sum. */
  public metricCustomizationsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.CUSTOMIZATIONS_FAILED, props);
  }

  /** Stream records the request trigger could not start an execution for. Sum. */
  public metricTriggerRecordsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.TRIGGER_RECORDS_FAILED, props);
  }

  private eventSourceMappingMetric(metricName: string, props: cloudwatch.MetricOptions): cloudwatch.Metric {
    const id = this.props.requestTriggerEventSourceMappingId;
    if (!id) {
      throw new Error(
        `AccountFactoryMonitoring: ${metricName} needs requestTriggerEventSourceMappingId (the request trigger's event source mapping)`,
      );
    }
    return new cloudwatch.Metric({
      namespace: 'AWS/Lambda',
      metricName,
      period: this.period,
      statistic: cloudwatch.Stats.SUM,
      ...props,
      dimensionsMap: { EventSourceMappingUUID: id, ...props.dimensionsMap },
    });
  }

  /**
   * Stream records the request trigger's event source mapping sent to its on-failure
   * destination (the failure topic) after its retries (AWS/Lambda
   * `OnFailureDestinationDeliveredEventCount`, by `EventSourceMappingUUID`). Sum. Needs
   * `requestTriggerEventSourceMappingId`.
   */
  public metricTriggerRecordsSentToFailureDestination(
    props: cloudwatch.MetricOptions = {},
  ): cloudwatch.Metric {
    return this.eventSourceMappingMetric('OnFailureDestinationDeliveredEventCount', props);
  }

  /**
   * Stream records the request trigger's event source mapping dropped: retries exhausted
   * and the delivery to the on-failure destination failed too (AWS/Lambda
   * `DroppedEventCount`). Sum. Needs `requestTriggerEventSourceMappingId`.
   */
  public metricTriggerRecordsDropped(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.eventSourceMappingMetric('DroppedEventCount', props);
  }

  /**
   * Stream records the request trigger gave up on: sent to the on-failure destination, or
   * dropped. Their request versions never started. Needs `requestTriggerEventSourceMappingId`.
   */
  public metricTriggerRecordsGivenUp(): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: 'FILL(sentToDestination, 0) + FILL(dropped, 0)',
      usingMetrics: {
        sentToDestination: this.metricTriggerRecordsSentToFailureDestination(),
        dropped: this.metricTriggerRecordsDropped(),
      },
      label: 'Request trigger: records given up (on-failure destination or dropped)',
      period: this.period,
    });
  }

  /** Executions that failed, timed out or were aborted (AWS/States). Sum of the three. */
  public metricExecutionsFailed(): cloudwatch.MathExpression {
    const sm = this.props.stateMachine;
    const options = { period: this.period, statistic: cloudwatch.Stats.SUM };
    return new cloudwatch.MathExpression({
      expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
      usingMetrics: {
        failed: sm.metricFailed(options),
        timedOut: sm.metricTimedOut(options),
        aborted: sm.metricAborted(options),
      },
      label: 'Executions failed, timed out or aborted',
      period: this.period,
    });
  }

  // ---- Alarms ----------------------------------------------------------------

  /**
   * A new topic for the alarms, encrypted with a new key that CloudWatch may use (a topic
   * encrypted with the AWS-managed key cannot receive CloudWatch alarms).
   */
  private createAlarmTopic(): sns.Topic {
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Encrypts the account factory alarm topic; CloudWatch alarms of this account use it',
      enableKeyRotation: true,
    });
    this.allowCloudWatch(key);
    return new sns.Topic(this, 'AlarmTopic', {
      displayName: 'Account factory: alarms',
      masterKey: key,
      enforceSSL: true,
    });
  }

  /** Lets CloudWatch alarms of this account publish to a topic encrypted with `key`. */
  private allowCloudWatch(key: kms.IKey): void {
    const stack = Stack.of(this);
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
  }

  private addAlarm(
    key: string,
    metric: cloudwatch.IMetric,
    threshold: number,
    description: string,
    comparison = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, `${key}Alarm`, {
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: comparison,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `Account factory ${this.factoryName}: ${description}`,
    });
    if (this.alarmTopic) alarm.addAlarmAction(new cwActions.SnsAction(this.alarmTopic));
    this.alarms[key] = alarm;
    return alarm;
  }

  private createAlarms(props: AccountFactoryMonitoringProps): void {
    this.addAlarm(
      'ExecutionsFailed',
      this.metricExecutionsFailed(),
      positive(props.failedExecutionsThreshold, 3, 'failedExecutionsThreshold'),
      'provisioning executions failed, timed out or were aborted. Each failed request has its failure ' +
        'notification; several at once point at the factory (a permission, a limit, Control Tower).',
    );
    this.addAlarm(
      'ControlTowerFailures',
      this.metricControlTowerOperationsFailed(),
      positive(props.controlTowerFailuresThreshold, 1, 'controlTowerFailuresThreshold'),
      'Control Tower operations ended FAILED. The failure notification carries the Service Catalog ' +
        "record's errors; check the landing zone in the Control Tower console.",
    );
    const triggerErrors = props.requestTrigger.metricErrors({
      period: this.period,
      statistic: cloudwatch.Stats.SUM,
    });
    this.addAlarm(
      'TriggerFailures',
      new cloudwatch.MathExpression({
        expression: 'FILL(records, 0) + FILL(errors, 0)',
        usingMetrics: { records: this.metricTriggerRecordsFailed(), errors: triggerErrors },
        label: 'Request trigger failures',
        period: this.period,
      }),
      positive(props.triggerFailuresThreshold, 1, 'triggerFailuresThreshold'),
      'the request trigger could not start executions for stream records. They are retried; a record ' +
        'that keeps failing is sent to the failure topic (the on-failure destination) and its request does not run.',
    );
    const givenUp = positive(
      props.triggerFailureDestinationThreshold,
      1,
      'triggerFailureDestinationThreshold',
    );
    if (props.requestTriggerEventSourceMappingId) {
      this.addAlarm(
        'TriggerRecordsGivenUp',
        this.metricTriggerRecordsGivenUp(),
        givenUp,
        'the request trigger gave up on stream records after its retries: they were sent to the on-failure ' +
          'destination (the failure topic; its message names the stream shard and sequence numbers) or dropped. ' +
          "Those request versions never started: fix the cause (the trigger's logs), then write each request again.",
      );
    }
    const slotHeld = atLeastAMinute(props.slotHeldLimit, Duration.hours(3), 'slotHeldLimit');
    this.addAlarm(
      'SlotHeldTooLong',
      this.metricOldestSlotAge(),
      slotHeld.toSeconds(),
      `a Control Tower slot has been held for more than ${slotHeld.toHumanString()}. ` +
        '`account-factory status` shows who holds it; the reaper frees it once its execution and operation have ended.',
      cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    );
    const waiterAge = atLeastAMinute(props.waiterAgeLimit, Duration.hours(24), 'waiterAgeLimit');
    this.addAlarm(
      'WaiterTooOld',
      this.metricOldestWaiterAge(),
      waiterAge.toSeconds(),
      `the first execution in line for a Control Tower slot has waited more than ${waiterAge.toHumanString()}. ` +
        'Slots are not being freed, or far more requests arrived than the limit serves.',
      cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    );
    this.addAlarm(
      'PipelineFailures',
      this.metricCustomizationsFailed(),
      positive(props.pipelineFailuresThreshold, 1, 'pipelineFailuresThreshold'),
      'account customizations pipelines failed or were stopped. The failure notification names the account and stage.',
    );
    const errors = positive(props.lambdaErrorsThreshold, 5, 'lambdaErrorsThreshold');
    const throttles = positive(props.lambdaThrottlesThreshold, 1, 'lambdaThrottlesThreshold');
    const options = { period: this.period, statistic: cloudwatch.Stats.SUM };
    for (const [handler, fn] of Object.entries(props.functions).sort(([a], [b]) => a.localeCompare(b))) {
      const id = handler.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());
      this.addAlarm(
        `${id}Errors`,
        fn.metricErrors(options),
        errors,
        `function ${handler} failed invocations.`,
      );
      this.addAlarm(
        `${id}Throttles`,
        fn.metricThrottles(options),
        throttles,
        `function ${handler} was throttled (account concurrency).`,
      );
    }
  }

  // ---- Dashboard ---------------------------------------------------------------

  private createDashboard(props: AccountFactoryMonitoringProps): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(1),
    });
    const width = 12;
    const ct = props.controlTowerLock;
    const lockGraphs = (lock: MonitoredLock, title: string) => [
      new cloudwatch.GraphWidget({
        title: `${title}: slots in use vs limit`,
        width,
        left: [this.metricSlotsInUse(lock, { label: 'slots in use' })],
        leftAnnotations: [{ value: lock.limit, label: `limit ${lock.limit}` }],
        leftYAxis: { min: 0 },
      }),
      new cloudwatch.GraphWidget({
        title: `${title}: waiters`,
        width,
        left: [this.metricWaiters(lock, { label: 'waiters' })],
        right: [
          this.metricOldestWaiterAge(lock, { label: 'oldest waiter (s)' }),
          this.metricOldestSlotAge(lock, { label: 'oldest slot held (s)' }),
        ],
        leftYAxis: { min: 0 },
      }),
    ];
    const sum = { period: this.period, statistic: cloudwatch.Stats.SUM };
    const functions = Object.entries(props.functions).sort(([a], [b]) => a.localeCompare(b));
    const fnMetrics = (kind: 'Errors' | 'Throttles') =>
      Object.fromEntries(
        functions.map(([, fn], i) => [
          `${kind.toLowerCase()}${i}`,
          kind === 'Errors' ? fn.metricErrors(sum) : fn.metricThrottles(sum),
        ]),
      );
    const total = (kind: 'Errors' | 'Throttles') => {
      const using = fnMetrics(kind);
      return new cloudwatch.MathExpression({
        expression: Object.keys(using)
          .map((k) => `FILL(${k}, 0)`)
          .join(' + '),
        usingMetrics: using,
        label: `Lambda ${kind.toLowerCase()} (all functions)`,
        period: this.period,
      });
    };
    dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          `# Account factory ${this.factoryName}\n` +
          'Requests by outcome, the Control Tower slots, the time Control Tower takes, customizations and errors. ' +
          'In the terminal: `account-factory status`.',
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Requests by outcome',
        width,
        stacked: true,
        left: [
          this.metricAccountsVended({ label: 'vended' }),
          this.metricAccountsUpdated({ label: 'updated' }),
          this.metricAccountsImported({ label: 'imported' }),
          this.metricAccountsAdopted({ label: 'adopted' }),
          this.metricAccountsCustomized({ label: 'customized' }),
          this.metricAccountsRemoved({ label: 'removed' }),
          this.metricRequestsFailed({ label: 'failed' }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Executions',
        width,
        left: [
          props.stateMachine.metricStarted({ ...sum, label: 'Started' }),
          props.stateMachine.metricSucceeded({ ...sum, label: 'Succeeded' }),
          this.metricExecutionsFailed(),
        ],
      }),
    );
    dashboard.addWidgets(...lockGraphs(ct, 'Control Tower'));
    if (props.customizationsLock)
      dashboard.addWidgets(...lockGraphs(props.customizationsLock, 'Customizations'));
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Control Tower operation duration and wait for a slot (s)',
        width,
        left: [
          this.metricControlTowerDuration({ label: 'Control Tower operation, average' }),
          this.metricControlTowerDuration({
            statistic: cloudwatch.Stats.MAXIMUM,
            label: 'Control Tower operation, max',
          }),
          this.metricSlotWait({ label: 'wait for a slot, average' }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Customizations outcomes',
        width,
        stacked: true,
        left: [
          this.metricCustomizationsSucceeded({ label: 'succeeded' }),
          this.metricCustomizationsFailed({ label: 'failed or stopped' }),
        ],
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Errors',
        width,
        left: [
          new cloudwatch.MathExpression({
            expression: `SEARCH('{${this.namespace},${FACTORY_DIMENSION},${ERROR_NAME_DIMENSION}} MetricName="${METRIC.STEP_FAILURES}" ${FACTORY_DIMENSION}="${this.factoryName}"', 'Sum', ${this.period.toSeconds()})`,
            label: '',
            period: this.period,
          }),
          this.metricControlTowerOperationsFailed({ label: 'Control Tower operations failed' }),
          this.metricTriggerRecordsFailed({ label: 'trigger records failed' }),
          ...(props.requestTriggerEventSourceMappingId ? [this.metricTriggerRecordsGivenUp()] : []),
        ],
        right: [total('Errors'), total('Throttles')],
      }),
      ...(Object.keys(this.alarms).length
        ? [
            new cloudwatch.AlarmStatusWidget({
              title: 'Alarms',
              width,
              alarms: Object.values(this.alarms),
            }),
          ]
        : []),
    );
    return dashboard;
  }
}
