import {
  CodePipelineClient,
  CreatePipelineCommand,
  GetPipelineCommand,
  PipelineDeclaration,
  PipelineNotFoundException,
  UpdatePipelineCommand,
} from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import {
  buildPipelineDeclaration,
  configFromEnv,
  createAccountPipeline,
  CreateAccountPipelineInputSchema,
  handler,
  PipelineConfig,
} from '../../lambda/create-account-pipeline';
import { ACCOUNT_ID, payload, request } from './metadata-fixture';

const pipelineMock = mockClient(CodePipelineClient);
const client = new CodePipelineClient({ region: 'us-east-1' });

const config: PipelineConfig = {
  namePrefix: 'account-customizations',
  roleArn: 'arn:aws:iam::222222222222:role/pipeline',
  artifactBucket: 'factory-artifacts',
  customizationsBucket: 'factory-customizations',
  customizationsObjectKey: 'customizations.zip',
  customizationsProject: 'account-customizations',
};
const NAME = `account-customizations-${ACCOUNT_ID}`;

/** The pipelines, as the mocked CodePipeline holds them (GetPipeline adds a version, like AWS). */
let pipelines: Map<string, PipelineDeclaration>;
beforeEach(() => {
  pipelineMock.reset();
  pipelines = new Map();
  pipelineMock.on(GetPipelineCommand).callsFake((i: { name: string }) => {
    const p = pipelines.get(i.name);
    if (!p) throw new PipelineNotFoundException({ message: 'not found', $metadata: {} });
    return {
      pipeline: p,
      metadata: { pipelineArn: `arn:aws:codepipeline:us-east-1:222222222222:${i.name}` },
    };
  });
  pipelineMock.on(CreatePipelineCommand).callsFake((i: { pipeline: PipelineDeclaration }) => {
    pipelines.set(i.pipeline.name!, { ...i.pipeline, version: 1 });
    return { pipeline: i.pipeline };
  });
  pipelineMock.on(UpdatePipelineCommand).callsFake((i: { pipeline: PipelineDeclaration }) => {
    const version = (pipelines.get(i.pipeline.name!)?.version ?? 0) + 1;
    pipelines.set(i.pipeline.name!, { ...i.pipeline, version });
    return { pipeline: i.pipeline };
  });
});

const inputFor = (customizationsName?: string) =>
  CreateAccountPipelineInputSchema.parse(payload({ request: request({ customizationsName }) }));
const stageNames = () => pipelines.get(NAME)!.stages!.map((s) => s.name);
const envOf = (stage: string) =>
  JSON.parse(
    pipelines.get(NAME)!.stages!.find((s) => s.name === stage)!.actions![0].configuration!
      .EnvironmentVariables,
  );

