import { performance } from 'node:perf_hooks';
import { ControlTowerClient } from '@aws-sdk/client-controltower';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { ServiceCatalogClient } from '@aws-sdk/client-service-catalog';
import { createClient, installClientHook } from '../lambda/shared/clients';
import { fetchAccountId } from '../lambda/fetch-account-id';
import { validateRequest } from '../lambda/validate-request';
import { indexedLookup, reconcileAccountIndex } from '../lambda/shared/account-index';
import { LandingZone, ScaledClock } from '../local/emulator';
import { largeOrganization } from '../local/emulator/large-organization';
import { startCountingDynamoDb } from './dynalite';

/**
 * AWS calls per request as the organization grows: the per-request steps that read the
 * organization (Validate request; Fetch account ID when the record gives no account ID)
 * run against an emulated organization of N existing accounts, as the factory's
 * functions run them (through the account index, rebuilt first by its reconcile, which
 * is scheduled and not counted per request). The emulator counts every call per API,
 * and the DynamoDB client every call to the index. Organizations pages ListAccounts by
 * 20 at most (its MaxResults range is 1-20), so pages of 20 are used here.
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
  /** Calls the index's reconcile made to rebuild it (scheduled, once an hour by default; not per request). */
  reconcileCalls: number;
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
  const ddb = await startCountingDynamoDb();
  try {
    await ddb.createTable('account-index', { pk: 'pk', sk: 'sk' });
    const reconcileBefore = lz.summary().calls + ddb.calls();
    await reconcileAccountIndex(ddb.doc, 'account-index', createClient(OrganizationsClient));
    const reconcileCalls = lz.summary().calls + ddb.calls() - reconcileBefore;
    const counted = () => ({ ...lz.callCounts, 'DynamoDB.*': ddb.calls() });
    const clients = {
      organizations: createClient(OrganizationsClient),
      controlTower: createClient(ControlTowerClient),
      serviceCatalog: createClient(ServiceCatalogClient),
      metadata: METADATA_NONE,
      accounts: indexedLookup(ddb.doc, 'account-index', createClient(OrganizationsClient), 'read'),
    };
    const request = {
      accountEmail: 'new-account@example.com',
      accountName: 'new-account',
      organizationalUnit: 'Sandbox',
      sso: { email: 'new-account@example.com', firstName: 'New', lastName: 'Account' },
    };
    const before = counted();
    await validateRequest(clients, {
      state: {
        requestId: 'new-account@example.com',
        version: 1,
        eventName: 'INSERT',
        request,
        previous: null,
      },
    });
    const validateCalls = delta(before, counted());

    const beforeFetch = counted();
    await fetchAccountId(
      clients.organizations,
      {
        state: {
          validation: {
            requestId: 'existing@example.com',
            accountId: null,
            request: {
              accountEmail: `existing-${String(Math.max(1, accounts)).padStart(5, '0')}@example.com`,
            },
          },
        },
      },
      indexedLookup(ddb.doc, 'account-index', createClient(OrganizationsClient), 'readWrite'),
    );
    const fetchByEmailTotal = total(delta(beforeFetch, counted()));
    return {
      accounts,
      validateCalls,
      validateTotal: total(validateCalls),
      fetchByEmailTotal,
      reconcileCalls,
      seedMs,
    };
  } finally {
    installClientHook(undefined);
    await ddb.close();
  }
}

async function main(): Promise<void> {
  const sizes = process.argv.slice(2).map(Number);
  for (const n of sizes.length ? sizes : [100, 5000]) {
    const f = await measureOrgScale(n);
    console.log(
      `${n} accounts: validate ${f.validateTotal} calls ${JSON.stringify(f.validateCalls)}; ` +
        `fetch by email ${f.fetchByEmailTotal} calls; index rebuilt by the reconcile in ${f.reconcileCalls} calls; ` +
        `organization seeded in ${Math.round(f.seedMs)} ms`,
    );
  }
}

if (require.main === module) {
  void main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
