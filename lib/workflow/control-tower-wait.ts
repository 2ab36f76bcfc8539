import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { AwaitControlTowerInput } from '../../lambda/await-control-tower';
import { LAMBDA_FAILURE_RETRY } from '../private/retry';
import { catchInto, THROTTLING_RETRY } from './step-task';

export interface ControlTowerWaitProps {
  /** The task-token wait's state name, and the Choice's that routes its result. */
  readonly states: { readonly wait: string; readonly finished: string };
  /** The wait task's comment. */
  readonly comment: string;
  /** lambda/await-control-tower (`ControlTowerEvents.awaitFunction`). */
  readonly awaitFunction: lambda.IFunction;
  /**
   * How long the execution waits for the lifecycle event before it reads the record
   * itself (and waits again): the slow poll that catches a lost event.
   * @default Duration.minutes(10)
   */
  readonly pollInterval?: Duration;
  /** Where a SUCCEEDED operation goes (e.g. 'Release slot'). */
  readonly onSucceeded: sfn.IChainable;
  /** Where a FAILED operation goes (e.g. the 'Control Tower operation failed' Pass). */
  readonly onFailed: sfn.IChainable;
  /** Where any other error goes (the failure chain, which releases the slot). */
  readonly onFailure: sfn.IChainable;
}

/**
 * Waits for the Control Tower operation that the previous step started, by event:
 *
 * the wait task (`lambda:invoke.waitForTaskToken`, TimeoutSeconds =
 * pollInterval) registers the task token under the account's name and ID and reads the
 * record once; the `CreateManagedAccount` / `UpdateManagedAccount` lifecycle event
 * completes the token (lambda/control-tower-event) with the record's status. When no
 * event comes within `pollInterval` (events are best effort), `States.Timeout` loops
 * back to the same task: it registers a fresh token and reads the record again, so a
 * lost event costs at most one poll interval. The result lands at
 * `$.provisioningStatus` (a ProvisioningStatus, lambda/shared/record-status.ts),
 * and the Choice (`states.finished`) routes it.
 *
 * Per operation: 2 states when the event comes (against one Wait/Check/Choice round
 * per minute when polling), plus one per poll interval.
 */
export class ControlTowerWait extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[] = [];

  constructor(scope: Construct, id: string, props: ControlTowerWaitProps) {
    super(scope, id);
    const pollInterval = props.pollInterval ?? Duration.minutes(10);
    if (pollInterval.toSeconds() < 10) {
      throw new Error(
        `ControlTowerWait: pollInterval must be at least 10 seconds (it is the safety net, not the signal), got ${pollInterval.toHumanString()}`,
      );
    }
    const payload: Record<keyof AwaitControlTowerInput, unknown> = {
      taskToken: sfn.JsonPath.taskToken,
      executionId: sfn.JsonPath.stringAt('$$.Execution.Id'),
      recordId: sfn.JsonPath.stringAt('$.provisioning.recordId'),
      startedAt: sfn.JsonPath.stringAt('$.provisioning.startedAt'),
      accountName: sfn.JsonPath.stringAt('$.validation.request.accountName'),
      accountId: sfn.JsonPath.stringAt('$.validation.accountId'),
    };
    const wait = new tasks.LambdaInvoke(this, props.states.wait, {
      comment: props.comment,
      lambdaFunction: props.awaitFunction,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject(payload),
      resultPath: '$.provisioningStatus',
      taskTimeout: sfn.Timeout.duration(pollInterval),
    });
    wait.addRetry(LAMBDA_FAILURE_RETRY);
    wait.addRetry(THROTTLING_RETRY);
    // No event within the interval: register again (a fresh token) and read the record.
    wait.addCatch(wait, { errors: [sfn.Errors.TIMEOUT], resultPath: sfn.JsonPath.DISCARD });
    catchInto(wait, props.onFailure);

    const finished = new sfn.Choice(this, props.states.finished)
      .when(sfn.Condition.stringEquals('$.provisioningStatus.status', 'SUCCEEDED'), props.onSucceeded)
      .when(sfn.Condition.stringEquals('$.provisioningStatus.status', 'FAILED'), props.onFailed)
      // A completed wait always carries a terminal status; anything else waits again.
      .otherwise(wait);
    wait.next(finished);
    this.startState = wait;
  }
}
