import { GetGroupIdCommand, GetUserIdCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import {
  AccountAssignmentOperationStatus,
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  DescribePermissionSetCommand,
  ListAccountAssignmentsCommand,
  ListInstancesCommand,
  ListPermissionSetsCommand,
  SSOAdminClient,
} from '@aws-sdk/client-sso-admin';
import { z } from 'zod';
import { createClient } from '../shared/clients';
import { now } from '../shared/clock';
import type { IdentityCenterAccessResult, ResolvedAssignment } from '../shared/contracts';
import {
  IdentityCenterAssignmentFailed,
  IdentityCenterGroupNotFound,
  IdentityCenterInstanceNotFound,
  IdentityCenterUserNotFound,
  PermissionSetNotFound,
} from '../shared/errors';
import { getMetadata, MetadataTable, recordFactoryMade } from '../shared/metadata';
import { assignmentKey, IdentityCenterAssignment, IdentityCenterAssignmentSchema } from '../shared/schema';
import { settingsStep } from '../shared/settings-step';

/**
 * Identity Center access, one poll: gives the request's groups and users their permission
 * sets on the account (CreateAccountAssignment on the organization's Identity Center
 * instance, from the management account, in the Control Tower home Region where Control
 * Tower set Identity Center up), and deletes the assignments the factory made that the
 * request dropped. Groups, users and permission sets are looked up by name; a missing one
 * is IdentityCenterGroupNotFound, IdentityCenterUserNotFound or PermissionSetNotFound, and
 * nothing is changed. Assignments are asynchronous: while one is IN_PROGRESS the step
 * returns `status: 'IN_PROGRESS'` with the request ids, and the state machine waits and runs
 * it again (the previous result comes back as `state.identityCenterAccess`); a FAILED one is
 * IdentityCenterAssignmentFailed.
 */

const step = settingsStep('identity-center-access', { homeRegion: true });
const { logger } = step;
const ssoAdmin = createClient(SSOAdminClient, step.managementConfig);
const identityStore = createClient(IdentitystoreClient, step.managementConfig);

/** How long the state machine's loop may poll before the step gives up. */
export const IDENTITY_CENTER_TIMEOUT_MINUTES = 60;

export const IdentityCenterAccessInputSchema = z.object({
  state: z.object({
    version: z.number().int().nonnegative(),
    validation: z.object({
      request: z.object({ identityCenter: z.array(IdentityCenterAssignmentSchema).optional() }),
    }),
    account: z.object({ accountId: z.string().regex(/^\d{12}$/, 'must be a 12-digit account ID') }),
    /** The previous poll's result, in the same execution. */
    identityCenterAccess: z
      .object({
        startedAt: z.string(),
        created: z.array(z.string()),
        deleted: z.array(z.string()),
        pendingCreations: z.array(z.string()),
        pendingDeletions: z.array(z.string()),
      })
      .nullish(),
  }),
});
export type IdentityCenterAccessInput = z.output<typeof IdentityCenterAccessInputSchema>;

export interface IdentityCenterAccessClients {
  ssoAdmin: SSOAdminClient;
  identityStore: IdentitystoreClient;
  /** Where the assignments the factory made are recorded; without it, no assignment is ever deleted. */
  metadata?: MetadataTable;
}

const errName = (err: unknown) => (err as { name?: string } | undefined)?.name;

async function findInstance(sso: SSOAdminClient): Promise<{ instanceArn: string; identityStoreId: string }> {
  let token: string | undefined;
  do {
    const out = await sso.send(new ListInstancesCommand({ NextToken: token }));
    const instance = (out.Instances ?? []).find(
      (i) => i.InstanceArn && i.IdentityStoreId && (i.Status === undefined || i.Status === 'ACTIVE'),
    );
    if (instance) return { instanceArn: instance.InstanceArn!, identityStoreId: instance.IdentityStoreId! };
    token = out.NextToken;
  } while (token);
  throw new IdentityCenterInstanceNotFound(
    'No active IAM Identity Center instance is visible from the management account in this Region ' +
      '(CONTROL_TOWER_HOME_REGION): enable Identity Center for the organization there',
  );
}

/** The instance's permission sets by name (one DescribePermissionSet each: names are not in the list). */
async function permissionSetsByName(sso: SSOAdminClient, instanceArn: string): Promise<Map<string, string>> {
  const arns: string[] = [];
  let token: string | undefined;
  do {
    const out = await sso.send(new ListPermissionSetsCommand({ InstanceArn: instanceArn, NextToken: token }));
    arns.push(...(out.PermissionSets ?? []));
    token = out.NextToken;
  } while (token);
  const byName = new Map<string, string>();
  for (const arn of arns) {
    const out = await sso.send(
      new DescribePermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn }),
    );
    if (out.PermissionSet?.Name) byName.set(out.PermissionSet.Name, arn);
  }
  return byName;
}

