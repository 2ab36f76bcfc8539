import * as iamSdk from '@aws-sdk/client-iam';
import * as stsSdk from '@aws-sdk/client-sts';
import type {
  AttachRolePolicyCommandInput,
  AttachRolePolicyCommandOutput,
  CreateRoleCommandInput,
  CreateRoleCommandOutput,
  DeleteRoleCommandInput,
  DeleteRoleCommandOutput,
  DetachRolePolicyCommandInput,
  DetachRolePolicyCommandOutput,
  GetRoleCommandInput,
  GetRoleCommandOutput,
  ListAttachedRolePoliciesCommandInput,
  ListAttachedRolePoliciesCommandOutput,
  Role,
  UpdateAssumeRolePolicyCommandInput,
  UpdateAssumeRolePolicyCommandOutput,
} from '@aws-sdk/client-iam';
import type {
  AssumeRoleCommandInput,
  AssumeRoleCommandOutput,
  GetCallerIdentityCommandInput,
  GetCallerIdentityCommandOutput,
} from '@aws-sdk/client-sts';
import { authorizationMessage, evaluateAssumeRole, type Decision, type PolicyDocument } from './iam-policy';
import {
  CallContext,
  CommandTable,
  Env,
  errorsFor,
  Out,
  paginate,
  Principal,
  principalOf,
  Rng,
} from './common';
import { Organizations } from './organizations';
import { defineService, type EmulatedService, type SdkClient } from './service';

/**
 * IAM and STS (query protocol) throttle with `Throttling`, which their SDK clients do not
 * model (THR-3), and deny with `AccessDenied` (ID-5):
 * https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html,
 * https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html
 */
const queryService = { protocol: 'query', accessDeniedError: 'AccessDenied' } as const;

export const IAM_CLIENT: SdkClient = {
  ...queryService,
  name: 'IAMClient',
  sdk: iamSdk,
  stepFunctions: { service: 'iam', errorPrefix: 'Iam' },
};
export const STS_CLIENT: SdkClient = {
  ...queryService,
  name: 'STSClient',
  sdk: stsSdk,
  stepFunctions: { service: 'sts', errorPrefix: 'Sts' },
};

const iamErr = errorsFor(IAM_CLIENT);
const stsErr = errorsFor(STS_CLIENT);

export const CONTROL_TOWER_EXECUTION_ROLE = 'AWSControlTowerExecution';
export const ADMINISTRATOR_ACCESS = 'arn:aws:iam::aws:policy/AdministratorAccess';

export interface RoleRecord {
  name: string;
  id: string;
  arn: string;
  path: string;
  /** Emulated epoch ms. */
  createdAt: number;
  trustPolicy: string;
  /** The trust policy before the last update, in force until the update propagates. */
  previousTrustPolicy?: string;
  trustUpdatedAt?: number;
  attached: Map<string, string>;
  /** Inline policy documents (from the template: the role's own and each AWS::IAM::Policy naming it). */
  inline: unknown[];
  description?: string;
  maxSessionDuration: number;
  tags: { Key: string; Value: string }[];
}

/** A trust policy that lets principals of `accountId` assume the role. */
export function trustAccountPolicy(accountId: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'sts:AssumeRole' },
    ],
  });
}

interface Statement {
  Effect?: string;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: unknown;
  Condition?: unknown;
}

