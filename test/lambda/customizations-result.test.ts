import {
  CodePipelineClient,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
} from '@aws-sdk/client-codepipeline';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import {
  accountIdOf,
  handlePipelineEvent,
  PipelineEvent,
  PipelineEventSchema,
  ResultClients,
  ResultConfig,
} from '../../lambda/customizations-result';
import type { CustomizationsNotification } from '../../lambda/shared/contracts';
import { getMetadata } from '../../lambda/shared/metadata';
import { acquire, enqueue, pipelineHolder, readLock } from '../../lambda/shared/semaphore';
import { ACCOUNT_ID, MetadataFixture, startMetadataFixture } from './metadata-fixture';
import { arn, SemaphoreFixture, startSemaphoreFixture } from './semaphore-fixture';

const sfnMock = mockClient(SFNClient);
const snsMock = mockClient(SNSClient);
const cpMock = mockClient(CodePipelineClient);

const PIPELINE = `account-customizations-${ACCOUNT_ID}`;
const EXECUTION_ID = '0f0e0d0c-0000-4000-8000-000000000001';

let meta: MetadataFixture;
let sem: SemaphoreFixture;
let clients: ResultClients;
let config: ResultConfig;

beforeEach(async () => {
  sfnMock.reset();
  snsMock.reset();
  cpMock.reset();
  sfnMock.on(SendTaskSuccessCommand).resolves({});
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
  meta = await startMetadataFixture();
  sem = await startSemaphoreFixture();
  clients = {
    metadata: meta.table,
    lockDoc: sem.ddb,
    sfn: new SFNClient({ region: 'us-east-1' }),
    sns: new SNSClient({ region: 'us-east-1' }),
    codePipeline: new CodePipelineClient({ region: 'us-east-1' }),
  };
  config = {
    pipelinePrefix: 'account-customizations',
    successTopicArn: 'arn:aws:sns:us-east-1:222222222222:success',
    failureTopicArn: 'arn:aws:sns:us-east-1:222222222222:failure',
    lock: { table: sem.table, lockName: 'customizations', limit: 1 },
  };
  await meta.table.doc.send(
    new PutCommand({
      TableName: meta.table.tableName,
      Item: {
        accountId: ACCOUNT_ID,
        accountName: 'sandbox-01',
        requestId: 'sandbox-01@example.com',
        status: 'ACTIVE',
      },
    }),
  );
});

afterEach(async () => {
  await meta.close();
  await sem.close();
});

function event(state: string, time = '2030-01-01T00:10:00.000Z', pipeline = PIPELINE): PipelineEvent {
  return PipelineEventSchema.parse({
    version: '0',
    source: 'aws.codepipeline',
    account: '222222222222',
    region: 'us-east-1',
    time,
    'detail-type': 'CodePipeline Pipeline Execution State Change',
    resources: [`arn:aws:codepipeline:us-east-1:222222222222:${pipeline}`],
    detail: { pipeline, 'execution-id': EXECUTION_ID, state, version: 1 },
  });
}

const published = () =>
  snsMock.commandCalls(PublishCommand).map((c) => ({
    topic: c.args[0].input.TopicArn,
    message: JSON.parse(c.args[0].input.Message!) as CustomizationsNotification,
    kind: c.args[0].input.MessageAttributes?.kind?.StringValue,
  }));

test("the account ID comes from <prefix>-<12 digits>; other pipelines are not the factory's", () => {
  expect(accountIdOf(`account-customizations-${ACCOUNT_ID}`, 'account-customizations')).toBe(ACCOUNT_ID);
  expect(accountIdOf('account-customizations-abc', 'account-customizations')).toBeUndefined();
  expect(accountIdOf(`other-${ACCOUNT_ID}`, 'account-customizations')).toBeUndefined();
});

test("SUCCEEDED: frees the pipeline's slot for the next waiter, records, notifies the success topic", async () => {
  await acquire(sem.ddb, { ...config.lock, holder: pipelineHolder(PIPELINE, EXECUTION_ID) });
  await enqueue(sem.ddb, {
    ...config.lock,
    holder: arn('next'),
    queuedAt: '2030-01-01T00:00:00.000Z',
    token: 't-next',
  });

  const result = await handlePipelineEvent(clients, config, event('SUCCEEDED'));

  expect(result).toMatchObject({
    accountId: ACCOUNT_ID,
    status: 'SUCCEEDED',
    released: true,
    woken: [arn('next')],
  });
  expect(Object.keys((await readLock(sem.ddb, config.lock)).holders)).toEqual([arn('next')]);
  expect(sfnMock.commandCalls(SendTaskSuccessCommand)[0].args[0].input.taskToken).toBe('t-next');
  const item = await getMetadata(meta.table, ACCOUNT_ID);
  expect(item?.customizations).toMatchObject({
    status: 'SUCCEEDED',
    pipelineName: PIPELINE,
    pipelineExecutionId: EXECUTION_ID,
    at: '2030-01-01T00:10:00.000Z',
  });
  expect(item?.customizations?.failedStage).toBeUndefined();
  expect(published()).toEqual([
    {
      topic: config.successTopicArn,
      kind: 'CUSTOMIZATIONS',
      message: expect.objectContaining({
        kind: 'CUSTOMIZATIONS',
        outcome: 'SUCCEEDED',
        accountId: ACCOUNT_ID,
        accountName: 'sandbox-01',
        requestId: 'sandbox-01@example.com',
        pipelineExecutionId: EXECUTION_ID,
      }),
    },
  ]);
});

