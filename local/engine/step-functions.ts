import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { StateMachine } from 'aws-local-stepfunctions';
import { runAs } from '../emulator/caller';
import { principalOfRole, type Principal } from '../emulator/common';
import type { ClockTimer, SleepOptions } from '../emulator/clock';
import { aslLibrary, setLibraryTimers } from './asl-library';
import type { LambdaRuntime } from './lambda-runtime';
import { isSupportedSdkResource, SdkTasks } from './sdk-tasks';
import type { LocalStateMachine } from './template';

/**
 * Step Functions on this machine: each execution runs the synthesized definition on
 * aws-local-stepfunctions. This module supplies what that engine leaves out: every Task
 * state's resource (Lambda in-process, `.waitForTaskToken` callbacks, `startExecution.sync:2`,
 * SDK integrations), the execution registry behind StartExecution / DescribeExecution /
 * SendTaskSuccess / StopExecution, the `$$` context object, and the emulated clock.
 */

/** The emulated clock, as the engine uses it (local/emulator/clock.ts). */
export interface EngineClock {
  now(): Date;
  /** Scaled mode: real milliseconds for an emulated duration (0 on a virtual clock). */
  toRealMs(emulatedMs: number): number;
  /** Time moves only when nothing runs (waits are sleeps and timers on this clock, never real). */
  readonly virtual: boolean;
  sleep(emulatedMs: number, options?: SleepOptions): Promise<void>;
  setTimer(fn: () => void, emulatedMs: number, options?: SleepOptions): ClockTimer;
  clearTimer(timer: ClockTimer | undefined): void;
  /** Runs work that a virtual clock waits for before it moves. */
  track<T>(fn: () => Promise<T>): Promise<T>;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface LocalExecution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  input: unknown;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  output?: unknown;
  error?: string;
  cause?: string;
  /** The state the execution is in now (for progress displays). */
  currentState?: string;
  /** StateEntered events: what Step Functions bills as state transitions. */
  transitions: number;
  /** Transitions per state name. */
  transitionsByState: Record<string, number>;
  /** When each state was last entered (emulated time). */
  enteredAt: Record<string, Date>;
  /** Every state entry, in order, with its emulated time (a state entered again appears again). */
  history: StateEntry[];
}

/** One StateEntered event of an execution. */
export interface StateEntry {
  state: string;
  at: Date;
}

export interface ExecutionStatusEvent {
  source: 'aws.states';
  'detail-type': 'Step Functions Execution Status Change';
  detail: {
    executionArn: string;
    stateMachineArn: string;
    name: string;
    status: ExecutionStatus;
    startDate: number;
    stopDate: number | null;
    input: string;
    output: string | null;
  };
}

export class StepFunctionsError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

interface PendingToken {
  executionArn: string;
  resolve(output: unknown): void;
  reject(err: Error): void;
  /** The task's timeout, cleared when the execution ends (a stopped execution keeps no timer). */
  timer?: ClockTimer;
}

interface Running {
  execution: LocalExecution;
  abort(): void;
  done: Promise<void>;
}

export interface StepFunctionsOptions {
  clock: EngineClock;
  lambda: LambdaRuntime;
  /** Called on every execution status change (EventBridge's "Execution Status Change"). */
  onStatusChange?: (event: ExecutionStatusEvent) => void;
  /**
   * Authorizes a Task's Lambda invocation or child execution as the state machine's role
   * (the other integrations go through the SDK clients, which the landing zone authorizes).
   */
  authorizeTask?: (resource: string, input: any) => void;
}

/**
 * Definitions already validated. aws-local-stepfunctions validates a definition with
 * asl-validator (a new ajv compile, most of a second) on every construction. A definition
 * is validated the first time it is seen and constructed unvalidated after: in this
 * process (a set), and across processes by a marker file in the temporary directory named
 * by the definition's hash and asl-validator's version (each jest test file loads this
 * module afresh; the suites start the same few definitions in every file).
 */
const validatedDefinitions = new Set<string>();

function validatedMarker(key: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { version } = require('asl-validator/package.json') as { version: string };
  const hash = createHash('sha256').update(version).update('\0').update(key).digest('hex').slice(0, 32);
  return path.join(os.tmpdir(), 'account-factory-asl-validated', hash);
}

