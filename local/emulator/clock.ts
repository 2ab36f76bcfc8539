/**
 * The emulated clock. Control Tower takes ~25 minutes to vend an account; locally that
 * time runs faster than the wall clock, and everything (the landing zone, the engine's
 * waits, the handlers' timestamps via lambda/shared/clock.ts) reads the same time from here.
 *
 * Three modes:
 * - scaled (default): emulated = start + (Date.now() - realStart) * scale + advanced. Every
 *   real millisecond of CPU counts `scale` emulated ones, so a busy machine stretches
 *   emulated durations;
 * - virtual (`virtual: true`): time stands still while anything runs, and jumps to the next
 *   sleeper's deadline when nothing does (a discrete-event simulation). "Runs" means a
 *   promise chain or immediate still pending (a few setImmediate rounds settle them), or
 *   work inside `track()` that may take longer than those rounds: the engine tracks its
 *   DynamoDB calls (dynalite's store answers them some turns of the event loop later).
 *   CPU time costs no emulated time;
 * - manual (`manual: true`): time stands still until `advance(ms)` moves it (tests).
 * `advance(ms)` works in every mode; sleepers wake in deadline order.
 */
export interface ScaledClockOptions {
  /** Emulated milliseconds per real millisecond. @default 1 */
  readonly scale?: number;
  /** Emulated time at creation. @default - the wall clock at creation */
  readonly start?: Date | number;
  /** Time moves only through `advance()`. @default false */
  readonly manual?: boolean;
  /** Time moves only when no tracked work is in flight, to the next deadline. @default false */
  readonly virtual?: boolean;
}

export interface SleepOptions {
  /**
   * A background sleeper (a schedule, a poller) wakes when time reaches it but does not
   * move a virtual clock by itself (as an unref'd timer does not keep Node alive), unless
   * the clock's `keepMoving` says something is still going on.
   * @default false
   */
  readonly background?: boolean;
}

interface Sleeper {
  deadline: number;
  seq: number;
  background: boolean;
  resolve: () => void;
}

/** A timer on the emulated clock (what setTimeout returns, for clearTimer). */
export interface ClockTimer {
  cancelled: boolean;
}

/** setImmediate rounds that let promise chains and immediates settle before time jumps. */
const SETTLE_ROUNDS = 8;