test('FAILED: the failed stage and its error, in the metadata and in the failure notification', async () => {
  cpMock.on(GetPipelineStateCommand).resolves({
    stageStates: [
      { stageName: 'Source', latestExecution: { pipelineExecutionId: EXECUTION_ID, status: 'Succeeded' } },
      { stageName: 'Global', latestExecution: { pipelineExecutionId: EXECUTION_ID, status: 'Succeeded' } },
      {
        stageName: 'Account',
        latestExecution: { pipelineExecutionId: EXECUTION_ID, status: 'Failed' },
        actionStates: [
          {
            actionName: 'Account',
            latestExecution: { status: 'Failed', errorDetails: { message: 'cdk deploy failed' } },
          },
        ],
      },
    ],
  });

  const result = await handlePipelineEvent(clients, config, event('FAILED'));

  expect(result.released).toBe(false);
  expect((await getMetadata(meta.table, ACCOUNT_ID))?.customizations).toMatchObject({
    status: 'FAILED',
    failedStage: 'Account',
    message: 'cdk deploy failed',
  });
  const [sent] = published();
  expect(sent.topic).toBe(config.failureTopicArn);
  expect(sent.message).toMatchObject({
    outcome: 'FAILED',
    failedStage: 'Account',
    error: { name: 'CustomizationsFailed', cause: 'cdk deploy failed', stage: 'Account' },
  });
  expect(snsMock.commandCalls(PublishCommand)[0].args[0].input.Subject).toBe(
    'Account factory: sandbox-01 customizations FAILED at Account',
  );
});

test('FAILED with no stage state of this execution: the execution summary is the cause', async () => {
  cpMock.on(GetPipelineStateCommand).resolves({ stageStates: [] });
  cpMock.on(GetPipelineExecutionCommand).resolves({
    pipelineExecution: {
      pipelineExecutionId: EXECUTION_ID,
      status: 'Failed',
      statusSummary: 'Build timed out',
    },
  });
  await handlePipelineEvent(clients, config, event('FAILED'));
  expect(published()[0].message.error?.cause).toBe('Build timed out');
});

test('a repeated event releases nothing more and publishes nothing more', async () => {
  await acquire(sem.ddb, { ...config.lock, holder: pipelineHolder(PIPELINE, EXECUTION_ID) });
  await handlePipelineEvent(clients, config, event('SUCCEEDED'));
  const again = await handlePipelineEvent(clients, config, event('SUCCEEDED'));
  expect(again).toMatchObject({ released: false, recorded: 'duplicate' });
  expect(published()).toHaveLength(1);
});

test('a repeated event publishes if the first delivery failed to', async () => {
  snsMock.on(PublishCommand).rejectsOnce(new Error('SNS is down')).resolves({ MessageId: 'm-2' });
  await expect(handlePipelineEvent(clients, config, event('SUCCEEDED'))).rejects.toThrow('SNS is down');
  await handlePipelineEvent(clients, config, event('SUCCEEDED'));
  expect(snsMock.commandCalls(PublishCommand)).toHaveLength(2);
  expect((await getMetadata(meta.table, ACCOUNT_ID))?.customizations?.notifiedAt).toBeDefined();
});

test('STARTED records IN_PROGRESS; an older event never overwrites a newer one', async () => {
  await handlePipelineEvent(clients, config, event('SUCCEEDED', '2030-01-01T00:10:00.000Z'));
  const late = await handlePipelineEvent(clients, config, event('STARTED', '2030-01-01T00:01:00.000Z'));
  expect(late.recorded).toBe('stale');
  expect((await getMetadata(meta.table, ACCOUNT_ID))?.customizations?.status).toBe('SUCCEEDED');
});

test('SUPERSEDED: slot freed and recorded, not notified; other pipelines and states are ignored', async () => {
  await acquire(sem.ddb, { ...config.lock, holder: pipelineHolder(PIPELINE, EXECUTION_ID) });
  const superseded = await handlePipelineEvent(clients, config, event('SUPERSEDED'));
  expect(superseded).toMatchObject({ status: 'SUPERSEDED', released: true, recorded: 'updated' });
  expect(published()).toEqual([]);

  expect((await handlePipelineEvent(clients, config, event('RESUMED'))).ignored).toMatch(/RESUMED/);
  expect(
    (await handlePipelineEvent(clients, config, event('SUCCEEDED', undefined, 'someone-elses'))).ignored,
  ).toMatch(/not an account pipeline/);
  expect(published()).toEqual([]);
});

test('an account without metadata (removed meanwhile) is still notified, nothing recorded', async () => {
  const other = 'account-customizations-333333333333';
  const result = await handlePipelineEvent(clients, config, event('SUCCEEDED', undefined, other));
  expect(result.recorded).toBe('absent');
  expect(published()[0].message).toMatchObject({ accountId: '333333333333', accountName: null });
});
