import * as organizationsSdk from '@aws-sdk/client-organizations';
import type {
  Account,
  CloseAccountCommandInput,
  CloseAccountCommandOutput,
  DescribeAccountCommandInput,
  DescribeAccountCommandOutput,
  DescribeOrganizationalUnitCommandInput,
  DescribeOrganizationalUnitCommandOutput,
  DescribeOrganizationCommandInput,
  DescribeOrganizationCommandOutput,
  ListAccountsCommandInput,
  ListAccountsCommandOutput,
  ListAccountsForParentCommandInput,
  ListAccountsForParentCommandOutput,
  ListOrganizationalUnitsForParentCommandInput,
  ListOrganizationalUnitsForParentCommandOutput,
  ListParentsCommandInput,
  ListParentsCommandOutput,
  ListRootsCommandInput,
  ListRootsCommandOutput,
  ListTagsForResourceCommandInput,
  ListTagsForResourceCommandOutput,
  MoveAccountCommandInput,
  MoveAccountCommandOutput,
  OrganizationalUnit,
  TagResourceCommandInput,
  TagResourceCommandOutput,
  UntagResourceCommandInput,
  UntagResourceCommandOutput,
} from '@aws-sdk/client-organizations';
import { CallContext, CommandTable, Env, errorsFor, Out, paginate, Rng } from './common';
import { defineService, type EmulatedService, type SdkClient } from './service';

/** Organizations (JSON protocol); throttles with TooManyRequestsException (THR-1). */
export const ORGANIZATIONS_CLIENT: SdkClient = {
  name: 'OrganizationsClient',
  sdk: organizationsSdk,
  protocol: 'json',
  // https://docs.aws.amazon.com/organizations/latest/APIReference/CommonErrors.html and
  // https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html:
  // TooManyRequestsException, and ConcurrentModificationException when another request
  // changes the same entity.
  throttleErrors: ['TooManyRequestsException', 'TooManyRequestsException', 'ConcurrentModificationException'],
  stepFunctions: { service: 'organizations', errorPrefix: 'Organizations' },
};

const err = errorsFor(ORGANIZATIONS_CLIENT);

export interface OrganizationalUnitSpec {
  readonly name: string;
  /** Name of the parent OU. @default - the root */
  readonly parent?: string;
  /** Registered with Control Tower. @default true */
  readonly registered?: boolean;
}

export interface AccountSpec {
  readonly name: string;
  readonly email: string;
  /** OU name (or `Parent/Child` path). */
  readonly ou: string;
  /** Vended through Account Factory: has a provisioned product in Service Catalog. @default false */
  readonly provisioned?: boolean;
  /** The account ID. @default - the next generated ID */
  readonly id?: string;
  readonly tags?: Record<string, string>;
}

export interface OrganizationSpec {
  readonly ous: readonly OrganizationalUnitSpec[];
  readonly accounts?: readonly AccountSpec[];
}

/** A Control Tower landing zone's usual shape. */
export const DEFAULT_ORGANIZATION: OrganizationSpec = {
  ous: [
    { name: 'Security' },
    { name: 'Sandbox' },
    { name: 'Workloads' },
    { name: 'Production', parent: 'Workloads' },
    { name: 'Suspended', registered: false },
  ],
  accounts: [
    { name: 'Log Archive', email: 'log-archive@example.com', ou: 'Security' },
    { name: 'Audit', email: 'audit@example.com', ou: 'Security' },
  ],
};

export type AccountStatus = 'ACTIVE' | 'PENDING_CLOSURE' | 'SUSPENDED';

export interface OuRecord {
  id: string;
  arn: string;
  name: string;
  parentId: string;
  registered: boolean;
  tags: Map<string, string>;
}

