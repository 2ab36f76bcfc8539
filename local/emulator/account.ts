import * as AccountSdk from '@aws-sdk/client-account';
import type {
  AlternateContact,
  DeleteAlternateContactCommandInput,
  DisableRegionCommandInput,
  EnableRegionCommandInput,
  GetAlternateContactCommandInput,
  GetAlternateContactCommandOutput,
  GetRegionOptStatusCommandInput,
  GetRegionOptStatusCommandOutput,
  ListRegionsCommandInput,
  ListRegionsCommandOutput,
  PutAlternateContactCommandInput,
  Region,
  RegionOptStatus,
} from '@aws-sdk/client-account';
import { CallContext, CommandTable, Env, errorsFor, Out, paginate } from './common';
import { Organizations } from './organizations';
import { defineService, type EmulatedService, type SdkClient } from './service';

/**
 * The Account Management API (`@aws-sdk/client-account`): alternate contacts and opt-in
 * Regions of the organization's accounts, called from the management account with
 * `AccountId` for a member account. Each rule is in docs/aws-behaviour.md (ACCT-n).
 */

/** Account Management's errors, modeled (`instanceof` works) as its SDK deserializer builds them. */
const err = (name: string, message: string) => errorsFor(ACCOUNT_CLIENT)(name, message);

/** The service principal whose trusted access the Account Management API needs (ACCT-2). */
export const ACCOUNT_SERVICE_PRINCIPAL = 'account.amazonaws.com';

/**
 * The opt-in Regions of the `aws` partition (ACCT-9): "Regions launched after March 20,
 * 2019 are disabled by default" (https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html),
 * those the Region table marks "Opt-in required"
 * (https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html).
 * The emulator's own copy, written from that source and not imported from the schema
 * (OPT_IN_REGIONS, the handlers' copy): a handler that trusts a Region the emulator does
 * not know fails here as it would in AWS. test/local/emulator/opt-in-regions.test.ts
 * checks the two copies agree, so an update to one that misses the other is caught.
 */
export const EMULATED_OPT_IN_REGIONS: readonly string[] = [
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-south-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ca-west-1',
  'eu-central-2',
  'eu-south-1',
  'eu-south-2',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'mx-central-1',
];

/** Default Regions of the `aws` partition (enabled by default, cannot be enabled or disabled). */
const DEFAULT_REGIONS: readonly string[] = [
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-southeast-1',
  'ap-southeast-2',
  'ca-central-1',
  'eu-central-1',
  'eu-north-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'sa-east-1',
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
];

export interface AccountManagementTimings {
  /** Emulated seconds an opt-in Region takes from ENABLING to ENABLED (ACCT-10). @default 900 */
  readonly enableSeconds?: number;
  /** Emulated seconds from DISABLING to DISABLED (ACCT-11). @default 900 */
  readonly disableSeconds?: number;
}

interface RegionState {
  status: 'ENABLING' | 'ENABLED' | 'DISABLING' | 'DISABLED';
  /** Emulated epoch ms when ENABLING / DISABLING ends. */
  until: number;
}

export interface AccountManagementDeps {
  /** Whether an account is a member of the organization (not the management account). */
  isMember(accountId: string): boolean;
  /** The organization's id, for the accountInOrganization ARN in a denial. */
  organizationId(): string;
}

