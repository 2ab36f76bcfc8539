import {
  AdvancedEventSelector,
  CloudTrailClient,
  GetEventSelectorsCommand,
  PutEventSelectorsCommand,
  TrailNotFoundException,
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
  EC2ServiceException,
} from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { CaseDetails, CreateCaseCommand, DescribeCasesCommand, SupportClient } from '@aws-sdk/client-support';
import { mockClient } from 'aws-sdk-client-mock';
import {
  applyFeatureOptions,
  ApplyFeatureOptionsInputSchema,
  FeatureOptionsConfig,
  handler,
  toAdvancedSelectors,
} from '../../lambda/apply-feature-options';

const stsMock = mockClient(STSClient);
const ec2Mock = mockClient(EC2Client);
const supportMock = mockClient(SupportClient);
const trailMock = mockClient(CloudTrailClient);

const ACCOUNT = '111111111111';
const clients = {
  sts: new STSClient({ region: 'us-east-1' }),
  management: {
    support: new SupportClient({ region: 'us-east-1' }),
    cloudTrail: new CloudTrailClient({ region: 'us-east-1' }),
  },
};
const input = ApplyFeatureOptionsInputSchema.parse({
  state: { account: { accountId: ACCOUNT, name: 'Sandbox' } },
});
const off: FeatureOptionsConfig = {
  deleteDefaultVpcs: false,
  enterpriseSupport: false,
  executionRoleName: 'AWSAFTExecution',
};

const ec2Error = (name: string) =>
  new EC2ServiceException({ name, $fault: 'client', $metadata: {}, message: name });

beforeEach(() => {
  stsMock.reset();
  ec2Mock.reset();
  supportMock.reset();
  trailMock.reset();
  stsMock.on(AssumeRoleCommand).callsFake((i: { RoleArn: string }) => ({
    Credentials: {
      AccessKeyId: i.RoleArn.endsWith('/AWSAFTExecution') ? 'AKIDEXECUTIONROLE' : 'AKIDOTHER',
      SecretAccessKey: 'secret',
      SessionToken: 'token',
      Expiration: new Date('2030-01-01T00:00:00.000Z'),
    },
  }));
});

describe('nothing opted in', () => {
  test('touches nothing', async () => {
    expect(await applyFeatureOptions(clients, input, off)).toEqual({
      deletedDefaultVpcs: [],
      skippedRegions: [],
      enterpriseSupport: 'off',
      cloudTrailDataEvents: 'off',
    });
    expect([stsMock, ec2Mock, supportMock, trailMock].map((m) => m.calls().length)).toEqual([0, 0, 0, 0]);
  });
});

