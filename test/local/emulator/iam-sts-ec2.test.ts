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
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  GetRoleCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  NoSuchEntityException,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { ListAccountsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { assumeRole, createClient } from '../../../lambda/shared/clients';
import { trustAccountPolicy } from '../../../local/emulator';
import { credentialsIn, landingZone, MINUTE, rejection, uninstall } from './fixture';

afterEach(uninstall);

const ORG = {
  ous: [{ name: 'Sandbox' }],
  accounts: [{ name: 'Member', email: 'member@example.com', ou: 'Sandbox' }],
};

describe('IAM and STS across accounts', () => {
  test('AssumeRole into a member account: calls act on that account', async () => {
    const { lz } = landingZone({ organization: ORG });
    const member = lz.account('member@example.com')!;
    const credentials = await credentialsIn(member.id);
    expect(credentials.accessKeyId).toMatch(/^ASIA/);

    const who = await createClient(STSClient, { credentials }).send(new GetCallerIdentityCommand({}));
    expect(who.Account).toBe(member.id);
    expect(who.Arn).toBe(`arn:aws:sts::${member.id}:assumed-role/AWSControlTowerExecution/emulator-test`);

    const mgmt = await createClient(STSClient).send(new GetCallerIdentityCommand({}));
    expect(mgmt.Account).toBe('111111111111');

    const iam = createClient(IAMClient, { credentials });
    const role = await iam.send(new GetRoleCommand({ RoleName: 'AWSControlTowerExecution' }));
    expect(
      JSON.parse(decodeURIComponent(role.Role!.AssumeRolePolicyDocument!)).Statement[0].Principal.AWS,
    ).toBe('arn:aws:iam::111111111111:root');
    // The management account has no such role: IAM answers per account.
    const missing = await rejection(
      createClient(IAMClient).send(new GetRoleCommand({ RoleName: 'AWSControlTowerExecution' })),
    );
    expect(missing).toBeInstanceOf(NoSuchEntityException);
  });

  test('a new role cannot be assumed until it has propagated', async () => {
    const { clock, lz } = landingZone({ organization: ORG, iamPropagationSeconds: 10 });
    const member = lz.account('member@example.com')!;
    const iam = createClient(IAMClient, { credentials: await credentialsIn(member.id) });
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'AWSAFTExecution',
        AssumeRolePolicyDocument: trustAccountPolicy('111111111111'),
      }),
    );
    await iam.send(
      new AttachRolePolicyCommand({
        RoleName: 'AWSAFTExecution',
        PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess',
      }),
    );

    const early = await rejection(credentialsIn(member.id, 'AWSAFTExecution'));
    expect(early.name).toBe('AccessDenied');
    expect(early.message).toContain('is not authorized to perform: sts:AssumeRole');

    await clock.advance(10_000);
    const creds = await credentialsIn(member.id, 'AWSAFTExecution');
    const who = await createClient(STSClient, { credentials: creds }).send(new GetCallerIdentityCommand({}));
    expect(who.Arn).toContain(':assumed-role/AWSAFTExecution/');
    const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'AWSAFTExecution' }));
    expect(attached.AttachedPolicies).toEqual([
      { PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess', PolicyName: 'AdministratorAccess' },
    ]);
  });

  test('trust policy decides who may assume; an update is seen only after it propagates', async () => {
    const { clock, lz } = landingZone({ organization: ORG });
    const member = lz.account('member@example.com')!;
    const iam = createClient(IAMClient, { credentials: await credentialsIn(member.id) });
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'Locked',
        AssumeRolePolicyDocument: trustAccountPolicy('222222222222'),
      }),
    );
    await iam.send(
      new AttachRolePolicyCommand({
        RoleName: 'Locked',
        PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess',
      }),
    );
    await clock.advance(MINUTE);
    expect((await rejection(credentialsIn(member.id, 'Locked'))).name).toBe('AccessDenied');

    await iam.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: 'Locked',
        PolicyDocument: trustAccountPolicy('111111111111'),
      }),
    );
    expect((await rejection(credentialsIn(member.id, 'Locked'))).name).toBe('AccessDenied');
    await clock.advance(10_000);
    await expect(credentialsIn(member.id, 'Locked')).resolves.toHaveProperty('accessKeyId');

    const invalid = await rejection(
      iam.send(
        new CreateRoleCommand({
          RoleName: 'BadTrust',
          AssumeRolePolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { AWS: 'arn:aws:iam::111111111111:role/Nobody' },
                Action: 'sts:AssumeRole',
              },
            ],
          }),
        }),
      ),
    );
    expect(invalid.name).toBe('MalformedPolicyDocumentException');
  });

  test('a role session without policies is denied; member accounts cannot call Organizations', async () => {
    const { clock, lz } = landingZone({ organization: ORG });
    const member = lz.account('member@example.com')!;
    const admin = await credentialsIn(member.id);
    await createClient(IAMClient, { credentials: admin }).send(
      new CreateRoleCommand({
        RoleName: 'Bare',
        AssumeRolePolicyDocument: trustAccountPolicy('111111111111'),
      }),
    );
    await clock.advance(MINUTE);
    const bare = await credentialsIn(member.id, 'Bare');
    const denied = await rejection(
      createClient(EC2Client, { credentials: bare }).send(new DescribeVpcsCommand({})),
    );
    expect(denied.name).toBe('UnauthorizedOperation');

    const orgDenied = await rejection(
      createClient(OrganizationsClient, { credentials: admin }).send(new ListAccountsCommand({})),
    );
    expect(orgDenied.name).toBe('AccessDeniedException');
  });

  test('assumed credentials expire in emulated time', async () => {
    const { clock, lz } = landingZone({ organization: ORG });
    const member = lz.account('member@example.com')!;
    const sts = createClient(STSClient);
    const creds = await assumeRole(sts, `arn:aws:iam::${member.id}:role/AWSControlTowerExecution`, 'short');
    const ec2 = createClient(EC2Client, { credentials: creds });
    await ec2.send(new DescribeRegionsCommand({}));
    await clock.advance(15 * MINUTE);
    const expired = await rejection(ec2.send(new DescribeRegionsCommand({})));
    expect(expired.name).toBe('ExpiredTokenException');
  });
});

