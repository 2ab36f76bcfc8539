import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { NotifyPayload } from '../../lambda/shared/contracts';
import { ConcurrencySemaphore } from '../concurrency-semaphore';
import { HANDLER, STEP } from './step-names';
import { catchInto, THROTTLING_RETRY, stepTask } from './step-task';
import type { WorkflowFunctions } from './steps';

function outcome(value: NotifyPayload['outcome']): Record<string, unknown> {
  return { outcome: value };
}

export interface NotifySuccessProps {
  /** The workflow steps' functions (steps.ts). */
  readonly steps: WorkflowFunctions;
  /** Where a failure of the notification goes. */
  readonly onFailure: sfn.IChainable;
}

/** Step 11: 'Notify success' (SNS success topic) -> Succeed 'Account ready'. */
export class NotifySuccess extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[] = [];

  constructor(scope: Construct, id: string, props: NotifySuccessProps) {
    super(scope, id);
    const notify = catchInto(
      stepTask(this, STEP.NOTIFY_SUCCESS, {
        lambdaFunction: props.steps.fn(HANDLER.NOTIFY),
        resultPath: '$.notification',
        extraPayload: outcome('SUCCEEDED'),
        comment: 'Publishes the account to the success topic',
      }),
      props.onFailure,
    );
    notify.next(new sfn.Succeed(this, STEP.ACCOUNT_READY));
    this.startState = notify;
  }
}

export interface FailureHandlingProps {
  /** The workflow steps' functions (steps.ts). */
  readonly steps: WorkflowFunctions;
  /** Releases a slot the execution may still hold (a no-op when it holds none). */
  readonly semaphore: ConcurrencySemaphore;
}

/**
 * Where every error goes: 'Release slot after failure' -> 'Notify failure' ->
 * Fail 'Request failed', whose error and cause are the caught error's
 * (`$.error`). A failure of the release or of the notification itself still
 * ends in 'Request failed', with the original error.
 */
export class FailureHandling extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[] = [];

  constructor(scope: Construct, id: string, props: FailureHandlingProps) {
    super(scope, id);
    const failed = new sfn.Fail(this, STEP.REQUEST_FAILED, {
      comment: 'Fails the execution with the error that stopped it',
      errorPath: '$.error.Error',
      causePath: '$.error.Cause',
    });
    const notify = stepTask(this, STEP.NOTIFY_FAILURE, {
      lambdaFunction: props.steps.fn(HANDLER.NOTIFY),
      resultPath: '$.notification',
      extraPayload: outcome('FAILED'),
      comment: 'Publishes the error to the failure topic',
    });
    notify.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.notificationError' });
    notify.next(failed);

    const release = props.semaphore.release(this, STEP.RELEASE_SLOT_AFTER_FAILURE);
    release.addRetry(THROTTLING_RETRY);
    release.addCatch(notify, { errors: [sfn.Errors.ALL], resultPath: '$.releaseError' });
    release.next(notify);
    this.startState = release;
  }
}

export interface RemoveFromManagementProps {
  /** The workflow steps' functions (steps.ts). */
  readonly steps: WorkflowFunctions;
  readonly onFailure: sfn.IChainable;
}

/**
 * REMOVE: 'Remove from management' -> 'Notify removed' -> Succeed 'Account
 * removed'. The account stays in the organization unless the request asked to
 * close it on removal.
 */
export class RemoveFromManagement extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[] = [];

  constructor(scope: Construct, id: string, props: RemoveFromManagementProps) {
    super(scope, id);
    const remove = catchInto(
      stepTask(this, STEP.REMOVE_FROM_MANAGEMENT, {
        lambdaFunction: props.steps.fn(HANDLER.REMOVE_FROM_MANAGEMENT),
        resultPath: '$.removal',
        comment: "Deletes the account's pipeline and metadata",
      }),
      props.onFailure,
    );
    const notify = catchInto(
      stepTask(this, STEP.NOTIFY_REMOVED, {
        lambdaFunction: props.steps.fn(HANDLER.NOTIFY),
        resultPath: '$.notification',
        extraPayload: outcome('REMOVED'),
      }),
      props.onFailure,
    );
    remove.next(notify).next(new sfn.Succeed(this, STEP.ACCOUNT_REMOVED));
    this.startState = remove;
  }
}
