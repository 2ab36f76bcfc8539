import { ControlTowerClient } from '@aws-sdk/client-controltower';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeOrganizationalUnitCommand,
  ListAccountsCommand,
  ListOrganizationalUnitsForParentCommand,
  ListParentsCommand,
  ListRootsCommand,
  OrganizationalUnitNotFoundException,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import {
  ProvisionedProductStatus,
  SearchProvisionedProductsCommand,
  ServiceCatalogClient,
} from '@aws-sdk/client-service-catalog';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { AwsStub, mockClient } from 'aws-sdk-client-mock';
import { ListEnabledBaselinesCommand } from '../../lambda/shared/control-tower';
import type { WorkflowState } from '../../lambda/shared/contracts';
import type { MetadataItem } from '../../lambda/shared/metadata';
import { handler, validateRequest } from '../../lambda/validate-request';

const orgMock = mockClient(OrganizationsClient);
// Control Tower client 3.332 (and the command added beside it) predate the smithy types
// aws-sdk-client-mock is written against: mock them untyped.
const ctMock: AwsStub<any, any, any> = mockClient(ControlTowerClient as any);
const Baselines = ListEnabledBaselinesCommand as any;
const ddbMock = mockClient(DynamoDBDocumentClient);
const scMock = mockClient(ServiceCatalogClient);

const clients = {
  organizations: new OrganizationsClient({ region: 'us-east-1' }),
  controlTower: new ControlTowerClient({ region: 'us-east-1' }),
  serviceCatalog: new ServiceCatalogClient({ region: 'us-east-1' }),
  metadata: {
    doc: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
    tableName: 'metadata',
    emailIndexName: 'email-index',
  },
};

const ouArn = (id: string) => `arn:aws:organizations::999999999999:ou/o-example/${id}`;
const SANDBOX = 'ou-abcd-11111111';
const WORKLOADS = 'ou-abcd-22222222';
const DUP_A = 'ou-abcd-33333333';
const DUP_B = 'ou-abcd-44444444';

const request = (overrides: Record<string, unknown> = {}) => ({
  accountEmail: 'dev@example.com',
  accountName: 'Dev',
  organizationalUnit: 'Sandbox',
  sso: { email: 'admin@example.com', firstName: 'Ada', lastName: 'Admin' },
  ...overrides,
});

const payload = (state: Partial<WorkflowState>) => ({
  state: {
    requestId: 'dev@example.com',
    version: 2,
    eventName: 'INSERT',
    request: request(),
    previous: null,
    ...state,
  } as WorkflowState,
  execution: {
    id: 'arn:aws:states:us-east-1:111111111111:execution:provisioning:x',
    startTime: '2024-01-01T00:00:00.000Z',
  },
});

const account = (id: string, email: string, name: string, state = 'ACTIVE') =>
  ({
    Id: id,
    Arn: `arn:aws:organizations::999999999999:account/o-example/${id}`,
    Email: email,
    Name: name,
    State: state,
  }) as never;

function metadataItem(overrides: Partial<MetadataItem> = {}): MetadataItem {
  return {
    accountId: '333333333333',
    email: 'dev@example.com',
    accountName: 'Dev',
    requestId: 'dev@example.com',
    requestVersion: 1,
    request: request() as never,
    organizationalUnit: { id: SANDBOX, name: 'Sandbox' },
    provisionedProductId: 'pp-devexample01',
    status: 'ACTIVE',
    lastOperation: 'CREATE',
    lastExecutionArn: 'arn:x',
    lastOutcome: 'SUCCEEDED',
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
    ...overrides,
  };
}

