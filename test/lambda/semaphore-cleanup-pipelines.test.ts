import {
  CodePipelineClient,
  GetPipelineExecutionCommand,
  PipelineExecutionNotFoundException,
} from '@aws-sdk/client-codepipeline';
import { DescribeExecutionCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { handleCleanupEventForLocks, isRunning, locksFromEnv } from '../../lambda/semaphore-cleanup';
import { ENV } from '../../lambda/shared/env';
import { acquire, parsePipelineHolder, pipelineHolder, readLock } from '../../lambda/shared/semaphore';
import { arn, SemaphoreFixture, startSemaphoreFixture } from './semaphore-fixture';

const sfnMock = mockClient(SFNClient);
const cpMock = mockClient(CodePipelineClient);
const sfn = new SFNClient({ region: 'us-east-1' });
const codePipeline = new CodePipelineClient({ region: 'us-east-1' });

let fx: SemaphoreFixture;
beforeEach(async () => {
  sfnMock.reset();
  cpMock.reset();
  sfnMock.on(SendTaskSuccessCommand).resolves({});
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
  fx = await startSemaphoreFixture();
});
afterEach(async () => {
  await fx.close();
});

const controlTower = () => ({ table: fx.table, lockName: 'control-tower', limit: 5 });
const customizations = () => ({ table: fx.table, lockName: 'customizations', limit: 2 });
const running = pipelineHolder('account-customizations-111111111111', 'exec-running');
const ended = pipelineHolder('account-customizations-222222222222', 'exec-ended');
const unknown = pipelineHolder('account-customizations-333333333333', 'exec-unknown');

test('a pipeline holder: parsed back, alive while CodePipeline says InProgress', async () => {
  expect(parsePipelineHolder(running)).toEqual({
    pipelineName: 'account-customizations-111111111111',
    executionId: 'exec-running',
  });
  expect(parsePipelineHolder(arn('x'))).toBeUndefined();
  cpMock.on(GetPipelineExecutionCommand, { pipelineExecutionId: 'exec-running' }).resolves({
    pipelineExecution: { status: 'InProgress' },
  });
  cpMock.on(GetPipelineExecutionCommand, { pipelineExecutionId: 'exec-ended' }).resolves({
    pipelineExecution: { status: 'Succeeded' },
  });
  cpMock
    .on(GetPipelineExecutionCommand, { pipelineExecutionId: 'exec-unknown' })
    .rejects(new PipelineExecutionNotFoundException({ message: 'no such execution', $metadata: {} }));
  expect(await isRunning(sfn, running, codePipeline)).toBe(true);
  expect(await isRunning(sfn, ended, codePipeline)).toBe(false);
  expect(await isRunning(sfn, unknown, codePipeline)).toBe(false);
  // Without a CodePipeline client it is never released by a guess.
  expect(await isRunning(sfn, ended)).toBe(true);
  expect(sfnMock.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
});

test('the reaper serves every lock and releases only the pipelines that ended', async () => {
  cpMock.on(GetPipelineExecutionCommand, { pipelineExecutionId: 'exec-running' }).resolves({
    pipelineExecution: { status: 'InProgress' },
  });
  cpMock.on(GetPipelineExecutionCommand, { pipelineExecutionId: 'exec-ended' }).resolves({
    pipelineExecution: { status: 'Failed' },
  });
  await acquire(fx.ddb, { ...customizations(), holder: running });
  await acquire(fx.ddb, { ...customizations(), holder: ended });
  await acquire(fx.ddb, { ...controlTower(), holder: arn('busy') });

  const result = await handleCleanupEventForLocks(
    fx.ddb,
    sfn,
    [controlTower(), customizations()],
    { 'detail-type': 'Scheduled Event', detail: {} },
    codePipeline,
  );

  expect(result.released).toEqual([ended]);
  expect(Object.keys((await readLock(fx.ddb, customizations())).holders)).toEqual([running]);
  expect(Object.keys((await readLock(fx.ddb, controlTower())).holders)).toEqual([arn('busy')]);
});

test('the locks come from the environment: the own lock, then the added ones', () => {
  const saved = { ...process.env };
  try {
    process.env[ENV.SEMAPHORE_TABLE] = 'semaphore';
    process.env[ENV.SEMAPHORE_LOCK_NAME] = 'control-tower';
    process.env[ENV.SEMAPHORE_LIMIT] = '5';
    process.env[ENV.SEMAPHORE_EXTRA_LOCKS] = JSON.stringify([
      { table: 'custom', lockName: 'customizations', limit: 10 },
    ]);
    expect(locksFromEnv()).toEqual([
      { table: 'semaphore', lockName: 'control-tower', limit: 5 },
      { table: 'custom', lockName: 'customizations', limit: 10 },
    ]);
    process.env[ENV.SEMAPHORE_EXTRA_LOCKS] = '[{"table":"t"}]';
    expect(() => locksFromEnv()).toThrow(/is not \{ table, lockName, limit \}/);
  } finally {
    process.env = saved;
  }
});
