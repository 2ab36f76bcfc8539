import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { catchInto, stepTask } from './step-task';
import { AccountSetupTask, StepDescriptor, StepHandler, WORKFLOW_STEPS, WorkflowFunctions } from './steps';

export interface AccountSetupProps {
  /** The workflow steps' functions. */
  readonly steps: WorkflowFunctions;
  readonly onFailure: sfn.IChainable;
}

/**
 * Steps 3-7 and what follows them: the steps of `WORKFLOW_STEPS` (steps.ts) that have an
 * `accountSetup` task, chained in the order of the table: 'Fetch account ID' -> 'Store
 * metadata' -> 'Create execution role' (retried until IAM lets the role be assumed) ->
 * 'Tag account' -> 'Apply feature options'.
 */
export class AccountSetup extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];

  constructor(scope: Construct, id: string, props: AccountSetupProps) {
    super(scope, id);
    const setupSteps = (WORKFLOW_STEPS as readonly StepDescriptor[]).filter(
      (s): s is StepDescriptor & { accountSetup: AccountSetupTask } => s.accountSetup !== undefined,
    );
    const tasks = setupSteps.map(({ handler, accountSetup }) => {
      const task = stepTask(this, accountSetup.stateName, {
        lambdaFunction: props.steps.fn(handler as StepHandler),
        resultPath: accountSetup.resultPath,
      });
      for (const retry of accountSetup.retries ?? []) task.addRetry(retry);
      catchInto(task, props.onFailure);
      return { start: task, chain: this.pollUntilSettled(task, accountSetup) };
    });
    if (tasks.length === 0) throw new Error('AccountSetup: no workflow step has an accountSetup task');

    for (let i = 1; i < tasks.length; i++) tasks[i - 1].chain.next(tasks[i].start);
    this.startState = tasks[0].start;
    this.endStates = tasks[tasks.length - 1].chain.endStates;
  }

  /** The step alone, or the step -> settled? -> wait -> step loop of a polled step. */
  private pollUntilSettled(task: sfn.TaskStateBase, setup: AccountSetupTask): sfn.Chain {
    if (!setup.poll) return sfn.Chain.start(task);
    const wait = new sfn.Wait(this, setup.poll.waitStateName, {
      time: sfn.WaitTime.duration(setup.poll.interval),
    });
    const settled = new sfn.Choice(this, setup.poll.choiceStateName).when(
      sfn.Condition.stringEquals(`${setup.resultPath}.status`, 'IN_PROGRESS'),
      wait.next(task),
    );
    task.next(settled);
    return settled.afterwards({ includeOtherwise: true });
  }
}
