import { InvalidAppConfig, readAppConfig } from '../../bin/app-config';
import { createApp } from '../../bin/create-app';

const DELEGATED = {
  topology: 'delegated',
  managementAccountId: '111111111111',
  factoryAccountId: '222222222222',
  homeRegion: 'eu-west-1',
};

const config = (context: Record<string, unknown>) => readAppConfig((k) => context[k]);

test('the management topology needs nothing', () => {
  expect(config({})).toEqual({ topology: 'management' });
});

test.each<[string, Record<string, unknown>, RegExp]>([
  [
    'an unknown topology',
    { topology: 'vending' },
    /Context topology is "vending": expected "management" or "delegated"/,
  ],
  [
    'a short account ID',
    { ...DELEGATED, factoryAccountId: '2222' },
    /Context factoryAccountId is "2222": expected a 12-digit/,
  ],
  [
    'a bad region',
    { ...DELEGATED, homeRegion: 'Frankfurt' },
    /Context homeRegion is "Frankfurt": expected an AWS region/,
  ],
  [
    'delegated without the accounts',
    { topology: 'delegated' },
    /needs managementAccountId, factoryAccountId, homeRegion/,
  ],
  ['the same account twice', { ...DELEGATED, factoryAccountId: '111111111111' }, /use topology=management/],
  [
    'a management role name in the management topology',
    { managementRoleName: 'X' },
    /delegated topology only/,
  ],
])('%s is refused with InvalidAppConfig naming the key', (_name, context, message) => {
  expect(() => config(context)).toThrow(InvalidAppConfig);
  expect(() => config(context)).toThrow(message);
});

test('delegated: a management account stack in the home region, the factory assuming its role', () => {
  const { app, stack, managementStack } = createApp({
    context: { 'aws:cdk:bundling-stacks': [], ...DELEGATED },
    nag: false,
  });
  expect(managementStack?.account).toBe('111111111111');
  expect(managementStack?.region).toBe('eu-west-1');
  expect(stack.account).toBe('222222222222');
  const template = app.synth().getStackByName(stack.stackName).template;
  const validate = Object.values<any>(template.Resources).find(
    (r) =>
      r.Type === 'AWS::Lambda::Function' &&
      r.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'validate-request',
  );
  expect(validate.Properties.Environment.Variables).toMatchObject({
    MANAGEMENT_ROLE_ARN: 'arn:aws:iam::111111111111:role/AccountFactoryManagement',
    CONTROL_TOWER_HOME_REGION: 'eu-west-1',
  });
  // The factory itself holds no management role: it is the management account's stack's.
  expect(JSON.stringify(template)).not.toContain('ControlTowerAccessRole');
});
