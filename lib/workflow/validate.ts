import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { CONTROL_TOWER_OPERATIONS } from '../../lambda/shared/contracts';
import { ApprovalGate } from './approval';
import { HANDLER, STEP } from './step-names';
import { catchInto, stepTask } from './step-task';
import type { WorkflowFunctions } from './steps';

export interface ValidateRequestProps {
  /** The workflow steps' functions (steps.ts). */
  readonly steps: WorkflowFunctions;
  /** CREATE, UPDATE and IMPORT go here. */
  readonly controlTowerOperation: sfn.IChainable;
  /** REMOVE goes here. */
  readonly removal: sfn.IChainable;
  /** CUSTOMIZE and ADOPT (no Control Tower operation) go here. */
  readonly accountSetup: sfn.IChainable;
  readonly onFailure: sfn.IChainable;
  /**
   * The approval gate between validation and the route: the operations listed wait for an
   * approval before any Control Tower slot is asked for.
   * @default - no approvals
   */
  readonly approval?: {
    readonly approvalFunction: lambda.IFunction;
    readonly operations: readonly string[];
    readonly expiry: Duration;
  };
}

/**
 * Step 1: 'Validate request' ($.validation: schema, OU, email and name in use;
 * decides the operation), then, with approvals, the approval gate, then routes by operation.
 */
export class ValidateRequest extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[] = [];
  /** The approval gate, with `approval`. */
  public readonly approvalGate?: ApprovalGate;

  constructor(scope: Construct, id: string, props: ValidateRequestProps) {
    super(scope, id);
    const validate = catchInto(
      stepTask(this, STEP.VALIDATE_REQUEST, {
        lambdaFunction: props.steps.fn(HANDLER.VALIDATE_REQUEST),
        resultPath: '$.validation',
        comment: 'Checks the request and decides CREATE, UPDATE, IMPORT, ADOPT, CUSTOMIZE or REMOVE',
      }),
      props.onFailure,
    );
    const route = new sfn.Choice(this, STEP.CONTROL_TOWER_OPERATION)
      .when(
        sfn.Condition.or(
          ...CONTROL_TOWER_OPERATIONS.map((op) => sfn.Condition.stringEquals('$.validation.operation', op)),
        ),
        props.controlTowerOperation,
      )
      .when(sfn.Condition.stringEquals('$.validation.operation', 'REMOVE'), props.removal)
      .otherwise(props.accountSetup);
    if (props.approval) {
      this.approvalGate = new ApprovalGate(this, 'Approval', {
        ...props.approval,
        next: route,
        onFailure: props.onFailure,
      });
      validate.next(this.approvalGate);
    } else {
      validate.next(route);
    }
    this.startState = validate;
  }
}
