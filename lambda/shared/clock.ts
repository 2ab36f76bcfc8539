/**
 * The time source of every handler. In AWS it is the wall clock; the local engine
 * replaces it with its emulated clock, so timestamps and durations in metadata and
 * notifications are in the same time as the emulated landing zone.
 */
export interface Clock {
  now(): Date;
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
