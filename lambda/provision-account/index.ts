import {
  ProvisionProductCommand,
  RecordDetail,
  SearchProvisionedProductsCommand,
  ServiceCatalogClient,
  UpdateProvisionedProductCommand,
} from '@aws-sdk/client-service-catalog';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { STSClient } from '@aws-sdk/client-sts';
import { z } from 'zod';
import { createClient } from '../shared/clients';
import { nowIso } from '../shared/clock';
import { OPERATIONS, type ProvisioningResult } from '../shared/contracts';
import { requireEnv } from '../shared/env';
import { AccountNotFound, ControlTowerBusy, StaleRequestVersion } from '../shared/errors';
import { InvalidStepInput, parseInput } from '../shared/input';
import { createLogger } from '../shared/logger';
import { OperationSlotSchema, underSlot } from '../shared/operation-slot';
import { createManagementClients } from '../shared/management';
import {
  AccountRequestSchema,
  controlTowerParameters,
  idempotencyToken,
  provisionedProductName,
} from '../shared/schema';
import {
  findAccountFactoryProduct,
  findProvisionedProduct,
  findProvisionedProductId,
  isControlTowerBusy,
  isNameTaken,
} from '../shared/service-catalog';

/**
 * Provision account (step 2, inside the semaphore): starts the Control Tower
 * operation through Service Catalog. CREATE and IMPORT provision the Account Factory
 * product, UPDATE updates the account's provisioned product. The tokens are derived
 * from the request id and version, so a retried step never starts a second operation.
 */

const logger = createLogger('provision-account');
const management = createManagementClients(createClient(STSClient));
const ddb = DynamoDBDocumentClient.from(createClient(DynamoDBClient));

const PayloadSchema = z.object({
  state: z.object({
    validation: z.object({
      requestId: z.string().min(1),
      version: z.number().int().nonnegative(),
      operation: z.enum(OPERATIONS),
      request: AccountRequestSchema,
      provisionedProductId: z.string().min(1).nullable(),
    }),
  }),
});
type Payload = z.infer<typeof PayloadSchema>;

function toResult(
  detail: RecordDetail | undefined,
  fallbackProductId: string | undefined,
  what: string,
): ProvisioningResult {
  if (!detail?.RecordId) throw new Error(`${what} returned no record`);
  const provisionedProductId = detail.ProvisionedProductId ?? fallbackProductId;
  if (!provisionedProductId) throw new Error(`${what} returned no provisioned product id`);
  return {
    recordId: detail.RecordId,
    provisionedProductId,
    recordType:
      detail.RecordType === 'UPDATE_PROVISIONED_PRODUCT' ? 'UPDATE_PROVISIONED_PRODUCT' : 'PROVISION_PRODUCT',
    startedAt: nowIso(),
  };
}

/** Control Tower refuses a second concurrent operation: a named error the state machine retries with backoff. */
async function guardBusy<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (isControlTowerBusy(err)) throw new ControlTowerBusy((err as Error).message);
    throw err;
  }
}

