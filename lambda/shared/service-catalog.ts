import {
  ListLaunchPathsCommand,
  ListProvisioningArtifactsCommand,
  ProvisionedProductAttribute,
  ProvisioningArtifactDetail,
  SearchProductsCommand,
  SearchProvisionedProductsCommand,
  ServiceCatalogClient,
} from '@aws-sdk/client-service-catalog';
import { now } from './clock';
import { warmCache } from './warm-cache';
import { AccountFactoryProductNotFound } from './errors';

/** The Control Tower Account Factory product in Service Catalog, and the version and launch path to use. */
export interface AccountFactoryProduct {
  productId: string;
  provisioningArtifactId: string;
  pathId: string;
}

/** Control Tower publishes a new product version on landing zone updates: look again after this long. */
const CACHE_MS = 10 * 60 * 1000;
const cache = warmCache<string, { at: number; product: Promise<AccountFactoryProduct> }>();

/** Forgets the cached product (after a landing zone update, and in tests). */
export function clearAccountFactoryProductCache(): void {
  cache.clear();
}

/** Finds the product (cached per module for 10 minutes; a failed look-up is not cached). */
export function findAccountFactoryProduct(
  sc: ServiceCatalogClient,
  productName: string,
): Promise<AccountFactoryProduct> {
  const hit = cache.get(productName);
  if (hit && now().getTime() - hit.at < CACHE_MS) return hit.product;
  const product = lookUp(sc, productName);
  cache.set(productName, { at: now().getTime(), product });
  product.catch(() => cache.delete(productName));
  return product;
}

async function lookUp(sc: ServiceCatalogClient, productName: string): Promise<AccountFactoryProduct> {
  const productId = await findProductId(sc, productName);
  const provisioningArtifactId = await activeArtifactId(sc, productId, productName);
  const pathId = await firstLaunchPathId(sc, productId, productName);
  return { productId, provisioningArtifactId, pathId };
}

async function findProductId(sc: ServiceCatalogClient, productName: string): Promise<string> {
  let PageToken: string | undefined;
  do {
    const out = await sc.send(
      new SearchProductsCommand({ Filters: { FullTextSearch: [productName] }, PageToken }),
    );
    const match = (out.ProductViewSummaries ?? []).find((p) => p.Name === productName && p.ProductId);
    if (match?.ProductId) return match.ProductId;
    PageToken = out.NextPageToken;
  } while (PageToken);
  throw new AccountFactoryProductNotFound(
    `Service Catalog has no product named '${productName}' visible to this role (is the role in the product's portfolio?)`,
  );
}

/** The active version Control Tower recommends (Guidance DEFAULT), else any active non-deprecated one; newest first. */
async function activeArtifactId(
  sc: ServiceCatalogClient,
  productId: string,
  productName: string,
): Promise<string> {
  const out = await sc.send(new ListProvisioningArtifactsCommand({ ProductId: productId }));
  const active = (out.ProvisioningArtifactDetails ?? []).filter(
    (a) => a.Active !== false && a.Id && a.Guidance !== 'DEPRECATED',
  );
  const newest = (list: ProvisioningArtifactDetail[]) =>
    [...list].sort((a, b) => (b.CreatedTime?.getTime() ?? 0) - (a.CreatedTime?.getTime() ?? 0))[0];
  const chosen = newest(active.filter((a) => (a.Guidance ?? 'DEFAULT') === 'DEFAULT')) ?? newest(active);
  if (!chosen?.Id) {
    throw new AccountFactoryProductNotFound(
      `Product '${productName}' (${productId}) has no active provisioning artifact`,
    );
  }
  return chosen.Id;
}

async function firstLaunchPathId(
  sc: ServiceCatalogClient,
  productId: string,
  productName: string,
): Promise<string> {
  const out = await sc.send(new ListLaunchPathsCommand({ ProductId: productId }));
  const id = out.LaunchPathSummaries?.find((p) => p.Id)?.Id;
  if (!id) {
    throw new AccountFactoryProductNotFound(
      `Product '${productName}' (${productId}) has no launch path for this role`,
    );
  }
  return id;
}

/** A provisioned product found by name: its id and status (AVAILABLE, UNDER_CHANGE, TAINTED, ERROR, ...). */
export interface ProvisionedProductRef {
  id: string;
  status: string | undefined;
}

/**
 * The first provisioned product of the account (whoever provisioned it: the console, AFT,
 * another factory role) that matches `query` and `accept`, over every page.
 */
