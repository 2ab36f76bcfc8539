import { App, Duration, Stack } from 'aws-cdk-lib';
import { ManagementAccountStack } from '../../lib/management-account-stack';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { ControlTowerEventForwarding } from '../../lib/control-tower-event-forwarding';
import { ControlTowerEvents } from '../../lib/control-tower-events';
import { ControlTowerWait } from '../../lib/workflow/control-tower-wait';
import {
  actionsOf,
  definitionOf,
  functionOf,
  identityStatements,
  newStack,
  render,
  statementsOfFunction,
} from './helpers';

const MANAGEMENT_ROLE = 'arn:aws:iam::333333333333:role/AccountFactoryManagement';

function factoryStack(props: { managementAccountId?: string; pollInterval?: Duration } = {}) {
  const { stack } = newStack();
  const managementRole = iam.Role.fromRoleArn(stack, 'ManagementRole', MANAGEMENT_ROLE);
  const ctEvents = new ControlTowerEvents(stack, 'ControlTowerEvents', {
    managementRole,
    managementAccountId: props.managementAccountId,
  });
  const onFailure = new sfn.Fail(stack, 'Request failed');
  const wait = new ControlTowerWait(stack, 'Wait', {
    states: { wait: 'Await Control Tower', finished: 'Provisioning finished?' },
    comment: 'Waits for the lifecycle event',
    awaitFunction: ctEvents.awaitFunction,
    pollInterval: props.pollInterval,
    onSucceeded: new sfn.Pass(stack, 'Release slot'),
    onFailed: new sfn.Pass(stack, 'Control Tower operation failed'),
    onFailure,
  });
  const machine = new sfn.StateMachine(stack, 'Machine', {
    definitionBody: sfn.DefinitionBody.fromChainable(wait),
  });
  ctEvents.grantTaskResponse(machine);
  return { stack, template: Template.fromStack(stack) };
}

describe('ControlTowerWait', () => {
  test('waits for a task token, registered under the account name and ID, with the poll interval as timeout', () => {
    const { template } = factoryStack({ pollInterval: Duration.minutes(7) });
    const asl = definitionOf(template);
    const task = asl.States['Await Control Tower'];

    expect(task.Resource).toMatch(/:states:::lambda:invoke\.waitForTaskToken$/);
    expect(task.Parameters.Payload).toEqual({
      'taskToken.$': '$$.Task.Token',
      'executionId.$': '$$.Execution.Id',
      'recordId.$': '$.provisioning.recordId',
      'startedAt.$': '$.provisioning.startedAt',
      'accountName.$': '$.validation.request.accountName',
      'accountId.$': '$.validation.accountId',
    });
    expect(task.TimeoutSeconds).toBe(7 * 60);
    expect(task.ResultPath).toBe('$.provisioningStatus');
    // A lost event: the timeout loops back (a fresh token, one read of the record); other errors fail the request.
    expect(task.Catch).toEqual([
      { ErrorEquals: ['States.Timeout'], ResultPath: null, Next: 'Await Control Tower' },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Request failed' },
    ]);
    expect(task.Next).toBe('Provisioning finished?');
    const choice = asl.States['Provisioning finished?'];
    expect(choice.Choices).toEqual([
      { Variable: '$.provisioningStatus.status', StringEquals: 'SUCCEEDED', Next: 'Release slot' },
      {
        Variable: '$.provisioningStatus.status',
        StringEquals: 'FAILED',
        Next: 'Control Tower operation failed',
      },
    ]);
    expect(choice.Default).toBe('Await Control Tower');
    // No fixed Wait state polls any more.
    expect(Object.values<any>(asl.States).filter((s) => s.Type === 'Wait')).toHaveLength(0);
  });

  test('defaults to a 10-minute poll and refuses a poll under 10 seconds', () => {
    expect(definitionOf(factoryStack().template).States['Await Control Tower'].TimeoutSeconds).toBe(600);
    expect(() => factoryStack({ pollInterval: Duration.seconds(5) })).toThrow(
      /pollInterval must be at least 10 seconds/,
    );
  });
});

