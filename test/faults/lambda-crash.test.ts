import type { LocalFactory } from '../../local/engine';
import type { CfnTemplate } from '../../local/engine/template';
import { generateRequests } from '../../local/requests';
import {
  accountEndState,
  faultTemplate,
  latestExecutions,
  notifications,
  semaphoreState,
  settle,
  startFactory,
} from './helpers';

/**
 * A step Lambda crashes after doing its work (its effects happen, its result is
 * lost: an out-of-memory kill or a timeout mid-step, which Step Functions sees as
 * `Lambda.Unknown`). What the factory does next depends on whether the synthesized
 * state machine retries `Lambda.Unknown` on that step; either way, no effect is lost
 * or doubled, and the account ends exactly as a clean run leaves it.
 */

const CRASHING_HANDLERS = [
  'store-metadata',
  'create-execution-role',
  'tag-account',
  'create-account-pipeline',
];
const STATE_OF: Record<string, string> = {
  'store-metadata': 'Store metadata',
  'create-execution-role': 'Create execution role',
  'tag-account': 'Tag account',
  'create-account-pipeline': 'Create account pipeline',
};
const requests = generateRequests(CRASHING_HANDLERS.length, 'crash');
const requestFor = (handler: string) => requests[CRASHING_HANDLERS.indexOf(handler)];
/** Control Tower takes 2 emulated minutes here: these runs are about the steps after it. */
const QUICK = { controlTower: { createSeconds: 120 } };

/** The Lambda.Unknown retry the workflow needs on every step Lambda (see the test at the end). */
export const LAMBDA_UNKNOWN_RETRY = {
  ErrorEquals: ['Lambda.Unknown'],
  IntervalSeconds: 2,
  MaxAttempts: 2,
  BackoffRate: 2,
};

/** The template with that retry added in front of every Lambda task's retriers. */
function withLambdaUnknownRetry(template: CfnTemplate): CfnTemplate {
  const text = JSON.stringify(template);
  const anchor = '"Retry\\":[{\\"ErrorEquals\\":[\\"Lambda.ClientExecutionTimeoutException';
  const patched = text
    .split(anchor)
    .join(
      `"Retry\\":[${JSON.stringify(JSON.stringify(LAMBDA_UNKNOWN_RETRY)).slice(1, -1)},{\\"ErrorEquals\\":[\\"Lambda.ClientExecutionTimeoutException`,
    );
  if (patched === text) throw new Error('No Lambda task retriers found in the template');
  return JSON.parse(patched) as CfnTemplate;
}

/** Does the provisioning state machine retry `error` on `stateName`? */
function retries(factory: LocalFactory, stateName: string, error: string): boolean {
  const workflow = factory.template.stateMachines.find((m) => m.arn === factory.stateMachineArn)!;
  const state = workflow.definition.States[stateName];
  if (!state) throw new Error(`No state ${stateName}`);
  return (state.Retry ?? []).some((r: { ErrorEquals: string[] }) =>
    r.ErrorEquals.some((e) => e === error || e === 'States.ALL'),
  );
}

/** The end state with the account id (seeded, so it depends on creation order) and product ids replaced. */
async function comparableState(factory: LocalFactory, email: string) {
  const state = await accountEndState(factory, email);
  const id = factory.landingZone.account(email)!.id;
  const text = JSON.stringify(state).split(id).join('<account-id>');
  return JSON.parse(text.replace(/"provisionedProductId":"pp-[a-z0-9]+"/g, '"provisionedProductId":"<pp>"'));
}

let template: CfnTemplate;
let factory: LocalFactory | undefined;
const clean = new Map<string, unknown>();

async function run(t: CfnTemplate, crash?: string): Promise<LocalFactory> {
  factory = await startFactory(t, {
    landingZone: QUICK,
    lambdaFaults: crash ? { crash: [{ handler: crash, times: 1, when: 'after' }] } : undefined,
  });
  return factory;
}

