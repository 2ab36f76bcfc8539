import { clientHook, type ClientHook } from '../../lambda/shared/clients';
import { Authorizer } from './authorization';
import { currentCaller } from './caller';
import type { ScaledClock } from './clock';
import {
  CodePipeline,
  type CodePipelineOptions,
  type ExecutionRecord,
  type PipelineListener,
  type PipelineRunner,
} from './codepipeline';
import {
  CallContext,
  CommandHandler,
  CommandTable,
  Env,
  metadata,
  operationName,
  Principal,
  principalOf,
  Rng,
  serviceName,
} from './common';
import { type DefaultVpcView, Ec2, type Ec2RegionAccess } from './ec2';
import { HandChanges } from './hand-changes';
import { FaultInjector, type FaultOptions, type FaultStats } from './faults';
import {
  ADMINISTRATOR_ACCESS,
  CONTROL_TOWER_EXECUTION_ROLE,
  Iam,
  type RoleRecord,
  Sts,
  trustAccountPolicy,
} from './iam-sts';
import {
  type ControlTowerLifecycleEvent,
  LifecycleEvents,
  type LifecycleEventOptions,
  type LifecycleListener,
} from './lifecycle-events';
import { DEFAULT_ORGANIZATION, Organizations, type OrganizationSpec, type OuRecord } from './organizations';
import type { EmulatedService, ServiceContext } from './service';
import { type ControlTowerOperation, type ControlTowerTimings, ServiceCatalog } from './service-catalog';
import { awsError, callIntegration, EMULATED_SERVICES, integrationOf, sdkClient } from './services';
import { type PublishedMessage, Sns } from './sns';
import {
  CloudTrail,
  Support,
  type SupportCase,
  type SupportPlan,
  type TrailRecord,
} from './support-cloudtrail';

export { ScaledClock } from './clock';
export type { ScaledClockOptions } from './clock';
export { awsError } from './services';
export type { EmulatedService, SdkClient, ServiceContext, ServiceDefinition } from './service';
export type { Principal } from './common';
export type {
  PipelineEvent,
  PipelineRunner,
  PipelineRunResult,
  ExecutionRecord,
  StageReporter,
} from './codepipeline';
export type { FaultOptions, FaultStats, ThrottleFault, ExternalOperationsFault } from './faults';
export type { OrganizationSpec, OrganizationalUnitSpec, AccountSpec } from './organizations';
export { DEFAULT_ORGANIZATION } from './organizations';
export type { ControlTowerOperation, ControlTowerTimings } from './service-catalog';
export { ACCOUNT_FACTORY_PRODUCT_NAME, CONTROL_TOWER_BUSY_MESSAGE } from './service-catalog';
export { CONTROL_TOWER_EXECUTION_ROLE, trustAccountPolicy } from './iam-sts';
export { CONTROL_TOWER_BASELINE_ARN } from './control-tower';
export { CONTROL_TOWER_TRAIL } from './support-cloudtrail';
export type { HandChanges } from './hand-changes';
export type { PublishedMessage } from './sns';
export type { ControlTowerLifecycleEvent, LifecycleEventOptions } from './lifecycle-events';

export interface LandingZoneOptions {
  /** The emulated clock everything here reads. */
  readonly clock: ScaledClock;
  /** Seeds every id and every fault decision. @default 1 */
  readonly seed?: number;
  /** @default '111111111111' */
  readonly managementAccountId?: string;
  /** The Control Tower home region (Account Factory's product lives there only). @default 'us-east-1' */
  readonly homeRegion?: string;
  /** @default DEFAULT_ORGANIZATION */
  readonly organization?: OrganizationSpec;
  readonly controlTower?: ControlTowerTimings;
  /** Control Tower's lifecycle events (delivery delay). */
  readonly lifecycleEvents?: LifecycleEventOptions;
  /** Regions every account can use; each new account gets a default VPC in each. @default 4 regions */
  readonly regions?: readonly string[];
  /** Regions where member accounts cannot use EC2 (SCP-denied, not opted in). @default none */
  readonly ec2RegionAccess?: Ec2RegionAccess;
  /** Seconds before a new role (or a trust policy change) is seen by STS. @default 10 */
  readonly iamPropagationSeconds?: number;
  readonly codePipeline?: CodePipelineOptions;
  readonly faults?: FaultOptions;
  /** CloudTrail trails in the management account besides Control Tower's. @default [] */
  readonly trails?: readonly string[];
  /** The largest page a paginated list returns. @default 5 */
  readonly pageSize?: number;
  /** Credentials from AssumeRole stop working when they expire (emulated time). @default true */
  readonly enforceCredentialExpiry?: boolean;
  /** Role that calls with the default credentials act as, in the management account. @default 'AccountFactoryLocal' */
  readonly defaultRoleName?: string;
  /** Clients that go to their real endpoint untouched (the engine points them at local servers). @default DynamoDB */
  readonly passThroughClients?: readonly string[];
}

