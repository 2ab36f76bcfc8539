import type { Context } from 'aws-lambda';
import {
  AdvancedEventSelector,
  AdvancedFieldSelector,
  CloudTrailClient,
  EventSelector,
  GetEventSelectorsCommand,
  PutEventSelectorsCommand,
} from '@aws-sdk/client-cloudtrail';
import {
  DeleteInternetGatewayCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeInternetGatewaysCommand,
  DescribeRegionsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  DetachInternetGatewayCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { STSClient } from '@aws-sdk/client-sts';
import { CreateCaseCommand, DescribeCasesCommand, SupportClient } from '@aws-sdk/client-support';
import { z } from 'zod';
import { AssumedCredentials, createClient } from '../shared/clients';
import type { FeatureOptionsResult, SkippedRegion } from '../shared/contracts';
import { flagEnv, optionalEnv, requireEnv } from '../shared/env';
import { FeatureOptionFailed, THROTTLING_ERRORS } from '../shared/errors';
import { parseInput } from '../shared/input';
import { beginInvocation, createLogger } from '../shared/logger';
import { clientsInAccount, createManagementClients, ManagementClients } from '../shared/management';
import { withRemainingTime } from '../shared/retry';

/**
 * Step 7, Apply feature options, each one opt-in:
 * - delete the default VPCs of every enabled region of the new account, skipping (and
 *   reporting) the regions where EC2 refuses the account: an SCP denies it (Control Tower's
 *   Region deny control) or the region is not enabled;
 * - ask AWS Support to put the account on Enterprise Support;
 * - log S3 and Lambda data events on an organization trail.
 * Each is idempotent: a second run finds nothing left to do. A failure is
 * FeatureOptionFailed naming what and where, except throttling, which keeps its
 * SDK name so the state machine retries it.
 */

const logger = createLogger('apply-feature-options');
const sts = createClient(STSClient);
const management = createManagementClients(sts);

/** Regions whose default VPCs are deleted at the same time. */
export const REGION_CONCURRENCY = 4;

export interface FeatureOptionsConfig {
  deleteDefaultVpcs: boolean;
  enterpriseSupport: boolean;
  /** Trail name or ARN; undefined = data events off. */
  cloudTrailDataEventsTrail?: string;
  /** The role the factory assumes in the account (needed to delete default VPCs). */
  executionRoleName?: string;
}

export function configFromEnv(): FeatureOptionsConfig {
  const deleteDefaultVpcs = flagEnv('FEATURE_DELETE_DEFAULT_VPCS');
  return {
    deleteDefaultVpcs,
    enterpriseSupport: flagEnv('FEATURE_ENTERPRISE_SUPPORT'),
    cloudTrailDataEventsTrail: optionalEnv('FEATURE_CLOUDTRAIL_DATA_EVENTS_TRAIL'),
    executionRoleName: deleteDefaultVpcs
      ? requireEnv('EXECUTION_ROLE_NAME')
      : optionalEnv('EXECUTION_ROLE_NAME'),
  };
}

export const ApplyFeatureOptionsInputSchema = z.object({
  state: z.object({
    account: z.object({
      accountId: z.string().regex(/^\d{12}$/, 'must be a 12-digit account ID'),
      name: z.string().optional(),
    }),
  }),
});
export type ApplyFeatureOptionsInput = z.output<typeof ApplyFeatureOptionsInputSchema>;

// ---------------------------------------------------------------------------------
// Errors

function errorName(err: unknown): string {
  return (err as { name?: string } | undefined)?.name ?? 'Error';
}

function isThrottling(err: unknown): boolean {
  return (THROTTLING_ERRORS as readonly string[]).includes(errorName(err));
}

/** Runs `fn`; a failure other than throttling becomes FeatureOptionFailed saying `where`. */
async function attempt<T>(where: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isThrottling(err) || err instanceof FeatureOptionFailed) throw err;
    throw new FeatureOptionFailed(`${where}: ${errorName(err)}: ${(err as Error)?.message ?? String(err)}`);
  }
}

/** Deletes that find nothing to delete (a retry after a partial run) are done. */
const ALREADY_GONE = new Set([
  'InvalidVpcID.NotFound',
  'InvalidSubnetID.NotFound',
  'InvalidInternetGatewayID.NotFound',
  'Gateway.NotAttached',
]);

async function unlessGone(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (!ALREADY_GONE.has(errorName(err))) throw err;
  }
}

