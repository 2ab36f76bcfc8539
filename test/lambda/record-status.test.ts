import { DescribeRecordCommand, ServiceCatalogClient } from '@aws-sdk/client-service-catalog';
import { mockClient } from 'aws-sdk-client-mock';
import { readRecordStatus } from '../../lambda/shared/record-status';
import { setClock } from '../../lambda/shared/clock';

const scMock = mockClient(ServiceCatalogClient);
const sc = new ServiceCatalogClient({ region: 'us-east-1' });

const payload = {
  state: {
    provisioning: {
      recordId: 'rec-1',
      provisionedProductId: 'pp-1',
      recordType: 'PROVISION_PRODUCT',
      startedAt: '2024-01-01T00:00:00.000Z',
    },
  },
};

beforeEach(() => {
  scMock.reset();
  setClock({ now: () => new Date('2024-01-01T00:25:30.000Z') });
});
afterAll(() => setClock(undefined));

test.each(['CREATED', 'IN_PROGRESS', 'IN_PROGRESS_IN_ERROR'])('%s is IN_PROGRESS', async (Status) => {
  scMock.on(DescribeRecordCommand).resolves({ RecordDetail: { RecordId: 'rec-1', Status: Status as never } });

  const result = await readRecordStatus(
    sc,
    payload.state.provisioning.recordId,
    payload.state.provisioning.startedAt,
  );

  expect(result).toEqual({
    status: 'IN_PROGRESS',
    recordId: 'rec-1',
    accountId: null,
    errors: null,
    checkedAt: '2024-01-01T00:25:30.000Z',
    elapsedSeconds: 1530,
  });
  expect(scMock.commandCalls(DescribeRecordCommand)[0].args[0].input).toEqual({ Id: 'rec-1' });
});

test('SUCCEEDED carries the account id from the record outputs', async () => {
  scMock.on(DescribeRecordCommand).resolves({
    RecordDetail: { RecordId: 'rec-1', Status: 'SUCCEEDED' },
    RecordOutputs: [
      { OutputKey: 'AccountEmail', OutputValue: 'dev@example.com' },
      { OutputKey: 'AccountId', OutputValue: '333333333333' },
    ],
  });

  const result = await readRecordStatus(
    sc,
    payload.state.provisioning.recordId,
    payload.state.provisioning.startedAt,
  );

  expect(result).toMatchObject({ status: 'SUCCEEDED', accountId: '333333333333', errors: null });
});

test('FAILED carries Control Tower errors', async () => {
  scMock.on(DescribeRecordCommand).resolves({
    RecordDetail: {
      RecordId: 'rec-1',
      Status: 'FAILED',
      RecordErrors: [
        { Code: 'AccountFactory', Description: 'Email address already in use' },
        { Description: 'Rolled back' },
      ],
    },
  });

  const result = await readRecordStatus(
    sc,
    payload.state.provisioning.recordId,
    payload.state.provisioning.startedAt,
  );

  expect(result).toMatchObject({
    status: 'FAILED',
    accountId: null,
    errors: 'AccountFactory: Email address already in use; Rolled back',
  });
});
