/**
 * The time source of every handler. In AWS it is the wall clock; the local engine
 * replaces it with its emulated clock, so timestamps and durations in metadata and
 * notifications are in the same time as the emulated landing zone.
 */
export interface Clock {
  now(): Date;
  /** Real milliseconds for a duration in this clock's time (a scaled clock runs faster). */
  toRealMs?(ms: number): number;
  /** Waits a duration of this clock's time, as the invocation's own wait. */
  sleep?(ms: number): Promise<void>;
}

const CLOCK_KEY = Symbol.for('cdk-account-factory.clock');
type ClockHost = { [CLOCK_KEY]?: Clock };

export function setClock(clock: Clock | undefined): void {
  (globalThis as ClockHost)[CLOCK_KEY] = clock;
}

export function now(): Date {
  return (globalThis as ClockHost)[CLOCK_KEY]?.now() ?? new Date();
}

export function nowIso(): string {
  return now().toISOString();
}

/** Waits `ms` milliseconds of the handlers' time (emulated time under the local engine). */
export function sleep(ms: number): Promise<void> {
  const clock = (globalThis as ClockHost)[CLOCK_KEY];
  if (clock?.sleep) return clock.sleep(ms);
  const real = clock?.toRealMs ? clock.toRealMs(ms) : ms;
  return new Promise((resolve) => setTimeout(resolve, real));
}
