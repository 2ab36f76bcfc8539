import { Template } from 'aws-cdk-lib/assertions';
import { AccountFactory } from '../../lib/account-factory';
import { ENV } from '../../lambda/shared/env';
import { definitionOf, functionOf, newStack } from './helpers';
import { WORKFLOW_STEPS, StepDescriptor } from '../../lib/workflow/steps';
import { STEP } from '../../lib/workflow/step-names';
import { assertManagementRoleGrants } from '../../lib/control-tower-access';
import { phasesOf } from '../../local/progress';

const { stack } = newStack();
const factory = new AccountFactory(stack, 'Factory');
const template = Template.fromStack(stack);
const steps = WORKFLOW_STEPS as readonly StepDescriptor[];

describe('one descriptor per workflow step (lib/workflow/steps.ts)', () => {
  test.each(steps.map((s) => [s.handler, s] as const))(
    '%s: one function with its description and timeout; the management role only where it acts there',
    (handler, step) => {
      const { props } = functionOf(template, handler);
      expect(props.Description).toBe(step.description);
      expect(props.Timeout).toBe(step.timeout?.toSeconds() ?? 60);
      const env = props.Environment.Variables;
      expect(env[ENV.MANAGEMENT_ROLE_ARN] !== undefined).toBe(step.actsIn === 'management');
      expect(env[ENV.CONTROL_TOWER_HOME_REGION] !== undefined).toBe(step.actsIn === 'management');
      expect(factory.functions[step.handler as keyof typeof factory.functions]).toBeDefined();
    },
  );

  test('the account setup phase chains the steps that have an accountSetup task, in table order', () => {
    const states = definitionOf(template, 'FactoryWorkflow').States;
    const names = steps.flatMap((s) => (s.accountSetup ? [s.accountSetup.stateName] : []));
    expect(names.length).toBeGreaterThan(1);
    // A polled step goes on through its Choice's Default.
    const after = (task: string) => {
      const next = states[task].Next;
      return states[next].Type === 'Choice' ? states[next].Default : next;
    };
    for (let i = 1; i < names.length; i++) expect(after(names[i - 1])).toBe(names[i]);
    expect(after(names[names.length - 1])).toBe('Provisioning customizations');
  });
});

describe('a new step needs no edit elsewhere', () => {
  test('the progress of npm start finds the phase of every state from the definition: each account setup state (its Choice and Wait too) is "setting up"', () => {
    const definition = definitionOf(template, 'FactoryWorkflow');
    const phases = phasesOf(definition);
    const setup = steps.flatMap((s) =>
      s.accountSetup
        ? [
            s.accountSetup.stateName,
            ...(s.accountSetup.poll
              ? [s.accountSetup.poll.choiceStateName, s.accountSetup.poll.waitStateName]
              : []),
          ]
        : [],
    );
    expect(setup.length).toBeGreaterThan(5);
    for (const state of setup) expect([state, phases.get(state)]).toEqual([state, 'setting up']);
    expect(phases.get(STEP.VALIDATE_REQUEST)).toBe('validating');
    expect(phases.get(STEP.ACQUIRE_SLOT)).toBe('waiting for a slot');
    expect(phases.get(STEP.WAIT_FOR_CONTROL_TOWER)).toBe('provisioning');
    expect(phases.get(STEP.RUN_ACCOUNT_CUSTOMIZATIONS)).toBe('customizing');
    // Every state of the definition has a phase.
    expect(Object.keys(definition.States).filter((s) => !phases.has(s))).toEqual([]);
  });

  test('a step that calls a management-account action the management role does not scope is refused, naming the place to add it', () => {
    // Every step of the table passed this check: the factory above synthesized.
    expect(() => assertManagementRoleGrants('example-step', ['account:GetContactInformation'])).toThrow(
      'Step example-step calls account:GetContactInformation in the management account, which the management role does not grant: add the action to a statement of MANAGEMENT_ROLE_STATEMENTS in lib/control-tower-access.ts, with its resources',
    );
  });
});