function newStateMachine(definition: any): StateMachine {
  const key = JSON.stringify(definition);
  const marker = validatedDefinitions.has(key) ? undefined : validatedMarker(key);
  const validated = marker === undefined || fs.existsSync(marker);
  const engine = new (aslLibrary().StateMachine)(definition, {
    validationOptions: validated ? { noValidate: true } : { checkPaths: true, checkArn: false },
  });
  validatedDefinitions.add(key);
  if (marker && !validated) {
    // Written after the constructor accepted the definition (it throws on an invalid one).
    fs.mkdirSync(path.dirname(marker), { recursive: true });
    fs.writeFileSync(marker, '');
  }
  return engine;
}

/** Every Task state, at any depth (Parallel branches, Map item processors). */
export function taskStates(definition: any): { name: string; state: any }[] {
  const out: { name: string; state: any }[] = [];
  const walk = (def: any) => {
    for (const [name, state] of Object.entries<any>(def?.States ?? {})) {
      if (state.Type === 'Task') out.push({ name, state });
      for (const b of state.Branches ?? []) walk(b);
      if (state.Iterator) walk(state.Iterator);
      if (state.ItemProcessor) walk(state.ItemProcessor);
    }
  };
  walk(definition);
  return out;
}

function allStates(definition: any): { name: string; state: any }[] {
  const out: { name: string; state: any }[] = [];
  const walk = (def: any) => {
    for (const [name, state] of Object.entries<any>(def?.States ?? {})) {
      out.push({ name, state });
      for (const b of state.Branches ?? []) walk(b);
      if (state.Iterator) walk(state.Iterator);
      if (state.ItemProcessor) walk(state.ItemProcessor);
    }
  };
  walk(definition);
  return out;
}

/** A closed execution's name can be used again 90 days after (StartExecution API reference). */
const NAME_REUSE_MS = 90 * 24 * 3600 * 1000;

/** Stands for `$$.Task.Token` in the context; replaced by a fresh token per task attempt. */
const TOKEN_PLACEHOLDER = 'local-task-token-placeholder';
/** Stands for `$$.State.EnteredTime` in the context; replaced by the time of each task attempt. */
const ENTERED_TIME_PLACEHOLDER = 'local-state-entered-time-placeholder';

/** A copy of `value` with every `placeholder` string replaced by `token`. */
function withToken(value: unknown, placeholder: string, token: string): unknown {
  if (value === placeholder) return token;
  if (Array.isArray(value)) return value.map((v) => withToken(v, placeholder, token));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withToken(v, placeholder, token)]));
  }
  return value;
}

const LAMBDA_ARN = /^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:([A-Za-z0-9-_]+)(:[A-Za-z0-9$_-]+)?$/;

export class LocalStepFunctions {
  private readonly machines = new Map<
    string,
    { sm: LocalStateMachine; engine: StateMachine; overrides: any; principal: Principal }
  >();
  private readonly executions = new Map<string, LocalExecution>();
  private readonly running = new Map<string, Running>();
  private readonly tokens = new Map<string, PendingToken>();
  private readonly sdk = new SdkTasks();
  private idleWaiters: (() => void)[] = [];
  /** Drop EventBridge status events (EventBridge delivery is best effort). */
  dropStatusEvents = false;

  constructor(private readonly options: StepFunctionsOptions) {
    const { clock } = options;
    setLibraryTimers(
      clock.virtual
        ? {
            setTimeout: (fn, ms) => clock.setTimer(fn, ms),
            clearTimeout: (timer) => clock.clearTimer(timer as ClockTimer),
          }
        : undefined,
    );
  }

