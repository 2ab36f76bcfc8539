import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { AccountRequestInput } from '../lambda/shared/schema';
import { AccountFactory, AccountFactoryProps } from './account-factory';
import { AccountRequest } from './account-request';

/** An account request for the stack: from a file (see loadRequestFiles) or written in code. */
export interface AccountRequestDefinition {
  /** The request fields. */
  readonly request: AccountRequestInput;
  /**
   * Recorded with the request.
   * @default - `construct:<construct path>`
   */
  readonly source?: string;
}

export interface AccountFactoryStackProps extends StackProps {
  /**
   * The factory's settings.
   * @default - the AccountFactory defaults
   */
  readonly factory?: Omit<AccountFactoryProps, 'provisioningCustomizations' | 'controlTowerManagementRole'>;
  /**
   * The role the factory assumes in the Control Tower management account, when the
   * factory runs in another account (deploy ManagementAccountStack there first; its
   * output ManagementRoleArn).
   * @default - the factory runs in the management account and creates that role itself
   */
  readonly managementRoleArn?: string;
  /**
   * Creates the provisioning customizations state machine in the stack (it is
   * given the stack as its scope).
   * @default - none
   */
  readonly provisioningCustomizations?: (scope: Construct) => sfn.IStateMachine;
  /**
   * The account requests to deploy. Each becomes an AccountRequest whose
   * construct id is derived from its email, so renaming or moving a request
   * file never removes the account.
   * @default - none
   */
  readonly accountRequests?: readonly AccountRequestDefinition[];
}

/**
 * The stack outputs the `account-factory` CLI reads (plan, rerun, status).
 */
export const STACK_OUTPUTS = {
  REQUESTS_TABLE: 'RequestsTableName',
  METADATA_TABLE: 'MetadataTableName',
  SEMAPHORE_TABLE: 'SemaphoreTableName',
  SEMAPHORE_LOCK: 'SemaphoreLockName',
  SEMAPHORE_LIMIT: 'SemaphoreLimit',
  CUSTOMIZATIONS_SEMAPHORE_TABLE: 'CustomizationsSemaphoreTableName',
  CUSTOMIZATIONS_LOCK: 'CustomizationsLockName',
  CUSTOMIZATIONS_LIMIT: 'CustomizationsLimit',
  STATE_MACHINE: 'StateMachineArn',
  RERUN_STATE_MACHINE: 'RerunStateMachineArn',
  /** With driftDetection only. */
  DRIFT_FUNCTION: 'DriftCheckFunctionName',
  /** With driftDetection only. */
  DRIFT_STATE_TABLE: 'DriftStateTableName',
  /** With approvals only. */
  APPROVALS_TABLE: 'ApprovalsTableName',
  /** With approvals only: the role approvers assume (granted with grantApprove). */
  APPROVER_ROLE: 'ApproverRoleArn',
} as const;

/**
 * The deployable account factory: an AccountFactory and the account requests
 * given to it. Deploy it into the AFT management account (or the Control Tower
 * management account).
 */
export class AccountFactoryStack extends Stack {
  public readonly factory: AccountFactory;
  public readonly provisioningCustomizations?: sfn.IStateMachine;
  public readonly accountRequests: AccountRequest[];
  /**
   * With approvals: the role approvers assume to run `account-factory approve|reject`
   * (granted with `grantApprove`; principals of this account with sts:AssumeRole on it).
   */
  public readonly approverRole?: iam.Role;

  constructor(scope: Construct, id: string, props: AccountFactoryStackProps = {}) {
    super(scope, id, {
      description: 'Account factory: vends and customizes AWS Control Tower accounts (cdk-account-factory)',
      ...props,
    });
    this.provisioningCustomizations = props.provisioningCustomizations?.(this);
    this.factory = new AccountFactory(this, 'AccountFactory', {
      ...props.factory,
      controlTowerManagementRole: props.managementRoleArn
        ? iam.Role.fromRoleArn(this, 'ManagementRole', props.managementRoleArn, { mutable: false })
        : undefined,
      provisioningCustomizations: this.provisioningCustomizations,
    });
    const outputs: Record<string, { value: string; description: string }> = {
      [STACK_OUTPUTS.REQUESTS_TABLE]: {
        value: this.factory.requestsTable.tableName,
        description: 'Account requests (one item per account email)',
      },
      [STACK_OUTPUTS.METADATA_TABLE]: {
        value: this.factory.metadataTable.tableName,
        description: 'Managed accounts (one item per account ID)',
      },
      [STACK_OUTPUTS.SEMAPHORE_TABLE]: {
        value: this.factory.semaphore.table.tableName,
        description: 'Control Tower operation slots: holders and waiters',
      },
      [STACK_OUTPUTS.SEMAPHORE_LOCK]: {
        value: this.factory.semaphore.lockName,
        description: 'The lock of the Control Tower operations in the semaphore table',
      },
      [STACK_OUTPUTS.SEMAPHORE_LIMIT]: {
        value: String(this.factory.semaphore.limit),
        description: 'How many Control Tower operations may run at once',
      },
      [STACK_OUTPUTS.CUSTOMIZATIONS_SEMAPHORE_TABLE]: {
        value: this.factory.customizationsLock.table.tableName,
        description: 'Customizations pipeline slots: holders and waiters',
      },
      [STACK_OUTPUTS.CUSTOMIZATIONS_LOCK]: {
        value: this.factory.customizationsLock.lockName,
        description: 'The lock of the customizations pipelines',
      },
      [STACK_OUTPUTS.CUSTOMIZATIONS_LIMIT]: {
        value: String(this.factory.customizationsLock.limit),
        description: 'How many account pipelines may run at once',
      },
      [STACK_OUTPUTS.STATE_MACHINE]: {
        value: this.factory.stateMachine.stateMachineArn,
        description: 'The provisioning workflow',
      },
      [STACK_OUTPUTS.RERUN_STATE_MACHINE]: {
        value: this.factory.rerunStateMachine.stateMachineArn,
        description: 'Re-runs the customizations of managed accounts',
      },
    };
    if (this.factory.driftDetection) {
      outputs[STACK_OUTPUTS.DRIFT_FUNCTION] = {
        value: this.factory.driftDetection.function.functionName,
        description: 'The drift check (invoke it to check now)',
      };
      outputs[STACK_OUTPUTS.DRIFT_STATE_TABLE] = {
        value: this.factory.driftDetection.stateTable.tableName,
        description: 'The last scheduled drift report (account-factory drift reads it)',
      };
    }
    if (this.factory.approvals) {
      this.approverRole = new iam.Role(this, 'ApproverRole', {
        assumedBy: new iam.AccountPrincipal(this.account),
        description: 'Approves or rejects account requests (account-factory approve|reject)',
      });
      this.factory.approvals.grantApprove(this.approverRole);
      outputs[STACK_OUTPUTS.APPROVALS_TABLE] = {
        value: this.factory.approvals.table.tableName,
        description: 'Pending and decided approvals (account-factory approve|reject)',
      };
      outputs[STACK_OUTPUTS.APPROVER_ROLE] = {
        value: this.approverRole.roleArn,
        description: 'The role approvers assume to approve or reject requests',
      };
    }
    for (const [id, output] of Object.entries(outputs)) new CfnOutput(this, id, output);

    const requests = new Construct(this, 'AccountRequests');
    this.accountRequests = (props.accountRequests ?? []).map(
      (definition) =>
        new AccountRequest(requests, String(definition.request.accountEmail).trim().toLowerCase(), {
          ...definition.request,
          factory: this.factory,
          source: definition.source,
        }),
    );
  }
}
