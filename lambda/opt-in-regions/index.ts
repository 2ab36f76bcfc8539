import {
  AccountClient,
  DisableRegionCommand,
  EnableRegionCommand,
  GetRegionOptStatusCommand,
  RegionOptStatus,
} from '@aws-sdk/client-account';
import { z } from 'zod';
import { withTrustedAccess } from '../shared/account-management';
import { createClient } from '../shared/clients';
import { now } from '../shared/clock';
import type { OptInRegionsResult } from '../shared/contracts';
import { OptInRegionNotAvailable, OptInRegionsTimedOut } from '../shared/errors';
import { getMetadata, MetadataTable, recordFactoryMade } from '../shared/metadata';
import { OPT_IN_REGIONS } from '../shared/schema';
import { settingsStep } from '../shared/settings-step';

/**
 * Opt-in Regions, one poll: asks Account Management (from the management account, with
 * `AccountId`) to enable each Region of the request that is DISABLED, and, when the request
 * says `disableRemovedRegions`, to disable each Region the factory enabled that the request
 * no longer lists. Enabling takes minutes to hours: the step never waits. It returns
 * `status: 'IN_PROGRESS'` while a Region is ENABLING or DISABLING, and the state machine
 * waits and runs it again (the previous result comes back as `state.optInRegions`) until
 * `SUCCEEDED`, or OptInRegionsTimedOut after OPT_IN_REGIONS_TIMEOUT_HOURS.
 *
 * A Region that is DISABLING when the request wants it is enabled on a later poll (AWS
 * refuses EnableRegion while a Region is DISABLING: ConflictException); a Region still
 * ENABLING when the request drops it is disabled on a later poll (DisableRegion is refused
 * until it is ENABLED). Only Regions the factory enabled (recorded in the metadata item)
 * are ever disabled.
 */

const step = settingsStep('opt-in-regions');
const { logger } = step;
const account = createClient(AccountClient, step.managementConfig);

/** How long the state machine's loop may poll before the step gives up (AWS: "can take several hours"). */
export const OPT_IN_REGIONS_TIMEOUT_HOURS = 12;

export const OptInRegionsInputSchema = z.object({
  state: z.object({
    version: z.number().int().nonnegative(),
    validation: z.object({
      request: z.object({
        regions: z.array(z.string()).optional(),
        disableRemovedRegions: z.boolean().optional(),
      }),
    }),
    account: z.object({ accountId: z.string().regex(/^\d{12}$/, 'must be a 12-digit account ID') }),
    /** The previous poll's result, in the same execution. */
    optInRegions: z.object({ startedAt: z.string() }).passthrough().nullish(),
  }),
});
export type OptInRegionsInput = z.output<typeof OptInRegionsInputSchema>;

export interface OptInRegionsClients {
  account: AccountClient;
  /** Where the Regions the factory enabled are recorded; without it, no Region is ever disabled. */
  metadata?: MetadataTable;
}

async function statusOf(client: AccountClient, accountId: string, region: string): Promise<RegionOptStatus> {
  const out = await client.send(new GetRegionOptStatusCommand({ AccountId: accountId, RegionName: region }));
  return out.RegionOptStatus ?? 'DISABLED';
}

/** Account Management refuses a Region it does not know with ValidationException: a named error. */
async function checked<T>(region: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if ((err as { name?: string }).name === 'ValidationException') {
      throw new OptInRegionNotAvailable(
        `Region ${region} cannot be enabled in this account: ${(err as Error).message}`,
      );
    }
    throw err;
  }
}

export async function reconcileOptInRegions(
  clients: OptInRegionsClients,
  input: OptInRegionsInput,
): Promise<OptInRegionsResult> {
  const { accountId } = input.state.account;
  const { regions = [], disableRemovedRegions = false } = input.state.validation.request;
  const at = now();
  const startedAt = input.state.optInRegions?.startedAt ?? at.toISOString();
  const item = clients.metadata ? await getMetadata(clients.metadata, accountId) : undefined;
  const owned = new Set(item?.enabledRegions ?? []);
  const result: OptInRegionsResult = {
    status: 'SUCCEEDED',
    enabled: [],
    enabling: [],
    disabled: [],
    disabling: [],
    startedAt,
    checkedAt: at.toISOString(),
  };

  // Every Region is checked before any is enabled: bad input changes nothing.
  const unknown = regions.filter((r) => !(OPT_IN_REGIONS as readonly string[]).includes(r));
  if (unknown.length) {
    throw new OptInRegionNotAvailable(`Not opt-in Regions of the aws partition: ${unknown.join(', ')}`);
  }

  await withTrustedAccess(async () => {
    for (const region of [...regions].sort()) {
      const status = await checked(region, () => statusOf(clients.account, accountId, region));
      if (status === 'ENABLED' || status === 'ENABLED_BY_DEFAULT') {
        result.enabled.push(region);
        continue;
      }
      if (status === 'DISABLED') {
        await checked(region, () =>
          clients.account.send(new EnableRegionCommand({ AccountId: accountId, RegionName: region })),
        );
        owned.add(region);
      }
      // ENABLING, or DISABLING (enabled on a later poll, once DISABLED).
      result.enabling.push(region);
    }
    if (disableRemovedRegions) {
      for (const region of [...owned].filter((r) => !regions.includes(r)).sort()) {
        const status = await checked(region, () => statusOf(clients.account, accountId, region));
        if (status === 'DISABLED') {
          owned.delete(region);
          result.disabled.push(region);
          continue;
        }
        if (status === 'ENABLED') {
          await checked(region, () =>
            clients.account.send(new DisableRegionCommand({ AccountId: accountId, RegionName: region })),
          );
        }
        // DISABLING, or ENABLING (disabled on a later poll, once ENABLED).
        result.disabling.push(region);
      }
    }
  });

  if (clients.metadata && item) {
    await recordFactoryMade(
      clients.metadata,
      accountId,
      'enabledRegions',
      [...owned].sort(),
      input.state.version,
    );
  }
  if (result.enabling.length || result.disabling.length) {
    result.status = 'IN_PROGRESS';
    const hours = (at.getTime() - Date.parse(startedAt)) / 3_600_000;
    if (hours > OPT_IN_REGIONS_TIMEOUT_HOURS) {
      throw new OptInRegionsTimedOut(
        `Regions still changing after ${OPT_IN_REGIONS_TIMEOUT_HOURS} hours: ` +
          [
            ...result.enabling.map((r) => `${r} (enabling)`),
            ...result.disabling.map((r) => `${r} (disabling)`),
          ].join(', '),
      );
    }
  }
  logger.info('Reconciled opt-in Regions', { accountId, ...result });
  return result;
}

export const handler = step.handler(OptInRegionsInputSchema, 'Opt-in Regions', (input, metadata) =>
  reconcileOptInRegions({ account, metadata }, input),
);
