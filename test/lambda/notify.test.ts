import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import {
  handler,
  leadingField,
  notify,
  NotifyConfig,
  NotifyInputSchema,
  subjectOf,
} from '../../lambda/notify';
import { setClock } from '../../lambda/shared/clock';
import type { NotificationMessage, NotifyPayload, StepPayload } from '../../lambda/shared/contracts';
import { getMetadata, putMetadata } from '../../lambda/shared/metadata';
import { ACCOUNT_ID, MetadataFixture, payload, request, startMetadataFixture } from './metadata-fixture';

const snsMock = mockClient(SNSClient);
const sns = new SNSClient({ region: 'us-east-1' });
const config: NotifyConfig = {
  successTopicArn: 'arn:aws:sns:us-east-1:222222222222:success',
  failureTopicArn: 'arn:aws:sns:us-east-1:222222222222:failure',
};

let fx: MetadataFixture;
beforeEach(async () => {
  snsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
  fx = await startMetadataFixture();
  setClock({ now: () => new Date('2026-01-01T00:42:00.000Z') });
});
afterEach(async () => {
  setClock(undefined);
  await fx.close();
});

const send = (p: NotifyPayload) => notify({ sns, metadata: fx.table }, NotifyInputSchema.parse(p), config);
const published = () => snsMock.commandCalls(PublishCommand).map((c) => c.args[0].input);
const publishedMessage = () => JSON.parse(published()[0].Message!) as NotificationMessage;

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

const lambdaCause = (errorType: string, errorMessage: string) =>
  JSON.stringify({ errorType, errorMessage, trace: [`${errorType}: ${errorMessage}`, '    at handler'] });