export class ScaledClock {
  readonly scale: number;
  readonly manual: boolean;
  readonly virtual: boolean;
  private readonly startMs: number;
  private readonly realStart: number;
  private offsetMs = 0;
  private sleepers: Sleeper[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private stepping: Promise<void> | undefined;
  private disposed = false;

  constructor(options: ScaledClockOptions = {}) {
    const scale = options.scale ?? 1;
    if (!(scale > 0) || !Number.isFinite(scale)) {
      throw new Error(`ScaledClock scale must be a positive number, got ${scale}`);
    }
    this.scale = scale;
    this.manual = options.manual ?? false;
    this.virtual = options.virtual ?? false;
    if (this.manual && this.virtual) throw new Error('ScaledClock: manual and virtual are exclusive');
    this.realStart = Date.now();
    if (process.env.CLOCK_DEBUG && options.virtual) {
      const t = setInterval(() => {
        if (this.disposed) return clearInterval(t);
        process.stderr.write(
          `clock ${new Date(this.nowMs()).toISOString()} inFlight=${this.inFlight} sleepers=${this.sleepers.length} fg=${this.sleepers.filter((s) => !s.background).length} stepping=${!!this.stepping}\n`,
        );
      }, 3000);
      t.unref();
    }
    this.startMs = options.start === undefined ? this.realStart : new Date(options.start).getTime();
  }

  /** Emulated epoch milliseconds. */
  nowMs(): number {
    const elapsed = this.manual || this.virtual ? 0 : (Date.now() - this.realStart) * this.scale;
    return this.startMs + elapsed + this.offsetMs;
  }

  now(): Date {
    return new Date(this.nowMs());
  }

  /**
   * Real milliseconds that `emulatedMs` of emulated time take in scaled mode. A manual or
   * virtual clock has no such rate (0): wait with `sleep()` or `setTimer()` instead.
   */
  toRealMs(emulatedMs: number): number {
    return this.manual || this.virtual ? 0 : Math.max(0, emulatedMs / this.scale);
  }

  /** Resolves once `emulatedMs` of emulated time have passed. */
  sleep(emulatedMs: number, options: SleepOptions = {}): Promise<void> {
    const deadline = this.nowMs() + Math.max(0, emulatedMs);
    return new Promise<void>((resolve) => {
      this.sleepers.push({
        deadline,
        seq: this.seq++,
        background: options.background ?? false,
        resolve,
      });
      this.sleepers.sort((a, b) => a.deadline - b.deadline || a.seq - b.seq);
      this.schedule();
    });
  }

  /** setTimeout on the emulated clock; `clearTimer` cancels it. */
  setTimer(fn: () => void, emulatedMs: number, options: SleepOptions = {}): ClockTimer {
    const timer: ClockTimer = { cancelled: false };
    void this.sleep(emulatedMs, options).then(() => {
      if (!timer.cancelled) fn();
    });
    return timer;
  }

  clearTimer(timer: ClockTimer | undefined): void {
    if (timer) timer.cancelled = true;
  }

  /**
   * Runs `fn` as work in flight: a virtual clock does not move until it ends.
   * Nested work counts once per level. Other modes just run it.
   */
  async track<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.virtual) return fn();
    this.inFlight++;
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  /**
   * Virtual mode: whether time should move for background sleepers alone (the engine: while an
   * execution or a pipeline runs, a schedule such as the semaphore's reaper is what it waits for).
   */
  keepMoving: (() => boolean) | undefined;

  /** Work tracked and still running (virtual mode). */
  get workInFlight(): number {
    return this.inFlight;
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

  /** Cancels the real timer (sleepers stay pending); a virtual clock stops moving. */
  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** dispose(), then waits until a virtual clock's stepping has stopped (nothing runs on it after). */
  async shutdown(): Promise<void> {
    this.dispose();
    while (this.stepping) await this.stepping;
  }

  private release(): void {
    this.inFlight--;
    if (this.inFlight === 0) this.schedule();
  }

  /**
   * Virtual mode: once nothing is in flight and every chain of promises and immediates has
   * settled, moves time to the earliest deadline, if any sleeper that is not background
   * waits; wakes what is due, and looks again.
   */
  private idleStep(): void {
    if (this.stepping) return;
    this.stepping = this.runIdleSteps();
  }

  /**
   * The stepping loop. It clears `stepping` in the same synchronous turn in which it decides
   * to stop, so work that ends after that decision starts a new loop (no lost wake-up).
   */
  private async runIdleSteps(): Promise<void> {
    for (;;) {
      await settleMicrotasks(SETTLE_ROUNDS);
      if (this.disposed || this.inFlight > 0) {
        this.stepping = undefined;
        return;
      }
      const due = this.sleepers.length > 0 && this.sleepers[0].deadline <= this.nowMs();
      if (!due) {
        if (!this.sleepers.some((s) => !s.background) && !this.keepMoving?.()) {
          this.stepping = undefined;
          return;
        }
        this.offsetMs += this.sleepers[0].deadline - this.nowMs();
      }
      this.wakeDue();
    }
  }

  private wakeDue(): void {
    const now = this.nowMs();
    while (this.sleepers.length && this.sleepers[0].deadline <= now) {
      this.sleepers.shift()!.resolve();
    }
  }

  private schedule(): void {
    // A disposed clock starts nothing: a sleep begun after its factory closed never wakes.
    if (this.disposed) return;
    if (this.virtual) {
      if (this.inFlight === 0 && this.sleepers.length) this.idleStep();
      return;
    }
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

async function settleMicrotasks(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
