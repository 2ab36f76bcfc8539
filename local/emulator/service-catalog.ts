import * as serviceCatalogSdk from '@aws-sdk/client-service-catalog';
import type {
  DescribeProvisionedProductCommandInput,
  DescribeProvisionedProductCommandOutput,
  DescribeRecordCommandInput,
  DescribeRecordCommandOutput,
  AssociatePrincipalWithPortfolioCommandInput,
  DisassociatePrincipalFromPortfolioCommandInput,
  ListLaunchPathsCommandInput,
  ListLaunchPathsCommandOutput,
  ListPortfoliosCommandInput,
  ListPortfoliosCommandOutput,
  ListProvisioningArtifactsCommandInput,
  ListProvisioningArtifactsCommandOutput,
  ProvisionedProductAttribute,
  ProvisionedProductDetail,
  ProvisionedProductStatus,
  ProvisionProductCommandInput,
  ProvisionProductCommandOutput,
  RecordDetail,
  RecordOutput,
  SearchProductsCommandInput,
  SearchProductsCommandOutput,
  SearchProvisionedProductsCommandInput,
  SearchProvisionedProductsCommandOutput,
  TerminateProvisionedProductCommandInput,
  TerminateProvisionedProductCommandOutput,
  UpdateProvisionedProductCommandInput,
  UpdateProvisionedProductCommandOutput,
} from '@aws-sdk/client-service-catalog';
import { CallContext, CommandTable, Env, errorsFor, Out, paginate, Principal, Rng } from './common';
import { defineService, type EmulatedService, type SdkClient } from './service';
import { Ec2 } from './ec2';
import type { FaultInjector } from './faults';
import { LifecycleEvents } from './lifecycle-events';
import { ADMINISTRATOR_ACCESS, CONTROL_TOWER_EXECUTION_ROLE, Iam, trustAccountPolicy } from './iam-sts';
import { Organizations, type AccountRecord, type OuRecord } from './organizations';

/** Service Catalog (JSON protocol); throttles with ThrottlingException (THR-4). */
export const SERVICE_CATALOG_CLIENT: SdkClient = {
  name: 'ServiceCatalogClient',
  sdk: serviceCatalogSdk,
  protocol: 'json',
  stepFunctions: { service: 'servicecatalog', errorPrefix: 'ServiceCatalog' },
};

const err = errorsFor(SERVICE_CATALOG_CLIENT);

export const ACCOUNT_FACTORY_PRODUCT_NAME = 'AWS Control Tower Account Factory';
export const CONTROL_TOWER_BUSY_MESSAGE =
  'Account Factory cannot complete an operation on this account, because another AWS Control Tower operation is in progress. Try again later.';

const PARAMETERS = [
  'AccountEmail',
  'AccountName',
  'ManagedOrganizationalUnit',
  'SSOUserEmail',
  'SSOUserFirstName',
  'SSOUserLastName',
] as const;
type Parameters = Record<(typeof PARAMETERS)[number], string>;

/** Emulated seconds a record stays CREATED before it turns IN_PROGRESS. */
const CREATED_SECONDS = 5;
/** Emulated seconds before a request Control Tower rejects up front (bad OU, ...) fails. */
const QUICK_FAILURE_SECONDS = 60;

export interface ControlTowerTimings {
  /** Emulated seconds to vend (or enroll) an account. @default 1500 */
  readonly createSeconds?: number;
  /** Emulated seconds to update or terminate an account's product. @default 600 */
  readonly updateSeconds?: number;
  /** Account operations Control Tower runs at once; one more is refused. @default 5 */
  readonly maxConcurrentOperations?: number;
  /** Each duration varies by up to this fraction, seeded. @default 0.1 */
  readonly jitter?: number;
}

export type OperationType = 'PROVISION' | 'UPDATE' | 'TERMINATE' | 'EXTERNAL';
export type OperationOutcome = 'PENDING' | 'SUCCEEDED' | 'FAILED';

/** One Control Tower account operation, as a time interval (emulated epoch ms). */
export interface ControlTowerOperation {
  recordId: string;
  type: OperationType;
  email: string;
  start: number;
  end: number;
  outcome: OperationOutcome;
}

type RecordType = 'PROVISION_PRODUCT' | 'UPDATE_PROVISIONED_PRODUCT' | 'TERMINATE_PROVISIONED_PRODUCT';

interface RecordRecord {
  id: string;
  type: RecordType;
  productId: string;
  artifactId: string;
  pathId: string;
  provisionedProductId: string;
  provisionedProductName: string;
  createdAt: number;
  endsAt: number;
  /** Decided when the operation starts (e.g. an OU that does not exist). */
  plannedFailure?: { code: string; description: string };
  /** Parameters the operation applies. */
  parameters: Parameters;
  outcome: OperationOutcome;
  errors: { Code: string; Description: string }[];
  outputs: RecordOutput[];
  tags: { Key: string; Value: string }[];
  operation: ControlTowerOperation;
}

interface ProductRecord {
  id: string;
  name: string;
  arn: string;
  status: ProvisionedProductStatus;
  statusMessage?: string;
  createdAt: number;
  idempotencyToken: string;
  lastRecordId: string;
  lastProvisioningRecordId: string;
  lastSuccessfulProvisioningRecordId?: string;
  productId: string;
  artifactId: string;
  tags: { Key: string; Value: string }[];
  userArn: string;
  userArnSession: string;
  roleArn: string;
  parameters: Parameters;
  accountId?: string;
  terminated: boolean;
}

/** What the Account Factory changes beyond Service Catalog. */
export interface LandingZoneParts {
  readonly org: Organizations;
  readonly iam: Iam;
  readonly ec2: Ec2;
  readonly faults: FaultInjector;
  /** Control Tower's lifecycle events (and the wake-up of operations at their end). */
  readonly lifecycle?: LifecycleEvents;
  /** The first of `actions` the principal's identity policies do not allow, if any. */
  readonly authorize?: (principal: Principal, actions: readonly string[]) => string | undefined;
}

/** The portfolio Control Tower puts its Account Factory product in. */
export const ACCOUNT_FACTORY_PORTFOLIO_NAME = 'AWS Control Tower Account Factory Portfolio';

