import type { CommandTable, Env, Rng } from './common';
import type { FaultInjector } from './faults';
import { defineService, type EmulatedService } from './service';

/**
 * Control Tower's lifecycle events for Account Factory operations (docs/aws-behaviour.md
 * CT-16, CT-17, CT-25): when an operation ends, Control Tower sends `CreateManagedAccount`
 * (a new or enrolled account) or `UpdateManagedAccount` to EventBridge in the management
 * account's home region, as "AWS Service Event via CloudTrail". Delivery is best effort:
 * in fault mode some events are lost or sent twice.
 *
 * Service Catalog's operations are applied lazily (on the next call); this also wakes
 * them at their end on the emulated clock, so an event comes even when nobody polls.
 */

/** The EventBridge event, in the shape of the Control Tower user guide's examples. */
export interface ControlTowerLifecycleEvent {
  version: '0';
  id: string;
  'detail-type': 'AWS Service Event via CloudTrail';
  source: 'aws.controltower';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: {
    eventVersion: string;
    userIdentity: { accountId: string; invokedBy: string };
    eventTime: string;
    eventSource: 'controltower.amazonaws.com';
    eventName: 'CreateManagedAccount' | 'UpdateManagedAccount';
    awsRegion: string;
    sourceIPAddress: string;
    userAgent: string;
    eventID: string;
    readOnly: false;
    eventType: 'AwsServiceEvent';
    serviceEventDetails: Record<string, AccountStatus>;
  };
}

interface AccountStatus {
  organizationalUnit: { organizationalUnitName: string; organizationalUnitId: string };
  account: { accountName: string; accountId?: string };
  state: 'SUCCEEDED' | 'FAILED';
  message: string;
  requestedTimestamp: string;
  completedTimestamp: string;
}

/** An Account Factory operation that ended (Service Catalog's `complete`). */
export interface EndedOperation {
  type: 'PROVISION' | 'UPDATE';
  outcome: 'SUCCEEDED' | 'FAILED';
  accountName: string;
  /** Missing when a new account was never created. */
  accountId?: string;
  ouName: string;
  ouId: string;
  requestedAt: number;
  completedAt: number;
}

export type LifecycleListener = (event: ControlTowerLifecycleEvent) => void;

export interface LifecycleEventOptions {
  /**
   * Emulated seconds between the end of an operation and the event's delivery (each
   * event takes between half and all of it). A guess: AWS gives no figure.
   * @default 4
   */
  readonly deliverySeconds?: number;
}

/** `+0000` offsets, as in the user guide's examples (`2019-11-16T12:09:32+0000`). */
function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+0000');
}

/** `yyyy-MM-ddTHH:mm:ssZ`, as the envelope's `time`. */
function eventTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class LifecycleEvents implements EmulatedService {
  private readonly listeners = new Set<LifecycleListener>();
  private readonly rng: Rng;
  private readonly deliveryMs: number;
  private pending = new Set<Promise<void>>();
  /** Every event Control Tower emitted (before loss or duplication), oldest first. */
  readonly emitted: ControlTowerLifecycleEvent[] = [];
  /** Every delivery made to the listeners (a duplicate appears twice, a lost event not at all). */
  readonly delivered: ControlTowerLifecycleEvent[] = [];

  constructor(
    private readonly env: Env,
    private readonly faults: FaultInjector,
    options: LifecycleEventOptions = {},
  ) {
    this.rng = env.rng.fork('lifecycle-events');
    const seconds = options.deliverySeconds ?? 4;
    if (!(seconds >= 0)) throw new Error(`lifecycle deliverySeconds must be >= 0, got ${seconds}`);
    this.deliveryMs = seconds * 1000;
  }

  /** Lifecycle events are EventBridge deliveries: no client calls them. */
  commands(): CommandTable {
    return {};
  }

  /** Receives every delivered event; returns the unsubscribe function. */
  onEvent(listener: LifecycleListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Wakes `settle` at `endsAt` (emulated ms), so an operation ends on time without a poll.
   * Only while someone listens: without a listener nothing needs the event on time (and
   * no clock timer is left behind).
   */
  wakeAt(endsAt: number, settle: () => void): void {
    if (!this.listeners.size) return;
    void this.env.clock.sleep(Math.max(0, endsAt - this.env.clock.nowMs())).then(settle);
  }

  /** An operation ended: builds its event and delivers it after the delivery delay. */
  operationEnded(op: EndedOperation): ControlTowerLifecycleEvent {
    const eventName = op.type === 'PROVISION' ? 'CreateManagedAccount' : 'UpdateManagedAccount';
    const key = op.type === 'PROVISION' ? 'createManagedAccountStatus' : 'updateManagedAccountStatus';
    const verb = op.type === 'PROVISION' ? 'created' : 'updated';
    const mgmt = this.env.managementAccountId;
    const status: AccountStatus = {
      organizationalUnit: { organizationalUnitName: op.ouName, organizationalUnitId: op.ouId },
      account: { accountName: op.accountName, ...(op.accountId ? { accountId: op.accountId } : {}) },
      state: op.outcome,
      message:
        op.outcome === 'SUCCEEDED'
          ? `AWS Control Tower successfully ${verb} a managed account.`
          : `AWS Control Tower failed to ${op.type === 'PROVISION' ? 'create' : 'update'} a managed account.`,
      requestedTimestamp: timestamp(op.requestedAt),
      completedTimestamp: timestamp(op.completedAt),
    };
    const event: ControlTowerLifecycleEvent = {
      version: '0',
      id: this.rng.uuid(),
      'detail-type': 'AWS Service Event via CloudTrail',
      source: 'aws.controltower',
      account: mgmt,
      time: eventTime(op.completedAt),
      region: this.env.homeRegion,
      resources: [],
      detail: {
        eventVersion: '1.05',
        userIdentity: { accountId: mgmt, invokedBy: 'AWS Internal' },
        eventTime: eventTime(op.completedAt),
        eventSource: 'controltower.amazonaws.com',
        eventName,
        awsRegion: this.env.homeRegion,
        sourceIPAddress: 'AWS Internal',
        userAgent: 'AWS Internal',
        eventID: this.rng.uuid(),
        readOnly: false,
        eventType: 'AwsServiceEvent',
        serviceEventDetails: { [key]: status },
      },
    };
    this.emitted.push(event);
    if (!this.listeners.size) return event;
    const copies = this.faults.lifecycleEventCopies();
    for (let n = 0; n < copies; n++) this.deliverLater(event);
    return event;
  }

  private deliverLater(event: ControlTowerLifecycleEvent): void {
    const delay = this.deliveryMs * (0.5 + 0.5 * this.rng.next());
    const p = this.env.clock.sleep(delay).then(() => {
      const copy = structuredClone(event);
      this.delivered.push(copy);
      for (const listener of this.listeners) listener(copy);
    });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Resolves when every event emitted so far has been delivered (or lost). */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }
}

/**
 * Control Tower's lifecycle events: no SDK client of its own (they reach EventBridge),
 * listed before Service Catalog, whose Account Factory operations emit them.
 */
export const CONTROL_TOWER_LIFECYCLE_EVENTS = defineService({
  clients: [],
  create: (ctx) => new LifecycleEvents(ctx.env, ctx.faults, ctx.options.lifecycleEvents),
});
