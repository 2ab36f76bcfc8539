import * as ec2Sdk from '@aws-sdk/client-ec2';
import type {
  AttachmentStatus,
  DeleteInternetGatewayCommandInput,
  DeleteInternetGatewayCommandOutput,
  DeleteSubnetCommandInput,
  DeleteSubnetCommandOutput,
  DeleteVpcCommandInput,
  DeleteVpcCommandOutput,
  DescribeInternetGatewaysCommandInput,
  DescribeInternetGatewaysCommandOutput,
  DescribeRegionsCommandInput,
  DescribeRegionsCommandOutput,
  DescribeSubnetsCommandInput,
  DescribeSubnetsCommandOutput,
  DescribeVpcsCommandInput,
  DescribeVpcsCommandOutput,
  DetachInternetGatewayCommandInput,
  DetachInternetGatewayCommandOutput,
  Filter,
  InternetGateway,
  Subnet,
  Vpc,
} from '@aws-sdk/client-ec2';
import { CallContext, CommandTable, Env, errorsFor, Out, paginate, Rng } from './common';
import { defineService, type EmulatedService, type SdkClient } from './service';

/**
 * EC2 (its own query protocol). Throttles with RequestLimitExceeded (EC2-11):
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/throttling.html; denies with
 * UnauthorizedOperation (ID-6).
 */
export const EC2_CLIENT: SdkClient = {
  name: 'EC2Client',
  sdk: ec2Sdk,
  protocol: 'query',
  throttleErrors: ['RequestLimitExceeded'],
  accessDeniedError: 'UnauthorizedOperation',
  stepFunctions: { service: 'ec2', errorPrefix: 'Ec2' },
};

const err = errorsFor(EC2_CLIENT);

interface VpcRecord {
  id: string;
  cidr: string;
  isDefault: boolean;
}

interface IgwRecord {
  id: string;
  /** The VPC it is attached to. */
  vpcId?: string;
}

interface SubnetRecord {
  id: string;
  vpcId: string;
  cidr: string;
  az: string;
  defaultForAz: boolean;
}

interface RegionState {
  vpcs: Map<string, VpcRecord>;
  igws: Map<string, IgwRecord>;
  subnets: Map<string, SubnetRecord>;
}

/** What remains of an account's default VPC in one region (inspection). */
export interface DefaultVpcView {
  region: string;
  vpcId: string;
  subnetIds: string[];
  internetGatewayIds: string[];
}

type FilterValues = Record<string, string[]>;

function matches(filters: Filter[] | undefined, values: FilterValues): boolean {
  return (filters ?? []).every((f) => {
    const have = values[f.Name ?? ''];
    if (!have) return false;
    return (f.Values ?? []).some((v) => have.some((h) => globMatch(v, h)));
  });
}

function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === value;
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(value);
}

/**
 * Regions where member accounts cannot use EC2, as a landing zone has them.
 *
 * - `deniedRegions`: enabled regions (DescribeRegions lists them, each account has its
 *   default VPC there) where an SCP denies every action, as Control Tower's Region deny
 *   control does outside the governed regions ("denies access to AWS services in Regions
 *   that are not governed", https://docs.aws.amazon.com/controltower/latest/controlreference/primary-region-deny-policy.html).
 *   SCPs do not apply to the management account ("SCPs don't affect users or roles in the
 *   management account", https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html).
 *   EC2 answers UnauthorizedOperation ("You are not authorized to perform this operation.",
 *   https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html); the IAM
 *   message names the policy type: "... is not authorized to perform: <action> with an
 *   explicit deny in a service control policy"
 *   (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).
 * - `notOptedInRegions`: opt-in regions the accounts have not enabled. DescribeRegions lists
 *   them only with AllRegions, with OptInStatus `not-opted-in` ("AllRegions: Indicates whether
 *   to display all Regions, including Regions that are disabled for your account",
 *   https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeRegions.html); there is
 *   no default VPC, and a call there fails AuthFailure ("The provided credentials could not be
 *   validated", EC2 error codes above). The exact message text is the emulator's.
 */
export interface Ec2RegionAccess {
  readonly deniedRegions?: readonly string[];
  readonly notOptedInRegions?: readonly string[];
}

/** The EC2 action name of an SDK command (`DescribeVpcsCommand` -> `ec2:DescribeVpcs`). */
function actionOf(commandName: string): string {
  return `ec2:${commandName.replace(/Command$/, '')}`;
}

/** EC2 of every emulated account and region: default VPCs, their subnets and internet gateways. */
export class Ec2 implements EmulatedService {
  private readonly state = new Map<string, RegionState>();
  private readonly rng: Rng;
  private readonly denied: ReadonlySet<string>;
  private readonly notOptedIn: readonly string[];