/**
 * What the principal that provisions Account Factory's product must be allowed to do
 * (Control Tower guide, Account Factory permissions; see docs/aws-behaviour.md).
 */
export const REQUESTER_ACTIONS = ['organizations:CreateAccount', 'organizations:DescribeCreateAccountStatus'];

function wildcard(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
}

/**
 * Service Catalog, as far as the Control Tower Account Factory product goes: account
 * operations are intervals of emulated time, applied lazily by `settle()`.
 */
export class ServiceCatalog implements EmulatedService {
  readonly productId: string;
  readonly productViewId: string;
  readonly portfolioId: string;
  readonly activeArtifactId: string;
  readonly deprecatedArtifactId: string;
  readonly pathId: string;
  private readonly createdAt: number;
  private readonly records = new Map<string, RecordRecord>();
  private readonly products = new Map<string, ProductRecord>();
  private readonly tokens = new Map<string, string>();
  private readonly operations: ControlTowerOperation[] = [];
  private readonly created = new Map<string, number>();
  private readonly provisionRequests = new Map<string, number>();
  private refused = 0;
  private readonly rng: Rng;
  private readonly jitterRng: Rng;
  private readonly timings: Required<ControlTowerTimings>;
  private readonly ssoPortal: string;
  /**
   * Principals associated with the Account Factory portfolio: IAM ARNs, or IAM_PATTERN
   * patterns (`*` wildcards). Only they see the product.
   */
  private readonly portfolioPrincipals = new Map<string, 'IAM' | 'IAM_PATTERN'>();

  constructor(
    private readonly env: Env,
    private readonly parts: LandingZoneParts,
    timings: ControlTowerTimings = {},
  ) {
    this.rng = env.rng.fork('service-catalog');
    this.jitterRng = env.rng.fork('control-tower-jitter');
    this.timings = {
      createSeconds: timings.createSeconds ?? 1500,
      updateSeconds: timings.updateSeconds ?? 600,
      maxConcurrentOperations: timings.maxConcurrentOperations ?? 5,
      jitter: timings.jitter ?? 0.1,
    };
    this.productId = `prod-${this.rng.lowerAlnum(13)}`;
    this.productViewId = `prodview-${this.rng.lowerAlnum(13)}`;
    this.portfolioId = `port-${this.rng.lowerAlnum(13)}`;
    this.deprecatedArtifactId = `pa-${this.rng.lowerAlnum(13)}`;
    this.activeArtifactId = `pa-${this.rng.lowerAlnum(13)}`;
    this.pathId = `lpv3-${this.rng.lowerAlnum(13)}`;
    this.ssoPortal = `https://d-${this.rng.hex(10)}.awsapps.com/start`;
    this.createdAt = env.clock.nowMs() - 86_400_000;
  }

  // ---- time --------------------------------------------------------------------

  /** Applies every operation whose end has passed, in the order they end. */
  settle(): void {
    const now = this.env.clock.nowMs();
    const due = [...this.records.values()]
      .filter((r) => r.outcome === 'PENDING' && r.endsAt <= now)
      .sort((a, b) => a.endsAt - b.endsAt || a.createdAt - b.createdAt);
    for (const r of due) this.complete(r);
    for (const op of this.operations) {
      if (op.type === 'EXTERNAL' && op.outcome === 'PENDING' && op.end <= now) op.outcome = 'SUCCEEDED';
    }
  }

  private inFlight(now: number): number {
    return this.operations.filter((op) => op.start <= now && now < op.end).length;
  }

  private duration(seconds: number): number {
    const j = this.timings.jitter;
    return Math.round(seconds * 1000 * (1 + j * (2 * this.jitterRng.next() - 1)));
  }

  /** Control Tower operations started outside the factory: they hold slots for `seconds`. */
  startExternalOperations(count: number, seconds: number): void {
    const now = this.env.clock.nowMs();
    for (let n = 0; n < count; n++) {
      this.operations.push({
        recordId: `external-${this.rng.lowerAlnum(8)}`,
        type: 'EXTERNAL',
        email: '',
        start: now,
        end: now + seconds * 1000,
        outcome: 'PENDING',
      });
    }
  }

  // ---- inspection ----------------------------------------------------------------

  get controlTowerOperations(): ControlTowerOperation[] {
    this.settle();
    return this.operations.map((op) => ({ ...op }));
  }

  /** The most operations in flight at any instant, from the intervals (ends free a slot before starts take it). */
  get peakConcurrentOperations(): number {
    const events: [number, number][] = [];
    for (const op of this.operations) {
      events.push([op.start, +1], [op.end, -1]);
    }
    events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let current = 0;
    let peak = 0;
    for (const [, delta] of events) {
      current += delta;
      peak = Math.max(peak, current);
    }
    return peak;
  }

  /** Accounts Account Factory created (not enrolled), per email (lower-cased). */
  get accountsCreatedByEmail(): Record<string, number> {
    this.settle();
    return Object.fromEntries(this.created);
  }

  /** ProvisionProduct calls that started an operation, per email (lower-cased). */
  get provisionRequestsByEmail(): Record<string, number> {
    return Object.fromEntries(this.provisionRequests);
  }

  /** Operations refused because Control Tower was at its limit. */
  get refusedOperations(): number {
    return this.refused;
  }

  /** Seeds a provisioned product for an account that Account Factory vended before the run. */
  seedProvisionedAccount(account: AccountRecord, ouName: string): void {
    this.parts.org.enroll(account.id, account.parentId);
    const at = this.env.clock.nowMs() - 3_600_000;
    const recordId = `rec-${this.rng.lowerAlnum(13)}`;
    const id = `pp-${this.rng.lowerAlnum(13)}`;
    const parameters: Parameters = {
      AccountEmail: account.email,
      AccountName: account.name,
      ManagedOrganizationalUnit: ouName,
      SSOUserEmail: account.email,
      SSOUserFirstName: 'Admin',
      SSOUserLastName: 'User',
    };
    const userArn = `arn:aws:sts::${this.env.managementAccountId}:assumed-role/AWSControlTowerAdmin/console`;
    const product = this.newProduct(
      id,
      account.name.replace(/[^A-Za-z0-9_-]+/g, '-'),
      recordId,
      'seeded',
      parameters,
      {
        userArn,
        roleArn: `arn:aws:iam::${this.env.managementAccountId}:role/AWSControlTowerAdmin`,
        session: 'console',
      },
    );
    product.createdAt = at;
    product.status = 'AVAILABLE';
    product.accountId = account.id;
    product.lastSuccessfulProvisioningRecordId = recordId;
    const op: ControlTowerOperation = {
      recordId,
      type: 'PROVISION',
      email: account.email,
      start: at,
      end: at,
      outcome: 'SUCCEEDED',
    };
    this.records.set(recordId, {
      id: recordId,
      type: 'PROVISION_PRODUCT',
      productId: this.productId,
      artifactId: this.activeArtifactId,
      pathId: this.pathId,
      provisionedProductId: id,
      provisionedProductName: product.name,
      createdAt: at,
      endsAt: at,
      parameters,
      outcome: 'SUCCEEDED',
      errors: [],
      outputs: this.outputs(account, parameters),
      tags: [],
      operation: op,
    });
  }

