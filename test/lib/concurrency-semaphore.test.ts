import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { ConcurrencySemaphore } from '../../lib/concurrency-semaphore';
import { definitionOf, functionOf, newStack, render, statementsOfFunction } from './helpers';

function guardedMachine(props: ConstructorParameters<typeof ConcurrencySemaphore>[2] = {}) {
  const { stack } = newStack();
  const semaphore = new ConcurrencySemaphore(stack, 'Semaphore', props);
  const acquire = semaphore.acquireWithRetryLoop(stack, 'Acquire');
  const release = semaphore.release(stack, 'Release');
  const machine = new sfn.StateMachine(stack, 'Machine', {
    definitionBody: sfn.DefinitionBody.fromChainable(acquire.next(new sfn.Pass(stack, 'Work')).next(release)),
  });
  semaphore.guard(machine);
  return { stack, semaphore, template: Template.fromStack(stack) };
}

describe('ConcurrencySemaphore', () => {
  test('acquire waits for a task token with the limit, lock name and holder in the payload', () => {
    const { template } = guardedMachine({ limit: 3, lockName: 'builds' });
    const asl = definitionOf(template);
    const acquire = asl.States.Acquire;
    expect(acquire.Resource).toMatch(/:states:::lambda:invoke\.waitForTaskToken$/);
    expect(acquire.Parameters.Payload).toEqual({
      lockName: 'builds',
      limit: 3,
      'holder.$': '$$.Execution.Id',
      'queuedAt.$': '$$.Execution.StartTime',
      'taskToken.$': '$$.Task.Token',
      attempt: { 'redriveCount.$': '$$.Execution.RedriveCount', 'enteredTime.$': '$$.State.EnteredTime' },
    });
    expect(acquire.ResultPath).toBeNull();
    expect(acquire.TimeoutSeconds).toBe(6 * 60 * 60);
    // The safety net: a timeout registers again, keeping the queue place.
    expect(acquire.Catch).toEqual([{ ErrorEquals: ['States.Timeout'], ResultPath: null, Next: 'Acquire' }]);
    expect(asl.States.Release.Parameters.Payload).toEqual({
      lockName: 'builds',
      limit: 3,
      'holder.$': '$$.Execution.Id',
    });
  });

  test('slotWaitTimeout sets the acquire timeout', () => {
    const { template } = guardedMachine({ slotWaitTimeout: Duration.minutes(7) });
    expect(definitionOf(template).States.Acquire.TimeoutSeconds).toBe(420);
  });

  test('creates an on-demand, recoverable, encrypted table keyed pk/sk', () => {
    const { template } = guardedMachine();
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  test('uses a given table instead of creating one', () => {
    const { stack } = newStack();
    const table = new dynamodb.Table(stack, 'Shared', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    });
    const semaphore = new ConcurrencySemaphore(stack, 'Semaphore', { table });
    expect(semaphore.table).toBe(table);
    Template.fromStack(stack).resourceCountIs('AWS::DynamoDB::Table', 1);
  });

  test('the functions know the table, lock and limit', () => {
    const { template } = guardedMachine({ limit: 7 });
    for (const handler of ['acquire-slot', 'release-slot', 'semaphore-cleanup']) {
      const vars = functionOf(template, handler).props.Environment.Variables;
      expect(vars).toMatchObject({ SEMAPHORE_LOCK_NAME: 'control-tower', SEMAPHORE_LIMIT: '7' });
      expect(vars.SEMAPHORE_TABLE).toEqual({ Ref: expect.stringMatching(/^SemaphoreTable/) });
    }
  });

  test('guard: the cleanup runs when an execution fails, times out or is aborted', () => {
    const { template } = guardedMachine();
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
          stateMachineArn: [{ Ref: Match.stringLikeRegexp('^Machine') }],
        },
      },
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': [functionOf(template, 'semaphore-cleanup').id, 'Arn'] } }),
      ],
    });
  });

  test('the reaper runs the cleanup on its schedule', () => {
    const { template } = guardedMachine({ reaperSchedule: Duration.minutes(10) });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(10 minutes)',
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': [functionOf(template, 'semaphore-cleanup').id, 'Arn'] } }),
      ],
    });
    const { template: defaults } = guardedMachine();
    defaults.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
  });

  test('the functions may complete task tokens of the guarded machine only, and describe its executions only', () => {
    const { template } = guardedMachine();
    for (const handler of ['acquire-slot', 'release-slot', 'semaphore-cleanup']) {
      const statements = statementsOfFunction(template, handler);
      const tokens = statements.find((s) => s.Action.includes('states:SendTaskSuccess'));
      expect(tokens?.Resource.map(render)).toEqual([expect.stringMatching(/^<Machine[0-9A-F]+>$/)]);
      const writes = statements.find((s) => s.Action.includes('dynamodb:UpdateItem'));
      expect(writes?.Resource.map(render)).toEqual([
        expect.stringMatching(/^<SemaphoreTable[0-9A-F]+\.Arn>$/),
      ]);
    }
    // The cleanup, and a wake-up whose token is gone, ask whether an execution still runs.
    for (const handler of ['acquire-slot', 'release-slot', 'semaphore-cleanup']) {
      const describe = statementsOfFunction(template, handler).find((s) =>
        s.Action.includes('states:DescribeExecution'),
      );
      expect(describe?.Resource.map(render)).toEqual([
        expect.stringMatching(/:states:us-east-1:111111111111:execution:.*Machine.*:\*$/),
      ]);
    }
  });

  test.each([0, -1, 2.5, 101, Number.NaN])('rejects limit %p', (limit) => {
    const { stack } = newStack();
    expect(() => new ConcurrencySemaphore(stack, 'S', { limit })).toThrow(
      /limit must be an integer from 1 to 100/,
    );
  });

  test('accepts the limits 1 and 100', () => {
    const { stack } = newStack();
    expect(new ConcurrencySemaphore(stack, 'One', { limit: 1 }).limit).toBe(1);
    expect(new ConcurrencySemaphore(stack, 'Hundred', { limit: 100 }).limit).toBe(100);
  });

  test('rejects a bad lock name and too short timeouts', () => {
    const { stack } = newStack();
    expect(() => new ConcurrencySemaphore(stack, 'A', { lockName: 'has space' })).toThrow(/lockName/);
    expect(() => new ConcurrencySemaphore(stack, 'B', { slotWaitTimeout: Duration.seconds(5) })).toThrow(
      /slotWaitTimeout must be at least 1 minute/,
    );
    expect(() => new ConcurrencySemaphore(stack, 'C', { reaperSchedule: Duration.seconds(30) })).toThrow(
      /reaperSchedule must be at least 1 minute/,
    );
  });
});
