import { AccountManagement } from '../../../local/emulator/account';
import { IdentityCenter } from '../../../local/emulator/identity-center';
import {
  AccountClient,
  DeleteAlternateContactCommand,
  DisableRegionCommand,
  EnableRegionCommand,
  GetAlternateContactCommand,
  GetRegionOptStatusCommand,
  ListRegionsCommand,
  PutAlternateContactCommand,
} from '@aws-sdk/client-account';
import { GetGroupIdCommand, GetUserIdCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import {
  CreateAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  ListInstancesCommand,
  SSOAdminClient,
} from '@aws-sdk/client-sso-admin';
import { AlternateContactsInputSchema, reconcileAlternateContacts } from '../../../lambda/alternate-contacts';
import {
  IdentityCenterAccessInputSchema,
  reconcileIdentityCenterAccess,
} from '../../../lambda/identity-center-access';
import { OptInRegionsInputSchema, reconcileOptInRegions } from '../../../lambda/opt-in-regions';
import { createClient } from '../../../lambda/shared/clients';
import { setClock } from '../../../lambda/shared/clock';
import { iamActionFor } from '../../../local/emulator/iam-actions';
import { payload, request } from '../../lambda/metadata-fixture';
import { credentialsIn, landingZone, MINUTE, rejection, uninstall } from './fixture';

/**
 * The emulated Account Management API and IAM Identity Center (docs/aws-behaviour.md
 * ACCT-n, IDC-n), and the least-privilege IAM of the three account-settings steps.
 */

afterEach(() => {
  setClock(undefined);
  uninstall();
});

const MANAGEMENT = '111111111111';
const contact = {
  Name: 'Ops',
  Title: 'On call',
  EmailAddress: 'ops@example.com',
  PhoneNumber: '+1 555 0100',
};

function setup() {
  const { lz, clock } = landingZone();
  setClock(clock);
  const member = lz.accounts.find((a) => a.name === 'Audit')!.id;
  return { lz, clock, member, account: createClient(AccountClient) };
}

describe('Account Management', () => {
  test('alternate contacts: put, get, delete; a missing one is ResourceNotFoundException', async () => {
    const { account, member } = setup();
    const type = 'SECURITY' as const;

    const missing = await rejection(
      account.send(new GetAlternateContactCommand({ AccountId: member, AlternateContactType: type })),
    );
    expect(missing.name).toBe('ResourceNotFoundException');

    await account.send(
      new PutAlternateContactCommand({ AccountId: member, AlternateContactType: type, ...contact }),
    );
    const got = await account.send(
      new GetAlternateContactCommand({ AccountId: member, AlternateContactType: type }),
    );
    expect(got.AlternateContact).toMatchObject({ AlternateContactType: 'SECURITY', ...contact });

    await account.send(new DeleteAlternateContactCommand({ AccountId: member, AlternateContactType: type }));
    const again = await rejection(
      account.send(new DeleteAlternateContactCommand({ AccountId: member, AlternateContactType: type })),
    );
    expect(again.name).toBe('ResourceNotFoundException');
  });

  test.each([
    ['PhoneNumber', { PhoneNumber: '555-CALL-NOW' }],
    ['EmailAddress', { EmailAddress: 'not an email' }],
    ['Name', { Name: 'x'.repeat(65) }],
    ['Title', { Title: 'x'.repeat(51) }],
  ])('PutAlternateContact validates %s as the API reference says', async (_field, bad) => {
    const { account, member } = setup();
    const err = await rejection(
      account.send(
        new PutAlternateContactCommand({
          AccountId: member,
          AlternateContactType: 'BILLING',
          ...contact,
          ...bad,
        }),
      ),
    );
    expect(err.name).toBe('ValidationException');
  });

  test('for a member account, trusted access must be enabled: AccessDeniedException naming it', async () => {
    const { lz, account, member } = setup();
    lz.service(AccountManagement).setTrustedAccess('account.amazonaws.com', false);

    const err = await rejection(
      account.send(new GetRegionOptStatusCommand({ AccountId: member, RegionName: 'af-south-1' })),
    );

    expect(err.name).toBe('AccessDeniedException');
    expect(err.message).toMatch(
      /not authorized to perform: account:GetRegionOptStatus \(Your organization must first enable trusted access with AWS Account Management\.\)/,
    );
  });

  test('the management account may not name itself; a member account may not name another', async () => {
    const { account, member } = setup();
    expect((await rejection(account.send(new ListRegionsCommand({ AccountId: MANAGEMENT })))).name).toBe(
      'ValidationException',
    );
    const creds = await credentialsIn(member);
    const fromMember = createClient(AccountClient, { credentials: creds });
    expect(
      (await rejection(fromMember.send(new ListRegionsCommand({ AccountId: '123456789012' })))).name,
    ).toBe('AccessDeniedException');
  });

  test('EnableRegion: ENABLING, then ENABLED on the clock; DisableRegion refused while ENABLING (ConflictException)', async () => {
    const { account, clock, member } = setup();
    const status = async () =>
      (await account.send(new GetRegionOptStatusCommand({ AccountId: member, RegionName: 'af-south-1' })))
        .RegionOptStatus;

    await account.send(new EnableRegionCommand({ AccountId: member, RegionName: 'af-south-1' }));
    expect(await status()).toBe('ENABLING');
    const conflict = await rejection(
      account.send(new DisableRegionCommand({ AccountId: member, RegionName: 'af-south-1' })),
    );
    expect(conflict.name).toBe('ConflictException');

    await clock.advance(15 * MINUTE);
    expect(await status()).toBe('ENABLED');
    await account.send(new DisableRegionCommand({ AccountId: member, RegionName: 'af-south-1' }));
    expect(await status()).toBe('DISABLING');
    await clock.advance(15 * MINUTE);
    expect(await status()).toBe('DISABLED');
  });

  test('default Regions are ENABLED_BY_DEFAULT and cannot be enabled; ListRegions filters by status', async () => {
    const { account, member } = setup();
    expect(
      (await rejection(account.send(new EnableRegionCommand({ AccountId: member, RegionName: 'us-east-1' }))))
        .name,
    ).toBe('ValidationException');
    await account.send(new EnableRegionCommand({ AccountId: member, RegionName: 'me-south-1' }));

    const out = await account.send(
      new ListRegionsCommand({ AccountId: member, RegionOptStatusContains: ['ENABLING'] }),
    );

    expect(out.Regions).toEqual([{ RegionName: 'me-south-1', RegionOptStatus: 'ENABLING' }]);
  });
});

describe('IAM Identity Center', () => {
  test('the seeded instance, its groups and users by name; an unknown name is ResourceNotFoundException', async () => {
    const { lz } = setup();
    const sso = createClient(SSOAdminClient);
    const store = createClient(IdentitystoreClient);
    const { Instances } = await sso.send(new ListInstancesCommand({}));
    expect(Instances).toEqual([
      expect.objectContaining({ InstanceArn: lz.service(IdentityCenter).instanceArn, Status: 'ACTIVE' }),
    ]);
    const IdentityStoreId = Instances![0].IdentityStoreId!;

    const group = await store.send(
      new GetGroupIdCommand({
        IdentityStoreId,
        AlternateIdentifier: {
          UniqueAttribute: { AttributePath: 'displayName', AttributeValue: 'Developers' },
        },
      }),
    );
    expect(group.GroupId).toBe(lz.service(IdentityCenter).groupId('Developers'));
    const missing = await rejection(
      store.send(
        new GetUserIdCommand({
          IdentityStoreId,
          AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: 'nobody' } },
        }),
      ),
    );
    expect(missing.name).toBe('ResourceNotFoundException');
  });

  test('CreateAccountAssignment is IN_PROGRESS, then SUCCEEDED; a second one for the same assignment meanwhile is ConflictException', async () => {
    const { lz, clock, member } = setup();
    const sso = createClient(SSOAdminClient);
    const input = {
      InstanceArn: lz.service(IdentityCenter).instanceArn,
      TargetId: member,
      TargetType: 'AWS_ACCOUNT' as const,
      PermissionSetArn: lz.service(IdentityCenter).permissionSetArn('ReadOnlyAccess'),
      PrincipalType: 'GROUP' as const,
      PrincipalId: lz.service(IdentityCenter).groupId('Auditors'),
    };
    const started = await sso.send(new CreateAccountAssignmentCommand(input));
    expect(started.AccountAssignmentCreationStatus?.Status).toBe('IN_PROGRESS');
    expect((await rejection(sso.send(new CreateAccountAssignmentCommand(input)))).name).toBe(
      'ConflictException',
    );

    await clock.advance(MINUTE);
    const status = await sso.send(
      new DescribeAccountAssignmentCreationStatusCommand({
        InstanceArn: input.InstanceArn,
        AccountAssignmentCreationRequestId: started.AccountAssignmentCreationStatus!.RequestId,
      }),
    );
    expect(status.AccountAssignmentCreationStatus?.Status).toBe('SUCCEEDED');
    expect(lz.service(IdentityCenter).assignmentsOf(member)).toEqual(['GROUP:Auditors -> ReadOnlyAccess']);
  });
});

