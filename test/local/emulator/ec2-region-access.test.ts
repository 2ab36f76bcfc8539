import { DescribeRegionsCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { STSClient } from '@aws-sdk/client-sts';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { SupportClient } from '@aws-sdk/client-support';
import { applyFeatureOptions, ApplyFeatureOptionsInputSchema } from '../../../lambda/apply-feature-options';
import { buildMessage, NotifyInputSchema } from '../../../lambda/notify';
import { createClient } from '../../../lambda/shared/clients';
import { FeatureOptionFailed } from '../../../lambda/shared/errors';
import { credentialsIn, landingZone, rejection, uninstall } from './fixture';

afterEach(uninstall);

const ORG = {
  ous: [{ name: 'Sandbox' }],
  accounts: [{ name: 'Member', email: 'member@example.com', ou: 'Sandbox' }],
};
/** Control Tower governs us-east-1, us-west-2 and eu-west-1; its Region deny control denies ap-southeast-2. */
const ACCESS = { deniedRegions: ['ap-southeast-2'], notOptedInRegions: ['me-south-1'] };

describe('EC2 in regions a landing zone denies or has not enabled', () => {
  test('an SCP-denied region answers UnauthorizedOperation, with an explicit deny in a service control policy', async () => {
    const { lz } = landingZone({ organization: ORG, ec2RegionAccess: ACCESS });
    const member = lz.account('member@example.com')!;
    const ec2 = createClient(EC2Client, {
      credentials: await credentialsIn(member.id),
      region: 'ap-southeast-2',
    });

    const denied = await rejection(ec2.send(new DescribeVpcsCommand({})));

    expect(denied.name).toBe('UnauthorizedOperation');
    expect(denied.message).toMatch(
      /is not authorized to perform: ec2:DescribeVpcs with an explicit deny in a service control policy/,
    );
    // The default VPC is there all the same: the SCP denies acting on it, not its existence.
    expect(lz.defaultVpcs(member.id).map((v) => v.region)).toContain('ap-southeast-2');
  });

  test('SCPs do not apply to the management account', async () => {
    landingZone({ organization: ORG, ec2RegionAccess: ACCESS });
    const ec2 = createClient(EC2Client, { region: 'ap-southeast-2' });
    await expect(ec2.send(new DescribeVpcsCommand({}))).resolves.toBeDefined();
  });

  test('a region not opted in is listed only with AllRegions, and refuses calls with AuthFailure', async () => {
    const { lz } = landingZone({ organization: ORG, ec2RegionAccess: ACCESS });
    const member = lz.account('member@example.com')!;
    const credentials = await credentialsIn(member.id);
    const home = createClient(EC2Client, { credentials, region: 'us-east-1' });

    const enabled = await home.send(new DescribeRegionsCommand({}));
    const all = await home.send(new DescribeRegionsCommand({ AllRegions: true }));

    expect(enabled.Regions!.map((r) => r.RegionName)).not.toContain('me-south-1');
    expect(all.Regions!.find((r) => r.RegionName === 'me-south-1')?.OptInStatus).toBe('not-opted-in');
    const there = createClient(EC2Client, { credentials, region: 'me-south-1' });
    expect((await rejection(there.send(new DescribeVpcsCommand({})))).name).toBe('AuthFailure');
    expect(lz.defaultVpcs(member.id).map((v) => v.region)).not.toContain('me-south-1');
  });
});

describe('Apply feature options where EC2 is denied', () => {
  const clients = () => ({
    sts: createClient(STSClient),
    management: { support: createClient(SupportClient), cloudTrail: createClient(CloudTrailClient) },
  });
  const config = {
    deleteDefaultVpcs: true,
    enterpriseSupport: false,
    executionRoleName: 'AWSControlTowerExecution',
  };

  test('deletes the default VPCs it may, skips and reports the denied region, and succeeds', async () => {
    const { lz } = landingZone({ organization: ORG, ec2RegionAccess: ACCESS });
    const member = lz.account('member@example.com')!;
    const input = ApplyFeatureOptionsInputSchema.parse({ state: { account: { accountId: member.id } } });

    const result = await applyFeatureOptions(clients(), input, config);

    expect(result.deletedDefaultVpcs.map((v) => v.region).sort()).toEqual([
      'eu-west-1',
      'us-east-1',
      'us-west-2',
    ]);
    expect(result.skippedRegions).toEqual([
      { region: 'ap-southeast-2', reason: expect.stringMatching(/^UnauthorizedOperation: .*explicit deny/) },
    ]);
    expect(lz.defaultVpcs(member.id).map((v) => v.region)).toEqual(['ap-southeast-2']);

    // The notification says which regions kept their default VPC, and why.
    const message = buildMessage(
      NotifyInputSchema.parse({
        outcome: 'SUCCEEDED',
        state: { requestId: 'member@example.com', version: 1, featureOptions: result },
        execution: { id: 'arn:aws:states:us-east-1:111111111111:execution:x:y' },
      }),
    );
    expect(message.skippedRegions).toEqual(result.skippedRegions);
  });

  test('a real error still fails the step', async () => {
    const { lz } = landingZone({ organization: ORG });
    const member = lz.account('member@example.com')!;
    const input = ApplyFeatureOptionsInputSchema.parse({ state: { account: { accountId: member.id } } });

    await expect(
      applyFeatureOptions(clients(), input, { ...config, executionRoleName: 'NoSuchRole' }),
    ).rejects.toBeInstanceOf(FeatureOptionFailed);
  });
});