  // ---- API -----------------------------------------------------------------------

  commands(): CommandTable {
    return {
      SearchProductsCommand: (i: SearchProductsCommandInput, c: CallContext) => this.searchProducts(i, c),
      ListProvisioningArtifactsCommand: (i: ListProvisioningArtifactsCommandInput, c: CallContext) =>
        this.listProvisioningArtifacts(i, c),
      ListLaunchPathsCommand: (i: ListLaunchPathsCommandInput, c: CallContext) => this.listLaunchPaths(i, c),
      ProvisionProductCommand: (i: ProvisionProductCommandInput, c: CallContext) =>
        this.provisionProduct(i, c),
      UpdateProvisionedProductCommand: (i: UpdateProvisionedProductCommandInput, c: CallContext) =>
        this.updateProvisionedProduct(i, c),
      DescribeRecordCommand: (i: DescribeRecordCommandInput, c: CallContext) => this.describeRecord(i, c),
      SearchProvisionedProductsCommand: (i: SearchProvisionedProductsCommandInput, c: CallContext) =>
        this.searchProvisionedProducts(i, c),
      DescribeProvisionedProductCommand: (i: DescribeProvisionedProductCommandInput, c: CallContext) =>
        this.describeProvisionedProduct(i, c),
      TerminateProvisionedProductCommand: (i: TerminateProvisionedProductCommandInput, c: CallContext) =>
        this.terminateProvisionedProduct(i, c),
      ListPortfoliosCommand: (i: ListPortfoliosCommandInput, c: CallContext) => this.listPortfolios(i, c),
      AssociatePrincipalWithPortfolioCommand: (
        i: AssociatePrincipalWithPortfolioCommandInput,
        c: CallContext,
      ) => this.associatePrincipal(i, c),
      DisassociatePrincipalFromPortfolioCommand: (
        i: DisassociatePrincipalFromPortfolioCommandInput,
        c: CallContext,
      ) => this.disassociatePrincipal(i, c),
    };
  }

  // ---- portfolio access ----------------------------------------------------------

  /** Associates a principal with the Account Factory portfolio (what an administrator does in the console). */
  associate(principalArn: string, type: 'IAM' | 'IAM_PATTERN' = 'IAM'): void {
    this.portfolioPrincipals.set(principalArn, type);
  }

  /** The principals associated with the Account Factory portfolio. */
  get associatedPrincipals(): string[] {
    return [...this.portfolioPrincipals.keys()];
  }

  /**
   * Whether the caller sees the Account Factory product: Service Catalog shows a product
   * to end users only through a portfolio they are associated with (an IAM principal
   * association names the role, path included; a session acts as its role).
   * https://docs.aws.amazon.com/servicecatalog/latest/adminguide/catalogs_portfolios_users.html
   */
  private canSeeProduct(ctx: CallContext): boolean {
    if (ctx.region !== this.env.homeRegion) return false;
    const roleArn = ctx.principal.roleArn;
    for (const [arn, type] of this.portfolioPrincipals) {
      if (type === 'IAM' && arn === roleArn) return true;
      if (type === 'IAM_PATTERN' && wildcard(arn).test(roleArn)) return true;
    }
    return false;
  }

  /** Account Factory's products and records exist in the home region only. */
  private requireHomeRegion(ctx: CallContext, what: string): void {
    if (ctx.region !== this.env.homeRegion) {
      throw err('ResourceNotFoundException', `${what} not found in ${ctx.region}.`);
    }
  }

  private requirePortfolio(id: string | undefined): void {
    if (id !== this.portfolioId) throw err('ResourceNotFoundException', `Portfolio ${id} not found.`);
  }

  listPortfolios(i: ListPortfoliosCommandInput, ctx: CallContext): Out<ListPortfoliosCommandOutput> {
    this.requireManagement(ctx);
    // The portfolio lives in the home region only (Control Tower creates it there).
    const all =
      ctx.region === this.env.homeRegion
        ? [
            {
              Id: this.portfolioId,
              ARN: `arn:aws:catalog:${this.env.homeRegion}:${this.env.managementAccountId}:portfolio/${this.portfolioId}`,
              DisplayName: ACCOUNT_FACTORY_PORTFOLIO_NAME,
              Description: 'AWS Control Tower Account Factory Portfolio',
              ProviderName: 'AWS Control Tower',
              CreatedTime: new Date(this.createdAt),
            },
          ]
        : [];
    const p = this.page(all, i.PageToken, i.PageSize, 'portfolios');
    return { PortfolioDetails: p.items, NextPageToken: p.nextToken };
  }

  associatePrincipal(i: AssociatePrincipalWithPortfolioCommandInput, ctx: CallContext): object {
    this.requireManagement(ctx);
    this.requirePortfolio(ctx.region === this.env.homeRegion ? i.PortfolioId : undefined);
    const type = i.PrincipalType ?? 'IAM';
    const arn = i.PrincipalARN ?? '';
    if (type === 'IAM' && !/^arn:[\w-]+:iam::\d{12}:(role|user|group)\/.+$/.test(arn)) {
      throw this.invalid(`PrincipalARN ${arn} is not a valid IAM ARN.`);
    }
    this.portfolioPrincipals.set(arn, type);
    return {};
  }

