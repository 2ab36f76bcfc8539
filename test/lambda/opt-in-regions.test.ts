import { AccountManagement } from '../../local/emulator/account';
import { AccountClient, DisableRegionCommand, EnableRegionCommand } from '@aws-sdk/client-account';
import { createClient } from '../../lambda/shared/clients';
import { setClock } from '../../lambda/shared/clock';
import type { OptInRegionsResult } from '../../lambda/shared/contracts';
import {
  AccountManagementTrustedAccessDisabled,
  OptInRegionNotAvailable,
  OptInRegionsTimedOut,
} from '../../lambda/shared/errors';
import { OptInRegionsInputSchema, reconcileOptInRegions } from '../../lambda/opt-in-regions';
import { MINUTE } from '../local/emulator/fixture';
import { SettingsFixture, startSettingsFixture } from './settings-fixture';

let f: SettingsFixture;
let account: AccountClient;

beforeEach(async () => {
  f = await startSettingsFixture();
  setClock(f.clock);
  account = createClient(AccountClient);
});
afterEach(async () => {
  setClock(undefined);
  await f.close();
});

type Req = { regions?: string[]; disableRemovedRegions?: boolean };

async function poll(version: number, req: Req, previous?: OptInRegionsResult) {
  const p = await f.version(version, req as never, previous ? { optInRegions: previous } : {});
  return reconcileOptInRegions({ account, metadata: f.metadata.table }, OptInRegionsInputSchema.parse(p));
}

/** Polls as the state machine's Wait loop does, `minutes` apart, until SUCCEEDED (at most 20 polls). */
async function untilDone(version: number, req: Req, minutes = 5) {
  let result = await poll(version, req);
  const polls = [result.status];
  while (result.status === 'IN_PROGRESS' && polls.length < 20) {
    await f.clock.advance(minutes * MINUTE);
    result = await poll(version, req, result);
    polls.push(result.status);
  }
  return { result, polls };
}

const statuses = () => f.lz.service(AccountManagement).regionStatuses(f.accountId);

describe('opt-in Regions', () => {
  test('enables the Regions of the request; the poll reports IN_PROGRESS until they are ENABLED', async () => {
    const first = await poll(1, { regions: ['af-south-1', 'me-south-1'] });

    expect(first).toMatchObject({
      status: 'IN_PROGRESS',
      enabling: ['af-south-1', 'me-south-1'],
      enabled: [],
    });
    expect(statuses()['af-south-1']).toBe('ENABLING');

    await f.clock.advance(5 * MINUTE);
    const second = await poll(1, { regions: ['af-south-1', 'me-south-1'] }, first);
    expect(second.status).toBe('IN_PROGRESS');
    expect(second.startedAt).toBe(first.startedAt);

    await f.clock.advance(15 * MINUTE);
    const done = await poll(1, { regions: ['af-south-1', 'me-south-1'] }, second);
    expect(done).toMatchObject({ status: 'SUCCEEDED', enabled: ['af-south-1', 'me-south-1'], enabling: [] });
    expect(statuses()).toMatchObject({
      'af-south-1': 'ENABLED',
      'me-south-1': 'ENABLED',
      'eu-south-1': 'DISABLED',
    });
    expect((await f.item())?.enabledRegions).toEqual(['af-south-1', 'me-south-1']);
  });

  test('a Region dropped from the request stays enabled unless the request says disableRemovedRegions', async () => {
    await untilDone(1, { regions: ['af-south-1', 'me-south-1'] });

    const kept = await untilDone(2, { regions: ['af-south-1'] });
    expect(kept.result).toMatchObject({ status: 'SUCCEEDED', disabled: [], disabling: [] });
    expect(statuses()['me-south-1']).toBe('ENABLED');

    const dropped = await untilDone(3, { regions: ['af-south-1'], disableRemovedRegions: true });
    expect(dropped.polls[0]).toBe('IN_PROGRESS');
    expect(dropped.result).toMatchObject({
      status: 'SUCCEEDED',
      disabled: ['me-south-1'],
      enabled: ['af-south-1'],
    });
    expect(statuses()).toMatchObject({ 'af-south-1': 'ENABLED', 'me-south-1': 'DISABLED' });
    expect((await f.item())?.enabledRegions).toEqual(['af-south-1']);
  });

  test('a Region enabled by hand is never disabled; an ENABLED Region is not enabled again', async () => {
    await account.send(new EnableRegionCommand({ AccountId: f.accountId, RegionName: 'eu-south-1' }));
    await f.clock.advance(20 * MINUTE);

    const first = await poll(1, { regions: ['eu-south-1'] });
    expect(first).toMatchObject({ status: 'SUCCEEDED', enabled: ['eu-south-1'], enabling: [] });

    const dropped = await untilDone(2, { regions: [], disableRemovedRegions: true });
    expect(dropped.result).toMatchObject({ status: 'SUCCEEDED', disabled: [], disabling: [] });
    expect(statuses()['eu-south-1']).toBe('ENABLED');
  });

  test('a Region still DISABLING is enabled once it is DISABLED (AWS refuses it before, ConflictException)', async () => {
    await account.send(new EnableRegionCommand({ AccountId: f.accountId, RegionName: 'il-central-1' }));
    await f.clock.advance(20 * MINUTE);
    await account.send(new DisableRegionCommand({ AccountId: f.accountId, RegionName: 'il-central-1' }));
    await expect(
      account.send(new EnableRegionCommand({ AccountId: f.accountId, RegionName: 'il-central-1' })),
    ).rejects.toMatchObject({ name: 'ConflictException' });

    const { result, polls } = await untilDone(1, { regions: ['il-central-1'] });

    expect(polls.length).toBeGreaterThan(2);
    expect(result).toMatchObject({ status: 'SUCCEEDED', enabled: ['il-central-1'] });
    expect(statuses()['il-central-1']).toBe('ENABLED');
  });

  test('a Region that is not opt-in: OptInRegionNotAvailable, nothing enabled', async () => {
    await expect(poll(1, { regions: ['af-south-1', 'us-east-1'] })).rejects.toBeInstanceOf(
      OptInRegionNotAvailable,
    );
    expect(statuses()['af-south-1']).toBe('DISABLED');
  });

  test('gives up with OptInRegionsTimedOut when a Region is still changing after the time allowed', async () => {
    const first = await poll(1, { regions: ['af-south-1'] });
    const stale = {
      ...first,
      startedAt: new Date(Date.parse(first.startedAt) - 13 * 60 * MINUTE).toISOString(),
    };

    await expect(poll(1, { regions: ['af-south-1'] }, stale)).rejects.toBeInstanceOf(OptInRegionsTimedOut);
  });

  test('without trusted access for Account Management: AccountManagementTrustedAccessDisabled, nothing enabled', async () => {
    f.lz.service(AccountManagement).setTrustedAccess('account.amazonaws.com', false);

    await expect(poll(1, { regions: ['af-south-1'] })).rejects.toBeInstanceOf(
      AccountManagementTrustedAccessDisabled,
    );
    expect(statuses()['af-south-1']).toBe('DISABLED');
  });
});
