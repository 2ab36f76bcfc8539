import {
  ListAccountsCommand,
  ListTagsForResourceCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { SearchProvisionedProductsCommand, ServiceCatalogClient } from '@aws-sdk/client-service-catalog';
import { createClient } from '../../../lambda/shared/clients';
import { largeOrganization } from '../../../local/emulator/large-organization';
import { landingZone, uninstall } from './fixture';

afterEach(uninstall);

describe('largeOrganization', () => {
  test('5,000 existing accounts, spread over the registered OUs, tagged, with their provisioned products', async () => {
    const { lz } = landingZone({ organization: largeOrganization(5000), pageSize: 20 });
    const org = createClient(OrganizationsClient);
    const sc = createClient(ServiceCatalogClient);

    const accounts = lz.accounts.filter((a) => a.name.startsWith('existing-'));
    expect(accounts).toHaveLength(5000);
    expect(new Set(accounts.map((a) => a.ouName))).toEqual(
      new Set(['Security', 'Sandbox', 'Workloads', 'Production']),
    );
    const last = lz.account('existing-05000@example.com')!;
    expect(last.tags).toEqual({ team: 'team-0', environment: 'development' });
    const tags = await org.send(new ListTagsForResourceCommand({ ResourceId: last.id }));
    expect(tags.Tags).toEqual(expect.arrayContaining([{ Key: 'team', Value: 'team-0' }]));

    // Organizations pages by at most 20: a full listing takes 251 calls (5,002 accounts with the base ones).
    const first = await org.send(new ListAccountsCommand({}));
    expect(first.Accounts).toHaveLength(20);
    const product = await sc.send(
      new SearchProvisionedProductsCommand({
        AccessLevelFilter: { Key: 'Account', Value: 'self' },
        Filters: { SearchQuery: [`physicalId:${last.id}`] },
      }),
    );
    expect(product.ProvisionedProducts).toHaveLength(1);
    expect(product.ProvisionedProducts![0]).toMatchObject({ Status: 'AVAILABLE', PhysicalId: last.id });
  });

  test('is deterministic, can leave some accounts without a product, and rejects a bad count', () => {
    expect(largeOrganization(10)).toEqual(largeOrganization(10));
    const spec = largeOrganization(10, { provisionedEvery: 2 });
    expect(spec.accounts!.filter((a) => a.provisioned)).toHaveLength(5);
    expect(() => largeOrganization(-1)).toThrow(/non-negative integer/);
  });
});
