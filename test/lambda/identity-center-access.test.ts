import { IdentityCenter } from '../../local/emulator/identity-center';
import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { CreateAccountAssignmentCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { createClient } from '../../lambda/shared/clients';
import { setClock } from '../../lambda/shared/clock';
import type { IdentityCenterAccessResult } from '../../lambda/shared/contracts';
import {
  IdentityCenterAssignmentFailed,
  IdentityCenterGroupNotFound,
  IdentityCenterInstanceNotFound,
  IdentityCenterUserNotFound,
  PermissionSetNotFound,
} from '../../lambda/shared/errors';
import type { IdentityCenterAssignment } from '../../lambda/shared/schema';
import {
  IdentityCenterAccessInputSchema,
  reconcileIdentityCenterAccess,
} from '../../lambda/identity-center-access';
import { MINUTE } from '../local/emulator/fixture';
import { SettingsFixture, startSettingsFixture } from './settings-fixture';

let f: SettingsFixture;
let clients: { ssoAdmin: SSOAdminClient; identityStore: IdentitystoreClient };

beforeEach(async () => {
  f = await startSettingsFixture();
  setClock(f.clock);
  clients = { ssoAdmin: createClient(SSOAdminClient), identityStore: createClient(IdentitystoreClient) };
});
afterEach(async () => {
  setClock(undefined);
  await f.close();
});

async function poll(
  version: number,
  identityCenter: IdentityCenterAssignment[],
  previous?: IdentityCenterAccessResult,
) {
  const p = await f.version(version, { identityCenter }, previous ? { identityCenterAccess: previous } : {});
  return reconcileIdentityCenterAccess(
    { ...clients, metadata: f.metadata.table },
    IdentityCenterAccessInputSchema.parse(p),
  );
}

/** Polls as the state machine's Wait loop does, a minute apart, until SUCCEEDED (at most 10 polls). */
async function untilDone(version: number, identityCenter: IdentityCenterAssignment[]) {
  let result = await poll(version, identityCenter);
  const polls = [result.status];
  while (result.status === 'IN_PROGRESS' && polls.length < 10) {
    await f.clock.advance(MINUTE);
    result = await poll(version, identityCenter, result);
    polls.push(result.status);
  }
  return { result, polls };
}

const assignments = () => f.lz.service(IdentityCenter).assignmentsOf(f.accountId);

describe('Identity Center access', () => {
  test('Identity Center not enabled in the organization: IdentityCenterInstanceNotFound, nothing assigned', async () => {
    f.lz.service(IdentityCenter).setEnabled(false);
    const err = await poll(1, [{ group: 'Auditors', permissionSet: 'ReadOnlyAccess' }]).catch(
      (e: Error) => e,
    );

    expect(err).toBeInstanceOf(IdentityCenterInstanceNotFound);
    expect((err as Error).message).toMatch(/No active IAM Identity Center instance/);
    expect(assignments()).toEqual([]);
  });

  test('assigns groups and users their permission sets; IN_PROGRESS until Identity Center is done', async () => {
    const wanted = [
      { group: 'Developers', permissionSet: 'PowerUserAccess' },
      { user: 'alice@example.com', permissionSet: 'AdministratorAccess' },
    ];
    const first = await poll(1, wanted);

    expect(first.status).toBe('IN_PROGRESS');
    expect(first.pendingCreations).toHaveLength(2);
    expect(first.instanceArn).toBe(f.lz.service(IdentityCenter).instanceArn);
    expect(assignments()).toEqual([]);

    await f.clock.advance(MINUTE);
    const done = await poll(1, wanted, first);

    expect(done).toMatchObject({ status: 'SUCCEEDED', pendingCreations: [], pendingDeletions: [] });
    expect(done.created).toEqual([
      'group:Developers -> PowerUserAccess',
      'user:alice@example.com -> AdministratorAccess',
    ]);
    expect(assignments()).toEqual([
      'GROUP:Developers -> PowerUserAccess',
      'USER:alice@example.com -> AdministratorAccess',
    ]);
    expect((await f.item())?.identityCenterAssignments?.map((a) => a.key)).toEqual(done.created);
  });

  test('a second run creates nothing; an edit adds and removes only what changed', async () => {
    await untilDone(1, [{ group: 'Developers', permissionSet: 'PowerUserAccess' }]);
    const again = await poll(1, [{ group: 'Developers', permissionSet: 'PowerUserAccess' }]);
    expect(again).toMatchObject({ status: 'SUCCEEDED', created: [], deleted: [] });

    const { result } = await untilDone(2, [{ group: 'Developers', permissionSet: 'ReadOnlyAccess' }]);

    expect(result).toMatchObject({
      created: ['group:Developers -> ReadOnlyAccess'],
      deleted: ['group:Developers -> PowerUserAccess'],
    });
    expect(assignments()).toEqual(['GROUP:Developers -> ReadOnlyAccess']);
    expect((await f.item())?.identityCenterAssignments?.map((a) => a.key)).toEqual([
      'group:Developers -> ReadOnlyAccess',
    ]);
  });

  test('an assignment dropped from the request is deleted only if the factory made it', async () => {
    f.lz.service(IdentityCenter).assign(f.accountId, 'ReadOnlyAccess', 'GROUP', 'Auditors'); // made by hand
    await untilDone(1, [
      { group: 'Auditors', permissionSet: 'ReadOnlyAccess' },
      { group: 'Platform Admins', permissionSet: 'AdministratorAccess' },
    ]);

    const { result } = await untilDone(2, []);

    expect(result.deleted).toEqual(['group:Platform Admins -> AdministratorAccess']);
    expect(assignments()).toEqual(['GROUP:Auditors -> ReadOnlyAccess']);
  });

  test.each([
    [
      { group: 'Data Scientists', permissionSet: 'ReadOnlyAccess' },
      IdentityCenterGroupNotFound,
      /no group named "Data Scientists"/,
    ],
    [
      { user: 'carol@example.com', permissionSet: 'ReadOnlyAccess' },
      IdentityCenterUserNotFound,
      /no user named "carol@example.com"/,
    ],
    [
      { group: 'Developers', permissionSet: 'DataScientist' },
      PermissionSetNotFound,
      /no permission set named "DataScientist"/,
    ],
  ])(
    'a name Identity Center does not know: a named error, nothing assigned (%o)',
    async (bad, ErrorClass, message) => {
      const err = await poll(1, [{ group: 'Auditors', permissionSet: 'ReadOnlyAccess' }, bad]).catch(
        (e: Error) => e,
      );

      expect(err).toBeInstanceOf(ErrorClass);
      expect((err as Error).message).toMatch(message);
      await f.clock.advance(MINUTE);
      expect(assignments()).toEqual([]);
    },
  );

  test('an assignment Identity Center reports FAILED: IdentityCenterAssignmentFailed with its reason', async () => {
    const wanted = [{ group: 'Developers', permissionSet: 'PowerUserAccess' }];
    const first = await poll(1, wanted);
    // A creation request that Identity Center will fail: a principal its identity store does not hold.
    const out = await clients.ssoAdmin.send(
      new CreateAccountAssignmentCommand({
        InstanceArn: f.lz.service(IdentityCenter).instanceArn,
        TargetId: f.accountId,
        TargetType: 'AWS_ACCOUNT',
        PermissionSetArn: f.lz.service(IdentityCenter).permissionSetArn('ReadOnlyAccess'),
        PrincipalType: 'GROUP',
        PrincipalId: '0000000000-00000000-0000-4000-a000-000000000000',
      }),
    );
    expect(out.AccountAssignmentCreationStatus?.Status).toBe('IN_PROGRESS');
    const previous = { ...first, pendingCreations: [out.AccountAssignmentCreationStatus!.RequestId!] };
    await f.clock.advance(MINUTE);

    const err = await poll(1, wanted, previous).catch((e: Error) => e);

    expect(err).toBeInstanceOf(IdentityCenterAssignmentFailed);
    expect((err as Error).message).toMatch(
      /FAILED: Group 0000000000-.* does not exist in the identity store/,
    );
  });
});
