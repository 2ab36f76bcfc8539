import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  ListTablesCommand,
} from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { clientHook, createClient, installClientHook } from '../../lambda/shared/clients';
import { setClock } from '../../lambda/shared/clock';
import { resetWarmCaches } from '../../lambda/shared/warm-cache';
import { ENV } from '../../lambda/shared/env';
import { ScaledClock } from '../emulator/clock';
import { LandingZone, type LandingZoneOptions } from '../emulator';
import '../polyfill';
import { CustomizationsRunner, type CustomizationsRunnerOptions } from './customizations';
import { inProcessDynamoDb } from './dynalite-handler';
import { EventBus, type BusEvent } from './event-bus';
import { LambdaRuntime, REPO_ROOT, type LambdaFaults } from './lambda-runtime';
import { RequestStream, type StreamFaults } from './request-stream';
import { addSdkRetry } from './sdk-retry';
import { LocalStepFunctions, StepFunctionsError, type LocalExecution } from './step-functions';
import {
  deploymentOf,
  FACTORY_ACCOUNT_OU,
  MANAGEMENT_ACCOUNT,
  type LocalDeployment,
  type SynthesizedTemplate,
} from './deployment';
import { awsError, DEFAULT_ORGANIZATION, type OrganizationSpec } from '../emulator';
import { currentCaller } from '../emulator/caller';
import { LOCAL_REGION, resolveTemplate, type LocalCustomResource, type ResolvedTemplate } from './template';

export { LOCAL_ACCOUNT, LOCAL_REGION } from './template';
export type { LocalExecution } from './step-functions';

/**
 * The account factory, deployed on this machine: the synthesized template's state
 * machines on the local engine, its functions in-process, its tables in dynalite, its
 * rules on a local event bus, and the landing zone emulated beneath the SDK clients.
 */
export interface LocalFactoryOptions {
  /**
   * The synthesized template (see synthTemplate): the factory's, with the management
   * account's stack when the factory runs in a vending account. A bare template is
   * deployed in the management account.
   */
  readonly template: SynthesizedTemplate;
  /**
   * Emulated milliseconds per real millisecond, on a scaled clock. Ignored with `virtualTime`.
   * @default 200
   */
  readonly scale?: number;
  /**
   * Emulated time stands still while anything runs and jumps to the next deadline when
   * nothing does (local/emulator/clock.ts): a run takes its CPU time only, and its
   * emulated durations do not depend on the machine's pace. A scaled clock instead lets
   * time run `scale` times faster than the wall clock, for runs that wait on a person
   * (a manual approval from another terminal).
   * @default false
   */
  readonly virtualTime?: boolean;
  /** Landing zone options (organization, Control Tower timings, faults). */
  readonly landingZone?: Partial<Omit<LandingZoneOptions, 'clock'>>;
  /** Run the scheduled rules (the semaphore reaper) on the scaled clock. @default true */
  readonly schedules?: boolean;
  readonly lambdaFaults?: LambdaFaults;
  readonly streamFaults?: StreamFaults;
  /** Drop EventBridge's execution status events (delivery is best effort in AWS). @default false */
  readonly dropExecutionEvents?: boolean;
  /**
   * The account pipelines' builds: each folder of `dir` synthesized (a CDK app)
   * or checked (run.sh) for each account, as the shared CodeBuild project would
   * deploy it (see local/engine/customizations.ts). `false`: every stage just
   * takes the emulator's stage time and succeeds.
   * @default { dir: 'examples/customizations' }
   */
  readonly customizations?: false | (Omit<CustomizationsRunnerOptions, 'clock' | 'dir'> & { dir?: string });
}

/** The EventBridge event of an account pipeline's state change, as CodePipeline sends it. */
export const PIPELINE_EXECUTION_DETAIL_TYPE = 'CodePipeline Pipeline Execution State Change';