beforeEach(() => {
  orgMock.reset();
  ctMock.reset();
  ddbMock.reset();
  scMock.reset();
  scMock.on(SearchProvisionedProductsCommand).resolves({ ProvisionedProducts: [] });
  orgMock.on(ListRootsCommand).resolves({ Roots: [{ Id: 'r-abcd', Name: 'Root' }] });
  // The root's OUs come in two pages; Workloads has two children of the same name.
  orgMock
    .on(ListOrganizationalUnitsForParentCommand, { ParentId: 'r-abcd', NextToken: undefined })
    .resolves({
      OrganizationalUnits: [{ Id: SANDBOX, Name: 'Sandbox', Arn: ouArn(SANDBOX) }],
      NextToken: 'page-2',
    })
    .on(ListOrganizationalUnitsForParentCommand, { ParentId: 'r-abcd', NextToken: 'page-2' })
    .resolves({ OrganizationalUnits: [{ Id: WORKLOADS, Name: 'Workloads', Arn: ouArn(WORKLOADS) }] })
    .on(ListOrganizationalUnitsForParentCommand, { ParentId: WORKLOADS })
    .resolves({
      OrganizationalUnits: [
        { Id: DUP_A, Name: 'Team', Arn: ouArn(DUP_A) },
        { Id: DUP_B, Name: 'Team', Arn: ouArn(DUP_B) },
      ],
    })
    .on(ListOrganizationalUnitsForParentCommand, { ParentId: SANDBOX })
    .resolves({ OrganizationalUnits: [] })
    .on(ListOrganizationalUnitsForParentCommand, { ParentId: DUP_A })
    .resolves({ OrganizationalUnits: [] })
    .on(ListOrganizationalUnitsForParentCommand, { ParentId: DUP_B })
    .resolves({ OrganizationalUnits: [] });
  orgMock
    .on(DescribeOrganizationalUnitCommand)
    .rejects(new OrganizationalUnitNotFoundException({ message: 'not found', $metadata: {} }));
  orgMock
    .on(DescribeOrganizationalUnitCommand, { OrganizationalUnitId: DUP_B })
    .resolves({ OrganizationalUnit: { Id: DUP_B, Name: 'Team', Arn: ouArn(DUP_B) } });
  orgMock
    .on(ListAccountsCommand, { NextToken: undefined })
    .resolves({
      Accounts: [account('111111111111', 'existing@example.com', 'Existing')],
      NextToken: 'accounts-2',
    })
    .on(ListAccountsCommand, { NextToken: 'accounts-2' })
    .resolves({ Accounts: [account('222222222222', 'taken@example.com', 'Taken')] });
  ctMock.on(Baselines).resolves({ enabledBaselines: [] });
  for (const id of [SANDBOX, DUP_B]) {
    ctMock.on(Baselines, { filter: { targetIdentifiers: [ouArn(id)] } }).resolves({
      enabledBaselines: [
        {
          arn: `arn:aws:controltower:us-east-1:999999999999:enabledbaseline/${id}`,
          baselineIdentifier: 'arn:aws:controltower:us-east-1::baseline/17BSJV3IGJ2QSGA2',
          targetIdentifier: ouArn(id),
          statusSummary: { status: 'SUCCEEDED' },
        },
      ],
    });
  }
  ddbMock.on(QueryCommand).resolves({ Items: [] });
  process.env.METADATA_TABLE = 'metadata';
  process.env.METADATA_EMAIL_INDEX = 'email-index';
});