  /**
   * Registers a state machine. Refuses one with a Task state that has no local
   * handler: the engine would otherwise call real AWS.
   */
  register(sm: LocalStateMachine): void {
    const missing = taskStates(sm.definition).filter(
      ({ state }) => !this.canServe(state.Resource, state.Parameters),
    );
    if (missing.length) {
      throw new Error(
        `State machine ${sm.name} has Task states the local engine cannot serve (it would call AWS): ${missing
          .map((m) => `${m.name} (${m.state.Resource})`)
          .join(', ')}`,
      );
    }
    const { clock } = this.options;
    // A scaled clock runs the library's waits on real timers, shortened by the scale; a virtual
    // clock gives the library its own timers (local/engine/asl-library.ts) and the waits as written.
    const waitTimeOverrides: Record<string, number> = {};
    const retryIntervalOverrides: Record<string, number[]> = {};
    for (const { name, state } of allStates(sm.definition)) {
      if (state.Type === 'Wait') {
        if (typeof state.Seconds !== 'number') {
          throw new Error(
            `Wait state ${name} has no fixed Seconds: the local engine scales fixed waits only`,
          );
        }
        waitTimeOverrides[name] = clock.toRealMs(state.Seconds * 1000);
      }
      if (Array.isArray(state.Retry)) {
        retryIntervalOverrides[name] = state.Retry.map((r: any) =>
          clock.toRealMs((r.IntervalSeconds ?? 1) * 1000),
        );
      }
    }
    const engine = newStateMachine(sm.definition);
    this.machines.set(sm.arn, {
      sm,
      engine,
      overrides: clock.virtual ? {} : { waitTimeOverrides, retryIntervalOverrides },
      principal: principalOfRole(sm.roleArn, sm.name),
    });
  }

  private canServe(resource: string, parameters: any): boolean {
    if (LAMBDA_ARN.test(resource)) return this.options.lambda.has(resource);
    if (
      resource === 'arn:aws:states:::lambda:invoke' ||
      resource === 'arn:aws:states:::lambda:invoke.waitForTaskToken'
    ) {
      const fn = parameters?.FunctionName;
      return typeof fn === 'string' && this.options.lambda.has(fn);
    }
    if (/^arn:aws:states:::states:startExecution(\.sync(:2)?)?$/.test(resource)) {
      const target = parameters?.StateMachineArn;
      return typeof target === 'string' && (this.machines.has(target) || target === '__self__');
    }
    return isSupportedSdkResource(resource);
  }

  list(stateMachineArn?: string): LocalExecution[] {
    return [...this.executions.values()].filter(
      (e) => !stateMachineArn || e.stateMachineArn === stateMachineArn,
    );
  }

  describe(executionArn: string): LocalExecution {
    const e = this.executions.get(executionArn);
    if (!e)
      throw new StepFunctionsError('ExecutionDoesNotExist', `Execution does not exist: ${executionArn}`);
    return e;
  }

  /**
   * StartExecution, with the API reference's rules for a name already used
   * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html):
   * "StartExecution is idempotent for STANDARD workflows. For a STANDARD workflow, if you call
   * StartExecution with the same name and input as a running execution, the call succeeds and
   * return the same response as the original request. If the execution is closed or if the
   * input is different, it returns a 400 ExecutionAlreadyExists error. You can reuse names
   * after 90 days."
   */
  start(stateMachineArn: string, input: unknown, name: string = randomUUID()): LocalExecution {
    const machine = this.machines.get(stateMachineArn);
    if (!machine)
      throw new StepFunctionsError(
        'StateMachineDoesNotExist',
        `State machine does not exist: ${stateMachineArn}`,
      );
    if (!/^[A-Za-z0-9-_]{1,80}$/.test(name))
      throw new StepFunctionsError('InvalidName', `Invalid execution name: ${name}`);
    const executionArn = stateMachineArn.replace(':stateMachine:', ':execution:') + `:${name}`;
    const existing = this.executions.get(executionArn);
    const reusable =
      existing?.stopDate !== undefined &&
      this.options.clock.now().getTime() - existing.stopDate.getTime() >= NAME_REUSE_MS;
    if (existing && !reusable) {
      if (JSON.stringify(existing.input) === JSON.stringify(input) && existing.status === 'RUNNING')
        return existing;
      throw new StepFunctionsError('ExecutionAlreadyExists', `Execution already exists: ${executionArn}`);
    }
    const execution: LocalExecution = {
      executionArn,
      stateMachineArn,
      name,
      input,
      status: 'RUNNING',
      startDate: this.options.clock.now(),
      transitions: 0,
      transitionsByState: {},
      enteredAt: {},
      history: [],
    };
    this.executions.set(executionArn, execution);
    const context = {
      Execution: {
        Id: executionArn,
        Name: name,
        StartTime: execution.startDate.toISOString(),
        Input: input as any,
        // The engine does not redrive: every execution runs once.
        RedriveCount: 0,
      },
      // A placeholder: runTask puts the time of the task attempt in its place. (Step Functions
      // gives the time the state was entered, the same for a Retry of it; the engine's is later
      // for a retry, which orders attempts the same way.)
      State: { EnteredTime: ENTERED_TIME_PLACEHOLDER },
      StateMachine: { Id: stateMachineArn, Name: machine.sm.name },
      // A placeholder: runTask puts a fresh token in its place for every attempt of a
      // callback task, as Step Functions issues a new $$.Task.Token per attempt.
      Task: { Token: TOKEN_PLACEHOLDER },
    };
    const handlers = Object.fromEntries(
      taskStates(machine.sm.definition).map(({ name: stateName, state }) => [
        stateName,
        // A task acts as the state machine's role (its SDK integrations and Lambda invocations).
        (taskInput: any) => runAs(machine.principal, () => this.runTask(execution, state, taskInput)),
      ]),
    );
    const run = machine.engine.run(input as any, {
      overrides: { ...machine.overrides, taskResourceLocalHandlers: handlers },
      context,
    });
    void this.follow(execution, run.eventLogs);
    const done = run.result.then(
      (output) => this.finish(execution, 'SUCCEEDED', { output }),
      (err) => {
        if (err instanceof aslLibrary().ExecutionAbortedError) return this.finish(execution, 'ABORTED', {});
        const inner = (err as { cause?: Error }).cause ?? (err as Error);
        const status = (err as Error).name === 'ExecutionTimeoutError' ? 'TIMED_OUT' : 'FAILED';
        return this.finish(execution, status, { error: inner.name, cause: inner.message });
      },
    );
    this.running.set(executionArn, { execution, abort: run.abort, done });
    this.emit(execution);
    return execution;
  }