describe('EC2 default VPCs', () => {
  test('deleting a default VPC needs its subnets and internet gateway gone first', async () => {
    const { lz } = landingZone({ organization: ORG });
    const member = lz.account('member@example.com')!;
    const credentials = await credentialsIn(member.id);
    const ec2 = createClient(EC2Client, { credentials, region: 'eu-west-1' });

    const regions = await ec2.send(new DescribeRegionsCommand({}));
    expect(regions.Regions!.map((r) => r.RegionName)).toEqual([
      'us-east-1',
      'us-west-2',
      'eu-west-1',
      'ap-southeast-2',
    ]);

    const vpcs = await ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: 'isDefault', Values: ['true'] }] }),
    );
    expect(vpcs.Vpcs).toHaveLength(1);
    const vpcId = vpcs.Vpcs![0].VpcId!;
    expect(lz.defaultVpcs(member.id).find((v) => v.region === 'eu-west-1')!.vpcId).toBe(vpcId);

    const early = await rejection(ec2.send(new DeleteVpcCommand({ VpcId: vpcId })));
    expect(early.name).toBe('DependencyViolation');
    expect(early.$fault).toBe('client');

    const subnets = await ec2.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
    );
    expect(subnets.Subnets).toHaveLength(3);
    for (const s of subnets.Subnets!) await ec2.send(new DeleteSubnetCommand({ SubnetId: s.SubnetId }));
    expect((await rejection(ec2.send(new DeleteVpcCommand({ VpcId: vpcId })))).name).toBe(
      'DependencyViolation',
    );

    const igws = await ec2.send(
      new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [vpcId] }] }),
    );
    expect(igws.InternetGateways).toHaveLength(1);
    const igwId = igws.InternetGateways![0].InternetGatewayId!;
    expect(
      (await rejection(ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: igwId })))).name,
    ).toBe('DependencyViolation');
    await ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: igwId, VpcId: vpcId }));
    await ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: igwId }));
    await ec2.send(new DeleteVpcCommand({ VpcId: vpcId }));

    expect(lz.defaultVpcs(member.id).map((v) => v.region)).toEqual([
      'us-east-1',
      'us-west-2',
      'ap-southeast-2',
    ]);
    const after = await ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: 'isDefault', Values: ['true'] }] }),
    );
    expect(after.Vpcs).toEqual([]);
    const gone = await rejection(ec2.send(new DeleteVpcCommand({ VpcId: vpcId })));
    expect(gone.name).toBe('InvalidVpcID.NotFound');
  });

  test('a region outside the landing zone is refused', async () => {
    landingZone({ organization: ORG });
    const ec2 = createClient(EC2Client, { region: 'me-south-1' });
    expect((await rejection(ec2.send(new DescribeVpcsCommand({})))).name).toBe('AuthFailure');
  });
});
