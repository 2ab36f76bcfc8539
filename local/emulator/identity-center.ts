import * as IdentitystoreSdk from '@aws-sdk/client-identitystore';
import type { GetGroupIdCommandInput, GetUserIdCommandInput } from '@aws-sdk/client-identitystore';
import * as SsoAdminSdk from '@aws-sdk/client-sso-admin';
import type {
  AccountAssignment,
  AccountAssignmentOperationStatus,
  CreateAccountAssignmentCommandInput,
  DeleteAccountAssignmentCommandInput,
  DescribeAccountAssignmentCreationStatusCommandInput,
  DescribeAccountAssignmentDeletionStatusCommandInput,
  DescribePermissionSetCommandInput,
  ListAccountAssignmentsCommandInput,
  ListInstancesCommandInput,
  ListPermissionSetsCommandInput,
} from '@aws-sdk/client-sso-admin';
import { CallContext, CommandTable, Env, errorsFor, paginate, Rng } from './common';
import { Organizations } from './organizations';
import { defineService, type EmulatedService, type SdkClient } from './service';

/**
 * IAM Identity Center: one organization instance in the management account (SSO admin)
 * and its identity store (users and groups), seeded with example names. Account
 * assignments are asynchronous: IN_PROGRESS, then SUCCEEDED (or FAILED) on the emulated
 * clock. Each rule is in docs/aws-behaviour.md (IDC-n).
 */

const ssoErr = (name: string, message: string) => errorsFor(SSO_ADMIN_CLIENT)(name, message);
const storeErr = (name: string, message: string) => errorsFor(IDENTITYSTORE_CLIENT)(name, message);

export interface IdentityCenterSeed {
  groups: readonly string[];
  users: readonly string[];
  permissionSets: readonly string[];
}

/** The example directory every emulated landing zone starts with. */
export const DEFAULT_IDENTITY_CENTER: IdentityCenterSeed = {
  groups: ['Platform Admins', 'Developers', 'Auditors', 'Billing'],
  users: ['alice@example.com', 'bob@example.com'],
  permissionSets: ['AdministratorAccess', 'PowerUserAccess', 'ReadOnlyAccess', 'ViewOnlyAccess', 'Billing'],
};

export interface IdentityCenterTimings {
  /** Emulated seconds an assignment creation or deletion stays IN_PROGRESS (IDC-6). @default 30 */
  readonly assignmentSeconds?: number;
}

interface Operation {
  status: AccountAssignmentOperationStatus;
  kind: 'create' | 'delete';
  until: number;
  instanceArn: string;
}

export class IdentityCenter implements EmulatedService {
  readonly instanceArn: string;
  readonly identityStoreId: string;
  private readonly instanceId: string;
  private readonly createdAt: Date;
  private readonly groups = new Map<string, string>(); // displayName -> GroupId
  private readonly users = new Map<string, string>(); // userName -> UserId
  private readonly permissionSets = new Map<string, { name: string; createdAt: Date }>(); // arn -> ...
  /** `account|permissionSetArn|type|principalId` of the assignments that exist. */
  private readonly assignments = new Set<string>();
  private readonly operations = new Map<string, Operation>();
  private readonly rng: Rng;
  private readonly assignmentMs: number;
  /** Whether the organization has enabled Identity Center (an organization instance exists). */
  private enabled = true;

  constructor(
    private readonly env: Env,
    private readonly deps: { isMember(accountId: string): boolean },
    seed: IdentityCenterSeed = DEFAULT_IDENTITY_CENTER,
    timings: IdentityCenterTimings = {},
  ) {
    this.rng = env.rng.fork('identity-center');
    this.assignmentMs = (timings.assignmentSeconds ?? 30) * 1000;
    this.instanceId = `ssoins-${this.rng.hex(16)}`;
    this.instanceArn = `arn:aws:sso:::instance/${this.instanceId}`;
    this.identityStoreId = `d-${this.rng.hex(10)}`;
    this.createdAt = env.clock.now();
    for (const g of seed.groups) this.groups.set(g, `${this.rng.hex(10)}-${this.rng.uuid()}`);
    for (const u of seed.users) this.users.set(u, `${this.rng.hex(10)}-${this.rng.uuid()}`);
    for (const p of seed.permissionSets) {
      this.permissionSets.set(`arn:aws:sso:::permissionSet/${this.instanceId}/ps-${this.rng.hex(16)}`, {
        name: p,
        createdAt: this.createdAt,
      });
    }
  }

  // ---- inspection ----------------------------------------------------------------