  private async follow(execution: LocalExecution, events: AsyncGenerator<any>): Promise<void> {
    try {
      for await (const ev of events) {
        if (ev.type === 'StateEntered' && ev.state?.name) {
          execution.currentState = ev.state.name;
          execution.transitions++;
          execution.transitionsByState[ev.state.name] =
            (execution.transitionsByState[ev.state.name] ?? 0) + 1;
          const at = this.options.clock.now();
          execution.enteredAt[ev.state.name] = at;
          execution.history.push({ state: ev.state.name, at });
        }
      }
    } catch {
      // The log ends with the execution; an aborted execution ends it with an error.
    }
  }

  private finish(
    execution: LocalExecution,
    status: ExecutionStatus,
    result: { output?: unknown; error?: string; cause?: string },
  ): void {
    if (execution.status !== 'RUNNING') return;
    execution.status = status;
    execution.stopDate = this.options.clock.now();
    execution.output = result.output;
    execution.error = result.error;
    execution.cause = result.cause;
    execution.currentState = undefined;
    this.running.delete(execution.executionArn);
    for (const [token, pending] of this.tokens) {
      if (pending.executionArn !== execution.executionArn) continue;
      this.options.clock.clearTimer(pending.timer);
      this.tokens.delete(token);
      // A stopped (or timed-out) execution's callback task ends here: the engine's own timer
      // for the task's TimeoutSeconds is cleared with it, and nothing runs after it (the
      // engine checks its abort signal before the next state).
      if (status === 'ABORTED' || status === 'TIMED_OUT') pending.resolve(null);
    }
    this.emit(execution);
    if (this.running.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private emit(execution: LocalExecution): void {
    if (!this.options.onStatusChange) return;
    if (this.dropStatusEvents && execution.status !== 'RUNNING') return;
    this.options.onStatusChange({
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      detail: {
        executionArn: execution.executionArn,
        stateMachineArn: execution.stateMachineArn,
        name: execution.name,
        status: execution.status,
        startDate: execution.startDate.getTime(),
        stopDate: execution.stopDate?.getTime() ?? null,
        input: JSON.stringify(execution.input),
        output: execution.output === undefined ? null : JSON.stringify(execution.output),
      },
    });
  }

  /** StopExecution: the execution ends ABORTED wherever it is. */
  stop(executionArn: string): void {
    const r = this.running.get(executionArn);
    if (!r)
      throw new StepFunctionsError('ExecutionDoesNotExist', `Execution is not running: ${executionArn}`);
    r.abort();
  }

  sendTaskSuccess(token: string, output: string): void {
    const pending = this.takeToken(token);
    pending.resolve(JSON.parse(output));
  }

  sendTaskFailure(token: string, error = 'TaskFailed', cause = ''): void {
    const pending = this.takeToken(token);
    pending.reject(new StepFunctionsError(error, cause));
  }

  private takeToken(token: string): PendingToken {
    const pending = this.tokens.get(token);
    if (!pending) {
      const m = /^local-token:(.+):[0-9a-f-]{36}$/.exec(token);
      const e = m ? this.executions.get(m[1]) : undefined;
      if (!e) throw new StepFunctionsError('InvalidToken', 'Invalid task token');
      throw new StepFunctionsError('TaskTimedOut', 'Task timed out or its execution is closed');
    }
    this.tokens.delete(token);
    return pending;
  }

  /** Resolves when no execution is running. */
  idle(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Resolves when the execution has ended. */
  async wait(executionArn: string): Promise<LocalExecution> {
    const r = this.running.get(executionArn);
    if (r) await r.done;
    return this.describe(executionArn);
  }

  private async runTask(execution: LocalExecution, state: any, input: any): Promise<unknown> {
    const resource: string = state.Resource;
    const { lambda, clock } = this.options;
    input = withToken(input, ENTERED_TIME_PLACEHOLDER, clock.now().toISOString());
    this.options.authorizeTask?.(resource, input);
    if (LAMBDA_ARN.test(resource)) return lambda.invoke(resource, input);
    if (resource === 'arn:aws:states:::lambda:invoke') {
      const payload = await lambda.invoke(input.FunctionName, input.Payload);
      return { Payload: payload, StatusCode: 200, ExecutedVersion: '$LATEST' };
    }
    if (resource === 'arn:aws:states:::lambda:invoke.waitForTaskToken') {
      // Step Functions generates a task token "in the context object when a workflow enters
      // a task state": every attempt (a retry, a loop back to the state) gets its own, and
      // the token of an earlier attempt answers TaskTimedOut ("expired or ... already closed"):
      // https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html
      // https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html
      const token = `local-token:${execution.executionArn}:${randomUUID()}`;
      input = withToken(input, TOKEN_PLACEHOLDER, token);
      const callback = new Promise<unknown>((resolve, reject) => {
        this.tokens.set(token, { executionArn: execution.executionArn, resolve, reject });
      });
      await lambda.invoke(input.FunctionName, input.Payload);
      if (typeof state.TimeoutSeconds !== 'number') return callback;
      // The task's timeout, on the emulated clock.
      let timer: ClockTimer | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = clock.setTimer(() => {
          if (this.tokens.get(token)) this.tokens.delete(token);
          reject(new StepFunctionsError('States.Timeout', 'Task timed out'));
        }, state.TimeoutSeconds * 1000);
      });
      const pending = this.tokens.get(token);
      if (pending) pending.timer = timer;
      try {
        return await Promise.race([callback, timeout]);
      } finally {
        clock.clearTimer(timer);
      }
    }
    const startMatch = /^arn:aws:states:::states:startExecution(\.sync(:2)?)?$/.exec(resource);
    if (startMatch) {
      const childInput = typeof input.Input === 'string' ? JSON.parse(input.Input) : input.Input;
      const child = this.start(input.StateMachineArn, childInput ?? {}, input.Name);
      if (!startMatch[1])
        return { ExecutionArn: child.executionArn, StartDate: child.startDate.toISOString() };
      const ended = await this.wait(child.executionArn);
      if (ended.status !== 'SUCCEEDED') {
        throw new StepFunctionsError(
          'States.TaskFailed',
          JSON.stringify({
            ExecutionArn: ended.executionArn,
            Status: ended.status,
            Error: ended.error,
            Cause: ended.cause,
          }),
        );
      }
      return {
        ExecutionArn: ended.executionArn,
        StateMachineArn: ended.stateMachineArn,
        Name: ended.name,
        Status: ended.status,
        StartDate: ended.startDate.toISOString(),
        StopDate: ended.stopDate?.toISOString(),
        Input: ended.input,
        Output: startMatch[2] ? ended.output : JSON.stringify(ended.output),
      };
    }
    return this.sdk.call(resource, input);
  }
}
