import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledge, nagResource } from './nag';

/**
 * The cdk-nag findings of the provisioning state machine's role, each for what the
 * Step Functions integrations grant: the Lambda tasks (`functions`), X-Ray and log
 * delivery, the account pipelines, and the provisioning customizations (`.sync`).
 */
export function acknowledgeWorkflowRole(
  scope: Construct,
  role: iam.IRole,
  props: {
    readonly functions: readonly lambda.IFunction[];
    readonly pipelineArnPattern: string;
    readonly provisioningCustomizations?: sfn.IStateMachine;
  },
): void {
  const stack = Stack.of(scope);
  acknowledge(
    role,
    'AwsSolutions-IAM5',
    'Lambda tasks invoke any version of their function (`<arn>:*`), as the Step Functions integration grants',
    props.functions.map((f) => `Resource::${nagResource(scope, `${f.functionArn}:*`)}`),
  );
  acknowledge(
    role,
    'AwsSolutions-IAM5',
    'X-Ray and CloudWatch Logs vended-log delivery have no resource-level permissions',
    ['Resource::*'],
  );
  acknowledge(role, 'AwsSolutions-IAM5', 'Starts the pipeline of each account, named <prefix>-<account id>', [
    `Resource::${nagResource(scope, props.pipelineArnPattern)}`,
  ]);
  const customizations = props.provisioningCustomizations;
  if (!customizations) return;
  const machineName = stack.splitArn(
    customizations.stateMachineArn,
    ArnFormat.COLON_RESOURCE_NAME,
  ).resourceName;
  acknowledge(
    role,
    'AwsSolutions-IAM5',
    'startExecution.sync describes and stops the executions it starts, and manages the managed EventBridge rule of the integration',
    [
      `Resource::${nagResource(
        scope,
        stack.formatArn({
          service: 'events',
          resource: 'rule',
          resourceName: 'StepFunctionsGetEventsForStepFunctionsExecutionRule',
        }),
      )}`,
      `Resource::${nagResource(
        scope,
        stack.formatArn({
          service: 'states',
          resource: 'execution',
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          resourceName: `${machineName}*`,
        }),
      )}`,
    ],
  );
}
