import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AccountFactory, AccountFactoryProps } from '../../lib/account-factory';
import { AccountFactoryMonitoring } from '../../lib/monitoring';
import { HANDLER } from '../../lib/workflow/step-names';
import { METRIC } from '../../lambda/shared/metrics';
import { functionOf, newStack } from './helpers';

function build(props: AccountFactoryProps = {}) {
  const { stack } = newStack();
  const factory = new AccountFactory(stack, 'Factory', props);
  return { stack, factory, template: Template.fromStack(stack) };
}

const HANDLERS = Object.values(HANDLER);

/** The alarm whose description contains `text`. */
function alarmWith(template: Template, text: string): any {
  const found = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((a: any) =>
    String(a.Properties.AlarmDescription).includes(text),
  );
  if (found.length !== 1) throw new Error(`expected one alarm about "${text}", found ${found.length}`);
  return (found[0] as any).Properties;
}

describe('AccountFactoryMonitoring defaults (through AccountFactory)', () => {
  const { stack, factory, template } = build();
  const factoryDim = { Name: 'Factory', Value: 'Test/Factory' };
  const factoryDimension = { name: 'Factory', value: 'Test/Factory' };

  test('every function is told the metrics namespace and the factory name', () => {
    for (const handler of HANDLERS) {
      const { props } = functionOf(template, handler);
      expect(props.Environment.Variables).toMatchObject({
        ACCOUNT_FACTORY_NAME: 'Test/Factory',
        POWERTOOLS_METRICS_NAMESPACE: 'AccountFactory',
      });
    }
  });

  test('alarms: executions, Control Tower, trigger, records given up, slot held, oldest waiter, pipelines, and per function errors and throttles', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 7 + 2 * HANDLERS.length);
    const executions = alarmWith(template, 'executions failed, timed out');
    expect(executions.Threshold).toBe(3);
    expect(
      executions.Metrics.map((m: any) => m.MetricStat?.Metric.MetricName)
        .filter(Boolean)
        .sort(),
    ).toEqual(['ExecutionsAborted', 'ExecutionsFailed', 'ExecutionsTimedOut']);
    expect(alarmWith(template, 'Control Tower operations ended FAILED')).toMatchObject({
      Namespace: 'AccountFactory',
      MetricName: METRIC.CONTROL_TOWER_FAILED,
      Dimensions: [factoryDim],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    const trigger = alarmWith(template, 'request trigger could not start');
    expect(
      trigger.Metrics.map((m: any) => m.MetricStat?.Metric.MetricName)
        .filter(Boolean)
        .sort(),
    ).toEqual(['Errors', METRIC.TRIGGER_RECORDS_FAILED]);
    expect(alarmWith(template, 'held for more than 3 hours')).toMatchObject({
      MetricName: METRIC.OLDEST_SLOT_AGE,
      Dimensions: [factoryDim, { Name: 'Lock', Value: 'control-tower' }],
      Statistic: 'Maximum',
      Threshold: 3 * 3600,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(alarmWith(template, 'waited more than 1 day')).toMatchObject({
      MetricName: METRIC.OLDEST_WAITER_AGE,
      Statistic: 'Maximum',
      Threshold: 24 * 3600,
    });
    expect(alarmWith(template, 'customizations pipelines failed')).toMatchObject({
      MetricName: METRIC.CUSTOMIZATIONS_FAILED,
      Threshold: 1,
    });
    expect(alarmWith(template, 'function notify failed invocations')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Threshold: 5,
    });
    expect(alarmWith(template, 'function acquire-slot was throttled')).toMatchObject({
      MetricName: 'Throttles',
      Threshold: 1,
    });
  });

  test("the request trigger's on-failure destination: its event source mapping counts the records it gives up on, and an alarm watches them", () => {
    const mappings = template.findResources('AWS::Lambda::EventSourceMapping');
    expect(Object.keys(mappings)).toHaveLength(1);
    const [mappingId, mapping] = Object.entries(mappings)[0] as [string, any];
    expect(mapping.Properties.MetricsConfig).toEqual({ Metrics: ['EventCount'] });
    const failureTopicId = stack.getLogicalId((factory.failureTopic as sns.Topic).node.defaultChild as any);
    expect(mapping.Properties.DestinationConfig).toEqual({
      OnFailure: { Destination: { Ref: failureTopicId } },
    });
    expect(stack.resolve(factory.requestTriggerEventSourceMappingId)).toEqual({ Ref: mappingId });

    const alarm = alarmWith(template, 'gave up on stream records');
    expect(alarm).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    const stats = alarm.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat);
    expect(stats.map((m: any) => m.Metric.MetricName).sort()).toEqual([
      'DroppedEventCount',
      'OnFailureDestinationDeliveredEventCount',
    ]);
    for (const m of stats) {
      expect(m).toMatchObject({
        Metric: {
          Namespace: 'AWS/Lambda',
          Dimensions: [{ Name: 'EventSourceMappingUUID', Value: { Ref: mappingId } }],
        },
        Stat: 'Sum',
        Period: 300,
      });
    }
    expect(alarm.Metrics.find((m: any) => m.Expression).Expression).toBe(
      'FILL(sentToDestination, 0) + FILL(dropped, 0)',
    );
  });

  test('without a customer-managed key, the alarms go to a topic of their own whose key CloudWatch may use', () => {
    const topic = factory.monitoring.alarmTopic!;
    expect(topic).not.toBe(factory.failureTopic);
    const topicId = stack.getLogicalId((topic as sns.Topic).node.defaultChild as any);
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm')) as any[]) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    }
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': '111111111111' } }),
          }),
        ]),
      },
    });
  });

  test('one dashboard: requests by outcome, slots vs limit, waiters, Control Tower duration, customizations, errors, alarms', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = JSON.stringify(
      stack.resolve(
        (Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0] as any).Properties
          .DashboardBody,
      ),
    );
    for (const title of [
      'Requests by outcome',
      'Control Tower: slots in use vs limit',
      'Control Tower: waiters',
      'Customizations: slots in use vs limit',
      'Control Tower operation duration',
      'Customizations outcomes',
      'Errors',
      'Alarms',
    ]) {
      expect(body).toContain(title);
    }
    for (const name of [
      METRIC.ACCOUNTS_VENDED,
      METRIC.REQUESTS_FAILED,
      METRIC.SLOTS_IN_USE,
      METRIC.WAITERS,
      METRIC.CONTROL_TOWER_DURATION,
      METRIC.SLOT_WAIT,
      METRIC.CUSTOMIZATIONS_FAILED,
      METRIC.STEP_FAILURES,
    ]) {
      expect(body).toContain(name);
    }
    // The limits are drawn on the slots graphs.
    expect(body).toContain('limit 5');
    expect(body).toContain('limit 10');
  });

  test('metric methods: namespace, the factory dimension, statistic, and the lock dimension', () => {
    const m = factory.monitoring;
    expect(stack.resolve(m.metricAccountsVended().toMetricConfig().metricStat)).toMatchObject({
      namespace: 'AccountFactory',
      metricName: 'AccountsVended',
      dimensions: [factoryDimension],
      statistic: 'Sum',
    });
    expect(m.metricControlTowerDuration().toMetricConfig().metricStat).toMatchObject({
      metricName: 'ControlTowerOperationDuration',
      statistic: 'Average',
    });
    expect(m.metricSlotWait().toMetricConfig().metricStat?.metricName).toBe('SlotWaitTime');
    expect(m.metricStepFailures('AccountNameInUse').toMetricConfig().metricStat?.dimensions).toEqual([
      { name: 'ErrorName', value: 'AccountNameInUse' },
      factoryDimension,
    ]);
    expect(m.metricSlotsInUse(factory.customizationsLock).toMetricConfig().metricStat?.dimensions).toEqual([
      factoryDimension,
      { name: 'Lock', value: factory.customizationsLock.lockName },
    ]);
    expect(m.metricWaiters().toMetricConfig().metricStat).toMatchObject({
      statistic: 'Maximum',
      dimensions: [factoryDimension, { name: 'Lock', value: 'control-tower' }],
    });
    for (const metric of [
      m.metricAccountsUpdated(),
      m.metricAccountsImported(),
      m.metricAccountsRemoved(),
      m.metricRequestsFailed(),
      m.metricControlTowerOperationsFailed(),
      m.metricOldestWaiterAge(),
      m.metricOldestSlotAge(),
      m.metricCustomizationsSucceeded(),
      m.metricCustomizationsFailed(),
      m.metricTriggerRecordsFailed(),
    ]) {
      expect(Object.values(METRIC)).toContain(metric.metricName);
    }
  });
});

