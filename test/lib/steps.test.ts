import { Template } from 'aws-cdk-lib/assertions';
import { AccountFactory } from '../../lib/account-factory';
import { ENV } from '../../lambda/shared/env';
import { definitionOf, functionOf, newStack } from './helpers';
import { WORKFLOW_STEPS, StepDescriptor } from '../../lib/workflow/steps';

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
