import { performance } from 'node:perf_hooks';
import { ControlTowerClient } from '@aws-sdk/client-controltower';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { ServiceCatalogClient } from '@aws-sdk/client-service-catalog';
import { createClient, installClientHook } from '../lambda/shared/clients';
import { fetchAccountId } from '../lambda/fetch-account-id';
import { validateRequest } from '../lambda/validate-request';
import { LandingZone, ScaledClock } from '../local/emulator';
import { largeOrganization } from '../local/emulator/large-organization';

/**
 * AWS calls per request as the organization grows: the per-request steps that read the
 * organization (Validate request; Fetch account ID when the record gives no account ID)
 * run against an emulated organization of N existing accounts, and the emulator counts
 * every call per API. Organizations pages ListAccounts by 20 at most (its MaxResults
 * range is 1-20), so pages of 20 are used here.
 *
 *   npx tsx bench/org-scale.ts [N ...]     (default: 100 5000)
 */

export interface OrgScaleFigure {
  accounts: number;
  /** Calls one CREATE validation makes, per `Service.Operation`. */
  validateCalls: Record<string, number>;
  validateTotal: number;
  /** Calls Fetch account ID makes when it must look the account up by email. */
  fetchByEmailTotal: number;
  /** Real milliseconds to build the emulated organization. */
  seedMs: number;
}

const METADATA_NONE = {
  // No managed account for the email: what a new request sees.
  doc: { send: async () => ({ Items: [] }) } as never,
  tableName: 'metadata',
  emailIndexName: 'email',
};

function delta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0);
  return out;
}

const total = (calls: Record<string, number>) => Object.values(calls).reduce((a, b) => a + b, 0);

export async function measureOrgScale(accounts: number): Promise<OrgScaleFigure> {
  const t0 = performance.now();
  const lz = new LandingZone({
    clock: new ScaledClock({ manual: true, start: Date.parse('2026-01-05T09:00:00.000Z') }),
    organization: largeOrganization(accounts),
    pageSize: 20,
  });
  const seedMs = performance.now() - t0;
  installClientHook(lz.hook());
  try {
    const clients = {
      organizations: createClient(OrganizationsClient),
      controlTower: createClient(ControlTowerClient),
      serviceCatalog: createClient(ServiceCatalogClient),
      metadata: METADATA_NONE,
    };
    const request = {
      accountEmail: 'new-account@example.com',
      accountName: 'new-account',
      organizationalUnit: 'Sandbox',
      sso: { email: 'new-account@example.com', firstName: 'New', lastName: 'Account' },
    };
    const before = lz.callCounts;
    await validateRequest(clients, {
      state: {
        requestId: 'new-account@example.com',
        version: 1,
        eventName: 'INSERT',
        request,
        previous: null,
      },
    });
    const validateCalls = delta(before, lz.callCounts);

    const beforeFetch = lz.callCounts;
    await fetchAccountId(clients.organizations, {
      state: {
        validation: {
          requestId: 'existing@example.com',
          accountId: null,
          request: { accountEmail: `existing-${String(Math.max(1, accounts)).padStart(5, '0')}@example.com` },
        },
      },
    });
    const fetchByEmailTotal = total(delta(beforeFetch, lz.callCounts));
    return { accounts, validateCalls, validateTotal: total(validateCalls), fetchByEmailTotal, seedMs };
  } finally {
    installClientHook(undefined);
  }
}

async function main(): Promise<void> {
  const sizes = process.argv.slice(2).map(Number);
  for (const n of sizes.length ? sizes : [100, 5000]) {
    const f = await measureOrgScale(n);
    console.log(
      `${n} accounts: validate ${f.validateTotal} calls ${JSON.stringify(f.validateCalls)}; ` +
        `fetch by email ${f.fetchByEmailTotal} calls; organization seeded in ${Math.round(f.seedMs)} ms`,
    );
  }
}

if (require.main === module) {
  void main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