/** Maps with at most `limit` calls in flight; waits for all of them, then throws the first failure. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  const failures: unknown[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length && failures.length === 0) {
      const i = next++;
      try {
        results[i] = await fn(items[i]);
      } catch (err) {
        failures.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failures.length > 0) throw failures[0];
  return results;
}

// ---------------------------------------------------------------------------------
// Default VPCs

export interface DeletedVpc {
  region: string;
  vpcId: string;
}

/**
 * EC2's answers meaning "this account cannot use EC2 in this region", as AFT treats them
 * (aft_common/feature_options.py, get_default_vpc: on UnauthorizedOperation "return None",
 * the region is skipped;
 * https://github.com/aws-ia/terraform-aws-control_tower_account_factory/blob/main/sources/aft-lambda-layer/aft_common/feature_options.py):
 * - UnauthorizedOperation: "You are not authorized to perform this operation." An SCP that
 *   denies the region (Control Tower's Region deny control) answers it "with an explicit deny
 *   in a service control policy" (the execution role itself has AdministratorAccess).
 * - AuthFailure: "The provided credentials could not be validated." (a region the account
 *   has not enabled: its credentials are not valid there).
 * - OptInRequired: "You are not authorized to use the requested service. Ensure that you
 *   have subscribed to the service you are trying to use."
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
 * Only the region's first call (DescribeVpcs) is judged so: a refusal after EC2 let the
 * role see the VPC is a real failure.
 */
export const REGION_REFUSED_ERRORS: ReadonlySet<string> = new Set([
  'UnauthorizedOperation',
  'AuthFailure',
  'OptInRequired',
]);

/** The default VPCs deleted in one region, or why the region was skipped. */
export type RegionOutcome = { deleted: DeletedVpc[] } | { skipped: SkippedRegion };

/**
 * Deletes the default VPC(s) of one region: internet gateways, subnets, then the VPC. A
 * region where EC2 refuses the account (REGION_REFUSED_ERRORS) is skipped, with the reason.
 */
export async function deleteDefaultVpcsInRegion(ec2: EC2Client, region: string): Promise<RegionOutcome> {
  let vpcs;
  try {
    vpcs = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'isDefault', Values: ['true'] }] }));
  } catch (err) {
    if (REGION_REFUSED_ERRORS.has(errorName(err))) {
      return { skipped: { region, reason: `${errorName(err)}: ${(err as Error)?.message ?? ''}`.trim() } };
    }
    return attempt(`delete default VPCs: ${region}: DescribeVpcs`, () => Promise.reject(err));
  }
  const deleted: DeletedVpc[] = [];
  for (const vpc of vpcs.Vpcs ?? []) {
    const vpcId = vpc.VpcId;
    if (!vpcId) continue;
    await attempt(`delete default VPCs: ${region} ${vpcId}`, async () => {
      let token: string | undefined;
      do {
        const igws = await ec2.send(
          new DescribeInternetGatewaysCommand({
            Filters: [{ Name: 'attachment.vpc-id', Values: [vpcId] }],
            NextToken: token,
          }),
        );
        for (const igw of igws.InternetGateways ?? []) {
          const id = igw.InternetGatewayId;
          if (!id) continue;
          await unlessGone(() =>
            ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: id, VpcId: vpcId })),
          );
          await unlessGone(() => ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: id })));
        }
        token = igws.NextToken;
      } while (token);
      do {
        const subnets = await ec2.send(
          new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }], NextToken: token }),
        );
        for (const subnet of subnets.Subnets ?? []) {
          const id = subnet.SubnetId;
          if (id) await unlessGone(() => ec2.send(new DeleteSubnetCommand({ SubnetId: id })));
        }
        token = subnets.NextToken;
      } while (token);
      await unlessGone(() => ec2.send(new DeleteVpcCommand({ VpcId: vpcId })));
    });
    deleted.push({ region, vpcId });
  }
  return { deleted };
}

/**
 * Deletes the default VPCs of every region enabled in the account. `ec2In(undefined)`
 * is a client in the account's default region, `ec2In(region)` one in that region.
 */