  disassociatePrincipal(i: DisassociatePrincipalFromPortfolioCommandInput, ctx: CallContext): object {
    this.requireManagement(ctx);
    this.requirePortfolio(ctx.region === this.env.homeRegion ? i.PortfolioId : undefined);
    if (!this.portfolioPrincipals.delete(i.PrincipalARN ?? '')) {
      throw err(
        'ResourceNotFoundException',
        `Principal ${i.PrincipalARN} is not associated with the portfolio.`,
      );
    }
    return {};
  }

  private requireManagement(ctx: CallContext): void {
    if (ctx.principal.accountId !== this.env.managementAccountId) {
      throw err(
        'AccessDeniedException',
        `User: ${ctx.principal.arn} is not authorized to perform: servicecatalog:${ctx.commandName.replace(/Command$/, '')}`,
      );
    }
  }

  private invalid = (message: string): Error => err('InvalidParametersException', message);

  /**
   * Account Factory creates the account as the principal that provisions the product:
   * it needs the Organizations permissions the Control Tower guide lists for
   * Account Factory users (checked against the caller's identity policies).
   */
  private requireRequesterPermissions(ctx: CallContext): void {
    const denied = this.parts.authorize?.(ctx.principal, REQUESTER_ACTIONS);
    if (denied) {
      throw this.invalid(
        `Account Factory cannot create the account: ${ctx.principal.arn} is not authorized to perform ${denied}`,
      );
    }
  }

  private page<T>(all: T[], token: string | undefined, size: number | undefined, scope: string) {
    if (size !== undefined && (size < 0 || size > 100))
      throw this.invalid('PageSize must be between 0 and 100.');
    return paginate(all, token, size, this.env.pageSize, this.invalid, scope);
  }

  private requireProduct(id: string | undefined, name: string | undefined): void {
    if (!id && !name) throw this.invalid('Either ProductId or ProductName must be provided.');
    if (id !== undefined && id !== this.productId)
      throw err('ResourceNotFoundException', `Product ${id} not found.`);
    if (name !== undefined && name !== ACCOUNT_FACTORY_PRODUCT_NAME) {
      throw err('ResourceNotFoundException', `Product ${name} not found.`);
    }
  }

  private requireArtifact(id: string | undefined, name: string | undefined): string {
    if (!id && !name)
      throw this.invalid('Either ProvisioningArtifactId or ProvisioningArtifactName must be provided.');
    const artifacts = [
      { id: this.activeArtifactId, name: 'AWS Control Tower Account Factory 3.0', active: true },
      { id: this.deprecatedArtifactId, name: 'AWS Control Tower Account Factory 2.0', active: false },
    ];
    const found = artifacts.find(
      (a) => (id === undefined || a.id === id) && (name === undefined || a.name === name),
    );
    if (!found) throw err('ResourceNotFoundException', `ProvisioningArtifact ${id ?? name} not found.`);
    if (!found.active) throw this.invalid(`ProvisioningArtifact ${found.id} is not active.`);
    return found.id;
  }

  private requirePath(id: string | undefined, name: string | undefined): string {
    if (id !== undefined && id !== this.pathId)
      throw err('ResourceNotFoundException', `Path ${id} not found.`);
    if (name !== undefined && name !== ACCOUNT_FACTORY_PORTFOLIO_NAME) {
      throw err('ResourceNotFoundException', `Path ${name} not found.`);
    }
    return this.pathId;
  }

  searchProducts(i: SearchProductsCommandInput, ctx: CallContext): Out<SearchProductsCommandOutput> {
    this.requireManagement(ctx);
    const view = {
      Id: this.productViewId,
      ProductId: this.productId,
      Name: ACCOUNT_FACTORY_PRODUCT_NAME,
      Owner: 'AWS Control Tower',
      ShortDescription: 'AWS Control Tower Account Factory Template',
      Type: 'CLOUD_FORMATION_TEMPLATE' as const,
      Distributor: '',
      HasDefaultPath: false,
      SupportEmail: '',
      SupportDescription: '',
      SupportUrl: '',
    };
    const f = i.Filters ?? {};
    const text = (values: string[] | undefined, hay: string[]) =>
      !values?.length || values.some((v) => hay.some((h) => h.toLowerCase().includes(v.toLowerCase())));
    const ok =
      this.canSeeProduct(ctx) &&
      text(f.FullTextSearch, [view.Name, view.Owner, view.ShortDescription]) &&
      text(f.Owner, [view.Owner]) &&
      (!f.ProductType?.length || f.ProductType.includes(view.Type));
    const p = this.page(ok ? [view] : [], i.PageToken, i.PageSize, 'products');
    return { ProductViewSummaries: p.items, ProductViewAggregations: {}, NextPageToken: p.nextToken };
  }

  listProvisioningArtifacts(
    i: ListProvisioningArtifactsCommandInput,
    ctx: CallContext,
  ): Out<ListProvisioningArtifactsCommandOutput> {
    this.requireManagement(ctx);
    this.requireProduct(i.ProductId, undefined);
    return {
      ProvisioningArtifactDetails: [
        {
          Id: this.deprecatedArtifactId,
          Name: 'AWS Control Tower Account Factory 2.0',
          Description: 'AWS Control Tower Account Factory Template',
          Type: 'CLOUD_FORMATION_TEMPLATE',
          CreatedTime: new Date(this.createdAt - 86_400_000),
          Active: false,
          Guidance: 'DEPRECATED',
        },
        {
          Id: this.activeArtifactId,
          Name: 'AWS Control Tower Account Factory 3.0',
          Description: 'AWS Control Tower Account Factory Template',
          Type: 'CLOUD_FORMATION_TEMPLATE',
          CreatedTime: new Date(this.createdAt),
          Active: true,
          Guidance: 'DEFAULT',
        },
      ],
    };
  }

