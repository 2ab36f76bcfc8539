import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import {
  ApprovalClients,
  ApprovalConfig,
  ApprovalNotification,
  ApprovalRequestInputSchema,
  ApprovalClosedInputSchema,
  closeApproval,
  requestApproval,
} from '../../lambda/approval-request';
import { decideApproval, getApproval, sameIdentity } from '../../lambda/shared/approval';
import { setClock } from '../../lambda/shared/clock';
import { putMetadata } from '../../lambda/shared/metadata';
import {
  ACCOUNT_ID,
  EXECUTION_ARN,
  MetadataFixture,
  request,
  startMetadataFixture,
} from './metadata-fixture';

/**
 * The approval-request step and the decision (lambda/shared/approval.ts), against a real
 * (dynalite) approvals table with conditional writes, Step Functions and SNS mocked.
 */

const sfnMock = mockClient(SFNClient);
const snsMock = mockClient(SNSClient);
const NOW = new Date('2026-01-01T00:00:00.000Z');
const config: ApprovalConfig = {
  tableName: 'approvals',
  topicArn: 'arn:aws:sns:us-east-1:222222222222:approvals',
  failureTopicArn: 'arn:aws:sns:us-east-1:222222222222:failure',
  timeoutSeconds: 3600,
  allowSelfApproval: false,
};
const BOB = 'arn:aws:sts::222222222222:assumed-role/Approvers/bob@example.com';
const ALICE_SESSION = 'arn:aws:sts::222222222222:assumed-role/Approvers/alice@example.com';

let fx: MetadataFixture;
let clients: ApprovalClients;
let now = NOW;

