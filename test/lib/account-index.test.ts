import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AccountFactory } from '../../lib/account-factory';
import { AccountIndex } from '../../lib/account-index';
import { functionOf, newStack, statementsOfFunction } from './helpers';

const MANAGEMENT_ROLE = 'arn:aws:iam::333333333333:role/AccountFactoryManagement';

function indexStack(reconcileInterval?: Duration) {
  const { stack } = newStack();
  new AccountIndex(stack, 'Index', {
    managementRole: iam.Role.fromRoleArn(stack, 'ManagementRole', MANAGEMENT_ROLE),
    reconcileInterval,
  });
  return Template.fromStack(stack);
}

test('a table, and a reconcile on a schedule that lists the organization through the management role', () => {
  const template = indexStack(Duration.minutes(30));
  template.hasResourceProperties('AWS::DynamoDB::Table', {
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
  });
  template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(30 minutes)' });
  const fn = functionOf(template, 'reconcile-account-index');
  expect(fn.props.Environment.Variables).toMatchObject({ MANAGEMENT_ROLE_ARN: MANAGEMENT_ROLE });
  const assume = statementsOfFunction(template, 'reconcile-account-index').find((s) =>
    s.Action.includes('sts:AssumeRole'),
  );
  expect(assume?.Resource).toEqual([MANAGEMENT_ROLE]);
});

test('refuses a reconcile interval outside 5 minutes .. 24 hours', () => {
  expect(() => indexStack(Duration.minutes(1))).toThrow(/between 5 minutes and 24 hours/);
  expect(() => indexStack(Duration.days(2))).toThrow(/between 5 minutes and 24 hours/);
});

describe('in the factory', () => {
  const { stack } = newStack();
  new AccountFactory(stack, 'Factory');
  const template = Template.fromStack(stack);
  const indexTable = Object.keys(template.findResources('AWS::DynamoDB::Table')).find((id) =>
    /AccountIndexTable/.test(id),
  )!;
  const onIndex = (handler: string) =>
    statementsOfFunction(template, handler)
      .filter((s) => JSON.stringify(s.Resource).includes(indexTable))
      .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

  test('Validate request reads the index only; Fetch account ID may write what it confirms', () => {
    expect(indexTable).toBeDefined();
    expect(onIndex('validate-request')).toEqual(expect.arrayContaining(['dynamodb:GetItem']));
    expect(onIndex('validate-request').filter((a: string) => /Put|Update|Delete|Write/.test(a))).toEqual([]);
    expect(onIndex('fetch-account-id')).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem']),
    );
    for (const handler of ['validate-request', 'fetch-account-id']) {
      expect(functionOf(template, handler).props.Environment.Variables.ACCOUNT_INDEX_TABLE).toEqual({
        Ref: indexTable,
      });
    }
    // No other step touches it.
    expect(onIndex('provision-account')).toEqual([]);
  });
});
