import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ControlTowerBusy } from '../../lambda/shared/errors';
import { ConcurrencySemaphore } from '../concurrency-semaphore';
import { STEP } from './step-names';
import { ERROR_PATH, THROTTLING_RETRY, catchInto, stepTask } from './step-task';

/** The state names of the closure (REMOVE of a request with `closeOnRemoval: true`), from step-names.ts. */
export const CLOSURE_STEP = {
  CLOSE_ON_REMOVAL: STEP.CLOSE_ON_REMOVAL,
  ACQUIRE_SLOT: STEP.ACQUIRE_SLOT_FOR_CLOSURE,
  TERMINATE: STEP.TERMINATE_PROVISIONED_PRODUCT,
  TERMINATION_STARTED: STEP.TERMINATION_STARTED,
  WAIT: STEP.WAIT_FOR_TERMINATION,
  CHECK: STEP.CHECK_TERMINATION,
  TERMINATION_FINISHED: STEP.TERMINATION_FINISHED,
  TERMINATION_FAILED: STEP.TERMINATION_FAILED,
  CLOSE_ACCOUNT: STEP.CLOSE_ACCOUNT,
  RELEASE_SLOT: STEP.RELEASE_SLOT_AFTER_CLOSURE,
} as const;

export interface CloseAccountOnRemovalProps {
  readonly semaphore: ConcurrencySemaphore;
  /** The close-account handler (actions `terminate` and `close`). */
  readonly closeFunction: lambda.IFunction;
  /** The check-provisioning handler: reads the termination record. */
  readonly checkFunction: lambda.IFunction;
  readonly pollInterval: Duration;
  /** Where the removal continues (Remove from management), closed or not. */
  readonly removal: sfn.IChainable;
  readonly onFailure: sfn.IChainable;
}

/**
 * REMOVE, before 'Remove from management': closes the account when the removed
 * request said `closeOnRemoval: true` (never the default). Like any Control
 * Tower operation it holds a slot of the semaphore: 'Acquire slot for closure'
 * -> 'Terminate provisioned product' (Service Catalog, token derived from the
 * request) -> poll the record ('Wait for termination', 'Check termination', the
 * Check provisioning handler) -> 'Close account' (Organizations CloseAccount)
 * -> 'Release slot after closure' -> the removal. Any failure goes to the
 * failure chain, which releases the slot.
 */
export class CloseAccountOnRemoval extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[] = [];

  constructor(scope: Construct, id: string, props: CloseAccountOnRemovalProps) {
    super(scope, id);

    const acquire = props.semaphore.acquireWithRetryLoop(this, CLOSURE_STEP.ACQUIRE_SLOT);
    acquire.addRetry(THROTTLING_RETRY);
    catchInto(acquire, props.onFailure);

    props.semaphore.grantOperationMarks(props.closeFunction);
    const terminate = stepTask(this, CLOSURE_STEP.TERMINATE, {
      lambdaFunction: props.closeFunction,
      resultPath: '$.provisioning',
      extraPayload: {
        action: 'terminate',
        slot: { table: props.semaphore.table.tableName, lockName: props.semaphore.lockName },
      },
      comment:
        "Terminates the account's Account Factory provisioned product (idempotent: token derived from the request)",
    });
    terminate.addRetry({
      errors: [ControlTowerBusy.errorName],
      interval: Duration.seconds(60),
      backoffRate: 1.5,
      maxAttempts: 30,
      maxDelay: Duration.minutes(10),
    });
    catchInto(terminate, props.onFailure);

    const wait = new sfn.Wait(this, CLOSURE_STEP.WAIT, { time: sfn.WaitTime.duration(props.pollInterval) });
    const check = catchInto(
      stepTask(this, CLOSURE_STEP.CHECK, {
        lambdaFunction: props.checkFunction,
        resultPath: '$.provisioningStatus',
        comment: 'Reads the Service Catalog record of the termination',
      }),
      props.onFailure,
    );
    const close = catchInto(
      stepTask(this, CLOSURE_STEP.CLOSE_ACCOUNT, {
        lambdaFunction: props.closeFunction,
        resultPath: '$.closure',
        extraPayload: { action: 'close' },
        comment: 'Closes the account (Organizations CloseAccount)',
      }),
      props.onFailure,
    );
    const release = catchInto(props.semaphore.release(this, CLOSURE_STEP.RELEASE_SLOT), props.onFailure);
    release.addRetry(THROTTLING_RETRY);

    const failed = new sfn.Pass(this, CLOSURE_STEP.TERMINATION_FAILED, {
      parameters: {
        Error: 'ControlTowerOperationFailed',
        Cause: sfn.JsonPath.stringAt('$.provisioningStatus.errors'),
      },
      resultPath: ERROR_PATH,
    });
    failed.next(props.onFailure);

    acquire
      .next(terminate)
      .next(
        new sfn.Choice(this, CLOSURE_STEP.TERMINATION_STARTED)
          .when(sfn.Condition.isNull('$.provisioning.recordId'), close)
          .otherwise(wait),
      );
    wait
      .next(check)
      .next(
        new sfn.Choice(this, CLOSURE_STEP.TERMINATION_FINISHED)
          .when(sfn.Condition.stringEquals('$.provisioningStatus.status', 'SUCCEEDED'), close)
          .when(sfn.Condition.stringEquals('$.provisioningStatus.status', 'FAILED'), failed)
          .otherwise(wait),
      );
    close.next(release).next(props.removal);

    this.startState = new sfn.Choice(this, CLOSURE_STEP.CLOSE_ON_REMOVAL, {
      comment: 'closeOnRemoval: true closes the account; otherwise it only leaves management',
    })
      .when(
        // The validated request always has the field (the schema defaults it to false).
        sfn.Condition.booleanEquals('$.validation.request.closeOnRemoval', true),
        acquire,
      )
      .otherwise(props.removal);
  }
}
