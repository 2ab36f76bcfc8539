import {
  ListLaunchPathsCommand,
  ListProvisioningArtifactsCommand,
  ProvisionProductCommand,
  ProvisionProductCommandOutput,
  SearchProductsCommand,
  ServiceCatalogClient,
} from '@aws-sdk/client-service-catalog';
import { STSClient } from '@aws-sdk/client-sts';
import { assumeRole, createClient, installClientHook } from '../../../lambda/shared/clients';
import { LandingZone, LandingZoneOptions, ScaledClock } from '../../../local/emulator';

export const START = Date.parse('2026-01-05T09:00:00.000Z');
export const MINUTE = 60_000;

/** A landing zone on a manual clock, installed beneath createClient(). */
export function landingZone(options: Partial<LandingZoneOptions> = {}): {
  clock: ScaledClock;
  lz: LandingZone;
} {
  const clock = options.clock ?? new ScaledClock({ manual: true, start: START });
  const lz = new LandingZone({ seed: 7, ...options, clock });
  installClientHook(lz.hook());
  return { clock, lz };
}

export function uninstall(): void {
  installClientHook(undefined);
}

export interface AccountFactoryIds {
  productId: string;
  artifactId: string;
  pathId: string;
}

/** Finds the Account Factory product, its active version and its launch path, as a handler would. */
export async function accountFactory(sc: ServiceCatalogClient): Promise<AccountFactoryIds> {
  const products = await sc.send(
    new SearchProductsCommand({ Filters: { FullTextSearch: ['AWS Control Tower Account Factory'] } }),
  );
  const productId = products.ProductViewSummaries![0].ProductId!;
  const artifacts = await sc.send(new ListProvisioningArtifactsCommand({ ProductId: productId }));
  const artifactId = artifacts.ProvisioningArtifactDetails!.find(
    (a) => a.Active && a.Guidance === 'DEFAULT',
  )!.Id!;
  const paths = await sc.send(new ListLaunchPathsCommand({ ProductId: productId }));
  return { productId, artifactId, pathId: paths.LaunchPathSummaries![0].Id! };
}

export interface AccountParams {
  name: string;
  email: string;
  ou: string;
  token?: string;
}

export function parameters(p: AccountParams): { Key: string; Value: string }[] {
  return [
    { Key: 'AccountEmail', Value: p.email },
    { Key: 'AccountName', Value: p.name },
    { Key: 'ManagedOrganizationalUnit', Value: p.ou },
    { Key: 'SSOUserEmail', Value: p.email },
    { Key: 'SSOUserFirstName', Value: 'Test' },
    { Key: 'SSOUserLastName', Value: 'User' },
  ];
}

export function provision(
  sc: ServiceCatalogClient,
  ids: AccountFactoryIds,
  p: AccountParams,
): Promise<ProvisionProductCommandOutput> {
  return sc.send(
    new ProvisionProductCommand({
      ProductId: ids.productId,
      ProvisioningArtifactId: ids.artifactId,
      PathId: ids.pathId,
      ProvisionedProductName: p.name.replace(/[^A-Za-z0-9]+/g, '-'),
      ProvisioningParameters: parameters(p),
      ProvisionToken: p.token ?? `token-${p.email.replace(/[^A-Za-z0-9]+/g, '-')}`,
    }),
  );
}

/** Credentials of a role session in `accountId`, through the real STS client. */
export async function credentialsIn(accountId: string, roleName = 'AWSControlTowerExecution') {
  const sts = createClient(STSClient);
  return assumeRole(sts, `arn:aws:iam::${accountId}:role/${roleName}`, 'emulator-test');
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { $fault?: string; $metadata?: unknown }> {
  try {
    await promise;
  } catch (e) {
    return e as Error & { $fault?: string };
  }
  throw new Error('expected the call to fail, it succeeded');
}
