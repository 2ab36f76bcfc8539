import * as path from 'node:path';
import { runAs } from '../emulator/caller';
import { principalOfRole } from '../emulator/common';
import { MetricsRecorder } from './metrics';
import type { LocalFunction } from './template';

/**
 * Runs the project's Lambda handlers in this process, as Lambda would: one module per
 * function, imported once (cold start), with the function's environment.
 */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export interface LambdaFaults {
  /**
   * Crash a handler: the first `times` invocations of the named handler fail with
   * `Lambda.Unknown`. `when: 'after'` runs the handler first (its effects happen, its
   * result is lost), as a crash or timeout mid-step would; it counts only invocations
   * whose handler succeeded (one that throws by itself already fails).
   */
  crash?: { handler: string; times: number; when?: 'before' | 'after' }[];
}

export interface InvocationRecord {
  functionName: string;
  handler: string;
  ok: boolean;
  errorName?: string;
}

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

/** The error Step Functions sees from a failed Lambda: name = errorType, cause = Lambda's JSON. */
export class LambdaFunctionError extends Error {
  constructor(name: string, errorMessage: string) {
    super(JSON.stringify({ errorMessage, errorType: name, trace: [] }));
    this.name = name;
  }
}

export class LambdaRuntime {
  private readonly byName = new Map<string, LocalFunction>();
  private readonly modules = new Map<string, Handler>();
  private faults: LambdaFaults = {};
  private readonly crashesLeft = new Map<string, number>();
  readonly invocations: InvocationRecord[] = [];
  /** The metrics the handlers emitted (EMF lines on stdout), as CloudWatch would record them. */
  readonly metrics = new MetricsRecorder();

  constructor(functions: LocalFunction[]) {
    for (const fn of functions) {
      this.byName.set(fn.name, fn);
      this.byName.set(fn.arn, fn);
    }
    this.applySharedEnvironment(functions);
  }

  get functions(): LocalFunction[] {
    return [...new Set(this.byName.values())];
  }

  /** The function that runs a given handler (e.g. 'request-trigger'). */
  functionFor(handler: string): LocalFunction {
    const fn = this.functions.find((f) => f.handler === handler);
    if (!fn) throw new Error(`No function in the template runs handler ${handler}`);
    return fn;
  }

  has(nameOrArn: string): boolean {
    return this.byName.has(nameOrArn) || this.byName.has(nameOrArn.split(':').pop() ?? '');
  }

  setFaults(faults: LambdaFaults): void {
    this.faults = faults;
    this.crashesLeft.clear();
    for (const c of faults.crash ?? []) this.crashesLeft.set(c.handler, c.times);
  }

  /**
   * Every function shares this process, so their environments are merged into
   * process.env. Two functions that need different values for one variable cannot
   * share a process: that is refused, not guessed.
   */
  private applySharedEnvironment(functions: LocalFunction[]): void {
    const merged: Record<string, { value: string; from: string }> = {};
    for (const fn of functions) {
      for (const [k, v] of Object.entries(fn.environment)) {
        if (k === 'POWERTOOLS_SERVICE_NAME') continue;
        const prev = merged[k];
        if (prev && prev.value !== v) {
          throw new Error(
            `Functions ${prev.from} and ${fn.name} set ${k} to different values; the local engine runs all handlers in one process`,
          );
        }
        merged[k] = { value: v, from: fn.name };
      }
    }
    for (const [k, { value }] of Object.entries(merged)) process.env[k] = value;
  }

