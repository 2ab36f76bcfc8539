import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { InvocationKeys } from './logger';

/**
 * The handlers' one Powertools Tracer (`@aws-lambda-powertools/tracer`), shared by every
 * handler of an execution environment. Where tracing is on (in Lambda, whose functions
 * have active tracing), every SDK client `createClient` makes is captured: each AWS call
 * is a subsegment of the function's trace. `beginInvocation` annotates the trace with
 * the account request, the account and the handler (`annotateInvocation`).
 *
 * Tracing is on as the Tracer decides it: in a Lambda execution environment
 * (AWS_EXECUTION_ENV set), not under SAM local or the Amplify mock, and unless
 * POWERTOOLS_TRACE_ENABLED is `false`. Elsewhere (the tests, the local engine, the CLI)
 * the package is not even loaded: the X-Ray SDK beneath it installs a process-wide
 * async hook (cls-hooked) as it loads, which would slow every promise of a local run;
 * and the published package does not depend on it (the handler bundles carry it,
 * in `assets/handlers/vendor/powertools-tracer.js`).
 */

/** The environment variables that decide whether the Tracer is made at all. */
export function tracingWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  const executionEnv = env.AWS_EXECUTION_ENV ?? '';
  if (executionEnv === '' || executionEnv === 'AWS_Lambda_amplify-mock') return false;
  if (env.AWS_SAM_LOCAL) return false;
  return (env.POWERTOOLS_TRACE_ENABLED ?? '').toLowerCase() !== 'false';
}

/** undefined: not decided yet; null: tracing is off in this process. */
let shared: Tracer | null | undefined;

/** The handlers' Tracer when tracing is on, made on first use; undefined when it is off. */
export function handlerTracer(): Tracer | undefined {
  if (shared === undefined) {
    shared = null;
    if (tracingWanted()) {
      // Loaded here, not imported: only an execution environment that traces loads the X-Ray SDK.
      type Powertools = typeof import('@aws-lambda-powertools/tracer');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const powertools = require('@aws-lambda-powertools/tracer') as Powertools;
      // The service is POWERTOOLS_SERVICE_NAME (the construct sets it to the handler's name).
      const tracer = new powertools.Tracer();
      if (tracer.isTracingEnabled()) shared = tracer;
    }
  }
  return shared ?? undefined;
}

/** Forgets the Tracer, so the next `handlerTracer()` decides again from the environment (tests). */
export function resetHandlerTracer(): void {
  shared = undefined;
}

/** The client, captured by the Tracer when tracing is on (its calls become subsegments); as it was otherwise. */
export function captureClient<C>(client: C): C {
  const tracer = handlerTracer();
  return tracer ? tracer.captureAWSv3Client(client) : client;
}

/** The name of the subsegment that carries an invocation's annotations. */
export const INVOCATION_SUBSEGMENT = '## invocation';

/**
 * Annotates the invocation's trace, so that X-Ray finds it by filter expression
 * (`annotation.requestId = "..."`, `annotation.accountId = "..."`, `annotation.handler =
 * "..."`, and Powertools' `ColdStart` and `Service`). In Lambda the function's segment
 * is a facade that takes no annotations: they go on a subsegment of it,
 * INVOCATION_SUBSEGMENT, closed at once (it marks the start of the invocation; the
 * AWS calls that follow are subsegments of the function's segment, next to it).
 * Nothing happens when tracing is off or there is no segment.
 */
export function annotateInvocation(handler: string | undefined, keys: InvocationKeys): void {
  const tracer = handlerTracer();
  const segment = tracer?.getSegment();
  if (!tracer || !segment) return;
  const subsegment = segment.addNewSubsegment(INVOCATION_SUBSEGMENT);
  tracer.setSegment(subsegment);
  try {
    tracer.annotateColdStart();
    tracer.addServiceNameAnnotation();
    if (handler) tracer.putAnnotation('handler', handler);
    if (keys.requestId) tracer.putAnnotation('requestId', keys.requestId);
    if (keys.accountId) tracer.putAnnotation('accountId', keys.accountId);
  } finally {
    subsegment.close();
    tracer.setSegment(segment);
  }
}
