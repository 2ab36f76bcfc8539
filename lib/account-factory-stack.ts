import { Stack, StackProps } from 'aws-cdk-lib';
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
  readonly factory?: Omit<AccountFactoryProps, 'provisioningCustomizations'>;
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
 * The deployable account factory: an AccountFactory and the account requests
 * given to it. Deploy it into the AFT management account (or the Control Tower
 * management account).
 */
export class AccountFactoryStack extends Stack {
  public readonly factory: AccountFactory;
  public readonly provisioningCustomizations?: sfn.IStateMachine;
  public readonly accountRequests: AccountRequest[];

  constructor(scope: Construct, id: string, props: AccountFactoryStackProps = {}) {
    super(scope, id, {
      description: 'Account factory: vends and customizes AWS Control Tower accounts (cdk-account-factory)',
      ...props,
    });
    this.provisioningCustomizations = props.provisioningCustomizations?.(this);
    this.factory = new AccountFactory(this, 'AccountFactory', {
      ...props.factory,
      provisioningCustomizations: this.provisioningCustomizations,
    });
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