  listLaunchPaths(i: ListLaunchPathsCommandInput, ctx: CallContext): Out<ListLaunchPathsCommandOutput> {
    this.requireManagement(ctx);
    this.requireProduct(i.ProductId, undefined);
    // A principal not associated with the portfolio has no launch path (AFT issue #33).
    if (!this.canSeeProduct(ctx)) {
      throw err('ResourceNotFoundException', `No launch paths found for resource: ${i.ProductId}`);
    }
    const all = [
      {
        Id: this.pathId,
        Name: ACCOUNT_FACTORY_PORTFOLIO_NAME,
        ConstraintSummaries: [{ Type: 'LAUNCH', Description: '' }],
        Tags: [],
      },
    ];
    const p = this.page(all, i.PageToken, i.PageSize, `paths:${i.ProductId}`);
    return { LaunchPathSummaries: p.items, NextPageToken: p.nextToken };
  }

  private validateParameters(raw: { Key?: string; Value?: string }[] | undefined): Parameters {
    const given = new Map<string, string>();
    for (const p of raw ?? []) {
      if (!p.Key) throw this.invalid('Parameter keys must not be empty.');
      given.set(p.Key, p.Value ?? '');
    }
    return this.checkParameters(given);
  }

  private checkParameters(given: Map<string, string>): Parameters {
    const unknown = [...given.keys()].filter((k) => !(PARAMETERS as readonly string[]).includes(k));
    if (unknown.length)
      throw this.invalid(`Parameters: [${unknown.join(', ')}] do not exist in the template`);
    const missing = PARAMETERS.filter((k) => !given.get(k)?.trim());
    if (missing.length) throw this.invalid(`Parameters: [${missing.join(', ')}] must have values`);
    const params = Object.fromEntries(PARAMETERS.map((k) => [k, given.get(k)!])) as Parameters;
    for (const key of ['AccountEmail', 'SSOUserEmail'] as const) {
      const v = params[key];
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v) || v.length < 6 || v.length > 64) {
        throw this.invalid(
          `Parameter '${key}' must match pattern [^\\s@]+@[^\\s@]+\\.[^\\s@]+ and be 6 to 64 characters long`,
        );
      }
    }
    return params;
  }

  /** `Name` or `Name (ou-id)`; undefined + why when Control Tower cannot use it. */
  private resolveOu(value: string): { ou?: OuRecord; failure?: string } {
    const m = /^(.*) \((ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})\)$/.exec(value.trim());
    const name = (m ? m[1] : value).trim();
    let ou: OuRecord | undefined;
    if (m) {
      ou = this.parts.org.ou(m[2]);
      if (!ou || ou.name !== name)
        return { failure: `AWS Control Tower cannot find the organizational unit ${value}.` };
    } else {
      const matches = this.parts.org.ousNamed(name);
      if (matches.length > 1) {
        return {
          failure: `More than one organizational unit is named ${name}: specify it as "${name} (ou-id)".`,
        };
      }
      ou = matches[0];
      if (!ou) return { failure: `AWS Control Tower cannot find the organizational unit ${value}.` };
    }
    if (!ou.registered)
      return { failure: `The organizational unit ${value} is not registered with AWS Control Tower.` };
    return { ou };
  }

  private refuseWhenBusy(): void {
    if (this.inFlight(this.env.clock.nowMs()) >= this.timings.maxConcurrentOperations) {
      this.refused += 1;
      throw this.invalid(CONTROL_TOWER_BUSY_MESSAGE);
    }
  }

  private newProduct(
    id: string,
    name: string,
    recordId: string,
    token: string,
    parameters: Parameters,
    who: { userArn: string; roleArn: string; session: string },
  ): ProductRecord {
    const product: ProductRecord = {
      id,
      name,
      arn: `arn:aws:servicecatalog:us-east-1:${this.env.managementAccountId}:stack/${name}/${id}`,
      status: 'UNDER_CHANGE',
      createdAt: this.env.clock.nowMs(),
      idempotencyToken: token,
      lastRecordId: recordId,
      lastProvisioningRecordId: recordId,
      productId: this.productId,
      artifactId: this.activeArtifactId,
      tags: [],
      userArn: who.userArn,
      userArnSession: who.session,
      roleArn: who.roleArn,
      parameters,
      terminated: false,
    };
    this.products.set(id, product);
    return product;
  }

  /** Starts a record and its Control Tower operation. */
  private startRecord(
    type: RecordType,
    product: ProductRecord,
    parameters: Parameters,
    token: string,
    plannedFailure: { code: string; description: string } | undefined,
    tags: { Key: string; Value: string }[],
  ): RecordRecord {
    const now = this.env.clock.nowMs();
    const base = type === 'PROVISION_PRODUCT' ? this.timings.createSeconds : this.timings.updateSeconds;
    const seconds =
      plannedFailure && plannedFailure.code !== 'AccountFactoryFailure'
        ? Math.min(QUICK_FAILURE_SECONDS, base)
        : base;
    const id = `rec-${this.rng.lowerAlnum(13)}`;
    const operation: ControlTowerOperation = {
      recordId: id,
      type:
        type === 'PROVISION_PRODUCT'
          ? 'PROVISION'
          : type === 'UPDATE_PROVISIONED_PRODUCT'
            ? 'UPDATE'
            : 'TERMINATE',
      email: parameters.AccountEmail,
      start: now,
      end: now + this.duration(seconds),
      outcome: 'PENDING',
    };
    const record: RecordRecord = {
      id,
      type,
      productId: this.productId,
      artifactId: this.activeArtifactId,
      pathId: this.pathId,
      provisionedProductId: product.id,
      provisionedProductName: product.name,
      createdAt: now,
      endsAt: operation.end,
      plannedFailure,
      parameters,
      outcome: 'PENDING',
      errors: [],
      outputs: [],
      tags,
      operation,
    };
    this.records.set(id, record);
    this.operations.push(operation);
    this.parts.lifecycle?.wakeAt(record.endsAt, () => this.settle());
    this.tokens.set(`${type}#${token}`, id);
    product.status = 'UNDER_CHANGE';
    product.statusMessage = undefined;
    product.lastRecordId = id;
    if (type !== 'TERMINATE_PROVISIONED_PRODUCT') product.lastProvisioningRecordId = id;
    return record;
  }

  /** Failures Control Tower reports for these parameters (checked when the operation starts). */
  private plannedFailure(
    params: Parameters,
    product: ProductRecord | undefined,
  ): { code: string; description: string } | undefined {
    const { ou, failure } = this.resolveOu(params.ManagedOrganizationalUnit);
    if (!ou) return { code: 'InvalidParameter', description: failure! };
    const email = params.AccountEmail.toLowerCase();
    const busy = [...this.records.values()].some(
      (r) =>
        r.outcome === 'PENDING' &&
        r.parameters.AccountEmail.toLowerCase() === email &&
        r.provisionedProductId !== product?.id,
    );
    if (busy) {
      return {
        code: 'InvalidParameter',
        description: `Another operation is in progress for the account with email ${params.AccountEmail}.`,
      };
    }
    const existing = this.parts.org.findAccountByEmail(params.AccountEmail);
    if (existing && existing.id !== product?.accountId) {
      if (existing.name !== params.AccountName) {
        return {
          code: 'InvalidParameter',
          description: `The email address ${params.AccountEmail} is already used by account ${existing.id} with a different name.`,
        };
      }
      // An account that already has an Account Factory product cannot be enrolled again through
      // a second one: AFT looks enrolled accounts up (SearchProvisionedProducts on
      // physicalId) and never provisions them again (aft_common/service_catalog.py,
      // get_account_id_if_enrolled; account_request_record_handler.py). The failure's wording
      // is the emulator's (no AWS source gives it).
      const enrolled = [...this.products.values()].some((p) => !p.terminated && p.accountId === existing.id);
      if (enrolled) {
        return {
          code: 'InvalidParameter',
          description: `Account ${existing.id} is already enrolled in AWS Control Tower.`,
        };
      }
    }
    if (this.parts.faults.failsProvisioning(params.AccountEmail)) {
      return {
        code: 'AccountFactoryFailure',
        description: `AWS Control Tower failed to provision account ${params.AccountName}: the account baseline stack set operation failed.`,
      };
    }
    return undefined;
  }

  /** The record an operation with this idempotency token already started, if any. */
  private replayed(type: RecordRecord['type'], token: string | undefined): RecordDetail | undefined {
    const id = token ? this.tokens.get(`${type}#${token}`) : undefined;
    return id ? this.recordView(this.records.get(id)!) : undefined;
  }

  provisionProduct(i: ProvisionProductCommandInput, ctx: CallContext): Out<ProvisionProductCommandOutput> {
    this.requireManagement(ctx);
    const replay = this.replayed('PROVISION_PRODUCT', i.ProvisionToken);
    if (replay) return { RecordDetail: replay };
    this.requireProduct(i.ProductId, i.ProductName);
    if (!this.canSeeProduct(ctx)) {
      throw err(
        'ResourceNotFoundException',
        `No launch paths found for resource: ${i.ProductId ?? this.productId}`,
      );
    }
    this.requireArtifact(i.ProvisioningArtifactId, i.ProvisioningArtifactName);
    this.requirePath(i.PathId, i.PathName);
    this.requireRequesterPermissions(ctx);
    const name = i.ProvisionedProductName ?? '';
    if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}$/.test(name)) {
      throw this.invalid(`ProvisionedProductName ${name} is not valid.`);
    }
    if ([...this.products.values()].some((p) => !p.terminated && p.name === name)) {
      throw this.invalid(`A stack named ${name} already exists.`);
    }
    const params = this.validateParameters(i.ProvisioningParameters);
    this.refuseWhenBusy();
    const token = i.ProvisionToken ?? this.rng.uuid();
    const plannedFailure = this.plannedFailure(params, undefined);
    const product = this.newProduct(`pp-${this.rng.lowerAlnum(13)}`, name, '', token, params, {
      userArn: ctx.principal.arn,
      roleArn: ctx.principal.roleArn,
      session: ctx.principal.sessionName,
    });
    product.tags = (i.Tags ?? []).map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' }));
    const email = params.AccountEmail.toLowerCase();
    this.provisionRequests.set(email, (this.provisionRequests.get(email) ?? 0) + 1);
    const record = this.startRecord(
      'PROVISION_PRODUCT',
      product,
      params,
      token,
      plannedFailure,
      product.tags,
    );
    return { RecordDetail: this.recordView(record) };
  }

  private requireProvisioned(id: string | undefined, name: string | undefined): ProductRecord {
    if (!id && !name)
      throw this.invalid('Either ProvisionedProductId or ProvisionedProductName must be provided.');
    const product = [...this.products.values()].find(
      (p) => !p.terminated && (id === undefined || p.id === id) && (name === undefined || p.name === name),
    );
    if (!product) throw err('ResourceNotFoundException', `Provisioned product ${id ?? name} not found.`);
    return product;
  }

  updateProvisionedProduct(
    i: UpdateProvisionedProductCommandInput,
    ctx: CallContext,
  ): Out<UpdateProvisionedProductCommandOutput> {
    this.requireManagement(ctx);
    this.requireHomeRegion(ctx, 'Provisioned product');
    const replay = this.replayed('UPDATE_PROVISIONED_PRODUCT', i.UpdateToken);
    if (replay) return { RecordDetail: replay };
    const product = this.requireProvisioned(i.ProvisionedProductId, i.ProvisionedProductName);
    if (i.ProductId !== undefined || i.ProductName !== undefined)
      this.requireProduct(i.ProductId, i.ProductName);
    if (i.ProvisioningArtifactId !== undefined || i.ProvisioningArtifactName !== undefined) {
      this.requireArtifact(i.ProvisioningArtifactId, i.ProvisioningArtifactName);
    }
    this.requirePath(i.PathId, i.PathName);
    if (product.status === 'UNDER_CHANGE') throw this.invalid(CONTROL_TOWER_BUSY_MESSAGE);
    const given = new Map<string, string>();
    for (const p of i.ProvisioningParameters ?? []) {
      if (!p.Key) throw this.invalid('Parameter keys must not be empty.');
      const previous = (product.parameters as Record<string, string>)[p.Key];
      given.set(p.Key, p.UsePreviousValue ? (previous ?? '') : (p.Value ?? ''));
    }
    // Parameters left out keep their previous values.
    for (const k of PARAMETERS) if (!given.has(k)) given.set(k, product.parameters[k]);
    const params = this.checkParameters(given);
    this.refuseWhenBusy();
    let plannedFailure = this.plannedFailure(params, product);
    if (
      product.accountId &&
      params.AccountEmail.toLowerCase() !== product.parameters.AccountEmail.toLowerCase()
    ) {
      plannedFailure = {
        code: 'InvalidParameter',
        description: 'AccountEmail cannot be changed for an account that AWS Control Tower manages.',
      };
    }
    const tags = (i.Tags ?? []).map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' }));
    if (i.Tags) product.tags = tags;
    const token = i.UpdateToken ?? this.rng.uuid();
    const record = this.startRecord(
      'UPDATE_PROVISIONED_PRODUCT',
      product,
      params,
      token,
      plannedFailure,
      tags,
    );
    return { RecordDetail: this.recordView(record) };
  }

  terminateProvisionedProduct(
    i: TerminateProvisionedProductCommandInput,
    ctx: CallContext,
  ): Out<TerminateProvisionedProductCommandOutput> {
    this.requireManagement(ctx);
    this.requireHomeRegion(ctx, 'Provisioned product');
    const replay = this.replayed('TERMINATE_PROVISIONED_PRODUCT', i.TerminateToken);
    if (replay) return { RecordDetail: replay };
    const product = this.requireProvisioned(i.ProvisionedProductId, i.ProvisionedProductName);
    if (product.status === 'UNDER_CHANGE') throw this.invalid(CONTROL_TOWER_BUSY_MESSAGE);
    this.refuseWhenBusy();
    const token = i.TerminateToken ?? this.rng.uuid();
    const record = this.startRecord(
      'TERMINATE_PROVISIONED_PRODUCT',
      product,
      product.parameters,
      token,
      undefined,
      [],
    );
    return { RecordDetail: this.recordView(record) };
  }

  describeRecord(i: DescribeRecordCommandInput, ctx: CallContext): Out<DescribeRecordCommandOutput> {
    this.requireManagement(ctx);
    this.requireHomeRegion(ctx, 'Record');
    const record = this.records.get(i.Id ?? '');
    if (!record) throw err('ResourceNotFoundException', `Record ${i.Id} not found.`);
    return {
      RecordDetail: this.recordView(record),
      RecordOutputs: record.outcome === 'SUCCEEDED' ? record.outputs.map((o) => ({ ...o })) : [],
    };
  }

  private productMatches(p: ProductRecord, query: string): boolean {
    const fields: Record<string, string | undefined> = {
      id: p.id,
      name: p.name,
      arn: p.arn,
      productId: p.productId,
      provisioningArtifactId: p.artifactId,
      type: 'CONTROL_TOWER_ACCOUNT',
      status: p.status,
      physicalId: p.accountId,
      lastRecordId: p.lastRecordId,
      idempotencyToken: p.idempotencyToken,
      userArn: p.userArn,
      userArnSession: p.userArnSession,
    };
    const m = /^([A-Za-z]+):(.*)$/.exec(query.trim());
    if (m && m[1] in fields) return fields[m[1]] === m[2];
    const q = query.trim().toLowerCase();
    return Object.values(fields).some((v) => v?.toLowerCase().includes(q));
  }

  searchProvisionedProducts(
    i: SearchProvisionedProductsCommandInput,
    ctx: CallContext,
  ): Out<SearchProvisionedProductsCommandOutput> {
    this.requireManagement(ctx);
    // Provisioned products live in the home region: elsewhere there are none.
    if (ctx.region !== this.env.homeRegion) return { ProvisionedProducts: [], TotalResultsCount: 0 };
    this.settle();
    const level = i.AccessLevelFilter?.Key ?? 'User';
    if (i.AccessLevelFilter?.Value !== undefined && i.AccessLevelFilter.Value !== 'self') {
      throw this.invalid('AccessLevelFilter Value must be self.');
    }
    const queries = i.Filters?.SearchQuery ?? [];
    const all = [...this.products.values()]
      .filter((p) => !p.terminated)
      // Without AccessLevelFilter Account, Service Catalog returns only what the caller provisioned.
      .filter(
        (p) =>
          level === 'Account' ||
          (level === 'Role' ? p.roleArn === ctx.principal.roleArn : p.userArn === ctx.principal.arn),
      )
      .filter((p) => queries.every((q) => this.productMatches(p, q)))
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((p) => this.attributeView(p));
    const p = this.page(all, i.PageToken, i.PageSize, `pp:${level}:${queries.join('|')}`);
    return { ProvisionedProducts: p.items, TotalResultsCount: all.length, NextPageToken: p.nextToken };
  }

  describeProvisionedProduct(
    i: DescribeProvisionedProductCommandInput,
    ctx: CallContext,
  ): Out<DescribeProvisionedProductCommandOutput> {
    this.requireManagement(ctx);
    this.requireHomeRegion(ctx, 'Provisioned product');
    this.settle();
    const product = this.requireProvisioned(i.Id, i.Name);
    return { ProvisionedProductDetail: this.detailView(product), CloudWatchDashboards: [] };
  }

  // ---- completion ----------------------------------------------------------------

  private complete(record: RecordRecord): void {
    this.applyCompletion(record);
    this.emitLifecycleEvent(record);
  }

  /** CT-16: the lifecycle event of an ended account operation (terminations have none). */
  private emitLifecycleEvent(record: RecordRecord): void {
    const lifecycle = this.parts.lifecycle;
    if (!lifecycle || record.type === 'TERMINATE_PROVISIONED_PRODUCT' || record.outcome === 'PENDING') return;
    const product = this.products.get(record.provisionedProductId)!;
    const { ou } = this.resolveOu(record.parameters.ManagedOrganizationalUnit);
    lifecycle.operationEnded({
      type: record.type === 'PROVISION_PRODUCT' ? 'PROVISION' : 'UPDATE',
      outcome: record.outcome,
      accountName: record.parameters.AccountName,
      accountId: product.accountId,
      ouName: ou?.name ?? record.parameters.ManagedOrganizationalUnit,
      ouId: ou?.id ?? '',
      requestedAt: record.createdAt,
      completedAt: record.endsAt,
    });
  }

  private applyCompletion(record: RecordRecord): void {
    const product = this.products.get(record.provisionedProductId)!;
    const fail = (code: string, description: string) => {
      record.outcome = 'FAILED';
      record.errors = [{ Code: code, Description: description }];
      record.operation.outcome = 'FAILED';
      product.status = record.type === 'PROVISION_PRODUCT' && !product.accountId ? 'ERROR' : 'TAINTED';
      product.statusMessage = description;
    };
    if (record.plannedFailure) {
      fail(record.plannedFailure.code, record.plannedFailure.description);
      return;
    }
    if (record.type === 'TERMINATE_PROVISIONED_PRODUCT') {
      product.terminated = true;
      product.status = 'AVAILABLE';
      record.outcome = 'SUCCEEDED';
      record.operation.outcome = 'SUCCEEDED';
      return;
    }
    const params = record.parameters;
    const { ou, failure } = this.resolveOu(params.ManagedOrganizationalUnit);
    if (!ou) {
      fail('InvalidParameter', failure!);
      return;
    }
    let account = product.accountId ? this.parts.org.account(product.accountId) : undefined;
    if (!account) {
      const existing = this.parts.org.findAccountByEmail(params.AccountEmail);
      if (existing) {
        // Enrollment: the account exists already (it must have the Control Tower execution role).
        if (existing.name !== params.AccountName) {
          fail(
            'InvalidParameter',
            `The email address ${params.AccountEmail} is already used by account ${existing.id} with a different name.`,
          );
          return;
        }
        if (!this.parts.iam.role(existing.id, CONTROL_TOWER_EXECUTION_ROLE)) {
          fail(
            'InvalidParameter',
            `Account ${existing.id} has no ${CONTROL_TOWER_EXECUTION_ROLE} role: it cannot be enrolled.`,
          );
          return;
        }
        account = existing;
        this.parts.org.enroll(account.id, ou.id);
      } else {
        account = this.parts.org.createAccount(params.AccountName, params.AccountEmail, ou.id, 'CREATED');
        this.parts.org.enroll(account.id, ou.id);
        this.parts.iam.putRole(
          account.id,
          CONTROL_TOWER_EXECUTION_ROLE,
          trustAccountPolicy(this.env.managementAccountId),
          {
            propagated: true,
            policies: [ADMINISTRATOR_ACCESS],
          },
        );
        this.parts.ec2.createDefaultVpcs(account.id);
        const email = params.AccountEmail.toLowerCase();
        this.created.set(email, (this.created.get(email) ?? 0) + 1);
      }
    } else {
      // An update enrolls the account again, in the requested OU.
      this.parts.org.enroll(account.id, ou.id);
      account.name = params.AccountName;
    }
    product.accountId = account.id;
    product.parameters = params;
    product.status = 'AVAILABLE';
    product.lastSuccessfulProvisioningRecordId = record.id;
    record.outcome = 'SUCCEEDED';
    record.operation.outcome = 'SUCCEEDED';
    record.outputs = this.outputs(account, params);
  }

  private outputs(account: AccountRecord, params: Parameters): RecordOutput[] {
    return [
      { OutputKey: 'AccountId', OutputValue: account.id, Description: 'The ID of the account' },
      { OutputKey: 'AccountEmail', OutputValue: account.email, Description: 'The email of the account' },
      {
        OutputKey: 'SSOUserEmail',
        OutputValue: params.SSOUserEmail,
        Description: 'The email of the SSO user',
      },
      { OutputKey: 'SSOUserPortal', OutputValue: this.ssoPortal, Description: 'The SSO user portal' },
    ];
  }

  // ---- views ---------------------------------------------------------------------

  private recordView(r: RecordRecord): RecordDetail {
    const now = this.env.clock.nowMs();
    let status: RecordDetail['Status'];
    let updated: number;
    if (r.outcome !== 'PENDING') {
      status = r.outcome;
      updated = r.endsAt;
    } else if (now - r.createdAt < CREATED_SECONDS * 1000) {
      status = 'CREATED';
      updated = r.createdAt;
    } else {
      status = 'IN_PROGRESS';
      updated = Math.min(r.createdAt + CREATED_SECONDS * 1000, r.endsAt);
    }
    return {
      RecordId: r.id,
      ProvisionedProductName: r.provisionedProductName,
      Status: status,
      CreatedTime: new Date(r.createdAt),
      UpdatedTime: new Date(updated),
      ProvisionedProductType: 'CONTROL_TOWER_ACCOUNT',
      RecordType: r.type,
      ProvisionedProductId: r.provisionedProductId,
      ProductId: r.productId,
      ProvisioningArtifactId: r.artifactId,
      PathId: r.pathId,
      RecordErrors: r.errors.map((e) => ({ ...e })),
      RecordTags: r.tags.map((t) => ({ ...t })),
    };
  }

  private detailView(p: ProductRecord): ProvisionedProductDetail {
    return {
      Name: p.name,
      Arn: p.arn,
      Type: 'CONTROL_TOWER_ACCOUNT',
      Id: p.id,
      Status: p.status,
      StatusMessage: p.statusMessage,
      CreatedTime: new Date(p.createdAt),
      IdempotencyToken: p.idempotencyToken,
      LastRecordId: p.lastRecordId,
      LastProvisioningRecordId: p.lastProvisioningRecordId,
      LastSuccessfulProvisioningRecordId: p.lastSuccessfulProvisioningRecordId,
      ProductId: p.productId,
      ProvisioningArtifactId: p.artifactId,
    };
  }

  private attributeView(p: ProductRecord): ProvisionedProductAttribute {
    return {
      ...this.detailView(p),
      Tags: p.tags.map((t) => ({ ...t })),
      PhysicalId: p.accountId,
      ProductName: ACCOUNT_FACTORY_PRODUCT_NAME,
      ProvisioningArtifactName: 'AWS Control Tower Account Factory 3.0',
      UserArn: p.userArn,
      UserArnSession: p.userArnSession,
    };
  }
}

export const SERVICE_CATALOG = defineService({
  clients: [SERVICE_CATALOG_CLIENT],
  create: (ctx) =>
    new ServiceCatalog(
      ctx.env,
      {
        org: ctx.get(Organizations),
        iam: ctx.get(Iam),
        ec2: ctx.get(Ec2),
        faults: ctx.faults,
        lifecycle: ctx.get(LifecycleEvents),
        authorize: (principal, actions) =>
          ctx.authorizer().firstDenied(principal, actions, ctx.env.homeRegion),
      },
      ctx.options.controlTower,
    ),
});