async function searchProvisionedProduct(
  sc: ServiceCatalogClient,
  query: string,
  accept: (p: ProvisionedProductAttribute) => boolean,
): Promise<ProvisionedProductRef | undefined> {
  let PageToken: string | undefined;
  do {
    const out = await sc.send(
      new SearchProvisionedProductsCommand({
        AccessLevelFilter: { Key: 'Account', Value: 'self' },
        Filters: { SearchQuery: [query] },
        PageToken,
      }),
    );
    const match = (out.ProvisionedProducts ?? []).find((p) => p.Id && accept(p));
    if (match?.Id) return { id: match.Id, status: match.Status };
    PageToken = out.NextPageToken;
  } while (PageToken);
  return undefined;
}

/** The provisioned product with exactly this name, or undefined. */
export function findProvisionedProduct(
  sc: ServiceCatalogClient,
  name: string,
): Promise<ProvisionedProductRef | undefined> {
  return searchProvisionedProduct(sc, `name:${name}`, (p) => p.Name === name);
}

/**
 * The Account Factory provisioned product that vended or enrolled an account, if the account
 * is enrolled: AFT finds enrolled accounts this way and skips provisioning them
 * (aft_common/service_catalog.py, get_account_id_if_enrolled: SearchProvisionedProducts with
 * `physicalId:<account id>`, healthy when "Status in ['AVAILABLE', 'TAINTED'] and
 * bool(LastSuccessfulProvisioningRecordId)" - "If LastSuccessfulProvisioningRecordId does
 * not exist, the account was never successfully provisioned";
 * https://github.com/aws-ia/terraform-aws-control_tower_account_factory/blob/main/sources/aft-lambda-layer/aft_common/service_catalog.py).
 */
export function findEnrolledProduct(
  sc: ServiceCatalogClient,
  accountId: string,
): Promise<ProvisionedProductRef | undefined> {
  return searchProvisionedProduct(
    sc,
    `physicalId:${accountId}`,
    (p) =>
      p.PhysicalId === accountId &&
      (p.Status === 'AVAILABLE' || p.Status === 'TAINTED') &&
      Boolean(p.LastSuccessfulProvisioningRecordId),
  );
}

/** The id of the provisioned product with exactly this name, or undefined. */
export async function findProvisionedProductId(
  sc: ServiceCatalogClient,
  name: string,
): Promise<string | undefined> {
  return (await findProvisionedProduct(sc, name))?.id;
}

/** ProvisionProduct refused because a provisioned product already has the name. */
export function isNameTaken(err: unknown): boolean {
  const e = err as Error | undefined;
  return e?.name === 'InvalidParametersException' && /already exists/i.test(e.message ?? '');
}

/**
 * The ways Service Catalog and Control Tower refuse an operation because another one is
 * running (each is retried, never a request failure):
 * - Account Factory (ProvisionProduct, UpdateProvisionedProduct, TerminateProvisionedProduct)
 *   answers InvalidParametersException with a message saying another (AWS Control Tower)
 *   operation is in progress; the wording varies ("because another AWS Control Tower operation
 *   is in progress", "Another operation is in progress for the account ...", "an operation is
 *   already in progress").
 * - Service Catalog refuses to change a provisioned product that is UNDER_CHANGE with
 *   InvalidStateException: "An attempt was made to modify a resource that is in a state that
 *   is not valid. Check your resources to ensure that they are in valid states before retrying
 *   the operation."
 *   https://docs.aws.amazon.com/servicecatalog/latest/dg/API_UpdateProvisionedProduct.html (Errors)
 *   https://docs.aws.amazon.com/servicecatalog/latest/dg/API_ProvisionedProductAttribute.html
 *   ("UNDER_CHANGE - Transitive state. ... Wait for an AVAILABLE status before performing operations.")
 * - The Control Tower API answers ConflictException: "Updating or deleting the resource can
 *   cause an inconsistent state."
 *   https://docs.aws.amazon.com/controltower/latest/APIReference/CommonErrors.html
 *   https://docs.aws.amazon.com/controltower/latest/userguide/limits.html ("In general, one
 *   operation at a time is permitted ... up to five (5) account-related operations in progress")
 */
const IN_PROGRESS =
  /\b(another|an(other)?|one)\s+(aws\s+)?(control\s*tower\s+)?(account\s+)?operation\s+(is\s+)?(already\s+|currently\s+|still\s+)?(in\s+progress|running|underway)/i;
const BUSY_ERROR_NAMES = new Set(['InvalidStateException', 'ConflictException']);

/** Whether Service Catalog or Control Tower refused the call because another operation is running. */
export function isControlTowerBusy(err: unknown): boolean {
  const e = err as Error | undefined;
  if (!e?.name) return false;
  if (BUSY_ERROR_NAMES.has(e.name)) return true;
  return (
    (e.name === 'InvalidParametersException' || e.name === 'ValidationException') &&
    IN_PROGRESS.test(e.message ?? '')
  );
}