  constructor(
    private readonly env: Env,
    access: Ec2RegionAccess = {},
  ) {
    this.rng = env.rng.fork('ec2');
    this.denied = new Set(access.deniedRegions ?? []);
    this.notOptedIn = (access.notOptedInRegions ?? []).filter((r) => !env.regions.includes(r));
    for (const r of this.denied) {
      if (!env.regions.includes(r)) {
        throw new Error(
          `EC2 denied region ${r} is not one of the enabled regions (${env.regions.join(', ')})`,
        );
      }
    }
  }

  private region(accountId: string, region: string): RegionState {
    const key = `${accountId}/${region}`;
    let s = this.state.get(key);
    if (!s) {
      s = { vpcs: new Map(), igws: new Map(), subnets: new Map() };
      this.state.set(key, s);
    }
    return s;
  }

  private id(prefix: string): string {
    return `${prefix}-${this.rng.hex(17)}`;
  }

  /** What AWS gives every new account: a default VPC with an internet gateway and 3 subnets, per region. */
  createDefaultVpcs(accountId: string): void {
    for (const region of this.env.regions) {
      const s = this.region(accountId, region);
      const vpc: VpcRecord = { id: this.id('vpc'), cidr: '172.31.0.0/16', isDefault: true };
      s.vpcs.set(vpc.id, vpc);
      const igw: IgwRecord = { id: this.id('igw'), vpcId: vpc.id };
      s.igws.set(igw.id, igw);
      ['a', 'b', 'c'].forEach((suffix, n) => {
        const subnet: SubnetRecord = {
          id: this.id('subnet'),
          vpcId: vpc.id,
          cidr: `172.31.${n * 16}.0/20`,
          az: `${region}${suffix}`,
          defaultForAz: true,
        };
        s.subnets.set(subnet.id, subnet);
      });
    }
  }

  /** Default VPCs that still exist in an account, per region. */
  defaultVpcs(accountId: string): DefaultVpcView[] {
    const out: DefaultVpcView[] = [];
    for (const region of this.env.regions) {
      const s = this.state.get(`${accountId}/${region}`);
      if (!s) continue;
      for (const vpc of s.vpcs.values()) {
        if (!vpc.isDefault) continue;
        out.push({
          region,
          vpcId: vpc.id,
          subnetIds: [...s.subnets.values()].filter((x) => x.vpcId === vpc.id).map((x) => x.id),
          internetGatewayIds: [...s.igws.values()].filter((x) => x.vpcId === vpc.id).map((x) => x.id),
        });
      }
    }
    return out;
  }

  commands(): CommandTable {
    return {
      DescribeRegionsCommand: (i: DescribeRegionsCommandInput, c: CallContext) => this.describeRegions(i, c),
      DescribeVpcsCommand: (i: DescribeVpcsCommandInput, c: CallContext) => this.describeVpcs(i, c),
      DescribeInternetGatewaysCommand: (i: DescribeInternetGatewaysCommandInput, c: CallContext) =>
        this.describeInternetGateways(i, c),
      DetachInternetGatewayCommand: (i: DetachInternetGatewayCommandInput, c: CallContext) =>
        this.detachInternetGateway(i, c),
      DeleteInternetGatewayCommand: (i: DeleteInternetGatewayCommandInput, c: CallContext) =>
        this.deleteInternetGateway(i, c),
      DescribeSubnetsCommand: (i: DescribeSubnetsCommandInput, c: CallContext) => this.describeSubnets(i, c),
      DeleteSubnetCommand: (i: DeleteSubnetCommandInput, c: CallContext) => this.deleteSubnet(i, c),
      DeleteVpcCommand: (i: DeleteVpcCommandInput, c: CallContext) => this.deleteVpc(i, c),
    };
  }

  /**
   * The caller's account, in the client's region; a region the account cannot use is
   * refused (not enabled: AuthFailure; denied by an SCP: UnauthorizedOperation, see Ec2RegionAccess).
   */
  private scope(ctx: CallContext): RegionState {
    if (!this.env.regions.includes(ctx.region)) {
      throw err(
        'AuthFailure',
        `AWS was not able to validate the provided access credentials (region ${ctx.region} is not enabled).`,
      );
    }
    if (this.denied.has(ctx.region) && ctx.principal.accountId !== this.env.managementAccountId) {
      const action = actionOf(ctx.commandName);
      throw err(
        'UnauthorizedOperation',
        `You are not authorized to perform this operation. User: ${ctx.principal.arn} is not authorized to perform: ${action} with an explicit deny in a service control policy.`,
      );
    }
    return this.region(ctx.principal.accountId, ctx.region);
  }

  private invalidToken = (message: string): Error => err('InvalidPaginationToken', message);

