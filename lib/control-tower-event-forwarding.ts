import { Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { CONTROL_TOWER_ACCOUNT_EVENT_PATTERN } from './control-tower-events';

export interface ControlTowerEventForwardingProps {
  /** The account the factory runs in: its default bus receives the events. */
  readonly factoryAccountId: string;
  /**
   * The factory's region.
   * @default - this stack's region (the Control Tower home region)
   */
  readonly factoryRegion?: string;
}

/**
 * In the Control Tower management account, home region: forwards Control Tower's
 * `CreateManagedAccount` / `UpdateManagedAccount` lifecycle events to the default bus
 * of the account the factory runs in. The rule's role may put events on that bus only;
 * the factory's bus accepts them from this account only, and only Control Tower's
 * (`ControlTowerEvents` with `managementAccountId`).
 */
export class ControlTowerEventForwarding extends Construct {
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: ControlTowerEventForwardingProps) {
    super(scope, id);
    const stack = Stack.of(this);
    if (!/^\d{12}$/.test(props.factoryAccountId)) {
      throw new Error(
        `ControlTowerEventForwarding: factoryAccountId must be a 12-digit account ID, got ${props.factoryAccountId}`,
      );
    }
    const bus = events.EventBus.fromEventBusArn(
      this,
      'FactoryBus',
      stack.formatArn({
        service: 'events',
        account: props.factoryAccountId,
        region: props.factoryRegion ?? stack.region,
        resource: 'event-bus',
        resourceName: 'default',
      }),
    );
    this.rule = new events.Rule(this, 'Rule', {
      description: "Forwards Control Tower's account lifecycle events to the account factory",
      eventPattern: CONTROL_TOWER_ACCOUNT_EVENT_PATTERN,
      targets: [new targets.EventBus(bus)],
    });
  }
}
