import { AsyncLocalStorage } from 'node:async_hooks';
import { DescribeExecutionCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { acquireSlot } from '../../lambda/acquire-slot';
import { releaseSlot } from '../../lambda/release-slot';
import { handleCleanupEvent, reap } from '../../lambda/semaphore-cleanup';
import {
  beginOperation,
  listWaiters,
  readLock,
  recordOperation,
  type LockRef,
} from '../../lambda/shared/semaphore';
import { arn, type SemaphoreFixture } from './semaphore-fixture';

/**
 * A model world for the semaphore's handlers, run under fast-check's scheduler:
 * every DynamoDB call (real, on dynalite), every Step Functions call and every
 * Service Catalog call waits at a gate that the scheduler opens in the order it
 * picks. Executions, task-token timeouts, aborts, redrives, cleanup events (early,
 * late, twice), reaper runs and the Control Tower operations themselves are actors
 * that start at a gate too, so the scheduler interleaves them all.
 *
 * Control Tower is modelled here, apart from the semaphore: it counts the
 * operations in flight, whoever started them.
 */

export interface Scenario {
  limit: number;
  executions: {
    /** Token timeouts fired at the scheduler's pick. */
    timeouts: number;
    abort: boolean;
    /** Scheduler steps the abort (and its cleanup events) waits before it may happen: aborts come at any phase. */
    abortDelay: number;
    /** Redriven after its abort (same ARN, RUNNING again). */
    redrive: boolean;
    /** Status change events delivered for it (0: lost; 2: duplicated); each may come early or late. */
    cleanupEvents: number;
  }[];
  /** Reaper runs at the scheduler's pick, each after some steps (a last one always runs at the end). */
  reapers: number[];
  /** Per SendTaskSuccess call, in order: throttled (past the SDK's retries) or not. */
  throttledSends: boolean[];
  /** Scheduler steps a Control Tower operation lasts (it ends at the scheduler's pick after them). */
  operationSteps: number;
}

export const scenarioArbitrary: fc.Arbitrary<Scenario> = fc.record({
  limit: fc.integer({ min: 1, max: 2 }),
  executions: fc.array(
    fc.record({
      timeouts: fc.integer({ min: 0, max: 2 }),
      abort: fc.boolean(),
      abortDelay: fc.integer({ min: 0, max: 40 }),
      redrive: fc.boolean(),
      cleanupEvents: fc.integer({ min: 0, max: 2 }),
    }),
    { minLength: 3, maxLength: 5 },
  ),
  reapers: fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 2 }),
  throttledSends: fc.array(fc.boolean(), { maxLength: 6 }),
  operationSteps: fc.integer({ min: 1, max: 30 }),
});

type Status = 'RUNNING' | 'SUCCEEDED' | 'ABORTED';
type TokenEnd = 'success' | 'timeout' | 'aborted';

interface Execution {
  name: string;
  arn: string;
  queuedAt: string;
  status: Status;
  phase: 'acquire' | 'operate' | 'done';
  attempt: number;
  current?: string;
  op?: Operation;
  redriven: boolean;
  /** $$.Execution.RedriveCount of the current run. */
  redriveCount: number;
  /** Bumped by an abort: a program of an earlier run stops at its next state. */
  run: number;
  /** The program of the latest run (its Lambda invocations may outlive an abort). */
  program?: Promise<void>;
}

interface Token {
  execution: Execution;
  state: 'waiting' | 'done' | 'dead';
  end(how: TokenEnd): void;
}

interface Operation {
  recordId: string;
  status: 'IN_PROGRESS' | 'SUCCEEDED';
  done: Promise<void>;
}

/** DynamoDB commands that change nothing (every other command may write the lock item). */
const READS = new Set(['GetCommand', 'QueryCommand', 'ScanCommand', 'BatchGetCommand']);

function named(name: string, message = name): Error {
  return Object.assign(new Error(message), { name });
}

/**
 * The actor whose step runs (for the history). One for the module: Node keeps every
 * AsyncLocalStorage that has been used until it is disabled, and each one it keeps adds
 * to the cost of every promise created after (a new one per run slowed each later run).
 */
const actor = new AsyncLocalStorage<string>();

export interface RunStats {
  steps: number;
  /** Aborts that hit an execution while its Control Tower operation ran. */
  abortsDuringOperation: number;
  peakHolders: number;
  peakOperations: number;
}