type CredentialSource = () => Promise<{ accessKeyId: string }>;

/** Serves a whole client elsewhere (e.g. the local engine serves SFNClient). */
export type ServiceHandler = (commandName: string, input: unknown, principal: Principal) => Promise<unknown>;

export interface AccountView {
  id: string;
  name: string;
  email: string;
  ouId: string;
  ouName: string;
  /** 'Workloads/Production' for nested OUs; 'Root' at the root. */
  ouPath: string;
  status: string;
  joinedMethod: string;
  tags: Record<string, string>;
}

export interface OuView {
  id: string;
  arn: string;
  name: string;
  path: string;
  parentId: string;
  registered: boolean;
}

export interface RoleView {
  name: string;
  arn: string;
  trustPolicy: unknown;
  attachedPolicies: string[];
  /** Emulated ISO time. */
  createdAt: string;
  /** Old enough for STS to see it. */
  propagated: boolean;
}

/** Credentials every emulated client gets unless it is given others: the management account's default role. */
export const DEFAULT_CREDENTIALS = Object.freeze({
  accessKeyId: 'AKIAEMULATEDLANDINGZ',
  secretAccessKey: 'emulated-landing-zone-secret-access-key',
});

const DEFAULT_REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-2'];
const DEFAULT_PASS_THROUGH = ['DynamoDBClient', 'DynamoDBStreamsClient'];

/** Marks a hook with the landing zone that serves it. */
const SERVED_BY = Symbol('cdk-account-factory.landing-zone');

/* The SDK client is reached through its runtime shape: its config providers and middleware stack. */
interface ClientShape {
  config: {
    credentials?: (() => Promise<{ accessKeyId: string }>) | { accessKeyId: string };
    region?: string | (() => Promise<string>);
  };
  middlewareStack: {
    add(
      middleware: (
        next: unknown,
        context: Record<string, unknown>,
      ) => (args: { input: unknown }) => Promise<unknown>,
      options: { step: string; name: string; priority: string },
    ): void;
  };
}

/**
 * An emulated Control Tower landing zone behind the real AWS SDK v3 clients:
 * Organizations, Control Tower, Service Catalog (Account Factory), IAM/STS, EC2,
 * CodePipeline, SNS, Support and CloudTrail. Install with
 * `installClientHook(landingZone.hook())`.
 */
export class LandingZone {
  readonly clock: ScaledClock;
  readonly managementAccountId: string;
  readonly defaultPrincipal: Principal;
  private readonly env: Env;
  private readonly faultInjector: FaultInjector;
  /** The services of EMULATED_SERVICES, in its order. */
  private readonly services: EmulatedService[] = [];
  /** The commands each emulated client serves. */
  private readonly builtIn = new Map<string, CommandTable>();
  private readonly registered = new Map<string, ServiceHandler>();
  private readonly counts = new Map<string, number>();
  private readonly enforceExpiry: boolean;
  /** Authorizes every call against the caller's identity policies. */
  readonly authorizer: Authorizer;
  /** Changes made to accounts by hand, outside the factory and Control Tower. */
  readonly byHand: HandChanges;
  private readonly passThrough: Set<string>;

