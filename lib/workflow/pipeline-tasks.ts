import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

/**
 * Starts the account's customizations pipeline named at `$.pipeline.pipelineName`
 * (one SDK call, straight from the state machine); its execution ID lands at
 * `$.pipelineExecution.PipelineExecutionId`. Shared by the provisioning workflow and
 * the re-run state machine.
 */
export function startPipelineTask(
  scope: Construct,
  stateName: string,
  pipelineArnPattern: string,
): tasks.CallAwsService {
  return new tasks.CallAwsService(scope, stateName, {
    service: 'codepipeline',
    action: 'startPipelineExecution',
    parameters: { Name: sfn.JsonPath.stringAt('$.pipeline.pipelineName') },
    iamResources: [pipelineArnPattern],
    resultSelector: { PipelineExecutionId: sfn.JsonPath.stringAt('$.PipelineExecutionId') },
    resultPath: '$.pipelineExecution',
    comment: "Starts the account's customizations pipeline",
  });
}
