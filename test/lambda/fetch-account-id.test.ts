import {
  AccountNotFoundException,
  DescribeAccountCommand,
  ListAccountsCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { mockClient } from 'aws-sdk-client-mock';
import { fetchAccountId, handler } from '../../lambda/fetch-account-id';

const orgMock = mockClient(OrganizationsClient);
const org = new OrganizationsClient({ region: 'us-east-1' });

const state = (accountIds: { status?: string | null; validation?: string | null }) => ({
  validation: {
    requestId: 'dev@example.com',
    accountId: accountIds.validation ?? null,
    request: { accountEmail: 'dev@example.com' },
  },
  ...(accountIds.status !== undefined ? { provisioningStatus: { accountId: accountIds.status } } : {}),
});

beforeEach(() => {
  orgMock.reset();
  orgMock.on(DescribeAccountCommand).callsFake(({ AccountId }) => ({
    Account: { Id: AccountId, Email: 'Dev@Example.com', Name: 'Dev' },
  }));
  orgMock
    .on(ListAccountsCommand, { NextToken: undefined })
    .resolves({
      Accounts: [{ Id: '111111111111', Email: 'other@example.com', Name: 'Other' }],
      NextToken: 'next',
    })
    .on(ListAccountsCommand, { NextToken: 'next' })
    .resolves({ Accounts: [{ Id: '333333333333', Email: 'DEV@example.com', Name: 'Dev' }] });
});

test('the record outputs come first', async () => {
  const result = await fetchAccountId(org, {
    state: state({ status: '444444444444', validation: '555555555555' }),
  });

  expect(result).toEqual({ accountId: '444444444444', email: 'dev@example.com', name: 'Dev' });
  expect(orgMock.commandCalls(ListAccountsCommand)).toHaveLength(0);
});

test('then the account validation found', async () => {
  const result = await fetchAccountId(org, { state: state({ status: null, validation: '555555555555' }) });

  expect(result.accountId).toBe('555555555555');
});

test('else Organizations by email, across pages and case-insensitively', async () => {
  const result = await fetchAccountId(org, { state: state({}) });

  expect(result).toEqual({ accountId: '333333333333', email: 'dev@example.com', name: 'Dev' });
  expect(orgMock.commandCalls(DescribeAccountCommand)[0].args[0].input).toEqual({
    AccountId: '333333333333',
  });
});

test('no account with the email is AccountNotFound', async () => {
  orgMock.on(ListAccountsCommand).resolves({ Accounts: [] });

  await expect(fetchAccountId(org, { state: state({}) })).rejects.toMatchObject({ name: 'AccountNotFound' });
});

test('an account id Organizations does not know is AccountNotFound', async () => {
  orgMock
    .on(DescribeAccountCommand)
    .rejects(new AccountNotFoundException({ message: 'nope', $metadata: {} }));

  await expect(fetchAccountId(org, { state: state({ status: '444444444444' }) })).rejects.toMatchObject({
    name: 'AccountNotFound',
    message: expect.stringContaining('444444444444'),
  });
});

test('the handler parses its payload', async () => {
  await expect(
    handler({ state: state({ status: '444444444444' }), execution: { id: 'x', startTime: 'y' } }),
  ).resolves.toMatchObject({
    accountId: '444444444444',
  });
  await expect(handler({ state: {} })).rejects.toMatchObject({ name: 'InvalidStepInput' });
});