export interface AccountRecord {
  id: string;
  arn: string;
  name: string;
  email: string;
  parentId: string;
  status: AccountStatus;
  joinedMethod: 'CREATED' | 'INVITED';
  joinedAt: Date;
  tags: Map<string, string>;
  /** Emulated epoch ms at which a PENDING_CLOSURE account becomes SUSPENDED. */
  closesAt?: number;
  /**
   * The OU Control Tower enrolled the account in (Account Factory's last successful
   * operation on it); unset for an account Control Tower does not govern.
   */
  enrolledOuId?: string;
  /** Its baseline was changed outside Control Tower (a test's hand change) until it is enrolled again. */
  baselineChangedByHand?: boolean;
}

/** Emulated seconds between CloseAccount and SUSPENDED. */
const CLOSE_SECONDS = 300;
const MAX_TAGS = 50;

export class Organizations implements EmulatedService {
  readonly orgId: string;
  readonly rootId: string;
  readonly orgArn: string;
  readonly rootArn: string;
  private readonly ous = new Map<string, OuRecord>();
  private readonly accountsById = new Map<string, AccountRecord>();
  private readonly rootTags = new Map<string, string>();
  private readonly idBase: number;
  private accountCounter = 0;
  private readonly ouRng: Rng;

  constructor(
    private readonly env: Env,
    readonly managementEmail = 'management@example.com',
  ) {
    const rng = env.rng.fork('organizations');
    this.orgId = `o-${rng.lowerAlnum(10)}`;
    this.rootId = `r-${rng.lowerAlnum(4)}`;
    this.orgArn = `arn:aws:organizations::${env.managementAccountId}:organization/${this.orgId}`;
    this.rootArn = `arn:aws:organizations::${env.managementAccountId}:root/${this.orgId}/${this.rootId}`;
    this.idBase = 200_000_000_000 + rng.int(90_000) * 1_000_000;
    this.ouRng = rng.fork('ou');
    this.accountsById.set(env.managementAccountId, {
      id: env.managementAccountId,
      arn: this.accountArn(env.managementAccountId),
      name: 'Management',
      email: managementEmail,
      parentId: this.rootId,
      status: 'ACTIVE',
      joinedMethod: 'CREATED',
      joinedAt: env.clock.now(),
      tags: new Map(),
    });
  }

  // ---- model, used by the other services and by inspection --------------------

  get managementAccountId(): string {
    return this.env.managementAccountId;
  }

  accountArn(accountId: string): string {
    return `arn:aws:organizations::${this.env.managementAccountId}:account/${this.orgId}/${accountId}`;
  }

  createOu(spec: OrganizationalUnitSpec): OuRecord {
    const parentId = spec.parent ? this.requireOuByName(spec.parent).id : this.rootId;
    if (this.children(parentId).some((o) => o.name === spec.name)) {
      throw new Error(`OU ${spec.name} already exists under ${parentId}`);
    }
    const id = `ou-${this.rootId.slice(2)}-${this.ouRng.lowerAlnum(8)}`;
    const ou: OuRecord = {
      id,
      arn: `arn:aws:organizations::${this.env.managementAccountId}:ou/${this.orgId}/${id}`,
      name: spec.name,
      parentId,
      registered: spec.registered ?? true,
      tags: new Map(),
    };
    this.ous.set(id, ou);
    return ou;
  }

  createAccount(
    name: string,
    email: string,
    parentId: string,
    joinedMethod: 'CREATED' | 'INVITED',
    fixedId?: string,
  ): AccountRecord {
    if (this.findAccountByEmail(email)) throw new Error(`An account with email ${email} already exists`);
    if (fixedId && this.accountsById.has(fixedId)) throw new Error(`Account ${fixedId} already exists`);
    if (!fixedId) this.accountCounter += 1;
    const id = fixedId ?? String(this.idBase + this.accountCounter);
    const account: AccountRecord = {
      id,
      arn: this.accountArn(id),
      name,
      email,
      parentId,
      status: 'ACTIVE',
      joinedMethod,
      joinedAt: this.env.clock.now(),
      tags: new Map(),
    };
    this.accountsById.set(id, account);
    return account;
  }

