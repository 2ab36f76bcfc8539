import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { AccountContext } from '../../lambda/shared/contracts';
import { dynamoDbRetry, dynamoDbThrottlingErrors, stepFunctionsRetry } from '../private/retry';
import { SemaphoreLock } from '../concurrency-semaphore';
import { startPipelineTask } from './pipeline-tasks';
import { HANDLER, STEP } from './step-names';
import { catchInto, ERROR_PATH, stepTask, THROTTLING_RETRY } from './step-task';
import type { WorkflowFunctions } from './steps';

/** The holder a pipeline execution's slot is handed to (see pipelineHolder in lambda/shared/semaphore.ts). */
export const PIPELINE_HOLDER_FORMAT = 'codepipeline:{}:{}';

export interface CustomizationsProps {
  /**
   * The user's provisioning customizations, run to completion for each account
   * (`startExecution.sync:2`) with the AccountContext as input.
   * @default - none: 'Provisioning customizations' is a Pass state
   */
  readonly provisioningCustomizations?: sfn.IStateMachine;
  /** The workflow steps' functions (steps.ts). */
  readonly steps: WorkflowFunctions;
  /** ARN pattern of the account pipelines (`arn:...:codepipeline:<region>:<account>:<prefix>-*`). */
  readonly pipelineArnPattern: string;
  /**
   * Bounds how many account pipelines run at once: acquired before the pipeline
   * starts, handed over to the pipeline execution once it has started, and
   * released when that ends (by the customizations-result function, on the
   * pipeline's EventBridge event).
   */
  readonly customizationsLock: SemaphoreLock;
  readonly onFailure: sfn.IChainable;
}

/** The input of the provisioning customizations state machine (AccountContext). */
export function accountContextInput(): sfn.TaskInput {
  const input: Record<keyof AccountContext, unknown> = {
    requestId: sfn.JsonPath.stringAt('$.requestId'),
    operation: sfn.JsonPath.stringAt('$.validation.operation'),
    account: sfn.JsonPath.objectAt('$.account'),
    organizationalUnit: sfn.JsonPath.objectAt('$.validation.organizationalUnit'),
    request: sfn.JsonPath.objectAt('$.validation.request'),
    executionRoleArn: sfn.JsonPath.stringAt('$.executionRole.roleArn'),
  };
  return sfn.TaskInput.fromObject(input);
}

/**
 * Steps 8-10: 'Provisioning customizations' (the user's state machine, or a
 * Pass) -> 'Create account pipeline' (one CodePipeline per account) -> 'Acquire
 * customizations slot' (at most `limit` account pipelines run at once) -> 'Run
 * account customizations' (StartPipelineExecution, straight from the state
 * machine) -> 'Hand customizations slot to the pipeline' (the slot outlives
 * this execution, until the pipeline execution ends). A failure while the
 * execution holds the slot releases it first.
 */
export class Customizations extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];

  constructor(scope: Construct, id: string, props: CustomizationsProps) {
    super(scope, id);

    let provisioning: sfn.State & sfn.INextable;
    if (props.provisioningCustomizations) {
      const run = new tasks.StepFunctionsStartExecution(this, STEP.PROVISIONING_CUSTOMIZATIONS, {
        stateMachine: props.provisioningCustomizations,
        integrationPattern: sfn.IntegrationPattern.RUN_JOB,
        associateWithParent: true,
        input: accountContextInput(),
        resultSelector: {
          executionArn: sfn.JsonPath.stringAt('$.ExecutionArn'),
          output: sfn.JsonPath.objectAt('$.Output'),
        },
        resultPath: '$.provisioningCustomizations',
        comment: 'Runs the provisioning customizations state machine for the account',
      });
      run.addRetry(stepFunctionsRetry());
      provisioning = catchInto(run, props.onFailure);
    } else {
      provisioning = new sfn.Pass(this, STEP.PROVISIONING_CUSTOMIZATIONS, {
        comment: 'No provisioning customizations configured',
        result: sfn.Result.fromObject({ skipped: true }),
        resultPath: '$.provisioningCustomizations',
      });
    }

    const createPipeline = catchInto(
      stepTask(this, STEP.CREATE_ACCOUNT_PIPELINE, {
        lambdaFunction: props.steps.fn(HANDLER.CREATE_ACCOUNT_PIPELINE),
        resultPath: '$.pipeline',
        comment: "Creates or updates the account's customizations pipeline",
      }),
      props.onFailure,
    );

    const runPipeline = startPipelineTask(this, STEP.RUN_ACCOUNT_CUSTOMIZATIONS, props.pipelineArnPattern);
    const lock = props.customizationsLock;
    const releaseAfterFailure = lock.release(this, STEP.RELEASE_CUSTOMIZATIONS_SLOT_AFTER_FAILURE);
    releaseAfterFailure.addRetry(THROTTLING_RETRY);
    // The caught error stays at $.error; a failed release still reaches the failure chain.
    releaseAfterFailure.addCatch(props.onFailure, { errors: [sfn.Errors.ALL], resultPath: '$.releaseError' });
    releaseAfterFailure.next(props.onFailure);

    const acquire = lock.acquireWithRetryLoop(this, STEP.ACQUIRE_CUSTOMIZATIONS_SLOT);
    acquire.addRetry(THROTTLING_RETRY);
    catchInto(acquire, releaseAfterFailure);
    catchInto(runPipeline, releaseAfterFailure);

    const handOver = lock.handOver(this, STEP.HAND_OVER_CUSTOMIZATIONS_SLOT, {
      holder: sfn.JsonPath.format(
        PIPELINE_HOLDER_FORMAT,
        sfn.JsonPath.stringAt('$.pipeline.pipelineName'),
        sfn.JsonPath.stringAt('$.pipelineExecution.PipelineExecutionId'),
      ),
    });
    handOver.addRetry(dynamoDbRetry(dynamoDbThrottlingErrors()));
    const started = new sfn.Pass(this, STEP.CUSTOMIZATIONS_STARTED, {
      comment: 'The pipeline runs on its own; its outcome is recorded and notified when it ends',
    });
    // No slot to hand over: a retry after the hand-over succeeded.
    handOver.addCatch(started, {
      errors: ['DynamoDB.ConditionalCheckFailedException'],
      resultPath: '$.handOverSkipped',
    });
    handOver.addCatch(releaseAfterFailure, { errors: [sfn.Errors.ALL], resultPath: ERROR_PATH });

    provisioning.next(createPipeline).next(acquire).next(runPipeline).next(handOver).next(started);
    this.startState = provisioning;
    this.endStates = [started];
  }
}
