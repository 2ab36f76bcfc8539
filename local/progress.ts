import { APPROVAL_STEP } from '../lib/workflow/approval';
import { STEP } from '../lib/workflow/step-names';
import type { ExecutionRecord } from './emulator';
import type { LocalExecution } from './engine';

/**
 * What a person watching `npm start` wants to know about each request: where it is in
 * the pipeline. Derived from the execution's current state, so it follows the state
 * machine as synthesized.
 */
export type Phase =
  | 'queued'
  | 'validating'
  | 'waiting for approval'
  | 'waiting for a slot'
  | 'provisioning'
  | 'setting up'
  | 'customizing'
  | 'notifying'
  | 'failing'
  | 'removing'
  | 'done'
  | 'not approved'
  | 'failed'
  | 'aborted';

/**
 * The states that open a phase. Every other state is in the phase of the state that
 * leads to it (Next, a Choice's branches), so a step added to a phase (an account setup
 * descriptor, say) needs no entry here; a state reached only through a Catch is
 * 'failing'.
 */
const PHASE_ANCHORS: Record<string, Phase> = {
  [STEP.VALIDATE_REQUEST]: 'validating',
  // The route after the approval gate is validation's, whichever way it is reached.
  [STEP.CONTROL_TOWER_OPERATION]: 'validating',
  [APPROVAL_STEP.WAIT_FOR_APPROVAL]: 'waiting for approval',
  [APPROVAL_STEP.NOTIFY_NOT_APPROVED]: 'notifying',
  [STEP.ACQUIRE_SLOT]: 'waiting for a slot',
  [STEP.PROVISION_ACCOUNT]: 'provisioning',
  [STEP.FETCH_ACCOUNT_ID]: 'setting up',
  [STEP.PROVISIONING_CUSTOMIZATIONS]: 'customizing',
  [STEP.RELEASE_CUSTOMIZATIONS_SLOT_AFTER_FAILURE]: 'failing',
  [STEP.NOTIFY_SUCCESS]: 'notifying',
  [STEP.REMOVE_FROM_MANAGEMENT]: 'removing',
  [STEP.NOTIFY_REMOVED]: 'notifying',
};

interface StateGraph {
  StartAt: string;
  States: Record<
    string,
    { Next?: string; Default?: string; Choices?: { Next: string }[]; Catch?: { Next: string }[] }
  >;
}

/** The phase of each top-level state of the provisioning state machine, from its definition. */
export function phasesOf(definition: StateGraph): Map<string, Phase> {
  const phases = new Map<string, Phase>();
  const visit = (start: string, phase: Phase) => {
    const stack: [string, Phase][] = [[start, phase]];
    while (stack.length) {
      const [name, inherited] = stack.pop()!;
      const state = definition.States[name];
      if (!state || phases.has(name)) continue;
      const own = PHASE_ANCHORS[name] ?? inherited;
      phases.set(name, own);
      const next = [state.Next, state.Default, ...(state.Choices ?? []).map((c) => c.Next)];
      for (const n of next) if (n) stack.push([n, own]);
    }
  };
  visit(definition.StartAt, 'validating');
  for (const state of Object.values(definition.States)) {
    for (const c of state.Catch ?? []) visit(c.Next, 'failing');
  }
  return phases;
}

export function phaseOf(execution: LocalExecution | undefined, phases?: Map<string, Phase>): Phase {
  if (!execution) return 'queued';
  if (execution.status === 'SUCCEEDED') {
    // Rejected, expired or superseded while waiting for approval: it ended changing nothing.
    const notApproved = execution.history.some((h) => h.state === APPROVAL_STEP.NOT_APPROVED);
    return notApproved ? 'not approved' : 'done';
  }
  if (execution.status === 'ABORTED') return 'aborted';
  if (execution.status !== 'RUNNING') return 'failed';
  const state = execution.currentState;
  if (!state) return 'queued';
  return phases?.get(state) ?? PHASE_ANCHORS[state] ?? 'failing';
}

export interface RequestLine {
  requestId: string;
  label: string;
  phase: Phase;
  detail: string;
}

/** The latest execution of each request (an edit starts a newer one). */
export function latestByRequest(executions: LocalExecution[]): Map<string, LocalExecution> {
  const latest = new Map<string, LocalExecution>();
  for (const e of executions) {
    const id = (e.input as { requestId?: string })?.requestId;
    if (!id) continue;
    const prev = latest.get(id);
    if (!prev || prev.startDate.getTime() <= e.startDate.getTime()) latest.set(id, e);
  }
  return latest;
}

export function describeLine(
  requestId: string,
  label: string,
  execution: LocalExecution | undefined,
  phases?: Map<string, Phase>,
): RequestLine {
  const phase = phaseOf(execution, phases);
  let detail = '';
  if (execution && phase === 'done') {
    const out = execution.output as
      { validation?: { operation?: string }; account?: { accountId?: string } } | undefined;
    detail = [out?.validation?.operation, out?.account?.accountId].filter(Boolean).join(' ');
  } else if (execution && (phase === 'failed' || phase === 'aborted')) {
    detail = execution.error ?? phase;
  } else if (execution?.currentState) {
    detail = execution.currentState;
  }
  return { requestId, label, phase, detail };
}

/** An account pipeline execution: its running stage, or how it ended (`FAILED at Account`). */
export function customizationsDetail(run: ExecutionRecord | undefined): string | undefined {
  if (!run) return undefined;
  if (run.status === 'InProgress') {
    const stage = run.stages.find((s) => s.status === 'InProgress');
    return stage ? `${stage.name} running` : 'running';
  }
  const failed = run.stages.find((s) => s.status === 'Failed');
  return failed ? `${run.status.toUpperCase()} at ${failed.name}` : run.status.toUpperCase();
}

export function formatLine(line: RequestLine, labelWidth: number): string {
  return `${line.label.padEnd(labelWidth)}  ${line.phase.padEnd(18)}  ${line.detail}`;
}
