import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ControlTowerBusy, SlotLost } from '../../lambda/shared/errors';
import { ConcurrencySemaphore } from '../concurrency-semaphore';
import { STEP } from './step-names';
import { catchInto, ERROR_PATH, THROTTLING_RETRY, stepTask } from './step-task';

export interface ControlTowerOperationProps {
  /** Bounds how many Control Tower operations run at once. */
  readonly semaphore: ConcurrencySemaphore;
  readonly provisionFunction: lambda.IFunction;
  readonly checkFunction: lambda.IFunction;
  /** The fixed wait between two checks of the Service Catalog record. */
  readonly pollInterval: Duration;
  readonly onFailure: sfn.IChainable;
}

/**
 * Step 2, for CREATE / UPDATE / IMPORT: 'Acquire slot' -> 'Provision account'
 * (ProvisionProduct / UpdateProvisionedProduct; retried while Control Tower is
 * busy, keeping the slot, for up to about 4 hours) -> poll the record ('Wait for Control Tower', 'Check
 * provisioning') -> 'Release slot'. A FAILED record goes to the failure chain
 * as ControlTowerOperationFailed (which releases the slot too). A slot found lost before
 * Provision account called anything (SlotLost) sends the execution back to Acquire slot.
 */
export class ControlTowerOperation extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];

  constructor(scope: Construct, id: string, props: ControlTowerOperationProps) {
    super(scope, id);

    const acquire = props.semaphore.acquireWithRetryLoop(this, STEP.ACQUIRE_SLOT);
    acquire.addRetry(THROTTLING_RETRY);
    catchInto(acquire, props.onFailure);

    // The step marks its slot with the operation it starts: the slot is then freed only
    // when the operation ends, whatever happens to this execution.
    props.semaphore.grantOperationMarks(props.provisionFunction);
    const provision = stepTask(this, STEP.PROVISION_ACCOUNT, {
      lambdaFunction: props.provisionFunction,
      resultPath: '$.provisioning',
      extraPayload: { slot: { table: props.semaphore.table.tableName, lockName: props.semaphore.lockName } },
      comment:
        'Starts the Control Tower Account Factory operation (idempotent: token derived from the request)',
    });
    provision.addRetry({
      errors: [ControlTowerBusy.errorName],
      interval: Duration.seconds(60),
      backoffRate: 1.5,
      maxAttempts: 30,
      // Caps the backoff: without it the 30th attempt would come days later.
      maxDelay: Duration.minutes(10),
    });
    // SlotLost: the slot was gone when the step went to mark it, so this attempt called
    // nothing. The cleanup frees a slot only when no operation of its holder runs (no
    // mark, a terminal record, or none found for the mark: see semaphore-cleanup), so no
    // operation of this execution is in flight: it waits for a slot again and provisions
    // again; the same idempotency token returns the record of an earlier attempt's call,
    // if there was one. Before the failure chain's catch-all.
    provision.addCatch(acquire, { errors: [SlotLost.errorName], resultPath: sfn.JsonPath.DISCARD });
    catchInto(provision, props.onFailure);

    const wait = new sfn.Wait(this, STEP.WAIT_FOR_CONTROL_TOWER, {
      time: sfn.WaitTime.duration(props.pollInterval),
    });
    const check = catchInto(
      stepTask(this, STEP.CHECK_PROVISIONING, {
        lambdaFunction: props.checkFunction,
        resultPath: '$.provisioningStatus',
        comment: 'Reads the Service Catalog record',
      }),
      props.onFailure,
    );
    const release = catchInto(props.semaphore.release(this, STEP.RELEASE_SLOT), props.onFailure);
    release.addRetry(THROTTLING_RETRY);

    const failed = new sfn.Pass(this, STEP.CONTROL_TOWER_OPERATION_FAILED, {
      parameters: {
        Error: 'ControlTowerOperationFailed',
        Cause: sfn.JsonPath.stringAt('$.provisioningStatus.errors'),
      },
      resultPath: ERROR_PATH,
    });
    failed.next(props.onFailure);

    const finished = new sfn.Choice(this, STEP.PROVISIONING_FINISHED)
      .when(sfn.Condition.stringEquals('$.provisioningStatus.status', 'SUCCEEDED'), release)
      .when(sfn.Condition.stringEquals('$.provisioningStatus.status', 'FAILED'), failed)
      .otherwise(wait);

    acquire.next(provision).next(wait).next(check).next(finished);
    this.startState = acquire;
    this.endStates = [release];
  }
}
