import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ENV } from '../../lambda/shared/env';
import { AccountFactory } from '../../lib/account-factory';
import { DRIFT_ACCOUNT_READ_ACTIONS, DRIFT_MANAGEMENT_READ_ACTIONS } from '../../lib/drift-detection';
import { actionsOf, functionOf, newStack, statementsOfFunction } from './helpers';

function synth(props: ConstructorParameters<typeof AccountFactory>[2] = {}) {
  const { app, stack } = newStack({ nag: true });
  const factory = new AccountFactory(stack, 'Factory', props);
  app.synth();
  return { stack, factory, template: Template.fromStack(stack) };
}

describe('drift detection', () => {
  test('is off unless asked for', () => {
    const { factory, template } = synth();
    expect(factory.driftDetection).toBeUndefined();
    expect(() => functionOf(template, 'drift-check')).toThrow(/found 0/);
  });

  test('a function, its state table and a daily schedule that records the drift set', () => {
    const { factory, template } = synth({ driftDetection: {} });
    expect(factory.driftDetection).toBeDefined();
    const { props } = functionOf(template, 'drift-check');
    expect(Object.keys(props.Environment.Variables)).toEqual(
      expect.arrayContaining([
        ENV.METADATA_TABLE,
        ENV.DRIFT_STATE_TABLE,
        ENV.DRIFT_TOPIC_ARN,
        ENV.DRIFT_SESSION_POLICIES,
        ENV.MANAGEMENT_ROLE_ARN,
        ENV.EXECUTION_ROLE_TRUSTED_ROLES,
      ]),
    );
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 day)',
      Targets: [Match.objectLike({ Input: JSON.stringify({ record: true }) })],
    });
    // The factory's six tables (requests, metadata, two semaphores, Control Tower waits, the
    // account index), and the drift state.
    template.resourceCountIs('AWS::DynamoDB::Table', 7);
    // By default a changed drift set goes to the failure topic.
    expect(props.Environment.Variables[ENV.DRIFT_TOPIC_ARN].Ref).toMatch(/FailureTopic/);
  });

  test('a schedule and a topic of your own', () => {
    const { stack } = newStack();
    const topic = new sns.Topic(stack, 'DriftTopic');
    new AccountFactory(stack, 'Factory', {
      driftDetection: { schedule: events.Schedule.rate(Duration.hours(6)), topic },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(6 hours)' });
    const vars = functionOf(template, 'drift-check').props.Environment.Variables;
    expect(vars[ENV.DRIFT_TOPIC_ARN]).toEqual({ Ref: stack.getLogicalId(topic.node.defaultChild as never) });
  });

  test('its own role only reads, publishes and keeps its one state item', () => {
    const { template } = synth({ driftDetection: {} });
    const actions = [...new Set(actionsOf(statementsOfFunction(template, 'drift-check')))].sort();
    expect(actions).toEqual([
      'codepipeline:GetPipeline',
      'dynamodb:BatchGetItem',
      'dynamodb:ConditionCheckItem',
      'dynamodb:DescribeTable',
      'dynamodb:GetItem',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:Scan',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'sns:Publish',
      'sts:AssumeRole',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    // The one write, PutItem, is on its own state table only.
    const put = statementsOfFunction(template, 'drift-check').filter((s) =>
      ([] as string[]).concat(s.Action).includes('dynamodb:PutItem'),
    );
    expect(put).toHaveLength(1);
    expect(JSON.stringify(put[0].Resource)).toMatch(/DriftDetectionState/);
    expect(JSON.stringify(put[0].Resource)).not.toMatch(/Metadata/);
  });

  test('every session it opens elsewhere carries a policy that allows reads only', () => {
    const { template } = synth({ driftDetection: {} });
    const raw = functionOf(template, 'drift-check').props.Environment.Variables[ENV.DRIFT_SESSION_POLICIES];
    // The policies are a JSON string with the partition as a token: render it.
    const text = JSON.stringify(raw).replace(/\{\\"Ref\\":\\"AWS::Partition\\"\}/g, 'aws');
    const policies = JSON.parse(
      JSON.parse(text)
        ['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : 'aws'))
        .join(''),
    ) as Record<'management' | 'account', { Statement: { Action: string | string[]; Resource: string }[] }>;
    const allowed = (p: { Statement: { Action: string | string[] }[] }) =>
      p.Statement.flatMap((s) => ([] as string[]).concat(s.Action)).sort();
    expect(allowed(policies.management)).toEqual([...DRIFT_MANAGEMENT_READ_ACTIONS, 'sts:AssumeRole'].sort());
    expect(allowed(policies.account)).toEqual([...DRIFT_ACCOUNT_READ_ACTIONS]);
    for (const action of [...allowed(policies.management), ...allowed(policies.account)]) {
      expect(action).toMatch(/^(organizations|controltower|iam):(Get|List|Describe)|^sts:AssumeRole$/);
    }
    // The hop into a member account is to Control Tower's role only; the read there is of the execution role only.
    expect(policies.management.Statement[1].Resource).toBe('arn:aws:iam::*:role/AWSControlTowerExecution');
    expect(policies.account.Statement[0].Resource).toBe('arn:aws:iam::*:role/AWSAFTExecution');
  });
});
