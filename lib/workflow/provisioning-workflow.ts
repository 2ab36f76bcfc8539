import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ConcurrencySemaphore, SemaphoreLock } from '../concurrency-semaphore';
import { AccountSetup } from './account-setup';
import { CloseAccountOnRemoval } from './close-account';
import { ControlTowerOperation } from './control-tower-operation';
import { Customizations } from './customizations';
import { FailureHandling, NotifySuccess, RemoveFromManagement } from './notify';
import type { WorkflowFunctions } from './steps';
import { ValidateRequest } from './validate';

export interface ProvisioningWorkflowProps {
  readonly steps: WorkflowFunctions;
  /** Bounds the concurrent Control Tower operations. */
  readonly semaphore: ConcurrencySemaphore;
  /** Bounds the concurrent account pipelines. */
  readonly customizationsLock: SemaphoreLock;
  /** lambda/await-control-tower (`ControlTowerEvents.awaitFunction`). */
  readonly awaitFunction: lambda.IFunction;
  /** The Control Tower wait's slow poll of the record (a lost lifecycle event). */
  readonly pollInterval: Duration;
  /** The closure's poll of the termination's record (no lifecycle event ends it). */
  readonly terminationPollInterval: Duration;
  readonly pipelineArnPattern: string;
  /** @default - none */
  readonly provisioningCustomizations?: sfn.IStateMachine;
  /**
   * The approval gate after validation (see ApprovalGate).
   * @default - no approvals
   */
  readonly approval?: {
    readonly approvalFunction: lambda.IFunction;
    readonly operations: readonly string[];
    readonly expiry: Duration;
  };
}

/**
 * The provisioning workflow, phase by phase (one fragment each, created in `scope`):
 * validate, wait for an approval (when the operation needs one) and route; the Control
 * Tower operation, or the closure and removal; the account setup; the customizations; the notification; and the failure chain every
 * phase ends in on error. Returns the first state.
 */
export function provisioningWorkflow(scope: Construct, props: ProvisioningWorkflowProps): sfn.IChainable {
  const { steps, semaphore } = props;
  const failure = new FailureHandling(scope, 'FailureHandling', { steps, semaphore });
  const onFailure = failure.startState;
  const success = new NotifySuccess(scope, 'NotifySuccess', { steps, onFailure });
  const customizations = new Customizations(scope, 'Customizations', {
    provisioningCustomizations: props.provisioningCustomizations,
    steps,
    pipelineArnPattern: props.pipelineArnPattern,
    customizationsLock: props.customizationsLock,
    onFailure,
  });
  const setup = new AccountSetup(scope, 'AccountSetup', { steps, onFailure });
  setup.next(customizations).next(success);
  const controlTower = new ControlTowerOperation(scope, 'ControlTowerOperation', {
    semaphore,
    steps,
    awaitFunction: props.awaitFunction,
    pollInterval: props.pollInterval,
    onFailure,
  });
  controlTower.next(setup);
  const removal = new RemoveFromManagement(scope, 'Removal', { steps, onFailure });
  const closure = new CloseAccountOnRemoval(scope, 'Closure', {
    semaphore,
    steps,
    awaitFunction: props.awaitFunction,
    pollInterval: props.terminationPollInterval,
    removal,
    onFailure,
  });
  return new ValidateRequest(scope, 'Validate', {
    steps,
    controlTowerOperation: controlTower,
    removal: closure,
    accountSetup: setup,
    onFailure,
    approval: props.approval,
  });
}