  private page<T>(all: T[], token: string | undefined, max: number | undefined, scope: string, ids: boolean) {
    if (max !== undefined && ids) {
      throw err(
        'InvalidParameterCombination',
        'The parameter ids cannot be used with the parameter maxResults',
      );
    }
    if (max !== undefined && (max < 5 || max > 1000)) {
      throw err(
        'InvalidParameterValue',
        `Value ( ${max} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`,
      );
    }
    // EC2 returns everything unless the caller asks for pages.
    if (max === undefined && !token) return { items: all, nextToken: undefined };
    return paginate(all, token, max, max ?? this.env.pageSize, this.invalidToken, scope);
  }

  describeRegions(i: DescribeRegionsCommandInput, ctx: CallContext): Out<DescribeRegionsCommandOutput> {
    this.scope(ctx);
    const listed = [
      ...this.env.regions.map((r) => ({ name: r, status: 'opt-in-not-required' })),
      ...(i.AllRegions ? this.notOptedIn.map((r) => ({ name: r, status: 'not-opted-in' })) : []),
    ];
    const regions = listed
      .filter((r) => !i.RegionNames?.length || i.RegionNames.includes(r.name))
      .map((r) => ({ RegionName: r.name, Endpoint: `ec2.${r.name}.amazonaws.com`, OptInStatus: r.status }))
      .filter((r) => matches(i.Filters, { 'region-name': [r.RegionName], 'opt-in-status': [r.OptInStatus] }));
    return { Regions: regions };
  }

  private vpcView(v: VpcRecord, accountId: string): Vpc {
    return {
      VpcId: v.id,
      OwnerId: accountId,
      State: 'available',
      CidrBlock: v.cidr,
      DhcpOptionsId: 'dopt-0000000000000000a',
      InstanceTenancy: 'default',
      IsDefault: v.isDefault,
      CidrBlockAssociationSet: [
        {
          AssociationId: `vpc-cidr-assoc-${v.id.slice(4)}`,
          CidrBlock: v.cidr,
          CidrBlockState: { State: 'associated' },
        },
      ],
    };
  }

  describeVpcs(i: DescribeVpcsCommandInput, ctx: CallContext): Out<DescribeVpcsCommandOutput> {
    const s = this.scope(ctx);
    for (const id of i.VpcIds ?? []) {
      if (!s.vpcs.has(id)) throw err('InvalidVpcID.NotFound', `The vpc ID '${id}' does not exist`);
    }
    const all = [...s.vpcs.values()]
      .filter((v) => !i.VpcIds?.length || i.VpcIds.includes(v.id))
      .filter((v) =>
        matches(i.Filters, {
          isDefault: [String(v.isDefault)],
          'is-default': [String(v.isDefault)],
          'vpc-id': [v.id],
          'cidr-block': [v.cidr],
          cidr: [v.cidr],
          state: ['available'],
          'owner-id': [ctx.principal.accountId],
        }),
      )
      .map((v) => this.vpcView(v, ctx.principal.accountId));
    const p = this.page(all, i.NextToken, i.MaxResults, `vpcs:${ctx.region}`, !!i.VpcIds?.length);
    return { Vpcs: p.items, NextToken: p.nextToken };
  }

  private igwView(g: IgwRecord, accountId: string): InternetGateway {
    return {
      InternetGatewayId: g.id,
      OwnerId: accountId,
      // EC2 reports an attached gateway as 'available', a value its own enum lacks.
      Attachments: g.vpcId ? [{ VpcId: g.vpcId, State: 'available' as AttachmentStatus }] : [],
      Tags: [],
    };
  }

  describeInternetGateways(
    i: DescribeInternetGatewaysCommandInput,
    ctx: CallContext,
  ): Out<DescribeInternetGatewaysCommandOutput> {
    const s = this.scope(ctx);
    for (const id of i.InternetGatewayIds ?? []) {
      if (!s.igws.has(id))
        throw err('InvalidInternetGatewayID.NotFound', `The internetGateway ID '${id}' does not exist`);
    }
    const all = [...s.igws.values()]
      .filter((g) => !i.InternetGatewayIds?.length || i.InternetGatewayIds.includes(g.id))
      .filter((g) =>
        matches(i.Filters, {
          'attachment.vpc-id': g.vpcId ? [g.vpcId] : [],
          'attachment.state': g.vpcId ? ['available'] : [],
          'internet-gateway-id': [g.id],
          'owner-id': [ctx.principal.accountId],
        }),
      )
      .map((g) => this.igwView(g, ctx.principal.accountId));
    const p = this.page(all, i.NextToken, i.MaxResults, `igws:${ctx.region}`, !!i.InternetGatewayIds?.length);
    return { InternetGateways: p.items, NextToken: p.nextToken };
  }

