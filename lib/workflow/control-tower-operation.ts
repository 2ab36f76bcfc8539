import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ControlTowerOperationFailed, SlotLost } from '../../lambda/shared/errors';
import { ConcurrencySemaphore } from '../concurrency-semaphore';
import { controlTowerBusyRetry, THROTTLING_RETRY } from '../private/retry';
import { HANDLER, STEP } from './step-names';
import { ControlTowerWait } from './control-tower-wait';
import { catchInto, ERROR_PATH, stepTask } from './step-task';
import type { WorkflowFunctions } from './steps';

/** The state names of one slot-guarded Control Tower operation. */
export interface ControlTowerOperationStates {
  readonly acquire: string;
  readonly start: string;
  /**
   * A Choice after the start: when it started nothing (`$.provisioning.recordId` is null),
   * there is no record to wait for.
   * @default - every start is followed by the wait
   */
  readonly started?: string;
  /** The task-token wait for the operation's end (ControlTowerWait). */
  readonly wait: string;
  readonly finished: string;
  readonly failed: string;
  readonly release: string;
}

/** The step that starts the operation (it marks the slot with its record). */
export interface ControlTowerOperationStart {
  readonly lambdaFunction: lambda.IFunction;
  /** Fields added to the StepPayload besides `slot` (e.g. `action`). @default - none */
  readonly extraPayload?: Record<string, unknown>;
  readonly comment: string;
}

export interface SlotGuardedOperationProps {
  /** Bounds how many Control Tower operations run at once. */
  readonly semaphore: ConcurrencySemaphore;
  readonly states: ControlTowerOperationStates;
  readonly start: ControlTowerOperationStart;
  /** lambda/await-control-tower (`ControlTowerEvents.awaitFunction`). */
  readonly awaitFunction: lambda.IFunction;
  readonly waitComment: string;
  /**
   * How long the wait lasts before the execution reads the record itself and waits
   * again: the slow poll that catches a lost (or never sent) lifecycle event.
   */
  readonly pollInterval: Duration;
  /**
   * A step that runs once the operation succeeded, still holding the slot.
   * @default - none: the slot is released
   */
  readonly thenInSlot?: sfn.TaskStateBase;
  readonly onFailure: sfn.IChainable;
}

/**
 * One Control Tower operation in a slot of the semaphore: 'Acquire slot' -> start the
 * operation (Service Catalog, token derived from the request; retried while Control Tower
 * is busy, keeping the slot, for up to about 4 hours) -> wait for its end
 * (ControlTowerWait: a task token completed by the lifecycle event, a read of the record
 * every `pollInterval`) -> [`thenInSlot`] -> 'Release slot'. The slot is released only
 * once the record is terminal: the wait's result is always the record's status, read by
 * whoever completed the token. A FAILED record goes to the failure chain as
 * ControlTowerOperationFailed (which releases the slot too), as does any error. A slot
 * found lost before the start step called anything (SlotLost) sends the execution back
 * to the acquire state.
 */
export class SlotGuardedOperation extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];

  constructor(scope: Construct, id: string, props: SlotGuardedOperationProps) {
    super(scope, id);
    const { semaphore, states, onFailure } = props;

    const acquire = semaphore.acquireWithRetryLoop(this, states.acquire);
    acquire.addRetry(THROTTLING_RETRY);
    catchInto(acquire, onFailure);

    // The step marks its slot with the operation it starts: the slot is then freed only
    // when the operation ends, whatever happens to this execution.
    semaphore.grantOperationMarks(props.start.lambdaFunction);
    const start = stepTask(this, states.start, {
      lambdaFunction: props.start.lambdaFunction,
      resultPath: '$.provisioning',
      extraPayload: {
        ...props.start.extraPayload,
        slot: { table: semaphore.table.tableName, lockName: semaphore.lockName },
      },
      comment: props.start.comment,
    });
    start.addRetry(controlTowerBusyRetry());
    // SlotLost: the slot was gone when the step went to mark it, so this attempt called
    // nothing. The cleanup frees a slot only when no operation of its holder runs (no
    // mark, or a terminal record), so no operation of this execution is in flight: it
    // waits for a slot again and starts again; the same idempotency token returns the
    // record of an earlier attempt's call, if there was one. Before the catch-all.
    start.addCatch(acquire, { errors: [SlotLost.errorName], resultPath: sfn.JsonPath.DISCARD });
    catchInto(start, onFailure);

    const release = catchInto(semaphore.release(this, states.release), onFailure);
    release.addRetry(THROTTLING_RETRY);

    const failed = new sfn.Pass(this, states.failed, {
      parameters: {
        Error: ControlTowerOperationFailed.errorName,
        Cause: sfn.JsonPath.stringAt('$.provisioningStatus.errors'),
      },
      resultPath: ERROR_PATH,
    });
    failed.next(onFailure);

    const succeeded = props.thenInSlot ?? release;
    if (props.thenInSlot) props.thenInSlot.next(release);
    const wait = new ControlTowerWait(this, 'Wait', {
      states: { wait: states.wait, finished: states.finished },
      comment: props.waitComment,
      awaitFunction: props.awaitFunction,
      pollInterval: props.pollInterval,
      onSucceeded: succeeded,
      onFailed: failed,
      onFailure,
    });
    acquire.next(start);
    if (states.started) {
      start.next(
        new sfn.Choice(this, states.started)
          .when(sfn.Condition.isNull('$.provisioning.recordId'), succeeded)
          .otherwise(wait),
      );
    } else {
      start.next(wait);
    }
    this.startState = acquire;
    this.endStates = [release];
  }
}

export interface ControlTowerOperationProps {
  readonly semaphore: ConcurrencySemaphore;
  /** The workflow steps' functions (steps.ts). */
  readonly steps: WorkflowFunctions;
  /** lambda/await-control-tower (`ControlTowerEvents.awaitFunction`). */
  readonly awaitFunction: lambda.IFunction;
  /** How long the wait lasts before it reads the record itself (a lost lifecycle event). */
  readonly pollInterval: Duration;
  readonly onFailure: sfn.IChainable;
}

/**
 * Step 2, for CREATE / UPDATE / IMPORT: 'Acquire slot' -> 'Provision account'
 * (ProvisionProduct / UpdateProvisionedProduct) -> 'Wait for Control Tower' (ended by the
 * CreateManagedAccount / UpdateManagedAccount lifecycle event, or by the slow poll) ->
 * 'Release slot' (see SlotGuardedOperation).
 */
export class ControlTowerOperation extends SlotGuardedOperation {
  constructor(scope: Construct, id: string, props: ControlTowerOperationProps) {
    super(scope, id, {
      semaphore: props.semaphore,
      states: {
        acquire: STEP.ACQUIRE_SLOT,
        start: STEP.PROVISION_ACCOUNT,
        wait: STEP.WAIT_FOR_CONTROL_TOWER,
        finished: STEP.PROVISIONING_FINISHED,
        failed: STEP.CONTROL_TOWER_OPERATION_FAILED,
        release: STEP.RELEASE_SLOT,
      },
      start: {
        lambdaFunction: props.steps.fn(HANDLER.PROVISION_ACCOUNT),
        comment:
          'Starts the Control Tower Account Factory operation (idempotent: token derived from the request)',
      },
      awaitFunction: props.awaitFunction,
      waitComment:
        'Waits for the lifecycle event of the Control Tower operation; reads the Service Catalog record itself every poll interval',
      pollInterval: props.pollInterval,
      onFailure: props.onFailure,
    });
  }
}