describe('IAM for the account-settings steps', () => {
  test('each call maps to its action on the Service Authorization Reference resources', () => {
    const ctx = {
      partition: 'aws',
      region: 'us-east-1',
      accountId: MANAGEMENT,
      managementAccountId: MANAGEMENT,
      organizationId: 'o-abcdefghij',
    };
    expect(
      iamActionFor('Account', 'EnableRegion', { AccountId: '222222222222', RegionName: 'af-south-1' }, ctx),
    ).toMatchObject({
      action: 'account:EnableRegion',
      resources: ['arn:aws:account::111111111111:account/o-abcdefghij/222222222222'],
    });
    expect(
      iamActionFor('Account', 'GetAlternateContact', { AlternateContactType: 'BILLING' }, ctx).resources,
    ).toEqual(['arn:aws:account::111111111111:account']);
    const instance = 'arn:aws:sso:::instance/ssoins-0123456789abcdef';
    const ps = 'arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef';
    expect(
      iamActionFor(
        'SSOAdmin',
        'CreateAccountAssignment',
        { InstanceArn: instance, TargetId: '222222222222', PermissionSetArn: ps },
        ctx,
      ),
    ).toMatchObject({
      action: 'sso:CreateAccountAssignment',
      resources: ['arn:aws:sso:::account/222222222222', instance, ps],
    });
    expect(
      iamActionFor('Identitystore', 'GetGroupId', { IdentityStoreId: 'd-0123456789' }, ctx).resources,
    ).toEqual([
      'arn:aws:identitystore::111111111111:identitystore/d-0123456789',
      'arn:aws:identitystore:::group/*',
    ]);
  });

  /** The statements the README gives each step, for a role in the management account (partition aws). */
  const orgAccounts = (orgId: string) => `arn:aws:account::${MANAGEMENT}:account/${orgId}/*`;
  const STATEMENTS = {
    alternateContacts: (orgId: string) => [
      {
        Effect: 'Allow',
        Action: [
          'account:GetAlternateContact',
          'account:PutAlternateContact',
          'account:DeleteAlternateContact',
        ],
        Resource: orgAccounts(orgId),
      },
    ],
    optInRegions: (orgId: string) => [
      {
        Effect: 'Allow',
        Action: ['account:GetRegionOptStatus', 'account:EnableRegion', 'account:DisableRegion'],
        Resource: orgAccounts(orgId),
      },
    ],
    identityCenter: () => [
      { Effect: 'Allow', Action: 'sso:ListInstances', Resource: '*' },
      {
        Effect: 'Allow',
        Action: [
          'sso:ListPermissionSets',
          'sso:DescribeAccountAssignmentCreationStatus',
          'sso:DescribeAccountAssignmentDeletionStatus',
        ],
        Resource: 'arn:aws:sso:::instance/*',
      },
      {
        Effect: 'Allow',
        Action: 'sso:DescribePermissionSet',
        Resource: ['arn:aws:sso:::instance/*', 'arn:aws:sso:::permissionSet/*/*'],
      },
      {
        Effect: 'Allow',
        Action: ['sso:ListAccountAssignments', 'sso:CreateAccountAssignment', 'sso:DeleteAccountAssignment'],
        Resource: ['arn:aws:sso:::account/*', 'arn:aws:sso:::instance/*', 'arn:aws:sso:::permissionSet/*/*'],
      },
      {
        Effect: 'Allow',
        Action: ['identitystore:GetGroupId', 'identitystore:GetUserId'],
        Resource: [
          `arn:aws:identitystore::${MANAGEMENT}:identitystore/*`,
          'arn:aws:identitystore:::group/*',
          'arn:aws:identitystore:::user/*',
        ],
      },
    ],
  };

  async function asRole(lz: ReturnType<typeof landingZone>['lz'], name: string, statements: unknown[]) {
    lz.deployRole(MANAGEMENT, {
      name,
      path: '/',
      trustPolicy: {
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${MANAGEMENT}:root` },
            Action: 'sts:AssumeRole',
          },
        ],
      },
      policies: [{ Version: '2012-10-17', Statement: statements }],
      managedPolicyArns: [],
    });
    return { credentials: await credentialsIn(MANAGEMENT, name) };
  }

  test('with exactly the statements given, every step runs; without one action, AccessDeniedException names it', async () => {
    const { lz, member } = setup();
    const orgId = lz.organizationId;
    const p = payload({
      request: request({
        alternateContacts: {
          security: { name: 'Sec', title: 'CISO', email: 'sec@example.com', phone: '+1 555 0100' },
        },
        regions: ['af-south-1'],
        identityCenter: [
          { group: 'Developers', permissionSet: 'PowerUserAccess' },
          { user: 'bob@example.com', permissionSet: 'ReadOnlyAccess' },
        ],
      }),
    });
    p.state.account = { accountId: member, email: 'audit@example.com', name: 'Audit' };

    const contactsRole = await asRole(lz, 'Contacts', STATEMENTS.alternateContacts(orgId));
    await reconcileAlternateContacts(
      { account: createClient(AccountClient, contactsRole) },
      AlternateContactsInputSchema.parse(p),
    );
    const regionsRole = await asRole(lz, 'Regions', STATEMENTS.optInRegions(orgId));
    await reconcileOptInRegions(
      { account: createClient(AccountClient, regionsRole) },
      OptInRegionsInputSchema.parse(p),
    );
    const idcRole = await asRole(lz, 'IdentityCenter', STATEMENTS.identityCenter());
    const idc = await reconcileIdentityCenterAccess(
      {
        ssoAdmin: createClient(SSOAdminClient, idcRole),
        identityStore: createClient(IdentitystoreClient, idcRole),
      },
      IdentityCenterAccessInputSchema.parse(p),
    );
    expect(idc.pendingCreations).toHaveLength(2);
    expect(lz.service(AccountManagement).alternateContacts(member).SECURITY).toBeDefined();
    expect(lz.service(AccountManagement).regionStatuses(member)['af-south-1']).toBe('ENABLING');

    const narrow = await asRole(lz, 'Narrow', [
      { Effect: 'Allow', Action: ['account:GetRegionOptStatus'], Resource: orgAccounts(orgId) },
    ]);
    const p2 = payload({ request: request({ regions: ['me-south-1'] }) });
    p2.state.account = p.state.account;
    const denied = await rejection(
      reconcileOptInRegions(
        { account: createClient(AccountClient, narrow) },
        OptInRegionsInputSchema.parse(p2),
      ),
    );
    expect(denied.name).toBe('AccessDeniedException');
    expect(denied.message).toMatch(/account:EnableRegion/);
  });
});
