import * as cloudTrailSdk from '@aws-sdk/client-cloudtrail';
import * as supportSdk from '@aws-sdk/client-support';
import type {
  EventSelector,
  GetEventSelectorsCommandInput,
  GetEventSelectorsCommandOutput,
  PutEventSelectorsCommandInput,
  PutEventSelectorsCommandOutput,
} from '@aws-sdk/client-cloudtrail';
import type {
  CaseDetails,
  CreateCaseCommandInput,
  CreateCaseCommandOutput,
  DescribeCasesCommandInput,
  DescribeCasesCommandOutput,
} from '@aws-sdk/client-support';
import { CallContext, CommandTable, Env, errorsFor, Out, paginate, Rng } from './common';
import { defineService, type EmulatedService, type SdkClient } from './service';

/** AWS Support (JSON protocol, camelCase members); throttles with ThrottlingException. */
export const SUPPORT_CLIENT: SdkClient = {
  name: 'SupportClient',
  sdk: supportSdk,
  protocol: 'json',
  stepFunctions: { service: 'support', errorPrefix: 'Support', camelCase: true },
};

const supportErr = errorsFor(SUPPORT_CLIENT);
/** CloudTrail (JSON protocol); throttles with ThrottlingException. */
export const CLOUDTRAIL_CLIENT: SdkClient = {
  name: 'CloudTrailClient',
  sdk: cloudTrailSdk,
  protocol: 'json',
  stepFunctions: { service: 'cloudtrail', errorPrefix: 'CloudTrail' },
};

const trailErr = errorsFor(CLOUDTRAIL_CLIENT);

export type SupportPlan = 'BASIC' | 'BUSINESS' | 'ENTERPRISE';

export interface SupportCase extends CaseDetails {
  accountId: string;
}

/**
 * AWS Support: cases per account. The API needs a Business or Enterprise plan;
 * the management account has Enterprise Support, new accounts have Basic.
 */
export class Support implements EmulatedService {
  private readonly cases: SupportCase[] = [];
  private readonly plans = new Map<string, SupportPlan>();
  private readonly rng: Rng;

  constructor(private readonly env: Env) {
    this.rng = env.rng.fork('support');
    this.plans.set(env.managementAccountId, 'ENTERPRISE');
  }

  setPlan(accountId: string, plan: SupportPlan): void {
    this.plans.set(accountId, plan);
  }

  allCases(): SupportCase[] {
    return this.cases.map((c) => ({ ...c }));
  }

  commands(): CommandTable {
    return {
      CreateCaseCommand: (i: CreateCaseCommandInput, c: CallContext) => this.createCase(i, c),
      DescribeCasesCommand: (i: DescribeCasesCommandInput, c: CallContext) => this.describeCases(i, c),
    };
  }

  private requirePlan(ctx: CallContext): void {
    if ((this.plans.get(ctx.principal.accountId) ?? 'BASIC') === 'BASIC') {
      throw supportErr(
        'SubscriptionRequiredException',
        'AWS Premium Support Subscription is required to use this service.',
      );
    }
  }

  createCase(i: CreateCaseCommandInput, ctx: CallContext): Out<CreateCaseCommandOutput> {
    this.requirePlan(ctx);
    if (!i.subject?.trim()) throw supportErr('ValidationException', 'subject must not be empty');
    if (!i.communicationBody?.trim())
      throw supportErr('ValidationException', 'communicationBody must not be empty');
    if (i.severityCode && !['low', 'normal', 'high', 'urgent', 'critical'].includes(i.severityCode)) {
      throw supportErr('ValidationException', `Invalid severityCode ${i.severityCode}`);
    }
    if ((i.ccEmailAddresses?.length ?? 0) > 10)
      throw supportErr('ValidationException', 'At most 10 ccEmailAddresses');
    const now = this.env.clock.now();
    const caseId = `case-${ctx.principal.accountId}-${now.getUTCFullYear()}-${this.rng.hex(16)}`;
    const timeCreated = now.toISOString();
    this.cases.push({
      accountId: ctx.principal.accountId,
      caseId,
      displayId: String(10_000_000_000 + this.cases.length + 1),
      subject: i.subject,
      status: 'opened',
      serviceCode: i.serviceCode ?? 'general-info',
      categoryCode: i.categoryCode ?? 'other',
      severityCode: i.severityCode ?? 'low',
      submittedBy: ctx.principal.arn,
      timeCreated,
      ccEmailAddresses: i.ccEmailAddresses ?? [],
      language: i.language ?? 'en',
      recentCommunications: {
        communications: [
          {
            caseId,
            body: i.communicationBody,
            submittedBy: ctx.principal.arn,
            timeCreated,
            attachmentSet: [],
          },
        ],
      },
    });
    return { caseId };
  }