export class LocalFactory {
  static async start(options: LocalFactoryOptions): Promise<LocalFactory> {
    // One factory per process: handler modules keep their SDK clients, warm caches and
    // DynamoDB endpoint at module level (as in Lambda), so the client hook and the clock
    // they read are process-wide; a second factory would take them from the first.
    if (clientHook()) {
      throw new Error(
        'A local factory (or another client hook) is already installed in this process: close it first',
      );
    }
    const deployment = deploymentOf(options.template);
    const resolved = resolveTemplate(deployment.factory.template, deployment.factory.target);
    const management = deployment.management
      ? resolveTemplate(deployment.management.template, deployment.management.target)
      : undefined;
    const clock = options.virtualTime
      ? new ScaledClock({ virtual: true })
      : new ScaledClock({ scale: options.scale ?? 200 });
    const lzOptions = options.landingZone ?? {};
    // A deploy starts new execution environments: no warm cache survives from an earlier factory.
    resetWarmCaches();
    const landingZone = new LandingZone({
      ...lzOptions,
      managementAccountId: MANAGEMENT_ACCOUNT,
      homeRegion: deployment.homeRegion,
      organization: withFactoryAccount(lzOptions.organization ?? DEFAULT_ORGANIZATION, deployment),
      clock,
    } as LandingZoneOptions);
    let factory: LocalFactory;
    try {
      factory = new LocalFactory(resolved, clock, landingZone, options, management);
    } catch (err) {
      // The constructor installs the hook and the clock first: a factory that failed leaves neither.
      installClientHook(undefined);
      setClock(undefined);
      clock.dispose();
      throw err;
    }
    try {
      await factory.createTables();
      await factory.deployCustomResources();
    } catch (err) {
      await factory.close();
      throw err;
    }
    return factory;
  }

  readonly lambda: LambdaRuntime;
  readonly stepFunctions: LocalStepFunctions;
  readonly bus: EventBus;
  readonly requests: RequestStream;
  readonly ddb: DynamoDBClient;
  /** The provisioning state machine's ARN. */
  readonly stateMachineArn: string;
  /** The account pipelines' builds (undefined with `customizations: false`). */
  readonly customizations: CustomizationsRunner | undefined;
  private readonly stopPipelineEvents: () => void;
  /**
   * The management account's default bus (delegated topology): its rules forward
   * Control Tower's lifecycle events to the factory account's bus.
   */
  readonly managementBus: EventBus | undefined;
  private readonly stopControlTowerEvents: () => void;

