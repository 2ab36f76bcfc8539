import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ConcurrencySemaphore } from '../concurrency-semaphore';
import { SlotGuardedOperation } from './control-tower-operation';
import { HANDLER, STEP } from './step-names';
import { catchInto, stepTask } from './step-task';
import type { WorkflowFunctions } from './steps';

/** The state names of the closure (REMOVE of a request with `closeOnRemoval: true`), from step-names.ts. */
export const CLOSURE_STEP = {
  CLOSE_ON_REMOVAL: STEP.CLOSE_ON_REMOVAL,
  ACQUIRE_SLOT: STEP.ACQUIRE_SLOT_FOR_CLOSURE,
  TERMINATE: STEP.TERMINATE_PROVISIONED_PRODUCT,
  TERMINATION_STARTED: STEP.TERMINATION_STARTED,
  WAIT: STEP.WAIT_FOR_TERMINATION,
  TERMINATION_FINISHED: STEP.TERMINATION_FINISHED,
  TERMINATION_FAILED: STEP.TERMINATION_FAILED,
  CLOSE_ACCOUNT: STEP.CLOSE_ACCOUNT,
  RELEASE_SLOT: STEP.RELEASE_SLOT_AFTER_CLOSURE,
} as const;

export interface CloseAccountOnRemovalProps {
  readonly semaphore: ConcurrencySemaphore;
  /** The workflow steps' functions (steps.ts): close-account (actions `terminate` and `close`). */
  readonly steps: WorkflowFunctions;
  /** lambda/await-control-tower (`ControlTowerEvents.awaitFunction`). */
  readonly awaitFunction: lambda.IFunction;
  /**
   * How often the wait reads the termination's record. Control Tower sends no account
   * lifecycle event when a provisioned product is terminated (docs/aws-behaviour.md
   * CT-25), so this poll is what ends the wait.
   */
  readonly pollInterval: Duration;
  /** Where the removal continues (Remove from management), closed or not. */
  readonly removal: sfn.IChainable;
  readonly onFailure: sfn.IChainable;
}

/**
 * REMOVE, before 'Remove from management': closes the account when the removed
 * request said `closeOnRemoval: true` (never the default). Like any Control
 * Tower operation it holds a slot of the semaphore (SlotGuardedOperation):
 * 'Acquire slot for closure' -> 'Terminate provisioned product' (Service Catalog,
 * token derived from the request) -> 'Wait for termination' (the await-control-tower
 * task, which reads the record every `pollInterval`) -> 'Close account' (Organizations
 * CloseAccount) -> 'Release slot after closure' -> the removal. Any failure goes to the
 * failure chain, which releases the slot.
 */
export class CloseAccountOnRemoval extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[] = [];

  constructor(scope: Construct, id: string, props: CloseAccountOnRemovalProps) {
    super(scope, id);
    const closeFunction = props.steps.fn(HANDLER.CLOSE_ACCOUNT);
    const close = catchInto(
      stepTask(this, CLOSURE_STEP.CLOSE_ACCOUNT, {
        lambdaFunction: closeFunction,
        resultPath: '$.closure',
        extraPayload: { action: 'close' },
        comment: 'Closes the account (Organizations CloseAccount)',
      }),
      props.onFailure,
    );
    const closure = new SlotGuardedOperation(this, 'Operation', {
      semaphore: props.semaphore,
      states: {
        acquire: CLOSURE_STEP.ACQUIRE_SLOT,
        start: CLOSURE_STEP.TERMINATE,
        started: CLOSURE_STEP.TERMINATION_STARTED,
        wait: CLOSURE_STEP.WAIT,
        finished: CLOSURE_STEP.TERMINATION_FINISHED,
        failed: CLOSURE_STEP.TERMINATION_FAILED,
        release: CLOSURE_STEP.RELEASE_SLOT,
      },
      start: {
        lambdaFunction: closeFunction,
        extraPayload: { action: 'terminate' },
        comment:
          "Terminates the account's Account Factory provisioned product (idempotent: token derived from the request)",
      },
      awaitFunction: props.awaitFunction,
      waitComment: 'Waits for the termination, reading its Service Catalog record every poll interval',
      pollInterval: props.pollInterval,
      thenInSlot: close,
      onFailure: props.onFailure,
    });
    closure.next(props.removal);

    this.startState = new sfn.Choice(this, CLOSURE_STEP.CLOSE_ON_REMOVAL, {
      comment: 'closeOnRemoval: true closes the account; otherwise it only leaves management',
    })
      .when(
        // The validated request always has the field (the schema defaults it to false).
        sfn.Condition.booleanEquals('$.validation.request.closeOnRemoval', true),
        closure,
      )
      .otherwise(props.removal);
  }
}