  allOus(): OuRecord[] {
    return [...this.ous.values()];
  }

  ou(id: string): OuRecord | undefined {
    return this.ous.get(id);
  }

  /** OUs with this name (names are unique per parent only). */
  ousNamed(name: string): OuRecord[] {
    return this.allOus().filter((o) => o.name === name);
  }

  /** By name, or by `Parent/Child` path; throws when missing or ambiguous. */
  requireOuByName(nameOrPath: string): OuRecord {
    const parts = nameOrPath.split('/').map((p) => p.trim());
    if (parts.length > 1) {
      let parentId = this.rootId;
      let found: OuRecord | undefined;
      for (const part of parts) {
        found = this.children(parentId).find((o) => o.name === part);
        if (!found) throw new Error(`No OU at path ${nameOrPath}`);
        parentId = found.id;
      }
      return found!;
    }
    const matches = this.ousNamed(nameOrPath);
    if (matches.length !== 1) {
      throw new Error(matches.length ? `OU name ${nameOrPath} is ambiguous` : `No OU named ${nameOrPath}`);
    }
    return matches[0];
  }

  /** 'Workloads/Production' for a nested OU. */
  ouPath(ouId: string): string {
    const names: string[] = [];
    let ou = this.ous.get(ouId);
    while (ou) {
      names.unshift(ou.name);
      ou = this.ous.get(ou.parentId);
    }
    return names.join('/');
  }

  account(id: string): AccountRecord | undefined {
    this.settle();
    return this.accountsById.get(id);
  }

  allAccounts(): AccountRecord[] {
    this.settle();
    return [...this.accountsById.values()];
  }

  findAccountByEmail(email: string): AccountRecord | undefined {
    const e = email.trim().toLowerCase();
    return [...this.accountsById.values()].find((a) => a.email.toLowerCase() === e);
  }

  /** Control Tower enrolls the account in this OU (moving it there): its baseline is in sync again. */
  enroll(accountId: string, ouId: string): void {
    const account = this.accountsById.get(accountId);
    if (!account) throw new Error(`No account ${accountId}`);
    account.parentId = ouId;
    account.enrolledOuId = ouId;
    account.baselineChangedByHand = false;
  }

  moveAccountTo(accountId: string, parentId: string): void {
    const account = this.accountsById.get(accountId);
    if (!account) throw new Error(`No account ${accountId}`);
    account.parentId = parentId;
  }

  isParent(id: string): boolean {
    return id === this.rootId || this.ous.has(id);
  }

  /** Applies what time has done: closing accounts become SUSPENDED. */
  settle(): void {
    const now = this.env.clock.nowMs();
    for (const a of this.accountsById.values()) {
      if (a.status === 'PENDING_CLOSURE' && a.closesAt !== undefined && a.closesAt <= now) {
        a.status = 'SUSPENDED';
        a.closesAt = undefined;
      }
    }
  }

  private children(parentId: string): OuRecord[] {
    return this.allOus().filter((o) => o.parentId === parentId);
  }

  private accountView(a: AccountRecord): Account {
    return {
      Id: a.id,
      Arn: a.arn,
      Email: a.email,
      Name: a.name,
      Status: a.status,
      State: a.status,
      JoinedMethod: a.joinedMethod,
      JoinedTimestamp: a.joinedAt,
    };
  }

  private ouView(o: OuRecord): OrganizationalUnit {
    return { Id: o.id, Arn: o.arn, Name: o.name };
  }

  // ---- API ---------------------------------------------------------------------

