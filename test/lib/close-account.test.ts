import { Template } from 'aws-cdk-lib/assertions';
import { AccountFactory } from '../../lib/account-factory';
import { CLOSURE_STEP } from '../../lib/workflow/close-account';
import { STEP } from '../../lib/workflow/step-names';
import { actionsOf, definitionOf, newStack, statementsOfFunction, identityStatements } from './helpers';

const { stack } = newStack();
new AccountFactory(stack, 'Factory');
const template = Template.fromStack(stack);
const states = definitionOf(template, 'FactoryWorkflow').States;

test('REMOVE goes through "Close account on removal?": closeOnRemoval closes, anything else only removes', () => {
  const route = states[STEP.CONTROL_TOWER_OPERATION].Choices.find((c: any) => c.StringEquals === 'REMOVE');
  expect(route.Next).toBe(CLOSURE_STEP.CLOSE_ON_REMOVAL);
  expect(states[CLOSURE_STEP.CLOSE_ON_REMOVAL]).toMatchObject({
    Type: 'Choice',
    Choices: [
      {
        Variable: '$.validation.request.closeOnRemoval',
        BooleanEquals: true,
        Next: CLOSURE_STEP.ACQUIRE_SLOT,
      },
    ],
    Default: STEP.REMOVE_FROM_MANAGEMENT,
  });
});

test('closing holds a Control Tower slot: acquire, terminate, poll, close, release, then the removal', () => {
  expect(states[CLOSURE_STEP.ACQUIRE_SLOT].Resource).toMatch(/lambda:invoke.waitForTaskToken$/);
  expect(states[CLOSURE_STEP.ACQUIRE_SLOT].Next).toBe(CLOSURE_STEP.TERMINATE);
  expect(states[CLOSURE_STEP.TERMINATE].Parameters).toMatchObject({ action: 'terminate' });
  expect(states[CLOSURE_STEP.TERMINATE].Retry.map((r: any) => r.ErrorEquals).flat()).toContain(
    'ControlTowerBusy',
  );
  expect(states[CLOSURE_STEP.TERMINATION_STARTED].Choices[0]).toMatchObject({
    Variable: '$.provisioning.recordId',
    IsNull: true,
    Next: CLOSURE_STEP.CLOSE_ACCOUNT,
  });
  // Termination sends no lifecycle event: the token wait reads the record every minute.
  expect(states[CLOSURE_STEP.WAIT].Resource).toMatch(/:states:::lambda:invoke\.waitForTaskToken$/);
  expect(states[CLOSURE_STEP.WAIT].TimeoutSeconds).toBe(60);
  expect(states[CLOSURE_STEP.WAIT].Catch[0]).toEqual({
    ErrorEquals: ['States.Timeout'],
    ResultPath: null,
    Next: CLOSURE_STEP.WAIT,
  });
  expect(states[CLOSURE_STEP.WAIT].Next).toBe(CLOSURE_STEP.TERMINATION_FINISHED);
  expect(states[CLOSURE_STEP.TERMINATION_FINISHED].Default).toBe(CLOSURE_STEP.WAIT);
  expect(states[CLOSURE_STEP.TERMINATION_FINISHED].Choices.map((c: any) => [c.StringEquals, c.Next])).toEqual(
    [
      ['SUCCEEDED', CLOSURE_STEP.CLOSE_ACCOUNT],
      ['FAILED', CLOSURE_STEP.TERMINATION_FAILED],
    ],
  );
  expect(states[CLOSURE_STEP.CLOSE_ACCOUNT].Parameters).toMatchObject({ action: 'close' });
  expect(states[CLOSURE_STEP.CLOSE_ACCOUNT].Next).toBe(CLOSURE_STEP.RELEASE_SLOT);
  expect(states[CLOSURE_STEP.RELEASE_SLOT].Next).toBe(STEP.REMOVE_FROM_MANAGEMENT);
  // Every failure goes to the failure chain, which releases the slot first.
  for (const name of [
    CLOSURE_STEP.ACQUIRE_SLOT,
    CLOSURE_STEP.TERMINATE,
    CLOSURE_STEP.WAIT,
    CLOSURE_STEP.CLOSE_ACCOUNT,
  ]) {
    expect(states[name].Catch.at(-1)).toMatchObject({
      ErrorEquals: ['States.ALL'],
      Next: STEP.RELEASE_SLOT_AFTER_FAILURE,
    });
  }
});

test('the close-account function acts in the management account through the management role, which may terminate and close', () => {
  const actions = actionsOf(statementsOfFunction(template, 'close-account'));
  // dynamodb: it marks its semaphore slot with the termination it starts.
  expect(actions.filter((a) => !/^(logs|xray|dynamodb):/.test(a))).toEqual(['sts:AssumeRole']);
  const management = actionsOf(identityStatements(template));
  expect(management).toEqual(
    expect.arrayContaining([
      'servicecatalog:TerminateProvisionedProduct',
      'servicecatalog:SearchProvisionedProducts',
      'organizations:CloseAccount',
    ]),
  );
});
