import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { StepPayload } from '../../lambda/shared/contracts';
import { RETRYABLE_STEP_ERRORS } from '../../lambda/shared/errors';
import { LAMBDA_FAILURE_RETRY } from '../private/retry';

/** Where a Catch puts the error it caught (Step Functions' `{ Error, Cause }`). */
export const ERROR_PATH = '$.error';

/**
 * Retry for "AWS is busy" errors, on every Lambda task: 2 s, doubling, with full jitter.
 * Also catches RetryBudgetExhausted: a handler throttled until its time ran short.
 */
export const THROTTLING_RETRY: sfn.RetryProps = {
  errors: [...RETRYABLE_STEP_ERRORS],
  interval: Duration.seconds(2),
  backoffRate: 2,
  maxAttempts: 6,
  jitterStrategy: sfn.JitterType.FULL,
};

/** The StepPayload every step Lambda receives: the whole state and the execution. */
export function stepPayload(extra: Record<string, unknown> = {}): sfn.TaskInput {
  const payload: Record<keyof StepPayload, unknown> = {
    state: sfn.JsonPath.entirePayload,
    execution: {
      id: sfn.JsonPath.stringAt('$$.Execution.Id'),
      startTime: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
    },
  };
  return sfn.TaskInput.fromObject({ ...payload, ...extra });
}

export interface StepTaskProps {
  /** The function that runs the step. */
  readonly lambdaFunction: lambda.IFunction;
  /** Where the step's result goes in the state (e.g. `$.validation`), or JsonPath.DISCARD. */
  readonly resultPath: string;
  /**
   * Fields added to the StepPayload (e.g. `outcome` for Notify).
   * @default - none
   */
  readonly extraPayload?: Record<string, unknown>;
  /** @default - none */
  readonly comment?: string;
}

/**
 * A step Lambda task: invoked with the StepPayload, its returned object lands at
 * `resultPath`; retried on Lambda service errors, on a crashed or timed-out
 * invocation, and on throttling.
 */
export function stepTask(scope: Construct, stateName: string, props: StepTaskProps): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(scope, stateName, {
    lambdaFunction: props.lambdaFunction,
    payload: stepPayload(props.extraPayload),
    payloadResponseOnly: true,
    resultPath: props.resultPath,
    comment: props.comment,
  });
  task.addRetry(LAMBDA_FAILURE_RETRY);
  task.addRetry(THROTTLING_RETRY);
  return task;
}

/** Sends every error of `state` to `handler`, with the error at `$.error`. */
export function catchInto<T extends sfn.TaskStateBase | sfn.Parallel | sfn.Map>(
  state: T,
  handler: sfn.IChainable,
): T {
  state.addCatch(handler, { errors: [sfn.Errors.ALL], resultPath: ERROR_PATH });
  return state;
}
