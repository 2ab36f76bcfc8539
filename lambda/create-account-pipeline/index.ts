import type { Context } from 'aws-lambda';
import {
  ActionDeclaration,
  CodePipelineClient,
  CreatePipelineCommand,
  GetPipelineCommand,
  PipelineDeclaration,
  UpdatePipelineCommand,
} from '@aws-sdk/client-codepipeline';
import { z } from 'zod';
import { createClient } from '../shared/clients';
import type { PipelineResult } from '../shared/contracts';
import { optionalEnv, requireEnv } from '../shared/env';
import { parseInput } from '../shared/input';
import { createLogger, beginInvocation } from '../shared/logger';
import { withRemainingTime } from '../shared/retry';

/**
 * Step 9, Create account pipeline: one CodePipeline per account that runs the
 * customizations (global, then the account's own when the request names them).
 * Created once, updated only when its declaration changes.
 */

const logger = createLogger('create-account-pipeline');
const codePipeline = createClient(CodePipelineClient);

export const DEFAULT_PIPELINE_NAME_PREFIX = 'account-customizations';
/** The artifact the source action produces and the customization actions read. */
export const CUSTOMIZATIONS_ARTIFACT = 'customizations';

/** Where the pipelines fetch the customizations from (see CustomizationsSource in lib/). */
export type CustomizationsSourceConfig =
  | { type: 'S3'; bucket: string; objectKey: string }
  | { type: 'CODECONNECTIONS'; connectionArn: string; repository: string; branch: string };

export interface PipelineConfig {
  namePrefix: string;
  roleArn: string;
  artifactBucket: string;
  /** The S3 source (when `source` is not given). */
  customizationsBucket?: string;
  customizationsObjectKey?: string;
  /** The source; @default - S3, customizationsBucket / customizationsObjectKey */
  source?: CustomizationsSourceConfig;
  customizationsProject: string;
}

export function sourceFromEnv(): CustomizationsSourceConfig {
  const type = optionalEnv('CUSTOMIZATIONS_SOURCE_TYPE') ?? 'S3';
  if (type === 'S3') {
    return {
      type,
      bucket: requireEnv('CUSTOMIZATIONS_BUCKET'),
      objectKey: requireEnv('CUSTOMIZATIONS_OBJECT_KEY'),
    };
  }
  if (type === 'CODECONNECTIONS') {
    return {
      type,
      connectionArn: requireEnv('CUSTOMIZATIONS_CONNECTION_ARN'),
      repository: requireEnv('CUSTOMIZATIONS_REPOSITORY'),
      branch: requireEnv('CUSTOMIZATIONS_BRANCH'),
    };
  }
  throw new Error(`CUSTOMIZATIONS_SOURCE_TYPE must be S3 or CODECONNECTIONS, not ${type}`);
}

export function configFromEnv(): PipelineConfig {
  return {
    namePrefix: optionalEnv('PIPELINE_NAME_PREFIX') ?? DEFAULT_PIPELINE_NAME_PREFIX,
    roleArn: requireEnv('PIPELINE_ROLE_ARN'),
    artifactBucket: requireEnv('PIPELINE_ARTIFACT_BUCKET'),
    source: sourceFromEnv(),
    customizationsProject: requireEnv('CUSTOMIZATIONS_PROJECT'),
  };
}

function sourceOf(config: PipelineConfig): CustomizationsSourceConfig {
  if (config.source) return config.source;
  if (!config.customizationsBucket || !config.customizationsObjectKey) {
    throw new Error('The pipeline configuration names no customizations source');
  }
  return { type: 'S3', bucket: config.customizationsBucket, objectKey: config.customizationsObjectKey };
}

/**
 * The Source action. Neither kind watches for changes: the factory starts each
 * account's pipeline itself, a bounded number at a time (a push that started
 * every account's pipeline at once would bypass that bound).
 */
export function sourceAction(source: CustomizationsSourceConfig): ActionDeclaration {
  const common = { name: 'Source', runOrder: 1, outputArtifacts: [{ name: CUSTOMIZATIONS_ARTIFACT }] };
  if (source.type === 'S3') {
    return {
      ...common,
      actionTypeId: { category: 'Source', owner: 'AWS', provider: 'S3', version: '1' },
      configuration: {
        S3Bucket: source.bucket,
        S3ObjectKey: source.objectKey,
        PollForSourceChanges: 'false',
      },
    };
  }
  return {
    ...common,
    actionTypeId: { category: 'Source', owner: 'AWS', provider: 'CodeStarSourceConnection', version: '1' },
    configuration: {
      ConnectionArn: source.connectionArn,
      FullRepositoryId: source.repository,
      BranchName: source.branch,
      OutputArtifactFormat: 'CODE_ZIP',
      DetectChanges: 'false',
    },
  };
}

export const CreateAccountPipelineInputSchema = z.object({
  state: z.object({
    validation: z.object({
      request: z.object({ customizationsName: z.string().min(1).optional() }),
    }),
    account: z.object({ accountId: z.string().regex(/^\d{12}$/, 'must be a 12-digit account ID') }),
  }),
});
export type CreateAccountPipelineInput = z.output<typeof CreateAccountPipelineInputSchema>;