describe('notify', () => {
  test('an approved request: the notification says who approved it, when and why', async () => {
    const p = payload();
    const approval = {
      decision: 'APPROVED' as const,
      requestId: p.state.requestId,
      version: p.state.version,
      by: 'arn:aws:sts::111111111111:assumed-role/Approver/bob@example.com',
      at: '2026-01-01T00:05:00.000Z',
      comment: 'CHG-1',
    };
    p.state.approval = approval;
    await send({ ...p, outcome: 'SUCCEEDED' });
    expect(publishedMessage().approval).toEqual(approval);
  });

  test('a success goes to the success topic and is recorded in the metadata', async () => {
    const p = payload();
    p.state.provisioningStatus = {
      status: 'SUCCEEDED',
      recordId: 'rec-1',
      accountId: ACCOUNT_ID,
      errors: null,
      checkedAt: '2026-01-01T00:30:00.000Z',
      elapsedSeconds: 1500,
    };
    await storeItem(p);

    const message = await send({ ...p, outcome: 'SUCCEEDED' });

    expect(published()).toHaveLength(1);
    expect(published()[0]).toMatchObject({
      TopicArn: config.successTopicArn,
      Subject: 'Account factory: Sandbox SUCCEEDED',
      MessageAttributes: {
        outcome: { DataType: 'String', StringValue: 'SUCCEEDED' },
        operation: { DataType: 'String', StringValue: 'CREATE' },
      },
    });
    expect(publishedMessage()).toEqual(message);
    expect(message).toEqual({
      outcome: 'SUCCEEDED',
      requestId: 'sandbox@example.com',
      version: 1,
      operation: 'CREATE',
      accountId: ACCOUNT_ID,
      accountName: 'Sandbox',
      executionArn: p.execution.id,
      durations: { totalSeconds: 42 * 60, controlTowerSeconds: 1500 },
      at: '2026-01-01T00:42:00.000Z',
    });
    expect(await getMetadata(fx.table, ACCOUNT_ID)).toMatchObject({
      lastOutcome: 'SUCCEEDED',
      lastExecutionArn: p.execution.id,
      updatedAt: '2026-01-01T00:42:00.000Z',
    });
  });

  test('an invalid request goes to the failure topic with the field, before any account exists', async () => {
    const p: NotifyPayload = {
      outcome: 'FAILED',
      state: {
        requestId: 'sandbox@example.com',
        version: 1,
        eventName: 'INSERT',
        request: { accountEmail: 'sandbox@example.com', accountName: 'Sandbox' },
        previous: null,
        error: {
          Error: 'InvalidAccountRequest',
          Cause: lambdaCause(
            'InvalidAccountRequest',
            'sso.email: sso.email is required and must be a string; sso.firstName: x',
          ),
        },
      },
      execution: {
        id: 'arn:aws:states:us-east-1:222222222222:execution:p:e',
        startTime: '2026-01-01T00:41:00.000Z',
      },
    };

    const message = await send(p);

    expect(published()[0].TopicArn).toBe(config.failureTopicArn);
    expect(published()[0].Subject).toBe('Account factory: Sandbox FAILED');
    expect(published()[0].MessageAttributes).toEqual({
      outcome: { DataType: 'String', StringValue: 'FAILED' },
    });
    expect(message.error).toEqual({
      name: 'InvalidAccountRequest',
      cause: 'sso.email: sso.email is required and must be a string; sso.firstName: x',
      field: 'sso.email',
    });
    expect(message).toMatchObject({
      operation: null,
      accountId: null,
      durations: { totalSeconds: 60, controlTowerSeconds: null },
    });
  });

  test('a failure records the error in the metadata item', async () => {
    const p = payload({ version: 2 });
    await storeItem(p);
    p.state.error = { Error: 'States.Timeout', Cause: 'Task timed out after 60 seconds' };

    const message = await send({ ...p, outcome: 'FAILED' });

    expect(message.error).toEqual({ name: 'States.Timeout', cause: 'Task timed out after 60 seconds' });
    expect(await getMetadata(fx.table, ACCOUNT_ID)).toMatchObject({
      lastOutcome: 'FAILED',
      lastError: { name: 'States.Timeout', cause: 'Task timed out after 60 seconds' },
    });
  });

  test('a superseded execution says so, and does not overwrite the newer outcome', async () => {
    const newer = payload({ version: 3 });
    await storeItem(newer);
    const stale = payload({ version: 2 });
    stale.state.error = {
      Error: 'StaleRequestVersion',
      Cause: lambdaCause('StaleRequestVersion', 'Request sandbox@example.com version 2 was superseded'),
    };

    await send({ ...stale, outcome: 'FAILED' });

    expect(published()[0].Subject).toBe('Account factory: Sandbox FAILED (superseded)');
    expect(await getMetadata(fx.table, ACCOUNT_ID)).toMatchObject({
      requestVersion: 3,
      lastOutcome: 'IN_PROGRESS',
      lastExecutionArn: newer.execution.id,
    });
  });

  test('an account without a metadata item is still notified', async () => {
    await send({ ...payload(), outcome: 'REMOVED' });

    expect(published()[0].TopicArn).toBe(config.successTopicArn);
    expect(await getMetadata(fx.table, ACCOUNT_ID)).toBeUndefined();
  });

  test('a publish failure fails the step', async () => {
    snsMock.on(PublishCommand).rejects(Object.assign(new Error('topic gone'), { name: 'NotFoundException' }));

    await expect(send({ ...payload(), outcome: 'SUCCEEDED' })).rejects.toMatchObject({
      name: 'NotFoundException',
    });
  });

  test('parts of the state it cannot read do not stop the notification', async () => {
    const p = payload();
    (p.state as unknown as Record<string, unknown>).validation = { operation: 'BOGUS' };

    const message = await send({ ...p, outcome: 'FAILED' });

    expect(message).toMatchObject({
      operation: null,
      accountId: ACCOUNT_ID,
      error: { name: 'UnknownError' },
    });
    expect(published()).toHaveLength(1);
  });

  test('handler rejects a payload without an outcome', async () => {
    await expect(handler({ ...payload() })).rejects.toMatchObject({ name: 'InvalidStepInput' });
    expect(published()).toHaveLength(0);
  });
});

describe('subject and field', () => {
  test('the subject is printable ASCII and shorter than 100 characters', () => {
    const subject = subjectOf({
      outcome: 'FAILED',
      requestId: 'x@example.com',
      version: 1,
      operation: null,
      accountId: null,
      accountName: `Caf\u00e9 ${'a'.repeat(120)}`,
      executionArn: null,
      error: { name: 'StaleRequestVersion', cause: '' },
      durations: { totalSeconds: null, controlTowerSeconds: null },
      at: '2026-01-01T00:00:00.000Z',
    });

    expect(subject.length).toBeLessThan(100);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
    expect(subject).toMatch(/^Account factory: Caf\? a+\.\.\. FAILED \(superseded\)$/);
  });

  test('field names with colons (tag keys) are kept whole', () => {
    expect(leadingField('tags.aws:createdBy: tag keys must not start with "aws:"')).toBe(
      'tags.aws:createdBy',
    );
    expect(leadingField('no field here')).toBeUndefined();
  });

  test('the name comes from the request when nothing else knows it', async () => {
    const p = payload({ request: request({ accountName: 'From Request' }) });
    delete p.state.account;
    delete p.state.validation;

    const message = await notify(
      { sns, metadata: fx.table },
      NotifyInputSchema.parse({ ...p, outcome: 'FAILED' }),
      config,
    );

    expect(message.accountName).toBe('From Request');
  });
});