  private constructor(
    readonly template: ResolvedTemplate,
    readonly clock: ScaledClock,
    readonly landingZone: LandingZone,
    options: LocalFactoryOptions,
    /** The management account's stack (delegated topology). */
    readonly managementTemplate?: ResolvedTemplate,
  ) {
    const lzHook = landingZone.hook();
    installClientHook({
      ...lzHook,
      config: (name) =>
        name === 'DynamoDBClient'
          ? {
              // dynalite in this process: the endpoint names it; nothing listens there.
              endpoint: 'http://dynalite.local',
              region: 'us-east-1',
              credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
              requestHandler: inProcessDynamoDb,
            }
          : // The SDK's own option: each command class's middleware is resolved once per
            // client (the emulated clients' stacks are complete before their first call).
            // Not for DynamoDB: the document client's commands resolve per instance.
            { ...lzHook.config?.(name), cacheMiddleware: true },
      attach: (client, name, config) => {
        lzHook.attach?.(client, name, config);
        if (name === 'DynamoDBClient') authorizeDynamoDb(client, landingZone);
        // A call to dynalite ends some turns of the event loop later: a virtual clock waits for it.
        if (name === 'DynamoDBClient' || name === 'DynamoDBStreamsClient') trackCalls(client, clock);
        // DynamoDB goes to dynalite through the SDK's own retry.
        if (name !== 'DynamoDBClient' && name !== 'DynamoDBStreamsClient')
          addSdkRetry(client, () => activeClock ?? clock);
      },
    });
    setClock(clock);
    activeClock = clock;
    // Time goes on, to the next schedule if nothing else, while an execution or a pipeline runs.
    clock.keepMoving = () =>
      this.stepFunctions.list().some((e) => e.status === 'RUNNING') ||
      this.landingZone.pipelineExecutions.some((e) => e.status === 'InProgress');
    this.ddb = createClient(DynamoDBClient);

    // CloudFormation creates each stack's roles in its account.
    for (const t of [template, managementTemplate]) {
      for (const role of t?.roles ?? []) landingZone.deployRole(t!.target.account, role);
    }
    this.lambda = new LambdaRuntime([...template.functions, ...(managementTemplate?.functions ?? [])]);
    this.lambda.preload();
    if (options.lambdaFaults) this.lambda.setFaults(options.lambdaFaults);
    this.bus = new EventBus(template.rules, (arn, event) => this.deliverToTarget(arn, event), clock);
    this.stepFunctions = new LocalStepFunctions({
      clock,
      lambda: this.lambda,
      onStatusChange: (e) => this.bus.put(e),
      authorizeTask: (resource, input) => authorizeTask(landingZone, resource, input),
    });
    // SendTask* are authorized on the state machine whose execution issued the token.
    landingZone.authorizer.resolveTaskToken = (token) => {
      const m = /(arn:aws:states:[a-z0-9-]*:\d{12}):execution:([^:]+):/.exec(`${token}:`);
      return m ? `${m[1]}:stateMachine:${m[2]}` : undefined;
    };
    this.stepFunctions.dropStatusEvents = options.dropExecutionEvents ?? false;
    this.registerStateMachines();
    landingZone.registerService('SFNClient', (command: string, input: any) =>
      this.serveStepFunctions(command, input),
    );

    const requestsStreamMapping = template.eventSourceMappings.find((m) =>
      m.eventSourceArn.includes(':table/'),
    );
    if (!requestsStreamMapping) throw new Error('The template has no stream trigger on a table');
    const trigger = this.lambda.resolve(requestsStreamMapping.functionName);
    const table = template.tables.find((t) =>
      requestsStreamMapping.eventSourceArn.startsWith(`${t.arn}/stream/`),
    );
    if (!table)
      throw new Error(
        `The stream ${requestsStreamMapping.eventSourceArn} is not a table stream of the template`,
      );
    const sns = createClient(SNSClient);
    this.requests = new RequestStream({
      ddb: this.ddb,
      tableName: table.name,
      tableArn: table.arn,
      lambda: this.lambda,
      triggerFunction: trigger.name,
      clock,
      onFailure: requestsStreamMapping.onFailureDestination
        ? async (record, reason) => {
            await sns.send(
              new PublishCommand({
                TopicArn: requestsStreamMapping.onFailureDestination,
                Subject: 'Account factory: a request stream record could not be processed',
                Message: JSON.stringify({ reason, record }),
              }),
            );
          }
        : undefined,
    });
    if (options.streamFaults) this.requests.faults = options.streamFaults;
    const stateMachine = trigger.environment[ENV.STATE_MACHINE_ARN];
    if (!stateMachine) throw new Error(`The request trigger has no ${ENV.STATE_MACHINE_ARN}`);
    this.stateMachineArn = stateMachine;
    // Account pipelines: their builds run here; their state changes go to the bus, as EventBridge sends them.
    const custom = options.customizations ?? {};
    this.customizations =
      custom === false
        ? undefined
        : new CustomizationsRunner({
            ...custom,
            dir: path.resolve(REPO_ROOT, custom.dir ?? 'examples/customizations'),
            clock,
          });
    const runner = this.customizations;
    landingZone.setPipelineRunner(
      runner ? (name, id, declaration, stages) => runner.run(name, id, declaration, stages) : undefined,
    );
    this.stopPipelineEvents = landingZone.onPipelineEvent((e) =>
      this.bus.put({
        source: 'aws.codepipeline',
        'detail-type': PIPELINE_EXECUTION_DETAIL_TYPE,
        time: e.time,
        resources: [`arn:aws:codepipeline:${e.region}:${e.account}:${e.pipeline}`],
        detail: { pipeline: e.pipeline, 'execution-id': e.executionId, state: e.state, version: e.version },
      }),
    );

    // Control Tower's lifecycle events reach the management account's default bus in the
    // home region: the factory's own bus when it runs there, else the management stack's
    // rules, whose event-bus targets put them on the factory's bus.
    this.managementBus = managementTemplate
      ? new EventBus(managementTemplate.rules, (arn, event) => this.deliverFromManagement(arn, event), clock)
      : undefined;
    this.stopControlTowerEvents = landingZone.onControlTowerEvent((e) =>
      (this.managementBus ?? this.bus).put(e),
    );

    if (options.schedules ?? true) this.bus.startSchedules();
  }

