import {
  InvalidParametersException,
  ListLaunchPathsCommand,
  ListProvisioningArtifactsCommand,
  ProvisionProductCommand,
  SearchProductsCommand,
  SearchProvisionedProductsCommand,
  ServiceCatalogClient,
  UpdateProvisionedProductCommand,
} from '@aws-sdk/client-service-catalog';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { handler, provisionAccount } from '../../lambda/provision-account';
import type { Operation } from '../../lambda/shared/contracts';
import { AccountRequestSchema, idempotencyToken, provisionedProductName } from '../../lambda/shared/schema';
import {
  clearAccountFactoryProductCache,
  findAccountFactoryProduct,
} from '../../lambda/shared/service-catalog';

const scMock = mockClient(ServiceCatalogClient);
const ddbMock = mockClient(DynamoDBDocumentClient);
const sc = new ServiceCatalogClient({ region: 'us-east-1' });
const PRODUCT = 'AWS Control Tower Account Factory';

const request = AccountRequestSchema.parse({
  accountEmail: 'dev@example.com',
  accountName: 'Dev Account',
  organizationalUnit: 'Sandbox (ou-abcd-11111111)',
  sso: { email: 'admin@example.com', firstName: 'Ada', lastName: 'Admin' },
});

const payload = (operation: Operation, provisionedProductId: string | null = null) => ({
  state: {
    validation: {
      requestId: 'dev@example.com',
      version: 3,
      operation,
      request,
      accountId: null,
      provisionedProductId,
    },
  },
});

beforeEach(() => {
  scMock.reset();
  clearAccountFactoryProductCache();
  scMock.on(SearchProductsCommand).resolves({
    ProductViewSummaries: [
      { ProductId: 'prod-other', Name: `${PRODUCT} (copy)` },
      { ProductId: 'prod-factory', Name: PRODUCT },
    ],
  });
  scMock.on(ListProvisioningArtifactsCommand).resolves({
    ProvisioningArtifactDetails: [
      { Id: 'pa-old', Active: true, Guidance: 'DEFAULT', CreatedTime: new Date('2023-01-01T00:00:00Z') },
      { Id: 'pa-new', Active: true, Guidance: 'DEFAULT', CreatedTime: new Date('2024-01-01T00:00:00Z') },
      {
        Id: 'pa-deprecated',
        Active: true,
        Guidance: 'DEPRECATED',
        CreatedTime: new Date('2025-01-01T00:00:00Z'),
      },
      {
        Id: 'pa-inactive',
        Active: false,
        Guidance: 'DEFAULT',
        CreatedTime: new Date('2025-06-01T00:00:00Z'),
      },
    ],
  });
  scMock
    .on(ListLaunchPathsCommand)
    .resolves({ LaunchPathSummaries: [{ Id: 'lpv2-factory', Name: 'Portfolio' }] });
  scMock.on(ProvisionProductCommand).resolves({
    RecordDetail: {
      RecordId: 'rec-provision',
      ProvisionedProductId: 'pp-new',
      RecordType: 'PROVISION_PRODUCT',
    },
  });
  scMock.on(UpdateProvisionedProductCommand).resolves({
    RecordDetail: {
      RecordId: 'rec-update',
      ProvisionedProductId: 'pp-existing',
      RecordType: 'UPDATE_PROVISIONED_PRODUCT',
    },
  });
  process.env.ACCOUNT_FACTORY_PRODUCT_NAME = PRODUCT;
});

