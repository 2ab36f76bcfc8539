import { sleep } from './clock';
import { isThrottling } from './errors';

/**
 * "AWS is busy" retried in the handlers, on top of the SDK's own retry: the SDK's
 * standard mode gives up after 3 attempts, and does not retry Organizations'
 * ConcurrentModificationException at all. Heavy throttling must delay a request,
 * never fail it, so every SDK client made by createClient retries THROTTLING_ERRORS
 * with exponential backoff and full jitter
 * (https://aws.amazon.com/builders-library/timeouts-retries-and-backoff-with-jitter/).
 */
export const BUSY_RETRY_ATTEMPTS = 8;
/** First backoff (ms); it doubles per attempt, capped at BUSY_RETRY_MAX_MS. */
export const BUSY_RETRY_BASE_MS = 250;
export const BUSY_RETRY_MAX_MS = 20_000;

/** Full jitter: a random wait in [0, min(cap, base x 2^(attempt-1))]. */
export function busyBackoffMs(attempt: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(BUSY_RETRY_MAX_MS, BUSY_RETRY_BASE_MS * 2 ** (attempt - 1)));
}

/** Runs `call`, again while it fails with a throttling or busy error, up to `attempts` times. */
export async function retryBusy<T>(call: () => Promise<T>, attempts = BUSY_RETRY_ATTEMPTS): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= attempts || !isThrottling(err)) throw err;
      await sleep(busyBackoffMs(attempt));
    }
  }
}

interface MiddlewareClient {
  middlewareStack: {
    add(
      middleware: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string; priority: 'high' },
    ): void;
  };
}

/** Adds retryBusy around every command of an SDK v3 client (outermost: add it before other middleware). */
export function addBusyRetry(client: unknown): void {
  const stack = (client as Partial<MiddlewareClient>).middlewareStack;
  if (!stack) return;
  stack.add((next) => (args) => retryBusy(() => next(args)), {
    step: 'initialize',
    name: 'accountFactoryBusyRetry',
    priority: 'high',
  });
}