/** Runs one scenario under one schedule; throws on the first invariant that breaks. */
export async function runScenario(
  s: fc.Scheduler,
  fx: SemaphoreFixture,
  lockName: string,
  scenario: Scenario,
): Promise<RunStats> {
  const { limit } = scenario;
  const ref: LockRef = { table: fx.table, lockName };
  const stats: RunStats = { steps: 0, abortsDuringOperation: 0, peakHolders: 0, peakOperations: 0 };

  // ---- the actors' bookkeeping: quiescence = every live actor waits at a gate or on a token
  let live = 0;
  let gated = 0;
  let parked = 0;
  let free = false;
  const failures: Error[] = [];
  const history: string[] = [];
  const note = (what: string) => history.push(`${actor.getStore() ?? 'test'}: ${what}`);
  const gate = async (label: string) => {
    if (free) return;
    gated++;
    try {
      await s.schedule(Promise.resolve(label), label);
    } finally {
      gated--;
    }
    note(label);
  };
  const park = async <T>(p: Promise<T>): Promise<T> => {
    parked++;
    try {
      return await p;
    } finally {
      parked--;
    }
  };
  const spawn = (label: string, body: () => Promise<void>) => {
    live++;
    void actor.run(label, async () => {
      try {
        await gate('start');
        await body();
      } catch (err) {
        failures.push(err as Error);
      } finally {
        live--;
      }
    });
  };
  // DynamoDB calls in flight on dynalite: settle() waits for them instead of spinning
  // setImmediate rounds through each call's real I/O.
  let ddbInFlight = 0;
  let ddbIdle: (() => void)[] = [];
  // Writes since the last check: the lock item changes only through a write.
  let writes = 0;
  const settle = async () => {
    for (let stable = 0; stable < 3;) {
      if (ddbInFlight > 0) {
        await new Promise<void>((r) => ddbIdle.push(r));
        stable = 0;
        continue;
      }
      await new Promise((r) => setImmediate(r));
      const quiet = live === gated + parked && (free || s.count() === gated);
      stable = quiet ? stable + 1 : 0;
    }
  };

  // ---- the world
  const ddb = {
    send: async (command: { constructor: { name: string } }) => {
      const input = (command as unknown as { input: Record<string, unknown> }).input;
      await gate(
        `ddb ${command.constructor.name} ${JSON.stringify(input.UpdateExpression ?? input.Key ?? (input.Item as { token?: string } | undefined)?.token ?? '')} ${JSON.stringify(input.ExpressionAttributeNames ?? '')}`,
      );
      ddbInFlight++;
      if (!READS.has(command.constructor.name)) writes++;
      try {
        const out = await fx.ddb.send(command as never);
        note(`  ok`);
        return out;
      } catch (err) {
        note(`  ${(err as Error).name}`);
        throw err;
      } finally {
        if (--ddbInFlight === 0) {
          const waiting = ddbIdle;
          ddbIdle = [];
          for (const wake of waiting) wake();
        }
      }
    },
  } as unknown as DynamoDBDocumentClient;

  const executions: Execution[] = scenario.executions.map((_, i) => ({
    name: `e${i}`,
    arn: arn(`e${i}-${lockName}`),
    queuedAt: `2024-01-01T00:00:0${i}.000Z`,
    status: 'RUNNING',
    phase: 'acquire',
    attempt: 0,
    redriven: false,
    redriveCount: 0,
    run: 0,
  }));
  const byArn = new Map(executions.map((e) => [e.arn, e]));
  const tokens = new Map<string, Token>();
  let sends = 0;
  const sfn = {
    send: async (command: unknown) => {
      await gate(
        `sfn ${(command as object).constructor.name} ${JSON.stringify((command as { input: unknown }).input)}`,
      );
      if (command instanceof SendTaskSuccessCommand) {
        if (!free && scenario.throttledSends[sends++]) throw named('ThrottlingException', 'Rate exceeded');
        const t = tokens.get(command.input.taskToken ?? '');
        if (!t) throw named('InvalidToken');
        if (t.state !== 'waiting') throw named('TaskTimedOut');
        t.state = 'done';
        t.end('success');
        return {};
      }
      if (command instanceof DescribeExecutionCommand) {
        const e = byArn.get(command.input.executionArn ?? '');
        if (!e) throw named('ExecutionDoesNotExist');
        return { status: e.status };
      }
      throw new Error(`unexpected ${String(command)}`);
    },
  } as unknown as SFNClient;

  // The model's clock (for $$.State.EnteredTime): one second per tick.
  let clock = 0;
  const tick = () => new Date(Date.UTC(2024, 0, 1, 1) + ++clock * 1000).toISOString();

  const operations: Operation[] = [];
  const inFlight = () => operations.filter((o) => o.status === 'IN_PROGRESS').length;
  const recordStatus = async (recordId: string) => {
    await gate('sc DescribeRecord');
    return operations.find((o) => o.recordId === recordId)?.status;
  };
  const startOperation = (e: Execution): Operation => {
    let finish!: () => void;
    const op: Operation = {
      recordId: `rec-${e.name}`,
      status: 'IN_PROGRESS',
      done: new Promise<void>((r) => (finish = r)),
    };
    operations.push(op);
    stats.peakOperations = Math.max(stats.peakOperations, inFlight());
    if (inFlight() > limit) {
      throw new Error(`${inFlight()} Control Tower operations in flight, limit ${limit}`);
    }
    spawn(`operation of ${e.name} ends`, async () => {
      for (let n = 1; n < scenario.operationSteps; n++) await gate('runs');
      op.status = 'SUCCEEDED';
      finish();
    });
    return op;
  };

  const killToken = (e: Execution, how: 'timeout' | 'aborted', token = e.current) => {
    const t = token ? tokens.get(token) : undefined;
    if (t?.state === 'waiting') {
      t.state = 'dead';
      t.end(how);
    }
  };

  // The execution's path through the states: Acquire slot (a callback task that
  // loops on its timeout) -> Provision account (marks the slot, starts the
  // operation, records it; SlotLost, raised before any Service Catalog call, goes
  // back to Acquire slot) -> wait for the operation -> Release slot.
  const runExecution = async (e: Execution, previous?: Promise<void>): Promise<void> => {
    const run = e.run;
    const redriveCount = e.redriveCount;
    const stopped = () => e.status !== 'RUNNING' || e.run !== run;
    // Provision account: the Lambda runs to its end even if the execution is aborted meanwhile.
    const provision = async (): Promise<'started' | 'slot lost'> => {
      if (!(await beginOperation(ddb, { ...ref, holder: e.arn }))) return 'slot lost';
      e.op = startOperation(e);
      await recordOperation(ddb, { ...ref, holder: e.arn, recordId: e.op.recordId });
      return 'started';
    };
    if (e.phase === 'operate' && !e.op) {
      // Redriven in Provision account while the aborted run's invocation may still run:
      // the step runs again (the same idempotency token gets the same record).
      await park(previous ?? Promise.resolve());
      if (stopped()) return;
      if (!e.op && (await provision()) === 'slot lost') {
        if (stopped()) return;
        e.phase = 'acquire';
      }
    }
    while (e.phase === 'acquire') {
      // $$.State.EnteredTime: a new one when the timeout loops back to Acquire; a Retry keeps it.
      let enteredTime = tick();
      for (;;) {
        if (stopped()) return;
        const token = `${e.name}#${++e.attempt}`;
        const ended = new Promise<TokenEnd>((resolve) =>
          tokens.set(token, { execution: e, state: 'waiting', end: resolve }),
        );
        e.current = token;
        try {
          await acquireSlot(ddb, sfn, fx.table, {
            lockName,
            limit,
            holder: e.arn,
            queuedAt: e.queuedAt,
            taskToken: token,
            attempt: { redriveCount, enteredTime },
          });
        } catch {
          // The task fails (throttled): Step Functions retries it, with a new token.
          killToken(e, 'timeout', token);
          await ended;
          continue;
        }
        const how = await park(ended);
        if (how === 'success') break;
        if (how === 'aborted') return;
        enteredTime = tick();
      }
      if (stopped()) return;
      e.phase = 'operate';
      if ((await provision()) === 'slot lost') {
        // An aborted run's late invocation: its result goes nowhere.
        if (stopped()) return;
        throw new Error(`${e.name} was woken without a slot`);
      }
    }
    if (e.phase === 'operate') {
      if (stopped() || !e.op) return;
      await park(e.op.done);
      if (stopped()) return;
      await releaseSlot(ddb, sfn, fx.table, { lockName, limit, holder: e.arn });
      e.phase = 'done';
      e.status = 'SUCCEEDED';
    }
  };

  const cleanupEvent = (e: Execution) => ({
    source: 'aws.states',
    'detail-type': 'Step Functions Execution Status Change',
    detail: { executionArn: e.arn, status: 'ABORTED' },
  });
  const config = { ...ref, limit };

  // ---- the actors
  scenario.executions.forEach((plan, i) => {
    const e = executions[i];
    spawn(`execution ${e.name}`, async () => {
      // Aborted (and maybe redriven) before it took its first step: this run is over.
      if (e.run === 0) await (e.program = runExecution(e));
    });
    for (let t = 0; t < plan.timeouts; t++) {
      spawn(`timeout of ${e.name}'s token`, async () => killToken(e, 'timeout'));
    }
    if (plan.abort) {
      spawn(`abort ${e.name}`, async () => {
        for (let n = 0; n < plan.abortDelay; n++) await gate('waits');
        if (e.status !== 'RUNNING') return;
        e.status = 'ABORTED';
        if (e.op?.status === 'IN_PROGRESS') stats.abortsDuringOperation++;
        e.run++;
        killToken(e, 'aborted');
        if (plan.redrive) {
          spawn(`redrive ${e.name}`, async () => {
            // The redrive may come while a Lambda invocation of the aborted run still runs
            // (e.g. its Acquire registers its dead token after the redriven run registered).
            if (e.status !== 'ABORTED' || e.redriven) return;
            e.redriven = true;
            e.redriveCount++;
            e.status = 'RUNNING';
            const previous = e.program;
            await (e.program = runExecution(e, previous));
          });
        }
      });
    }
    for (let c = 0; c < plan.cleanupEvents; c++) {
      spawn(`cleanup event for ${e.name}`, async () => {
        for (let n = 0; n < plan.abortDelay; n++) await gate('waits');
        await handleCleanupEvent(ddb, sfn, config, cleanupEvent(e), undefined, recordStatus);
      });
    }
  });
  for (const delay of scenario.reapers) {
    spawn('reaper', async () => {
      for (let n = 0; n < delay; n++) await gate('waits');
      await reap(ddb, sfn, config, undefined, recordStatus);
    });
  }

  const fail = (err: Error): never => {
    err.message += `\n--- history (last 80) ---\n${history.slice(-80).join('\n')}`;
    throw err;
  };
  const checkStep = async (always = false) => {
    if (failures.length) fail(failures[0]);
    if (inFlight() > limit) throw new Error(`${inFlight()} operations in flight, limit ${limit}`);
    if (!always && writes === 0) return;
    writes = 0;
    const lock = await readLock(fx.ddb, ref);
    const holders = Object.keys(lock.slots).length;
    stats.peakHolders = Math.max(stats.peakHolders, holders);
    if (lock.count !== holders) throw new Error(`count ${lock.count} but ${holders} holders`);
    if (holders > limit) throw new Error(`${holders} holders, limit ${limit}`);
  };

  // ---- run: one scheduled step at a time, the invariants after each
  await settle();
  while (s.count() > 0) {
    await s.waitNext(1);
    stats.steps++;
    await settle();
    await checkStep();
  }

  // ---- the end: every actor waits on a token or an operation, or is done. One reaper
  // period later (the reaper runs, everything else goes on freely), nothing may be left.
  free = true;
  await reap(fx.ddb, sfn, config, undefined, async (id) => operations.find((o) => o.recordId === id)?.status);
  await settle();
  await checkStep(true);

  const lock = await readLock(fx.ddb, ref);
  const waiters = await listWaiters(fx.ddb, ref);
  for (const [holder, slot] of Object.entries(lock.slots)) {
    const e = byArn.get(holder);
    const opRuns = e?.op?.status === 'IN_PROGRESS';
    if (e?.status !== 'RUNNING' && !opRuns) {
      fail(
        new Error(
          `${e?.name ?? holder} (${e?.status}) still holds a slot after a reaper period: ${JSON.stringify(slot)}`,
        ),
      );
    }
  }
  for (const e of executions) {
    if (e.status !== 'RUNNING') continue;
    const t = e.current ? tokens.get(e.current) : undefined;
    const queued = waiters.some((w) => w.holder === e.arn && w.token === e.current);
    if (t?.state === 'waiting' && !queued) {
      fail(new Error(`${e.name} waits on a token nobody will complete (not queued)`));
    }
    if (t?.state === 'waiting') {
      fail(new Error(`${e.name} is still queued with free slots after a reaper period`));
    }
    fail(new Error(`${e.name} never finished (phase ${e.phase})`));
  }
  if (lock.count !== 0) fail(new Error(`count ${lock.count} at the end`));
  if (waiters.length) fail(new Error(`${waiters.length} waiters left at the end`));
  return stats;
}