  commands(): CommandTable {
    return {
      ListRootsCommand: (i: ListRootsCommandInput, c: CallContext) => this.listRoots(i, c),
      ListOrganizationalUnitsForParentCommand: (
        i: ListOrganizationalUnitsForParentCommandInput,
        c: CallContext,
      ) => this.listOrganizationalUnitsForParent(i, c),
      DescribeOrganizationalUnitCommand: (i: DescribeOrganizationalUnitCommandInput, c: CallContext) =>
        this.describeOrganizationalUnit(i, c),
      ListAccountsCommand: (i: ListAccountsCommandInput, c: CallContext) => this.listAccounts(i, c),
      ListAccountsForParentCommand: (i: ListAccountsForParentCommandInput, c: CallContext) =>
        this.listAccountsForParent(i, c),
      DescribeAccountCommand: (i: DescribeAccountCommandInput, c: CallContext) => this.describeAccount(i, c),
      ListParentsCommand: (i: ListParentsCommandInput, c: CallContext) => this.listParents(i, c),
      ListTagsForResourceCommand: (i: ListTagsForResourceCommandInput, c: CallContext) =>
        this.listTagsForResource(i, c),
      TagResourceCommand: (i: TagResourceCommandInput, c: CallContext) => this.tagResource(i, c),
      UntagResourceCommand: (i: UntagResourceCommandInput, c: CallContext) => this.untagResource(i, c),
      CloseAccountCommand: (i: CloseAccountCommandInput, c: CallContext) => this.closeAccount(i, c),
      DescribeOrganizationCommand: (i: DescribeOrganizationCommandInput, c: CallContext) =>
        this.describeOrganization(i, c),
      MoveAccountCommand: (i: MoveAccountCommandInput, c: CallContext) => this.moveAccount(i, c),
    };
  }

  /** Organizations answers the management account only (member accounts get AccessDenied). */
  private requireManagement(ctx: CallContext): void {
    if (ctx.principal.accountId !== this.env.managementAccountId) {
      throw err('AccessDeniedException', "You don't have permissions to access this resource.");
    }
  }

  private invalid = (message: string): Error => err('InvalidInputException', message);

  private page<T>(all: T[], token: string | undefined, max: number | undefined, scope: string) {
    if (max !== undefined && (max < 1 || max > 20)) {
      throw this.invalid('MaxResults must be between 1 and 20.');
    }
    return paginate(all, token, max, this.env.pageSize, this.invalid, scope);
  }

  private requireParent(id: string | undefined): string {
    if (!id) throw this.invalid('You provided a value that does not match the required pattern: ParentId.');
    if (!/^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/.test(id)) {
      throw this.invalid(`You provided a value that does not match the required pattern: ParentId (${id}).`);
    }
    if (!this.isParent(id))
      throw err(
        'ParentNotFoundException',
        "We can't find a root or OU with the ParentId that you specified.",
      );
    return id;
  }

  private requireAccount(id: string | undefined): AccountRecord {
    if (!id || !/^\d{12}$/.test(id)) {
      throw this.invalid(`You provided a value that does not match the required pattern: AccountId (${id}).`);
    }
    const a = this.account(id);
    if (!a) throw err('AccountNotFoundException', "You specified an account that doesn't exist.");
    return a;
  }

  listRoots(i: ListRootsCommandInput, ctx: CallContext): Out<ListRootsCommandOutput> {
    this.requireManagement(ctx);
    const p = this.page(
      [{ Id: this.rootId, Arn: this.rootArn, Name: 'Root', PolicyTypes: [] }],
      i.NextToken,
      i.MaxResults,
      'roots',
    );
    return { Roots: p.items, NextToken: p.nextToken };
  }

  listOrganizationalUnitsForParent(
    i: ListOrganizationalUnitsForParentCommandInput,
    ctx: CallContext,
  ): Out<ListOrganizationalUnitsForParentCommandOutput> {
    this.requireManagement(ctx);
    const parentId = this.requireParent(i.ParentId);
    const all = this.children(parentId).map((o) => this.ouView(o));
    const p = this.page(all, i.NextToken, i.MaxResults, `ous:${parentId}`);
    return { OrganizationalUnits: p.items, NextToken: p.nextToken };
  }