describe('new requests', () => {
  test('an unknown email and name in a registered OU is a CREATE', async () => {
    const result = await validateRequest(clients, payload({}));

    expect(result).toMatchObject({
      requestId: 'dev@example.com',
      version: 2,
      operation: 'CREATE',
      accountId: null,
      provisionedProductId: null,
      organizationalUnit: { id: SANDBOX, name: 'Sandbox' },
      controlTowerChanges: [],
    });
    expect(result.request.accountEmail).toBe('dev@example.com');
    expect(Date.parse(result.validatedAt)).not.toBeNaN();
    expect(ctMock.commandCalls(Baselines)[0].args[0].input).toEqual({
      filter: { targetIdentifiers: [ouArn(SANDBOX)] },
    });
  });

  test('an OU given as "Name (ou-id)" is found by id, even among OUs of the same name', async () => {
    const result = await validateRequest(
      clients,
      payload({ request: request({ organizationalUnit: `Team (${DUP_B})` }) }),
    );

    expect(result.organizationalUnit).toEqual({ id: DUP_B, name: 'Team' });
  });

  test('an invalid request names each bad field, the first one leading the message', async () => {
    const bad = request({
      accountEmail: 'not-an-email',
      sso: { email: 'admin@example.com', firstName: '', lastName: 'Admin' },
    });

    const error = await validateRequest(clients, payload({ request: bad })).catch((e) => e);

    expect(error.name).toBe('InvalidAccountRequest');
    expect(error.message).toMatch(/^accountEmail: /);
    expect(error.message).toContain('sso.firstName: ');
    expect(orgMock.calls()).toHaveLength(0);
  });

  test('a request whose email is not its request id is refused', async () => {
    await expect(validateRequest(clients, payload({ requestId: 'other@example.com' }))).rejects.toMatchObject(
      {
        name: 'InvalidAccountRequest',
        message: expect.stringMatching(/^accountEmail: /),
      },
    );
  });

  test('an unknown OU is OrganizationalUnitNotFound', async () => {
    await expect(
      validateRequest(clients, payload({ request: request({ organizationalUnit: 'Nowhere' }) })),
    ).rejects.toMatchObject({
      name: 'OrganizationalUnitNotFound',
      message: expect.stringContaining("'Nowhere'"),
    });
  });

  test('an OU id whose name does not match is OrganizationalUnitNotFound', async () => {
    await expect(
      validateRequest(clients, payload({ request: request({ organizationalUnit: `Sandbox (${DUP_B})` }) })),
    ).rejects.toMatchObject({
      name: 'OrganizationalUnitNotFound',
      message: expect.stringContaining("named 'Team'"),
    });
  });

  test('an OU name that several OUs share must be given with its id', async () => {
    await expect(
      validateRequest(clients, payload({ request: request({ organizationalUnit: 'Team' }) })),
    ).rejects.toMatchObject({
      name: 'InvalidAccountRequest',
      message: expect.stringMatching(/^organizationalUnit: 2 OUs are named 'Team'.*Team \(ou-id\)/),
    });
  });

  test('an OU that Control Tower does not govern is OrganizationalUnitNotRegistered', async () => {
    await expect(
      validateRequest(clients, payload({ request: request({ organizationalUnit: 'Workloads' }) })),
    ).rejects.toMatchObject({
      name: 'OrganizationalUnitNotRegistered',
      message: expect.stringContaining(WORKLOADS),
    });
  });

  test('an email used by an unmanaged account with another name is EmailInUse, telling how to import', async () => {
    const r = request({ accountEmail: 'existing@example.com', accountName: 'Something Else' });

    const error = await validateRequest(
      clients,
      payload({ requestId: 'existing@example.com', request: r }),
    ).catch((e) => e);

    expect(error.name).toBe('EmailInUse');
    expect(error.message).toBe(
      "accountEmail: existing@example.com is used by account 111111111111 named 'Existing'; to import that account, set accountName to 'Existing'",
    );
  });

  test('an unmanaged account with the same email and name is an IMPORT', async () => {
    const r = request({ accountEmail: 'Existing@Example.com', accountName: 'Existing' });

    const result = await validateRequest(clients, payload({ requestId: 'existing@example.com', request: r }));

    expect(result).toMatchObject({
      operation: 'IMPORT',
      accountId: '111111111111',
      provisionedProductId: null,
    });
  });

  describe('an account Account Factory or AFT vended earlier (enrolled)', () => {
    const r = request({ accountEmail: 'existing@example.com', accountName: 'Existing' });
    const enrolled = (status: string, lastSuccess: string | undefined = 'rec-1') =>
      scMock
        .on(SearchProvisionedProductsCommand, {
          Filters: { SearchQuery: ['physicalId:111111111111'] },
        })
        .resolves({
          ProvisionedProducts: [
            {
              Id: 'pp-vendedearlier',
              Name: 'Existing',
              PhysicalId: '111111111111',
              Status: status as ProvisionedProductStatus,
              LastSuccessfulProvisioningRecordId: lastSuccess,
            },
          ],
        });

    test('in the requested OU: ADOPT, with its provisioned product, no Control Tower operation', async () => {
      enrolled('AVAILABLE');
      orgMock.on(ListParentsCommand, { ChildId: '111111111111' }).resolves({
        Parents: [{ Id: SANDBOX, Type: 'ORGANIZATIONAL_UNIT' }],
      });

      const result = await validateRequest(
        clients,
        payload({ requestId: 'existing@example.com', request: r }),
      );

      expect(result).toMatchObject({
        operation: 'ADOPT',
        accountId: '111111111111',
        provisionedProductId: 'pp-vendedearlier',
        controlTowerChanges: [],
      });
      expect(scMock.commandCalls(SearchProvisionedProductsCommand)[0].args[0].input).toMatchObject({
        AccessLevelFilter: { Key: 'Account', Value: 'self' },
        Filters: { SearchQuery: ['physicalId:111111111111'] },
      });
    });

    test('TAINTED counts as enrolled, as in AFT', async () => {
      enrolled('TAINTED');
      orgMock.on(ListParentsCommand).resolves({ Parents: [{ Id: SANDBOX, Type: 'ORGANIZATIONAL_UNIT' }] });

      const result = await validateRequest(
        clients,
        payload({ requestId: 'existing@example.com', request: r }),
      );

      expect(result.operation).toBe('ADOPT');
    });

    test('in another OU: an UPDATE of its provisioned product (the move is a Control Tower operation)', async () => {
      enrolled('AVAILABLE');
      orgMock.on(ListParentsCommand).resolves({ Parents: [{ Id: WORKLOADS, Type: 'ORGANIZATIONAL_UNIT' }] });

      const result = await validateRequest(
        clients,
        payload({ requestId: 'existing@example.com', request: r }),
      );

      expect(result).toMatchObject({
        operation: 'UPDATE',
        provisionedProductId: 'pp-vendedearlier',
        controlTowerChanges: ['ManagedOrganizationalUnit'],
      });
    });

    test('a product that never provisioned successfully is not an enrollment: IMPORT', async () => {
      enrolled('ERROR', undefined);

      const result = await validateRequest(
        clients,
        payload({ requestId: 'existing@example.com', request: r }),
      );

      expect(result.operation).toBe('IMPORT');
    });
  });

  test('a name another account already has is AccountNameInUse', async () => {
    await expect(
      validateRequest(clients, payload({ request: request({ accountName: 'Taken' }) })),
    ).rejects.toMatchObject({
      name: 'AccountNameInUse',
      message: expect.stringMatching(/^accountName: 'Taken' .*222222222222/),
    });
  });

  test('a closed account does not hold its name', async () => {
    orgMock
      .on(ListAccountsCommand)
      .resolves({ Accounts: [account('444444444444', 'old@example.com', 'Dev', 'SUSPENDED')] });

    const result = await validateRequest(clients, payload({}));

    expect(result.operation).toBe('CREATE');
  });
});