async function principalId(
  store: IdentitystoreClient,
  identityStoreId: string,
  a: IdentityCenterAssignment,
): Promise<string> {
  try {
    if (a.group !== undefined) {
      const out = await store.send(
        new GetGroupIdCommand({
          IdentityStoreId: identityStoreId,
          AlternateIdentifier: { UniqueAttribute: { AttributePath: 'displayName', AttributeValue: a.group } },
        }),
      );
      return out.GroupId!;
    }
    const out = await store.send(
      new GetUserIdCommand({
        IdentityStoreId: identityStoreId,
        AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: a.user } },
      }),
    );
    return out.UserId!;
  } catch (err) {
    if (errName(err) !== 'ResourceNotFoundException') throw err;
    if (a.group !== undefined) {
      throw new IdentityCenterGroupNotFound(
        `Identity Center has no group named "${a.group}" (identity store ${identityStoreId})`,
      );
    }
    throw new IdentityCenterUserNotFound(
      `Identity Center has no user named "${a.user}" (identity store ${identityStoreId})`,
    );
  }
}

/** The request's assignments with ids; every name is checked before anything changes. */
export async function resolveAssignments(
  clients: Pick<IdentityCenterAccessClients, 'ssoAdmin' | 'identityStore'>,
  instance: { instanceArn: string; identityStoreId: string },
  wanted: readonly IdentityCenterAssignment[],
): Promise<ResolvedAssignment[]> {
  if (wanted.length === 0) return [];
  const sets = await permissionSetsByName(clients.ssoAdmin, instance.instanceArn);
  const resolved: ResolvedAssignment[] = [];
  for (const a of wanted) {
    const permissionSetArn = sets.get(a.permissionSet);
    if (!permissionSetArn) {
      throw new PermissionSetNotFound(
        `Identity Center instance ${instance.instanceArn} has no permission set named "${a.permissionSet}"`,
      );
    }
    resolved.push({
      key: assignmentKey(a),
      principalType: a.group !== undefined ? 'GROUP' : 'USER',
      principalId: await principalId(clients.identityStore, instance.identityStoreId, a),
      permissionSetArn,
    });
  }
  return resolved;
}

const identity = (a: Pick<ResolvedAssignment, 'principalType' | 'principalId' | 'permissionSetArn'>) =>
  `${a.permissionSetArn}|${a.principalType}|${a.principalId}`;
const statusIdentity = (s: AccountAssignmentOperationStatus) =>
  `${s.PermissionSetArn}|${s.PrincipalType}|${s.PrincipalId}`;

/** Existing assignments of the account for these permission sets, as identities. */
async function existingAssignments(
  sso: SSOAdminClient,
  instanceArn: string,
  accountId: string,
  permissionSetArns: Iterable<string>,
): Promise<Set<string>> {
  const existing = new Set<string>();
  for (const ps of new Set(permissionSetArns)) {
    let token: string | undefined;
    do {
      const out = await sso.send(
        new ListAccountAssignmentsCommand({
          InstanceArn: instanceArn,
          AccountId: accountId,
          PermissionSetArn: ps,
          NextToken: token,
        }),
      );
      for (const a of out.AccountAssignments ?? []) {
        existing.add(`${a.PermissionSetArn}|${a.PrincipalType}|${a.PrincipalId}`);
      }
      token = out.NextToken;
    } while (token);
  }
  return existing;
}

/** Describes the previous poll's pending requests; a FAILED one is IdentityCenterAssignmentFailed. */
async function stillPending(
  sso: SSOAdminClient,
  instanceArn: string,
  kind: 'creation' | 'deletion',
  requestIds: readonly string[],
): Promise<AccountAssignmentOperationStatus[]> {
  const pending: AccountAssignmentOperationStatus[] = [];
  for (const id of requestIds) {
    const status =
      kind === 'creation'
        ? (
            await sso.send(
              new DescribeAccountAssignmentCreationStatusCommand({
                InstanceArn: instanceArn,
                AccountAssignmentCreationRequestId: id,
              }),
            )
          ).AccountAssignmentCreationStatus
        : (
            await sso.send(
              new DescribeAccountAssignmentDeletionStatusCommand({
                InstanceArn: instanceArn,
                AccountAssignmentDeletionRequestId: id,
              }),
            )
          ).AccountAssignmentDeletionStatus;
    if (status?.Status === 'FAILED') {
      throw new IdentityCenterAssignmentFailed(
        `Identity Center account assignment ${kind} ${id} (${status.PrincipalType} ${status.PrincipalId}, ` +
          `${status.PermissionSetArn}) FAILED: ${status.FailureReason ?? 'no reason given'}`,
      );
    }
    if (status?.Status === 'IN_PROGRESS') pending.push(status);
  }
  return pending;
}