describe('Account Factory product', () => {
  test('exact name, newest active DEFAULT version, first launch path; looked up once', async () => {
    const first = await findAccountFactoryProduct(sc, PRODUCT);
    const second = await findAccountFactoryProduct(sc, PRODUCT);

    expect(first).toEqual({
      productId: 'prod-factory',
      provisioningArtifactId: 'pa-new',
      pathId: 'lpv2-factory',
    });
    expect(second).toEqual(first);
    expect(scMock.commandCalls(SearchProductsCommand)).toHaveLength(1);
    expect(scMock.commandCalls(SearchProductsCommand)[0].args[0].input.Filters).toEqual({
      FullTextSearch: [PRODUCT],
    });
  });

  test('a missing product is AccountFactoryProductNotFound, and is not cached', async () => {
    scMock
      .on(SearchProductsCommand)
      .resolves({ ProductViewSummaries: [{ ProductId: 'prod-other', Name: 'Something else' }] });

    await expect(findAccountFactoryProduct(sc, PRODUCT)).rejects.toMatchObject({
      name: 'AccountFactoryProductNotFound',
    });
    await expect(findAccountFactoryProduct(sc, PRODUCT)).rejects.toMatchObject({
      name: 'AccountFactoryProductNotFound',
    });
    expect(scMock.commandCalls(SearchProductsCommand)).toHaveLength(2);
  });

  test('a product without an active version is AccountFactoryProductNotFound', async () => {
    scMock
      .on(ListProvisioningArtifactsCommand)
      .resolves({ ProvisioningArtifactDetails: [{ Id: 'pa-x', Active: false }] });

    await expect(findAccountFactoryProduct(sc, PRODUCT)).rejects.toMatchObject({
      name: 'AccountFactoryProductNotFound',
      message: expect.stringContaining('no active provisioning artifact'),
    });
  });
});

describe('provisionAccount', () => {
  test('CREATE provisions the product with the request parameters and a derived token', async () => {
    const result = await provisionAccount(sc, PRODUCT, payload('CREATE'));

    expect(result).toMatchObject({
      recordId: 'rec-provision',
      provisionedProductId: 'pp-new',
      recordType: 'PROVISION_PRODUCT',
    });
    expect(Date.parse(result.startedAt)).not.toBeNaN();
    const input = scMock.commandCalls(ProvisionProductCommand)[0].args[0].input;
    expect(input).toEqual({
      ProductId: 'prod-factory',
      ProvisioningArtifactId: 'pa-new',
      PathId: 'lpv2-factory',
      ProvisionedProductName: provisionedProductName(request),
      ProvisioningParameters: [
        { Key: 'AccountEmail', Value: 'dev@example.com' },
        { Key: 'AccountName', Value: 'Dev Account' },
        { Key: 'ManagedOrganizationalUnit', Value: 'Sandbox (ou-abcd-11111111)' },
        { Key: 'SSOUserEmail', Value: 'admin@example.com' },
        { Key: 'SSOUserFirstName', Value: 'Ada' },
        { Key: 'SSOUserLastName', Value: 'Admin' },
      ],
      ProvisionToken: idempotencyToken('dev@example.com', 3, 'provision'),
    });
  });

  test('a retry of the same request version sends the same token', async () => {
    await provisionAccount(sc, PRODUCT, payload('IMPORT'));
    await provisionAccount(sc, PRODUCT, payload('IMPORT'));

    const tokens = scMock.commandCalls(ProvisionProductCommand).map((c) => c.args[0].input.ProvisionToken);
    expect(tokens[0]).toBe(tokens[1]);
    expect(tokens[0]).toMatch(/^provision-[0-9a-f]{40}$/);
  });

  test('UPDATE updates the known provisioned product with an update token', async () => {
    const result = await provisionAccount(sc, PRODUCT, payload('UPDATE', 'pp-existing'));

    expect(result).toMatchObject({
      recordId: 'rec-update',
      provisionedProductId: 'pp-existing',
      recordType: 'UPDATE_PROVISIONED_PRODUCT',
    });
    const input = scMock.commandCalls(UpdateProvisionedProductCommand)[0].args[0].input;
    expect(input).toMatchObject({
      ProvisionedProductId: 'pp-existing',
      ProductId: 'prod-factory',
      ProvisioningArtifactId: 'pa-new',
      PathId: 'lpv2-factory',
      UpdateToken: idempotencyToken('dev@example.com', 3, 'update'),
    });
    expect(input.ProvisioningParameters).toHaveLength(6);
    expect(scMock.commandCalls(ProvisionProductCommand)).toHaveLength(0);
  });

  test('UPDATE without a known provisioned product finds it by name', async () => {
    scMock.on(SearchProvisionedProductsCommand).resolves({
      ProvisionedProducts: [{ Id: 'pp-found', Name: provisionedProductName(request) }],
    });

    await provisionAccount(sc, PRODUCT, payload('UPDATE'));

    expect(scMock.commandCalls(SearchProvisionedProductsCommand)[0].args[0].input.Filters).toEqual({
      SearchQuery: [`name:${provisionedProductName(request)}`],
    });
    expect(scMock.commandCalls(UpdateProvisionedProductCommand)[0].args[0].input.ProvisionedProductId).toBe(
      'pp-found',
    );
  });

  test('UPDATE of an account without a provisioned product is AccountNotFound', async () => {
    scMock.on(SearchProvisionedProductsCommand).resolves({ ProvisionedProducts: [] });

    await expect(provisionAccount(sc, PRODUCT, payload('UPDATE'))).rejects.toMatchObject({
      name: 'AccountNotFound',
    });
    expect(scMock.commandCalls(UpdateProvisionedProductCommand)).toHaveLength(0);
  });

  test('Control Tower busy becomes ControlTowerBusy (retried by the state machine)', async () => {
    scMock.on(ProvisionProductCommand).rejects(
      new InvalidParametersException({
        message:
          'AWS Control Tower cannot process your request because another AWS Control Tower operation is in progress. Try again later.',
        $metadata: {},
      }),
    );

    await expect(provisionAccount(sc, PRODUCT, payload('CREATE'))).rejects.toMatchObject({
      name: 'ControlTowerBusy',
    });
  });

  test('other Service Catalog errors keep their name', async () => {
    scMock
      .on(ProvisionProductCommand)
      .rejects(new InvalidParametersException({ message: 'AccountEmail is invalid', $metadata: {} }));

    await expect(provisionAccount(sc, PRODUCT, payload('CREATE'))).rejects.toMatchObject({
      name: 'InvalidParametersException',
    });
  });

  test('an operation that does not go through Control Tower is refused', async () => {
    await expect(provisionAccount(sc, PRODUCT, payload('CUSTOMIZE'))).rejects.toMatchObject({
      name: 'InvalidStepInput',
    });
    expect(scMock.commandCalls(ProvisionProductCommand)).toHaveLength(0);
  });
});