export function pipelineName(prefix: string, accountId: string): string {
  return `${prefix}-${accountId}`;
}

export interface PipelineTarget {
  accountId: string;
  /** The account's own customizations (`accounts/<name>`); none = global customizations only. */
  customizationsName?: string;
}

function customizationsAction(
  name: string,
  config: PipelineConfig,
  accountId: string,
  scope: 'global' | 'account',
  path: string,
): ActionDeclaration {
  const variables = [
    { name: 'ACCOUNT_ID', value: accountId, type: 'PLAINTEXT' },
    { name: 'CUSTOMIZATIONS_SCOPE', value: scope, type: 'PLAINTEXT' },
    { name: 'CUSTOMIZATIONS_PATH', value: path, type: 'PLAINTEXT' },
  ];
  return {
    name,
    actionTypeId: { category: 'Build', owner: 'AWS', provider: 'CodeBuild', version: '1' },
    runOrder: 1,
    configuration: {
      ProjectName: config.customizationsProject,
      EnvironmentVariables: JSON.stringify(variables),
    },
    inputArtifacts: [{ name: CUSTOMIZATIONS_ARTIFACT }],
  };
}

/** The pipeline of one account: a pure function of the account, its request and the factory's settings. */
export function buildPipelineDeclaration(
  target: PipelineTarget,
  config: PipelineConfig,
): PipelineDeclaration {
  const stages: NonNullable<PipelineDeclaration['stages']> = [
    { name: 'Source', actions: [sourceAction(sourceOf(config))] },
    {
      name: 'Global',
      actions: [customizationsAction('Global', config, target.accountId, 'global', 'global')],
    },
  ];
  if (target.customizationsName) {
    stages.push({
      name: 'Account',
      actions: [
        customizationsAction(
          'Account',
          config,
          target.accountId,
          'account',
          `accounts/${target.customizationsName}`,
        ),
      ],
    });
  }
  return {
    name: pipelineName(config.namePrefix, target.accountId),
    roleArn: config.roleArn,
    pipelineType: 'V2',
    executionMode: 'QUEUED',
    artifactStore: { type: 'S3', location: config.artifactBucket },
    stages,
  };
}

/** Keys sorted; undefined, null, empty lists and empty objects dropped: how two declarations are compared. */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(normalize).filter((v) => v !== undefined);
    return items.length ? items : undefined;
  }
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const entries = Object.keys(value)
      .sort()
      .map((k) => [k, normalize((value as Record<string, unknown>)[k])] as const)
      .filter(([, v]) => v !== undefined);
    return entries.length ? Object.fromEntries(entries) : undefined;
  }
  return value ?? undefined;
}

/** Whether two declarations define the same pipeline (the version is ignored). */
export function sameDeclaration(a: PipelineDeclaration, b: PipelineDeclaration): boolean {
  const strip = (d: PipelineDeclaration) => normalize({ ...d, version: undefined });
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

async function currentDeclaration(
  client: CodePipelineClient,
  name: string,
): Promise<PipelineDeclaration | undefined> {
  try {
    return (await client.send(new GetPipelineCommand({ name }))).pipeline;
  } catch (err) {
    if ((err as Error).name === 'PipelineNotFoundException') return undefined;
    throw err;
  }
}

/** Creates the pipeline, or updates it when (and only when) its declaration changed. */
export async function ensurePipeline(
  client: CodePipelineClient,
  desired: PipelineDeclaration,
): Promise<PipelineResult> {
  const name = desired.name as string;
  let current = await currentDeclaration(client, name);
  if (!current) {
    try {
      await client.send(new CreatePipelineCommand({ pipeline: desired }));
      logger.info('Created account pipeline', { pipelineName: name });
      return { pipelineName: name, created: true };
    } catch (err) {
      // Created meanwhile (a concurrent attempt of the step): compare with it, as below.
      if ((err as Error).name !== 'PipelineNameInUseException') throw err;
      current = await currentDeclaration(client, name);
    }
  }
  if (!current || !sameDeclaration(current, desired)) {
    await client.send(new UpdatePipelineCommand({ pipeline: desired }));
    logger.info('Updated account pipeline', { pipelineName: name });
  }
  return { pipelineName: name, created: false };
}

export async function createAccountPipeline(
  client: CodePipelineClient,
  input: CreateAccountPipelineInput,
  config: PipelineConfig,
): Promise<PipelineResult> {
  const declaration = buildPipelineDeclaration(
    {
      accountId: input.state.account.accountId,
      customizationsName: input.state.validation.request.customizationsName,
    },
    config,
  );
  return ensurePipeline(client, declaration);
}

export const handler = withRemainingTime(
  async (event: unknown, context?: Context): Promise<PipelineResult> => {
    beginInvocation(logger, event, context);
    const input = parseInput(CreateAccountPipelineInputSchema, event, 'Create account pipeline');
    return createAccountPipeline(codePipeline, input, configFromEnv());
  },
);
