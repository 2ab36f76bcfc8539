/**
 * The emulated clock. Control Tower takes ~25 minutes to vend an account; locally that
 * time runs `scale` times faster than the wall clock, and everything (the landing zone,
 * the engine's waits, the handlers' timestamps via lambda/shared/clock.ts) reads the
 * same time from here.
 *
 * Two modes:
 * - scaled (default): emulated = start + (Date.now() - realStart) * scale + advanced;
 * - manual (`manual: true`): time stands still until `advance(ms)` moves it (tests).
 * `advance(ms)` works in both modes; sleepers wake in deadline order.
 */
export interface ScaledClockOptions {
  /** Emulated milliseconds per real millisecond. @default 1 */
  readonly scale?: number;
  /** Emulated time at creation. @default - the wall clock at creation */
  readonly start?: Date | number;
  /** Time moves only through `advance()`. @default false */
  readonly manual?: boolean;
}

interface Sleeper {
  deadline: number;
  seq: number;
  resolve: () => void;
}

export class ScaledClock {
  readonly scale: number;
  readonly manual: boolean;
  private readonly startMs: number;
  private readonly realStart: number;
  private offsetMs = 0;
  private sleepers: Sleeper[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: ScaledClockOptions = {}) {
    const scale = options.scale ?? 1;
    if (!(scale > 0) || !Number.isFinite(scale)) {
      throw new Error(`ScaledClock scale must be a positive number, got ${scale}`);
    }
    this.scale = scale;
    this.manual = options.manual ?? false;
    this.realStart = Date.now();
    this.startMs = options.start === undefined ? this.realStart : new Date(options.start).getTime();
  }

  /** Emulated epoch milliseconds. */
  nowMs(): number {
    const elapsed = this.manual ? 0 : (Date.now() - this.realStart) * this.scale;
    return this.startMs + elapsed + this.offsetMs;
  }

  now(): Date {
    return new Date(this.nowMs());
  }

  /** Real milliseconds that `emulatedMs` of emulated time take (0 in manual mode: nothing to wait for). */
  toRealMs(emulatedMs: number): number {
    return this.manual ? 0 : Math.max(0, emulatedMs / this.scale);
  }

  /** Resolves once `emulatedMs` of emulated time have passed. */
  sleep(emulatedMs: number): Promise<void> {
    const deadline = this.nowMs() + Math.max(0, emulatedMs);
    return new Promise<void>((resolve) => {
      this.sleepers.push({ deadline, seq: this.seq++, resolve });
      this.sleepers.sort((a, b) => a.deadline - b.deadline || a.seq - b.seq);
      this.schedule();
    });
  }

  /**
   * Moves emulated time forward by `ms`, waking each sleeper at its own deadline in
   * order (and letting what it starts run, so chained sleeps inside the window wake too).
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new Error(`advance() needs a non-negative duration, got ${ms}`);
    const target = this.nowMs() + ms;
    for (;;) {
      await settleMicrotasks();
      const next = this.sleepers[0];
      if (!next || next.deadline > target) break;
      this.offsetMs += Math.max(0, next.deadline - this.nowMs());
      this.wakeDue();
    }
    this.offsetMs += Math.max(0, target - this.nowMs());
    this.wakeDue();
    await settleMicrotasks();
    this.schedule();
  }

  /** Number of pending sleeps (tests use it to know something is waiting). */
  get pendingSleeps(): number {
    return this.sleepers.length;
  }

  /** Cancels the real timer (sleepers stay pending). */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private wakeDue(): void {
    const now = this.nowMs();
    while (this.sleepers.length && this.sleepers[0].deadline <= now) {
      this.sleepers.shift()!.resolve();
    }
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.manual || !this.sleepers.length) return;
    const wait = Math.ceil(this.toRealMs(this.sleepers[0].deadline - this.nowMs()));
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.wakeDue();
        this.schedule();
      },
      Math.min(Math.max(0, wait), 2_147_483_647),
    );
  }
}

async function settleMicrotasks(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
