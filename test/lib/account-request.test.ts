import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AccountFactory } from '../../lib/account-factory';
import { AccountRequest, AccountRequestProps } from '../../lib/account-request';
import { NO_BUNDLING } from './helpers';

const REQUEST = {
  accountEmail: 'Sandbox-01@Example.com',
  accountName: 'sandbox-01',
  organizationalUnit: 'Sandbox',
  sso: { email: 'platform-team@example.com', firstName: 'Platform', lastName: 'Team' },
  tags: { CostCenter: '1001' },
};

function tableStack() {
  const app = new App({ context: NO_BUNDLING });
  const stack = new Stack(app, 'Requests');
  const table = new dynamodb.Table(stack, 'Table', {
    partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
  });
  return { app, stack, table };
}

function propsOf(template: Template): any {
  const resources = Object.values(template.findResources('Custom::AccountRequest')) as any[];
  expect(resources).toHaveLength(1);
  const { ServiceToken, TableName, Request, Source } = resources[0].Properties;
  return { ServiceToken, TableName, Request: JSON.parse(Request), Source };
}

describe('AccountRequest', () => {
  test('passes the validated request to the request-item function, the writer the local engine runs too', () => {
    const { stack, table } = tableStack();
    const request = new AccountRequest(stack, 'Sandbox01', { ...REQUEST, requestsTable: table });
    expect(request.requestId).toBe('sandbox-01@example.com');
    const template = Template.fromStack(stack);
    const props = propsOf(template);
    expect(props.TableName).toEqual({ Ref: 'TableCD117FA1' });
    expect(props.Source).toBe('construct:Requests/Sandbox01');
    // Normalized (lower-cased email) and with defaults (customFields, closeOnRemoval).
    expect(props.Request).toEqual({
      accountEmail: 'sandbox-01@example.com',
      accountName: 'sandbox-01',
      organizationalUnit: 'Sandbox',
      sso: { email: 'platform-team@example.com', firstName: 'Platform', lastName: 'Team' },
      tags: { CostCenter: '1001' },
      customFields: {},
      closeOnRemoval: false,
    });
    // Served by a function of the handler lambda/request-item (which writes version and updatedAt).
    const fnId = props.ServiceToken['Fn::GetAtt'][0];
    const fn = template.findResources('AWS::Lambda::Function')[fnId];
    expect(fn.Metadata['cdk-account-factory:handler']).toBe('request-item');
    // Nothing in the resource changes between two synths of the same request (no timestamps):
    // CloudFormation writes the item again only when the request changed.
    const again = tableStack();
    new AccountRequest(again.stack, 'Sandbox01', { ...REQUEST, requestsTable: again.table });
    expect(propsOf(Template.fromStack(again.stack))).toEqual(props);
  });

  test('one writer function per stack, however many requests', () => {
    const { stack, table } = tableStack();
    new AccountRequest(stack, 'A', { ...REQUEST, requestsTable: table });
    new AccountRequest(stack, 'B', { ...REQUEST, accountEmail: 'b@example.com', requestsTable: table });
    const template = Template.fromStack(stack);
    template.resourceCountIs('Custom::AccountRequest', 2);
    const handlers = Object.values(template.findResources('AWS::Lambda::Function')).map(
      (f: any) => f.Metadata?.['cdk-account-factory:handler'],
    );
    expect(handlers.filter((h) => h === 'request-item')).toHaveLength(1);
  });

  test('an edit changes the resource (so CloudFormation updates it once)', () => {
    const a = tableStack();
    new AccountRequest(a.stack, 'R', { ...REQUEST, requestsTable: a.table });
    const b = tableStack();
    new AccountRequest(b.stack, 'R', { ...REQUEST, tags: { CostCenter: '2002' }, requestsTable: b.table });
    expect(propsOf(Template.fromStack(a.stack))).not.toEqual(propsOf(Template.fromStack(b.stack)));
  });

  test('the writer may update and delete items of that table only', () => {
    const { stack, table } = tableStack();
    new AccountRequest(stack, 'R', { ...REQUEST, requestsTable: table });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': ['TableCD117FA1', 'Arn'] },
          },
        ]),
      },
    });
  });

  test('with a factory: writes to its requests table, and may use its key', () => {
    const app = new App({ context: NO_BUNDLING });
    const stack = new Stack(app, 'S');
    const key = new kms.Key(stack, 'Key');
    const factory = new AccountFactory(stack, 'Factory', { encryptionKey: key });
    new AccountRequest(stack, 'R', { ...REQUEST, factory });
    const template = Template.fromStack(stack);
    expect(propsOf(template).TableName).toEqual(stack.resolve(factory.requestsTable.tableName));
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['kms:Decrypt', 'kms:GenerateDataKey']),
            Resource: { 'Fn::GetAtt': ['Key961B73FD', 'Arn'] },
          }),
        ]),
      },
    });
  });

  test('invalid props fail at synth, naming every bad field', () => {
    const { stack, table } = tableStack();
    const bad = {
      ...REQUEST,
      accountEmail: 'not-an-email',
      tags: { 'aws:createdBy': 'me' },
      sso: { ...REQUEST.sso, firstName: '' },
      requestsTable: table,
    };
    expect(() => new AccountRequest(stack, 'Bad', bad)).toThrow(
      /^AccountRequest Requests\/Bad: .*accountEmail: accountEmail must be a plain ASCII email address.*sso\.firstName: .*tags/,
    );
  });

  test('an unknown field is named', () => {
    const { stack, table } = tableStack();
    const props = { ...REQUEST, requestsTable: table, acountName: 'typo' } as AccountRequestProps;
    expect(() => new AccountRequest(stack, 'Typo', props)).toThrow(/unknown field\(s\): acountName/);
  });

  test('a missing required field is named', () => {
    const { stack, table } = tableStack();
    const props = {
      ...REQUEST,
      organizationalUnit: undefined,
      requestsTable: table,
    } as unknown as AccountRequestProps;
    expect(() => new AccountRequest(stack, 'Missing', props)).toThrow(
      /organizationalUnit: organizationalUnit is required/,
    );
  });

  test('two requests for the same email in one app fail, naming both', () => {
    const { app, stack, table } = tableStack();
    new AccountRequest(stack, 'First', { ...REQUEST, requestsTable: table });
    const other = new Stack(app, 'Other');
    expect(
      () =>
        new AccountRequest(other, 'Second', {
          ...REQUEST,
          accountEmail: 'sandbox-01@example.com',
          requestsTable: table,
        }),
    ).toThrow(
      /AccountRequest Other\/Second: accountEmail: sandbox-01@example.com is already requested by Requests\/First/,
    );
  });

  test('the same email in two apps is fine', () => {
    const a = tableStack();
    const b = tableStack();
    new AccountRequest(a.stack, 'R', { ...REQUEST, requestsTable: a.table });
    expect(() => new AccountRequest(b.stack, 'R', { ...REQUEST, requestsTable: b.table })).not.toThrow();
  });

  test('needs a table', () => {
    const { stack } = tableStack();
    expect(() => new AccountRequest(stack, 'R', { ...REQUEST })).toThrow(/set factory or requestsTable/);
  });
});
