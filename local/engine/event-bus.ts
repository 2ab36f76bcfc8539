import type { EngineClock } from './step-functions';
import type { LocalRule } from './template';

/**
 * EventBridge on this machine: the rules of the synthesized template, matched against
 * the events the engine emits (execution status changes, pipeline state changes), and
 * their schedules run on the scaled clock.
 */
export interface BusEvent {
  source: string;
  'detail-type': string;
  detail: object;
  time?: string;
  resources?: string[];
}

export type Target = (arn: string, event: BusEvent) => Promise<unknown>;

/** EventBridge pattern matching: arrays list allowed values; objects nest; `prefix` and `exists` filters. */
export function matches(pattern: any, event: any): boolean {
  if (pattern === undefined) return true;
  for (const [key, expected] of Object.entries<any>(pattern)) {
    const actual = event?.[key];
    if (Array.isArray(expected)) {
      const values = Array.isArray(actual) ? actual : [actual];
      const ok = expected.some((want) => {
        if (want !== null && typeof want === 'object') {
          if ('prefix' in want) return values.some((v) => typeof v === 'string' && v.startsWith(want.prefix));
          if ('exists' in want) return want.exists ? actual !== undefined : actual === undefined;
          if ('anything-but' in want) {
            const no = Array.isArray(want['anything-but']) ? want['anything-but'] : [want['anything-but']];
            return values.every((v) => !no.includes(v));
          }
          return false;
        }
        return values.includes(want);
      });
      if (!ok) return false;
    } else if (expected !== null && typeof expected === 'object') {
      if (!matches(expected, actual)) return false;
    } else if (actual !== expected) {
      return false;
    }
  }
  return true;
}

/** rate(5 minutes) -> 300000 ms of emulated time. */
export function rateToMs(expression: string): number {
  const m = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (!m) throw new Error(`Schedule ${expression} is not emulated (rate expressions only)`);
  const unit = m[2].startsWith('minute') ? 60_000 : m[2].startsWith('hour') ? 3_600_000 : 86_400_000;
  return Number(m[1]) * unit;
}

export class EventBus {
  private readonly timers: NodeJS.Timeout[] = [];
  readonly delivered: { rule: string; event: BusEvent; target: string; ok: boolean; error?: string }[] = [];
  private inFlight = new Set<Promise<unknown>>();
  private schedulesOn = false;

  constructor(
    private readonly rules: LocalRule[],
    private readonly target: Target,
    private readonly clock: EngineClock,
  ) {}

  /** PutEvents: delivers to every matching rule's targets (asynchronously, as EventBridge does). */
  put(event: BusEvent): void {
    for (const rule of this.rules) {
      if (!rule.enabled || !rule.eventPattern || !matches(rule.eventPattern, event)) continue;
      rule.targetArns.forEach((arn, i) =>
        this.deliver(rule.logicalId, arn, event, rule.retryAttempts?.[i] ?? 0),
      );
    }
  }

  /**
   * Delivers to one target. A failed delivery is retried, as EventBridge retries it
   * (up to the target's MaximumRetryAttempts, with backoff):
   * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html
   * The waits are a guess (EventBridge gives no figures): 1, 2, 4 ... emulated seconds, at most a minute.
   */
  private deliver(rule: string, arn: string, event: BusEvent, retries = 0): void {
    const attempt = async (): Promise<void> => {
      for (let n = 0; ; n++) {
        try {
          await this.target(arn, event);
          this.delivered.push({ rule, event, target: arn, ok: true });
          return;
        } catch (err) {
          const e = err as Error;
          this.delivered.push({ rule, event, target: arn, ok: false, error: `${e.name}: ${e.message}` });
          if (n >= retries) return;
          await this.clock.sleep(Math.min(60_000, 1000 * 2 ** n));
        }
      }
    };
    const p = attempt();
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private scheduledEvent(rule: LocalRule): BusEvent {
    return {
      source: 'aws.events',
      'detail-type': 'Scheduled Event',
      time: this.clock.now().toISOString(),
      resources: [rule.logicalId],
      detail: {},
    };
  }

  private scheduled(): LocalRule[] {
    return this.rules.filter((r) => r.enabled && r.scheduleExpression);
  }

  /** Runs every scheduled rule once now (what each schedule does every period). */
  runSchedules(): void {
    for (const rule of this.scheduled()) {
      for (const arn of rule.targetArns) this.deliver(rule.logicalId, arn, this.scheduledEvent(rule));
    }
  }

  /**
   * Starts the schedules on the emulated clock. On a virtual clock a schedule is a
   * background sleeper: it fires as time passes but does not make time pass by itself.
   */
  startSchedules(): void {
    if (this.clock.virtual) {
      this.schedulesOn = true;
      for (const rule of this.scheduled()) void this.runSchedule(rule);
      return;
    }
    for (const rule of this.scheduled()) {
      const period = Math.max(1, this.clock.toRealMs(rateToMs(rule.scheduleExpression!)));
      const timer = setInterval(() => {
        for (const arn of rule.targetArns) this.deliver(rule.logicalId, arn, this.scheduledEvent(rule));
      }, period);
      timer.unref();
      this.timers.push(timer);
    }
  }

  private async runSchedule(rule: LocalRule): Promise<void> {
    const period = rateToMs(rule.scheduleExpression!);
    for (;;) {
      await this.clock.sleep(period, { background: true });
      if (!this.schedulesOn) return;
      for (const arn of rule.targetArns) this.deliver(rule.logicalId, arn, this.scheduledEvent(rule));
    }
  }

  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  stop(): void {
    this.schedulesOn = false;
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
  }
}
