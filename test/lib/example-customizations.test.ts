import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  GetRoleCommand,
  IAMClient,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import { Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import {
  ExampleProvisioningCustomizations,
  EXAMPLE_HANDLER,
} from '../../examples/provisioning-customizations';
import {
  AUDIT_ROLE_NAME,
  ensureAuditRole,
  READ_ONLY_POLICY_ARN,
} from '../../examples/provisioning-customizations/handler';
import { definitionOf, newStack, render, statementsOfFunction } from './helpers';

const iam = mockClient(IAMClient);
beforeEach(() => iam.reset());

describe('example provisioning customizations: handler', () => {
  test('creates audit-readonly, trusted by the audit account, with ReadOnlyAccess', async () => {
    iam.on(GetRoleCommand).rejects(new NoSuchEntityException({ message: 'no role', $metadata: {} }));
    iam.on(CreateRoleCommand).resolves({
      Role: {
        Arn: 'arn:aws:iam::111111111111:role/audit-readonly',
        RoleName: AUDIT_ROLE_NAME,
        Path: '/',
        RoleId: 'AROAEXAMPLE',
        CreateDate: new Date(0),
      },
    });
    iam.on(AttachRolePolicyCommand).resolves({});

    const result = await ensureAuditRole(new IAMClient({}), '222222222222');

    expect(result).toEqual({
      roleName: 'audit-readonly',
      roleArn: 'arn:aws:iam::111111111111:role/audit-readonly',
      created: true,
    });
    const create = iam.commandCalls(CreateRoleCommand)[0].args[0].input;
    expect(create.RoleName).toBe('audit-readonly');
    expect(JSON.parse(create.AssumeRolePolicyDocument as string).Statement[0].Principal).toEqual({
      AWS: 'arn:aws:iam::222222222222:root',
    });
    expect(iam.commandCalls(AttachRolePolicyCommand)[0].args[0].input).toEqual({
      RoleName: 'audit-readonly',
      PolicyArn: READ_ONLY_POLICY_ARN,
    });
  });

  test('keeps an existing role and attaches the policy again (idempotent)', async () => {
    iam.on(GetRoleCommand).resolves({
      Role: {
        Arn: 'arn:aws:iam::111111111111:role/audit-readonly',
        RoleName: AUDIT_ROLE_NAME,
        Path: '/',
        RoleId: 'AROAEXAMPLE',
        CreateDate: new Date(0),
      },
    });
    iam.on(AttachRolePolicyCommand).resolves({});
    const result = await ensureAuditRole(new IAMClient({}), '222222222222');
    expect(result.created).toBe(false);
    expect(iam.commandCalls(CreateRoleCommand)).toHaveLength(0);
    expect(iam.commandCalls(AttachRolePolicyCommand)).toHaveLength(1);
  });

  test('other IAM errors are not swallowed', async () => {
    iam.on(GetRoleCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    await expect(ensureAuditRole(new IAMClient({}), '222222222222')).rejects.toThrow('denied');
    expect(iam.commandCalls(CreateRoleCommand)).toHaveLength(0);
  });
});

describe('example provisioning customizations: construct', () => {
  test('a logged, traced state machine that runs the marked handler, which may assume only the execution role', () => {
    const { stack } = newStack();
    new ExampleProvisioningCustomizations(stack, 'Custom', { executionRoleName: 'FactoryExec' });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true, Destinations: [{}] },
    });
    const asl = definitionOf(template);
    expect(asl.States['Create audit role'].ResultPath).toBe('$.auditRole');
    const assume = statementsOfFunction(template, EXAMPLE_HANDLER).filter((s) =>
      s.Action.includes('sts:AssumeRole'),
    );
    expect(assume.flatMap((s) => s.Resource.map(render))).toEqual([
      'arn:<AWS::Partition>:iam::*:role/FactoryExec',
    ]);
  });
});
