import fc from 'fast-check';
import { runScenario, scenarioArbitrary, type RunStats } from './semaphore-interleavings';
import { SemaphoreFixture, startSemaphoreFixture } from './semaphore-fixture';

/**
 * The semaphore under every interleaving fast-check's scheduler picks: acquire,
 * registration, wake-up, token timeout, release, cleanup events (early, late,
 * duplicated, lost), reaper runs, aborts and redrives, on the real handler code
 * and dynalite. After every step: holders <= limit and Control Tower operations
 * in flight <= limit; at the end, one reaper period later: every waiter served,
 * no slot left to an ended execution without an operation in flight.
 *
 * INTERLEAVING_RUNS sets the number of runs (default 30, about a minute here); each run is one
 * scenario under one schedule. The count is printed.
 */

const RUNS = Number(process.env.INTERLEAVING_RUNS ?? 30);
/**
 * The same 30 schedules on every run, so CI is repeatable; INTERLEAVING_SEED=random (or a
 * number) explores others. A failing seed found that way becomes a regression below.
 */
const SEED =
  process.env.INTERLEAVING_SEED === 'random' ? undefined : Number(process.env.INTERLEAVING_SEED ?? 20261201);

let fx: SemaphoreFixture;
let lock = 0;
beforeAll(async () => {
  fx = await startSemaphoreFixture();
});
afterAll(async () => {
  await fx.close();
});

const property = (totals: {
  runs: number;
  steps: number;
  abortsDuringOperation: number;
  peakHolders: number;
  peakOperations: number;
}) =>
  fc.asyncProperty(fc.scheduler(), scenarioArbitrary, async (s, scenario) => {
    const stats: RunStats = await runScenario(s, fx, `lock-${++lock}`, scenario);
    totals.runs++;
    totals.steps += stats.steps;
    totals.abortsDuringOperation += stats.abortsDuringOperation;
    totals.peakHolders = Math.max(totals.peakHolders, stats.peakHolders);
    totals.peakOperations = Math.max(totals.peakOperations, stats.peakOperations);
  });

test(`the limit holds and nothing is stranded under ${RUNS} random interleavings`, async () => {
  const totals = { runs: 0, steps: 0, abortsDuringOperation: 0, peakHolders: 0, peakOperations: 0 };
  await fc.assert(property(totals), { numRuns: RUNS, endOnFailure: true, seed: SEED });
  console.log(
    `semaphore interleavings: ${totals.runs} runs (one schedule each), ${totals.steps} scheduled steps, ` +
      `${totals.abortsDuringOperation} aborts during an operation, ` +
      `peak holders ${totals.peakHolders}, peak Control Tower operations ${totals.peakOperations}`,
  );
  expect(totals.runs).toBe(RUNS);
}, 600_000);

/**
 * Seeds that broke an invariant on the way, replayed (each found by the run above):
 * - -810329647 / path 4: "e0 was woken without a slot". A cleanup (event or reaper)
 *   asked DescribeExecution before e0 was redriven and freed the slot after the
 *   redriven run had been handed it. Fixed: the cleanup reads the slot, then asks,
 *   then frees only an unchanged slot; a re-entering execution confirms its slot.
 * - 611244906 / path 50: "e1 waits on a token nobody will complete (not queued)". e1 was
 *   aborted while its Acquire invocation ran and redriven at once; the redriven run
 *   registered (token e1#3), then the aborted run's invocation registered its dead token
 *   (e1#2) over it, same key: the wake-up went to e1#2 and e1#3 waited until its timeout.
 *   Fixed: registrations and confirmations carry the task attempt
 *   ($$.Execution.RedriveCount, $$.State.EnteredTime) and never overwrite a later one's.
 * - 711722932 / path 3: "3 Control Tower operations in flight, limit 2". Two wakers served
 *   e2's waiter; the re-entry completed its token first and e2 started its operation, then
 *   was aborted. The other waker, finding the token gone and e2 ended, gave the slot back
 *   and the next waiter started a third operation. Fixed: a waker never gives back a slot
 *   marked with an operation; only the cleanup and the reaper free it, once the record ends.
 * - -1843802682 / path 25: "e2 was woken without a slot", a fault of the model: e2 was
 *   aborted after its wake-up, while Provision account ran; the reaper freed the unmarked
 *   slot (right), and the aborted run's invocation then failed to mark it (right: SlotLost,
 *   and its result goes nowhere). The model now runs the workflow's path: a late invocation
 *   of an aborted run is discarded, and a redriven run re-runs Provision account and follows
 *   SlotLost back to Acquire slot.
 */
test.each([
  [-810329647, '4'],
  [611244906, '50'],
  [711722932, '3'],
  [-1843802682, '25'],
])('regression: seed %i path %s', async (seed, path) => {
  const totals = { runs: 0, steps: 0, abortsDuringOperation: 0, peakHolders: 0, peakOperations: 0 };
  await fc.assert(property(totals), { seed, path, numRuns: 1, endOnFailure: true });
  expect(totals.runs).toBe(1);
});