  describeOrganizationalUnit(
    i: DescribeOrganizationalUnitCommandInput,
    ctx: CallContext,
  ): Out<DescribeOrganizationalUnitCommandOutput> {
    this.requireManagement(ctx);
    const id = i.OrganizationalUnitId;
    if (!id || !/^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/.test(id)) {
      throw this.invalid(
        `You provided a value that does not match the required pattern: OrganizationalUnitId (${id}).`,
      );
    }
    const ou = this.ous.get(id);
    if (!ou)
      throw err(
        'OrganizationalUnitNotFoundException',
        "We can't find an OU with the OrganizationalUnitId that you specified.",
      );
    return { OrganizationalUnit: this.ouView(ou) };
  }

  listAccounts(i: ListAccountsCommandInput, ctx: CallContext): Out<ListAccountsCommandOutput> {
    this.requireManagement(ctx);
    const all = this.allAccounts().map((a) => this.accountView(a));
    const p = this.page(all, i.NextToken, i.MaxResults, 'accounts');
    return { Accounts: p.items, NextToken: p.nextToken };
  }

  listAccountsForParent(
    i: ListAccountsForParentCommandInput,
    ctx: CallContext,
  ): Out<ListAccountsForParentCommandOutput> {
    this.requireManagement(ctx);
    const parentId = this.requireParent(i.ParentId);
    const all = this.allAccounts()
      .filter((a) => a.parentId === parentId)
      .map((a) => this.accountView(a));
    const p = this.page(all, i.NextToken, i.MaxResults, `accounts:${parentId}`);
    return { Accounts: p.items, NextToken: p.nextToken };
  }

  describeAccount(i: DescribeAccountCommandInput, ctx: CallContext): Out<DescribeAccountCommandOutput> {
    this.requireManagement(ctx);
    return { Account: this.accountView(this.requireAccount(i.AccountId)) };
  }

  listParents(i: ListParentsCommandInput, ctx: CallContext): Out<ListParentsCommandOutput> {
    this.requireManagement(ctx);
    const id = i.ChildId ?? '';
    let parentId: string | undefined;
    if (/^\d{12}$/.test(id)) parentId = this.account(id)?.parentId;
    else if (id.startsWith('ou-')) parentId = this.ous.get(id)?.parentId;
    else
      throw this.invalid(`You provided a value that does not match the required pattern: ChildId (${id}).`);
    if (!parentId)
      throw err(
        'ChildNotFoundException',
        "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.",
      );
    const type = parentId === this.rootId ? 'ROOT' : 'ORGANIZATIONAL_UNIT';
    const p = this.page(
      [{ Id: parentId, Type: type as 'ROOT' | 'ORGANIZATIONAL_UNIT' }],
      i.NextToken,
      i.MaxResults,
      `parents:${id}`,
    );
    return { Parents: p.items, NextToken: p.nextToken };
  }

  private tagsOf(resourceId: string | undefined): Map<string, string> {
    const id = resourceId ?? '';
    if (/^\d{12}$/.test(id)) {
      const a = this.account(id);
      if (a) return a.tags;
    } else if (id.startsWith('ou-')) {
      const o = this.ous.get(id);
      if (o) return o.tags;
    } else if (id === this.rootId) {
      return this.rootTags;
    } else {
      throw this.invalid(
        `You provided a value that does not match the required pattern: ResourceId (${id}).`,
      );
    }
    throw err(
      'TargetNotFoundException',
      "We can't find a root, OU, account, or policy with the TargetId that you specified.",
    );
  }

  listTagsForResource(
    i: ListTagsForResourceCommandInput,
    ctx: CallContext,
  ): Out<ListTagsForResourceCommandOutput> {
    this.requireManagement(ctx);
    const all = [...this.tagsOf(i.ResourceId).entries()].map(([Key, Value]) => ({ Key, Value }));
    const p = this.page(all, i.NextToken, undefined, `tags:${i.ResourceId}`);
    return { Tags: p.items, NextToken: p.nextToken };
  }