export async function deleteDefaultVpcs(
  ec2In: (region?: string) => EC2Client,
  concurrency = REGION_CONCURRENCY,
): Promise<{ deleted: DeletedVpc[]; skipped: SkippedRegion[] }> {
  const out = await attempt('delete default VPCs: DescribeRegions', () =>
    ec2In(undefined).send(new DescribeRegionsCommand({})),
  );
  const regions = (out.Regions ?? [])
    .map((r) => r.RegionName)
    .filter((r): r is string => Boolean(r))
    .sort();
  const perRegion = await mapLimit(regions, concurrency, (region) =>
    deleteDefaultVpcsInRegion(ec2In(region), region),
  );
  return {
    deleted: perRegion.flatMap((r) => ('deleted' in r ? r.deleted : [])),
    skipped: perRegion.flatMap((r) => ('skipped' in r ? [r.skipped] : [])),
  };
}

// ---------------------------------------------------------------------------------
// Enterprise support

export function enterpriseSupportSubject(accountId: string): string {
  return `Enable Enterprise Support for account ${accountId}`;
}

/** Opens one Support case asking for Enterprise Support on the account; never a second one. */
export async function requestEnterpriseSupport(
  support: SupportClient,
  accountId: string,
  accountName?: string,
): Promise<'requested' | 'already-requested'> {
  const subject = enterpriseSupportSubject(accountId);
  return attempt(`enterprise support: ${accountId}`, async () => {
    let token: string | undefined;
    do {
      const out = await support.send(
        new DescribeCasesCommand({ includeResolvedCases: true, nextToken: token }),
      );
      if ((out.cases ?? []).some((c) => c.subject === subject)) return 'already-requested' as const;
      token = out.nextToken;
    } while (token);
    await support.send(
      new CreateCaseCommand({
        subject,
        serviceCode: 'account-management',
        categoryCode: 'billing',
        severityCode: 'low',
        issueType: 'customer-service',
        language: 'en',
        communicationBody:
          `Please enable Enterprise Support for account ${accountId}` +
          `${accountName ? ` (${accountName})` : ''}, a new member account of this organization.\n\n` +
          'This case was opened by the account factory when it provisioned the account.',
      }),
    );
    return 'requested' as const;
  });
}

// ---------------------------------------------------------------------------------
// CloudTrail data events

export const DATA_EVENT_RESOURCE_TYPES = ['AWS::S3::Object', 'AWS::Lambda::Function'] as const;

export function dataEventSelector(
  resourceType: (typeof DATA_EVENT_RESOURCE_TYPES)[number],
): AdvancedEventSelector {
  return {
    Name: resourceType === 'AWS::S3::Object' ? 'S3 data events' : 'Lambda data events',
    FieldSelectors: [
      { Field: 'eventCategory', Equals: ['Data'] },
      { Field: 'resources.type', Equals: [resourceType] },
    ],
  };
}

/** A selector that logs every data event of the type: exactly eventCategory=Data and resources.type=<type>. */
function logsAllDataEvents(selector: AdvancedEventSelector, resourceType: string): boolean {
  const fields = selector.FieldSelectors ?? [];
  const only = (f: AdvancedFieldSelector, field: string, value: string) =>
    f.Field === field &&
    f.Equals?.length === 1 &&
    f.Equals[0] === value &&
    !f.StartsWith?.length &&
    !f.EndsWith?.length &&
    !f.NotEquals?.length &&
    !f.NotStartsWith?.length &&
    !f.NotEndsWith?.length;
  return (
    fields.length === 2 &&
    fields.some((f) => only(f, 'eventCategory', 'Data')) &&
    fields.some((f) => only(f, 'resources.type', resourceType))
  );
}

/** Basic selector values that mean "every resource of the type". */
const ALL_RESOURCES = /^arn:[a-z-]+:(s3|s3:::|lambda|dynamodb)$/;

/**
 * The advanced selectors that log what basic event selectors log. A trail takes either
 * kind, not both: adding advanced selectors to a trail with basic ones must carry the
 * basic ones over, or its management events would stop being logged.
 */
