import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { handler, storeMetadata, StoreMetadataInputSchema } from '../../lambda/store-metadata';
import { setClock } from '../../lambda/shared/clock';
import type { StepPayload } from '../../lambda/shared/contracts';
import { getMetadata, getMetadataByEmail } from '../../lambda/shared/metadata';
import { ACCOUNT_ID, MetadataFixture, payload, request, startMetadataFixture } from './metadata-fixture';

let fx: MetadataFixture;
let clock: Date;
beforeEach(async () => {
  fx = await startMetadataFixture();
  clock = new Date('2026-01-01T00:10:00.000Z');
  setClock({ now: () => clock });
});
afterEach(async () => {
  setClock(undefined);
  await fx.close();
});

const store = (p: StepPayload) => storeMetadata(fx.table, StoreMetadataInputSchema.parse(p));

describe('store metadata', () => {
  test('writes the account item of a new account', async () => {
    const p = payload({
      request: request({ accountEmail: 'sandbox@example.com', customizationsName: 'sandbox' }),
    });
    p.state.provisioning = {
      recordId: 'rec-1',
      provisionedProductId: 'pp-fromprovision',
      recordType: 'PROVISION_PRODUCT',
      startedAt: '2026-01-01T00:00:00.000Z',
    };

    await store(p);

    expect(await getMetadata(fx.table, ACCOUNT_ID)).toEqual({
      accountId: ACCOUNT_ID,
      email: 'sandbox@example.com',
      accountName: 'Sandbox',
      requestId: 'sandbox@example.com',
      requestVersion: 1,
      request: p.state.validation!.request,
      organizationalUnit: { id: 'ou-ab12-cdef3456', name: 'Sandbox' },
      provisionedProductId: 'pp-fromprovision',
      status: 'ACTIVE',
      lastOperation: 'CREATE',
      lastExecutionArn: p.execution.id,
      lastOutcome: 'IN_PROGRESS',
      createdAt: '2026-01-01T00:10:00.000Z',
      updatedAt: '2026-01-01T00:10:00.000Z',
    });
  });

  test('uses the validated provisioned product when there was no Control Tower operation', async () => {
    await store(payload({ version: 2, operation: 'CUSTOMIZE' }));

    expect((await getMetadata(fx.table, ACCOUNT_ID))?.provisionedProductId).toBe('pp-abcdefgh12345');
  });

  test('the email index finds the account', async () => {
    await store(payload());

    expect((await getMetadataByEmail(fx.table, 'SANDBOX@example.com'))?.accountId).toBe(ACCOUNT_ID);
    expect(await getMetadataByEmail(fx.table, 'other@example.com')).toBeUndefined();
  });

  test('running twice leaves the same item, createdAt from the first write', async () => {
    await store(payload());
    const first = await getMetadata(fx.table, ACCOUNT_ID);
    clock = new Date('2026-01-01T00:20:00.000Z');

    await store(payload());

    expect(await getMetadata(fx.table, ACCOUNT_ID)).toEqual({
      ...first,
      updatedAt: '2026-01-01T00:20:00.000Z',
    });
  });

  test('a newer version overwrites and keeps createdAt', async () => {
    await store(payload({ version: 1 }));
    clock = new Date('2026-01-02T00:00:00.000Z');

    await store(payload({ version: 2, request: request({ accountName: 'Sandbox Two' }) }));

    const item = await getMetadata(fx.table, ACCOUNT_ID);
    expect(item).toMatchObject({
      requestVersion: 2,
      accountName: 'Sandbox Two',
      lastOperation: 'UPDATE',
      createdAt: '2026-01-01T00:10:00.000Z',
      updatedAt: '2026-01-02T00:00:00.000Z',
    });
  });

  test('a stale execution fails with StaleRequestVersion and leaves the newer item alone', async () => {
    await store(payload({ version: 3, request: request({ accountName: 'Newest' }) }));
    const before = await getMetadata(fx.table, ACCOUNT_ID);

    await expect(
      store(payload({ version: 2, request: request({ accountName: 'Older' }) })),
    ).rejects.toMatchObject({
      name: 'StaleRequestVersion',
      message: expect.stringContaining('version 3'),
    });
    expect(await getMetadata(fx.table, ACCOUNT_ID)).toEqual(before);
  });

  test('a new write brings a removed account back to ACTIVE', async () => {
    await store(payload({ version: 1 }));
    await fx.table.doc.send(
      new UpdateCommand({
        TableName: fx.table.tableName,
        Key: { accountId: ACCOUNT_ID },
        UpdateExpression: 'SET #s = :r, removedAt = :at',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':r': 'REMOVED', ':at': '2026-01-01T00:15:00.000Z' },
      }),
    );

    await store(payload({ version: 2, operation: 'IMPORT' }));

    const item = await getMetadata(fx.table, ACCOUNT_ID);
    expect(item?.status).toBe('ACTIVE');
    expect(item).not.toHaveProperty('removedAt');
  });

  test('an approved version records who approved it, when and why; a later version without one clears it', async () => {
    const approved = payload();
    const approval = {
      decision: 'APPROVED' as const,
      requestId: approved.state.requestId,
      version: 1,
      by: 'arn:aws:sts::111111111111:assumed-role/Approver/bob@example.com',
      at: '2026-01-01T00:05:00.000Z',
      comment: 'CHG-1',
    };
    approved.state.approval = approval;
    await store(approved);
    expect((await getMetadata(fx.table, ACCOUNT_ID))!.lastApproval).toEqual(approval);

    await store(payload({ version: 2, operation: 'CUSTOMIZE' }));
    expect((await getMetadata(fx.table, ACCOUNT_ID))!.lastApproval).toBeUndefined();
  });

  test('malformed input is InvalidStepInput naming the field', async () => {
    const p = payload();
    (p.state.account as { accountId: string }).accountId = '1234';

    await expect(handler(p)).rejects.toMatchObject({
      name: 'InvalidStepInput',
      message: expect.stringContaining('state.account.accountId'),
    });
  });
});