  constructor(options: LandingZoneOptions) {
    this.clock = options.clock;
    this.managementAccountId = options.managementAccountId ?? '111111111111';
    if (!/^\d{12}$/.test(this.managementAccountId)) {
      throw new Error(`managementAccountId must be 12 digits, got ${this.managementAccountId}`);
    }
    const rng = new Rng(options.seed ?? 1);
    this.env = {
      clock: options.clock,
      rng,
      managementAccountId: this.managementAccountId,
      homeRegion: options.homeRegion ?? 'us-east-1',
      regions: options.regions?.length ? [...options.regions] : DEFAULT_REGIONS,
      pageSize: options.pageSize ?? 5,
    };
    this.enforceExpiry = options.enforceCredentialExpiry ?? true;
    this.passThrough = new Set(options.passThroughClients ?? DEFAULT_PASS_THROUGH);
    this.faultInjector = new FaultInjector(rng.fork('faults'));
    const ctx: ServiceContext = {
      env: this.env,
      options,
      faults: this.faultInjector,
      authorizer: () => this.authorizer,
      get: (type) => this.service(type),
    };
    for (const definition of EMULATED_SERVICES) {
      const service = definition.create(ctx);
      this.services.push(service);
      for (const client of definition.clients) {
        if (this.builtIn.has(client.name)) throw new Error(`Two emulated services serve ${client.name}`);
        this.builtIn.set(client.name, service.commands(client.name));
      }
    }
    const roleName = options.defaultRoleName ?? 'AccountFactoryLocal';
    const admin = principalOf(this.managementAccountId, roleName, roleName);
    this.authorizer = new Authorizer(
      {
        iam: this.iam,
        managementAccountId: this.managementAccountId,
        organizationId: () => this.org.orgId,
      },
      (p) => p === admin || p.roleArn === admin.roleArn,
    );

    this.defaultPrincipal = admin;
    this.byHand = new HandChanges(this.org, this.iam, this.service(CodePipeline));
    this.iam.putRole(this.managementAccountId, roleName, trustAccountPolicy(this.managementAccountId), {
      propagated: true,
      policies: [ADMINISTRATOR_ACCESS],
    });
    // The administrator who set up Control Tower: associated with Account Factory's portfolio,
    // as Control Tower's own administrators are.
    this.sc.associate(this.defaultPrincipal.roleArn);
    this.ec2.createDefaultVpcs(this.managementAccountId);
    this.buildOrganization(options.organization ?? DEFAULT_ORGANIZATION);
    this.setFaults(options.faults ?? {});
  }

  /**
   * The emulated service of that class (`lz.service(Organizations)`), created from its
   * line in EMULATED_SERVICES.
   */
  service<T>(type: abstract new (...args: any[]) => T): T {
    const found = this.services.find((s) => s instanceof type);
    if (!found) {
      throw new Error(
        `No emulated service ${type.name}: add its definition to EMULATED_SERVICES (local/emulator/services.ts), after the services it uses`,
      );
    }
    return found as T;
  }

  private get org(): Organizations {
    return this.service(Organizations);
  }

  private get iam(): Iam {
    return this.service(Iam);
  }

  private get sts(): Sts {
    return this.service(Sts);
  }

  private get ec2(): Ec2 {
    return this.service(Ec2);
  }

  private get sc(): ServiceCatalog {
    return this.service(ServiceCatalog);
  }

  private get lifecycle(): LifecycleEvents {
    return this.service(LifecycleEvents);
  }

  /** Applies what emulated time has done, in every service that keeps time. */
  private settle(): void {
    for (const s of this.services) s.settle?.();
  }

  private buildOrganization(spec: OrganizationSpec): void {
    const pending = [...spec.ous];
    while (pending.length) {
      const ready = pending.findIndex((o) => !o.parent || this.org.ousNamed(o.parent).length > 0);
      if (ready < 0)
        throw new Error(`OU parents not found: ${pending.map((o) => `${o.name} -> ${o.parent}`).join(', ')}`);
      this.org.createOu(pending.splice(ready, 1)[0]);
    }
    for (const a of spec.accounts ?? []) {
      const ou = this.org.requireOuByName(a.ou);
      const account = this.org.createAccount(a.name, a.email, ou.id, 'CREATED', a.id);
      for (const [k, v] of Object.entries(a.tags ?? {})) account.tags.set(k, v);
      this.iam.putRole(
        account.id,
        CONTROL_TOWER_EXECUTION_ROLE,
        trustAccountPolicy(this.managementAccountId),
        {
          propagated: true,
          policies: [ADMINISTRATOR_ACCESS],
        },
      );
      this.ec2.createDefaultVpcs(account.id);
      if (a.provisioned) this.sc.seedProvisionedAccount(account, ou.name);
    }
  }

  // ---- deployments ---------------------------------------------------------------

  /**
   * Puts a role CloudFormation created (trust, managed and inline policies) in place in
   * an account. Deployed roles have propagated by the time the stack is complete.
   */
  deployRole(
    accountId: string,
    role: {
      name: string;
      path: string;
      trustPolicy: unknown;
      policies: unknown[];
      managedPolicyArns: string[];
    },
  ): void {
    this.iam.putRole(accountId, role.name, JSON.stringify(role.trustPolicy), {
      propagated: true,
      path: role.path,
      policies: role.managedPolicyArns,
      inline: role.policies,
    });
  }