describe('delete default VPCs', () => {
  interface Region {
    vpcs: { VpcId: string; IsDefault: boolean }[];
    igws: { InternetGatewayId: string; vpcId?: string }[];
    subnets: { SubnetId: string; VpcId: string }[];
  }
  /** The account's network, per region, as the mocked EC2 holds it. */
  let world: Record<string, Region>;
  let credentialsSeen: Set<string>;
  const regionOf = async (getClient: () => EC2Client) => {
    const client = getClient();
    credentialsSeen.add((await client.config.credentials()).accessKeyId);
    return client.config.region();
  };
  const config = { ...off, deleteDefaultVpcs: true };

  beforeEach(() => {
    credentialsSeen = new Set();
    const defaultRegion = (n: number): Region => ({
      vpcs: [
        { VpcId: `vpc-default${n}`, IsDefault: true },
        { VpcId: `vpc-mine${n}`, IsDefault: false },
      ],
      igws: [
        { InternetGatewayId: `igw-default${n}`, vpcId: `vpc-default${n}` },
        { InternetGatewayId: `igw-mine${n}`, vpcId: `vpc-mine${n}` },
      ],
      subnets: [
        { SubnetId: `subnet-a${n}`, VpcId: `vpc-default${n}` },
        { SubnetId: `subnet-b${n}`, VpcId: `vpc-default${n}` },
        { SubnetId: `subnet-mine${n}`, VpcId: `vpc-mine${n}` },
      ],
    });
    world = {
      'eu-west-1': defaultRegion(1),
      'us-east-1': defaultRegion(2),
      'ap-south-1': { vpcs: [], igws: [], subnets: [] },
    };
    const filter = (i: { Filters?: { Name: string; Values: string[] }[] }, name: string) =>
      i.Filters?.find((f) => f.Name === name)?.Values[0];

    ec2Mock.on(DescribeRegionsCommand).callsFake(async (_i, getClient) => {
      await regionOf(getClient);
      return { Regions: Object.keys(world).map((RegionName) => ({ RegionName })) };
    });
    ec2Mock.on(DescribeVpcsCommand).callsFake(async (i, getClient) => {
      const r = world[await regionOf(getClient)];
      const isDefault = filter(i, 'isDefault');
      return { Vpcs: r.vpcs.filter((v) => isDefault === undefined || String(v.IsDefault) === isDefault) };
    });
    ec2Mock.on(DescribeInternetGatewaysCommand).callsFake(async (i, getClient) => {
      const r = world[await regionOf(getClient)];
      const vpcId = filter(i, 'attachment.vpc-id');
      return {
        InternetGateways: r.igws
          .filter((g) => g.vpcId === vpcId)
          .map((g) => ({
            InternetGatewayId: g.InternetGatewayId,
            Attachments: [{ VpcId: g.vpcId, State: 'available' }],
          })),
      };
    });
    ec2Mock.on(DetachInternetGatewayCommand).callsFake(async (i, getClient) => {
      const r = world[await regionOf(getClient)];
      const igw = r.igws.find((g) => g.InternetGatewayId === i.InternetGatewayId);
      if (!igw?.vpcId) throw ec2Error('Gateway.NotAttached');
      igw.vpcId = undefined;
      return {};
    });
    ec2Mock.on(DeleteInternetGatewayCommand).callsFake(async (i, getClient) => {
      const r = world[await regionOf(getClient)];
      r.igws = r.igws.filter((g) => g.InternetGatewayId !== i.InternetGatewayId);
      return {};
    });
    ec2Mock.on(DescribeSubnetsCommand).callsFake(async (i, getClient) => {
      const r = world[await regionOf(getClient)];
      return { Subnets: r.subnets.filter((s) => s.VpcId === filter(i, 'vpc-id')) };
    });
    ec2Mock.on(DeleteSubnetCommand).callsFake(async (i, getClient) => {
      const r = world[await regionOf(getClient)];
      if (!r.subnets.some((s) => s.SubnetId === i.SubnetId)) throw ec2Error('InvalidSubnetID.NotFound');
      r.subnets = r.subnets.filter((s) => s.SubnetId !== i.SubnetId);
      return {};
    });
    ec2Mock.on(DeleteVpcCommand).callsFake(async (i, getClient) => {
      const r = world[await regionOf(getClient)];
      if (r.subnets.some((s) => s.VpcId === i.VpcId) || r.igws.some((g) => g.vpcId === i.VpcId)) {
        throw ec2Error('DependencyViolation');
      }
      r.vpcs = r.vpcs.filter((v) => v.VpcId !== i.VpcId);
      return {};
    });
  });

  test('deletes the default VPC of each region with the execution role, and only that', async () => {
    const result = await applyFeatureOptions(clients, input, config);

    expect(result.deletedDefaultVpcs).toEqual([
      { region: 'eu-west-1', vpcId: 'vpc-default1' },
      { region: 'us-east-1', vpcId: 'vpc-default2' },
    ]);
    for (const [n, region] of [
      [1, 'eu-west-1'],
      [2, 'us-east-1'],
    ] as const) {
      expect(world[region].vpcs.map((v) => v.VpcId)).toEqual([`vpc-mine${n}`]);
      expect(world[region].igws.map((g) => g.InternetGatewayId)).toEqual([`igw-mine${n}`]);
      expect(world[region].subnets.map((s) => s.SubnetId)).toEqual([`subnet-mine${n}`]);
    }
    expect(stsMock.commandCalls(AssumeRoleCommand)[0].args[0].input.RoleArn).toBe(
      `arn:aws:iam::${ACCOUNT}:role/AWSAFTExecution`,
    );
    expect([...credentialsSeen]).toEqual(['AKIDEXECUTIONROLE']);
  });

  test('a second run finds nothing to delete', async () => {
    await applyFeatureOptions(clients, input, config);
    ec2Mock.resetHistory();

    const again = await applyFeatureOptions(clients, input, config);

    expect(again.deletedDefaultVpcs).toEqual([]);
    expect(ec2Mock.commandCalls(DetachInternetGatewayCommand)).toHaveLength(0);
    expect(ec2Mock.commandCalls(DeleteInternetGatewayCommand)).toHaveLength(0);
    expect(ec2Mock.commandCalls(DeleteSubnetCommand)).toHaveLength(0);
    expect(ec2Mock.commandCalls(DeleteVpcCommand)).toHaveLength(0);
  });

  test('a retry after a partial run finishes the job', async () => {
    // The first attempt deleted the gateway and one subnet, then stopped.
    world['eu-west-1'].subnets = world['eu-west-1'].subnets.filter((s) => s.SubnetId !== 'subnet-a1');
    world['eu-west-1'].igws = world['eu-west-1'].igws.filter((g) => g.InternetGatewayId !== 'igw-default1');

    const result = await applyFeatureOptions(clients, input, config);

    expect(result.deletedDefaultVpcs.map((d) => d.vpcId)).toEqual(['vpc-default1', 'vpc-default2']);
    expect(world['eu-west-1'].vpcs.map((v) => v.VpcId)).toEqual(['vpc-mine1']);
  });

  test('works on at most 4 regions at a time', async () => {
    world = Object.fromEntries(
      ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((x) => [`xx-${x}-1`, { vpcs: [], igws: [], subnets: [] }]),
    );
    let inFlight = 0;
    let most = 0;
    ec2Mock.on(DescribeVpcsCommand).callsFake(async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return { Vpcs: [] };
    });

    await applyFeatureOptions(clients, input, config);

    expect(ec2Mock.commandCalls(DescribeVpcsCommand)).toHaveLength(7);
    expect(most).toBe(4);
  });

  test('a VPC that cannot be deleted is FeatureOptionFailed naming the region and the VPC', async () => {
    world['us-east-1'].subnets.push({ SubnetId: 'subnet-stuck', VpcId: 'vpc-default2' });
    ec2Mock.on(DeleteSubnetCommand, { SubnetId: 'subnet-stuck' }).rejects(ec2Error('DependencyViolation'));

    await expect(applyFeatureOptions(clients, input, config)).rejects.toMatchObject({
      name: 'FeatureOptionFailed',
      message: expect.stringMatching(/us-east-1 vpc-default2: DependencyViolation/),
    });
  });

  test('throttling keeps its SDK name, for the state machine to retry', async () => {
    ec2Mock.on(DescribeVpcsCommand).rejects(ec2Error('RequestLimitExceeded'));

    await expect(applyFeatureOptions(clients, input, config)).rejects.toMatchObject({
      name: 'RequestLimitExceeded',
    });
  });
});

