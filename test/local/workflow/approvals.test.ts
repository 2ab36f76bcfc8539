import { Duration } from 'aws-cdk-lib';
import { cachedTemplate } from '../../fixtures/templates';
import type { CfnTemplate } from '../../../local/engine/template';
import type { LocalFactory } from '../../../local/engine';
import { LocalApprover } from '../../../local/engine/approver';
import { ENV } from '../../../lambda/shared/env';
import { STEP } from '../../../lib/workflow/step-names';
import { APPROVAL_STEP } from '../../../lib/workflow/approval';
import type { ApprovalNotification } from '../../../lambda/approval-request';
import { metadataItem, notifications, request, semaphoreState, startFactory } from './harness';

/**
 * Approvals on the local engine: the synthesized workflow with the approval gate, the
 * approval-request handler, and an approver acting as a session of the stack's approver
 * role (IAM enforced), deciding through the code of `account-factory approve|reject`.
 */

let template: CfnTemplate;
let factory: LocalFactory;
let approver: LocalApprover;

beforeAll(() => {
  template = cachedTemplate({
    exampleCustomizations: false,
    stackProps: {
      factory: {
        maxConcurrentAccountOperations: 1,
        approvals: { operations: ['CREATE', 'UPDATE', 'REMOVE'], timeout: Duration.hours(12) },
      },
    },
  });
});

// A person approves here, from outside the run: on the scaled clock, as with a manual
// approval (a virtual clock would reach the approval's timeout as soon as the run waits).
async function start(on: CfnTemplate = template): Promise<void> {
  factory = await startFactory(on, { virtualTime: false, scale: 200 });
  approver = new LocalApprover(factory);
}

afterEach(async () => {
  approver?.stop();
  await factory?.close();
});

function approvalMessages(): ApprovalNotification[] {
  const topic = factory.lambda.functionFor('approval-request').environment[ENV.APPROVAL_TOPIC_ARN];
  return factory.landingZone.messages(topic).map((m) => JSON.parse(m.message) as ApprovalNotification);
}

function failureMessages(): Record<string, any>[] {
  const topic = factory.lambda.functionFor('notify').environment[ENV.FAILURE_TOPIC_ARN];
  return factory.landingZone.messages(topic).map((m) => JSON.parse(m.message));
}

const ALICE = 'alice@example.com';

test('a CREATE waits for an approval holding no Control Tower slot; approved, it goes on, and the metadata and the notification say who, when and why', async () => {
  await start();
  await factory.submit(request('approved-one', { requestedBy: ALICE }));
  await approver.settled();

  const [waiting] = factory.executions();
  expect(waiting.status).toBe('RUNNING');
  expect(waiting.currentState).toBe(APPROVAL_STEP.WAIT_FOR_APPROVAL);
  expect(waiting.history.map((h) => h.state)).not.toContain(STEP.ACQUIRE_SLOT);
  expect(await semaphoreState(factory)).toEqual({ count: 0, holders: [], waiters: 0 });
  expect(factory.landingZone.account('approved-one@example.com')).toBeUndefined();

  const [pending] = await approver.pending();
  expect(pending).toMatchObject({
    requestId: 'approved-one@example.com',
    version: 1,
    operation: 'CREATE',
    requestedBy: ALICE,
    status: 'PENDING',
    executionArn: waiting.executionArn,
  });
  const [asked] = approvalMessages();
  expect(asked).toMatchObject({
    kind: 'APPROVAL',
    event: 'REQUESTED',
    requestId: 'approved-one@example.com',
  });
  expect(asked.plan).toBe(pending.planText);
  expect(asked.plan).toMatch(/create/);
  expect(asked.plan).toContain('organizationalUnit');
  expect(Date.parse(asked.expiresAt!) - Date.parse(pending.requestedAt)).toBe(12 * 3600 * 1000);

  const { decision } = await approver.decide('approved-one@example.com', 'APPROVED', {
    comment: 'ticket CHG-1',
    session: 'bob@example.com',
  });
  expect(decision.by).toMatch(/assumed-role\/.+\/bob@example\.com$/);
  await factory.idle();

  const [done] = factory.executions();
  expect(done.status).toBe('SUCCEEDED');
  const states = done.history.map((h) => h.state);
  expect(states.indexOf(STEP.ACQUIRE_SLOT)).toBeGreaterThan(states.indexOf(APPROVAL_STEP.WAIT_FOR_APPROVAL));
  const account = factory.landingZone.account('approved-one@example.com')!;
  expect(account.status).toBe('ACTIVE');
  const item = await metadataItem(factory, account.id);
  expect(item!.lastApproval).toEqual({ ...decision, decision: 'APPROVED', comment: 'ticket CHG-1' });
  const [success] = notifications(factory, 'success');
  expect(success.approval).toEqual(decision);
  expect((await approver.get('approved-one@example.com'))!.status).toBe('APPROVED');
});

