import { STEP } from '../lib/workflow/step-names';
import type { ControlTowerOperation } from '../local/emulator';
import type { LocalExecution } from '../local/engine/step-functions';
import { ratio, round, spread, type Spread } from './stats';

/**
 * The figures of one factory run, computed from what the local engine and the
 * emulated landing zone recorded: executions (with every state entry), Control Tower
 * operations (start and end, emulated ms) and the success notifications.
 */
export interface FactoryRunRecord {
  executions: LocalExecution[];
  /** The factory's Control Tower operations (EXTERNAL ones left out). */
  operations: ControlTowerOperation[];
  /** The requests' success notifications (not the customizations results): request and time (emulated ms). */
  successNotifications: { requestId: string; at: number }[];
  /** Emulated ms when the first request was submitted. */
  submittedAt: number;
  limit: number;
  createSeconds: number;
  makespanSeconds: number;
  boundSeconds: number;
}

export interface StateDuration {
  state: string;
  median: number | null;
  max: number | null;
}

export interface FactoryFigures {
  throughput: {
    makespanSeconds: number;
    boundSeconds: number;
    ratio: number | null;
    /** First submission to the last execution's start (the submission itself costs time). */
    submissionSpreadSeconds: number;
    /** First submission to the first ProvisionProduct. */
    leadSeconds: number;
    /** First ProvisionProduct to the last Control Tower completion. */
    controlTowerSpanSeconds: number;
    /** ceil(N/L) x T: the span if every slot were busy all the time. */
    controlTowerSpanBoundSeconds: number;
    /** Last Control Tower completion to the last execution's end. */
    tailSeconds: number;
    /** Busy slot-seconds over L x the Control Tower span. */
    slotUtilization: number | null;
    peakConcurrentOperations: number;
  };
  handoff: {
    /** Control Tower completion to the holder's 'Release slot' (the poll loop noticing). */
    completionToRelease: Spread;
    /** k-th release to the (k+L)-th ProvisionProduct: the slot handed to the next waiter. */
    releaseToNextCall: Spread;
    /** k-th Control Tower completion to the (k+L)-th ProvisionProduct: how long a Control Tower slot stood idle. */
    completionToNextCall: Spread;
  };
  overhead: {
    /** Control Tower completion to the success notification. */
    completionToNotification: Spread;
    /** Time per state after the Control Tower operation, slowest first. */
    afterControlTower: StateDuration[];
    /** Execution start to its ProvisionProduct, for the first L accounts (no waiting). */
    firstRoundStartToCall: Spread;
    /** First 'Acquire slot' entry to 'Provision account', per account. */
    semaphoreWait: Spread;
  };
  transitions: {
    total: number;
    perAccount: { total: Spread; workflow: Spread; semaphoreWaiting: Spread; controlTowerPolling: Spread };
    /** Share of all transitions spent in each part. */
    share: { workflow: number | null; semaphoreWaiting: number | null; controlTowerPolling: number | null };
  };
  accounts: number;
}

/** The Acquire tasks of the semaphores ('Acquire slot', 'Acquire customizations slot'). */
const ACQUIRE_STATE = /^Acquire\b/;
const POLL_STATES: string[] = [STEP.WAIT_FOR_CONTROL_TOWER, STEP.PROVISIONING_FINISHED];

function emailOf(e: LocalExecution): string | undefined {
  const email = (e.input as { request?: { accountEmail?: string } }).request?.accountEmail;
  return email?.toLowerCase();
}

function requestIdOf(e: LocalExecution): string | undefined {
  return (e.input as { requestId?: string }).requestId;
}

function firstEntry(e: LocalExecution, state: string): number | undefined {
  return e.history.find((h) => h.state === state)?.at.getTime();
}

const seconds = (ms: number) => ms / 1000;