  detachInternetGateway(
    i: DetachInternetGatewayCommandInput,
    ctx: CallContext,
  ): Out<DetachInternetGatewayCommandOutput> {
    const s = this.scope(ctx);
    const g = requireIgw(s, i.InternetGatewayId);
    if (!s.vpcs.has(i.VpcId ?? ''))
      throw err('InvalidVpcID.NotFound', `The vpc ID '${i.VpcId}' does not exist`);
    if (g.vpcId !== i.VpcId) {
      throw err('Gateway.NotAttached', `resource ${g.id} is not attached to network ${i.VpcId}`);
    }
    g.vpcId = undefined;
    return {};
  }

  deleteInternetGateway(
    i: DeleteInternetGatewayCommandInput,
    ctx: CallContext,
  ): Out<DeleteInternetGatewayCommandOutput> {
    const s = this.scope(ctx);
    const g = requireIgw(s, i.InternetGatewayId);
    if (g.vpcId) {
      throw err(
        'DependencyViolation',
        `The internetGateway '${g.id}' has dependencies and cannot be deleted.`,
      );
    }
    s.igws.delete(g.id);
    return {};
  }

  private subnetView(x: SubnetRecord, accountId: string, region: string): Subnet {
    return {
      SubnetId: x.id,
      VpcId: x.vpcId,
      State: 'available',
      CidrBlock: x.cidr,
      AvailabilityZone: x.az,
      AvailabilityZoneId: `${region.replace(/-/g, '').slice(0, 4)}-az${x.az.slice(-1).charCodeAt(0) - 96}`,
      AvailableIpAddressCount: 4091,
      DefaultForAz: x.defaultForAz,
      MapPublicIpOnLaunch: x.defaultForAz,
      OwnerId: accountId,
      SubnetArn: `arn:aws:ec2:${region}:${accountId}:subnet/${x.id}`,
    };
  }

  describeSubnets(i: DescribeSubnetsCommandInput, ctx: CallContext): Out<DescribeSubnetsCommandOutput> {
    const s = this.scope(ctx);
    for (const id of i.SubnetIds ?? []) {
      if (!s.subnets.has(id)) throw err('InvalidSubnetID.NotFound', `The subnet ID '${id}' does not exist`);
    }
    const all = [...s.subnets.values()]
      .filter((x) => !i.SubnetIds?.length || i.SubnetIds.includes(x.id))
      .filter((x) =>
        matches(i.Filters, {
          'vpc-id': [x.vpcId],
          'subnet-id': [x.id],
          'availability-zone': [x.az],
          'default-for-az': [String(x.defaultForAz)],
          defaultForAz: [String(x.defaultForAz)],
          'cidr-block': [x.cidr],
          state: ['available'],
          'owner-id': [ctx.principal.accountId],
        }),
      )
      .map((x) => this.subnetView(x, ctx.principal.accountId, ctx.region));
    const p = this.page(all, i.NextToken, i.MaxResults, `subnets:${ctx.region}`, !!i.SubnetIds?.length);
    return { Subnets: p.items, NextToken: p.nextToken };
  }

  deleteSubnet(i: DeleteSubnetCommandInput, ctx: CallContext): Out<DeleteSubnetCommandOutput> {
    const s = this.scope(ctx);
    if (!s.subnets.delete(i.SubnetId ?? '')) {
      throw err('InvalidSubnetID.NotFound', `The subnet ID '${i.SubnetId}' does not exist`);
    }
    return {};
  }

  deleteVpc(i: DeleteVpcCommandInput, ctx: CallContext): Out<DeleteVpcCommandOutput> {
    const s = this.scope(ctx);
    const vpc = s.vpcs.get(i.VpcId ?? '');
    if (!vpc) throw err('InvalidVpcID.NotFound', `The vpc ID '${i.VpcId}' does not exist`);
    const busy =
      [...s.subnets.values()].some((x) => x.vpcId === vpc.id) ||
      [...s.igws.values()].some((g) => g.vpcId === vpc.id);
    if (busy) throw err('DependencyViolation', `The vpc '${vpc.id}' has dependencies and cannot be deleted.`);
    s.vpcs.delete(vpc.id);
    return {};
  }
}

function requireIgw(s: RegionState, id: string | undefined): IgwRecord {
  const g = s.igws.get(id ?? '');
  if (!g) throw err('InvalidInternetGatewayID.NotFound', `The internetGateway ID '${id}' does not exist`);
  return g;
}

export const EC2 = defineService({
  clients: [EC2_CLIENT],
  create: (ctx) => new Ec2(ctx.env, ctx.options.ec2RegionAccess),
});
