import * as controlTowerSdk from '@aws-sdk/client-controltower';
import type {
  EnabledBaselineDriftStatus,
  EnabledBaselineSummary,
  GetEnabledBaselineOutput,
  ListEnabledBaselinesInput,
  ListEnabledBaselinesOutput,
} from '../../lambda/shared/control-tower';
import { CallContext, CommandTable, Env, errorsFor, Out, paginate, Rng } from './common';
import { defineService, type EmulatedService, type SdkClient } from './service';
import { Organizations, type AccountRecord } from './organizations';

/** Control Tower's API (REST-JSON); throttles with ThrottlingException (THR-2). */
export const CONTROL_TOWER_CLIENT: SdkClient = {
  name: 'ControlTowerClient',
  sdk: controlTowerSdk,
  protocol: 'json',
  stepFunctions: { service: 'controltower', errorPrefix: 'ControlTower', camelCase: true },
};

const err = errorsFor(CONTROL_TOWER_CLIENT);

/** The AWSControlTowerBaseline: an OU registered with Control Tower has it enabled. */
export const CONTROL_TOWER_BASELINE_ARN = 'arn:aws:controltower:us-east-1::baseline/17BSJV3IGJ2QSGA2';

/**
 * Control Tower's own API, as far as enabled baselines go: the AWSControlTowerBaseline of
 * each registered OU and, as its children, of each account enrolled there, with their
 * inheritance drift.
 */
export class ControlTower implements EmulatedService {
  private readonly ids = new Map<string, string>();
  private readonly rng: Rng;

  constructor(
    private readonly env: Env,
    private readonly org: Organizations,
  ) {
    this.rng = env.rng.fork('control-tower');
  }

  commands(): CommandTable {
    return {
      ListEnabledBaselinesCommand: (i: ListEnabledBaselinesInput, c: CallContext) =>
        this.listEnabledBaselines(i, c),
      GetEnabledBaselineCommand: (i: { enabledBaselineIdentifier?: string }, c: CallContext) =>
        this.getEnabledBaseline(i, c),
    };
  }

  /** One ARN per target (an OU, or an enrolled account's child baseline), stable for the run. */
  private enabledBaselineArn(targetId: string): string {
    let id = this.ids.get(targetId);
    if (!id) {
      id = this.rng.upperAlnum(16);
      this.ids.set(targetId, id);
    }
    return `arn:aws:controltower:us-east-1:${this.env.managementAccountId}:enabledbaseline/${id}`;
  }

  private requireManagement(ctx: CallContext, action: string): void {
    if (ctx.principal.accountId !== this.env.managementAccountId) {
      throw err('AccessDeniedException', `User is not authorized to perform: controltower:${action}`);
    }
  }

  /**
   * An enrolled account is in inheritance drift when it is no longer in the OU Control
   * Tower enrolled it in (moved by hand), or its baseline was changed by hand; enrolling it
   * again (an Account Factory update) brings it back in sync.
   */
  private accountDrift(a: AccountRecord): EnabledBaselineDriftStatus {
    return a.parentId !== a.enrolledOuId || a.baselineChangedByHand ? 'DRIFTED' : 'IN_SYNC';
  }

  /** Every enabled AWSControlTowerBaseline: the registered OUs' (parents), then the enrolled accounts' (children). */
  private allEnabledBaselines(): (EnabledBaselineSummary & { child: boolean })[] {
    const registered = new Map(
      this.org
        .allOus()
        .filter((ou) => ou.registered)
        .map((ou) => [ou.id, ou]),
    );
    const children = this.org
      .allAccounts()
      .filter((a) => a.status === 'ACTIVE' && a.enrolledOuId && registered.has(a.enrolledOuId));
    const parents = [...registered.values()].map((ou) => {
      const drifted = children.some((a) => a.enrolledOuId === ou.id && this.accountDrift(a) === 'DRIFTED');
      return {
        child: false,
        arn: this.enabledBaselineArn(ou.id),
        baselineIdentifier: CONTROL_TOWER_BASELINE_ARN,
        baselineVersion: '4.0',
        targetIdentifier: ou.arn,
        statusSummary: { status: 'SUCCEEDED' },
        driftStatusSummary: { types: { inheritance: { status: drifted ? 'DRIFTED' : 'IN_SYNC' } } },
      };
    });
    const kids = children.map((a) => ({
      child: true,
      arn: this.enabledBaselineArn(a.id),
      baselineIdentifier: CONTROL_TOWER_BASELINE_ARN,
      baselineVersion: '4.0',
      targetIdentifier: a.arn,
      parentIdentifier: this.enabledBaselineArn(a.enrolledOuId!),
      statusSummary: { status: 'SUCCEEDED' },
      driftStatusSummary: { types: { inheritance: { status: this.accountDrift(a) } } },
    }));
    return [...parents, ...kids];
  }