export async function provisionAccount(
  sc: ServiceCatalogClient,
  productName: string,
  payload: Payload,
): Promise<ProvisioningResult> {
  const v = payload.state.validation;
  const product = await findAccountFactoryProduct(sc, productName);
  const name = provisionedProductName(v.request);
  const ProvisioningParameters = Object.entries(controlTowerParameters(v.request)).map(([Key, Value]) => ({
    Key,
    Value,
  }));

  switch (v.operation) {
    case 'CREATE':
    case 'IMPORT': {
      // An earlier version of this request, under another account name, provisioned (or
      // is still provisioning) the account: this version is applied to that product,
      // waiting (ControlTowerBusy) while its operation runs. A second ProvisionProduct
      // would be refused and leave the account under the old name.
      const earlier = await findEarlierProvisionedProduct(sc, name);
      if (earlier) {
        const out = await guardBusy(() =>
          sc.send(
            new UpdateProvisionedProductCommand({
              ProvisionedProductId: earlier.id,
              ProductId: product.productId,
              ProvisioningArtifactId: product.provisioningArtifactId,
              PathId: product.pathId,
              ProvisioningParameters,
              UpdateToken: idempotencyToken(v.requestId, v.version, 'provision-again'),
            }),
          ),
        );
        return toResult(out.RecordDetail, earlier.id, 'UpdateProvisionedProduct');
      }
      try {
        const out = await guardBusy(() =>
          sc.send(
            new ProvisionProductCommand({
              ProductId: product.productId,
              ProvisioningArtifactId: product.provisioningArtifactId,
              PathId: product.pathId,
              ProvisionedProductName: name,
              ProvisioningParameters,
              ProvisionToken: idempotencyToken(v.requestId, v.version, 'provision'),
            }),
          ),
        );
        return toResult(out.RecordDetail, undefined, 'ProvisionProduct');
      } catch (err) {
        if (!isNameTaken(err)) throw err;
        // The account's provisioned product exists already (its name is derived from the
        // request): an earlier attempt that Control Tower failed left it in ERROR, or an
        // earlier version of this request created it, or is creating it now. This version's
        // parameters are applied by updating that product; while another operation still
        // runs on it, Service Catalog refuses the update and the step waits (ControlTowerBusy).
        const leftover = await findProvisionedProduct(sc, name);
        if (!leftover) throw err;
        const out = await guardBusy(() =>
          sc.send(
            new UpdateProvisionedProductCommand({
              ProvisionedProductId: leftover.id,
              ProductId: product.productId,
              ProvisioningArtifactId: product.provisioningArtifactId,
              PathId: product.pathId,
              ProvisioningParameters,
              UpdateToken: idempotencyToken(v.requestId, v.version, 'provision-again'),
            }),
          ),
        );
        return toResult(out.RecordDetail, leftover.id, 'UpdateProvisionedProduct');
      }
    }
    case 'UPDATE': {
      const provisionedProductId = v.provisionedProductId ?? (await findProvisionedProductId(sc, name));
      if (!provisionedProductId) {
        throw new AccountNotFound(
          `The account of ${v.requestId} has no Service Catalog provisioned product (looked for '${name}'); it cannot be updated through Control Tower`,
        );
      }
      const out = await guardBusy(() =>
        sc.send(
          new UpdateProvisionedProductCommand({
            ProvisionedProductId: provisionedProductId,
            ProductId: product.productId,
            ProvisioningArtifactId: product.provisioningArtifactId,
            PathId: product.pathId,
            ProvisioningParameters,
            UpdateToken: idempotencyToken(v.requestId, v.version, 'update'),
          }),
        ),
      );
      return toResult(out.RecordDetail, provisionedProductId, 'UpdateProvisionedProduct');
    }
    default:
      throw new InvalidStepInput(
        `Provision account: operation ${v.operation} does not go through Control Tower`,
      );
  }
}

/**
 * The provisioned product of this request under another name (the account name of an
 * earlier version): product names end with a hash of the request id, which edits keep.
 */
export async function findEarlierProvisionedProduct(
  sc: ServiceCatalogClient,
  name: string,
): Promise<{ id: string; name: string } | undefined> {
  const suffix = name.slice(name.lastIndexOf('-'));
  let PageToken: string | undefined;
  do {
    const out = await sc.send(
      new SearchProvisionedProductsCommand({
        AccessLevelFilter: { Key: 'Account', Value: 'self' },
        Filters: { SearchQuery: [suffix.slice(1)] },
        PageToken,
      }),
    );
    const match = (out?.ProvisionedProducts ?? []).find(
      (p) => p.Id && p.Name && p.Name !== name && p.Name.endsWith(suffix),
    );
    if (match?.Id && match.Name) return { id: match.Id, name: match.Name };
    PageToken = out?.NextPageToken;
  } while (PageToken);
  return undefined;
}

/**
 * An older version of a request must not reach Control Tower after a newer one was
 * written (two edits in quick succession, or an edit while the first version waited
 * for a slot): the newer execution applies the request; this one stops, superseded.
 * A removed request is superseded by its removal.
 */
export async function assertLatestVersion(
  client: DynamoDBDocumentClient,
  table: string,
  requestId: string,
  version: number,
): Promise<void> {
  const out = await client.send(
    new GetCommand({
      TableName: table,
      Key: { id: requestId },
      ProjectionExpression: '#v',
      ExpressionAttributeNames: { '#v': 'version' },
      ConsistentRead: true,
    }),
  );
  const latest = out.Item?.version === undefined ? undefined : Number(out.Item.version);
  if (latest === undefined) {
    throw new StaleRequestVersion(
      `Request ${requestId} version ${version} was superseded: the request was removed`,
    );
  }
  if (latest > version) {
    throw new StaleRequestVersion(
      `Request ${requestId} version ${version} was superseded by version ${latest}, which applies the request`,
    );
  }
}

export async function handler(event: unknown): Promise<ProvisioningResult> {
  const payload = parseInput(PayloadSchema, event, 'Provision account');
  const { requestId, version } = payload.state.validation;
  await assertLatestVersion(ddb, requireEnv('REQUESTS_TABLE'), requestId, version);
  const result = await underSlot(parseInput(OperationSlotSchema, event, 'Provision account'), () =>
    provisionAccount(management.serviceCatalog, requireEnv('ACCOUNT_FACTORY_PRODUCT_NAME'), payload),
  );
  logger.info('Control Tower operation started', {
    requestId: payload.state.validation.requestId,
    operation: payload.state.validation.operation,
    ...result,
  });
  return result;
}