describe('managed accounts', () => {
  beforeEach(() => {
    ddbMock.on(QueryCommand).resolves({ Items: [metadataItem()] });
    orgMock
      .on(ListAccountsCommand)
      .resolves({ Accounts: [account('333333333333', 'dev@example.com', 'Dev')] });
    orgMock
      .on(ListParentsCommand, { ChildId: '333333333333' })
      .resolves({ Parents: [{ Id: SANDBOX, Type: 'ORGANIZATIONAL_UNIT' }] });
  });

  test('an account moved to another OU by hand (drift): UPDATE, to enroll it again where the request says', async () => {
    orgMock
      .on(ListParentsCommand, { ChildId: '333333333333' })
      .resolves({ Parents: [{ Id: WORKLOADS, Type: 'ORGANIZATIONAL_UNIT' }] });

    const result = await validateRequest(clients, payload({ eventName: 'MODIFY', request: request() }));

    expect(result).toMatchObject({ operation: 'UPDATE', controlTowerChanges: ['ManagedOrganizationalUnit'] });
  });

  test('an account renamed by hand, or whose baseline Control Tower reports drifted: UPDATE', async () => {
    const accountArn = 'arn:aws:organizations::999999999999:account/o-example/333333333333';
    orgMock
      .on(ListAccountsCommand)
      .resolves({ Accounts: [account('333333333333', 'dev@example.com', 'Renamed by hand')] });
    ctMock.on(Baselines, { filter: { targetIdentifiers: [accountArn] }, includeChildren: true }).resolves({
      enabledBaselines: [
        {
          arn: 'arn:aws:controltower:us-east-1:999999999999:enabledbaseline/CHILD0000000001',
          baselineIdentifier: 'arn:aws:controltower:us-east-1::baseline/17BSJV3IGJ2QSGA2',
          targetIdentifier: accountArn,
          statusSummary: { status: 'SUCCEEDED' },
          driftStatusSummary: { types: { inheritance: { status: 'DRIFTED' } } },
        },
      ],
    });

    const result = await validateRequest(clients, payload({ eventName: 'MODIFY', request: request() }));

    expect(result.operation).toBe('UPDATE');
    expect(result.controlTowerChanges).toEqual(['AccountName', 'ControlTowerBaseline']);
  });

  test('no Control Tower parameter changed: CUSTOMIZE', async () => {
    const result = await validateRequest(
      clients,
      payload({ eventName: 'MODIFY', request: request({ tags: { team: 'blue' } }) }),
    );

    expect(result).toMatchObject({
      operation: 'CUSTOMIZE',
      accountId: '333333333333',
      provisionedProductId: 'pp-devexample01',
      controlTowerChanges: [],
    });
    expect(ddbMock.commandCalls(QueryCommand)[0].args[0].input).toMatchObject({
      TableName: 'metadata',
      IndexName: 'email-index',
      ExpressionAttributeValues: { ':email': 'dev@example.com' },
    });
  });

  test('a Control Tower parameter changed: UPDATE, naming the changes', async () => {
    const result = await validateRequest(
      clients,
      payload({
        eventName: 'MODIFY',
        request: request({ organizationalUnit: `Team (${DUP_B})`, accountName: 'Dev Renamed' }),
      }),
    );

    expect(result.operation).toBe('UPDATE');
    expect(result.controlTowerChanges.sort()).toEqual(['AccountName', 'ManagedOrganizationalUnit']);
  });

  test('a REMOVED metadata item does not make the account managed: same name imports it again', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [metadataItem({ status: 'REMOVED' })] });

    const result = await validateRequest(clients, payload({}));

    expect(result).toMatchObject({ operation: 'IMPORT', accountId: '333333333333' });
  });
});

