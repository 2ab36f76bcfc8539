import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { catchInto, stepPayload, stepTask, THROTTLING_RETRY } from './step-task';

/** The state names of the approval gate (kept here until the step descriptors take them). */
export const APPROVAL_STEP = {
  APPROVAL_NEEDED: 'Approval needed?',
  WAIT_FOR_APPROVAL: 'Wait for approval',
  NOTIFY_NOT_APPROVED: 'Notify not approved',
  NOT_APPROVED: 'Request not approved',
} as const;

/** The error an approver's rejection fails the waiting task with (SendTaskFailure). */
export const APPROVAL_REJECTED = 'ApprovalRejected';
/** The error a newer version of the request fails an older version's waiting task with. */
export const APPROVAL_SUPERSEDED = 'ApprovalSuperseded';

export interface ApprovalGateProps {
  /**
   * The approval-request handler. Invoked with `{ taskToken, state, execution }` it stores the
   * token with the request version and publishes the approval request (the plan of that
   * version); invoked with `{ closed: true, state, execution }` (after a rejection or the
   * expiry) it records the outcome and publishes that nothing changed.
   */
  readonly approvalFunction: lambda.IFunction;
  /** The validated operations (`$.validation.operation`) that need an approval. */
  readonly operations: readonly string[];
  /** How long a request waits for a decision before it expires. */
  readonly expiry: Duration;
  /** Where an approved request, and one that needs no approval, goes on ('Control Tower operation?'). */
  readonly next: sfn.IChainable;
  /** Where a failure of the gate itself goes (the failure chain; no slot is held here). */
  readonly onFailure: sfn.IChainable;
}

/**
 * The approval gate, between 'Validate request' and the route by operation ('Control
 * Tower operation?'): before any Control Tower slot is asked for, so a request waiting
 * for approval holds none.
 *
 * 'Approval needed?' (a Choice on the validated operation) -> 'Wait for approval' (the
 * approval-request Lambda, `.waitForTaskToken`, timing out at `expiry`) -> `next`. A
 * rejection (ApprovalRejected), a newer version of the request asking for its own approval
 * (ApprovalSuperseded) or the expiry (States.Timeout) goes to 'Notify not
 * approved' (the same Lambda records and publishes it) and 'Request not approved', a
 * Succeed: nothing changed, and writing the request again starts over.
 */
export class ApprovalGate extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[] = [];
  public readonly waitForApproval: tasks.LambdaInvoke;

  constructor(scope: Construct, id: string, props: ApprovalGateProps) {
    super(scope, id);
    if (!props.operations.length) {
      throw new Error('ApprovalGate needs at least one operation that requires an approval');
    }
    const seconds = props.expiry.toSeconds();
    if (seconds < 60 || seconds > 365 * 24 * 3600) {
      throw new Error(
        `approvals expiry must be from 1 minute to 365 days (a Standard execution lasts at most a year), got ${props.expiry.toHumanString()}`,
      );
    }

    const notApproved = new sfn.Succeed(this, APPROVAL_STEP.NOT_APPROVED, {
      comment: 'Rejected or expired: nothing was changed',
    });
    const notify = catchInto(
      stepTask(this, APPROVAL_STEP.NOTIFY_NOT_APPROVED, {
        lambdaFunction: props.approvalFunction,
        resultPath: '$.approvalClosed',
        extraPayload: { closed: true },
        comment: 'Records the rejection or the expiry, and notifies that nothing changed',
      }),
      props.onFailure,
    ).next(notApproved);

    this.waitForApproval = new tasks.LambdaInvoke(this, APPROVAL_STEP.WAIT_FOR_APPROVAL, {
      lambdaFunction: props.approvalFunction,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject({
        taskToken: sfn.JsonPath.taskToken,
        ...(stepPayload().value as Record<string, unknown>),
      }),
      resultPath: '$.approval',
      taskTimeout: sfn.Timeout.duration(props.expiry),
      comment: 'Publishes the approval request (the plan of this version) and waits for approve or reject',
    });
    this.waitForApproval.addRetry(THROTTLING_RETRY);
    this.waitForApproval.addCatch(notify, {
      errors: [APPROVAL_REJECTED, APPROVAL_SUPERSEDED, sfn.Errors.TIMEOUT],
      resultPath: '$.approvalOutcome',
    });
    catchInto(this.waitForApproval, props.onFailure);
    this.waitForApproval.next(props.next);

    this.startState = new sfn.Choice(this, APPROVAL_STEP.APPROVAL_NEEDED)
      .when(
        sfn.Condition.or(
          ...props.operations.map((op) => sfn.Condition.stringEquals('$.validation.operation', op)),
        ),
        this.waitForApproval,
      )
      .otherwise(props.next);
  }
}