beforeAll(async () => {
  template = faultTemplate();
  // The reference: each request on a clean factory.
  const f = await run(template);
  try {
    for (const r of requests) await f.submit(r);
    await settle(f);
    for (const r of requests) {
      expect(latestExecutions(f).get(r.accountEmail)?.status).toBe('SUCCEEDED');
      clean.set(r.accountEmail, await comparableState(f, r.accountEmail));
    }
  } finally {
    await f.close();
    factory = undefined;
  }
});

afterEach(async () => {
  await factory?.close();
  factory = undefined;
});

describe.each(CRASHING_HANDLERS)('%s crashes after its work', (handler) => {
  const request = requestFor(handler);

  test('with the synthesized state machine: retried to the clean end state, or failed, reported, and clean after a re-run', async () => {
    const f = await run(template, handler);

    await f.submit(request);
    await settle(f);

    const first = latestExecutions(f).get(request.accountEmail)!;
    const crashed = f.lambda.invocations.filter(
      (i) => i.handler === handler && i.errorName === 'Lambda.Unknown',
    );
    expect(crashed).toHaveLength(1);
    if (retries(f, STATE_OF[handler], 'Lambda.Unknown')) {
      expect(first.status).toBe('SUCCEEDED');
      expect(await comparableState(f, request.accountEmail)).toEqual(clean.get(request.accountEmail));
      return;
    }
    // Not retried: the crash fails the request, reported with the error's name, the slot already free.
    expect([first.status, first.error]).toEqual(['FAILED', 'Lambda.Unknown']);
    expect(notifications(f, 'failure')).toEqual([
      expect.objectContaining({
        requestId: request.accountEmail,
        error: expect.objectContaining({ name: 'Lambda.Unknown' }),
      }),
    ]);
    expect(await semaphoreState(f)).toEqual({ count: 0, holders: [], waiters: 0 });

    // Running the request again (written again, unchanged) finishes the account: nothing doubled.
    const { version } = await f.submit(request);
    await settle(f);

    const second = latestExecutions(f).get(request.accountEmail)!;
    expect([version, second.status, second.error]).toEqual([2, 'SUCCEEDED', undefined]);
    expect(f.landingZone.accountsCreatedByEmail).toEqual({ [request.accountEmail]: 1 });
    const after = await comparableState(f, request.accountEmail);
    // The re-run is version 2, a CUSTOMIZE of the account; the rest is what a clean run leaves.
    expect(after.metadata).toEqual([
      expect.objectContaining({ requestVersion: 2, lastOutcome: 'SUCCEEDED' }),
    ]);
    const sameRun = (s: any) => ({
      ...s,
      metadata: s.metadata.map((m: any) => ({ ...m, requestVersion: undefined, lastOperation: undefined })),
      pipelineRuns: undefined,
    });
    expect(sameRun(after)).toEqual(sameRun(clean.get(request.accountEmail)));
  });

  test('with Lambda.Unknown retried on the step: the end state is exactly that of a clean run', async () => {
    const f = await run(withLambdaUnknownRetry(template), handler);

    await f.submit(request);
    await settle(f);

    const execution = latestExecutions(f).get(request.accountEmail)!;
    expect([execution.status, execution.error]).toEqual(['SUCCEEDED', undefined]);
    const calls = f.lambda.invocations.filter((i) => i.handler === handler).map((i) => i.errorName ?? 'ok');
    // One crash, then the retry that succeeds (Create execution role may first wait for IAM: ExecutionRoleNotReady).
    expect(calls.filter((c) => c === 'Lambda.Unknown')).toHaveLength(1);
    expect(calls.slice(calls.indexOf('Lambda.Unknown') + 1)).toEqual(['ok']);
    expect(notifications(f, 'failure')).toEqual([]);
    expect(await comparableState(f, request.accountEmail)).toEqual(clean.get(request.accountEmail));
  });
});
