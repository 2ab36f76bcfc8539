import type { AccountRequest } from '../../lambda/shared/schema';
import type { StepPayload } from '../../lambda/shared/contracts';
import { putMetadata, getMetadata, MetadataItem } from '../../lambda/shared/metadata';
import type { LandingZone } from '../../local/emulator';
import { landingZone, uninstall } from '../local/emulator/fixture';
import { MetadataFixture, payload, request, startMetadataFixture } from './metadata-fixture';

/**
 * The account-settings steps against the emulated landing zone (manual clock) and a
 * metadata table in dynalite: a member account of the organization, managed by the factory.
 */
export interface SettingsFixture {
  lz: LandingZone;
  clock: ReturnType<typeof landingZone>['clock'];
  metadata: MetadataFixture;
  accountId: string;
  /** The step's payload for one version of the request, with the metadata item written for it. */
  version(
    version: number,
    overrides: Partial<AccountRequest>,
    extra?: Record<string, unknown>,
  ): Promise<StepPayload>;
  item(): Promise<MetadataItem | undefined>;
  close(): Promise<void>;
}

export async function startSettingsFixture(): Promise<SettingsFixture> {
  const { lz, clock } = landingZone();
  const metadata = await startMetadataFixture();
  const accountId = lz.accounts.find((a) => a.name === 'Audit')!.id;
  return {
    lz,
    clock,
    metadata,
    accountId,
    async version(version, overrides, extra = {}) {
      const req = request(overrides);
      const p = payload({ version, request: req });
      p.state.account = { accountId, email: req.accountEmail, name: req.accountName };
      await putMetadata(metadata.table, {
        accountId,
        email: req.accountEmail,
        accountName: req.accountName,
        requestId: req.accountEmail,
        requestVersion: version,
        request: req,
        organizationalUnit: { id: 'ou-ab12-cdef3456', name: 'Sandbox' },
        provisionedProductId: null,
        operation: version === 1 ? 'CREATE' : 'CUSTOMIZE',
        executionArn: p.execution.id,
      });
      Object.assign(p.state, extra);
      return p;
    },
    item: () => getMetadata(metadata.table, accountId),
    async close() {
      uninstall();
      await metadata.close();
    },
  };
}