test('a rejected request ends with a notification and changes nothing', async () => {
  await start();
  await factory.submit(request('rejected-one'));
  await approver.settled();

  await approver.decide('rejected-one@example.com', 'REJECTED', { comment: 'not this quarter' });
  await factory.idle();

  const [done] = factory.executions();
  expect(done.status).toBe('SUCCEEDED');
  expect(done.history.map((h) => h.state)).toEqual(
    expect.arrayContaining([APPROVAL_STEP.NOTIFY_NOT_APPROVED, APPROVAL_STEP.NOT_APPROVED]),
  );
  expect(done.history.map((h) => h.state)).not.toContain(STEP.ACQUIRE_SLOT);
  expect(factory.landingZone.account('rejected-one@example.com')).toBeUndefined();
  expect(factory.landingZone.accountsCreatedByEmail).toEqual({});
  expect(notifications(factory, 'success').filter((m) => (m as any).kind !== 'APPROVAL')).toEqual([]);
  const rejected = failureMessages().find((m) => m.kind === 'APPROVAL')!;
  expect(rejected).toMatchObject({
    event: 'REJECTED',
    error: { name: 'ApprovalRejected' },
    decision: { decision: 'REJECTED', comment: 'not this quarter' },
  });
  expect(rejected.error.cause).toContain('not this quarter');
  expect(approvalMessages().map((m) => m.event)).toEqual(['REQUESTED', 'REJECTED']);
  expect((await approver.get('rejected-one@example.com'))!.status).toBe('REJECTED');
  expect(await semaphoreState(factory)).toEqual({ count: 0, holders: [], waiters: 0 });
});

test('an approval nobody decides expires: notified as ApprovalExpired, nothing changed, and a late approval is refused', async () => {
  // An approval that waits one emulated minute (the shortest the construct allows), at the
  // scale of the other tests: the expiry is the task's timeout, nothing else is hurried.
  await start(
    cachedTemplate({
      exampleCustomizations: false,
      stackProps: {
        factory: {
          maxConcurrentAccountOperations: 1,
          approvals: { operations: ['CREATE', 'UPDATE', 'REMOVE'], timeout: Duration.minutes(1) },
        },
      },
    }),
  );
  await factory.submit(request('expired-one'));
  await factory.idle();

  const [done] = factory.executions();
  expect(done.status).toBe('SUCCEEDED');
  expect(done.history.map((h) => h.state)).toContain(APPROVAL_STEP.NOT_APPROVED);
  expect(factory.landingZone.account('expired-one@example.com')).toBeUndefined();
  const expired = failureMessages().find((m) => m.kind === 'APPROVAL')!;
  expect(expired).toMatchObject({ event: 'EXPIRED', error: { name: 'ApprovalExpired' } });
  expect((await approver.get('expired-one@example.com'))!.status).toBe('EXPIRED');
  await expect(approver.decide('expired-one@example.com', 'APPROVED')).rejects.toMatchObject({
    name: 'NoPendingApproval',
  });
});

test('the requester cannot approve their own request (SelfApprovalRefused), and nothing is decided; another approver can', async () => {
  await start();
  await factory.submit(request('self-one', { requestedBy: ALICE }));
  await approver.settled();

  await expect(approver.decide('self-one@example.com', 'APPROVED', { session: ALICE })).rejects.toMatchObject(
    { name: 'SelfApprovalRefused' },
  );
  await expect(approver.decide('self-one@example.com', 'REJECTED', { session: ALICE })).rejects.toMatchObject(
    {
      name: 'SelfApprovalRefused',
    },
  );
  expect((await approver.get('self-one@example.com'))!).toMatchObject({ status: 'PENDING' });
  expect(factory.executions()[0].currentState).toBe(APPROVAL_STEP.WAIT_FOR_APPROVAL);

  await approver.decide('self-one@example.com', 'APPROVED', { session: 'bob@example.com' });
  await factory.idle();
  expect(factory.executions()[0].status).toBe('SUCCEEDED');
});

test('waiting requests hold no slot: with a limit of 1, two wait at once, and the one approved takes the free slot', async () => {
  await start();
  approver.auto();
  await factory.submit(request('first'));
  await factory.idle();
  approver.stop();
  expect(factory.executions()[0].status).toBe('SUCCEEDED');

  // An UPDATE (a new OU) and a CREATE wait together; the slot stays free.
  await factory.submit(request('first', { organizationalUnit: 'Workloads' }));
  await factory.submit(request('second'));
  await approver.settled();
  const pendingIds = (await approver.pending()).map((p) => p.requestId).sort();
  expect(pendingIds).toEqual(['first@example.com', 'second@example.com']);
  expect(await semaphoreState(factory)).toEqual({ count: 0, holders: [], waiters: 0 });

  await approver.decide('second@example.com', 'APPROVED');
  await approver.settled();
  expect(factory.landingZone.account('second@example.com')!.status).toBe('ACTIVE');
  expect(factory.landingZone.account('first@example.com')!.ouName).toBe('Sandbox');
});

test('editing a waiting request starts over: the older version ends superseded, changing nothing; the new one asks for its own approval', async () => {
  await start();
  await factory.submit(request('edited'));
  await approver.settled();
  await factory.submit(request('edited', { organizationalUnit: 'Workloads' }));
  await approver.settled();

  const item = (await approver.get('edited@example.com'))!;
  expect(item.version).toBe(2);
  expect(item.planText).toContain('organizationalUnit: "Workloads"');
  await approver.decide('edited@example.com', 'APPROVED');
  await approver.settled();

  const [first, second] = factory.executions();
  expect(second.status).toBe('SUCCEEDED');
  expect(first.status).toBe('SUCCEEDED');
  expect(first.history.map((h) => h.state)).toContain(APPROVAL_STEP.NOT_APPROVED);
  expect(first.history.map((h) => h.state)).not.toContain(STEP.ACQUIRE_SLOT);
  // (Version 1's closing and version 2's request are published in either order.)
  expect(
    approvalMessages()
      .map((m) => `${m.version} ${m.event}`)
      .sort(),
  ).toEqual(['1 REQUESTED', '1 SUPERSEDED', '2 REQUESTED']);
  // A superseded version is no failure.
  expect(failureMessages()).toEqual([]);
  expect(factory.landingZone.account('edited@example.com')!.ouName).toBe('Workloads');
});