  describeCases(i: DescribeCasesCommandInput, ctx: CallContext): Out<DescribeCasesCommandOutput> {
    this.requirePlan(ctx);
    if ((i.caseIdList?.length ?? 0) > 100)
      throw supportErr('ValidationException', 'caseIdList has more than 100 entries');
    for (const id of i.caseIdList ?? []) {
      if (!this.cases.some((c) => c.caseId === id && c.accountId === ctx.principal.accountId)) {
        throw supportErr('CaseIdNotFound', `Case ${id} not found`);
      }
    }
    if (i.maxResults !== undefined && (i.maxResults < 10 || i.maxResults > 100)) {
      throw supportErr('ValidationException', 'maxResults must be between 10 and 100');
    }
    const all = this.cases
      .filter((c) => c.accountId === ctx.principal.accountId)
      .filter((c) => !i.caseIdList?.length || i.caseIdList.includes(c.caseId!))
      .filter((c) => !i.displayId || c.displayId === i.displayId)
      .filter((c) => i.includeResolvedCases || c.status !== 'resolved')
      .filter((c) => !i.afterTime || c.timeCreated! >= new Date(i.afterTime).toISOString())
      .filter((c) => !i.beforeTime || c.timeCreated! <= new Date(i.beforeTime).toISOString())
      .map(({ accountId: _account, ...c }) => ({
        ...c,
        recentCommunications: i.includeCommunications === false ? undefined : c.recentCommunications,
      }));
    const p = paginate(
      all,
      i.nextToken,
      i.maxResults,
      Math.max(this.env.pageSize, 10),
      (m) => supportErr('ValidationException', m),
      'cases',
    );
    return { cases: p.items, nextToken: p.nextToken };
  }
}

export interface TrailRecord {
  name: string;
  arn: string;
  accountId: string;
  region: string;
  eventSelectors?: EventSelector[];
  advancedEventSelectors?: PutEventSelectorsCommandInput['AdvancedEventSelectors'];
}

export const CONTROL_TOWER_TRAIL = 'aws-controltower-BaselineCloudTrail';

/** CloudTrail event selectors on the trails of the management account. */
export class CloudTrail implements EmulatedService {
  private readonly trails = new Map<string, TrailRecord>();

  constructor(
    private readonly env: Env,
    names: readonly string[] = [],
  ) {
    for (const name of [CONTROL_TOWER_TRAIL, ...names])
      this.addTrail(env.managementAccountId, 'us-east-1', name);
  }

  addTrail(accountId: string, region: string, name: string): void {
    this.trails.set(`${accountId}/${name}`, {
      name,
      arn: `arn:aws:cloudtrail:${region}:${accountId}:trail/${name}`,
      accountId,
      region,
      eventSelectors: [
        {
          ReadWriteType: 'All',
          IncludeManagementEvents: true,
          DataResources: [],
          ExcludeManagementEventSources: [],
        },
      ],
    });
  }

  trail(name: string, accountId = this.env.managementAccountId): TrailRecord | undefined {
    const t = this.trails.get(`${accountId}/${name}`);
    return t && structuredClone(t);
  }

  commands(): CommandTable {
    return {
      GetEventSelectorsCommand: (i: GetEventSelectorsCommandInput, c: CallContext) =>
        this.getEventSelectors(i, c),
      PutEventSelectorsCommand: (i: PutEventSelectorsCommandInput, c: CallContext) =>
        this.putEventSelectors(i, c),
    };
  }

