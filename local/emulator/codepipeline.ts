import * as codePipelineSdk from '@aws-sdk/client-codepipeline';
import type {
  CreatePipelineCommandInput,
  CreatePipelineCommandOutput,
  DeletePipelineCommandInput,
  DeletePipelineCommandOutput,
  GetPipelineCommandInput,
  GetPipelineCommandOutput,
  GetPipelineExecutionCommandInput,
  GetPipelineExecutionCommandOutput,
  GetPipelineStateCommandInput,
  GetPipelineStateCommandOutput,
  ListPipelineExecutionsCommandInput,
  ListPipelineExecutionsCommandOutput,
  PipelineDeclaration,
  PipelineExecutionStatus,
  StageExecutionStatus,
  StartPipelineExecutionCommandInput,
  StartPipelineExecutionCommandOutput,
  UpdatePipelineCommandInput,
  UpdatePipelineCommandOutput,
} from '@aws-sdk/client-codepipeline';
import { CallContext, CommandTable, Env, errorsFor, Out, paginate, Rng } from './common';
import { defineService, type EmulatedService, type SdkClient } from './service';

/** CodePipeline (JSON protocol, camelCase members); throttles with ThrottlingException (THR-4). */
export const CODEPIPELINE_CLIENT: SdkClient = {
  name: 'CodePipelineClient',
  sdk: codePipelineSdk,
  protocol: 'json',
  stepFunctions: { service: 'codepipeline', errorPrefix: 'CodePipeline', camelCase: true },
};

const err = errorsFor(CODEPIPELINE_CLIENT);

export interface PipelineRunResult {
  status: 'Succeeded' | 'Failed';
  failedStage?: string;
  message?: string;
}

/**
 * Lets a runner report each stage as it goes (so GetPipelineState and the
 * stage times follow it); stages it does not report are marked when it returns.
 */
export interface StageReporter {
  start(stageName: string): void;
  end(stageName: string, status: 'Succeeded' | 'Failed'): void;
}

/** Runs an execution instead of the timed default (e.g. the engine runs the customizations). */
export type PipelineRunner = (
  pipelineName: string,
  executionId: string,
  declaration: PipelineDeclaration,
  stages: StageReporter,
) => Promise<PipelineRunResult>;

export interface CodePipelineOptions {
  /** Emulated seconds each stage takes when no runner is given. @default 120 */
  readonly stageSeconds?: number;
  readonly runner?: PipelineRunner;
}

/** An execution state change, shaped after EventBridge's "CodePipeline Pipeline Execution State Change". */
export interface PipelineEvent {
  pipeline: string;
  executionId: string;
  state: 'STARTED' | 'SUCCEEDED' | 'FAILED';
  version: number;
  account: string;
  region: string;
  /** Emulated ISO time. */
  time: string;
  failedStage?: string;
  message?: string;
}

export type PipelineListener = (event: PipelineEvent) => void;

export interface StageRun {
  name: string;
  status: StageExecutionStatus | 'NotStarted';
  start?: number;
  end?: number;
}

export interface ExecutionRecord {
  id: string;
  pipelineName: string;
  accountId: string;
  region: string;
  version: number;
  status: PipelineExecutionStatus;
  statusSummary?: string;
  start: number;
  updated: number;
  stages: StageRun[];
  token?: string;
}

interface PipelineRecord {
  accountId: string;
  region: string;
  declaration: PipelineDeclaration;
  created: number;
  updated: number;
  tags: { key: string; value: string }[];
  executions: ExecutionRecord[];
}

