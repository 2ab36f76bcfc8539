import type { Rng } from './common';
import { awsError, sdkClient } from './services';

/**
 * Faults the landing zone can inject, all off by default. Settable at construction and
 * later (`LandingZone.setFaults`). Every injected fault is counted.
 */
export interface ThrottleFault {
  /** Fraction of calls (0..1) that fail with a throttling error before any effect. */
  readonly rate: number;
  /**
   * Error names to throw, one picked per fault.
   * @default - what each service returns (throttleErrors)
   */
  readonly errors?: readonly string[];
  /** Client names (e.g. 'OrganizationsClient') to throttle. @default - every emulated service */
  readonly services?: readonly string[];
}

export interface ExternalOperationsFault {
  /** Control Tower operations started outside the factory (e.g. from the console). */
  readonly count: number;
  /** How long each holds its slot, in emulated seconds. */
  readonly seconds: number;
}

export interface FaultOptions {
  readonly throttle?: ThrottleFault;
  /** Account emails whose Account Factory operation ends FAILED (no account is created). */
  readonly failProvisioning?: readonly string[];
  /** Occupies Control Tower operation slots from the moment it is set. */
  readonly externalOperations?: ExternalOperationsFault;
  /** Control Tower lifecycle events lost or sent twice (delivery is best effort, CT-17). */
  readonly lifecycleEvents?: LifecycleEventsFault;
}

export interface LifecycleEventsFault {
  /** Fraction (0..1) of lifecycle events never delivered. @default 0 */
  readonly lose?: number;
  /** Fraction (0..1) of the delivered ones delivered twice. @default 0 */
  readonly duplicate?: number;
}

export interface FaultStats {
  total: number;
  /** Per kind: 'throttle:<Client>.<Command>', 'failProvisioning', 'externalOperations'. */
  byKind: Record<string, number>;
}

export class FaultInjector {
  private options: FaultOptions = {};
  private readonly stats: FaultStats = { total: 0, byKind: {} };

  constructor(
    private readonly rng: Rng,
    options: FaultOptions = {},
  ) {
    this.set(options);
  }

  set(options: FaultOptions): void {
    const rate = options.throttle?.rate;
    if (rate !== undefined && !(rate >= 0 && rate <= 1)) {
      throw new Error(`faults.throttle.rate must be between 0 and 1, got ${rate}`);
    }
    for (const [name, value] of Object.entries(options.lifecycleEvents ?? {})) {
      if (value !== undefined && !(value >= 0 && value <= 1)) {
        throw new Error(`faults.lifecycleEvents.${name} must be between 0 and 1, got ${value}`);
      }
    }
    this.options = options;
  }

  get current(): FaultOptions {
    return this.options;
  }

  /**
   * Decides whether this call is throttled. `builtIn` says whether the emulator serves
   * the client itself (services registered by others are throttled only when named).
   */
  throttle(clientName: string, commandName: string, builtIn: boolean): Error | undefined {
    const t = this.options.throttle;
    if (!t || t.rate <= 0) return undefined;
    const eligible = t.services ? t.services.includes(clientName) : builtIn;
    if (!eligible) return undefined;
    if (this.rng.next() >= t.rate) return undefined;
    const names = t.errors?.length ? t.errors : throttleErrors(clientName);
    const name = this.rng.pick(names);
    this.count(`throttle:${clientName.replace(/Client$/, '')}.${commandName.replace(/Command$/, '')}`);
    return awsError(clientName, name, 'Rate exceeded');
  }

  failsProvisioning(email: string): boolean {
    const hit = (this.options.failProvisioning ?? []).some((e) => e.toLowerCase() === email.toLowerCase());
    if (hit) this.count('failProvisioning');
    return hit;
  }

  /** How many times a lifecycle event is delivered: 0 (lost), 1, or 2 (duplicated). */
  lifecycleEventCopies(): number {
    const f = this.options.lifecycleEvents;
    if (!f) return 1;
    if ((f.lose ?? 0) > 0 && this.rng.next() < f.lose!) {
      this.count('lifecycleEvent:lost');
      return 0;
    }
    if ((f.duplicate ?? 0) > 0 && this.rng.next() < f.duplicate!) {
      this.count('lifecycleEvent:duplicated');
      return 2;
    }
    return 1;
  }

  count(kind: string, n = 1): void {
    this.stats.total += n;
    this.stats.byKind[kind] = (this.stats.byKind[kind] ?? 0) + n;
  }

  snapshot(): FaultStats {
    return { total: this.stats.total, byKind: { ...this.stats.byKind } };
  }
}

/**
 * The throttling error(s) a service really returns (the error code, which the SDK v3
 * client turns into `error.name`): its client's `throttleErrors`, else the protocol's
 * common error, `Throttling` (query) or `ThrottlingException` (JSON). Sources per
 * service in its client's definition and docs/aws-behaviour.md (THR-1 … THR-4).
 */
export function throttleErrors(clientName: string): readonly string[] {
  const client = sdkClient(clientName);
  return client?.throttleErrors ?? [client?.protocol === 'query' ? 'Throttling' : 'ThrottlingException'];
}
