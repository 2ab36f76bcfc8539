import {
  CodePipelineClient,
  DeletePipelineCommand,
  GetPipelineCommand,
  PipelineNotFoundException,
} from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import { setClock } from '../../lambda/shared/clock';
import type { StepPayload } from '../../lambda/shared/contracts';
import { getMetadata, putMetadata } from '../../lambda/shared/metadata';
import {
  handler,
  removeFromManagement,
  RemoveFromManagementInputSchema,
} from '../../lambda/remove-from-management';
import { ACCOUNT_ID, MetadataFixture, payload, startMetadataFixture } from './metadata-fixture';

const pipelineMock = mockClient(CodePipelineClient);
const codePipeline = new CodePipelineClient({ region: 'us-east-1' });
const PIPELINE = `account-customizations-${ACCOUNT_ID}`;

let fx: MetadataFixture;
let pipelines: Set<string>;
let clock: Date;
beforeEach(async () => {
  pipelineMock.reset();
  pipelines = new Set([PIPELINE, 'account-customizations-333333333333']);
  pipelineMock.on(GetPipelineCommand).callsFake((i: { name: string }) => {
    if (!pipelines.has(i.name)) throw new PipelineNotFoundException({ message: 'not found', $metadata: {} });
    return { pipeline: { name: i.name, roleArn: 'arn:aws:iam::222222222222:role/p', stages: [] } };
  });
  pipelineMock.on(DeletePipelineCommand).callsFake((i: { name: string }) => {
    pipelines.delete(i.name);
    return {};
  });
  fx = await startMetadataFixture();
  clock = new Date('2026-02-01T00:00:00.000Z');
  setClock({ now: () => clock });
});
afterEach(async () => {
  setClock(undefined);
  await fx.close();
});

async function storeItem(p: StepPayload) {
  const v = p.state.validation!;
  await putMetadata(fx.table, {
    accountId: ACCOUNT_ID,
    email: v.request.accountEmail,
    accountName: v.request.accountName,
    requestId: p.state.requestId,
    requestVersion: p.state.version,
    request: v.request,
    organizationalUnit: v.organizationalUnit,
    provisionedProductId: null,
    operation: v.operation,
    executionArn: p.execution.id,
  });
}

const removal = (version: number) => {
  const p = payload({ version, operation: 'REMOVE' });
  p.state.eventName = 'REMOVE';
  p.state.validation!.accountId = ACCOUNT_ID;
  return p;
};
const remove = (p: StepPayload) =>
  removeFromManagement({ codePipeline, metadata: fx.table }, RemoveFromManagementInputSchema.parse(p));

describe('remove from management', () => {
  test('deletes the pipeline and marks the item REMOVED, keeping it', async () => {
    await storeItem(payload({ version: 2 }));

    const result = await remove(removal(2));

    expect(result).toEqual({ accountId: ACCOUNT_ID, pipelineDeleted: true });
    expect([...pipelines]).toEqual(['account-customizations-333333333333']);
    expect(await getMetadata(fx.table, ACCOUNT_ID)).toMatchObject({
      accountId: ACCOUNT_ID,
      status: 'REMOVED',
      removedAt: '2026-02-01T00:00:00.000Z',
      lastOperation: 'REMOVE',
      requestVersion: 2,
      accountName: 'Sandbox',
    });
  });

  test('a second run ends in the same state', async () => {
    await storeItem(payload({ version: 2 }));
    await remove(removal(2));
    const after = await getMetadata(fx.table, ACCOUNT_ID);
    clock = new Date('2026-02-01T00:05:00.000Z');

    const again = await remove(removal(2));

    expect(again).toEqual({ accountId: ACCOUNT_ID, pipelineDeleted: false });
    expect(pipelineMock.commandCalls(DeletePipelineCommand)).toHaveLength(1);
    expect(await getMetadata(fx.table, ACCOUNT_ID)).toEqual({
      ...after,
      updatedAt: '2026-02-01T00:05:00.000Z',
    });
  });

  test('an account without a pipeline or a metadata item is fine', async () => {
    pipelines.clear();

    expect(await remove(removal(1))).toEqual({ accountId: ACCOUNT_ID, pipelineDeleted: false });
    expect(await getMetadata(fx.table, ACCOUNT_ID)).toBeUndefined();
  });

  test('a removal older than the stored request is StaleRequestVersion and keeps the pipeline', async () => {
    await storeItem(payload({ version: 5 }));

    await expect(remove(removal(4))).rejects.toMatchObject({ name: 'StaleRequestVersion' });
    expect(pipelines.has(PIPELINE)).toBe(true);
    expect((await getMetadata(fx.table, ACCOUNT_ID))?.status).toBe('ACTIVE');
  });

  test('handler rejects an operation other than REMOVE', async () => {
    const p = removal(2);
    p.state.validation!.operation = 'UPDATE';

    await expect(handler(p)).rejects.toMatchObject({
      name: 'InvalidStepInput',
      message: expect.stringContaining('REMOVE'),
    });
    expect(pipelineMock.calls()).toHaveLength(0);
  });
});