describe('enterprise support', () => {
  let cases: CaseDetails[];
  const config = { ...off, enterpriseSupport: true };
  beforeEach(() => {
    cases = [{ caseId: 'case-1', subject: 'Something else' }];
    supportMock.on(DescribeCasesCommand).callsFake((i: { nextToken?: string }) =>
      // Two pages: the first holds the unrelated case, the second the rest.
      i.nextToken ? { cases: cases.slice(1) } : { cases: cases.slice(0, 1), nextToken: 'page-2' },
    );
    supportMock.on(CreateCaseCommand).callsFake((i: { subject: string }) => {
      cases.push({ caseId: `case-${cases.length + 1}`, subject: i.subject });
      return { caseId: `case-${cases.length}` };
    });
  });

  test('opens one case, and never a second one', async () => {
    const first = await applyFeatureOptions(clients, input, config);
    const second = await applyFeatureOptions(clients, input, config);

    expect(first.enterpriseSupport).toBe('requested');
    expect(second.enterpriseSupport).toBe('already-requested');
    expect(supportMock.commandCalls(CreateCaseCommand)).toHaveLength(1);
    expect(supportMock.commandCalls(CreateCaseCommand)[0].args[0].input).toMatchObject({
      subject: `Enable Enterprise Support for account ${ACCOUNT}`,
      serviceCode: 'account-management',
      categoryCode: 'billing',
      severityCode: 'low',
      issueType: 'customer-service',
      communicationBody: expect.stringContaining(ACCOUNT),
    });
    expect(supportMock.commandCalls(DescribeCasesCommand)[0].args[0].input.includeResolvedCases).toBe(true);
  });

  test('no support plan is FeatureOptionFailed', async () => {
    supportMock.on(DescribeCasesCommand).rejects(
      Object.assign(new Error('AWS Premium Support Subscription is required'), {
        name: 'SubscriptionRequiredException',
      }),
    );

    await expect(applyFeatureOptions(clients, input, config)).rejects.toMatchObject({
      name: 'FeatureOptionFailed',
      message: expect.stringContaining('enterprise support'),
    });
  });
});