export async function reconcileIdentityCenterAccess(
  clients: IdentityCenterAccessClients,
  input: IdentityCenterAccessInput,
): Promise<IdentityCenterAccessResult> {
  const { accountId } = input.state.account;
  const wanted = input.state.validation.request.identityCenter ?? [];
  const previous = input.state.identityCenterAccess ?? undefined;
  const at = now();
  const item = clients.metadata ? await getMetadata(clients.metadata, accountId) : undefined;
  const owned = item?.identityCenterAssignments ?? [];
  const result: IdentityCenterAccessResult = {
    status: 'SUCCEEDED',
    instanceArn: null,
    created: [...(previous?.created ?? [])],
    deleted: [...(previous?.deleted ?? [])],
    pendingCreations: [],
    pendingDeletions: [],
    startedAt: previous?.startedAt ?? at.toISOString(),
    checkedAt: at.toISOString(),
  };
  if (wanted.length === 0 && owned.length === 0) return result;

  const instance = await findInstance(clients.ssoAdmin);
  result.instanceArn = instance.instanceArn;
  const desired = await resolveAssignments(clients, instance, wanted);
  const desiredIds = new Set(desired.map(identity));
  const dropped = owned.filter((o) => !desiredIds.has(identity(o)));

  const creating = await stillPending(
    clients.ssoAdmin,
    instance.instanceArn,
    'creation',
    previous?.pendingCreations ?? [],
  );
  const deleting = await stillPending(
    clients.ssoAdmin,
    instance.instanceArn,
    'deletion',
    previous?.pendingDeletions ?? [],
  );
  const creatingIds = new Set(creating.map(statusIdentity));
  const deletingIds = new Set(deleting.map(statusIdentity));
  result.pendingCreations = creating.map((s) => s.RequestId!);
  result.pendingDeletions = deleting.map((s) => s.RequestId!);

  const existing = await existingAssignments(clients.ssoAdmin, instance.instanceArn, accountId, [
    ...desired.map((d) => d.permissionSetArn),
    ...dropped.map((d) => d.permissionSetArn),
  ]);

  // What the factory made: what it made before and still exists or is wanted, plus what it creates now.
  const made = new Map(
    owned
      .filter((o) => desiredIds.has(identity(o)) || existing.has(identity(o)))
      .map((o) => [identity(o), o]),
  );

  for (const d of desired) {
    const id = identity(d);
    if (existing.has(id) || creatingIds.has(id)) continue;
    const out = await clients.ssoAdmin.send(
      new CreateAccountAssignmentCommand({
        InstanceArn: instance.instanceArn,
        TargetId: accountId,
        TargetType: 'AWS_ACCOUNT',
        PermissionSetArn: d.permissionSetArn,
        PrincipalType: d.principalType,
        PrincipalId: d.principalId,
      }),
    );
    const status = out.AccountAssignmentCreationStatus;
    if (status?.Status === 'FAILED') {
      throw new IdentityCenterAssignmentFailed(
        `Identity Center refused ${d.key} on ${accountId}: ${status.FailureReason ?? 'no reason given'}`,
      );
    }
    if (status?.Status !== 'SUCCEEDED' && status?.RequestId) result.pendingCreations.push(status.RequestId);
    made.set(id, d);
    if (!result.created.includes(d.key)) result.created.push(d.key);
  }

  for (const o of dropped) {
    const id = identity(o);
    if (!existing.has(id) || deletingIds.has(id)) continue;
    const out = await clients.ssoAdmin.send(
      new DeleteAccountAssignmentCommand({
        InstanceArn: instance.instanceArn,
        TargetId: accountId,
        TargetType: 'AWS_ACCOUNT',
        PermissionSetArn: o.permissionSetArn,
        PrincipalType: o.principalType,
        PrincipalId: o.principalId,
      }),
    );
    const status = out.AccountAssignmentDeletionStatus;
    if (status?.Status === 'FAILED') {
      throw new IdentityCenterAssignmentFailed(
        `Identity Center refused to delete ${o.key} on ${accountId}: ${status.FailureReason ?? 'no reason given'}`,
      );
    }
    if (status?.Status !== 'SUCCEEDED' && status?.RequestId) result.pendingDeletions.push(status.RequestId);
    if (!result.deleted.includes(o.key)) result.deleted.push(o.key);
  }

  if (clients.metadata && item) {
    await recordFactoryMade(
      clients.metadata,
      accountId,
      'identityCenterAssignments',
      [...made.values()].sort((a, b) => a.key.localeCompare(b.key)),
      input.state.version,
    );
  }
  if (result.pendingCreations.length || result.pendingDeletions.length) {
    result.status = 'IN_PROGRESS';
    const minutes = (at.getTime() - Date.parse(result.startedAt)) / 60_000;
    if (minutes > IDENTITY_CENTER_TIMEOUT_MINUTES) {
      throw new IdentityCenterAssignmentFailed(
        `Identity Center account assignments still IN_PROGRESS after ${IDENTITY_CENTER_TIMEOUT_MINUTES} minutes: ` +
          [...result.pendingCreations, ...result.pendingDeletions].join(', '),
      );
    }
  }
  result.created.sort();
  result.deleted.sort();
  logger.info('Reconciled Identity Center access', { accountId, ...result });
  return result;
}

export const handler = step.handler(
  IdentityCenterAccessInputSchema,
  'Identity Center access',
  (input, metadata) => reconcileIdentityCenterAccess({ ssoAdmin, identityStore, metadata }, input),
);
