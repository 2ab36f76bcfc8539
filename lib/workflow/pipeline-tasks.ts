import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { codePipelineRetry } from '../private/retry';

/**
 * Starts the account's customizations pipeline named at `$.pipeline.pipelineName`
 * (one SDK call, straight from the state machine); its execution ID lands at
 * `$.pipelineExecution.PipelineExecutionId`. Shared by the provisioning workflow and
 * the re-run state machine. Retried while CodePipeline is busy or throttles: an SDK
 * integration's errors carry the service's prefix (`CodePipeline.TooManyRequestsException`),
 * so the step Lambdas' retry list does not match them.
 */
export function startPipelineTask(
  scope: Construct,
  stateName: string,
  pipelineArnPattern: string,
): tasks.CallAwsService {
  const task = new tasks.CallAwsService(scope, stateName, {
    service: 'codepipeline',
    action: 'startPipelineExecution',
    parameters: { Name: sfn.JsonPath.stringAt('$.pipeline.pipelineName') },
    iamResources: [pipelineArnPattern],
    resultSelector: { PipelineExecutionId: sfn.JsonPath.stringAt('$.PipelineExecutionId') },
    resultPath: '$.pipelineExecution',
    comment: "Starts the account's customizations pipeline",
  });
  task.addRetry(codePipelineRetry(['CodePipeline.ConcurrentPipelineExecutionsLimitExceededException']));
  return task;
}