  private load(fn: LocalFunction): Handler {
    const cached = this.modules.get(fn.handler);
    if (cached) return cached;
    const modulePath = fn.handler.includes('/')
      ? path.join(REPO_ROOT, fn.handler)
      : path.join(REPO_ROOT, 'lambda', fn.handler, 'index');
    const service = process.env.POWERTOOLS_SERVICE_NAME;
    if (fn.environment.POWERTOOLS_SERVICE_NAME)
      process.env.POWERTOOLS_SERVICE_NAME = fn.environment.POWERTOOLS_SERVICE_NAME;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(modulePath) as { handler?: Handler };
    if (service === undefined) delete process.env.POWERTOOLS_SERVICE_NAME;
    else process.env.POWERTOOLS_SERVICE_NAME = service;
    if (typeof mod.handler !== 'function') throw new Error(`${modulePath} exports no handler`);
    this.modules.set(fn.handler, mod.handler);
    return mod.handler;
  }

  /**
   * Loads every handler module now, as provisioned concurrency would: the first
   * requests of a run then do not pay for module loading on the scaled clock.
   */
  preload(): void {
    for (const fn of this.functions) this.load(fn);
  }

  resolve(nameOrArn: string): LocalFunction {
    const fn = this.byName.get(nameOrArn) ?? this.byName.get(nameOrArn.split(':').pop() ?? '');
    if (!fn) throw new Error(`No local function ${nameOrArn}`);
    return fn;
  }

  /**
   * Wraps every invocation: the engine's virtual clock waits for invocations in flight
   * before it moves (local/emulator/clock.ts `track`).
   */
  track: <T>(fn: () => Promise<T>) => Promise<T> = (fn) => fn();

  /** Invokes a function; a handler error is rethrown as Lambda reports it to Step Functions. */
  invoke(nameOrArn: string, event: unknown): Promise<unknown> {
    return this.track(() => this.invokeNow(nameOrArn, event));
  }

  private async invokeNow(nameOrArn: string, event: unknown): Promise<unknown> {
    const fn = this.resolve(nameOrArn);
    const handler = this.load(fn);
    const crash = this.faults.crash?.find((c) => c.handler === fn.handler);
    const crashNow = crash !== undefined && (this.crashesLeft.get(fn.handler) ?? 0) > 0;
    const takeCrash = () => this.crashesLeft.set(fn.handler, (this.crashesLeft.get(fn.handler) ?? 0) - 1);
    const context = {
      functionName: fn.name,
      awsRequestId: `local-${this.invocations.length + 1}`,
      // No getRemainingTimeInMillis: the engine does not end an invocation at its timeout, and
      // its clock runs `scale` times faster than the CPU, so a remaining time would be spent by
      // real CPU time x scale. The handlers' busy retries are then bounded by their attempts
      // only (withRemainingTime in lambda/shared/retry.ts); in AWS, by the time left too.
    };
    try {
      if (crashNow && crash.when !== 'after') {
        takeCrash();
        throw new LambdaFunctionError('Lambda.Unknown', 'injected crash before the handler ran');
      }
      // Events cross a JSON boundary in Lambda: no shared references, no Dates.
      // The handler acts as the function's execution role (session name: the function's name).
      const principal = principalOfRole(fn.roleArn, fn.name);
      const result = await this.metrics.capture(fn.handler, () =>
        runAs(principal, () => handler(JSON.parse(JSON.stringify(event ?? null)), context)),
      );
      // A crash after the work hits an invocation that did its work: one that failed by itself
      // (e.g. a retried ExecutionRoleNotReady) leaves the crash for the next one.
      if (crashNow && (this.crashesLeft.get(fn.handler) ?? 0) > 0) {
        takeCrash();
        throw new LambdaFunctionError('Lambda.Unknown', 'injected crash after the handler ran');
      }
      this.invocations.push({ functionName: fn.name, handler: fn.handler, ok: true });
      return result === undefined ? null : JSON.parse(JSON.stringify(result));
    } catch (err) {
      const e = err as Error;
      this.invocations.push({ functionName: fn.name, handler: fn.handler, ok: false, errorName: e.name });
      if (e instanceof LambdaFunctionError) throw e;
      throw new LambdaFunctionError(e.name || 'Error', e.message);
    }
  }
}
