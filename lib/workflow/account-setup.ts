import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ExecutionRoleNotReady } from '../../lambda/shared/errors';
import { STEP } from './step-names';
import { catchInto, stepTask } from './step-task';

export interface AccountSetupProps {
  readonly fetchAccountIdFunction: lambda.IFunction;
  readonly storeMetadataFunction: lambda.IFunction;
  readonly createExecutionRoleFunction: lambda.IFunction;
  readonly tagAccountFunction: lambda.IFunction;
  readonly applyFeatureOptionsFunction: lambda.IFunction;
  readonly onFailure: sfn.IChainable;
}

/**
 * Steps 3-7: 'Fetch account ID' -> 'Store metadata' -> 'Create execution role'
 * (retried until IAM lets the role be assumed) -> 'Tag account' -> 'Apply
 * feature options'.
 */
export class AccountSetup extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];

  constructor(scope: Construct, id: string, props: AccountSetupProps) {
    super(scope, id);
    const fetch = stepTask(this, STEP.FETCH_ACCOUNT_ID, {
      lambdaFunction: props.fetchAccountIdFunction,
      resultPath: '$.account',
    });
    const store = stepTask(this, STEP.STORE_METADATA, {
      lambdaFunction: props.storeMetadataFunction,
      resultPath: sfn.JsonPath.DISCARD,
    });
    const role = stepTask(this, STEP.CREATE_EXECUTION_ROLE, {
      lambdaFunction: props.createExecutionRoleFunction,
      resultPath: '$.executionRole',
    });
    role.addRetry({
      errors: [ExecutionRoleNotReady.errorName],
      interval: Duration.seconds(5),
      backoffRate: 2,
      maxAttempts: 8,
    });
    const tag = stepTask(this, STEP.TAG_ACCOUNT, {
      lambdaFunction: props.tagAccountFunction,
      resultPath: '$.tags',
    });
    const features = stepTask(this, STEP.APPLY_FEATURE_OPTIONS, {
      lambdaFunction: props.applyFeatureOptionsFunction,
      resultPath: '$.featureOptions',
    });
    for (const task of [fetch, store, role, tag, features]) catchInto(task, props.onFailure);

    fetch.next(store).next(role).next(tag).next(features);
    this.startState = fetch;
    this.endStates = [features];
  }
}