  tagResource(i: TagResourceCommandInput, ctx: CallContext): Out<TagResourceCommandOutput> {
    this.requireManagement(ctx);
    const tags = this.tagsOf(i.ResourceId);
    const incoming = i.Tags ?? [];
    if (!incoming.length) throw this.invalid('Tags must contain at least one tag.');
    for (const t of incoming) {
      if (!t.Key || t.Key.length > 128 || t.Key.toLowerCase().startsWith('aws:')) {
        throw this.invalid(`You provided a tag key that is not valid: ${t.Key}.`);
      }
      if (t.Value === undefined || t.Value.length > 256) {
        throw this.invalid(`You provided a tag value that is not valid for key ${t.Key}.`);
      }
    }
    const merged = new Map(tags);
    for (const t of incoming) merged.set(t.Key!, t.Value!);
    if (merged.size > MAX_TAGS) {
      throw err(
        'ConstraintViolationException',
        `You have exceeded the maximum number of tags (${MAX_TAGS}) for this resource.`,
      );
    }
    for (const t of incoming) tags.set(t.Key!, t.Value!);
    return {};
  }

  untagResource(i: UntagResourceCommandInput, ctx: CallContext): Out<UntagResourceCommandOutput> {
    this.requireManagement(ctx);
    const tags = this.tagsOf(i.ResourceId);
    if (!i.TagKeys?.length) throw this.invalid('TagKeys must contain at least one key.');
    for (const k of i.TagKeys) tags.delete(k);
    return {};
  }

  closeAccount(i: CloseAccountCommandInput, ctx: CallContext): Out<CloseAccountCommandOutput> {
    this.requireManagement(ctx);
    const a = this.requireAccount(i.AccountId);
    if (a.id === this.env.managementAccountId) {
      throw err(
        'ConstraintViolationException',
        'You cannot close the management account of the organization.',
      );
    }
    if (a.status !== 'ACTIVE') throw err('AccountAlreadyClosedException', 'The account is already closed.');
    a.status = 'PENDING_CLOSURE';
    a.closesAt = this.env.clock.nowMs() + CLOSE_SECONDS * 1000;
    return {};
  }

  describeOrganization(
    _i: DescribeOrganizationCommandInput,
    ctx: CallContext,
  ): Out<DescribeOrganizationCommandOutput> {
    if (!this.accountsById.has(ctx.principal.accountId)) {
      throw err('AWSOrganizationsNotInUseException', 'Your account is not a member of an organization.');
    }
    const m = this.accountsById.get(this.env.managementAccountId)!;
    return {
      Organization: {
        Id: this.orgId,
        Arn: this.orgArn,
        FeatureSet: 'ALL',
        MasterAccountArn: m.arn,
        MasterAccountId: m.id,
        MasterAccountEmail: m.email,
        AvailablePolicyTypes: [],
      },
    };
  }

  moveAccount(i: MoveAccountCommandInput, ctx: CallContext): Out<MoveAccountCommandOutput> {
    this.requireManagement(ctx);
    const a = this.requireAccount(i.AccountId);
    if (!i.SourceParentId || !this.isParent(i.SourceParentId)) {
      throw err(
        'SourceParentNotFoundException',
        "We can't find a source root or OU with the ParentId that you specified.",
      );
    }
    if (!i.DestinationParentId || !this.isParent(i.DestinationParentId)) {
      throw err(
        'DestinationParentNotFoundException',
        "We can't find a destination root or OU with the ParentId that you specified.",
      );
    }
    if (a.parentId !== i.SourceParentId) {
      throw err(
        'AccountNotFoundException',
        "You specified an account that doesn't exist in the source parent.",
      );
    }
    if (a.parentId === i.DestinationParentId) {
      throw err('DuplicateAccountException', 'That account is already present in the specified destination.');
    }
    a.parentId = i.DestinationParentId;
    return {};
  }
}

/** Registry line: Organizations, the organization every other service reads. */
export const ORGANIZATIONS = defineService({
  clients: [ORGANIZATIONS_CLIENT],
  create: (ctx) => new Organizations(ctx.env),
});
