import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  GetRoleCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  NoSuchEntityException,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import {
  createExecutionRole,
  CreateExecutionRoleInputSchema,
  ExecutionRoleConfig,
  parseRoleArns,
  handler,
  samePolicy,
  trustPolicy,
} from '../../lambda/create-execution-role';

const stsMock = mockClient(STSClient);
const iamMock = mockClient(IAMClient);
const sts = new STSClient({ region: 'us-east-1' });

const ACCOUNT = '111111111111';
const FACTORY = '222222222222';
/** The factory's roles that assume the execution role. */
const FACTORY_ROLES = [
  `arn:aws:iam::${FACTORY}:role/account-factory/CreateExecutionRoleRole`,
  `arn:aws:iam::${FACTORY}:role/account-factory/ApplyFeatureOptionsRole`,
  `arn:aws:iam::${FACTORY}:role/account-factory/CustomizationsRole`,
];
const EXECUTION_ROLE_POLICY_ARN = 'arn:aws:iam::aws:policy/AdministratorAccess';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/AWSAFTExecution`;
const CT_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/AWSControlTowerExecution`;
const config: ExecutionRoleConfig = {
  controlTowerRoleName: 'AWSControlTowerExecution',
  executionRoleName: 'AWSAFTExecution',
  trustedRoleArns: FACTORY_ROLES,
};
const credentials = {
  Credentials: {
    AccessKeyId: 'AKIDTEST',
    SecretAccessKey: 'secret',
    SessionToken: 'token',
    Expiration: new Date(),
  },
};
const input = CreateExecutionRoleInputSchema.parse({
  state: { account: { accountId: ACCOUNT } },
  execution: {
    id: 'arn:aws:states:us-east-1:222222222222:execution:x:y',
    startTime: '2026-01-01T00:00:00.000Z',
  },
});

const encoded = (policy: unknown) => encodeURIComponent(JSON.stringify(policy));
const accessDenied = () =>
  new STSServiceException({
    name: 'AccessDenied',
    $fault: 'client',
    $metadata: {},
    message: 'not authorized',
  });

beforeEach(() => {
  stsMock.reset();
  iamMock.reset();
  stsMock.on(AssumeRoleCommand).resolves(credentials);
  iamMock.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [] });
  iamMock.on(CreateRoleCommand).resolves({
    Role: {
      RoleName: 'AWSAFTExecution',
      Arn: ROLE_ARN,
      Path: '/',
      RoleId: 'AROATEST',
      CreateDate: new Date(),
    },
  });
});

