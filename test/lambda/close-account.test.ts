import {
  AccountAlreadyClosedException,
  CloseAccountCommand,
  ConstraintViolationException,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import {
  InvalidParametersException,
  SearchProvisionedProductsCommand,
  ServiceCatalogClient,
  TerminateProvisionedProductCommand,
} from '@aws-sdk/client-service-catalog';
import { mockClient } from 'aws-sdk-client-mock';
import { closeAccount, terminateProvisionedProduct } from '../../lambda/close-account';
import { AccountRequestSchema, idempotencyToken } from '../../lambda/shared/schema';

const scMock = mockClient(ServiceCatalogClient);
const orgMock = mockClient(OrganizationsClient);
const sc = new ServiceCatalogClient({ region: 'us-east-1' });
const org = new OrganizationsClient({ region: 'us-east-1' });

const validation = (provisionedProductId: string | null) => ({
  requestId: 'leaving@example.com',
  version: 4,
  operation: 'REMOVE' as const,
  request: AccountRequestSchema.parse({
    accountEmail: 'leaving@example.com',
    accountName: 'leaving',
    organizationalUnit: 'Sandbox',
    sso: { email: 'admin@example.com', firstName: 'Ada', lastName: 'Admin' },
    closeOnRemoval: true,
  }),
  accountId: '111111111111',
  provisionedProductId,
});

beforeEach(() => {
  scMock.reset();
  orgMock.reset();
});

test('terminate: the provisioned product, with a token derived from the request; the record to poll', async () => {
  scMock.on(TerminateProvisionedProductCommand).resolves({ RecordDetail: { RecordId: 'rec-1' } });

  const result = await terminateProvisionedProduct(sc, validation('pp-1'));

  expect(result).toMatchObject({
    recordId: 'rec-1',
    provisionedProductId: 'pp-1',
    recordType: 'TERMINATE_PROVISIONED_PRODUCT',
  });
  expect(scMock.commandCalls(TerminateProvisionedProductCommand)[0].args[0].input).toEqual({
    ProvisionedProductId: 'pp-1',
    TerminateToken: idempotencyToken('leaving@example.com', 4, 'terminate'),
  });
});

test('terminate: no provisioned product to be found, nothing to wait for', async () => {
  scMock.on(SearchProvisionedProductsCommand).resolves({ ProvisionedProducts: [] });

  const result = await terminateProvisionedProduct(sc, validation(null));

  expect(result.recordId).toBeNull();
  expect(scMock.commandCalls(TerminateProvisionedProductCommand)).toHaveLength(0);
});

test('terminate: Control Tower busy becomes ControlTowerBusy (retried by the state machine)', async () => {
  scMock.on(TerminateProvisionedProductCommand).rejects(
    new InvalidParametersException({
      message: 'Another AWS Control Tower operation is in progress.',
      $metadata: {},
    }),
  );

  await expect(terminateProvisionedProduct(sc, validation('pp-1'))).rejects.toMatchObject({
    name: 'ControlTowerBusy',
  });
});

test('close: CloseAccount; an account already closed is fine; any other refusal fails the step', async () => {
  orgMock
    .on(CloseAccountCommand)
    .resolvesOnce({})
    .rejectsOnce(new AccountAlreadyClosedException({ message: 'closed', $metadata: {} }))
    .rejectsOnce(new ConstraintViolationException({ message: 'close quota', $metadata: {} }));

  expect(await closeAccount(org, '111111111111')).toMatchObject({
    accountId: '111111111111',
    result: 'closing',
  });
  expect(await closeAccount(org, '111111111111')).toMatchObject({ result: 'already-closed' });
  await expect(closeAccount(org, '111111111111')).rejects.toMatchObject({
    name: 'ConstraintViolationException',
  });
  expect(orgMock.commandCalls(CloseAccountCommand)[0].args[0].input).toEqual({ AccountId: '111111111111' });
});
