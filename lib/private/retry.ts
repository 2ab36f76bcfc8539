import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';

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
