import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { ControlTowerBusy, RETRYABLE_STEP_ERRORS, THROTTLING_ERRORS } from '../../lambda/shared/errors';

/**
 * The retry policies of the state machines, one factory per service: every task that
 * calls a service retries the same errors the same way.
 *
 * An AWS SDK integration's errors carry the service's prefix (`ServiceName.ErrorName`,
 * with the Exception suffix "even if the suffix isn't part of the error name" the service
 * gives: https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html),
 * so a step Lambda's retry list does not match them.
 */

/** "AWS is busy" errors, prefixed for an SDK integration of `service`. */
function throttlingErrorsOf(service: string): string[] {
  return THROTTLING_ERRORS.map((e) => `${service}.${e}`);
}

/** 2 s (5 s for CodePipeline and Step Functions), doubling, six attempts, with full jitter. */
function busyRetry(errors: readonly string[], interval: Duration): sfn.RetryProps {
  return {
    errors: [...errors],
    interval,
    backoffRate: 2,
    maxAttempts: 6,
    jitterStrategy: sfn.JitterType.FULL,
  };
}

/**
 * Retry for a Lambda that died mid-invocation: the runtime crashed or ran out of
 * memory (`Lambda.Unknown`), it timed out (`Sandbox.Timedout`), or Lambda throttled the
 * invocation (`Lambda.TooManyRequestsException`, which CDK's default retry leaves out).
 * Every step is idempotent, so running it again ends as one clean run would.
 */
export const LAMBDA_FAILURE_RETRY: sfn.RetryProps = {
  errors: ['Lambda.Unknown', 'Sandbox.Timedout', 'Lambda.TooManyRequestsException'],
  interval: Duration.seconds(2),
  backoffRate: 2,
  maxAttempts: 3,
  jitterStrategy: sfn.JitterType.FULL,
};

/** Retry for "AWS is busy" errors a step Lambda throws (lambda/shared/errors.ts names them). */
/** Also catches RetryBudgetExhausted: a handler throttled until its time ran short. */
export const THROTTLING_RETRY: sfn.RetryProps = busyRetry(RETRYABLE_STEP_ERRORS, Duration.seconds(2));

/**
 * Retry of the step that starts a Control Tower operation while Control Tower is busy
 * with others (ControlTowerBusy), keeping the slot, for up to about 4 hours.
 */
export function controlTowerBusyRetry(): sfn.RetryProps {
  return {
    errors: [ControlTowerBusy.errorName],
    interval: Duration.seconds(60),
    backoffRate: 1.5,
    maxAttempts: 30,
    // Caps the backoff: without it the 30th attempt would come days later.
    maxDelay: Duration.minutes(10),
  };
}

/**
 * The CodePipeline errors worth retrying, as Step Functions names them for an AWS SDK
 * integration. CodePipeline's common errors are ThrottlingException, ServiceUnavailable
 * and InternalFailure (https://docs.aws.amazon.com/codepipeline/latest/APIReference/CommonErrors.html);
 * an error the SDK does not model arrives as `CodePipeline.CodePipelineException`.
 */
export const CODEPIPELINE_RETRY_ERRORS: readonly string[] = [
  ...new Set([
    ...throttlingErrorsOf('CodePipeline'),
    'CodePipeline.ThrottlingException',
    'CodePipeline.ServiceUnavailableException',
    'CodePipeline.InternalFailureException',
    'CodePipeline.CodePipelineException',
  ]),
];

/** Retry of a CodePipeline SDK task: the common errors, and `extraErrors` of its action. */
export function codePipelineRetry(extraErrors: readonly string[] = []): sfn.RetryProps {
  return busyRetry([...CODEPIPELINE_RETRY_ERRORS, ...extraErrors], Duration.seconds(5));
}

/**
 * The DynamoDB GetItem errors worth retrying, as the Step Functions DynamoDB integration
 * names them (`DynamoDB.` + the DynamoDB error name with the Exception suffix):
 * GetItem's ProvisionedThroughputExceededException, RequestLimitExceeded and
 * InternalServerError, and the common ThrottlingException
 * (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_GetItem.html#API_GetItem_Errors,
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/CommonErrors.html).
 */
export const DYNAMODB_RETRY_ERRORS: readonly string[] = [
  'DynamoDB.ProvisionedThroughputExceededException',
  'DynamoDB.ThrottlingException',
  'DynamoDB.RequestLimitExceeded',
  'DynamoDB.RequestLimitExceededException',
  'DynamoDB.InternalServerError',
  'DynamoDB.InternalServerErrorException',
];

/**
 * Retry of a DynamoDB task of the state machine. `errors`: GetItem's
 * (DYNAMODB_RETRY_ERRORS) by default; the conditional hand-over of a slot retries the
 * throttling errors only (`dynamoDbThrottlingErrors()`), its other failures having a Catch.
 */
export function dynamoDbRetry(errors: readonly string[] = DYNAMODB_RETRY_ERRORS): sfn.RetryProps {
  return busyRetry(errors, Duration.seconds(2));
}

/** The "AWS is busy" errors as the DynamoDB integration names them. */
export function dynamoDbThrottlingErrors(): string[] {
  return throttlingErrorsOf('DynamoDB');
}

/** Retry of a Step Functions task (`startExecution`): too many executions, or throttled. */
export function stepFunctionsRetry(): sfn.RetryProps {
  return busyRetry(
    ['StepFunctions.ExecutionLimitExceeded', ...throttlingErrorsOf('StepFunctions')],
    Duration.seconds(5),
  );
}