  /** A management-account rule's target: the factory account's default bus, or a local target. */
  private async deliverFromManagement(arn: string, event: BusEvent): Promise<unknown> {
    const factoryBus = `:events:${this.template.target.region}:${this.template.target.account}:event-bus/default`;
    if (arn.endsWith(factoryBus)) {
      this.bus.put(event);
      return undefined;
    }
    if (arn.includes(':event-bus/')) throw new Error(`Event bus target ${arn} is not emulated`);
    return this.deliverToTarget(arn, event);
  }

  /** Registers every state machine; one that starts another is registered after it. */
  private registerStateMachines(): void {
    const pending = [...this.template.stateMachines];
    let lastError: Error | undefined;
    while (pending.length) {
      const before = pending.length;
      for (const sm of [...pending]) {
        try {
          this.stepFunctions.register(sm);
          pending.splice(pending.indexOf(sm), 1);
        } catch (err) {
          lastError = err as Error;
        }
      }
      if (pending.length === before) throw lastError;
    }
  }

  /**
   * Creates the custom resources whose handlers live under lambda/ (the management role's
   * portfolio access), as CloudFormation does during the deploy: the provider framework
   * invokes the handler with a Create event, as the function's role.
   */
  private async deployCustomResources(): Promise<void> {
    for (const t of [this.managementTemplate, this.template]) {
      for (const c of t?.customResources ?? []) {
        // Account requests are written by submit(), through the same writer their custom
        // resource runs (npm start and the tests submit them one by one).
        if (c.type === 'Custom::AccountRequest' || !this.lambda.has(c.functionArn)) continue;
        await this.createCustomResource(c, t!.target.account);
      }
    }
  }

  /**
   * Invokes a custom resource's handler with a Create event, as CloudFormation does, and
   * waits for its answer at the event's ResponseURL (a local HTTP server here).
   */
  private async createCustomResource(c: LocalCustomResource, account: string): Promise<void> {
    const properties = { ...c.properties };
    delete properties.ServiceToken;
    const answer = await receiveOnce(async (responseUrl) => {
      const event = {
        RequestType: 'Create',
        ServiceToken: c.functionArn,
        ResponseURL: responseUrl,
        StackId: `arn:aws:cloudformation:${LOCAL_REGION}:${account}:stack/local/${c.logicalId}`,
        RequestId: `create-${c.logicalId}`,
        LogicalResourceId: c.logicalId,
        ResourceType: c.type,
        ResourceProperties: properties,
      };
      // The provider framework (if any) returns the handler's result; a direct handler answers by URL.
      const result = (await this.lambda.invoke(c.functionArn, event)) as Record<string, unknown> | null;
      return c.viaProvider ? { Status: 'SUCCESS', ...(result ?? {}) } : undefined;
    });
    if (answer.Status !== 'SUCCESS') {
      throw new Error(
        `Custom resource ${c.logicalId} (${c.type}) failed to create: ${String(answer.Reason)}`,
      );
    }
  }

  private async createTables(): Promise<void> {
    await this.deleteTables();
    for (const t of this.template.tables) {
      await this.ddb.send(
        new CreateTableCommand({
          TableName: t.name,
          KeySchema: t.keySchema as any,
          AttributeDefinitions: t.attributeDefinitions as any,
          BillingMode: 'PAY_PER_REQUEST',
          GlobalSecondaryIndexes: t.globalSecondaryIndexes?.map((g) => ({
            IndexName: g.IndexName,
            KeySchema: g.KeySchema,
            Projection: g.Projection,
          })),
        }),
      );
    }
  }

  private async deleteTables(): Promise<void> {
    const { TableNames = [] } = await this.ddb.send(new ListTablesCommand({}));
    for (const name of TableNames) await this.ddb.send(new DeleteTableCommand({ TableName: name }));
  }

  private async deliverToTarget(arn: string, event: BusEvent): Promise<unknown> {
    if (arn.includes(':function:')) return this.lambda.invoke(arn, event);
    if (arn.includes(':stateMachine:')) return this.stepFunctions.start(arn, event);
    throw new Error(`Event target ${arn} is not emulated`);
  }