export class CodePipeline implements EmulatedService {
  private readonly pipelines = new Map<string, PipelineRecord>();
  private readonly allExecutions: ExecutionRecord[] = [];
  private readonly listeners = new Set<PipelineListener>();
  private readonly rng: Rng;
  private readonly stageSeconds: number;
  private runner: PipelineRunner | undefined;
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly env: Env,
    options: CodePipelineOptions = {},
  ) {
    this.rng = env.rng.fork('codepipeline');
    this.stageSeconds = options.stageSeconds ?? 120;
    this.runner = options.runner;
  }

  setRunner(runner: PipelineRunner | undefined): void {
    this.runner = runner;
  }

  onPipelineEvent(listener: PipelineListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when every execution started so far has finished. */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running]);
  }

  get pipelineList(): {
    accountId: string;
    region: string;
    name: string;
    version: number;
    declaration: PipelineDeclaration;
  }[] {
    return [...this.pipelines.values()].map((p) => ({
      accountId: p.accountId,
      region: p.region,
      name: p.declaration.name!,
      version: p.declaration.version!,
      declaration: structuredClone(p.declaration),
    }));
  }

  /** Deletes every pipeline with this name (a hand change); false when there was none. */
  deleteByName(name: string): boolean {
    const keys = [...this.pipelines].filter(([, p]) => p.declaration.name === name).map(([k]) => k);
    for (const k of keys) this.pipelines.delete(k);
    return keys.length > 0;
  }

  get executions(): ExecutionRecord[] {
    return this.allExecutions.map((e) => ({ ...e, stages: e.stages.map((s) => ({ ...s })) }));
  }

  commands(): CommandTable {
    return {
      GetPipelineCommand: (i: GetPipelineCommandInput, c: CallContext) => this.getPipeline(i, c),
      CreatePipelineCommand: (i: CreatePipelineCommandInput, c: CallContext) => this.createPipeline(i, c),
      UpdatePipelineCommand: (i: UpdatePipelineCommandInput, c: CallContext) => this.updatePipeline(i, c),
      DeletePipelineCommand: (i: DeletePipelineCommandInput, c: CallContext) => this.deletePipeline(i, c),
      StartPipelineExecutionCommand: (i: StartPipelineExecutionCommandInput, c: CallContext) =>
        this.startPipelineExecution(i, c),
      GetPipelineExecutionCommand: (i: GetPipelineExecutionCommandInput, c: CallContext) =>
        this.getPipelineExecution(i, c),
      ListPipelineExecutionsCommand: (i: ListPipelineExecutionsCommandInput, c: CallContext) =>
        this.listPipelineExecutions(i, c),
      GetPipelineStateCommand: (i: GetPipelineStateCommandInput, c: CallContext) =>
        this.getPipelineState(i, c),
    };
  }

  private key(ctx: CallContext, name: string | undefined): string {
    return `${ctx.principal.accountId}/${ctx.region}/${name}`;
  }

  private requirePipeline(ctx: CallContext, name: string | undefined): PipelineRecord {
    const p = this.pipelines.get(this.key(ctx, name));
    if (!p)
      throw err(
        'PipelineNotFoundException',
        `Account '${ctx.principal.accountId}' does not have a pipeline with name '${name}'`,
      );
    return p;
  }

  private arn(p: PipelineRecord): string {
    return `arn:aws:codepipeline:${p.region}:${p.accountId}:${p.declaration.name}`;
  }

  /** The structural rules CodePipeline enforces on a declaration. */
  private validate(d: PipelineDeclaration | undefined): PipelineDeclaration {
    if (!d) throw err('ValidationException', 'pipeline must not be null');
    if (!d.name || !/^[A-Za-z0-9.@_-]{1,100}$/.test(d.name)) {
      throw err(
        'ValidationException',
        `1 validation error detected: Value '${d.name}' at 'pipeline.name' failed to satisfy constraint`,
      );
    }
    if (!d.roleArn || !/^arn:aws(-[\w]+)*:iam::\d{12}:role\/.+$/.test(d.roleArn)) {
      throw err(
        'ValidationException',
        `1 validation error detected: Value '${d.roleArn}' at 'pipeline.roleArn' failed to satisfy constraint`,
      );
    }
    if (!d.artifactStore === !d.artifactStores) {
      throw err(
        'InvalidStructureException',
        'Pipeline must have exactly one of artifactStore or artifactStores.',
      );
    }
    const stages = d.stages ?? [];
    if (stages.length < 2)
      throw err('InvalidStructureException', 'Pipeline must contain at least two stages.');
    const stageNames = new Set<string>();
    stages.forEach((stage, n) => {
      if (!stage.name) throw err('InvalidStageDeclarationException', 'Stage name must not be empty.');
      if (stageNames.has(stage.name))
        throw err('InvalidStageDeclarationException', `Stage name ${stage.name} is used more than once.`);
      stageNames.add(stage.name);
      const actions = stage.actions ?? [];
      if (!actions.length)
        throw err(
          'InvalidStageDeclarationException',
          `Stage ${stage.name} must contain at least one action.`,
        );
      const actionNames = new Set<string>();
      for (const a of actions) {
        const t = a.actionTypeId;
        if (!a.name || !t?.category || !t.owner || !t.provider || !t.version) {
          throw err(
            'InvalidActionDeclarationException',
            `Action in stage ${stage.name} is missing a name or action type.`,
          );
        }
        if (actionNames.has(a.name)) {
          throw err(
            'InvalidActionDeclarationException',
            `Action name ${a.name} is used more than once in stage ${stage.name}.`,
          );
        }
        actionNames.add(a.name);
        const isSource = t.category === 'Source';
        if (n === 0 && !isSource) {
          throw err(
            'InvalidStructureException',
            `Stage ${stage.name}: the first stage may contain only source actions.`,
          );
        }
        if (n > 0 && isSource) {
          throw err(
            'InvalidStructureException',
            `Stage ${stage.name}: source actions are allowed in the first stage only.`,
          );
        }
      }
    });
    return structuredClone(d);
  }

  getPipeline(i: GetPipelineCommandInput, ctx: CallContext): Out<GetPipelineCommandOutput> {
    const p = this.requirePipeline(ctx, i.name);
    if (i.version !== undefined && i.version !== p.declaration.version) {
      throw err('PipelineVersionNotFoundException', `Pipeline ${i.name} has no version ${i.version}`);
    }
    return {
      pipeline: structuredClone(p.declaration),
      metadata: { pipelineArn: this.arn(p), created: new Date(p.created), updated: new Date(p.updated) },
    };
  }

  createPipeline(i: CreatePipelineCommandInput, ctx: CallContext): Out<CreatePipelineCommandOutput> {
    const d = this.validate(i.pipeline);
    const key = this.key(ctx, d.name);
    if (this.pipelines.has(key)) {
      throw err(
        'PipelineNameInUseException',
        `A pipeline with the name '${d.name}' already exists in account '${ctx.principal.accountId}'`,
      );
    }
    d.version = 1;
    d.pipelineType = d.pipelineType ?? 'V1';
    d.executionMode = d.executionMode ?? 'SUPERSEDED';
    const now = this.env.clock.nowMs();
    const record: PipelineRecord = {
      accountId: ctx.principal.accountId,
      region: ctx.region,
      declaration: d,
      created: now,
      updated: now,
      tags: (i.tags ?? []).map((t) => ({ key: t.key ?? '', value: t.value ?? '' })),
      executions: [],
    };
    this.pipelines.set(key, record);
    return { pipeline: structuredClone(d), tags: record.tags.length ? record.tags : undefined };
  }

  updatePipeline(i: UpdatePipelineCommandInput, ctx: CallContext): Out<UpdatePipelineCommandOutput> {
    const d = this.validate(i.pipeline);
    const p = this.requirePipeline(ctx, d.name);
    d.version = (p.declaration.version ?? 1) + 1;
    d.pipelineType = d.pipelineType ?? p.declaration.pipelineType;
    d.executionMode = d.executionMode ?? p.declaration.executionMode;
    p.declaration = d;
    p.updated = this.env.clock.nowMs();
    return { pipeline: structuredClone(d) };
  }

  deletePipeline(i: DeletePipelineCommandInput, ctx: CallContext): Out<DeletePipelineCommandOutput> {
    // Deleting a pipeline that does not exist succeeds.
    this.pipelines.delete(this.key(ctx, i.name));
    return {};
  }

  startPipelineExecution(
    i: StartPipelineExecutionCommandInput,
    ctx: CallContext,
  ): Out<StartPipelineExecutionCommandOutput> {
    const p = this.requirePipeline(ctx, i.name);
    if (i.clientRequestToken) {
      const same = p.executions.find((e) => e.token === i.clientRequestToken);
      if (same) return { pipelineExecutionId: same.id };
    }
    const now = this.env.clock.nowMs();
    const execution: ExecutionRecord = {
      id: this.rng.uuid(),
      pipelineName: p.declaration.name!,
      accountId: p.accountId,
      region: p.region,
      version: p.declaration.version!,
      status: 'InProgress',
      start: now,
      updated: now,
      stages: (p.declaration.stages ?? []).map((s) => ({ name: s.name!, status: 'NotStarted' })),
      token: i.clientRequestToken,
    };
    p.executions.push(execution);
    this.allExecutions.push(execution);
    this.emit(execution, 'STARTED');
    const run = this.run(execution, structuredClone(p.declaration));
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
    return { pipelineExecutionId: execution.id };
  }

  private async run(e: ExecutionRecord, declaration: PipelineDeclaration): Promise<void> {
    const mark = (stage: StageRun, status: StageRun['status']) => {
      const now = this.env.clock.nowMs();
      if (status === 'InProgress') stage.start = now;
      else stage.end = now;
      stage.status = status;
      e.updated = now;
    };
    let result: PipelineRunResult;
    try {
      if (this.runner) {
        const byName = (name: string) => e.stages.find((s) => s.name === name);
        const reporter: StageReporter = {
          start: (name) => {
            const stage = byName(name);
            if (stage) mark(stage, 'InProgress');
          },
          end: (name, status) => {
            const stage = byName(name);
            if (stage) mark(stage, status);
          },
        };
        result = await this.runner(e.pipelineName, e.id, declaration, reporter);
        const failedAt =
          result.status === 'Failed' ? e.stages.findIndex((s) => s.name === result.failedStage) : -1;
        const last =
          result.status === 'Failed' ? (failedAt >= 0 ? failedAt : e.stages.length - 1) : e.stages.length - 1;
        for (let n = 0; n <= last; n++) {
          const final = result.status === 'Failed' && n === last ? 'Failed' : 'Succeeded';
          if (e.stages[n].status === final) continue;
          if (e.stages[n].status === 'NotStarted') mark(e.stages[n], 'InProgress');
          mark(e.stages[n], final);
        }
        if (result.status === 'Failed' && !result.failedStage) result.failedStage = e.stages[last].name;
      } else {
        for (const stage of e.stages) {
          mark(stage, 'InProgress');
          await this.env.clock.sleep(this.stageSeconds * 1000);
          mark(stage, 'Succeeded');
        }
        result = { status: 'Succeeded' };
      }
    } catch (error) {
      const current = e.stages.find((s) => s.status === 'InProgress') ?? e.stages[0];
      mark(current, 'Failed');
      result = { status: 'Failed', failedStage: current.name, message: (error as Error).message };
    }
    e.status = result.status;
    e.statusSummary = result.message;
    e.updated = this.env.clock.nowMs();
    this.emit(e, result.status === 'Succeeded' ? 'SUCCEEDED' : 'FAILED', result.failedStage, result.message);
  }

  private emit(
    e: ExecutionRecord,
    state: PipelineEvent['state'],
    failedStage?: string,
    message?: string,
  ): void {
    const event: PipelineEvent = {
      pipeline: e.pipelineName,
      executionId: e.id,
      state,
      version: e.version,
      account: e.accountId,
      region: e.region,
      time: new Date(this.env.clock.nowMs()).toISOString(),
      failedStage,
      message,
    };
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own business: EventBridge delivery does not fail the pipeline.
      }
    }
  }

  private requireExecution(p: PipelineRecord, id: string | undefined): ExecutionRecord {
    const e = p.executions.find((x) => x.id === id);
    if (!e) {
      throw err(
        'PipelineExecutionNotFoundException',
        `Pipeline execution ${id} does not exist in pipeline ${p.declaration.name}.`,
      );
    }
    return e;
  }

  getPipelineExecution(
    i: GetPipelineExecutionCommandInput,
    ctx: CallContext,
  ): Out<GetPipelineExecutionCommandOutput> {
    const p = this.requirePipeline(ctx, i.pipelineName);
    const e = this.requireExecution(p, i.pipelineExecutionId);
    return {
      pipelineExecution: {
        pipelineName: e.pipelineName,
        pipelineVersion: e.version,
        pipelineExecutionId: e.id,
        status: e.status,
        statusSummary: e.statusSummary,
        artifactRevisions: [],
        variables: [],
        trigger: { triggerType: 'StartPipelineExecution', triggerDetail: 'emulated' },
        executionMode: p.declaration.executionMode,
        executionType: 'STANDARD',
      },
    };
  }

  listPipelineExecutions(
    i: ListPipelineExecutionsCommandInput,
    ctx: CallContext,
  ): Out<ListPipelineExecutionsCommandOutput> {
    const p = this.requirePipeline(ctx, i.pipelineName);
    if (i.maxResults !== undefined && (i.maxResults < 1 || i.maxResults > 100)) {
      throw err('ValidationException', 'maxResults must be between 1 and 100.');
    }
    const all = [...p.executions]
      .sort((a, b) => b.start - a.start)
      .map((e) => ({
        pipelineExecutionId: e.id,
        status: e.status,
        statusSummary: e.statusSummary,
        startTime: new Date(e.start),
        lastUpdateTime: new Date(e.updated),
        trigger: { triggerType: 'StartPipelineExecution' as const, triggerDetail: 'emulated' },
        executionMode: p.declaration.executionMode,
        executionType: 'STANDARD' as const,
      }));
    const page = paginate(
      all,
      i.nextToken,
      i.maxResults,
      this.env.pageSize,
      (m) => err('InvalidNextTokenException', m),
      `executions:${i.pipelineName}`,
    );
    return { pipelineExecutionSummaries: page.items, nextToken: page.nextToken };
  }

  getPipelineState(i: GetPipelineStateCommandInput, ctx: CallContext): Out<GetPipelineStateCommandOutput> {
    const p = this.requirePipeline(ctx, i.name);
    const latest = p.executions[p.executions.length - 1];
    return {
      pipelineName: p.declaration.name,
      pipelineVersion: p.declaration.version,
      created: new Date(p.created),
      updated: new Date(p.updated),
      stageStates: (p.declaration.stages ?? []).map((s) => {
        const run = latest?.stages.find((x) => x.name === s.name);
        const status = run && run.status !== 'NotStarted' ? run.status : undefined;
        const started = status && latest;
        return {
          stageName: s.name,
          latestExecution: started ? { pipelineExecutionId: latest.id, status } : undefined,
          // The failed action's error, as CodePipeline reports it.
          actionStates:
            started && status === 'Failed'
              ? (s.actions ?? []).map((a) => ({
                  actionName: a.name,
                  latestExecution: {
                    actionExecutionId: `${latest.id}-${a.name}`,
                    status: 'Failed' as const,
                    errorDetails: { code: 'JobFailed', message: latest.statusSummary ?? 'Action failed' },
                  },
                }))
              : undefined,
        };
      }),
    };
  }
}

export const CODEPIPELINE = defineService({
  clients: [CODEPIPELINE_CLIENT],
  create: (ctx) => new CodePipeline(ctx.env, ctx.options.codePipeline),
});
