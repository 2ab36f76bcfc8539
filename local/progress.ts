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
  | 'waiting for a slot'
  | 'provisioning'
  | 'setting up'
  | 'customizing'
  | 'notifying'
  | 'failing'
  | 'removing'
  | 'done'
  | 'failed'
  | 'aborted';

const PHASE_OF_STATE: Record<string, Phase> = {
  [STEP.VALIDATE_REQUEST]: 'validating',
  [STEP.CONTROL_TOWER_OPERATION]: 'validating',
  [STEP.ACQUIRE_SLOT]: 'waiting for a slot',
  [STEP.PROVISION_ACCOUNT]: 'provisioning',
  [STEP.WAIT_FOR_CONTROL_TOWER]: 'provisioning',
  [STEP.PROVISIONING_FINISHED]: 'provisioning',
  [STEP.RELEASE_SLOT]: 'provisioning',
  [STEP.FETCH_ACCOUNT_ID]: 'setting up',
  [STEP.STORE_METADATA]: 'setting up',
  [STEP.CREATE_EXECUTION_ROLE]: 'setting up',
  [STEP.TAG_ACCOUNT]: 'setting up',
  [STEP.APPLY_FEATURE_OPTIONS]: 'setting up',
  [STEP.SET_ALTERNATE_CONTACTS]: 'setting up',
  [STEP.ENABLE_OPT_IN_REGIONS]: 'setting up',
  [STEP.OPT_IN_REGIONS_SETTLED]: 'setting up',
  [STEP.WAIT_FOR_OPT_IN_REGIONS]: 'setting up',
  [STEP.ASSIGN_IDENTITY_CENTER_ACCESS]: 'setting up',
  [STEP.IDENTITY_CENTER_ACCESS_SETTLED]: 'setting up',
  [STEP.WAIT_FOR_IDENTITY_CENTER_ACCESS]: 'setting up',
  [STEP.PROVISIONING_CUSTOMIZATIONS]: 'customizing',
  [STEP.CREATE_ACCOUNT_PIPELINE]: 'customizing',
  [STEP.ACQUIRE_CUSTOMIZATIONS_SLOT]: 'customizing',
  [STEP.RUN_ACCOUNT_CUSTOMIZATIONS]: 'customizing',
  [STEP.HAND_OVER_CUSTOMIZATIONS_SLOT]: 'customizing',
  [STEP.CUSTOMIZATIONS_STARTED]: 'customizing',
  [STEP.RELEASE_CUSTOMIZATIONS_SLOT_AFTER_FAILURE]: 'failing',
  [STEP.NOTIFY_SUCCESS]: 'notifying',
  [STEP.REMOVE_FROM_MANAGEMENT]: 'removing',
  [STEP.NOTIFY_REMOVED]: 'notifying',
};

export function phaseOf(execution: LocalExecution | undefined): Phase {
  if (!execution) return 'queued';
  if (execution.status === 'SUCCEEDED') return 'done';
  if (execution.status === 'ABORTED') return 'aborted';
  if (execution.status !== 'RUNNING') return 'failed';
  const state = execution.currentState;
  if (!state) return 'queued';
  return PHASE_OF_STATE[state] ?? 'failing';
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
): RequestLine {
  const phase = phaseOf(execution);
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