describe('ControlTowerEvents', () => {
  test('a rule sends CreateManagedAccount / UpdateManagedAccount lifecycle events to the event function', () => {
    const { template } = factoryStack();
    const eventFn = functionOf(template, 'control-tower-event');

    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.controltower'],
        'detail-type': ['AWS Service Event via CloudTrail'],
        detail: { eventName: ['CreateManagedAccount', 'UpdateManagedAccount'] },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [eventFn.id, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 8 },
        }),
      ],
    });
  });

  test('waits live in a table keyed by account key and record, with a TTL', () => {
    const { template } = factoryStack();
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  test.each(['await-control-tower', 'control-tower-event'])(
    '%s: under the trusted path, reads the record through the management role, completes tokens of the state machine only',
    (handler) => {
      const { template } = factoryStack();
      const fn = functionOf(template, handler);
      expect(fn.props.Environment.Variables).toMatchObject({
        MANAGEMENT_ROLE_ARN: MANAGEMENT_ROLE,
        CONTROL_TOWER_HOME_REGION: 'us-east-1',
        CONTROL_TOWER_WAITS_TABLE: { Ref: expect.stringMatching(/^ControlTowerEventsWaits/) },
      });
      const roleId = fn.props.Role['Fn::GetAtt'][0];
      template.hasResourceProperties('AWS::IAM::Role', Match.objectLike({ Path: '/account-factory/' }));
      expect(template.findResources('AWS::IAM::Role')[roleId].Properties.Path).toBe('/account-factory/');

      const statements = statementsOfFunction(template, handler);
      const assume = statements.find((s) => s.Action.includes('sts:AssumeRole'));
      expect(assume?.Resource).toEqual([MANAGEMENT_ROLE]);
      const tokens = identityStatements(template).filter((s) => s.Action.includes('states:SendTaskSuccess'));
      expect(tokens.map((s) => s.Resource.map(render))).toEqual([
        [expect.stringMatching(/^<Machine[0-9A-F]{8}>$/)],
      ]);
      const [tokenPolicy] = Object.values<any>(template.findResources('AWS::IAM::Policy')).filter((p) =>
        p.Properties.PolicyDocument.Statement.some((s: any) =>
          [s.Action].flat().includes('states:SendTaskSuccess'),
        ),
      );
      expect(tokenPolicy.Properties.Roles).toContainEqual({ Ref: roleId });
      expect(actionsOf(statements)).not.toContain('servicecatalog:DescribeRecord');
    },
  );

  test('in the management account, no bus policy', () => {
    factoryStack().template.resourceCountIs('AWS::Events::EventBusPolicy', 0);
  });

  test('in a vending account, the default bus accepts only Control Tower events, only from the management account', () => {
    const { template } = factoryStack({ managementAccountId: '333333333333' });
    template.resourceCountIs('AWS::Events::EventBusPolicy', 1);
    template.hasResourceProperties('AWS::Events::EventBusPolicy', {
      EventBusName: 'default',
      Statement: {
        Effect: 'Allow',
        Principal: {
          AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::333333333333:root']] },
        },
        Action: 'events:PutEvents',
        Resource: Match.anyValue(),
        Condition: {
          StringEquals: {
            'events:source': 'aws.controltower',
            'events:detail-type': 'AWS Service Event via CloudTrail',
          },
        },
      },
    });
  });

  test('rejects a malformed management account ID; its own account needs no bus policy', () => {
    expect(() => factoryStack({ managementAccountId: '3333' })).toThrow(/12-digit/);
    factoryStack({ managementAccountId: '111111111111' }).template.resourceCountIs(
      'AWS::Events::EventBusPolicy',
      0,
    );
  });
});

describe('ControlTowerEventForwarding', () => {
  test("forwards the account lifecycle events to the factory account's default bus, with a role that may put events there only", () => {
    const { stack } = newStack();
    new ControlTowerEventForwarding(stack, 'Forwarding', { factoryAccountId: '222222222222' });
    const template = Template.fromStack(stack);
    const busArn = {
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':events:us-east-1:222222222222:event-bus/default'],
      ],
    };

    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.controltower'],
        'detail-type': ['AWS Service Event via CloudTrail'],
        detail: { eventName: ['CreateManagedAccount', 'UpdateManagedAccount'] },
      },
      Targets: [Match.objectLike({ Arn: busArn, RoleArn: Match.anyValue() })],
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [{ Effect: 'Allow', Action: 'events:PutEvents', Resource: busArn }],
      },
    });
    template.resourceCountIs('AWS::IAM::Policy', 1);
  });

  test('rejects a malformed factory account ID', () => {
    const { stack } = newStack();
    expect(() => new ControlTowerEventForwarding(stack as Stack, 'F', { factoryAccountId: 'abc' })).toThrow(
      /12-digit/,
    );
  });
});

describe('ManagementAccountStack', () => {
  const stackWith = (forwardControlTowerEvents?: boolean) =>
    Template.fromStack(
      new ManagementAccountStack(new App(), 'Management', {
        env: { account: '111111111111', region: 'us-east-1' },
        factoryAccountId: '222222222222',
        forwardControlTowerEvents,
      }),
    );

  test('forwards the lifecycle events to the factory account by default, and not when told not to', () => {
    stackWith().hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ source: ['aws.controltower'] }),
      Targets: [Match.objectLike({ Arn: Match.objectLike({}) })],
    });
    stackWith(false).resourceCountIs('AWS::Events::Rule', 0);
  });
});
