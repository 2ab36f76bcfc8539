import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { setClock } from '../../lambda/shared/clock';
import { AccountManagement } from '../../local/emulator/account';
import { SettingsFixture, startSettingsFixture } from './settings-fixture';

/**
 * The three account-settings handlers as Lambda runs them (their exported `handler`, module
 * clients beneath the emulated landing zone): input parsed at the boundary, the Lambda
 * context and the request on every log line, busy retries within the invocation's time.
 */

type Handler = (event: unknown, context?: Context) => Promise<unknown>;

const HANDLERS = [
  { step: 'alternate-contacts', what: 'Alternate contacts', client: 'AccountClient' },
  { step: 'opt-in-regions', what: 'Opt-in Regions', client: 'AccountClient' },
  { step: 'identity-center-access', what: 'Identity Center access', client: 'SSOAdminClient' },
] as const;

/**
 * A handler module, loaded once the emulator is installed (its clients are made when the
 * module loads, as in Lambda, and reach the landing zone installed at each call).
 */
function load(step: (typeof HANDLERS)[number]['step']): Handler {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(`../../lambda/${step}`) as { handler: Handler }).handler;
}

const security = {
  name: 'Security Team',
  title: 'Security operations',
  email: 'security@example.com',
  phone: '+1 555 0102',
};

function lambdaContext(remainingMs: number): Context {
  return {
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    functionName: 'settings-step-test',
    getRemainingTimeInMillis: () => remainingMs,
  } as unknown as Context;
}

let f: SettingsFixture;
const metadataTable = process.env.METADATA_TABLE;
beforeEach(async () => {
  // No metadata table: the handlers run without one (nothing they made is ever removed).
  delete process.env.METADATA_TABLE;
  f = await startSettingsFixture();
});
afterEach(async () => {
  setClock(undefined);
  jest.restoreAllMocks();
  if (metadataTable !== undefined) process.env.METADATA_TABLE = metadataTable;
  await f.close();
});

test.each(HANDLERS)(
  '$step: input it cannot read is InvalidStepInput naming the step',
  async ({ step, what }) => {
    await expect(load(step)({ state: { version: 1 } }, lambdaContext(60_000))).rejects.toMatchObject({
      name: 'InvalidStepInput',
      message: expect.stringContaining(`${what}: state.validation`),
    });
  },
);

test('the Lambda context and the request and account go on every log line, and the step does its work', async () => {
  const addContext = jest.spyOn(Logger.prototype, 'addContext');
  const appendKeys = jest.spyOn(Logger.prototype, 'appendKeys');
  const p = await f.version(1, { alternateContacts: { security } });
  const context = lambdaContext(60_000);

  const result = await load('alternate-contacts')(p, context);

  expect(result).toEqual({ put: ['security'], deleted: [], unchanged: [] });
  expect(f.lz.service(AccountManagement).alternateContacts(f.accountId).SECURITY).toMatchObject({
    EmailAddress: 'security@example.com',
  });
  expect(addContext).toHaveBeenCalledWith(context);
  expect(appendKeys).toHaveBeenCalledWith({ requestId: p.state.requestId, accountId: f.accountId });
});

test.each(HANDLERS)(
  "$step: a throttled API is retried within the invocation's time, then RetryBudgetExhausted (the step's Retry)",
  async ({ step, client }) => {
    // The handlers' clock: each backoff moves it forward instead of waiting.
    let virtualMs = Date.UTC(2026, 0, 5, 9);
    setClock({
      now: () => new Date(virtualMs),
      toRealMs: (ms) => {
        virtualMs += ms;
        return 0;
      },
    });
    jest.spyOn(Math, 'random').mockReturnValue(0.999);
    f.lz.setFaults({ throttle: { rate: 1, services: [client] } });
    const p = await f.version(1, {
      alternateContacts: { security },
      regions: ['af-south-1'],
      identityCenter: [{ group: 'Developers', permissionSet: 'ReadOnlyAccess' }],
    });

    await expect(load(step)(p, lambdaContext(12_000))).rejects.toMatchObject({
      name: 'RetryBudgetExhausted',
      message: expect.stringContaining('attempts'),
    });
    expect(f.lz.faultsInjected.total).toBeGreaterThan(1);
  },
);
