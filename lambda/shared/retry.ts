import { AsyncLocalStorage } from 'node:async_hooks';
import { now, sleep } from './clock';
import { isThrottling, RetryBudgetExhausted } from './errors';

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

/**
 * Time kept, at the end of an invocation, for the call after the last wait and the
 * step's own work: at most this, at most a quarter of the invocation's time.
 */
export const BUSY_RETRY_RESERVE_MS = 10_000;

interface Budget {
  /** When the invocation times out (the handlers' clock, ms). */
  deadline: number;
  reserve: number;
}

/** The budget of the invocation running now (per invocation: the local engine runs many at once). */
const budgets = new AsyncLocalStorage<Budget>();

/** What the Lambda runtime passes as the handler's second argument (the part used here). */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
}

/**
 * A Lambda handler whose busy retries respect the invocation's time: a retry whose wait
 * would end within the reserve of the timeout is not made, and the handler fails with
 * RetryBudgetExhausted (which the step's Retry catches) instead of being killed by the
 * timeout (Sandbox.Timedout, with the work's state unknown). Without a context (a test,
 * a direct call) the retries are bounded by BUSY_RETRY_ATTEMPTS only.
 */
export function withRemainingTime<E, R, C extends Partial<InvocationContext> = Partial<InvocationContext>>(
  handle: (event: E, context?: C) => Promise<R>,
): (event: E, context?: C) => Promise<R> {
  return (event, context) => {
    const remaining = context?.getRemainingTimeInMillis?.();
    if (remaining === undefined || !Number.isFinite(remaining)) return handle(event, context);
    const budget = {
      deadline: now().getTime() + remaining,
      reserve: Math.min(BUSY_RETRY_RESERVE_MS, remaining / 4),
    };
    return budgets.run(budget, () => handle(event, context));
  };
}

/** Full jitter: a random wait in [0, min(cap, base x 2^(attempt-1))]. */
export function busyBackoffMs(attempt: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(BUSY_RETRY_MAX_MS, BUSY_RETRY_BASE_MS * 2 ** (attempt - 1)));
}

/**
 * Runs `call`, again while it fails with a throttling or busy error, up to `attempts`
 * times, and never past the invocation's budget (withRemainingTime).
 */
export async function retryBusy<T>(call: () => Promise<T>, attempts = BUSY_RETRY_ATTEMPTS): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= attempts || !isThrottling(err)) throw err;
      const wait = busyBackoffMs(attempt);
      const budget = budgets.getStore();
      if (budget && now().getTime() + wait > budget.deadline - budget.reserve) {
        const left = Math.max(0, budget.deadline - now().getTime());
        throw new RetryBudgetExhausted(
          `${(err as Error).name} on ${attempt} attempts, and ${left} ms of the invocation left: the step is retried (${(err as Error).message})`,
        );
      }
      await sleep(wait);
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