describe('CloudTrail data events', () => {
  const TRAIL = 'arn:aws:cloudtrail:us-east-1:222222222222:trail/organization-trail';
  const config = { ...off, cloudTrailDataEventsTrail: TRAIL };
  const management: AdvancedEventSelector = {
    Name: 'Management events',
    FieldSelectors: [{ Field: 'eventCategory', Equals: ['Management'] }],
  };
  let selectors: { EventSelectors?: unknown[]; AdvancedEventSelectors?: AdvancedEventSelector[] };
  beforeEach(() => {
    selectors = { AdvancedEventSelectors: [management] };
    trailMock.on(GetEventSelectorsCommand).callsFake(() => ({ TrailARN: TRAIL, ...selectors }));
    trailMock
      .on(PutEventSelectorsCommand)
      .callsFake((i: { AdvancedEventSelectors: AdvancedEventSelector[] }) => {
        selectors = { AdvancedEventSelectors: i.AdvancedEventSelectors };
        return {};
      });
  });

  test('adds S3 and Lambda data events, keeps the existing selectors, and does it once', async () => {
    const first = await applyFeatureOptions(clients, input, config);
    const second = await applyFeatureOptions(clients, input, config);

    expect(first.cloudTrailDataEvents).toBe('enabled');
    expect(second.cloudTrailDataEvents).toBe('enabled');
    expect(trailMock.commandCalls(PutEventSelectorsCommand)).toHaveLength(1);
    expect(trailMock.commandCalls(PutEventSelectorsCommand)[0].args[0].input).toEqual({
      TrailName: TRAIL,
      AdvancedEventSelectors: [
        management,
        {
          Name: 'S3 data events',
          FieldSelectors: [
            { Field: 'eventCategory', Equals: ['Data'] },
            { Field: 'resources.type', Equals: ['AWS::S3::Object'] },
          ],
        },
        {
          Name: 'Lambda data events',
          FieldSelectors: [
            { Field: 'eventCategory', Equals: ['Data'] },
            { Field: 'resources.type', Equals: ['AWS::Lambda::Function'] },
          ],
        },
      ],
    });
  });

  test('a narrower S3 selector does not count; a full Lambda one does', async () => {
    const narrowS3: AdvancedEventSelector = {
      Name: 'one bucket',
      FieldSelectors: [
        { Field: 'eventCategory', Equals: ['Data'] },
        { Field: 'resources.type', Equals: ['AWS::S3::Object'] },
        { Field: 'resources.ARN', StartsWith: ['arn:aws:s3:::audit-bucket/'] },
      ],
    };
    const allLambda: AdvancedEventSelector = {
      Name: 'all functions',
      FieldSelectors: [
        { Field: 'resources.type', Equals: ['AWS::Lambda::Function'] },
        { Field: 'eventCategory', Equals: ['Data'] },
      ],
    };
    selectors = { AdvancedEventSelectors: [narrowS3, allLambda] };

    await applyFeatureOptions(clients, input, config);

    const put = trailMock.commandCalls(PutEventSelectorsCommand)[0].args[0].input.AdvancedEventSelectors!;
    expect(put.map((s) => s.Name)).toEqual(['one bucket', 'all functions', 'S3 data events']);
  });

  test('a trail with basic selectors keeps logging its management events', async () => {
    selectors = {
      EventSelectors: [{ ReadWriteType: 'All', IncludeManagementEvents: true, DataResources: [] }],
    };

    await applyFeatureOptions(clients, input, config);

    const put = trailMock.commandCalls(PutEventSelectorsCommand)[0].args[0].input;
    expect(put.EventSelectors).toBeUndefined();
    expect(put.AdvancedEventSelectors![0].FieldSelectors).toEqual([
      { Field: 'eventCategory', Equals: ['Management'] },
    ]);
    expect(put.AdvancedEventSelectors).toHaveLength(3);
  });

  test('a missing trail is FeatureOptionFailed naming it', async () => {
    trailMock
      .on(GetEventSelectorsCommand)
      .rejects(new TrailNotFoundException({ message: 'Unknown trail', $metadata: {} }));

    await expect(applyFeatureOptions(clients, input, config)).rejects.toMatchObject({
      name: 'FeatureOptionFailed',
      message: expect.stringContaining(TRAIL),
    });
  });
});

describe('toAdvancedSelectors', () => {
  test('carries read/write type, excluded sources and data resources over', () => {
    expect(
      toAdvancedSelectors([
        {
          ReadWriteType: 'WriteOnly',
          IncludeManagementEvents: true,
          ExcludeManagementEventSources: ['kms.amazonaws.com'],
          DataResources: [
            { Type: 'AWS::S3::Object', Values: ['arn:aws:s3:::audit-bucket/'] },
            { Type: 'AWS::Lambda::Function', Values: ['arn:aws:lambda'] },
          ],
        },
      ]).map((s) => s.FieldSelectors),
    ).toEqual([
      [
        { Field: 'eventCategory', Equals: ['Management'] },
        { Field: 'readOnly', Equals: ['false'] },
        { Field: 'eventSource', NotEquals: ['kms.amazonaws.com'] },
      ],
      [
        { Field: 'eventCategory', Equals: ['Data'] },
        { Field: 'resources.type', Equals: ['AWS::S3::Object'] },
        { Field: 'readOnly', Equals: ['false'] },
        { Field: 'resources.ARN', StartsWith: ['arn:aws:s3:::audit-bucket/'] },
      ],
      [
        { Field: 'eventCategory', Equals: ['Data'] },
        { Field: 'resources.type', Equals: ['AWS::Lambda::Function'] },
        { Field: 'readOnly', Equals: ['false'] },
      ],
    ]);
  });
});

describe('handler', () => {
  test('rejects input without an account', async () => {
    await expect(handler({ state: { account: { accountId: 'x' } } })).rejects.toMatchObject({
      name: 'InvalidStepInput',
    });
  });
});
