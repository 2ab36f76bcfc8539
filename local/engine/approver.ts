import { SFNClient } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createClient } from '../../lambda/shared/clients';
import { ENV } from '../../lambda/shared/env';
import {
  decideApproval,
  getApproval,
  listPendingApprovals,
  type ApprovalDecision,
  type ApprovalItem,
} from '../../lambda/shared/approval';
import { APPROVAL_STEP } from '../../lib/workflow/approval';
import { runAs } from '../emulator/caller';
import { principalOfRole } from '../emulator/common';
import type { LocalFactory } from './index';

/**
 * An approver on the local engine: it acts as a session of the factory stack's approver
 * role (granted with `grantApprove`, so the emulator enforces exactly what AWS would), finds
 * its identity with sts:GetCallerIdentity as the CLI does, and decides through the same
 * code as `account-factory approve|reject` (lambda/shared/approval.ts).
 *
 * `auto()` approves every approval as it is asked for (`npm start -- --approve auto`).
 */

/** The session name of the local approver unless told otherwise. */
export const LOCAL_APPROVER = 'approver@example.com';

export class LocalApprover {
  readonly tableName: string;
  readonly roleArn: string;
  private readonly doc: DynamoDBDocumentClient;
  private timer?: NodeJS.Timeout;
  private autoOn = false;
  private deciding = new Set<string>();
  /** What the auto approver decided, in order. */
  readonly decided: ApprovalDecision[] = [];
  /** What the auto approver failed to decide, and why. */
  readonly errors: { requestId: string; error: Error }[] = [];

  constructor(private readonly factory: LocalFactory) {
    const fn = factory.lambda.functions.find((f) => f.handler === 'approval-request');
    if (!fn) throw new Error('The local factory has no approvals (synthesize it with factory.approvals)');
    this.tableName = fn.environment[ENV.APPROVALS_TABLE];
    const role = factory.template.roles.find((r) => r.logicalId.startsWith('ApproverRole'));
    if (!role)
      throw new Error('The synthesized template has no approver role (AccountFactoryStack with approvals)');
    this.roleArn = `arn:aws:iam::${factory.template.target.account}:role${role.path}${role.name}`;
    this.doc = DynamoDBDocumentClient.from(factory.ddb, { marshallOptions: { removeUndefinedValues: true } });
  }

  /** Runs `fn` as a session of the approver role named `session`. */
  as<T>(session: string, fn: () => Promise<T>): Promise<T> {
    return runAs(principalOfRole(this.roleArn, session), fn);
  }

  /** The approver's identity, as sts:GetCallerIdentity gives it. */
  identity(session = LOCAL_APPROVER): Promise<string> {
    return this.as(session, async () => {
      const out = await createClient(STSClient).send(new GetCallerIdentityCommand({}));
      return out.Arn ?? '';
    });
  }

  pending(session = LOCAL_APPROVER): Promise<ApprovalItem[]> {
    return this.as(session, () => listPendingApprovals(this.doc, this.tableName));
  }

  get(requestId: string, session = LOCAL_APPROVER): Promise<ApprovalItem | undefined> {
    return this.as(session, () => getApproval(this.doc, this.tableName, requestId));
  }

  /** Approves or rejects the request's pending approval as `session` of the approver role. */
  decide(
    requestId: string,
    decision: 'APPROVED' | 'REJECTED',
    options: { comment?: string; session?: string } = {},
  ): Promise<{ item: ApprovalItem; decision: ApprovalDecision }> {
    const session = options.session ?? LOCAL_APPROVER;
    return this.as(session, async () => {
      const approver = await this.identity(session);
      return decideApproval(
        { doc: this.doc, sfn: createClient(SFNClient), tableName: this.tableName },
        { requestId, decision, approver, comment: options.comment, now: this.factory.clock.now() },
      );
    });
  }

  /**
   * Every execution that runs is ended or waits for a decision (its approval stored): what
   * a manual approver sees before deciding.
   */
  async settled(): Promise<void> {
    for (;;) {
      await this.factory.landingZone.pipelinesIdle();
      await this.factory.bus.drain();
      const running = this.factory.stepFunctions.list().filter((e) => e.status === 'RUNNING');
      let waiting = 0;
      for (const e of running) {
        if (e.currentState !== APPROVAL_STEP.WAIT_FOR_APPROVAL) break;
        const id = (e.input as { requestId?: string }).requestId ?? '';
        const item = await this.get(id);
        if (item?.status === 'PENDING' && item.executionArn === e.executionArn) waiting++;
      }
      const pipelines = this.factory.landingZone.pipelineExecutions.some((p) => p.status === 'InProgress');
      if (waiting === running.length && !pipelines) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Approves each approval as soon as it is asked for, until `stop()`. */
  auto(comment = 'approved by the local auto approver'): void {
    if (this.timer || this.autoOn) return;
    const look = () => {
      for (const e of this.factory.stepFunctions.list()) {
        if (e.status !== 'RUNNING' || e.currentState !== APPROVAL_STEP.WAIT_FOR_APPROVAL) continue;
        if (this.deciding.has(e.executionArn)) continue;
        this.deciding.add(e.executionArn);
        void this.approveWhenStored(e.executionArn, (e.input as { requestId: string }).requestId, comment);
      }
    };
    if (this.factory.clock.virtual) {
      // On a virtual clock the approver looks every emulated second, as a background sleeper:
      // it acts before time can reach an approval's timeout, and does not move time itself.
      this.autoOn = true;
      void (async () => {
        while (this.autoOn) {
          look();
          await this.factory.clock.sleep(1000, { background: true });
        }
      })();
      return;
    }
    this.timer = setInterval(look, 20);
    this.timer.unref();
  }

  stop(): void {
    this.autoOn = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A short wait before looking again: an emulated second on a virtual clock, 10 ms on a scaled one. */
  private pause(): Promise<void> {
    if (this.factory.clock.virtual) return this.factory.clock.sleep(1000, { background: true });
    return new Promise((r) => setTimeout(r, 10));
  }

  private async approveWhenStored(executionArn: string, requestId: string, comment: string): Promise<void> {
    try {
      // The approval-request step stores the item after the task is entered.
      for (;;) {
        const item = await this.get(requestId);
        if (item?.executionArn === executionArn && item.status === 'PENDING') break;
        const e = this.factory.stepFunctions.describe(executionArn);
        if (e.status !== 'RUNNING' || e.currentState !== APPROVAL_STEP.WAIT_FOR_APPROVAL) return;
        await this.pause();
      }
      const { decision } = await this.decide(requestId, 'APPROVED', { comment });
      this.decided.push(decision);
    } catch (err) {
      this.errors.push({ requestId, error: err as Error });
    } finally {
      this.deciding.delete(executionArn);
    }
  }
}
