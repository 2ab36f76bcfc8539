import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { THROTTLING_ERRORS } from '../../lambda/shared/errors';

/**
 * The CodePipeline errors worth retrying, as Step Functions names them for an AWS SDK
 * integration: `ServiceName.ErrorName` with the Exception suffix, "even if the suffix isn't
 * part of the error name" the service gives
 * (https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html).
 * CodePipeline's common errors are ThrottlingException, ServiceUnavailable and
 * InternalFailure (https://docs.aws.amazon.com/codepipeline/latest/APIReference/CommonErrors.html);
 * an error the SDK does not model arrives as `CodePipeline.CodePipelineException`.
 */
export const CODEPIPELINE_RETRY_ERRORS: readonly string[] = [
  ...new Set([
    ...THROTTLING_ERRORS.map((e) => `CodePipeline.${e}`),
    'CodePipeline.ThrottlingException',
    'CodePipeline.ServiceUnavailableException',
    'CodePipeline.InternalFailureException',
    'CodePipeline.CodePipelineException',
  ]),
];

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
  task.addRetry({
    errors: [...CODEPIPELINE_RETRY_ERRORS, 'CodePipeline.ConcurrentPipelineExecutionsLimitExceededException'],
    interval: Duration.seconds(5),
    backoffRate: 2,
    maxAttempts: 6,
    jitterStrategy: sfn.JitterType.FULL,
  });
  return task;
}