export function factoryFigures(run: FactoryRunRecord): FactoryFigures {
  const L = run.limit;
  const ops = [...run.operations].sort((a, b) => a.start - b.start);
  const opByEmail = new Map(ops.map((o) => [o.email.toLowerCase(), o]));
  const provisioned = run.executions
    .map((e) => ({ e, op: opByEmail.get(emailOf(e) ?? '') }))
    .filter((x): x is { e: LocalExecution; op: ControlTowerOperation } => x.op !== undefined);

  // Handoff: the k-th freed slot goes to the (k+L)-th Control Tower call.
  const starts = ops.map((o) => o.start);
  const ends = ops.map((o) => o.end).sort((a, b) => a - b);
  const releases = provisioned
    .map(({ e }) => firstEntry(e, STEP.RELEASE_SLOT))
    .filter((t): t is number => t !== undefined)
    .sort((a, b) => a - b);
  const releaseToNext: number[] = [];
  const completionToNext: number[] = [];
  for (let i = L; i < starts.length; i++) {
    const k = i - L;
    if (k < releases.length) releaseToNext.push(seconds(starts[i] - releases[k]));
    if (k < ends.length) completionToNext.push(seconds(starts[i] - ends[k]));
  }
  const completionToRelease = provisioned
    .map(({ e, op }) => {
      const r = firstEntry(e, STEP.RELEASE_SLOT);
      return r === undefined ? NaN : seconds(r - op.end);
    })
    .filter(Number.isFinite);

  // Overhead after Control Tower.
  // The first success notification of each request.
  const notifiedAt = new Map<string, number>();
  for (const n of run.successNotifications) {
    if (!notifiedAt.has(n.requestId) || n.at < notifiedAt.get(n.requestId)!)
      notifiedAt.set(n.requestId, n.at);
  }
  const toNotification = provisioned
    .map(({ e, op }) => {
      const at = notifiedAt.get(requestIdOf(e) ?? '');
      return at === undefined ? NaN : seconds(at - op.end);
    })
    .filter(Number.isFinite);
  const perState = new Map<string, number[]>();
  const add = (state: string, s: number) => perState.set(state, [...(perState.get(state) ?? []), s]);
  for (const { e, op } of provisioned) {
    const h = e.history;
    const releaseIndex = h.findIndex((x) => x.state === STEP.RELEASE_SLOT);
    if (releaseIndex < 0) continue;
    add('(Control Tower done, poll not yet)', seconds(h[releaseIndex].at.getTime() - op.end));
    for (let i = releaseIndex; i < h.length; i++) {
      const next = i + 1 < h.length ? h[i + 1].at.getTime() : e.stopDate?.getTime();
      if (next !== undefined) add(h[i].state, seconds(next - h[i].at.getTime()));
    }
  }
  const afterControlTower = [...perState.entries()]
    .map(([state, values]) => {
      const s = spread(values);
      return { state, median: s.median, max: s.max };
    })
    .sort((a, b) => (b.median ?? 0) - (a.median ?? 0));

  const firstRound = new Set(ops.slice(0, L).map((o) => o.recordId));
  const firstRoundStartToCall = provisioned
    .filter(({ op }) => firstRound.has(op.recordId))
    .map(({ e, op }) => seconds(op.start - e.startDate.getTime()));
  const semaphoreWait = provisioned
    .map(({ e }) => {
      const a = firstEntry(e, STEP.ACQUIRE_SLOT);
      const p = firstEntry(e, STEP.PROVISION_ACCOUNT);
      return a === undefined || p === undefined ? NaN : seconds(p - a);
    })
    .filter(Number.isFinite);

  // Transitions per account.
  const parts = run.executions.map((e) => {
    const by = e.transitionsByState;
    // Every semaphore's Acquire task (Control Tower slot, customizations slot): entries after the first.
    const semaphoreWaiting = Object.entries(by)
      .filter(([state]) => ACQUIRE_STATE.test(state))
      .reduce((a, [, count]) => a + Math.max(0, count - 1), 0);
    const controlTowerPolling = POLL_STATES.reduce((a, s) => a + (by[s] ?? 0), 0);
    return {
      total: e.transitions,
      semaphoreWaiting,
      controlTowerPolling,
      workflow: e.transitions - semaphoreWaiting - controlTowerPolling,
    };
  });
  const sum = (k: keyof (typeof parts)[number]) => parts.reduce((a, p) => a + p[k], 0);
  const total = sum('total');

  const lastEnd = Math.max(...run.executions.map((e) => e.stopDate?.getTime() ?? run.submittedAt));
  const lastStart = Math.max(...run.executions.map((e) => e.startDate.getTime()));
  const span = ops.length ? Math.max(...ops.map((o) => o.end)) - ops[0].start : 0;
  const busy = ops.reduce((a, o) => a + (o.end - o.start), 0);
  const peak = peakConcurrent(ops);

  return {
    throughput: {
      makespanSeconds: run.makespanSeconds,
      boundSeconds: run.boundSeconds,
      ratio: ratio(run.makespanSeconds, run.boundSeconds, 3),
      submissionSpreadSeconds: round(seconds(lastStart - run.submittedAt)),
      leadSeconds: ops.length ? round(seconds(ops[0].start - run.submittedAt)) : 0,
      controlTowerSpanSeconds: round(seconds(span)),
      controlTowerSpanBoundSeconds: Math.ceil(ops.length / L) * run.createSeconds,
      tailSeconds: ops.length ? round(seconds(lastEnd - Math.max(...ops.map((o) => o.end)))) : 0,
      slotUtilization: ratio(busy, L * span, 3),
      peakConcurrentOperations: peak,
    },
    handoff: {
      completionToRelease: spread(completionToRelease),
      releaseToNextCall: spread(releaseToNext),
      completionToNextCall: spread(completionToNext),
    },
    overhead: {
      completionToNotification: spread(toNotification),
      afterControlTower,
      firstRoundStartToCall: spread(firstRoundStartToCall),
      semaphoreWait: spread(semaphoreWait),
    },
    transitions: {
      total,
      perAccount: {
        total: spread(parts.map((p) => p.total)),
        workflow: spread(parts.map((p) => p.workflow)),
        semaphoreWaiting: spread(parts.map((p) => p.semaphoreWaiting)),
        controlTowerPolling: spread(parts.map((p) => p.controlTowerPolling)),
      },
      share: {
        workflow: ratio(sum('workflow'), total, 3),
        semaphoreWaiting: ratio(sum('semaphoreWaiting'), total, 3),
        controlTowerPolling: ratio(sum('controlTowerPolling'), total, 3),
      },
    },
    accounts: provisioned.length,
  };
}

/** The most operations in flight at once (an end frees its slot before a start at the same instant). */
export function peakConcurrent(ops: readonly { start: number; end: number }[]): number {
  const events: [number, number][] = [];
  for (const o of ops) events.push([o.start, 1], [o.end, -1]);
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let current = 0;
  let peak = 0;
  for (const [, d] of events) {
    current += d;
    peak = Math.max(peak, current);
  }
  return peak;
}
