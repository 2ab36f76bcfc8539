import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import {
  APPROVAL_REJECTED,
  APPROVAL_STEP,
  APPROVAL_SUPERSEDED,
  ApprovalGate,
} from '../../lib/workflow/approval';
import { definitionOf, newStack } from './helpers';

function definition(props: { operations?: string[]; expiry?: Duration } = {}) {
  const { stack } = newStack();
  const fn = lambda.Function.fromFunctionArn(
    stack,
    'Approval',
    'arn:aws:lambda:us-east-1:111111111111:function:approval-request',
  );
  const route = new sfn.Pass(stack, 'Control Tower operation?');
  const failure = new sfn.Fail(stack, 'Request failed');
  const gate = new ApprovalGate(stack, 'Gate', {
    approvalFunction: fn,
    operations: props.operations ?? ['CREATE', 'UPDATE'],
    expiry: props.expiry ?? Duration.days(3),
    next: route,
    onFailure: failure,
  });
  new sfn.StateMachine(stack, 'Machine', { definitionBody: sfn.DefinitionBody.fromChainable(gate) });
  return definitionOf(Template.fromStack(stack));
}

test('the gate: a Choice on the validated operation, then a task-token wait that expires, before the route', () => {
  const def = definition();
  expect(def.StartAt).toBe(APPROVAL_STEP.APPROVAL_NEEDED);
  const choice = def.States[APPROVAL_STEP.APPROVAL_NEEDED];
  expect(choice.Type).toBe('Choice');
  expect(JSON.stringify(choice.Choices)).toContain('"StringEquals":"CREATE"');
  expect(JSON.stringify(choice.Choices)).toContain('"StringEquals":"UPDATE"');
  expect(choice.Default).toBe('Control Tower operation?');

  const wait = def.States[APPROVAL_STEP.WAIT_FOR_APPROVAL];
  expect(wait.Resource).toMatch(/waitForTaskToken/);
  expect(wait.TimeoutSeconds).toBe(3 * 24 * 3600);
  expect(wait.Parameters.Payload['taskToken.$']).toBe('$$.Task.Token');
  expect(wait.Next).toBe('Control Tower operation?');
  expect(wait.Catch[0]).toEqual({
    ErrorEquals: [APPROVAL_REJECTED, APPROVAL_SUPERSEDED, 'States.Timeout'],
    ResultPath: '$.approvalOutcome',
    Next: APPROVAL_STEP.NOTIFY_NOT_APPROVED,
  });

  const notify = def.States[APPROVAL_STEP.NOTIFY_NOT_APPROVED];
  expect(notify.Parameters.closed).toBe(true);
  expect(notify.Next).toBe(APPROVAL_STEP.NOT_APPROVED);
  expect(def.States[APPROVAL_STEP.NOT_APPROVED].Type).toBe('Succeed');
});

test('bad settings are refused at synth', () => {
  expect(() => definition({ operations: [] })).toThrow(/at least one operation/);
  expect(() => definition({ expiry: Duration.seconds(30) })).toThrow(/from 1 minute to 365 days/);
});