  /** The Account Factory product's id in Service Catalog. */
  get accountFactoryProductId(): string {
    return this.sc.productId;
  }

  /** The principals associated with Account Factory's portfolio. */
  get portfolioPrincipals(): string[] {
    return this.sc.associatedPrincipals;
  }

  // ---- the hook ------------------------------------------------------------------

  /**
   * The landing zone whose hook is installed (`installClientHook(lz.hook())`), if any. The
   * hook is the one process-wide setting the emulator keeps: handler modules create their
   * SDK clients once, at module level, as in Lambda, and the SDK offers no way to reach
   * beneath a client the code made itself other than a hook `createClient()` reads.
   */
  static installed(): LandingZone | undefined {
    return (clientHook() as { [SERVED_BY]?: LandingZone } | undefined)?.[SERVED_BY];
  }

  /**
   * The ClientHook to install with `installClientHook()`. A hook built on it keeps
   * pointing here if it spreads it (`{ ...lz.hook(), config }`).
   */
  hook(): ClientHook & { readonly [SERVED_BY]: LandingZone } {
    return {
      [SERVED_BY]: this,
      config: (clientName: string) => {
        const config: Record<string, unknown> = { credentials: { ...DEFAULT_CREDENTIALS } };
        // Clients served here get a default region in attach(); pass-through ones need one up front.
        if (this.passThrough.has(clientName) && !process.env.AWS_REGION && !process.env.AWS_DEFAULT_REGION) {
          config.region = 'us-east-1';
        }
        return config;
      },
      attach: (client: unknown, clientName: string, config?: Record<string, unknown>) =>
        this.attach(client as ClientShape, clientName, config?.credentials),
    };
  }

  /** Serves a whole client with `handler` (checked before the built-in services). */
  registerService(clientName: string, handler: ServiceHandler): void {
    this.registered.set(clientName, handler);
  }

  private attach(client: ClientShape, clientName: string, givenCredentials?: unknown): void {
    if (this.passThrough.has(clientName)) return;
    // The SDK memoizes a credential provider until its expiration on the wall clock; the
    // emulated clock runs faster, so the provider the code gave is asked on every call (it
    // caches on the handlers' clock, as it would in AWS).
    const credentials = typeof givenCredentials === 'function' ? givenCredentials : undefined;
    // A region given to the client wins; without one, the emulated clients default to us-east-1.
    const original = client.config.region;
    client.config.region = async () => {
      try {
        const r = typeof original === 'function' ? await original() : original;
        return r || 'us-east-1';
      } catch {
        return 'us-east-1';
      }
    };
    client.middlewareStack.add(
      (_next, context) => async (args) => {
        const name = (context.clientName as string | undefined) ?? clientName;
        const command = context.commandName as string;
        // Clients outlive a landing zone (handler modules keep theirs at module level):
        // a call goes to the landing zone whose hook is installed now.
        const lz = LandingZone.installed() ?? this;
        const principal = await lz.principalOf(client, name, credentials as CredentialSource | undefined);
        const region = await (client.config.region as () => Promise<string>)();
        const output = await lz.dispatch(name, command, args.input, principal, region);
        return { output: { ...(output as object), $metadata: metadata(200) }, response: {} };
      },
      { step: 'initialize', name: 'landingZoneEmulator', priority: 'high' },
    );
  }