  /**
   * Identity Center enabled for the organization or not: without it ListInstances lists
   * no instance (IDC-11).
   */
  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
  }

  groupId(displayName: string): string | undefined {
    return this.groups.get(displayName);
  }

  userId(userName: string): string | undefined {
    return this.users.get(userName);
  }

  permissionSetArn(name: string): string | undefined {
    return [...this.permissionSets].find(([, p]) => p.name === name)?.[0];
  }

  /** The account's assignments, as `<GROUP|USER>:<name> -> <permission set name>`, sorted. */
  assignmentsOf(accountId: string): string[] {
    this.settle();
    const names = (type: string, id: string) =>
      [...(type === 'GROUP' ? this.groups : this.users)].find(([, v]) => v === id)?.[0] ?? id;
    return [...this.assignments]
      .map((k) => k.split('|'))
      .filter(([account]) => account === accountId)
      .map(([, ps, type, id]) => `${type}:${names(type, id)} -> ${this.permissionSets.get(ps)?.name ?? ps}`)
      .sort();
  }

  /** Puts an assignment in place at once (one made by hand, not by the factory). */
  assign(accountId: string, permissionSetName: string, type: 'GROUP' | 'USER', name: string): void {
    const ps = this.permissionSetArn(permissionSetName);
    const id = type === 'GROUP' ? this.groupId(name) : this.userId(name);
    if (!ps || !id) throw new Error(`assign: unknown permission set ${permissionSetName} or ${type} ${name}`);
    this.assignments.add([accountId, ps, type, id].join('|'));
  }

  commands(clientName: string): CommandTable {
    return clientName === IDENTITYSTORE_CLIENT.name ? this.commandsIdentityStore() : this.commandsSsoAdmin();
  }

  commandsSsoAdmin(): CommandTable {
    return {
      ListInstancesCommand: (i: ListInstancesCommandInput, c: CallContext) => this.listInstances(i, c),
      ListPermissionSetsCommand: (i: ListPermissionSetsCommandInput, c: CallContext) =>
        this.listPermissionSets(i, c),
      DescribePermissionSetCommand: (i: DescribePermissionSetCommandInput, c: CallContext) =>
        this.describePermissionSet(i, c),
      CreateAccountAssignmentCommand: (i: CreateAccountAssignmentCommandInput, c: CallContext) =>
        this.startAssignment('create', i, c),
      DeleteAccountAssignmentCommand: (i: DeleteAccountAssignmentCommandInput, c: CallContext) =>
        this.startAssignment('delete', i, c),
      DescribeAccountAssignmentCreationStatusCommand: (
        i: DescribeAccountAssignmentCreationStatusCommandInput,
        c: CallContext,
      ) => this.describeOperation('create', i.InstanceArn, i.AccountAssignmentCreationRequestId, c),
      DescribeAccountAssignmentDeletionStatusCommand: (
        i: DescribeAccountAssignmentDeletionStatusCommandInput,
        c: CallContext,
      ) => this.describeOperation('delete', i.InstanceArn, i.AccountAssignmentDeletionRequestId, c),
      ListAccountAssignmentsCommand: (i: ListAccountAssignmentsCommandInput, c: CallContext) =>
        this.listAccountAssignments(i, c),
    };
  }

  commandsIdentityStore(): CommandTable {
    return {
      GetGroupIdCommand: (i: GetGroupIdCommandInput, c: CallContext) => this.getGroupId(i, c),
      GetUserIdCommand: (i: GetUserIdCommandInput, c: CallContext) => this.getUserId(i, c),
    };
  }

  /** IN_PROGRESS operations whose time has come end (IDC-6). */
  settle(): void {
    const now = this.env.clock.nowMs();
    for (const op of this.operations.values()) {
      if (op.status.Status !== 'IN_PROGRESS' || now < op.until) continue;
      const s = op.status;
      const key = [s.TargetId, s.PermissionSetArn, s.PrincipalType, s.PrincipalId].join('|');
      if (op.kind === 'create') this.assignments.add(key);
      else this.assignments.delete(key);
      s.Status = 'SUCCEEDED';
    }
  }

  /** Only the management account (the instance's owner) is served here (IDC-1). */
  private requireOwner(ctx: CallContext, operation: string): void {
    if (ctx.principal.accountId !== this.env.managementAccountId) {
      throw ssoErr(
        'AccessDeniedException',
        `User: ${ctx.principal.arn} is not authorized to perform: sso:${operation}`,
      );
    }
  }

  private requireInstance(arn: string | undefined): void {
    if (arn !== this.instanceArn) {
      if (
        !/^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/.test(
          arn ?? '',
        )
      ) {
        throw ssoErr('ValidationException', `The value for InstanceArn is not valid: ${arn}`);
      }
      throw ssoErr('ResourceNotFoundException', `Instance ${arn} does not exist.`);
    }
  }

  private requirePermissionSet(arn: string | undefined): void {
    if (!arn || !this.permissionSets.has(arn)) {
      throw ssoErr('ResourceNotFoundException', `Could not find PermissionSet with ARN ${arn}.`);
    }
  }

  private page<T>(all: T[], token: string | undefined, max: number | undefined, scope: string) {
    if (max !== undefined && (max < 1 || max > 100)) {
      throw ssoErr('ValidationException', 'MaxResults must be between 1 and 100.');
    }
    return paginate(
      all,
      token,
      max,
      Math.max(this.env.pageSize, 10),
      (m) => ssoErr('ValidationException', m),
      scope,
    );
  }

  listInstances(i: ListInstancesCommandInput, ctx: CallContext) {
    this.requireOwner(ctx, 'ListInstances');
    const instance = {
      InstanceArn: this.instanceArn,
      IdentityStoreId: this.identityStoreId,
      OwnerAccountId: this.env.managementAccountId,
      Name: 'organization',
      CreatedDate: this.createdAt,
      Status: 'ACTIVE' as const,
    };
    const p = this.page(this.enabled ? [instance] : [], i.NextToken, i.MaxResults, 'instances');
    return { Instances: p.items, NextToken: p.nextToken };
  }

  listPermissionSets(i: ListPermissionSetsCommandInput, ctx: CallContext) {
    this.requireOwner(ctx, 'ListPermissionSets');
    this.requireInstance(i.InstanceArn);
    const p = this.page([...this.permissionSets.keys()], i.NextToken, i.MaxResults, 'permission-sets');
    return { PermissionSets: p.items, NextToken: p.nextToken };
  }

  describePermissionSet(i: DescribePermissionSetCommandInput, ctx: CallContext) {
    this.requireOwner(ctx, 'DescribePermissionSet');
    this.requireInstance(i.InstanceArn);
    this.requirePermissionSet(i.PermissionSetArn);
    const ps = this.permissionSets.get(i.PermissionSetArn!)!;
    return {
      PermissionSet: {
        Name: ps.name,
        PermissionSetArn: i.PermissionSetArn,
        CreatedDate: ps.createdAt,
        SessionDuration: 'PT1H',
      },
    };
  }

  private startAssignment(
    kind: 'create' | 'delete',
    i: CreateAccountAssignmentCommandInput | DeleteAccountAssignmentCommandInput,
    ctx: CallContext,
  ) {
    this.requireOwner(ctx, kind === 'create' ? 'CreateAccountAssignment' : 'DeleteAccountAssignment');
    this.requireInstance(i.InstanceArn);
    this.settle();
    if (i.TargetType !== 'AWS_ACCOUNT') {
      throw ssoErr('ValidationException', 'TargetType must be AWS_ACCOUNT.');
    }
    if (!/^\d{12}$/.test(i.TargetId ?? ''))
      throw ssoErr('ValidationException', `The value for TargetId is not valid: ${i.TargetId}`);
    if (i.PrincipalType !== 'USER' && i.PrincipalType !== 'GROUP') {
      throw ssoErr('ValidationException', 'PrincipalType must be USER or GROUP.');
    }
    this.requirePermissionSet(i.PermissionSetArn);
    const principals = i.PrincipalType === 'GROUP' ? this.groups : this.users;
    const known = [...principals.values()].includes(i.PrincipalId ?? '');
    const key = [i.TargetId, i.PermissionSetArn, i.PrincipalType, i.PrincipalId].join('|');
    // A second request for the same assignment while one runs is refused (IDC-7).
    for (const op of this.operations.values()) {
      const s = op.status;
      if (
        s.Status === 'IN_PROGRESS' &&
        [s.TargetId, s.PermissionSetArn, s.PrincipalType, s.PrincipalId].join('|') === key
      ) {
        throw ssoErr(
          'ConflictException',
          'An account assignment operation for this principal, permission set and account is already in progress.',
        );
      }
    }
    const failure = !this.deps.isMember(i.TargetId!)
      ? `Account ${i.TargetId} is not a member of the organization.`
      : !known
        ? `${i.PrincipalType === 'GROUP' ? 'Group' : 'User'} ${i.PrincipalId} does not exist in the identity store.`
        : undefined;
    const status: AccountAssignmentOperationStatus = {
      Status: failure ? 'FAILED' : 'IN_PROGRESS',
      RequestId: this.rng.uuid(),
      TargetId: i.TargetId,
      TargetType: 'AWS_ACCOUNT',
      PermissionSetArn: i.PermissionSetArn,
      PrincipalType: i.PrincipalType,
      PrincipalId: i.PrincipalId,
      CreatedDate: this.env.clock.now(),
      ...(failure ? { FailureReason: failure } : {}),
    };
    this.operations.set(status.RequestId!, {
      status,
      kind,
      until: this.env.clock.nowMs() + this.assignmentMs,
      instanceArn: this.instanceArn,
    });
    // The immediate answer is IN_PROGRESS even for a request that will fail (IDC-5).
    const answer = { ...status, Status: 'IN_PROGRESS' as const, FailureReason: undefined };
    return kind === 'create'
      ? { AccountAssignmentCreationStatus: answer }
      : { AccountAssignmentDeletionStatus: answer };
  }

  private describeOperation(
    kind: 'create' | 'delete',
    instanceArn: string | undefined,
    id: string | undefined,
    ctx: CallContext,
  ) {
    this.requireOwner(
      ctx,
      kind === 'create'
        ? 'DescribeAccountAssignmentCreationStatus'
        : 'DescribeAccountAssignmentDeletionStatus',
    );
    this.requireInstance(instanceArn);
    this.settle();
    const op = id ? this.operations.get(id) : undefined;
    if (!op || op.kind !== kind) {
      throw ssoErr('ResourceNotFoundException', `Could not find account assignment request ${id}.`);
    }
    return kind === 'create'
      ? { AccountAssignmentCreationStatus: { ...op.status } }
      : { AccountAssignmentDeletionStatus: { ...op.status } };
  }

  listAccountAssignments(i: ListAccountAssignmentsCommandInput, ctx: CallContext) {
    this.requireOwner(ctx, 'ListAccountAssignments');
    this.requireInstance(i.InstanceArn);
    this.requirePermissionSet(i.PermissionSetArn);
    this.settle();
    const all: AccountAssignment[] = [...this.assignments]
      .map((k) => k.split('|'))
      .filter(([account, ps]) => account === i.AccountId && ps === i.PermissionSetArn)
      .map(([account, ps, type, id]) => ({
        AccountId: account,
        PermissionSetArn: ps,
        PrincipalType: type as 'USER' | 'GROUP',
        PrincipalId: id,
      }));
    const p = this.page(all, i.NextToken, i.MaxResults, 'assignments');
    return { AccountAssignments: p.items, NextToken: p.nextToken };
  }

  // ---- identity store --------------------------------------------------------------

  private uniqueValue(
    i: GetGroupIdCommandInput | GetUserIdCommandInput,
    ctx: CallContext,
    paths: readonly string[],
    operation: string,
  ): string {
    if (ctx.principal.accountId !== this.env.managementAccountId) {
      throw storeErr(
        'AccessDeniedException',
        `User: ${ctx.principal.arn} is not authorized to perform: identitystore:${operation}`,
      );
    }
    if (i.IdentityStoreId !== this.identityStoreId) {
      throw storeErr('ResourceNotFoundException', `IdentityStore ${i.IdentityStoreId} not found.`);
    }
    const unique = i.AlternateIdentifier?.UniqueAttribute;
    if (!unique || !paths.includes(unique.AttributePath ?? '') || typeof unique.AttributeValue !== 'string') {
      throw storeErr(
        'ValidationException',
        `AlternateIdentifier must be a UniqueAttribute with AttributePath ${paths.join(' or ')}.`,
      );
    }
    return unique.AttributeValue;
  }

  getGroupId(i: GetGroupIdCommandInput, ctx: CallContext) {
    const name = this.uniqueValue(i, ctx, ['displayName'], 'GetGroupId');
    const id = this.groups.get(name);
    if (!id) throw storeErr('ResourceNotFoundException', `GROUP not found.`);
    return { GroupId: id, IdentityStoreId: this.identityStoreId };
  }

  getUserId(i: GetUserIdCommandInput, ctx: CallContext) {
    const name = this.uniqueValue(i, ctx, ['userName'], 'GetUserId');
    const id = this.users.get(name);
    if (!id) throw storeErr('ResourceNotFoundException', `USER not found.`);
    return { UserId: id, IdentityStoreId: this.identityStoreId };
  }
}

/** SSO admin (JSON protocol); throttles with ThrottlingException (SDK errors.d.ts). */
export const SSO_ADMIN_CLIENT: SdkClient = { name: 'SSOAdminClient', sdk: SsoAdminSdk, protocol: 'json' };
/** Identity store (JSON protocol); throttles with ThrottlingException (SDK errors.d.ts). */
export const IDENTITYSTORE_CLIENT: SdkClient = {
  name: 'IdentitystoreClient',
  sdk: IdentitystoreSdk,
  protocol: 'json',
};

export const IDENTITY_CENTER = defineService({
  clients: [SSO_ADMIN_CLIENT, IDENTITYSTORE_CLIENT],
  create: (ctx) => {
    const org = ctx.get(Organizations);
    return new IdentityCenter(ctx.env, {
      isMember: (id) => id !== ctx.env.managementAccountId && org.account(id)?.status === 'ACTIVE',
    });
  },
});