describe('metric methods on AccountFactory itself, as rendered in alarms', () => {
  const { stack } = newStack();
  const factory = new AccountFactory(stack, 'Factory', {
    monitoring: {
      factoryName: 'platform-accounts',
      namespace: 'Platform/Accounts',
      alarms: false,
      dashboard: false,
    },
  });
  const factoryDim = { Name: 'Factory', Value: 'platform-accounts' };
  /** An alarm of the test's own on `metric`, found again in the template by its description. */
  const probes: Record<string, cloudwatch.IMetric> = {
    metricAccountsVended: factory.metricAccountsVended(),
    metricAccountsUpdated: factory.metricAccountsUpdated(),
    metricAccountsImported: factory.metricAccountsImported(),
    metricAccountsAdopted: factory.metricAccountsAdopted(),
    metricAccountsCustomized: factory.metricAccountsCustomized(),
    metricAccountsRemoved: factory.metricAccountsRemoved(),
    metricRequestsFailed: factory.metricRequestsFailed(),
    metricRequestDuration: factory.metricRequestDuration(),
    metricControlTowerDuration: factory.metricControlTowerDuration(),
    metricControlTowerOperationsFailed: factory.metricControlTowerOperationsFailed(),
    metricControlTowerOperationsSucceeded: factory.metricControlTowerOperationsSucceeded(),
    metricSlotWait: factory.metricSlotWait(),
    metricCustomizationsSucceeded: factory.metricCustomizationsSucceeded(),
    metricCustomizationsFailed: factory.metricCustomizationsFailed(),
    metricTriggerRecordsFailed: factory.metricTriggerRecordsFailed(),
    metricSlotsInUse: factory.metricSlotsInUse(),
    metricWaiters: factory.metricWaiters(),
    metricOldestWaiterAge: factory.metricOldestWaiterAge(),
    metricOldestSlotAge: factory.metricOldestSlotAge(),
    'metricSlotsInUse(customizationsLock)': factory.metricSlotsInUse(factory.customizationsLock),
    'metricStepFailures(ControlTowerOperationFailed)': factory.metricStepFailures(
      'ControlTowerOperationFailed',
    ),
    'metric(ExecutionsStarted, 1 hour)': factory.metric(METRIC.EXECUTIONS_STARTED, {
      period: Duration.hours(1),
    }),
    metricTriggerRecordsSentToFailureDestination: factory.metricTriggerRecordsSentToFailureDestination(),
    metricTriggerRecordsDropped: factory.metricTriggerRecordsDropped(),
    metricTriggerRecordsGivenUp: factory.metricTriggerRecordsGivenUp(),
    metricExecutionsFailed: factory.metricExecutionsFailed(),
  };
  for (const [name, metric] of Object.entries(probes)) {
    new cloudwatch.Alarm(stack, `Probe${Object.keys(probes).indexOf(name)}`, {
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      alarmDescription: `probe ${name}.`,
    });
  }
  const template = Template.fromStack(stack);
  const probe = (name: string) => alarmWith(template, `probe ${name}.`);

  test.each([
    ['metricAccountsVended', METRIC.ACCOUNTS_VENDED, 'Sum'],
    ['metricAccountsUpdated', METRIC.ACCOUNTS_UPDATED, 'Sum'],
    ['metricAccountsImported', METRIC.ACCOUNTS_IMPORTED, 'Sum'],
    ['metricAccountsAdopted', METRIC.ACCOUNTS_ADOPTED, 'Sum'],
    ['metricAccountsCustomized', METRIC.ACCOUNTS_CUSTOMIZED, 'Sum'],
    ['metricAccountsRemoved', METRIC.ACCOUNTS_REMOVED, 'Sum'],
    ['metricRequestsFailed', METRIC.REQUESTS_FAILED, 'Sum'],
    ['metricRequestDuration', METRIC.REQUEST_DURATION, 'Average'],
    ['metricControlTowerDuration', METRIC.CONTROL_TOWER_DURATION, 'Average'],
    ['metricControlTowerOperationsFailed', METRIC.CONTROL_TOWER_FAILED, 'Sum'],
    ['metricControlTowerOperationsSucceeded', METRIC.CONTROL_TOWER_SUCCEEDED, 'Sum'],
    ['metricSlotWait', METRIC.SLOT_WAIT, 'Average'],
    ['metricCustomizationsSucceeded', METRIC.CUSTOMIZATIONS_SUCCEEDED, 'Sum'],
    ['metricCustomizationsFailed', METRIC.CUSTOMIZATIONS_FAILED, 'Sum'],
    ['metricTriggerRecordsFailed', METRIC.TRIGGER_RECORDS_FAILED, 'Sum'],
  ] as const)(
    'factory.%s(): namespace Platform/Accounts, %s, dimension Factory, %s',
    (method, name, statistic) => {
      const alarm = probe(method);
      expect(alarm).toMatchObject({
        Namespace: 'Platform/Accounts',
        MetricName: name,
        Dimensions: [factoryDim],
        Statistic: statistic,
        Period: 300,
      });
      if (statistic === 'Average') expect(alarm.Unit).toBe('Seconds');
    },
  );

  test.each([
    ['metricSlotsInUse', METRIC.SLOTS_IN_USE],
    ['metricWaiters', METRIC.WAITERS],
    ['metricOldestWaiterAge', METRIC.OLDEST_WAITER_AGE],
    ['metricOldestSlotAge', METRIC.OLDEST_SLOT_AGE],
  ] as const)(
    'factory.%s(): %s by Factory and Lock (the Control Tower lock by default), Maximum',
    (method, name) => {
      expect(probe(method)).toMatchObject({
        Namespace: 'Platform/Accounts',
        MetricName: name,
        Statistic: 'Maximum',
        Dimensions: [factoryDim, { Name: 'Lock', Value: 'control-tower' }],
      });
    },
  );

  test('factory.metricSlotsInUse(lock), metricStepFailures(errorName) and metric(name, props)', () => {
    expect(probe('metricSlotsInUse(customizationsLock)').Dimensions).toEqual([
      factoryDim,
      { Name: 'Lock', Value: factory.customizationsLock.lockName },
    ]);
    expect(probe('metricStepFailures(ControlTowerOperationFailed)')).toMatchObject({
      Namespace: 'Platform/Accounts',
      MetricName: METRIC.STEP_FAILURES,
      Dimensions: [{ Name: 'ErrorName', Value: 'ControlTowerOperationFailed' }, factoryDim],
    });
    expect(probe('metric(ExecutionsStarted, 1 hour)')).toMatchObject({
      MetricName: METRIC.EXECUTIONS_STARTED,
      Dimensions: [factoryDim],
      Period: 3600,
    });
  });

  test("the request trigger's records given up: AWS/Lambda, by the trigger's event source mapping", () => {
    const mappingId = Object.keys(template.findResources('AWS::Lambda::EventSourceMapping'))[0];
    const byMapping = [{ Name: 'EventSourceMappingUUID', Value: { Ref: mappingId } }];
    expect(probe('metricTriggerRecordsSentToFailureDestination')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'OnFailureDestinationDeliveredEventCount',
      Dimensions: byMapping,
      Statistic: 'Sum',
    });
    expect(probe('metricTriggerRecordsDropped')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'DroppedEventCount',
      Dimensions: byMapping,
    });
    const givenUp = probe('metricTriggerRecordsGivenUp').Metrics;
    expect(givenUp.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Metric.Dimensions)).toEqual([
      byMapping,
      byMapping,
    ]);
    const executions = probe('metricExecutionsFailed').Metrics;
    expect(
      executions
        .filter((m: any) => m.MetricStat)
        .map((m: any) => [m.MetricStat.Metric.Namespace, m.MetricStat.Metric.MetricName])
        .sort(),
    ).toEqual([
      ['AWS/States', 'ExecutionsAborted'],
      ['AWS/States', 'ExecutionsFailed'],
      ['AWS/States', 'ExecutionsTimedOut'],
    ]);
  });
});

