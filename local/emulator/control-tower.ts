import * as controlTowerSdk from '@aws-sdk/client-controltower';
import type {
  EnabledBaselineSummary,
  ListEnabledBaselinesInput,
  ListEnabledBaselinesOutput,
} from '../../lambda/shared/control-tower';
import { CallContext, CommandTable, Env, errorsFor, Out, paginate, Rng } from './common';
import { defineService, type EmulatedService, type SdkClient } from './service';
import { Organizations } from './organizations';

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

/** Control Tower's own API, as far as OU registration goes. */
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
    };
  }

  private enabledBaselineArn(ouId: string): string {
    let id = this.ids.get(ouId);
    if (!id) {
      id = this.rng.upperAlnum(16);
      this.ids.set(ouId, id);
    }
    return `arn:aws:controltower:us-east-1:${this.env.managementAccountId}:enabledbaseline/${id}`;
  }

  listEnabledBaselines(i: ListEnabledBaselinesInput, ctx: CallContext): Out<ListEnabledBaselinesOutput> {
    if (ctx.principal.accountId !== this.env.managementAccountId) {
      throw err(
        'AccessDeniedException',
        'User is not authorized to perform: controltower:ListEnabledBaselines',
      );
    }
    const f = i.filter ?? {};
    const max = i.maxResults;
    if (max !== undefined && (max < 5 || max > 100)) {
      throw err('ValidationException', 'maxResults must be between 5 and 100.');
    }
    for (const t of f.targetIdentifiers ?? []) {
      if (!/^arn:aws[0-9a-zA-Z_\-:/]+$/.test(t))
        throw err('ValidationException', `Invalid target identifier ${t}`);
    }
    const all: EnabledBaselineSummary[] = this.org
      .allOus()
      .filter((ou) => ou.registered)
      .filter((ou) => !f.targetIdentifiers?.length || f.targetIdentifiers.includes(ou.arn))
      .filter(
        (_ou) => !f.baselineIdentifiers?.length || f.baselineIdentifiers.includes(CONTROL_TOWER_BASELINE_ARN),
      )
      .filter((_ou) => !f.statuses?.length || f.statuses.includes('SUCCEEDED'))
      .map((ou) => ({
        arn: this.enabledBaselineArn(ou.id),
        baselineIdentifier: CONTROL_TOWER_BASELINE_ARN,
        baselineVersion: '4.0',
        targetIdentifier: ou.arn,
        statusSummary: { status: 'SUCCEEDED' },
      }));
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
}

export const CONTROL_TOWER = defineService({
  clients: [CONTROL_TOWER_CLIENT],
  create: (ctx) => new ControlTower(ctx.env, ctx.get(Organizations)),
});