beforeEach(async () => {
  sfnMock.reset();
  snsMock.reset();
  sfnMock.on(SendTaskSuccessCommand).resolves({});
  sfnMock.on(SendTaskFailureCommand).resolves({});
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
  fx = await startMetadataFixture();
  await fx.table.doc.send(
    new CreateTableCommand({
      TableName: 'approvals',
      AttributeDefinitions: [{ AttributeName: 'requestId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'requestId', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  clients = {
    sns: new SNSClient({ region: 'us-east-1' }),
    sfn: new SFNClient({ region: 'us-east-1' }),
    doc: fx.table.doc,
    metadataTableName: fx.table.tableName,
  };
  now = NOW;
  setClock({ now: () => now });
});
afterEach(async () => {
  setClock(undefined);
  await fx.close();
});

function input(options: { version?: number; token?: string; operation?: string; requestedBy?: string } = {}) {
  const version = options.version ?? 1;
  return ApprovalRequestInputSchema.parse({
    taskToken: options.token ?? `token-${version}`,
    state: {
      requestId: 'sandbox@example.com',
      version,
      validation: {
        operation: options.operation ?? 'CREATE',
        request: request({
          organizationalUnit: 'Workloads',
          ...(options.requestedBy ? { requestedBy: options.requestedBy } : {}),
        }),
        accountId: options.operation === 'UPDATE' ? ACCOUNT_ID : null,
        controlTowerChanges: options.operation === 'UPDATE' ? ['ManagedOrganizationalUnit'] : [],
      },
    },
    execution: { id: `${EXECUTION_ARN}-v${version}` },
  });
}

const decide = (decision: 'APPROVED' | 'REJECTED', approver = BOB, comment?: string) =>
  decideApproval(
    { doc: fx.table.doc, sfn: clients.sfn, tableName: 'approvals' },
    { requestId: 'sandbox@example.com', decision, approver, comment, now },
  );
const messages = () =>
  snsMock.commandCalls(PublishCommand).map((c) => ({
    topic: c.args[0].input.TopicArn,
    subject: c.args[0].input.Subject,
    message: JSON.parse(c.args[0].input.Message!) as ApprovalNotification,
  }));

describe('sameIdentity', () => {
  test.each([
    ['alice@example.com', ALICE_SESSION, true],
    ['ALICE@example.com', ALICE_SESSION, true],
    ['arn:aws:iam::222222222222:role/Approvers', ALICE_SESSION, true],
    ['arn:aws:iam::222222222222:role/team/Approvers', BOB, true],
    ['arn:aws:iam::333333333333:role/Approvers', BOB, false],
    ['alice@example.com', BOB, false],
    ['alice', 'arn:aws:iam::222222222222:user/alice', true],
    ['arn:aws:iam::222222222222:user/alice', 'arn:aws:iam::222222222222:user/alice', true],
    ['bob', 'arn:aws:iam::222222222222:user/alice', false],
  ])('requestedBy %s, approver %s: %s', (asked, approver, expected) => {
    expect(sameIdentity(asked, approver)).toBe(expected);
  });
});

describe('approval-request', () => {
  test('stores the pending approval and publishes the plan, compared with the request last applied', async () => {
    await putMetadata(fx.table, {
      accountId: ACCOUNT_ID,
      email: 'sandbox@example.com',
      accountName: 'Sandbox',
      requestId: 'sandbox@example.com',
      requestVersion: 1,
      request: request(),
      organizationalUnit: { id: 'ou-ab12-cdef3456', name: 'Sandbox' },
      provisionedProductId: null,
      operation: 'CREATE',
      executionArn: EXECUTION_ARN,
    });
    const item = await requestApproval(clients, input({ version: 2, operation: 'UPDATE' }), config);
    expect(item).toMatchObject({
      status: 'PENDING',
      taskToken: 'token-2',
      expiresAt: '2026-01-01T01:00:00.000Z',
      allowSelfApproval: false,
    });
    expect(item.planText).toContain('organizationalUnit: "Sandbox (ou-ab12-cdef3456)" -> "Workloads"');
    expect(await getApproval(fx.table.doc, 'approvals', 'sandbox@example.com')).toEqual(item);
    const [m] = messages();
    expect(m.topic).toBe(config.topicArn);
    expect(m.subject).toBe('Account factory: approval needed for Sandbox');
    expect(m.message).toMatchObject({ event: 'REQUESTED', version: 2, plan: item.planText });
    expect(m.message.commands!.approve).toBe('account-factory approve sandbox@example.com --comment "<why>"');
  });

  test('a newer version ends the older version’s wait (ApprovalSuperseded); an older one never replaces a newer', async () => {
    await requestApproval(clients, input({ version: 1 }), config);
    await requestApproval(clients, input({ version: 2 }), config);
    const [failed] = sfnMock.commandCalls(SendTaskFailureCommand).map((c) => c.args[0].input);
    expect(failed).toMatchObject({ taskToken: 'token-1', error: 'ApprovalSuperseded' });
    await expect(
      requestApproval(clients, input({ version: 1, token: 'late' }), config),
    ).rejects.toMatchObject({
      name: 'StaleRequestVersion',
    });
    expect((await getApproval(fx.table.doc, 'approvals', 'sandbox@example.com'))!.taskToken).toBe('token-2');
  });

  test('closed after a rejection: recorded, and notified to the approvers and the failure topic with who and why', async () => {
    await requestApproval(clients, input(), config);
    await decide('REJECTED', BOB, 'no budget');
    const cause = sfnMock.commandCalls(SendTaskFailureCommand)[0].args[0].input.cause!;
    const closed = ApprovalClosedInputSchema.parse({
      closed: true,
      state: { ...input().state, approvalOutcome: { Error: 'ApprovalRejected', Cause: cause } },
      execution: input().execution,
    });
    snsMock.resetHistory();
    const message = await closeApproval(clients, closed, config);
    expect(message).toMatchObject({
      event: 'REJECTED',
      error: { name: 'ApprovalRejected', cause: `rejected by ${BOB} at 2026-01-01T00:00:00.000Z: no budget` },
      decision: { decision: 'REJECTED', by: BOB, comment: 'no budget' },
    });
    expect(messages().map((m) => m.topic)).toEqual([config.topicArn, config.failureTopicArn]);
    const item = await getApproval(fx.table.doc, 'approvals', 'sandbox@example.com');
    expect(item).toMatchObject({ status: 'REJECTED', decidedBy: BOB, comment: 'no budget' });
    expect(item!.taskToken).toBeUndefined();
  });

  test('closed after the timeout: EXPIRED, notified as ApprovalExpired', async () => {
    await requestApproval(clients, input(), config);
    const message = await closeApproval(
      clients,
      ApprovalClosedInputSchema.parse({
        closed: true,
        state: { ...input().state, approvalOutcome: { Error: 'States.Timeout', Cause: 'Task timed out' } },
        execution: input().execution,
      }),
      config,
    );
    expect(message.error).toEqual({
      name: 'ApprovalExpired',
      cause: 'no approver decided within 3600 seconds',
    });
    expect((await getApproval(fx.table.doc, 'approvals', 'sandbox@example.com'))!.status).toBe('EXPIRED');
  });
});

describe('decideApproval', () => {
  test('approve: claims the decision, then SendTaskSuccess with who, when and why', async () => {
    await requestApproval(clients, input({ requestedBy: 'alice@example.com' }), config);
    const { decision } = await decide('APPROVED', BOB, '  CHG-1  ');
    expect(decision).toEqual({
      decision: 'APPROVED',
      requestId: 'sandbox@example.com',
      version: 1,
      by: BOB,
      at: NOW.toISOString(),
      comment: 'CHG-1',
    });
    const sent = sfnMock.commandCalls(SendTaskSuccessCommand)[0].args[0].input;
    expect(sent.taskToken).toBe('token-1');
    expect(JSON.parse(sent.output!)).toEqual(decision);
    expect(await getApproval(fx.table.doc, 'approvals', 'sandbox@example.com')).toMatchObject({
      status: 'APPROVED',
      decidedBy: BOB,
      comment: 'CHG-1',
    });
    await expect(decide('APPROVED')).rejects.toMatchObject({ name: 'NoPendingApproval' });
  });

  test('the requester cannot decide (SelfApprovalRefused) and nothing changes, unless self-approval is allowed', async () => {
    await requestApproval(clients, input({ requestedBy: 'alice@example.com' }), config);
    await expect(decide('APPROVED', ALICE_SESSION)).rejects.toMatchObject({ name: 'SelfApprovalRefused' });
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect((await getApproval(fx.table.doc, 'approvals', 'sandbox@example.com'))!.status).toBe('PENDING');

    await requestApproval(clients, input({ version: 2, requestedBy: 'alice@example.com' }), {
      ...config,
      allowSelfApproval: true,
    });
    await decide('APPROVED', ALICE_SESSION);
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
  });

  test('past its expiry, or with no approval, nothing is decided', async () => {
    await expect(decide('APPROVED')).rejects.toMatchObject({ name: 'NoPendingApproval' });
    await requestApproval(clients, input(), config);
    now = new Date(NOW.getTime() + 3600 * 1000);
    await expect(decide('APPROVED')).rejects.toMatchObject({ name: 'ApprovalExpired' });
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  test('a task already gone marks the approval EXPIRED; another failure puts it back to PENDING', async () => {
    await requestApproval(clients, input(), config);
    sfnMock.reset();
    sfnMock
      .on(SendTaskSuccessCommand)
      .rejectsOnce(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }))
      .rejectsOnce(Object.assign(new Error('gone'), { name: 'TaskTimedOut' }));
    await expect(decide('APPROVED')).rejects.toMatchObject({ name: 'AccessDeniedException' });
    const back = (await getApproval(fx.table.doc, 'approvals', 'sandbox@example.com'))!;
    expect(back.status).toBe('PENDING');
    expect(back.decidedBy).toBeUndefined();

    await expect(decide('APPROVED')).rejects.toMatchObject({ name: 'ApprovalExpired' });
    expect((await getApproval(fx.table.doc, 'approvals', 'sandbox@example.com'))!.status).toBe('EXPIRED');
  });

  test('reject: SendTaskFailure ApprovalRejected, the decision as its cause', async () => {
    await requestApproval(clients, input(), config);
    await decide('REJECTED', BOB, 'not now');
    const sent = sfnMock.commandCalls(SendTaskFailureCommand)[0].args[0].input;
    expect(sent.error).toBe('ApprovalRejected');
    expect(JSON.parse(sent.cause!)).toMatchObject({ decision: 'REJECTED', by: BOB, comment: 'not now' });
  });
});
