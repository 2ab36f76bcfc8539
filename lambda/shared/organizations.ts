import {
  Account,
  DescribeOrganizationalUnitCommand,
  ListAccountsCommand,
  ListOrganizationalUnitsForParentCommand,
  ListRootsCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import type { ControlTowerClient } from '@aws-sdk/client-controltower';
import { listEnabledBaselines } from './control-tower';

/** Organizations and Control Tower look-ups shared by the steps. */

export interface AccountSummary {
  id: string;
  arn: string;
  email: string;
  name: string;
  status: string;
}

export interface OrganizationalUnitSummary {
  id: string;
  arn: string;
  name: string;
  parentId: string;
}

function toAccount(a: Account): AccountSummary {
  return {
    id: a.Id ?? '',
    arn: a.Arn ?? '',
    email: a.Email ?? '',
    name: a.Name ?? '',
    status: String(a.State ?? a.Status ?? ''),
  };
}

/** Every account of the organization (ListAccounts, all pages). */
export async function listAllAccounts(org: OrganizationsClient): Promise<AccountSummary[]> {
  const accounts: AccountSummary[] = [];
  let NextToken: string | undefined;
  do {
    const out = await org.send(new ListAccountsCommand({ NextToken }));
    accounts.push(...(out.Accounts ?? []).map(toAccount));
    NextToken = out.NextToken;
  } while (NextToken);
  return accounts;
}

/** The account with this email (case-insensitive), from a listing or from Organizations. */
export async function findAccountByEmail(
  org: OrganizationsClient,
  email: string,
  accounts?: AccountSummary[],
): Promise<AccountSummary | undefined> {
  const wanted = email.trim().toLowerCase();
  return (accounts ?? (await listAllAccounts(org))).find((a) => a.email.toLowerCase() === wanted);
}

/** Accounts that are closing or closed keep their email but no longer count as a name in use. */
export function isOpen(account: AccountSummary): boolean {
  return !['SUSPENDED', 'PENDING_CLOSURE', 'CLOSED'].includes(account.status);
}

/** Every OU of the organization, walked from the roots (all pages). */
export async function listAllOrganizationalUnits(
  org: OrganizationsClient,
): Promise<OrganizationalUnitSummary[]> {
  const roots: string[] = [];
  let NextToken: string | undefined;
  do {
    const out = await org.send(new ListRootsCommand({ NextToken }));
    roots.push(...(out.Roots ?? []).map((r) => r.Id ?? '').filter(Boolean));
    NextToken = out.NextToken;
  } while (NextToken);

  const units: OrganizationalUnitSummary[] = [];
  const parents = [...roots];
  while (parents.length) {
    const parentId = parents.shift() as string;
    let token: string | undefined;
    do {
      const out = await org.send(
        new ListOrganizationalUnitsForParentCommand({ ParentId: parentId, NextToken: token }),
      );
      for (const ou of out.OrganizationalUnits ?? []) {
        if (!ou.Id) continue;
        units.push({ id: ou.Id, arn: ou.Arn ?? '', name: ou.Name ?? '', parentId });
        parents.push(ou.Id);
      }
      token = out.NextToken;
    } while (token);
  }
  return units;
}

/** One OU by id, or undefined when it does not exist. */
export async function describeOrganizationalUnit(
  org: OrganizationsClient,
  id: string,
): Promise<{ id: string; arn: string; name: string } | undefined> {
  try {
    const out = await org.send(new DescribeOrganizationalUnitCommand({ OrganizationalUnitId: id }));
    const ou = out.OrganizationalUnit;
    return ou?.Id ? { id: ou.Id, arn: ou.Arn ?? '', name: ou.Name ?? '' } : undefined;
  } catch (err) {
    if ((err as Error).name === 'OrganizationalUnitNotFoundException') return undefined;
    throw err;
  }
}

/**
 * Whether Control Tower governs the OU: at least one baseline (AWSControlTowerBaseline)
 * enabled on it with status SUCCEEDED.
 */
export async function isRegisteredWithControlTower(ct: ControlTowerClient, ouArn: string): Promise<boolean> {
  let nextToken: string | undefined;
  do {
    const out = await listEnabledBaselines(ct, { filter: { targetIdentifiers: [ouArn] }, nextToken });
    const onTarget = out.enabledBaselines.filter((b) => !b.targetIdentifier || b.targetIdentifier === ouArn);
    if (onTarget.some((b) => b.statusSummary?.status === 'SUCCEEDED')) return true;
    nextToken = out.nextToken;
  } while (nextToken);
  return false;
}

/** Whether Control Tower reports the account's enabled baseline in inheritance drift (its child baselines). */
export async function hasBaselineDrift(ct: ControlTowerClient, accountArn: string): Promise<boolean> {
  let nextToken: string | undefined;
  do {
    const out = await listEnabledBaselines(ct, {
      filter: { targetIdentifiers: [accountArn] },
      includeChildren: true,
      nextToken,
    });
    if (out.enabledBaselines.some((b) => b.driftStatusSummary?.types?.inheritance?.status === 'DRIFTED'))
      return true;
    nextToken = out.nextToken;
  } while (nextToken);
  return false;
}
