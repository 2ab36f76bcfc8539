import type { EngineClock } from './step-functions';

/**
 * The AWS SDK's standard retry mode, in front of the emulated landing zone.
 *
 * A real SDK v3 client retries a throttled or transient call itself (standard mode:
 * 3 attempts, exponential backoff with full jitter) before the handler sees an error.
 * The landing zone serves calls in the `initialize` step, ahead of the SDK's own retry
 * middleware, so the engine puts that retry back for the clients it hands to the
 * handlers; the backoff runs on the emulated clock. Errors the SDK does not retry
 * (e.g. Organizations' ConcurrentModificationException) reach the handler at once.
 */
export const SDK_MAX_ATTEMPTS = 3;

/** The SDK's throttling error codes (@smithy/service-error-classification). */
const THROTTLING_CODES = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);
const TRANSIENT_CODES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);

interface SdkError {
  name?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

export function isThrottling(err: unknown): boolean {
  const e = err as SdkError | undefined;
  return (
    e?.$metadata?.httpStatusCode === 429 ||
    THROTTLING_CODES.has(e?.name ?? '') ||
    e?.$retryable?.throttling === true
  );
}

export function isRetryable(err: unknown): boolean {
  const e = err as SdkError | undefined;
  if (!e) return false;
  return (
    isThrottling(e) ||
    e.$retryable !== undefined ||
    TRANSIENT_CODES.has(e.name ?? '') ||
    TRANSIENT_STATUS.has(e.$metadata?.httpStatusCode ?? 0)
  );
}

/** Emulated ms before attempt `attempt + 1`: full jitter over 100 ms (500 ms when throttled) x 2^(attempt-1), at most 20 s. */
export function backoffMs(attempt: number, err: unknown, random: () => number = Math.random): number {
  const base = isThrottling(err) ? 500 : 100;
  return Math.floor(random() * Math.min(20_000, base * 2 ** (attempt - 1)));
}

interface MiddlewareClient {
  middlewareStack: {
    addRelativeTo(
      middleware: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>,
      options: { relation: 'before' | 'after'; toMiddleware: string; name: string },
    ): void;
  };
}

/** Adds the standard-mode retry in front of the middleware named `emulator`. */
/**
 * `clock` is read at each backoff: a handler module keeps its clients across factories in one
 * process, and the backoff must wait on the clock of the factory running now.
 */
export function addSdkRetry(
  client: unknown,
  clock: () => EngineClock,
  emulator = 'landingZoneEmulator',
): void {
  (client as MiddlewareClient).middlewareStack.addRelativeTo(
    (next) => async (args) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await next(args);
        } catch (err) {
          if (attempt >= SDK_MAX_ATTEMPTS || !isRetryable(err)) throw err;
          await clock().sleep(backoffMs(attempt, err));
        }
      }
    },
    { relation: 'before', toMiddleware: emulator, name: 'localSdkStandardRetry' },
  );
}