describe('removal', () => {
  test('REMOVE finds the managed account from the previous request', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [metadataItem()] });

    const result = await validateRequest(
      clients,
      payload({ eventName: 'REMOVE', request: null, previous: request() }),
    );

    expect(result).toMatchObject({
      operation: 'REMOVE',
      accountId: '333333333333',
      provisionedProductId: 'pp-devexample01',
      organizationalUnit: { id: SANDBOX, name: 'Sandbox' },
    });
  });

  test('REMOVE of an unmanaged account falls back to Organizations by email', async () => {
    const previous = request({ accountEmail: 'taken@example.com', accountName: 'Taken' });

    const result = await validateRequest(
      clients,
      payload({ requestId: 'taken@example.com', eventName: 'REMOVE', request: null, previous }),
    );

    expect(result).toMatchObject({
      operation: 'REMOVE',
      accountId: '222222222222',
      provisionedProductId: null,
    });
  });

  test('REMOVE of an account that exists nowhere is AccountNotFound', async () => {
    await expect(
      validateRequest(
        clients,
        payload({
          eventName: 'REMOVE',
          request: null,
          previous: request({ accountEmail: 'ghost@example.com' }),
        }),
      ),
    ).rejects.toMatchObject({ name: 'AccountNotFound' });
  });

  test('REMOVE with an unreadable previous request is InvalidAccountRequest', async () => {
    await expect(
      validateRequest(
        clients,
        payload({ eventName: 'REMOVE', request: null, previous: { accountName: 'x' } }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidAccountRequest',
    });
  });
});

describe('handler', () => {
  test('validates through the module clients', async () => {
    const result = await handler(payload({}));

    expect(result.operation).toBe('CREATE');
  });

  test('a payload without a state is InvalidStepInput', async () => {
    await expect(handler({ execution: {} })).rejects.toMatchObject({ name: 'InvalidStepInput' });
  });
});
