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

function callOf(template: Template, which: 'Create' | 'Update' | 'Delete'): any {
  const resources = Object.values(template.findResources('Custom::AccountRequest')) as any[];
  expect(resources).toHaveLength(1);
  const value = resources[0].Properties[which];
  const text =
    typeof value === 'string'
      ? value
      : value['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : '<ref>')).join('');
  return JSON.parse(text);
}

describe('AccountRequest', () => {
  test('writes the validated request with UpdateItem, bumping the version; same call on update', () => {
    const { stack, table } = tableStack();
    const request = new AccountRequest(stack, 'Sandbox01', { ...REQUEST, requestsTable: table });
    expect(request.requestId).toBe('sandbox-01@example.com');
    const template = Template.fromStack(stack);
    const create = callOf(template, 'Create');
    expect(create).toMatchObject({
      service: 'DynamoDB',
      action: 'updateItem',
      physicalResourceId: { id: 'sandbox-01@example.com' },
      parameters: {
        TableName: '<ref>',
        Key: { id: { S: 'sandbox-01@example.com' } },
        UpdateExpression: 'SET #request = :request, #source = :source ADD #version :one',
        ExpressionAttributeNames: { '#request': 'request', '#source': 'source', '#version': 'version' },
      },
    });
    const values = create.parameters.ExpressionAttributeValues;
    expect(values[':one']).toEqual({ N: '1' });
    expect(values[':source']).toEqual({ S: 'construct:Requests/Sandbox01' });
    // Normalized (lower-cased email) and with defaults (customFields, closeOnRemoval).
    expect(values[':request'].M).toMatchObject({
      accountEmail: { S: 'sandbox-01@example.com' },
      accountName: { S: 'sandbox-01' },
      sso: {
        M: {
          email: { S: 'platform-team@example.com' },
          firstName: { S: 'Platform' },
          lastName: { S: 'Team' },
        },
      },
      tags: { M: { CostCenter: { S: '1001' } } },
      customFields: { M: {} },
      closeOnRemoval: { BOOL: false },
    });
    expect(callOf(template, 'Update')).toEqual(create);
    // Nothing in the call changes between two synths of the same request (no timestamps).
    const again = tableStack();
    new AccountRequest(again.stack, 'Sandbox01', { ...REQUEST, requestsTable: again.table });
    expect(callOf(Template.fromStack(again.stack), 'Create')).toEqual(create);
  });

  test('an edit changes the call (so CloudFormation updates it once)', () => {
    const a = tableStack();
    new AccountRequest(a.stack, 'R', { ...REQUEST, requestsTable: a.table });
    const b = tableStack();
    new AccountRequest(b.stack, 'R', { ...REQUEST, tags: { CostCenter: '2002' }, requestsTable: b.table });
    expect(callOf(Template.fromStack(a.stack), 'Update')).not.toEqual(
      callOf(Template.fromStack(b.stack), 'Update'),
    );
  });

  test('delete removes the item only while it is still this source', () => {
    const { stack, table } = tableStack();
    new AccountRequest(stack, 'R', { ...REQUEST, requestsTable: table, source: 'file:sandbox-01.json' });
    const del = callOf(Template.fromStack(stack), 'Delete');
    expect(del).toMatchObject({
      action: 'deleteItem',
      parameters: {
        Key: { id: { S: 'sandbox-01@example.com' } },
        ConditionExpression: '#source = :source',
        ExpressionAttributeValues: { ':source': { S: 'file:sandbox-01.json' } },
      },
      ignoreErrorCodesMatching: 'ConditionalCheckFailedException',
    });
  });

  test('the custom resource may update and delete items of that table only, without installing an SDK', () => {
    const { stack, table } = tableStack();
    new AccountRequest(stack, 'R', { ...REQUEST, requestsTable: table });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': ['TableCD117FA1', 'Arn'] },
          },
        ],
      },
    });
    template.hasResourceProperties('Custom::AccountRequest', { InstallLatestAwsSdk: false });
  });

  test('with a factory: writes to its requests table, and may use its key', () => {
    const app = new App({ context: NO_BUNDLING });
    const stack = new Stack(app, 'S');
    const key = new kms.Key(stack, 'Key');
    const factory = new AccountFactory(stack, 'Factory', { encryptionKey: key });
    new AccountRequest(stack, 'R', { ...REQUEST, factory });
    const template = Template.fromStack(stack);
    expect(JSON.stringify(callOf(template, 'Create'))).toContain('"TableName":"<ref>"');
    const resource = Object.values(template.findResources('Custom::AccountRequest'))[0] as any;
    expect(JSON.stringify(resource.Properties.Create)).toContain(
      stack.resolve(factory.requestsTable.tableName).Ref,
    );
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