  private requireTrail(nameOrArn: string | undefined, ctx: CallContext): TrailRecord {
    const value = nameOrArn ?? '';
    const m = /^arn:aws:cloudtrail:([a-z0-9-]+):(\d{12}):trail\/(.+)$/.exec(value);
    if (!m && !/^[A-Za-z0-9][A-Za-z0-9._-]{2,127}$/.test(value)) {
      throw trailErr('InvalidTrailNameException', `Trail name ${value} is not valid.`);
    }
    const accountId = m ? m[2] : ctx.principal.accountId;
    const name = m ? m[3] : value;
    const t = this.trails.get(`${accountId}/${name}`);
    if (!t || t.accountId !== ctx.principal.accountId) {
      throw trailErr(
        'TrailNotFoundException',
        `Unknown trail: ${value} for the user: ${ctx.principal.accountId}`,
      );
    }
    return t;
  }

  getEventSelectors(i: GetEventSelectorsCommandInput, ctx: CallContext): Out<GetEventSelectorsCommandOutput> {
    const t = this.requireTrail(i.TrailName, ctx);
    return {
      TrailARN: t.arn,
      EventSelectors: t.eventSelectors && structuredClone(t.eventSelectors),
      AdvancedEventSelectors: t.advancedEventSelectors && structuredClone(t.advancedEventSelectors),
    };
  }

  putEventSelectors(i: PutEventSelectorsCommandInput, ctx: CallContext): Out<PutEventSelectorsCommandOutput> {
    const t = this.requireTrail(i.TrailName, ctx);
    if (t.region !== ctx.region) {
      throw trailErr(
        'InvalidHomeRegionException',
        `This operation must be called from the trail's home region (${t.region}).`,
      );
    }
    const hasBasic = i.EventSelectors !== undefined;
    const hasAdvanced = i.AdvancedEventSelectors !== undefined;
    if (hasBasic === hasAdvanced) {
      throw trailErr(
        'InvalidParameterCombinationException',
        'Specify either EventSelectors or AdvancedEventSelectors, not both.',
      );
    }
    if (hasBasic) {
      const selectors = i.EventSelectors!;
      if (selectors.length > 5)
        throw trailErr('InvalidEventSelectorsException', 'A trail can have at most 5 event selectors.');
      const values = selectors
        .flatMap((s) => s.DataResources ?? [])
        .reduce((n, d) => n + (d.Values?.length ?? 0), 0);
      if (values > 250)
        throw trailErr('InvalidEventSelectorsException', 'A trail can have at most 250 data resources.');
      for (const s of selectors) {
        for (const d of s.DataResources ?? []) {
          if (!d.Type || !d.Values?.length) {
            throw trailErr(
              'InvalidEventSelectorsException',
              'Each data resource needs a Type and at least one value.',
            );
          }
        }
      }
      t.eventSelectors = structuredClone(selectors);
      t.advancedEventSelectors = undefined;
    } else {
      const selectors = i.AdvancedEventSelectors!;
      if (selectors.length > 500)
        throw trailErr('InvalidEventSelectorsException', 'Too many advanced event selectors.');
      for (const s of selectors) {
        if (!s.FieldSelectors?.length) {
          throw trailErr(
            'InvalidEventSelectorsException',
            'Each advanced event selector needs field selectors.',
          );
        }
      }
      t.advancedEventSelectors = structuredClone(selectors);
      t.eventSelectors = undefined;
    }
    return {
      TrailARN: t.arn,
      EventSelectors: t.eventSelectors,
      AdvancedEventSelectors: t.advancedEventSelectors,
    };
  }
}

export const SUPPORT = defineService({ clients: [SUPPORT_CLIENT], create: (ctx) => new Support(ctx.env) });

export const CLOUDTRAIL = defineService({
  clients: [CLOUDTRAIL_CLIENT],
  create: (ctx) => new CloudTrail(ctx.env, ctx.options.trails),
});