  /** The Step Functions API the handlers call (StartExecution, SendTaskSuccess, ...). */
  private async serveStepFunctions(command: string, input: any): Promise<unknown> {
    const sfn = this.stepFunctions;
    switch (command) {
      case 'StartExecutionCommand': {
        const e = sfn.start(input.stateMachineArn, JSON.parse(input.input ?? '{}'), input.name);
        return { executionArn: e.executionArn, startDate: e.startDate };
      }
      case 'DescribeExecutionCommand': {
        const e = sfn.describe(input.executionArn);
        return {
          executionArn: e.executionArn,
          stateMachineArn: e.stateMachineArn,
          name: e.name,
          status: e.status,
          startDate: e.startDate,
          stopDate: e.stopDate,
          input: JSON.stringify(e.input),
          output: e.output === undefined ? undefined : JSON.stringify(e.output),
          error: e.error,
          cause: e.cause,
        };
      }
      case 'SendTaskSuccessCommand':
        sfn.sendTaskSuccess(input.taskToken, input.output);
        return {};
      case 'SendTaskFailureCommand':
        sfn.sendTaskFailure(input.taskToken, input.error, input.cause);
        return {};
      case 'StopExecutionCommand':
        sfn.stop(input.executionArn);
        return { stopDate: this.clock.now() };
      case 'ListExecutionsCommand':
        return {
          executions: sfn
            .list(input.stateMachineArn)
            .filter((e) => !input.statusFilter || e.status === input.statusFilter)
            .map((e) => ({
              executionArn: e.executionArn,
              name: e.name,
              status: e.status,
              startDate: e.startDate,
            })),
        };
      default:
        throw new StepFunctionsError('UnsupportedOperation', `Step Functions ${command} is not emulated`);
    }
  }

  /** Writes an account request (create or edit), as deploying an AccountRequest does. */
  submit(request: unknown, source?: string): Promise<{ id: string; version: number }> {
    return this.requests.put(request, source);
  }

  /** Deletes an account request, as removing an AccountRequest does. */
  remove(id: string): Promise<void> {
    return this.requests.remove(id);
  }

  /** Provisioning executions, oldest first. */
  executions(): LocalExecution[] {
    return this.stepFunctions
      .list(this.stateMachineArn)
      .sort((a, b) => a.startDate.getTime() - b.startDate.getTime());
  }

  /** Resolves when no execution runs and every event has been delivered. */
  async idle(): Promise<void> {
    for (;;) {
      await this.stepFunctions.idle();
      await this.managementBus?.drain();
      await this.bus.drain();
      await new Promise((r) => setImmediate(r));
      if (this.stepFunctions.list().every((e) => e.status !== 'RUNNING')) return;
    }
  }

  /**
   * Resolves when no execution runs, no account pipeline runs, and every event has
   * been delivered: the customizations' outcomes are recorded and notified.
   */
  async customizationsIdle(): Promise<void> {
    for (;;) {
      await this.idle();
      await this.landingZone.pipelinesIdle();
      await this.bus.drain();
      await new Promise((r) => setImmediate(r));
      const running = this.landingZone.pipelineExecutions.some((e) => e.status === 'InProgress');
      if (!running && this.stepFunctions.list().every((e) => e.status !== 'RUNNING')) return;
    }
  }

  /** Whether close() has been called. */
  get closed(): boolean {
    return this.closing;
  }

  private closing = false;

  async close(): Promise<void> {
    this.closing = true;
    this.stopPipelineEvents();
    this.stopControlTowerEvents();
    this.managementBus?.stop();
    this.customizations?.close();
    this.bus.stop();
    for (const e of this.stepFunctions.list()) {
      if (e.status === 'RUNNING') this.stepFunctions.stop(e.executionArn);
    }
    await this.stepFunctions.idle();
    await this.bus.drain();
    await this.deleteTables();
    await this.clock.shutdown();
    installClientHook(undefined);
    setClock(undefined);
    if (activeClock === this.clock) activeClock = undefined;
  }
}

/**
 * Runs `invoke` with a URL a custom resource handler answers at, and returns the answer:
 * what the handler PUT there, or what `invoke` returned itself.
 */