describe('create execution role', () => {
  test('creates the role through the Control Tower role, attaches AdministratorAccess, checks it is assumable', async () => {
    iamMock.on(GetRoleCommand).rejects(new NoSuchEntityException({ message: 'no role', $metadata: {} }));

    const result = await createExecutionRole(sts, input, config);

    expect(result).toEqual({ roleArn: ROLE_ARN, created: true });
    const create = iamMock.commandCalls(CreateRoleCommand)[0].args[0].input;
    expect(create.RoleName).toBe('AWSAFTExecution');
    // The factory's own roles, not the factory account's root.
    expect(JSON.parse(create.AssumeRolePolicyDocument!)).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: FACTORY_ROLES }, Action: 'sts:AssumeRole' }],
    });
    expect(create.AssumeRolePolicyDocument).not.toContain(':root');
    expect(iamMock.commandCalls(AttachRolePolicyCommand).map((c) => c.args[0].input)).toEqual([
      { RoleName: 'AWSAFTExecution', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' },
    ]);
    expect(stsMock.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleArn)).toEqual([
      CT_ROLE_ARN,
      ROLE_ARN,
    ]);
  });

  test('an existing, correct role is left alone', async () => {
    iamMock.on(GetRoleCommand).resolves({
      Role: {
        RoleName: 'AWSAFTExecution',
        Arn: ROLE_ARN,
        Path: '/',
        RoleId: 'AROATEST',
        CreateDate: new Date('2025-06-01T00:00:00.000Z'),
        // IAM returns the document URL-encoded, in its own layout.
        AssumeRolePolicyDocument: encoded({
          Statement: {
            Action: ['sts:AssumeRole'],
            Principal: { AWS: [...FACTORY_ROLES].reverse() },
            Effect: 'Allow',
          },
          Version: '2012-10-17',
        }),
      },
    });
    iamMock.on(ListAttachedRolePoliciesCommand).resolves({
      AttachedPolicies: [{ PolicyName: 'AdministratorAccess', PolicyArn: EXECUTION_ROLE_POLICY_ARN }],
    });

    const result = await createExecutionRole(sts, input, config);

    expect(result).toEqual({ roleArn: ROLE_ARN, created: false });
    expect(iamMock.commandCalls(CreateRoleCommand)).toHaveLength(0);
    expect(iamMock.commandCalls(UpdateAssumeRolePolicyCommand)).toHaveLength(0);
    expect(iamMock.commandCalls(AttachRolePolicyCommand)).toHaveLength(0);
  });

  test('trust policy drift is repaired and a detached policy attached again', async () => {
    iamMock.on(GetRoleCommand).resolves({
      Role: {
        RoleName: 'AWSAFTExecution',
        Arn: ROLE_ARN,
        Path: '/',
        RoleId: 'AROATEST',
        CreateDate: new Date('2025-06-01T00:00:00.000Z'),
        AssumeRolePolicyDocument: encoded(trustPolicy([`arn:aws:iam::${FACTORY}:root`])),
      },
    });
    iamMock
      .on(ListAttachedRolePoliciesCommand)
      .resolvesOnce({
        AttachedPolicies: [
          { PolicyName: 'ReadOnlyAccess', PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' },
        ],
        IsTruncated: true,
        Marker: 'page-2',
      })
      .resolvesOnce({ AttachedPolicies: [] });

    const result = await createExecutionRole(sts, input, config);

    expect(result.created).toBe(false);
    const update = iamMock.commandCalls(UpdateAssumeRolePolicyCommand).map((c) => c.args[0].input);
    expect(update).toHaveLength(1);
    expect(JSON.parse(update[0].PolicyDocument!)).toEqual(trustPolicy(FACTORY_ROLES));
    expect(iamMock.commandCalls(ListAttachedRolePoliciesCommand)[1].args[0].input.Marker).toBe('page-2');
    expect(iamMock.commandCalls(AttachRolePolicyCommand)).toHaveLength(1);
  });

  test('a role STS cannot assume yet is ExecutionRoleNotReady (retried by the state machine)', async () => {
    iamMock.on(GetRoleCommand).rejects(new NoSuchEntityException({ message: 'no role', $metadata: {} }));
    stsMock.on(AssumeRoleCommand, { RoleArn: ROLE_ARN }).rejects(accessDenied());

    await expect(createExecutionRole(sts, input, config)).rejects.toMatchObject({
      name: 'ExecutionRoleNotReady',
    });
    expect(iamMock.commandCalls(CreateRoleCommand)).toHaveLength(1);
  });

  test('the retry after ExecutionRoleNotReady still reports the role as created by this execution', async () => {
    iamMock.on(GetRoleCommand).resolves({
      Role: {
        RoleName: 'AWSAFTExecution',
        Arn: ROLE_ARN,
        Path: '/',
        RoleId: 'AROATEST',
        CreateDate: new Date('2026-01-01T00:00:05.000Z'),
        AssumeRolePolicyDocument: encoded(trustPolicy(FACTORY_ROLES)),
      },
    });
    iamMock.on(ListAttachedRolePoliciesCommand).resolves({
      AttachedPolicies: [{ PolicyName: 'AdministratorAccess', PolicyArn: EXECUTION_ROLE_POLICY_ARN }],
    });

    expect(await createExecutionRole(sts, input, config)).toEqual({ roleArn: ROLE_ARN, created: true });
    expect(iamMock.commandCalls(CreateRoleCommand)).toHaveLength(0);
  });

  test('other failures keep their name', async () => {
    stsMock.on(AssumeRoleCommand, { RoleArn: CT_ROLE_ARN }).rejects(accessDenied());

    await expect(createExecutionRole(sts, input, config)).rejects.toMatchObject({ name: 'AccessDenied' });
    expect(iamMock.calls()).toHaveLength(0);
  });

  test('handler rejects input without an account', async () => {
    await expect(handler({ state: {} })).rejects.toMatchObject({ name: 'InvalidStepInput' });
  });
});

describe('partitions and trusted roles', () => {
  test('in GovCloud the role, its policy and its trust are aws-us-gov ARNs', async () => {
    iamMock.on(GetRoleCommand).rejects(new NoSuchEntityException({ message: 'no role', $metadata: {} }));
    const gov = FACTORY_ROLES.map((a) => a.replace('arn:aws:', 'arn:aws-us-gov:'));

    const result = await createExecutionRole(sts, input, { ...config, trustedRoleArns: gov });

    expect(iamMock.commandCalls(AttachRolePolicyCommand)[0].args[0].input.PolicyArn).toBe(
      'arn:aws-us-gov:iam::aws:policy/AdministratorAccess',
    );
    expect(
      JSON.parse(iamMock.commandCalls(CreateRoleCommand)[0].args[0].input.AssumeRolePolicyDocument!),
    ).toMatchObject({ Statement: [{ Principal: { AWS: gov } }] });
    // IAM's own answer names the role (CreateRole returns its ARN); the fallback uses the partition too.
    expect(result.roleArn).toMatch(/^arn:aws(-us-gov)?:iam::111111111111:role\/AWSAFTExecution$/);
  });

  test('the trusted roles come as comma-separated role ARNs; anything else is refused', () => {
    expect(parseRoleArns(`${FACTORY_ROLES[0]}, ${FACTORY_ROLES[1]},${FACTORY_ROLES[0]}`)).toEqual(
      FACTORY_ROLES.slice(0, 2),
    );
    expect(() => parseRoleArns('')).toThrow(/EXECUTION_ROLE_TRUSTED_ROLES/);
    expect(() => parseRoleArns(`arn:aws:iam::${FACTORY}:root`)).toThrow(/EXECUTION_ROLE_TRUSTED_ROLES/);
  });
});

describe('samePolicy', () => {
  test('compares parsed documents, not their text', () => {
    const desired = trustPolicy(FACTORY_ROLES);
    expect(samePolicy(encoded(desired), desired)).toBe(true);
    expect(samePolicy(encoded({ ...desired, Version: '2008-10-17' }), desired)).toBe(false);
    expect(samePolicy('%7Bnot json', desired)).toBe(false);
    expect(samePolicy(undefined, desired)).toBe(false);
  });
});
