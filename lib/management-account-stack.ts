import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  ControlTowerAccess,
  ControlTowerAccessProps,
  DEFAULT_MANAGEMENT_ROLE_NAME,
} from './control-tower-access';
import { ControlTowerEventForwarding } from './control-tower-event-forwarding';

export interface ManagementAccountStackProps
  extends StackProps, Omit<ControlTowerAccessProps, 'factoryAccountId'> {
  /** The account the factory runs in (the AFT management / vending account). */
  readonly factoryAccountId: string;
  /**
   * Forward Control Tower's account lifecycle events to the factory account's default
   * bus (the factory's Control Tower wait ends on them; without them it polls slowly).
   * @default true
   */
  readonly forwardControlTowerEvents?: boolean;
  /**
   * The factory's region, where the events are forwarded.
   * @default - this stack's region
   */
  readonly factoryRegion?: string;
}

/**
 * The Control Tower management account's side of a factory that runs in a vending
 * account (the topology AWS recommends for AFT): the role the factory assumes there,
 * trusted only by the factory's roles, with the permissions its management-account
 * steps need, associated with Account Factory's portfolio. Deploy it in the Control
 * Tower management account and home region, then the factory with
 * `controlTowerManagementRole` set to `managementRoleArn`.
 */
export class ManagementAccountStack extends Stack {
  public readonly access: ControlTowerAccess;
  /** Forwards Control Tower's account lifecycle events to the factory (unless turned off). */
  public readonly eventForwarding?: ControlTowerEventForwarding;

  constructor(scope: Construct, id: string, props: ManagementAccountStackProps) {
    super(scope, id, {
      description:
        'Account factory: the role it assumes in the Control Tower management account (cdk-account-factory)',
      ...props,
    });
    this.access = new ControlTowerAccess(this, 'ControlTowerAccess', {
      ...props,
      roleName: props.roleName ?? DEFAULT_MANAGEMENT_ROLE_NAME,
    });
    if (props.forwardControlTowerEvents ?? true) {
      this.eventForwarding = new ControlTowerEventForwarding(this, 'ControlTowerEventForwarding', {
        factoryAccountId: props.factoryAccountId,
        factoryRegion: props.factoryRegion,
      });
    }
    new CfnOutput(this, 'ManagementRoleArn', {
      value: this.access.role.roleArn,
      description: "The factory's controlTowerManagementRole",
    });
  }
}
