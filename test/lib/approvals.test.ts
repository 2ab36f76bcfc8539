import { App, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ENV } from '../../lambda/shared/env';
import { AccountFactory } from '../../lib/account-factory';
import { AccountFactoryStack, STACK_OUTPUTS } from '../../lib/account-factory-stack';
import { APPROVAL_STEP } from '../../lib/workflow/approval';
import { STEP } from '../../lib/workflow/step-names';
import { phasesOf } from '../../local/progress';
import {
  actionsOf,
  definitionOf,
  functionOf,
  identityStatements,
  newStack,
  NO_BUNDLING,
  render,
  statementsOfFunction,
} from './helpers';

function synth(props: ConstructorParameters<typeof AccountFactory>[2] = {}) {
  const { app, stack } = newStack({ nag: true });
  const factory = new AccountFactory(stack, 'Factory', props);
  app.synth();
  return { stack, factory, template: Template.fromStack(stack) };
}

const CREATE_UPDATE = { operations: ['CREATE', 'UPDATE'] as const };

describe('approvals', () => {
  test('are off unless asked for: no gate, no function, no table', () => {
    const { factory, template } = synth();
    expect(factory.approvals).toBeUndefined();
    expect(() => functionOf(template, 'approval-request')).toThrow(/found 0/);
    const def = definitionOf(template, 'FactoryWorkflow');
    expect(def.States[STEP.VALIDATE_REQUEST].Next).toBe(STEP.CONTROL_TOWER_OPERATION);
    expect(def.States[APPROVAL_STEP.APPROVAL_NEEDED]).toBeUndefined();
  });

  test('the gate sits between validation and the route, before any slot is asked for, and waits at most the timeout', () => {
    const { template } = synth({ approvals: { ...CREATE_UPDATE, timeout: Duration.days(2) } });
    const def = definitionOf(template, 'FactoryWorkflow');
    expect(def.States[STEP.VALIDATE_REQUEST].Next).toBe(APPROVAL_STEP.APPROVAL_NEEDED);
    const choice = def.States[APPROVAL_STEP.APPROVAL_NEEDED];
    expect(choice.Default).toBe(STEP.CONTROL_TOWER_OPERATION);
    expect(JSON.stringify(choice.Choices)).toContain('"StringEquals":"CREATE"');
    expect(JSON.stringify(choice.Choices)).toContain('"StringEquals":"UPDATE"');
    expect(JSON.stringify(choice.Choices)).not.toContain('"StringEquals":"REMOVE"');
    const wait = def.States[APPROVAL_STEP.WAIT_FOR_APPROVAL];
    expect(wait.Resource).toMatch(/lambda:invoke\.waitForTaskToken$/);
    expect(wait.TimeoutSeconds).toBe(2 * 24 * 3600);
    expect(wait.Next).toBe(STEP.CONTROL_TOWER_OPERATION);
    expect(wait.ResultPath).toBe('$.approval');
    // Every way to a slot goes through the route, after the gate.
    expect(def.States[STEP.CONTROL_TOWER_OPERATION].Type).toBe('Choice');
    const vars = functionOf(template, 'approval-request').props.Environment.Variables;
    expect(vars[ENV.APPROVAL_TIMEOUT_SECONDS]).toBe(String(2 * 24 * 3600));
    expect(vars[ENV.APPROVAL_ALLOW_SELF]).toBe('false');
  });

  test("npm start's progress finds the gate's phases from the definition", () => {
    const { template } = synth({ approvals: CREATE_UPDATE });
    const definition = definitionOf(template, 'FactoryWorkflow');
    const phases = phasesOf(definition);
    expect(Object.keys(definition.States).filter((s) => !phases.has(s))).toEqual([]);
    expect(phases.get(APPROVAL_STEP.APPROVAL_NEEDED)).toBe('validating');
    expect(phases.get(APPROVAL_STEP.WAIT_FOR_APPROVAL)).toBe('waiting for approval');
    expect(phases.get(STEP.CONTROL_TOWER_OPERATION)).toBe('validating');
    expect(phases.get(STEP.ACQUIRE_SLOT)).toBe('waiting for a slot');
    expect(phases.get(APPROVAL_STEP.NOTIFY_NOT_APPROVED)).toBe('notifying');
    expect(phases.get(APPROVAL_STEP.NOT_APPROVED)).toBe('notifying');
  });

  test('the table (on demand, point-in-time recovery, retained) and a topic of its own by default', () => {
    const { factory, template } = synth({ approvals: CREATE_UPDATE });
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({
        KeySchema: [{ AttributeName: 'requestId', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      }),
      DeletionPolicy: 'Retain',
    });
    template.hasResourceProperties('AWS::SNS::Topic', { DisplayName: 'Account factory: approvals' });
    const vars = functionOf(template, 'approval-request').props.Environment.Variables;
    expect(render(vars[ENV.APPROVAL_TOPIC_ARN])).toMatch(/ApprovalsTopic/);
    expect(render(vars[ENV.FAILURE_TOPIC_ARN])).toMatch(/FailureTopic/);
    expect(factory.approvals!.timeout.toDays()).toBe(7);
  });

  test('a topic of your own, and self-approval allowed', () => {
    const { stack } = newStack();
    const topic = new sns.Topic(stack, 'Approvers');
    new AccountFactory(stack, 'Factory', { approvals: { ...CREATE_UPDATE, topic, allowSelfApproval: true } });
    const template = Template.fromStack(stack);
    const vars = functionOf(template, 'approval-request').props.Environment.Variables;
    expect(vars[ENV.APPROVAL_TOPIC_ARN]).toEqual({
      Ref: stack.getLogicalId(topic.node.defaultChild as never),
    });
    expect(vars[ENV.APPROVAL_ALLOW_SELF]).toBe('true');
    template.resourcePropertiesCountIs('AWS::SNS::Topic', { DisplayName: 'Account factory: approvals' }, 0);
  });

  test("the approval-request role: its table's item writes, reads of the metadata, two topics, and SendTaskFailure on the workflow only", () => {
    const { template } = synth({ approvals: CREATE_UPDATE });
    const statements = statementsOfFunction(template, 'approval-request');
    expect([...new Set(actionsOf(statements))].sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:ConditionCheckItem',
      'dynamodb:DescribeTable',
      'dynamodb:GetItem',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:Scan',
      'dynamodb:UpdateItem',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'sns:Publish',
      'states:SendTaskFailure',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    const writes = statements.filter((s) => s.Action.includes('dynamodb:PutItem'));
    expect(writes).toHaveLength(1);
    expect(writes[0].Resource.map(render).join()).toMatch(/ApprovalsTable/);
    expect(writes[0].Resource.map(render).join()).not.toMatch(/Metadata/);
    const send = statements.filter((s) => s.Action.includes('states:SendTaskFailure'));
    expect(send.map((s) => s.Resource.map(render))).toEqual([
      [expect.stringMatching(/^<FactoryWorkflow[0-9A-F]+>$/)],
    ]);
    const published = statements
      .filter((s) => s.Action.includes('sns:Publish'))
      .map((s) => render(s.Resource[0]));
    expect(published.sort()).toEqual([
      expect.stringMatching(/ApprovalsTopic/),
      expect.stringMatching(/FailureTopic/),
    ]);
  });

  test("grantApprove: read and decide in the approvals table, and answer the workflow's tasks, nothing more", () => {
    const { stack } = newStack();
    const factory = new AccountFactory(stack, 'Factory', { approvals: CREATE_UPDATE });
    const approver = new iam.Role(stack, 'Approver', { assumedBy: new iam.AccountRootPrincipal() });
    const grant = factory.approvals!.grantApprove(approver);
    expect(grant.success).toBe(true);
    const template = Template.fromStack(stack);
    const mine = identityStatements(template).filter((s) => s.policy.startsWith('ApproverDefaultPolicy'));
    expect(mine.map((s) => [s.Action, s.Resource.map(render)])).toEqual([
      [
        ['dynamodb:GetItem', 'dynamodb:Scan', 'dynamodb:UpdateItem'],
        [expect.stringMatching(/^<FactoryApprovalsTable[0-9A-F]+\.Arn>$/)],
      ],
      [
        ['states:SendTaskSuccess', 'states:SendTaskFailure'],
        [expect.stringMatching(/^<FactoryWorkflow[0-9A-F]+>$/)],
      ],
    ]);
  });

  test('a customer-managed key encrypts the table and the topic, and the grants include it', () => {
    const { stack } = newStack();
    const key = new kms.Key(stack, 'Key');
    const factory = new AccountFactory(stack, 'Factory', { encryptionKey: key, approvals: CREATE_UPDATE });
    factory.approvals!.grantApprove(
      new iam.Role(stack, 'Approver', { assumedBy: new iam.AccountRootPrincipal() }),
    );
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'requestId', KeyType: 'HASH' }],
      SSESpecification: Match.objectLike({ SSEType: 'KMS' }),
    });
    const mine = identityStatements(template).filter((s) => s.policy.startsWith('ApproverDefaultPolicy'));
    expect(mine.flatMap((s) => s.Action)).toEqual(
      expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey']),
    );
  });

  test('bad settings are refused at synth', () => {
    const make = (approvals: any) => () => new AccountFactory(newStack().stack, 'Factory', { approvals });
    expect(make({ operations: [] })).toThrow(/at least one operation/);
    expect(make({ operations: ['CUSTOMIZE'] })).toThrow(/CUSTOMIZE cannot need an approval/);
    expect(make({ operations: ['CREATE'], timeout: Duration.seconds(30) })).toThrow(
      /from 1 minute to 365 days/,
    );
    expect(make({ operations: ['CREATE'], timeout: Duration.days(400) })).toThrow(
      /from 1 minute to 365 days/,
    );
  });

  test('AccountFactoryStack: an approver role granted to decide, and the outputs the CLI reads', () => {
    const app = new App({ context: NO_BUNDLING });
    const stack = new AccountFactoryStack(app, 'Factory', {
      env: { account: '111111111111', region: 'us-east-1' },
      factory: { approvals: CREATE_UPDATE },
    });
    const template = Template.fromStack(stack);
    template.hasOutput(STACK_OUTPUTS.APPROVALS_TABLE, {});
    template.hasOutput(STACK_OUTPUTS.APPROVER_ROLE, {});
    template.hasResourceProperties('AWS::IAM::Role', {
      Description: 'Approves or rejects account requests (account-factory approve|reject)',
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { AWS: Match.anyValue() } })],
      }),
    });
    const actions = identityStatements(template)
      .filter((s) => s.policy.startsWith('ApproverRoleDefaultPolicy'))
      .flatMap((s) => s.Action);
    expect(actions).toEqual([
      'dynamodb:GetItem',
      'dynamodb:Scan',
      'dynamodb:UpdateItem',
      'states:SendTaskSuccess',
      'states:SendTaskFailure',
    ]);
    const without = Template.fromStack(new AccountFactoryStack(new App({ context: NO_BUNDLING }), 'Plain'));
    expect(Object.keys(without.findOutputs('*'))).not.toContain(STACK_OUTPUTS.APPROVALS_TABLE);
  });
});