describe('AccountFactoryMonitoring options', () => {
  test('with a customer-managed key the alarms go to the failure topic, and the key lets CloudWatch use it', () => {
    const { stack } = newStack();
    const key = new kms.Key(stack, 'Key');
    const factory = new AccountFactory(stack, 'Factory', { encryptionKey: key });
    expect(factory.monitoring.alarmTopic).toBe(factory.failureTopic);
    const template = Template.fromStack(stack);
    const failureId = stack.getLogicalId((factory.failureTopic as sns.Topic).node.defaultChild as any);
    expect(alarmWith(template, 'pipelines failed').AlarmActions).toEqual([{ Ref: failureId }]);
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' } }),
        ]),
      },
    });
    template.resourceCountIs('AWS::SNS::Topic', 2);
  });

  test('thresholds, a given topic, a name and a namespace', () => {
    const { stack } = newStack();
    const topic = new sns.Topic(stack, 'Ops');
    new AccountFactory(stack, 'Factory', {
      monitoring: {
        alarmTopic: topic,
        factoryName: 'platform-accounts',
        namespace: 'Platform/Accounts',
        slotHeldLimit: Duration.hours(2),
        waiterAgeLimit: Duration.hours(6),
        failedExecutionsThreshold: 10,
        lambdaErrorsThreshold: 20,
        triggerFailureDestinationThreshold: 4,
        period: Duration.minutes(15),
      },
    });
    const template = Template.fromStack(stack);
    const slot = alarmWith(template, 'held for more than 2 hours');
    expect(slot).toMatchObject({
      Namespace: 'Platform/Accounts',
      Dimensions: [
        { Name: 'Factory', Value: 'platform-accounts' },
        { Name: 'Lock', Value: 'control-tower' },
      ],
      Threshold: 7200,
      Period: 900,
      AlarmActions: [{ Ref: stack.getLogicalId(topic.node.defaultChild as any) }],
    });
    expect(alarmWith(template, 'waited more than 6 hours').Threshold).toBe(6 * 3600);
    expect(alarmWith(template, 'executions failed, timed out').Threshold).toBe(10);
    expect(alarmWith(template, 'function notify failed').Threshold).toBe(20);
    const givenUp = alarmWith(template, 'gave up on stream records');
    expect(givenUp.Threshold).toBe(4);
    expect(givenUp.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Period)).toEqual([
      900, 900,
    ]);
    expect(functionOf(template, 'notify').props.Environment.Variables).toMatchObject({
      ACCOUNT_FACTORY_NAME: 'platform-accounts',
      POWERTOOLS_METRICS_NAMESPACE: 'Platform/Accounts',
    });
    // No topic or key of its own.
    template.resourceCountIs('AWS::SNS::Topic', 3);
  });

  test('alarms and dashboard opt out', () => {
    const { template, factory } = build({ monitoring: { alarms: false, dashboard: false } });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    expect(factory.monitoring.alarmTopic).toBeUndefined();
    // The metrics are still there to graph or alarm on yourself.
    expect(factory.monitoring.metricAccountsVended().metricName).toBe('AccountsVended');
  });

  test.each([
    [{ namespace: 'AWS/Lambda' }, /namespace "AWS\/Lambda" is not a CloudWatch namespace of yours/],
    [{ factoryName: 'a"b' }, /factoryName must be 1-255 printable ASCII characters without quotes/],
    [{ slotHeldLimit: Duration.seconds(30) }, /slotHeldLimit must be at least 1 minute, got 30 seconds/],
    [{ lambdaErrorsThreshold: 0 }, /lambdaErrorsThreshold must be a number above 0, got 0/],
    [
      { triggerFailureDestinationThreshold: -1 },
      /triggerFailureDestinationThreshold must be a number above 0, got -1/,
    ],
    [{ alarms: false, alarmTopic: 'topic' }, /alarmTopic is given but alarms is false/],
  ])('rejects %p', (options, message) => {
    const { stack } = newStack();
    const monitoring =
      (options as { alarmTopic?: unknown }).alarmTopic === 'topic'
        ? { ...options, alarmTopic: new sns.Topic(stack, 'T') }
        : options;
    expect(() => new AccountFactory(stack, 'Factory', { monitoring: monitoring as any })).toThrow(message);
  });

  test('usable on its own, with the pieces it needs', () => {
    const { stack } = newStack();
    const factory = new AccountFactory(stack, 'Factory', { monitoring: { alarms: false, dashboard: false } });
    const own = new AccountFactoryMonitoring(stack, 'Ops', {
      factoryName: 'Test/Factory',
      stateMachine: factory.stateMachine,
      functions: { [HANDLER.NOTIFY]: factory.functions[HANDLER.NOTIFY] },
      requestTrigger: factory.requestTrigger,
      controlTowerLock: factory.semaphore,
      dashboard: false,
    });
    const template = Template.fromStack(stack);
    // No event source mapping given: no alarm on the records the trigger gives up on.
    template.resourceCountIs('AWS::CloudWatch::Alarm', 6 + 2);
    expect(own.alarms.SlotHeldTooLong).toBeDefined();
    expect(own.alarms.TriggerRecordsGivenUp).toBeUndefined();
    expect(() => own.metricTriggerRecordsDropped()).toThrow(
      /DroppedEventCount needs requestTriggerEventSourceMappingId/,
    );
  });
});