  listEnabledBaselines(i: ListEnabledBaselinesInput, ctx: CallContext): Out<ListEnabledBaselinesOutput> {
    this.requireManagement(ctx, 'ListEnabledBaselines');
    const f = i.filter ?? {};
    const max = i.maxResults;
    if (max !== undefined && (max < 5 || max > 100)) {
      throw err('ValidationException', 'maxResults must be between 5 and 100.');
    }
    for (const t of [...(f.targetIdentifiers ?? []), ...(f.parentIdentifiers ?? [])]) {
      if (!/^arn:aws[0-9a-zA-Z_\-:/]+$/.test(t))
        throw err('ValidationException', `Invalid target identifier ${t}`);
    }
    const drift = f.inheritanceDriftStatuses;
    if (drift !== undefined && (drift.length !== 1 || !['IN_SYNC', 'DRIFTED'].includes(drift[0]))) {
      throw err('ValidationException', 'inheritanceDriftStatuses must hold exactly one of IN_SYNC, DRIFTED.');
    }
    const all: EnabledBaselineSummary[] = this.allEnabledBaselines()
      .filter((b) => i.includeChildren === true || !b.child)
      .filter((b) => !f.targetIdentifiers?.length || f.targetIdentifiers.includes(b.targetIdentifier))
      .filter((b) => !f.parentIdentifiers?.length || f.parentIdentifiers.includes(b.parentIdentifier ?? ''))
      .filter((b) => !f.baselineIdentifiers?.length || f.baselineIdentifiers.includes(b.baselineIdentifier))
      .filter((b) => !f.statuses?.length || f.statuses.includes(b.statusSummary.status))
      .filter((b) => !drift || drift.includes(b.driftStatusSummary?.types?.inheritance?.status ?? ''))
      .map(summaryOf);
    const p = paginate(
      all,
      i.nextToken,
      max,
      Math.max(this.env.pageSize, 5),
      (m) => err('ValidationException', m),
      'baselines',
    );
    return { enabledBaselines: p.items, nextToken: p.nextToken };
  }

  getEnabledBaseline(
    i: { enabledBaselineIdentifier?: string },
    ctx: CallContext,
  ): Out<GetEnabledBaselineOutput> {
    this.requireManagement(ctx, 'GetEnabledBaseline');
    const id = i.enabledBaselineIdentifier ?? '';
    if (id.length < 20 || !/^arn:aws[0-9a-zA-Z_\-:/]+$/.test(id)) {
      throw err('ValidationException', `Invalid enabledBaselineIdentifier ${id}`);
    }
    const found = this.allEnabledBaselines().find((b) => b.arn === id);
    if (!found) throw err('ResourceNotFoundException', `Enabled baseline ${id} was not found.`);
    return { enabledBaselineDetails: { ...summaryOf(found), parameters: [] } };
  }
}

/** The API's shape of an enabled baseline (without the emulator's own `child` mark). */
function summaryOf(b: EnabledBaselineSummary & { child: boolean }): EnabledBaselineSummary {
  const summary: EnabledBaselineSummary & { child?: boolean } = { ...b };
  delete summary.child;
  return summary;
}

export const CONTROL_TOWER = defineService({
  clients: [CONTROL_TOWER_CLIENT],
  create: (ctx) => new ControlTower(ctx.env, ctx.get(Organizations)),
});
