import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { Command } from 'commander';
import {
  type ApprovalDecision,
  type ApprovalItem,
  decideApproval,
  getApproval,
  listPendingApprovals,
  MAX_COMMENT_LENGTH,
} from '../lambda/shared/approval';
import { AccountFactoryError } from '../lambda/shared/errors';
import { EXIT_OK, EXIT_PROBLEMS, UsageError } from './errors';
import type { GlobalOptions } from './index';
import { addTargetOptions, type FactoryTarget, openTarget, TargetOptions } from './target';

/**
 * `account-factory approve <request>` and `reject <request>`: decide a request version that
 * waits for an approval (the factory's `approvals`), as the caller's identity
 * (sts:GetCallerIdentity; with `--local`, a session of the stack's approver role). The
 * decision is claimed in the approvals table and sent to the waiting task; a requester
 * cannot decide their own request unless the factory allows it (SelfApprovalRefused).
 * `account-factory approvals` lists what waits.
 */

interface DecideOptions extends TargetOptions {
  comment?: string;
  as?: string;
}

/** The request id of `ref`: a request id (the account email), or the account name of a pending approval. */
async function resolveRequest(target: FactoryTarget, table: string, ref: string): Promise<string> {
  const id = ref.trim().toLowerCase();
  const direct = await getApproval(target.doc, table, id);
  if (direct) return id;
  const pending = await listPendingApprovals(target.doc, table);
  const byName = pending.filter((p) => p.accountName.toLowerCase() === id);
  if (byName.length === 1) return byName[0].requestId;
  const waiting = pending.map((p) => p.requestId);
  throw new UsageError(
    `no approval for request '${ref}'` +
      (waiting.length ? ` (waiting: ${waiting.join(', ')})` : ': no request waits for an approval'),
  );
}

/** What a decision looks like on the terminal. */
export function formatDecision(item: ApprovalItem, decision: ApprovalDecision, where: string): string {
  const verb = decision.decision === 'APPROVED' ? 'Approved' : 'Rejected';
  const lines = [
    `${verb} request ${item.requestId} version ${item.version} (${item.operation} ${item.accountName}) on ${where}`,
    `  by        ${decision.by}`,
    `  at        ${decision.at}`,
    ...(decision.comment ? [`  comment   ${decision.comment}`] : []),
    ...(item.requestedBy ? [`  asked by  ${item.requestedBy}`] : []),
    '  plan',
    ...item.planText.split('\n').map((l) => `  ${l}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** Pending approvals, one block each, with the commands that decide them. */
export function formatPending(items: readonly ApprovalItem[]): string {
  if (!items.length) return 'No request waits for an approval\n';
  const lines = [`${items.length} request${items.length === 1 ? '' : 's'} waiting for an approval`];
  for (const i of items) {
    lines.push(
      '',
      `${i.requestId} version ${i.version}: ${i.operation} ${i.accountName}` +
        `${i.requestedBy ? `, asked by ${i.requestedBy}` : ''}, expires ${i.expiresAt}`,
      ...i.planText.split('\n'),
      `  approve: account-factory approve ${i.requestId} --comment "<why>"`,
      `  reject:  account-factory reject ${i.requestId} --comment "<why>"`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function approvalsOf(target: FactoryTarget) {
  if (!target.approvals) {
    throw new UsageError(
      'this factory has no approvals (no stack output ApprovalsTableName): deploy it with approvals, ' +
        'or pass --approvals-table',
    );
  }
  return target.approvals;
}

function registerDecision(program: Command, name: 'approve' | 'reject'): void {
  const decision = name === 'approve' ? 'APPROVED' : 'REJECTED';
  const command = program
    .command(`${name} <request>`)
    .description(
      name === 'approve'
        ? 'approve a request version that waits for an approval: the workflow goes on to Control Tower'
        : 'reject a request version that waits for an approval: it ends, notified, and nothing changes',
    )
    .option(
      '--comment <text>',
      `why (recorded in the metadata and the notifications; at most ${MAX_COMMENT_LENGTH} characters)`,
    )
    .option(
      '--as <session>',
      'with --local: the session name of the approver role to act as',
      'approver@example.com',
    );
  addTargetOptions(command).action(async (ref: string, options: DecideOptions, cmd: Command) => {
    const globals = cmd.optsWithGlobals<GlobalOptions>();
    if (options.comment !== undefined && options.comment.length > MAX_COMMENT_LENGTH) {
      throw new UsageError(
        `--comment is ${options.comment.length} characters: at most ${MAX_COMMENT_LENGTH}`,
      );
    }
    const target = await openTarget(globals, options, { approvals: { session: options.as } });
    try {
      const approvals = approvalsOf(target);
      const now = target.now?.() ?? new Date();
      const { item, decision: made } = await approvals.asApprover(async () => {
        const requestId = await resolveRequest(target, approvals.table, ref);
        const approver = await approvals.identity();
        try {
          return await decideApproval(
            { doc: target.doc, sfn: target.sfn, tableName: approvals.table },
            { requestId, decision, approver, comment: options.comment, now },
          );
        } catch (err) {
          // The refusals change nothing: one line that says why, exit status 1.
          if (err instanceof AccountFactoryError) {
            process.stderr.write(`account-factory: ${err.name}: ${err.message}\n`);
            return { item: undefined, decision: undefined };
          }
          throw err;
        }
      });
      if (!item || !made) {
        process.exitCode = EXIT_PROBLEMS;
        return;
      }
      process.stdout.write(formatDecision(item, made, target.description));
      if (!approvals.settle) {
        process.stdout.write(
          decision === 'APPROVED'
            ? `The workflow goes on: execution ${item.executionArn}\n`
            : `The request ends, notified, with nothing changed: execution ${item.executionArn}\n`,
        );
        process.exitCode = EXIT_OK;
        return;
      }
      // Locally: follow the execution to its end.
      await approvals.settle();
      const out = await target.sfn.send(new DescribeExecutionCommand({ executionArn: item.executionArn }));
      const state = out.output ? (JSON.parse(out.output) as { account?: { accountId?: string } }) : {};
      process.stdout.write(
        `Execution ${out.status}${out.error ? ` (${out.error})` : ''}` +
          `${state.account?.accountId ? `: account ${state.account.accountId} ${item.accountName}` : ''}` +
          `${decision === 'REJECTED' ? ': nothing changed' : ''}\n`,
      );
      process.exitCode = out.status === 'SUCCEEDED' ? EXIT_OK : EXIT_PROBLEMS;
    } finally {
      await target.close();
    }
  });
}

export function registerApprove(program: Command): void {
  registerDecision(program, 'approve');
  registerDecision(program, 'reject');
  const list = program
    .command('approvals')
    .description('list the request versions that wait for an approval, with their plans')
    .option('--json', 'print them as JSON');
  addTargetOptions(list).action(async (options: TargetOptions & { json?: boolean }, cmd: Command) => {
    const globals = cmd.optsWithGlobals<GlobalOptions>();
    const target = await openTarget(globals, options, { approvals: {} });
    try {
      const approvals = approvalsOf(target);
      const items = await approvals.asApprover(() => listPendingApprovals(target.doc, approvals.table));
      if (options.json) {
        process.stdout.write(
          `${JSON.stringify(
            items.map(({ taskToken: _token, ...rest }) => rest),
            null,
            2,
          )}\n`,
        );
      } else process.stdout.write(formatPending(items));
    } finally {
      await target.close();
    }
  });
}