const CONTACT_TYPES = ['BILLING', 'OPERATIONS', 'SECURITY'];
const EMAIL = /^[\s]*[\w+=.#|!&-]+@[\w.-]+\.[\w]+[\s]*$/;
const PHONE = /^[\s0-9()+-]+$/;

export class AccountManagement implements EmulatedService {
  /** Service principals with trusted access in the organization. */
  private readonly trusted = new Set<string>([ACCOUNT_SERVICE_PRINCIPAL]);
  private readonly contacts = new Map<string, Map<string, AlternateContact>>();
  private readonly regions = new Map<string, Map<string, RegionState>>();
  private readonly enableMs: number;
  private readonly disableMs: number;

  constructor(
    private readonly env: Env,
    private readonly deps: AccountManagementDeps,
    timings: AccountManagementTimings = {},
  ) {
    this.enableMs = (timings.enableSeconds ?? 900) * 1000;
    this.disableMs = (timings.disableSeconds ?? 900) * 1000;
  }

  /** Organizations' trusted access for a service (`EnableAWSServiceAccess` / `DisableAWSServiceAccess`). */
  setTrustedAccess(servicePrincipal: string, enabled: boolean): void {
    if (enabled) this.trusted.add(servicePrincipal);
    else this.trusted.delete(servicePrincipal);
  }

  /** The account's alternate contacts, by type (inspection). */
  alternateContacts(accountId: string): Record<string, AlternateContact> {
    return Object.fromEntries(
      [...(this.contacts.get(accountId) ?? new Map()).entries()].map(([k, v]) => [k, { ...v }]),
    );
  }

  /** The account's opt-in Region statuses now (inspection). */
  regionStatuses(accountId: string): Record<string, string> {
    return Object.fromEntries(EMULATED_OPT_IN_REGIONS.map((r) => [r, this.status(accountId, r)]));
  }

  commands(_clientName?: string): CommandTable {
    return {
      PutAlternateContactCommand: (i: PutAlternateContactCommandInput, c: CallContext) =>
        this.putAlternateContact(i, c),
      GetAlternateContactCommand: (i: GetAlternateContactCommandInput, c: CallContext) =>
        this.getAlternateContact(i, c),
      DeleteAlternateContactCommand: (i: DeleteAlternateContactCommandInput, c: CallContext) =>
        this.deleteAlternateContact(i, c),
      EnableRegionCommand: (i: EnableRegionCommandInput, c: CallContext) => this.enableRegion(i, c),
      DisableRegionCommand: (i: DisableRegionCommandInput, c: CallContext) => this.disableRegion(i, c),
      GetRegionOptStatusCommand: (i: GetRegionOptStatusCommandInput, c: CallContext) =>
        this.getRegionOptStatus(i, c),
      ListRegionsCommand: (i: ListRegionsCommandInput, c: CallContext) => this.listRegions(i, c),
    };
  }

  /**
   * The account a call acts on (ACCT-1, ACCT-2, ACCT-3): the caller's own without
   * `AccountId`; with it, the caller must be the management account, the target a member,
   * and trusted access enabled.
   */
  private target(accountId: string | undefined, ctx: CallContext, operation: string): string {
    if (accountId === undefined) return ctx.principal.accountId;
    if (!/^\d{12}$/.test(accountId)) {
      throw err(
        'ValidationException',
        `1 validation error detected: Value at 'accountId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^\\d{12}$`,
      );
    }
    const management = this.env.managementAccountId;
    if (ctx.principal.accountId !== management) {
      throw err(
        'AccessDeniedException',
        `User: ${ctx.principal.arn} is not authorized to perform: account:${operation} on resource: arn:aws:account::${management}:account/${this.deps.organizationId()}/${accountId}`,
      );
    }
    if (accountId === management) {
      throw err(
        'ValidationException',
        "The management account can't specify its own AccountId; call the operation without the AccountId parameter.",
      );
    }
    if (!this.trusted.has(ACCOUNT_SERVICE_PRINCIPAL)) {
      throw err(
        'AccessDeniedException',
        `User: ${ctx.principal.arn} is not authorized to perform: account:${operation} (Your organization must first enable trusted access with AWS Account Management.)`,
      );
    }
    if (!this.deps.isMember(accountId)) {
      throw err(
        'AccessDeniedException',
        `User: ${ctx.principal.arn} is not authorized to perform: account:${operation} on resource: arn:aws:account::${management}:account/${this.deps.organizationId()}/${accountId}`,
      );
    }
    return accountId;
  }

  private contactType(value: unknown): string {
    if (typeof value !== 'string' || !CONTACT_TYPES.includes(value)) {
      throw err(
        'ValidationException',
        `1 validation error detected: Value '${String(value)}' at 'alternateContactType' failed to satisfy constraint: Member must satisfy enum value set: [BILLING, OPERATIONS, SECURITY]`,
      );
    }
    return value;
  }

  putAlternateContact(i: PutAlternateContactCommandInput, ctx: CallContext): object {
    const accountId = this.target(i.AccountId, ctx, 'PutAlternateContact');
    const type = this.contactType(i.AlternateContactType);
    const check = (field: string, value: string | undefined, max: number, pattern?: RegExp) => {
      if (
        typeof value !== 'string' ||
        value.length < 1 ||
        value.length > max ||
        (pattern && !pattern.test(value))
      ) {
        throw err(
          'ValidationException',
          `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must have length between 1 and ${max}${pattern ? ` and match pattern ${pattern.source}` : ''}`,
        );
      }
    };
    check('name', i.Name, 64);
    check('title', i.Title, 50);
    check('emailAddress', i.EmailAddress, 254, EMAIL);
    check('phoneNumber', i.PhoneNumber, 25, PHONE);
    let byType = this.contacts.get(accountId);
    if (!byType) this.contacts.set(accountId, (byType = new Map()));
    byType.set(type, {
      AlternateContactType: type as AlternateContact['AlternateContactType'],
      Name: i.Name,
      Title: i.Title,
      EmailAddress: i.EmailAddress,
      PhoneNumber: i.PhoneNumber,
    });
    return {};
  }

  getAlternateContact(
    i: GetAlternateContactCommandInput,
    ctx: CallContext,
  ): Out<GetAlternateContactCommandOutput> {
    const accountId = this.target(i.AccountId, ctx, 'GetAlternateContact');
    const type = this.contactType(i.AlternateContactType);
    const contact = this.contacts.get(accountId)?.get(type);
    if (!contact)
      throw err('ResourceNotFoundException', 'No contact of the inputted alternate contact type found.');
    return { AlternateContact: { ...contact } };
  }

  deleteAlternateContact(i: DeleteAlternateContactCommandInput, ctx: CallContext): object {
    const accountId = this.target(i.AccountId, ctx, 'DeleteAlternateContact');
    const type = this.contactType(i.AlternateContactType);
    if (!this.contacts.get(accountId)?.delete(type)) {
      throw err('ResourceNotFoundException', 'No contact of the inputted alternate contact type found.');
    }
    return {};
  }

  // ---- Regions -------------------------------------------------------------------

  /** The status of a Region for an account now, settling ENABLING / DISABLING on the clock (ACCT-10, ACCT-11). */
  private status(accountId: string, region: string): RegionOptStatus {
    if (!EMULATED_OPT_IN_REGIONS.includes(region)) return 'ENABLED_BY_DEFAULT';
    const state = this.regions.get(accountId)?.get(region);
    if (!state) return 'DISABLED';
    if (state.status === 'ENABLING' && this.env.clock.nowMs() >= state.until) state.status = 'ENABLED';
    if (state.status === 'DISABLING' && this.env.clock.nowMs() >= state.until) state.status = 'DISABLED';
    return state.status;
  }

  private regionName(value: unknown): string {
    if (typeof value !== 'string' || value.length < 1 || value.length > 50) {
      throw err(
        'ValidationException',
        `1 validation error detected: Value at 'regionName' failed to satisfy constraint: Member must have length between 1 and 50`,
      );
    }
    if (
      !DEFAULT_REGIONS.includes(value) &&
      !EMULATED_OPT_IN_REGIONS.includes(value) &&
      !this.env.regions.includes(value)
    ) {
      throw err('ValidationException', `The Region ${value} is not valid.`);
    }
    return value;
  }

  private setRegion(accountId: string, region: string, state: RegionState): void {
    let byRegion = this.regions.get(accountId);
    if (!byRegion) this.regions.set(accountId, (byRegion = new Map()));
    byRegion.set(region, state);
  }

  /** The account and opt-in Region an EnableRegion / DisableRegion call changes, and its status now. */
  private optInRegion(
    i: { AccountId?: string; RegionName?: string },
    ctx: CallContext,
    operation: 'EnableRegion' | 'DisableRegion',
  ): { accountId: string; region: string; status: string } {
    const accountId = this.target(i.AccountId, ctx, operation);
    const region = this.regionName(i.RegionName);
    const status = this.status(accountId, region);
    if (status === 'ENABLED_BY_DEFAULT') {
      throw err(
        'ValidationException',
        `The Region ${region} is enabled by default and can't be enabled or disabled.`,
      );
    }
    return { accountId, region, status };
  }

  enableRegion(i: EnableRegionCommandInput, ctx: CallContext): object {
    const { accountId, region, status } = this.optInRegion(i, ctx, 'EnableRegion');
    if (status === 'DISABLING') {
      throw err(
        'ConflictException',
        `The Region ${region} is currently being disabled (DISABLING); try again when it is DISABLED.`,
      );
    }
    if (status === 'DISABLED') {
      this.setRegion(accountId, region, {
        status: 'ENABLING',
        until: this.env.clock.nowMs() + this.enableMs,
      });
    }
    return {};
  }

  disableRegion(i: DisableRegionCommandInput, ctx: CallContext): object {
    const { accountId, region, status } = this.optInRegion(i, ctx, 'DisableRegion');
    if (status === 'ENABLING') {
      throw err(
        'ConflictException',
        `The Region ${region} is currently being enabled (ENABLING); it can't be disabled until it is ENABLED.`,
      );
    }
    if (status === 'ENABLED') {
      this.setRegion(accountId, region, {
        status: 'DISABLING',
        until: this.env.clock.nowMs() + this.disableMs,
      });
    }
    return {};
  }

  getRegionOptStatus(
    i: GetRegionOptStatusCommandInput,
    ctx: CallContext,
  ): Out<GetRegionOptStatusCommandOutput> {
    const accountId = this.target(i.AccountId, ctx, 'GetRegionOptStatus');
    const region = this.regionName(i.RegionName);
    return { RegionName: region, RegionOptStatus: this.status(accountId, region) };
  }

  listRegions(i: ListRegionsCommandInput, ctx: CallContext): Out<ListRegionsCommandOutput> {
    const accountId = this.target(i.AccountId, ctx, 'ListRegions');
    if (i.MaxResults !== undefined && (i.MaxResults < 1 || i.MaxResults > 50)) {
      throw err('ValidationException', 'MaxResults must be between 1 and 50.');
    }
    const names = [...new Set([...DEFAULT_REGIONS, ...this.env.regions, ...EMULATED_OPT_IN_REGIONS])].sort();
    const all: Region[] = names
      .map((r) => ({ RegionName: r, RegionOptStatus: this.status(accountId, r) }))
      .filter(
        (r) => !i.RegionOptStatusContains?.length || i.RegionOptStatusContains.includes(r.RegionOptStatus),
      );
    const p = paginate(
      all,
      i.NextToken,
      i.MaxResults,
      Math.max(this.env.pageSize, 20),
      (m) => err('ValidationException', m),
      'regions',
    );
    return { Regions: p.items, NextToken: p.nextToken };
  }
}

/** Account Management (REST-JSON); throttles with TooManyRequestsException (SDK errors.d.ts). */
export const ACCOUNT_CLIENT: SdkClient = {
  name: 'AccountClient',
  sdk: AccountSdk,
  protocol: 'json',
  throttleErrors: ['TooManyRequestsException'],
};

export const ACCOUNT_MANAGEMENT = defineService({
  clients: [ACCOUNT_CLIENT],
  create: (ctx) => {
    const org = ctx.get(Organizations);
    return new AccountManagement(ctx.env, {
      isMember: (id) => id !== ctx.env.managementAccountId && org.account(id)?.status === 'ACTIVE',
      organizationId: () => org.orgId,
    });
  },
});
