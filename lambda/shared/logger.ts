import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { annotateInvocation } from './tracer';

/** The handler each logger was made for (createLogger's argument), for the trace's `handler` annotation. */
const handlerOf = new WeakMap<Logger, string>();

/** One logger per handler module, created at module level. */
export function createLogger(serviceName: string): Logger {
  const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? serviceName });
  handlerOf.set(logger, serviceName);
  return logger;
}

/** The account request and the account an invocation is about, when its event names them. */
export interface InvocationKeys {
  requestId?: string;
  accountId?: string;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * The request id and account id of a handler's event, read leniently from the places
 * the factory's events carry them: a step payload (`state.requestId`,
 * `state.validation`, `state.account`, `state.provisioningStatus`), or the top level
 * (`requestId`, `accountId`). Nothing found is fine: the keys are left out.
 */
export function invocationKeysOf(event: unknown): InvocationKeys {
  const e = (event ?? {}) as Record<string, any>;
  const state = (e.state ?? {}) as Record<string, any>;
  const requestId = str(state.requestId) ?? str(state.validation?.requestId) ?? str(e.requestId);
  const accountId =
    str(state.account?.accountId) ??
    str(state.validation?.accountId) ??
    str(state.provisioningStatus?.accountId) ??
    str(e.accountId);
  return { ...(requestId ? { requestId } : {}), ...(accountId ? { accountId } : {}) };
}

/**
 * The start of an invocation: the Lambda context (`logger.addContext`: request id,
 * function, cold start) and the account request and account on every line that
 * follows, with nothing left from the previous invocation. Where tracing is on, the
 * same keys and the handler's name annotate the invocation's trace (lambda/shared/tracer.ts).
 */
export function beginInvocation(logger: Logger, event: unknown, context: Context | undefined): void {
  const keys = invocationKeysOf(event);
  logger.resetKeys();
  if (context) logger.addContext(context);
  logger.appendKeys({ ...keys });
  annotateInvocation(handlerOf.get(logger), keys);
}