describe('create account pipeline', () => {
  test('creates the pipeline: S3 source, global then account customizations', async () => {
    const result = await createAccountPipeline(client, inputFor('sandbox'), config);

    expect(result).toEqual({ pipelineName: NAME, created: true });
    const created = pipelineMock.commandCalls(CreatePipelineCommand)[0].args[0].input.pipeline!;
    expect(created).toMatchObject({
      name: NAME,
      pipelineType: 'V2',
      executionMode: 'QUEUED',
      roleArn: config.roleArn,
      artifactStore: { type: 'S3', location: 'factory-artifacts' },
    });
    expect(stageNames()).toEqual(['Source', 'Global', 'Account']);
    expect(created.stages![0].actions![0]).toMatchObject({
      actionTypeId: { category: 'Source', owner: 'AWS', provider: 'S3' },
      configuration: {
        S3Bucket: 'factory-customizations',
        S3ObjectKey: 'customizations.zip',
        PollForSourceChanges: 'false',
      },
      outputArtifacts: [{ name: 'customizations' }],
    });
    expect(created.stages![1].actions![0]).toMatchObject({
      actionTypeId: { category: 'Build', owner: 'AWS', provider: 'CodeBuild' },
      configuration: { ProjectName: 'account-customizations' },
      inputArtifacts: [{ name: 'customizations' }],
    });
    expect(envOf('Global')).toEqual([
      { name: 'ACCOUNT_ID', value: ACCOUNT_ID, type: 'PLAINTEXT' },
      { name: 'CUSTOMIZATIONS_SCOPE', value: 'global', type: 'PLAINTEXT' },
      { name: 'CUSTOMIZATIONS_PATH', value: 'global', type: 'PLAINTEXT' },
    ]);
    expect(envOf('Account')).toContainEqual({
      name: 'CUSTOMIZATIONS_PATH',
      value: 'accounts/sandbox',
      type: 'PLAINTEXT',
    });
    expect(envOf('Account')).toContainEqual({
      name: 'CUSTOMIZATIONS_SCOPE',
      value: 'account',
      type: 'PLAINTEXT',
    });
  });

  test('no Account stage without a customizationsName', async () => {
    await createAccountPipeline(client, inputFor(undefined), config);

    expect(stageNames()).toEqual(['Source', 'Global']);
  });

  test('a second run with the same input changes nothing', async () => {
    await createAccountPipeline(client, inputFor('sandbox'), config);

    const again = await createAccountPipeline(client, inputFor('sandbox'), config);

    expect(again).toEqual({ pipelineName: NAME, created: false });
    expect(pipelineMock.commandCalls(CreatePipelineCommand)).toHaveLength(1);
    expect(pipelineMock.commandCalls(UpdatePipelineCommand)).toHaveLength(0);
  });

  test('a new customizationsName updates the pipeline', async () => {
    await createAccountPipeline(client, inputFor('sandbox'), config);

    const result = await createAccountPipeline(client, inputFor('sandbox-v2'), config);

    expect(result.created).toBe(false);
    expect(pipelineMock.commandCalls(UpdatePipelineCommand)).toHaveLength(1);
    expect(pipelines.get(NAME)!.version).toBe(2);
    expect(envOf('Account')).toContainEqual({
      name: 'CUSTOMIZATIONS_PATH',
      value: 'accounts/sandbox-v2',
      type: 'PLAINTEXT',
    });
  });

  test('dropping the customizationsName removes the Account stage', async () => {
    await createAccountPipeline(client, inputFor('sandbox'), config);

    await createAccountPipeline(client, inputFor(undefined), config);

    expect(stageNames()).toEqual(['Source', 'Global']);
  });

  test('other GetPipeline failures propagate', async () => {
    pipelineMock
      .on(GetPipelineCommand)
      .rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));

    await expect(createAccountPipeline(client, inputFor('sandbox'), config)).rejects.toMatchObject({
      name: 'ThrottlingException',
    });
    expect(pipelineMock.commandCalls(CreatePipelineCommand)).toHaveLength(0);
  });
});

describe('buildPipelineDeclaration', () => {
  test('what AWS adds when it returns the pipeline (version, empty lists) is not a change', async () => {
    const declaration = buildPipelineDeclaration({ accountId: ACCOUNT_ID }, config);
    pipelines.set(NAME, {
      ...declaration,
      version: 7,
      variables: [],
      triggers: [],
      stages: declaration.stages!.map((s) => ({
        ...s,
        actions: s.actions!.map((a) => ({ ...a, outputArtifacts: a.outputArtifacts ?? [] })),
      })),
    });

    await createAccountPipeline(client, inputFor(undefined), config);

    expect(pipelineMock.commandCalls(UpdatePipelineCommand)).toHaveLength(0);
  });
});

describe('configuration', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  test('the name prefix defaults to account-customizations', () => {
    Object.assign(process.env, {
      PIPELINE_ROLE_ARN: config.roleArn,
      PIPELINE_ARTIFACT_BUCKET: 'a',
      CUSTOMIZATIONS_BUCKET: 'b',
      CUSTOMIZATIONS_OBJECT_KEY: 'c',
      CUSTOMIZATIONS_PROJECT: 'd',
    });
    delete process.env.PIPELINE_NAME_PREFIX;

    expect(configFromEnv().namePrefix).toBe('account-customizations');
  });

  test('handler rejects input without an account', async () => {
    await expect(handler({ state: { validation: { request: {} } } })).rejects.toMatchObject({
      name: 'InvalidStepInput',
    });
  });
});
