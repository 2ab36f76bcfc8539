import { Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { RETRYABLE_STEP_ERRORS } from '../../lambda/shared/errors';
import { AccountFactory, AccountFactoryProps } from '../../lib/account-factory';
import { NUMBERED_STEPS, STEP } from '../../lib/workflow/step-names';
import { definitionOf, Json, newStack } from './helpers';

function workflow(props: AccountFactoryProps = {}): Json {
  const { stack } = newStack();
  new AccountFactory(stack, 'Factory', props);
  return definitionOf(Template.fromStack(stack), 'FactoryWorkflow');
}

function withCustomizations(): Json {
  const { stack } = newStack();
  const child = new sfn.StateMachine(stack, 'Child', {
    definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Nothing')),
  });
  new AccountFactory(stack, 'Factory', { provisioningCustomizations: child });
  return definitionOf(Template.fromStack(stack), 'FactoryWorkflow');
}

const STEP_PAYLOAD = {
  'state.$': '$',
  execution: { 'id.$': '$$.Execution.Id', 'startTime.$': '$$.Execution.StartTime' },
};

describe('provisioning workflow (ASL)', () => {
  const asl = workflow();
  const states: Record<string, Json> = asl.States;

  test('every state name of step-names.ts is in the definition, and nothing else', () => {
    expect(Object.keys(states).sort()).toEqual(Object.values(STEP).sort());
    expect(NUMBERED_STEPS).toHaveLength(11);
    for (const step of NUMBERED_STEPS) expect(states[step]).toBeDefined();
    expect(asl.StartAt).toBe(STEP.VALIDATE_REQUEST);
  });

  test('JSONPath only (the local engine does not run JSONata)', () => {
    expect(asl.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    for (const state of Object.values(states)) {
      expect(state.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
      expect(state.Arguments).toBeUndefined();
      expect(state.Assign).toBeUndefined();
    }
  });

  test.each([
    [STEP.VALIDATE_REQUEST, '$.validation'],
    [STEP.PROVISION_ACCOUNT, '$.provisioning'],
    [STEP.FETCH_ACCOUNT_ID, '$.account'],
    [STEP.STORE_METADATA, null],
    [STEP.CREATE_EXECUTION_ROLE, '$.executionRole'],
    [STEP.TAG_ACCOUNT, '$.tags'],
    [STEP.APPLY_FEATURE_OPTIONS, '$.featureOptions'],
    [STEP.SET_ALTERNATE_CONTACTS, '$.alternateContacts'],
    [STEP.ENABLE_OPT_IN_REGIONS, '$.optInRegions'],
    [STEP.ASSIGN_IDENTITY_CENTER_ACCESS, '$.identityCenterAccess'],
    [STEP.CREATE_ACCOUNT_PIPELINE, '$.pipeline'],
    [STEP.REMOVE_FROM_MANAGEMENT, '$.removal'],
  ])('%s: invoked with the StepPayload, result at %s, retried, errors caught', (name, resultPath) => {
    const state = states[name];
    expect(state.Type).toBe('Task');
    // Provision account also names the semaphore lock, to mark its slot with the operation it starts.
    expect(state.Parameters).toEqual(
      name === STEP.PROVISION_ACCOUNT
        ? { ...STEP_PAYLOAD, slot: { lockName: 'control-tower', table: expect.anything() } }
        : STEP_PAYLOAD,
    );
    expect(state.ResultPath).toBe(resultPath);
    expect(state.Retry).toEqual(
      expect.arrayContaining([
        {
          ErrorEquals: [...RETRYABLE_STEP_ERRORS],
          IntervalSeconds: 2,
          BackoffRate: 2,
          MaxAttempts: 6,
          JitterStrategy: 'FULL',
        },
        expect.objectContaining({ ErrorEquals: expect.arrayContaining(['Lambda.ServiceException']) }),
      ]),
    );
    expect(state.Catch).toEqual([
      // A slot lost before Provision account called anything: wait for a slot again.
      ...(name === STEP.PROVISION_ACCOUNT
        ? [{ ErrorEquals: ['SlotLost'], ResultPath: null, Next: STEP.ACQUIRE_SLOT }]
        : []),
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: STEP.RELEASE_SLOT_AFTER_FAILURE },
    ]);
  });

  test('routing by operation', () => {
    const choice = states[STEP.CONTROL_TOWER_OPERATION];
    expect(choice.Type).toBe('Choice');
    expect(choice.Choices).toEqual([
      {
        Or: ['CREATE', 'UPDATE', 'IMPORT'].map((op) => ({
          Variable: '$.validation.operation',
          StringEquals: op,
        })),
        Next: STEP.ACQUIRE_SLOT,
      },
      { Variable: '$.validation.operation', StringEquals: 'REMOVE', Next: STEP.CLOSE_ON_REMOVAL },
    ]);
    expect(choice.Default).toBe(STEP.FETCH_ACCOUNT_ID);
    expect(states[STEP.VALIDATE_REQUEST].Next).toBe(STEP.CONTROL_TOWER_OPERATION);
  });

  test('removal: remove -> notify REMOVED -> succeed', () => {
    expect(states[STEP.REMOVE_FROM_MANAGEMENT].Next).toBe(STEP.NOTIFY_REMOVED);
    expect(states[STEP.NOTIFY_REMOVED].Parameters).toEqual({ ...STEP_PAYLOAD, outcome: 'REMOVED' });
    expect(states[STEP.NOTIFY_REMOVED].Next).toBe(STEP.ACCOUNT_REMOVED);
    expect(states[STEP.ACCOUNT_REMOVED].Type).toBe('Succeed');
  });

  test('Control Tower phase: acquire -> provision -> wait/check loop -> release -> fetch', () => {
    expect(states[STEP.ACQUIRE_SLOT].Next).toBe(STEP.PROVISION_ACCOUNT);
    expect(states[STEP.ACQUIRE_SLOT].Resource).toMatch(/lambda:invoke\.waitForTaskToken$/);
    expect(states[STEP.ACQUIRE_SLOT].Catch[0]).toEqual({
      ErrorEquals: ['States.Timeout'],
      ResultPath: null,
      Next: STEP.ACQUIRE_SLOT,
    });
    expect(states[STEP.ACQUIRE_SLOT].Catch[1].Next).toBe(STEP.RELEASE_SLOT_AFTER_FAILURE);
    expect(states[STEP.PROVISION_ACCOUNT].Retry).toEqual(
      expect.arrayContaining([
        {
          ErrorEquals: ['ControlTowerBusy'],
          IntervalSeconds: 60,
          BackoffRate: 1.5,
          MaxAttempts: 30,
          MaxDelaySeconds: 600,
        },
      ]),
    );
    expect(states[STEP.PROVISION_ACCOUNT].Next).toBe(STEP.WAIT_FOR_CONTROL_TOWER);
    // The lifecycle event completes the token; without one, the task times out every
    // poll interval (10 minutes by default) and reads the record again.
    expect(states[STEP.WAIT_FOR_CONTROL_TOWER]).toMatchObject({
      Type: 'Task',
      Resource: expect.stringMatching(/:states:::lambda:invoke\.waitForTaskToken$/),
      TimeoutSeconds: 600,
      ResultPath: '$.provisioningStatus',
      Next: STEP.PROVISIONING_FINISHED,
    });
    expect(states[STEP.WAIT_FOR_CONTROL_TOWER].Catch).toEqual([
      { ErrorEquals: ['States.Timeout'], ResultPath: null, Next: STEP.WAIT_FOR_CONTROL_TOWER },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: STEP.RELEASE_SLOT_AFTER_FAILURE },
    ]);
    // No fixed Wait / Check loop polls Service Catalog any more.
    expect(states['Check provisioning']).toBeUndefined();
    expect(states[STEP.PROVISIONING_FINISHED]).toEqual({
      Type: 'Choice',
      Choices: [
        { Variable: '$.provisioningStatus.status', StringEquals: 'SUCCEEDED', Next: STEP.RELEASE_SLOT },
        {
          Variable: '$.provisioningStatus.status',
          StringEquals: 'FAILED',
          Next: STEP.CONTROL_TOWER_OPERATION_FAILED,
        },
      ],
      Default: STEP.WAIT_FOR_CONTROL_TOWER,
    });
    expect(states[STEP.RELEASE_SLOT].Next).toBe(STEP.FETCH_ACCOUNT_ID);
    expect(states[STEP.RELEASE_SLOT].Parameters.Payload).toEqual({
      lockName: 'control-tower',
      limit: 5,
      'holder.$': '$$.Execution.Id',
    });
    expect(states[STEP.CONTROL_TOWER_OPERATION_FAILED]).toEqual({
      Type: 'Pass',
      Parameters: { Error: 'ControlTowerOperationFailed', 'Cause.$': '$.provisioningStatus.errors' },
      ResultPath: '$.error',
      Next: STEP.RELEASE_SLOT_AFTER_FAILURE,
    });
  });

  test('account setup in order, with the execution role retried until IAM is ready', () => {
    const setup = [
      STEP.FETCH_ACCOUNT_ID,
      STEP.STORE_METADATA,
      STEP.CREATE_EXECUTION_ROLE,
      STEP.TAG_ACCOUNT,
      STEP.APPLY_FEATURE_OPTIONS,
      STEP.SET_ALTERNATE_CONTACTS,
      STEP.ENABLE_OPT_IN_REGIONS,
      STEP.OPT_IN_REGIONS_SETTLED,
    ];
    for (let i = 0; i < setup.length - 1; i++) expect(states[setup[i]].Next).toBe(setup[i + 1]);
    // A polled step: settled? -> (IN_PROGRESS) wait -> the step again; otherwise the next step.
    for (const [task, settled, wait, next] of [
      [
        STEP.ENABLE_OPT_IN_REGIONS,
        STEP.OPT_IN_REGIONS_SETTLED,
        STEP.WAIT_FOR_OPT_IN_REGIONS,
        STEP.ASSIGN_IDENTITY_CENTER_ACCESS,
      ],
      [
        STEP.ASSIGN_IDENTITY_CENTER_ACCESS,
        STEP.IDENTITY_CENTER_ACCESS_SETTLED,
        STEP.WAIT_FOR_IDENTITY_CENTER_ACCESS,
        STEP.PROVISIONING_CUSTOMIZATIONS,
      ],
    ]) {
      expect(states[task].Next).toBe(settled);
      expect(states[settled].Choices).toEqual([
        { Variable: `${states[task].ResultPath}.status`, StringEquals: 'IN_PROGRESS', Next: wait },
      ]);
      expect(states[settled].Default).toBe(next);
      expect(states[wait].Next).toBe(task);
    }
    const order = [
      STEP.PROVISIONING_CUSTOMIZATIONS,
      STEP.CREATE_ACCOUNT_PIPELINE,
      STEP.ACQUIRE_CUSTOMIZATIONS_SLOT,
      STEP.RUN_ACCOUNT_CUSTOMIZATIONS,
      STEP.HAND_OVER_CUSTOMIZATIONS_SLOT,
      STEP.CUSTOMIZATIONS_STARTED,
      STEP.NOTIFY_SUCCESS,
      STEP.ACCOUNT_READY,
    ];
    for (let i = 0; i < order.length - 1; i++) expect(states[order[i]].Next).toBe(order[i + 1]);
    expect(states[STEP.ACCOUNT_READY].Type).toBe('Succeed');
    expect(states[STEP.CREATE_EXECUTION_ROLE].Retry).toEqual(
      expect.arrayContaining([
        { ErrorEquals: ['ExecutionRoleNotReady'], IntervalSeconds: 5, BackoffRate: 2, MaxAttempts: 8 },
      ]),
    );
  });

  test('without provisioning customizations: a Pass that records it was skipped', () => {
    expect(states[STEP.PROVISIONING_CUSTOMIZATIONS]).toEqual({
      Type: 'Pass',
      Comment: 'No provisioning customizations configured',
      Result: { skipped: true },
      ResultPath: '$.provisioningCustomizations',
      Next: STEP.CREATE_ACCOUNT_PIPELINE,
    });
  });

  test('with provisioning customizations: startExecution.sync:2 with the AccountContext, failure caught', () => {
    const custom = withCustomizations().States[STEP.PROVISIONING_CUSTOMIZATIONS];
    expect(custom.Type).toBe('Task');
    expect(custom.Resource).toMatch(/:states:::states:startExecution\.sync:2$/);
    expect(custom.Parameters.Input).toEqual({
      'requestId.$': '$.requestId',
      'operation.$': '$.validation.operation',
      'account.$': '$.account',
      'organizationalUnit.$': '$.validation.organizationalUnit',
      'request.$': '$.validation.request',
      'executionRoleArn.$': '$.executionRole.roleArn',
      'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id',
    });
    expect(custom.ResultSelector).toEqual({ 'executionArn.$': '$.ExecutionArn', 'output.$': '$.Output' });
    expect(custom.ResultPath).toBe('$.provisioningCustomizations');
    expect(custom.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: STEP.RELEASE_SLOT_AFTER_FAILURE },
    ]);
  });

  test('run account customizations: StartPipelineExecution straight from the state machine', () => {
    const run = states[STEP.RUN_ACCOUNT_CUSTOMIZATIONS];
    expect(run.Resource).toMatch(/:states:::aws-sdk:codepipeline:startPipelineExecution$/);
    expect(run.Parameters).toEqual({ 'Name.$': '$.pipeline.pipelineName' });
    expect(run.ResultSelector).toEqual({ 'PipelineExecutionId.$': '$.PipelineExecutionId' });
    expect(run.ResultPath).toBe('$.pipelineExecution');
    expect(run.Retry[0].ErrorEquals).toContain('CodePipeline.ConcurrentModificationException');
    expect(run.Catch[0].Next).toBe(STEP.RELEASE_CUSTOMIZATIONS_SLOT_AFTER_FAILURE);
  });

  test('customizations slot: acquired before the pipeline starts, handed over to its execution, released on a failure before', () => {
    const acquire = states[STEP.ACQUIRE_CUSTOMIZATIONS_SLOT];
    expect(acquire.Resource).toMatch(/:states:::lambda:invoke\.waitForTaskToken$/);
    expect(acquire.Parameters.Payload).toMatchObject({
      lockName: 'customizations',
      limit: 10,
      'holder.$': '$$.Execution.Id',
      'taskToken.$': '$$.Task.Token',
    });
    expect(acquire.Parameters.Payload.table).toBeDefined();
    expect(
      acquire.Catch.map((c: { ErrorEquals: string[]; Next: string }) => [c.ErrorEquals[0], c.Next]),
    ).toEqual([
      ['States.Timeout', STEP.ACQUIRE_CUSTOMIZATIONS_SLOT],
      ['States.ALL', STEP.RELEASE_CUSTOMIZATIONS_SLOT_AFTER_FAILURE],
    ]);

    const handOver = states[STEP.HAND_OVER_CUSTOMIZATIONS_SLOT];
    expect(handOver.Resource).toMatch(/:states:::dynamodb:updateItem$/);
    expect(handOver.Parameters).toMatchObject({
      Key: { pk: { S: 'customizations' }, sk: { S: 'lock' } },
      UpdateExpression: 'REMOVE #from SET #to = :by',
      ConditionExpression: 'attribute_exists(#from) AND attribute_not_exists(#to)',
      ExpressionAttributeNames: {
        '#from.$': '$$.Execution.Id',
        '#to.$':
          "States.Format('codepipeline:{}:{}', $.pipeline.pipelineName, $.pipelineExecution.PipelineExecutionId)",
      },
    });
    expect(
      handOver.Catch.map((c: { ErrorEquals: string[]; Next: string }) => [c.ErrorEquals[0], c.Next]),
    ).toEqual([
      ['DynamoDB.ConditionalCheckFailedException', STEP.CUSTOMIZATIONS_STARTED],
      ['States.ALL', STEP.RELEASE_CUSTOMIZATIONS_SLOT_AFTER_FAILURE],
    ]);

    const release = states[STEP.RELEASE_CUSTOMIZATIONS_SLOT_AFTER_FAILURE];
    expect(release.Parameters.Payload).toMatchObject({
      lockName: 'customizations',
      'holder.$': '$$.Execution.Id',
    });
    expect(release.Next).toBe(STEP.RELEASE_SLOT_AFTER_FAILURE);
    expect(release.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.releaseError', Next: STEP.RELEASE_SLOT_AFTER_FAILURE },
    ]);
  });

  test('notify success carries outcome SUCCEEDED', () => {
    expect(states[STEP.NOTIFY_SUCCESS].Parameters).toEqual({ ...STEP_PAYLOAD, outcome: 'SUCCEEDED' });
  });

  test('failure chain: release (its errors caught) -> notify FAILED (its errors caught) -> Fail with the caught error', () => {
    const release = states[STEP.RELEASE_SLOT_AFTER_FAILURE];
    expect(release.Next).toBe(STEP.NOTIFY_FAILURE);
    expect(release.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.releaseError', Next: STEP.NOTIFY_FAILURE },
    ]);
    const notify = states[STEP.NOTIFY_FAILURE];
    expect(notify.Parameters).toEqual({ ...STEP_PAYLOAD, outcome: 'FAILED' });
    expect(notify.Next).toBe(STEP.REQUEST_FAILED);
    expect(notify.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.notificationError', Next: STEP.REQUEST_FAILED },
    ]);
    expect(states[STEP.REQUEST_FAILED]).toEqual({
      Type: 'Fail',
      Comment: 'Fails the execution with the error that stopped it',
      ErrorPath: '$.error.Error',
      CausePath: '$.error.Cause',
    });
  });

  test('every Task state catches every error (no execution ends without the failure chain)', () => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type !== 'Task') continue;
      const catchesAll = (state.Catch ?? []).some((c: Json) => c.ErrorEquals.includes('States.ALL'));
      expect({ name, catchesAll }).toEqual({ name, catchesAll: true });
    }
  });
});