export function toAdvancedSelectors(selectors: readonly EventSelector[]): AdvancedEventSelector[] {
  const out: AdvancedEventSelector[] = [];
  selectors.forEach((s, i) => {
    const readOnly: AdvancedFieldSelector[] =
      s.ReadWriteType === 'ReadOnly'
        ? [{ Field: 'readOnly', Equals: ['true'] }]
        : s.ReadWriteType === 'WriteOnly'
          ? [{ Field: 'readOnly', Equals: ['false'] }]
          : [];
    if (s.IncludeManagementEvents !== false) {
      out.push({
        Name: `Management events (selector ${i + 1})`,
        FieldSelectors: [
          { Field: 'eventCategory', Equals: ['Management'] },
          ...readOnly,
          ...(s.ExcludeManagementEventSources?.length
            ? [{ Field: 'eventSource', NotEquals: s.ExcludeManagementEventSources }]
            : []),
        ],
      });
    }
    for (const resource of s.DataResources ?? []) {
      if (!resource.Type) continue;
      const values = resource.Values ?? [];
      const all = values.length === 0 || values.some((v) => ALL_RESOURCES.test(v));
      out.push({
        Name: `${resource.Type} data events (selector ${i + 1})`,
        FieldSelectors: [
          { Field: 'eventCategory', Equals: ['Data'] },
          { Field: 'resources.type', Equals: [resource.Type] },
          ...readOnly,
          ...(all ? [] : [{ Field: 'resources.ARN', StartsWith: values }]),
        ],
      });
    }
  });
  return out;
}

/** Makes the trail log every S3 object and Lambda function data event; no change when it already does. */
export async function enableDataEvents(cloudTrail: CloudTrailClient, trail: string): Promise<'enabled'> {
  return attempt(`CloudTrail data events: ${trail}`, async () => {
    const current = await cloudTrail.send(new GetEventSelectorsCommand({ TrailName: trail }));
    const advanced = current.AdvancedEventSelectors?.length
      ? current.AdvancedEventSelectors
      : toAdvancedSelectors(current.EventSelectors ?? []);
    const missing = DATA_EVENT_RESOURCE_TYPES.filter((t) => !advanced.some((s) => logsAllDataEvents(s, t)));
    if (missing.length > 0) {
      await cloudTrail.send(
        new PutEventSelectorsCommand({
          TrailName: trail,
          AdvancedEventSelectors: [...advanced, ...missing.map(dataEventSelector)],
        }),
      );
      logger.info('Enabled CloudTrail data events', { trail, added: missing });
    }
    return 'enabled' as const;
  });
}

// ---------------------------------------------------------------------------------
// The step

export interface FeatureOptionsClients {
  sts: STSClient;
  management: Pick<ManagementClients, 'support' | 'cloudTrail'>;
}

export async function applyFeatureOptions(
  clients: FeatureOptionsClients,
  input: ApplyFeatureOptionsInput,
  config: FeatureOptionsConfig,
): Promise<FeatureOptionsResult> {
  const { accountId, name } = input.state.account;
  const result: FeatureOptionsResult = {
    deletedDefaultVpcs: [],
    skippedRegions: [],
    enterpriseSupport: 'off',
    cloudTrailDataEvents: 'off',
  };

  if (config.deleteDefaultVpcs) {
    if (!config.executionRoleName)
      throw new Error('The execution role name is not set (EXECUTION_ROLE_NAME)');
    const roleName = config.executionRoleName;
    const credentials = await attempt(`delete default VPCs: assume ${roleName} in ${accountId}`, () =>
      clientsInAccount(clients.sts, accountId, roleName, (c): AssumedCredentials => c.credentials),
    );
    const vpcs = await deleteDefaultVpcs((region) =>
      createClient(EC2Client, region ? { region, credentials } : { credentials }),
    );
    result.deletedDefaultVpcs = vpcs.deleted;
    result.skippedRegions = vpcs.skipped;
    logger.info('Deleted default VPCs', { accountId, deleted: vpcs.deleted });
    if (vpcs.skipped.length) {
      logger.warn('Default VPCs left in regions where EC2 refuses the account', {
        accountId,
        skipped: vpcs.skipped,
      });
    }
  }
  if (config.enterpriseSupport) {
    result.enterpriseSupport = await requestEnterpriseSupport(clients.management.support, accountId, name);
  }
  if (config.cloudTrailDataEventsTrail) {
    result.cloudTrailDataEvents = await enableDataEvents(
      clients.management.cloudTrail,
      config.cloudTrailDataEventsTrail,
    );
  }
  return result;
}

export const handler = withRemainingTime(
  async (event: unknown, context?: Context): Promise<FeatureOptionsResult> => {
    beginInvocation(logger, event, context);
    const input = parseInput(ApplyFeatureOptionsInputSchema, event, 'Apply feature options');
    return applyFeatureOptions({ sts, management }, input, configFromEnv());
  },
);
