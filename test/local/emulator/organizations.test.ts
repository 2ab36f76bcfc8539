import {
  DescribeOrganizationalUnitCommand,
  DescribeOrganizationCommand,
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  ListRootsCommand,
  ListTagsForResourceCommand,
  MoveAccountCommand,
  OrganizationsClient,
  paginateListAccounts,
  TagResourceCommand,
  UntagResourceCommand,
  CloseAccountCommand,
  DescribeAccountCommand,
} from '@aws-sdk/client-organizations';
import { ControlTowerClient } from '@aws-sdk/client-controltower';
import { createClient } from '../../../lambda/shared/clients';
import { listEnabledBaselines } from '../../../lambda/shared/control-tower';
import { CONTROL_TOWER_BASELINE_ARN } from '../../../local/emulator';
import { landingZone, MINUTE, rejection, uninstall } from './fixture';

afterEach(uninstall);

const TWELVE = {
  ous: [
    { name: 'Sandbox' },
    { name: 'Workloads' },
    { name: 'Production', parent: 'Workloads' },
    { name: 'Parked', registered: false },
  ],
  accounts: Array.from({ length: 12 }, (_, n) => ({
    name: `Account ${n + 1}`,
    email: `account-${n + 1}@example.com`,
    ou: 'Sandbox',
  })),
};

describe('Organizations', () => {
  test('lists page by page: one call returns 5 of 13 accounts, NextToken gets the rest', async () => {
    landingZone({ organization: TWELVE });
    const orgs = createClient(OrganizationsClient);
    const first = await orgs.send(new ListAccountsCommand({}));
    expect(first.Accounts).toHaveLength(5);
    expect(first.NextToken).toBeDefined();

    const all: string[] = [];
    for await (const page of paginateListAccounts({ client: orgs }, {})) {
      all.push(...page.Accounts!.map((a) => a.Email!));
    }
    expect(all).toHaveLength(13);
    expect(new Set(all).size).toBe(13);
    expect(all).toContain('management@example.com');

    const bad = await rejection(orgs.send(new ListAccountsCommand({ NextToken: 'bm90LWEtdG9rZW4=' })));
    expect(bad.name).toBe('InvalidInputException');
    // A token is bound to its listing.
    const rootId = (await orgs.send(new ListRootsCommand({}))).Roots![0].Id!;
    const misused = await rejection(
      orgs.send(new ListAccountsForParentCommand({ ParentId: rootId, NextToken: first.NextToken })),
    );
    expect(misused.name).toBe('InvalidInputException');
  });

  test('walks the OU tree from the root, with AWS-shaped ids and ARNs', async () => {
    const { lz } = landingZone({ organization: TWELVE });
    const orgs = createClient(OrganizationsClient);
    const root = (await orgs.send(new ListRootsCommand({}))).Roots![0];
    expect(root.Id).toMatch(/^r-[0-9a-z]{4}$/);
    const top = await orgs.send(new ListOrganizationalUnitsForParentCommand({ ParentId: root.Id }));
    expect(top.OrganizationalUnits!.map((o) => o.Name).sort()).toEqual(['Parked', 'Sandbox', 'Workloads']);
    const workloads = top.OrganizationalUnits!.find((o) => o.Name === 'Workloads')!;
    expect(workloads.Id).toMatch(/^ou-[0-9a-z]{4}-[0-9a-z]{8}$/);
    const org = (await orgs.send(new DescribeOrganizationCommand({}))).Organization!;
    expect(org.Id).toMatch(/^o-[0-9a-z]{10}$/);
    expect(workloads.Arn).toBe(`arn:aws:organizations::111111111111:ou/${org.Id}/${workloads.Id}`);
    const nested = await orgs.send(new ListOrganizationalUnitsForParentCommand({ ParentId: workloads.Id }));
    expect(nested.OrganizationalUnits!.map((o) => o.Name)).toEqual(['Production']);
    expect(lz.ou('Workloads/Production')!.id).toBe(nested.OrganizationalUnits![0].Id);

    const missing = await rejection(
      orgs.send(new DescribeOrganizationalUnitCommand({ OrganizationalUnitId: 'ou-abcd-12345678' })),
    );
    expect(missing.name).toBe('OrganizationalUnitNotFoundException');
    // MaxResults is an upper bound: the emulator pages by 5 at most, as Organizations may.
    const inSandbox = await orgs.send(
      new ListAccountsForParentCommand({ ParentId: lz.ou('Sandbox')!.id, MaxResults: 20 }),
    );
    expect(inSandbox.Accounts).toHaveLength(5);
  });

  test('tags, moves and closes accounts', async () => {
    const { clock, lz } = landingZone({ organization: TWELVE });
    const orgs = createClient(OrganizationsClient);
    const a = lz.account('account-1@example.com')!;
    await orgs.send(
      new TagResourceCommand({
        ResourceId: a.id,
        Tags: [
          { Key: 'team', Value: 'a' },
          { Key: 'env', Value: 'dev' },
        ],
      }),
    );
    await orgs.send(new UntagResourceCommand({ ResourceId: a.id, TagKeys: ['env'] }));
    expect((await orgs.send(new ListTagsForResourceCommand({ ResourceId: a.id }))).Tags).toEqual([
      { Key: 'team', Value: 'a' },
    ]);
    expect(lz.account(a.id)!.tags).toEqual({ team: 'a' });

    const sandbox = lz.ou('Sandbox')!.id;
    const workloads = lz.ou('Workloads')!.id;
    await orgs.send(
      new MoveAccountCommand({ AccountId: a.id, SourceParentId: sandbox, DestinationParentId: workloads }),
    );
    expect(lz.account(a.id)!.ouName).toBe('Workloads');
    const again = await rejection(
      orgs.send(
        new MoveAccountCommand({
          AccountId: a.id,
          SourceParentId: workloads,
          DestinationParentId: workloads,
        }),
      ),
    );
    expect(again.name).toBe('DuplicateAccountException');

    await orgs.send(new CloseAccountCommand({ AccountId: a.id }));
    expect((await orgs.send(new DescribeAccountCommand({ AccountId: a.id }))).Account!.Status).toBe(
      'PENDING_CLOSURE',
    );
    await clock.advance(10 * MINUTE);
    expect((await orgs.send(new DescribeAccountCommand({ AccountId: a.id }))).Account!.Status).toBe(
      'SUSPENDED',
    );
  });
});

describe('Control Tower ListEnabledBaselines', () => {
  test('a registered OU has the Control Tower baseline SUCCEEDED; an unregistered one has none', async () => {
    const { lz } = landingZone({ organization: TWELVE });
    const ct = createClient(ControlTowerClient);
    const sandbox = lz.ou('Sandbox')!;
    const parked = lz.ou('Parked')!;
    const registered = await listEnabledBaselines(ct, { filter: { targetIdentifiers: [sandbox.arn] } });
    expect(registered.enabledBaselines).toEqual([
      expect.objectContaining({
        baselineIdentifier: CONTROL_TOWER_BASELINE_ARN,
        targetIdentifier: sandbox.arn,
        statusSummary: { status: 'SUCCEEDED' },
      }),
    ]);
    expect(registered.$metadata.httpStatusCode).toBe(200);
    const none = await listEnabledBaselines(ct, { filter: { targetIdentifiers: [parked.arn] } });
    expect(none.enabledBaselines).toEqual([]);
  });
});