function asList(v: unknown): unknown[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

function parsePolicy(document: string): { Statement: Statement[] } | string {
  let doc: unknown;
  try {
    doc = JSON.parse(document);
  } catch {
    return 'Syntax errors in policy.';
  }
  if (!doc || typeof doc !== 'object') return 'Syntax errors in policy.';
  const raw = (doc as { Statement?: unknown }).Statement;
  if (raw === undefined) return 'Missing required field Statement';
  const statements = asList(raw) as Statement[];
  for (const s of statements) {
    if (!s || typeof s !== 'object') return 'Syntax errors in policy.';
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') return 'Invalid effect in policy.';
    if (s.Action === undefined) return 'Missing required field Action';
    if (s.Principal === undefined && s.NotPrincipal === undefined) return 'Missing required field Principal';
  }
  return { Statement: statements };
}

function awsPrincipals(principal: unknown): string[] {
  if (principal === '*') return ['*'];
  if (!principal || typeof principal !== 'object') return [];
  return asList((principal as { AWS?: unknown }).AWS).filter((p): p is string => typeof p === 'string');
}

/** IAM of every emulated account: roles, their trust and attached policies. */
export class Iam implements EmulatedService {
  private readonly accounts = new Map<string, Map<string, RoleRecord>>();
  private readonly rng: Rng;

  constructor(
    private readonly env: Env,
    private readonly propagationSeconds: number,
    private readonly accountExists: (accountId: string) => boolean,
  ) {
    this.rng = env.rng.fork('iam');
  }

  rolesOf(accountId: string): Map<string, RoleRecord> {
    let roles = this.accounts.get(accountId);
    if (!roles) {
      roles = new Map();
      this.accounts.set(accountId, roles);
    }
    return roles;
  }

  role(accountId: string, name: string): RoleRecord | undefined {
    return this.accounts.get(accountId)?.get(name);
  }

  /**
   * Puts a role in place. `propagated: true` backdates it so it can be assumed at once
   * (roles made by Control Tower while it vended the account).
   */
  putRole(
    accountId: string,
    name: string,
    trustPolicy: string,
    options: {
      propagated?: boolean;
      policies?: string[];
      inline?: unknown[];
      path?: string;
      description?: string;
    } = {},
  ): RoleRecord {
    const now = this.env.clock.nowMs();
    const path = options.path ?? '/';
    const role: RoleRecord = {
      name,
      id: `AROA${this.rng.upperAlnum(17)}`,
      arn: `arn:aws:iam::${accountId}:role${path}${name}`,
      path,
      createdAt: options.propagated ? now - this.propagationSeconds * 1000 - 1 : now,
      trustPolicy,
      attached: new Map((options.policies ?? []).map((arn) => [arn, arn.split('/').pop()!])),
      inline: options.inline ?? [],
      description: options.description,
      maxSessionDuration: 3600,
      tags: [],
    };
    this.rolesOf(accountId).set(name, role);
    return role;
  }

  /** Whether the role has propagated (IAM is eventually consistent). */
  propagated(role: RoleRecord): boolean {
    return this.env.clock.nowMs() - role.createdAt >= this.propagationSeconds * 1000;
  }

  /** The trust policy STS sees now: an update is seen only after it propagates. */
  effectiveTrust(role: RoleRecord): string {
    if (
      role.previousTrustPolicy !== undefined &&
      role.trustUpdatedAt !== undefined &&
      this.env.clock.nowMs() - role.trustUpdatedAt < this.propagationSeconds * 1000
    ) {
      return role.previousTrustPolicy;
    }
    return role.trustPolicy;
  }

  commands(): CommandTable {
    return {
      GetRoleCommand: (i: GetRoleCommandInput, c: CallContext) => this.getRole(i, c),
      CreateRoleCommand: (i: CreateRoleCommandInput, c: CallContext) => this.createRole(i, c),
      UpdateAssumeRolePolicyCommand: (i: UpdateAssumeRolePolicyCommandInput, c: CallContext) =>
        this.updateAssumeRolePolicy(i, c),
      ListAttachedRolePoliciesCommand: (i: ListAttachedRolePoliciesCommandInput, c: CallContext) =>
        this.listAttachedRolePolicies(i, c),
      AttachRolePolicyCommand: (i: AttachRolePolicyCommandInput, c: CallContext) =>
        this.attachRolePolicy(i, c),
      DetachRolePolicyCommand: (i: DetachRolePolicyCommandInput, c: CallContext) =>
        this.detachRolePolicy(i, c),
      DeleteRoleCommand: (i: DeleteRoleCommandInput, c: CallContext) => this.deleteRole(i, c),
    };
  }

  private view(r: RoleRecord): Role {
    return {
      Path: r.path,
      RoleName: r.name,
      RoleId: r.id,
      Arn: r.arn,
      CreateDate: new Date(r.createdAt),
      // IAM returns policy documents URL-encoded.
      AssumeRolePolicyDocument: encodeURIComponent(r.trustPolicy),
      Description: r.description,
      MaxSessionDuration: r.maxSessionDuration,
      Tags: r.tags.length ? r.tags : undefined,
    };
  }

  private requireRole(accountId: string, name: string | undefined): RoleRecord {
    const role = name ? this.role(accountId, name) : undefined;
    if (!role) throw iamErr('NoSuchEntityException', `The role with name ${name} cannot be found.`);
    return role;
  }

  private validatePolicy(document: string | undefined): void {
    if (!document) throw iamErr('MalformedPolicyDocumentException', 'Syntax errors in policy.');
    const policy = parsePolicy(document);
    if (typeof policy === 'string') throw iamErr('MalformedPolicyDocumentException', policy);
    for (const s of policy.Statement) {
      for (const p of awsPrincipals(s.Principal)) {
        if (p === '*' || /^\d{12}$/.test(p) || /^arn:aws:iam::\d{12}:root$/.test(p)) continue;
        const m = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(p);
        // IAM resolves role principals when the policy is saved: a missing role is an invalid principal.
        if (m && this.accountExists(m[1]) && this.role(m[1], m[2])) continue;
        if (/^arn:aws:(iam|sts)::\d{12}:(user|assumed-role)\//.test(p)) continue;
        throw iamErr('MalformedPolicyDocumentException', `Invalid principal in policy: "AWS":"${p}"`);
      }
    }
  }

  getRole(i: GetRoleCommandInput, ctx: CallContext): Out<GetRoleCommandOutput> {
    return { Role: this.view(this.requireRole(ctx.principal.accountId, i.RoleName)) };
  }

  createRole(i: CreateRoleCommandInput, ctx: CallContext): Out<CreateRoleCommandOutput> {
    const name = i.RoleName ?? '';
    if (!/^[\w+=,.@-]{1,64}$/.test(name)) {
      throw iamErr(
        'ValidationError',
        `1 validation error detected: Value '${name}' at 'roleName' failed to satisfy constraint`,
      );
    }
    if (this.role(ctx.principal.accountId, name)) {
      throw iamErr('EntityAlreadyExistsException', `Role with name ${name} already exists.`);
    }
    this.validatePolicy(i.AssumeRolePolicyDocument);
    const path = i.Path ?? '/';
    if (!/^\/([\x21-\x7e]*\/)?$/.test(path)) throw iamErr('ValidationError', `Invalid path ${path}`);
    const role = this.putRole(ctx.principal.accountId, name, i.AssumeRolePolicyDocument!, {
      path,
      description: i.Description,
    });
    if (i.MaxSessionDuration !== undefined) {
      if (i.MaxSessionDuration < 3600 || i.MaxSessionDuration > 43200) {
        throw iamErr('ValidationError', 'MaxSessionDuration must be between 3600 and 43200 seconds.');
      }
      role.maxSessionDuration = i.MaxSessionDuration;
    }
    role.tags = (i.Tags ?? []).map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' }));
    return { Role: this.view(role) };
  }

  updateAssumeRolePolicy(
    i: UpdateAssumeRolePolicyCommandInput,
    ctx: CallContext,
  ): Out<UpdateAssumeRolePolicyCommandOutput> {
    const role = this.requireRole(ctx.principal.accountId, i.RoleName);
    this.validatePolicy(i.PolicyDocument);
    role.previousTrustPolicy = this.effectiveTrust(role);
    role.trustPolicy = i.PolicyDocument!;
    role.trustUpdatedAt = this.env.clock.nowMs();
    return {};
  }

  listAttachedRolePolicies(
    i: ListAttachedRolePoliciesCommandInput,
    ctx: CallContext,
  ): Out<ListAttachedRolePoliciesCommandOutput> {
    const role = this.requireRole(ctx.principal.accountId, i.RoleName);
    const all = [...role.attached.entries()]
      .map(([PolicyArn, PolicyName]) => ({ PolicyArn, PolicyName }))
      .filter((p) => !i.PathPrefix || p.PolicyArn.includes(`:policy${i.PathPrefix}`));
    const page = paginate(
      all,
      i.Marker,
      i.MaxItems,
      this.env.pageSize,
      (m) => iamErr('InvalidInputException', m),
      `attached:${role.arn}`,
    );
    return {
      AttachedPolicies: page.items,
      IsTruncated: page.nextToken !== undefined,
      Marker: page.nextToken,
    };
  }

  attachRolePolicy(i: AttachRolePolicyCommandInput, ctx: CallContext): Out<AttachRolePolicyCommandOutput> {
    const role = this.requireRole(ctx.principal.accountId, i.RoleName);
    const arn = i.PolicyArn ?? '';
    const m = /^arn:aws:iam::(aws|\d{12}):policy\/(?:.*\/)?([\w+=,.@-]+)$/.exec(arn);
    if (!m) throw iamErr('InvalidInputException', `ARN ${arn} is not valid.`);
    // Only AWS managed policies exist here; the emulated accounts have no customer managed policies.
    if (m[1] !== 'aws')
      throw iamErr('NoSuchEntityException', `Policy ${arn} does not exist or is not attachable.`);
    role.attached.set(arn, m[2]);
    return {};
  }

  detachRolePolicy(i: DetachRolePolicyCommandInput, ctx: CallContext): Out<DetachRolePolicyCommandOutput> {
    const role = this.requireRole(ctx.principal.accountId, i.RoleName);
    if (!i.PolicyArn || !role.attached.delete(i.PolicyArn)) {
      throw iamErr('NoSuchEntityException', `Policy ${i.PolicyArn} was not found.`);
    }
    return {};
  }

  deleteRole(i: DeleteRoleCommandInput, ctx: CallContext): Out<DeleteRoleCommandOutput> {
    const role = this.requireRole(ctx.principal.accountId, i.RoleName);
    if (role.attached.size) {
      throw iamErr('DeleteConflictException', 'Cannot delete entity, must detach all policies first.');
    }
    this.rolesOf(ctx.principal.accountId).delete(role.name);
    return {};
  }
}

interface IssuedCredentials {
  principal: Principal;
  expiresAt: number;
}

/** Access key IDs are unique in the process (seeded ids would repeat across landing zones). */
let keyCounter = 0;

/** STS: AssumeRole across the emulated accounts, and who-am-I. */
export class Sts implements EmulatedService {
  private readonly issued = new Map<string, IssuedCredentials>();
  private readonly rng: Rng;

  constructor(
    private readonly env: Env,
    private readonly iam: Iam,
    /** ACTIVE accounts of the organization (the management account included). */
    private readonly accountActive: (accountId: string) => boolean,
    /** The caller's identity policies (sts:AssumeRole needs them to allow it too). */
    private readonly identityPolicies: (principal: Principal) => PolicyDocument[],
  ) {
    this.rng = env.rng.fork('sts');
  }

  /** The principal behind an access key this STS issued, if any. */
  lookup(accessKeyId: string): IssuedCredentials | undefined {
    return this.issued.get(accessKeyId);
  }

  commands(): CommandTable {
    return {
      AssumeRoleCommand: (i: AssumeRoleCommandInput, c: CallContext) => this.assumeRole(i, c),
      GetCallerIdentityCommand: (i: GetCallerIdentityCommandInput, c: CallContext) =>
        this.getCallerIdentity(i, c),
    };
  }

  assumeRole(i: AssumeRoleCommandInput, ctx: CallContext): Out<AssumeRoleCommandOutput> {
    const session = i.RoleSessionName ?? '';
    if (!/^[\w+=,.@-]{2,64}$/.test(session)) {
      throw stsErr(
        'ValidationError',
        `1 validation error detected: Value '${session}' at 'roleSessionName' failed to satisfy constraint`,
      );
    }
    const m = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(i.RoleArn ?? '');
    if (!m) throw stsErr('ValidationError', `${i.RoleArn} is invalid`);
    const [, accountId, roleName] = m;
    const denied = (
      decision: Decision = { effect: 'ImplicitDeny' },
      policyType?: 'identity-based' | 'resource-based',
    ) =>
      stsErr(
        'AccessDenied',
        authorizationMessage(ctx.principal.arn, 'sts:AssumeRole', i.RoleArn ?? '', decision, policyType),
      );
    const role = this.accountActive(accountId) ? this.iam.role(accountId, roleName) : undefined;
    // A role is found by its whole ARN (path included), and STS sees it only once IAM has propagated it.
    if (!role || role.arn !== i.RoleArn || !this.iam.propagated(role)) throw denied();
    // The role's trust policy and (across accounts, or when the trust names the account) the
    // caller's identity policies: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
    const { decision, policyType } = evaluateAssumeRole(
      this.identityPolicies(ctx.principal),
      this.iam.effectiveTrust(role),
      { arn: ctx.principal.arn, roleArn: ctx.principal.roleArn, accountId: ctx.principal.accountId },
      role.arn,
    );
    if (decision.effect !== 'Allow') throw denied(decision, policyType);
    const duration = i.DurationSeconds ?? 3600;
    if (duration > 3600) {
      // Every caller here is a role session: role chaining caps sessions at one hour.
      // https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html#iam-term-role-chaining
      throw stsErr(
        'ValidationError',
        'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
      );
    }
    if (duration < 900 || duration > role.maxSessionDuration) {
      throw stsErr(
        'ValidationError',
        `The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`,
      );
    }
    const principal = principalOf(accountId, roleName, session, role.path);
    keyCounter += 1;
    const accessKeyId = `ASIA${this.rng.upperAlnum(6)}${String(keyCounter).padStart(10, '0')}`;
    const expiresAt = this.env.clock.nowMs() + duration * 1000;
    this.issued.set(accessKeyId, { principal, expiresAt });
    return {
      Credentials: {
        AccessKeyId: accessKeyId,
        SecretAccessKey: this.rng.chars(
          'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+',
          40,
        ),
        SessionToken: `FwoGZXIvYXdzE${this.rng.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 120)}`,
        Expiration: new Date(expiresAt),
      },
      AssumedRoleUser: { Arn: principal.arn, AssumedRoleId: `${role.id}:${session}` },
      PackedPolicySize: 0,
    };
  }

  getCallerIdentity(
    _i: GetCallerIdentityCommandInput,
    ctx: CallContext,
  ): Out<GetCallerIdentityCommandOutput> {
    const role = this.iam.role(ctx.principal.accountId, ctx.principal.roleName);
    return {
      Account: ctx.principal.accountId,
      Arn: ctx.principal.arn,
      UserId: `${role?.id ?? 'AROAEMULATEDROLE00000'}:${ctx.principal.sessionName}`,
    };
  }
}

export const IAM = defineService({
  clients: [IAM_CLIENT],
  create: (ctx) =>
    new Iam(ctx.env, ctx.options.iamPropagationSeconds ?? 10, (id) => !!ctx.get(Organizations).account(id)),
});

export const STS = defineService({
  clients: [STS_CLIENT],
  create: (ctx) =>
    new Sts(
      ctx.env,
      ctx.get(Iam),
      (id) => ctx.get(Organizations).account(id)?.status === 'ACTIVE',
      (p) => ctx.authorizer().policiesOf(p),
    ),
});