  private async principalOf(
    client: ClientShape,
    clientName: string,
    given?: CredentialSource,
  ): Promise<Principal> {
    const c = given ?? client.config.credentials;
    const creds = typeof c === 'function' ? await c() : c;
    const issued = creds ? this.sts.lookup(creds.accessKeyId) : undefined;
    if (!issued && creds?.accessKeyId.startsWith('ASIA')) {
      // Temporary credentials this STS never issued (e.g. an earlier landing zone's).
      // https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html
      const queryProtocol = sdkClient(clientName)?.protocol === 'query';
      throw awsError(
        clientName,
        queryProtocol ? 'InvalidClientTokenId' : 'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );
    }
    // Ambient credentials: the Lambda function's (or state machine's) own role, as the engine marks it.
    if (!issued) return currentCaller() ?? this.defaultPrincipal;
    if (this.enforceExpiry && issued.expiresAt <= this.clock.nowMs()) {
      throw awsError(
        clientName,
        'ExpiredTokenException',
        'The security token included in the request is expired',
      );
    }
    return issued.principal;
  }

  /**
   * Serves a Step Functions AWS SDK integration task (`aws-sdk:<service>:<action>`) the
   * way Step Functions calls it: PascalCase parameters and result keys (converted at the
   * top level for services whose SDK uses camelCase), errors named
   * `<Service>.<Name>Exception` (e.g. `ServiceCatalog.InvalidParametersException`).
   */
  async callAwsService(
    service: string,
    action: string,
    parameters: Record<string, unknown> = {},
    principal: Principal = this.defaultPrincipal,
    region = 'us-east-1',
  ): Promise<Record<string, unknown>> {
    const integration = integrationOf(service, action);
    if (!integration) throw new Error(`The emulated landing zone has no AWS SDK integration for ${service}`);
    return callIntegration(integration, parameters, (input) =>
      this.dispatch(integration.client.name, integration.commandName, input, principal, region),
    );
  }

  /** Serves one command: faults first, then the time-driven state, then the service. */
  async dispatch(
    clientName: string,
    commandName: string,
    input: unknown,
    principal: Principal,
    region: string,
  ): Promise<unknown> {
    const key = `${serviceName(clientName)}.${operationName(commandName)}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    const registered = this.registered.get(clientName);
    const table = this.builtIn.get(clientName);
    const fault = this.faultInjector.throttle(clientName, commandName, !registered && !!table);
    if (fault) throw fault;
    if (registered) {
      this.authorizer.authorize(principal, clientName, commandName, input, region);
      return registered(commandName, clone(input), principal);
    }
    const handler: CommandHandler | undefined = table?.[commandName];
    if (!handler) {
      throw awsError(
        clientName,
        'UnsupportedOperation',
        `The emulated landing zone does not serve ${key}: add it to local/emulator/ or register a service for ${clientName}.`,
      );
    }
    this.authorizer.authorize(principal, clientName, commandName, input, region);
    this.settle();
    const ctx: CallContext = { principal, region, clientName, commandName };
    const output = await handler(clone(input ?? {}) as never, ctx);
    return compact(output);
  }

  // ---- faults and hooks ----------------------------------------------------------

  /** Replaces the fault settings; `externalOperations` start occupying slots now. */
  setFaults(faults: FaultOptions): void {
    this.faultInjector.set(faults);
    const ext = faults.externalOperations;
    if (ext && ext.count > 0) {
      this.sc.settle();
      this.sc.startExternalOperations(ext.count, ext.seconds);
      this.faultInjector.count('externalOperations', ext.count);
    }
  }

  get faults(): FaultOptions {
    return this.faultInjector.current;
  }

  /** Control Tower's lifecycle events, as EventBridge delivers them in the management account's home region. */
  onControlTowerEvent(listener: LifecycleListener): () => void {
    return this.lifecycle.onEvent(listener);
  }

  /** Every lifecycle event Control Tower emitted, before loss or duplication. */
  get controlTowerEvents(): ControlTowerLifecycleEvent[] {
    return [...this.lifecycle.emitted];
  }

  /** Every lifecycle event delivered (a duplicate twice, a lost one not at all). */
  get deliveredControlTowerEvents(): ControlTowerLifecycleEvent[] {
    return [...this.lifecycle.delivered];
  }

  /** Resolves when every lifecycle event emitted so far has been delivered or lost. */
  controlTowerEventsIdle(): Promise<void> {
    return this.lifecycle.idle();
  }

  onPipelineEvent(listener: PipelineListener): () => void {
    return this.service(CodePipeline).onPipelineEvent(listener);
  }

  setPipelineRunner(runner: PipelineRunner | undefined): void {
    this.service(CodePipeline).setRunner(runner);
  }

  /** Resolves when every pipeline execution started so far has finished. */
  pipelinesIdle(): Promise<void> {
    return this.service(CodePipeline).idle();
  }

  /** Puts a role in an account (e.g. a role the factory assumes in the management account). */
  putRole(
    accountId: string,
    roleName: string,
    trustPolicy: string,
    options: { propagated?: boolean; policies?: string[] } = {
      propagated: true,
      policies: [ADMINISTRATOR_ACCESS],
    },
  ): void {
    this.iam.putRole(accountId, roleName, trustPolicy, options);
  }

  setSupportPlan(accountId: string, plan: SupportPlan): void {
    this.service(Support).setPlan(accountId, plan);
  }

  // ---- inspection ----------------------------------------------------------------

  private ouName(parentId: string): { name: string; path: string } {
    if (parentId === this.org.rootId) return { name: 'Root', path: 'Root' };
    const ou = this.org.ou(parentId);
    return { name: ou?.name ?? parentId, path: this.org.ouPath(parentId) };
  }

  get accounts(): AccountView[] {
    this.settle();
    return this.org.allAccounts().map((a) => {
      const { name, path } = this.ouName(a.parentId);
      return {
        id: a.id,
        name: a.name,
        email: a.email,
        ouId: a.parentId,
        ouName: name,
        ouPath: path,
        status: a.status,
        joinedMethod: a.joinedMethod,
        tags: Object.fromEntries(a.tags),
      };
    });
  }

  account(idOrEmail: string): AccountView | undefined {
    const key = idOrEmail.toLowerCase();
    return this.accounts.find((a) => a.id === idOrEmail || a.email.toLowerCase() === key);
  }

  /** An OU by name or `Parent/Child` path (undefined when missing or ambiguous). */
  ou(nameOrPath: string): OuView | undefined {
    let ou: OuRecord;
    try {
      ou = this.org.requireOuByName(nameOrPath);
    } catch {
      return undefined;
    }
    return {
      id: ou.id,
      arn: ou.arn,
      name: ou.name,
      path: this.org.ouPath(ou.id),
      parentId: ou.parentId,
      registered: ou.registered,
    };
  }

  get rootId(): string {
    return this.org.rootId;
  }

  get organizationId(): string {
    return this.org.orgId;
  }

  roles(accountId: string): RoleView[] {
    this.settle();
    return [...this.iam.rolesOf(accountId).values()].map((r: RoleRecord) => ({
      name: r.name,
      arn: r.arn,
      trustPolicy: JSON.parse(r.trustPolicy),
      attachedPolicies: [...r.attached.keys()],
      createdAt: new Date(r.createdAt).toISOString(),
      propagated: this.iam.propagated(r),
    }));
  }

  defaultVpcs(accountId: string): DefaultVpcView[] {
    this.settle();
    return this.ec2.defaultVpcs(accountId);
  }

  get pipelines() {
    return this.service(CodePipeline).pipelineList;
  }

  get pipelineExecutions(): ExecutionRecord[] {
    return this.service(CodePipeline).executions;
  }

  messages(topicArn?: string): PublishedMessage[] {
    return this.service(Sns).messages(topicArn);
  }

  get supportCases(): SupportCase[] {
    return this.service(Support).allCases();
  }

  trail(name: string): TrailRecord | undefined {
    return this.service(CloudTrail).trail(name);
  }

  get controlTowerOperations(): ControlTowerOperation[] {
    return this.sc.controlTowerOperations;
  }

  get peakConcurrentOperations(): number {
    return this.sc.peakConcurrentOperations;
  }

  get accountsCreatedByEmail(): Record<string, number> {
    return this.sc.accountsCreatedByEmail;
  }

  get provisionRequestsByEmail(): Record<string, number> {
    return this.sc.provisionRequestsByEmail;
  }

  /** Account operations refused because Control Tower was at its limit. */
  get refusedOperations(): number {
    return this.sc.refusedOperations;
  }

  get faultsInjected(): FaultStats {
    return this.faultInjector.snapshot();
  }

  /** Calls per `Service.Operation`, throttled attempts included. */
  get callCounts(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** A compact picture of the run, for a summary line or a report. */
  summary() {
    const ops = this.controlTowerOperations.filter((o) => o.type !== 'EXTERNAL');
    return {
      accounts: this.accounts.length,
      accountsCreated: Object.values(this.accountsCreatedByEmail).reduce((a, b) => a + b, 0),
      controlTowerOperations: {
        total: ops.length,
        succeeded: ops.filter((o) => o.outcome === 'SUCCEEDED').length,
        failed: ops.filter((o) => o.outcome === 'FAILED').length,
        pending: ops.filter((o) => o.outcome === 'PENDING').length,
        refused: this.refusedOperations,
        peakConcurrent: this.peakConcurrentOperations,
      },
      pipelineExecutions: this.pipelineExecutions.length,
      messages: this.messages().length,
      faultsInjected: this.faultsInjected.total,
      calls: Object.values(this.callCounts).reduce((a, b) => a + b, 0),
    };
  }
}

/** A deep copy of plain data (Dates and byte arrays kept). */
function clone<T>(value: T): T {
  return value === undefined ? value : structuredClone(value);
}

/** Drops keys whose value is undefined, as the SDK deserializers do. */
function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(compact);
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = compact(v);
    return out;
  }
  return value;
}
