import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AccountFactory } from '../../lib/account-factory';
import { functionOf, newStack } from './helpers';

/** The role logical ids named in EXECUTION_ROLE_TRUSTED_ROLES. */
function trustedRoles(template: Template): string[] {
  const env = functionOf(template, 'create-execution-role').props.Environment.Variables;
  const value = env.EXECUTION_ROLE_TRUSTED_ROLES;
  expect(value['Fn::Join'][0]).toBe(',');
  return value['Fn::Join'][1].map((part: any) => part['Fn::GetAtt'][0]);
}

describe('the execution role trusts the factory roles that assume it, not the account', () => {
  test('create-execution-role, apply-feature-options and the customizations build', () => {
    const { stack } = newStack();
    new AccountFactory(stack, 'Factory');
    const roles = trustedRoles(Template.fromStack(stack));
    expect(roles).toHaveLength(3);
    expect(roles.join(' ')).toMatch(/CreateExecutionRole/);
    expect(roles.join(' ')).toMatch(/ApplyFeatureOptions/);
    expect(roles.join(' ')).toMatch(/CustomizationsRole/);
  });

  test('trustExecutionRole adds a role of yours (e.g. a provisioning customization)', () => {
    const { stack } = newStack();
    const factory = new AccountFactory(stack, 'Factory');
    const mine = new iam.Role(stack, 'Mine', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    factory.trustExecutionRole(mine);
    factory.trustExecutionRole(mine);
    const roles = trustedRoles(Template.fromStack(stack));
    expect(roles).toHaveLength(4);
    expect(roles.some((r) => r.startsWith('Mine'))).toBe(true);
  });
});