async function receiveOnce(
  invoke: (url: string) => Promise<Record<string, unknown> | undefined>,
): Promise<Record<string, unknown>> {
  let received: Record<string, unknown> | undefined;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received = JSON.parse(body || '{}');
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const direct = await invoke(`http://127.0.0.1:${port}/cloudformation-response`);
    const answer = direct ?? received;
    if (!answer) throw new Error('The custom resource handler returned without answering CloudFormation');
    return answer;
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/**
 * DynamoDB goes to dynalite, which checks no permissions: the caller's policies are
 * checked here first, as DynamoDB would.
 */
function authorizeDynamoDb(client: unknown, landingZone: LandingZone): void {
  const c = client as { middlewareStack: { add(mw: unknown, options: unknown): void } };
  c.middlewareStack.add(
    (next: (args: any) => Promise<unknown>, context: { commandName?: string }) => async (args: any) => {
      const principal = currentCaller();
      if (principal) {
        (LandingZone.installed() ?? landingZone).authorizer.authorize(
          principal,
          'DynamoDBClient',
          context.commandName ?? '',
          args.input,
          LOCAL_REGION,
        );
      }
      return next(args);
    },
    { step: 'initialize', name: 'authorizeDynamoDb', priority: 'high' },
  );
}

/**
 * The clock of the factory now running. A handler module keeps its SDK clients across
 * factories in one process (as a warm Lambda would), so a client's middleware reads the
 * clock here rather than the one it was created under.
 */
let activeClock: ScaledClock | undefined;

/** Counts each DynamoDB call (its retries included) as work in flight on a virtual clock. */
function trackCalls(client: unknown, fallback: ScaledClock): void {
  const c = client as { middlewareStack: { add(mw: unknown, options: unknown): void } };
  c.middlewareStack.add(
    (next: (args: any) => Promise<unknown>) => (args: any) =>
      (activeClock ?? fallback).track(() => next(args)),
    { step: 'initialize', name: 'trackOnVirtualClock', priority: 'high' },
  );
}

/** A Lambda invocation or a child execution, as the state machine's role. */
function authorizeTask(landingZone: LandingZone, resource: string, input: any): void {
  const principal = currentCaller();
  if (!principal) return;
  const lambdaArn = /^arn:aws:lambda:/.test(resource) ? resource : undefined;
  if (lambdaArn || /^arn:aws:states:::lambda:invoke/.test(resource)) {
    landingZone.authorizer.authorize(
      principal,
      'LambdaClient',
      'InvokeCommand',
      { FunctionName: lambdaArn ?? input?.FunctionName },
      LOCAL_REGION,
    );
    return;
  }
  if (/^arn:aws:states:::states:startExecution/.test(resource)) {
    const target = String(input?.StateMachineArn ?? '');
    landingZone.authorizer.authorize(
      principal,
      'SFNClient',
      'StartExecutionCommand',
      { stateMachineArn: target },
      LOCAL_REGION,
    );
    if (/\.sync/.test(resource)) {
      // .sync polls and can stop the child execution, through a rule Step Functions manages.
      const [, , , region, account] = target.split(':');
      const execution = `${target.replace(':stateMachine:', ':execution:')}:child`;
      for (const [command, arn] of [
        ['DescribeExecutionCommand', execution],
        ['StopExecutionCommand', execution],
      ]) {
        landingZone.authorizer.authorize(
          principal,
          'SFNClient',
          command,
          { executionArn: arn },
          LOCAL_REGION,
        );
      }
      const rule = `arn:aws:events:${region}:${account}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule`;
      for (const action of ['events:PutTargets', 'events:PutRule', 'events:DescribeRule']) {
        const decision = landingZone.authorizer.decide(principal, action, rule, LOCAL_REGION);
        if (decision.effect !== 'Allow') {
          throw awsError(
            'SFNClient',
            'AccessDeniedException',
            `${principal.arn} is not authorized to perform: ${action} on resource: ${rule}`,
          );
        }
      }
    }
  }
}

/**
 * The organization, with the vending account the factory runs in (delegated topology)
 * in an OU of its own, as AWS recommends for the AFT management account.
 */
function withFactoryAccount(org: OrganizationSpec, deployment: LocalDeployment): OrganizationSpec {
  if (deployment.topology !== 'delegated') return org;
  const hasOu = org.ous.some((o) => o.name === FACTORY_ACCOUNT_OU);
  return {
    ous: hasOu ? org.ous : [...org.ous, { name: FACTORY_ACCOUNT_OU }],
    accounts: [
      ...(org.accounts ?? []),
      {
        id: deployment.factory.target.account,
        name: 'Account Factory',
        email: 'account-factory@example.com',
        ou: FACTORY_ACCOUNT_OU,
      },
    ],
  };
}