describe('handler', () => {
  beforeEach(() => {
    ddbMock.reset();
    ddbMock.on(GetCommand).resolves({ Item: { id: 'dev@example.com', version: 3 } });
    process.env.REQUESTS_TABLE = 'requests';
  });

  test('provisions through the module client with the product named by the environment', async () => {
    const result = await handler(payload('CREATE'));

    expect(ddbMock.commandCalls(GetCommand)[0].args[0].input).toMatchObject({
      TableName: 'requests',
      Key: { id: 'dev@example.com' },
      ConsistentRead: true,
    });
    expect(result.recordId).toBe('rec-provision');
    expect(scMock.commandCalls(SearchProductsCommand)[0].args[0].input.Filters).toEqual({
      FullTextSearch: [PRODUCT],
    });
  });

  test('a version superseded by a newer one never reaches Control Tower', async () => {
    ddbMock.on(GetCommand).resolves({ Item: { id: 'dev@example.com', version: 4 } });

    await expect(handler(payload('CREATE'))).rejects.toMatchObject({
      name: 'StaleRequestVersion',
      message: expect.stringContaining('superseded by version 4'),
    });
    expect(scMock.commandCalls(ProvisionProductCommand)).toHaveLength(0);
  });

  test('a removed request never reaches Control Tower', async () => {
    ddbMock.on(GetCommand).resolves({});

    await expect(handler(payload('CREATE'))).rejects.toMatchObject({ name: 'StaleRequestVersion' });
    expect(scMock.commandCalls(ProvisionProductCommand)).toHaveLength(0);
  });

  test('a payload without validation is InvalidStepInput', async () => {
    await expect(handler({ state: {} })).rejects.toMatchObject({
      name: 'InvalidStepInput',
      message: expect.stringContaining('state.validation'),
    });
  });
});
