import {
  authorizationMessage,
  Caller,
  evaluateAssumeRole,
  evaluateIdentityPolicies,
  evaluateTrustPolicy,
  PolicyDocument,
  PolicyStatement,
  RequestContext,
} from '../../../local/emulator/iam-policy';

const TABLE = 'arn:aws:dynamodb:us-east-1:111111111111:table/Requests';

function policy(...Statement: PolicyStatement[]): PolicyDocument {
  return { Version: '2012-10-17', Statement };
}

function allow(extra: Partial<PolicyStatement>): PolicyStatement {
  const statement: PolicyStatement = { Effect: 'Allow', ...extra };
  if (statement.NotAction === undefined) statement.Action ??= '*';
  if (statement.NotResource === undefined) statement.Resource ??= '*';
  return statement;
}

function effectOf(docs: PolicyDocument[], request: RequestContext): string {
  return evaluateIdentityPolicies(docs, request).effect;
}

describe('identity policies: actions and resources', () => {
  test('Action wildcards * and ? match case-insensitively, and nothing else', () => {
    // Arrange
    const docs = [policy(allow({ Action: ['dynamodb:Get*', 'states:Send?ask*'] }))];

    // Act / Assert
    expect(effectOf(docs, { action: 'dynamodb:GetItem', resource: TABLE })).toBe('Allow');
    expect(effectOf(docs, { action: 'DynamoDB:getitem', resource: TABLE })).toBe('Allow');
    expect(effectOf(docs, { action: 'states:SendTaskSuccess', resource: '*' })).toBe('Allow');
    expect(effectOf(docs, { action: 'dynamodb:PutItem', resource: TABLE })).toBe('ImplicitDeny');
    expect(effectOf(docs, { action: 'states:SendXTaskSuccess', resource: '*' })).toBe('ImplicitDeny');
  });

  test('NotAction allows everything except the listed actions', () => {
    const docs = [policy(allow({ NotAction: ['iam:*', 'organizations:CloseAccount'] }))];

    expect(effectOf(docs, { action: 'sns:Publish', resource: '*' })).toBe('Allow');
    expect(effectOf(docs, { action: 'iam:PassRole', resource: '*' })).toBe('ImplicitDeny');
    expect(effectOf(docs, { action: 'organizations:closeaccount', resource: '*' })).toBe('ImplicitDeny');
  });

  test('Resource matching is case-sensitive, with wildcards', () => {
    const docs = [policy(allow({ Resource: 'arn:aws:dynamodb:us-east-1:111111111111:table/Req*' }))];

    expect(effectOf(docs, { action: 'dynamodb:GetItem', resource: TABLE })).toBe('Allow');
    expect(
      effectOf(docs, { action: 'dynamodb:GetItem', resource: TABLE.replace('Requests', 'requests') }),
    ).toBe('ImplicitDeny');
    expect(effectOf(docs, { action: 'dynamodb:GetItem', resource: `${TABLE}/index/ByStatus` })).toBe('Allow');
  });

  test('a wildcard in an ARN segment does not cross a colon, a trailing one does', () => {
    const inRegion = [policy(allow({ Resource: 'arn:aws:states:us-*:111111111111:stateMachine:Account' }))];
    const trailing = [policy(allow({ Resource: 'arn:aws:states:*' }))];
    const smuggled = 'arn:aws:states:us-east-1:999999999999:x:111111111111:stateMachine:Account';

    expect(
      effectOf(inRegion, {
        action: 'states:StartExecution',
        resource: 'arn:aws:states:us-east-1:111111111111:stateMachine:Account',
      }),
    ).toBe('Allow');
    expect(effectOf(inRegion, { action: 'states:StartExecution', resource: smuggled })).toBe('ImplicitDeny');
    expect(effectOf(trailing, { action: 'states:StartExecution', resource: smuggled })).toBe('Allow');
  });

  test('the resource segment matches across colons (execution ARNs)', () => {
    const docs = [policy(allow({ Resource: 'arn:aws:states:us-east-1:111111111111:execution:Account:*' }))];

    expect(
      effectOf(docs, {
        action: 'states:DescribeExecution',
        resource: 'arn:aws:states:us-east-1:111111111111:execution:Account:run-1',
      }),
    ).toBe('Allow');
    expect(
      effectOf(docs, {
        action: 'states:DescribeExecution',
        resource: 'arn:aws:states:us-east-1:111111111111:execution:Other:run-1',
      }),
    ).toBe('ImplicitDeny');
  });

  test('NotResource applies to every resource except the listed ones', () => {
    const docs = [policy(allow({ Action: 'dynamodb:*', NotResource: TABLE }))];

    expect(effectOf(docs, { action: 'dynamodb:GetItem', resource: `${TABLE}-2` })).toBe('Allow');
    expect(effectOf(docs, { action: 'dynamodb:GetItem', resource: TABLE })).toBe('ImplicitDeny');
  });

  test('an explicit Deny in any policy beats an Allow, and names its statement', () => {
    const docs = [
      policy(allow({ Action: 'organizations:*' })),
      policy({ Sid: 'NoClose', Effect: 'Deny', Action: 'organizations:CloseAccount', Resource: '*' }),
    ];

    const decision = evaluateIdentityPolicies(docs, { action: 'organizations:CloseAccount', resource: '*' });

    expect(decision).toEqual({ effect: 'ExplicitDeny', statement: 'NoClose' });
    expect(effectOf(docs, { action: 'organizations:DescribeAccount', resource: '*' })).toBe('Allow');
  });

  test('no statement at all is an implicit deny', () => {
    expect(effectOf([], { action: 'sns:Publish', resource: '*' })).toBe('ImplicitDeny');
  });

  test('Principal in an identity policy and policy variables are rejected, not guessed', () => {
    const withPrincipal = [policy(allow({ Principal: '*' }))];
    const withVariable = [policy(allow({ Resource: 'arn:aws:iam::111111111111:user/${aws:username}' }))];

    expect(() => effectOf(withPrincipal, { action: 'sns:Publish', resource: '*' })).toThrow(/Principal/);
    expect(() => effectOf(withVariable, { action: 'sns:Publish', resource: 'x' })).toThrow(
      /policy variables/,
    );
  });
});

describe('identity policies: conditions', () => {
  const request = (keys: RequestContext['keys']): RequestContext => ({
    action: 'sns:Publish',
    resource: '*',
    keys,
  });
  const withCondition = (Condition: PolicyStatement['Condition']) => [policy(allow({ Condition }))];
  const holds = (Condition: PolicyStatement['Condition'], keys: RequestContext['keys']) =>
    effectOf(withCondition(Condition), request(keys)) === 'Allow';

  test.each([
    ['StringEquals', 'abc', 'abc', true],
    ['StringEquals', 'abc', 'ABC', false],
    ['StringNotEquals', 'abc', 'abd', true],
    ['StringNotEquals', 'abc', 'abc', false],
    ['StringEqualsIgnoreCase', 'abc', 'ABC', true],
    ['StringNotEqualsIgnoreCase', 'abc', 'ABC', false],
    ['StringLike', 'a?c*', 'abcdef', true],
    ['StringLike', 'a?c*', 'acdef', false],
    ['StringNotLike', 'a*', 'bcd', true],
    ['StringNotLike', 'a*', 'abc', false],
    ['NumericEquals', '10', '10', true],
    ['NumericNotEquals', '10', '10', false],
    ['NumericLessThan', '10', '9', true],
    ['NumericLessThan', '10', '10', false],
    ['NumericLessThanEquals', '10', '10', true],
    ['NumericGreaterThan', '10', '11', true],
    ['NumericGreaterThanEquals', '10', '9', false],
    ['DateLessThan', '2026-01-01T00:00:00Z', '2025-12-31T23:59:59Z', true],
    ['DateGreaterThan', '2026-01-01T00:00:00Z', '2025-12-31T23:59:59Z', false],
    ['Bool', 'true', 'true', true],
    ['Bool', 'true', 'false', false],
    ['ArnEquals', 'arn:aws:iam::111111111111:role/A', 'arn:aws:iam::111111111111:role/A', true],
    ['ArnLike', 'arn:aws:iam::111111111111:role/Factory-*', 'arn:aws:iam::111111111111:role/Factory-x', true],
    [
      'ArnLike',
      'arn:aws:iam::111111111111:role/Factory-*',
      'arn:aws:iam::222222222222:role/Factory-x',
      false,
    ],
    ['ArnLike', 'arn:aws:iam::*:role/A', 'not-an-arn', false],
    ['ArnNotEquals', 'arn:aws:iam::111111111111:role/A', 'arn:aws:iam::111111111111:role/B', true],
    ['ArnNotLike', 'arn:aws:iam::*:role/A*', 'arn:aws:iam::111111111111:role/Ab', false],
  ])('%s %s against %s is %s', (operator, policyValue, contextValue, expected) => {
    expect(holds({ [operator]: { 'test:Key': policyValue } }, { 'test:Key': contextValue })).toBe(expected);
  });

  test('Bool matches a boolean context value', () => {
    expect(holds({ Bool: { 'aws:SecureTransport': 'false' } }, { 'aws:SecureTransport': false })).toBe(true);
    expect(holds({ Bool: { 'aws:SecureTransport': true } }, { 'aws:SecureTransport': false })).toBe(false);
  });

  test('several values for one key are OR; several keys and operators are AND', () => {
    const condition = {
      StringEquals: {
        'aws:RequestedRegion': ['us-east-1', 'eu-west-1'],
        'aws:PrincipalAccount': '111111111111',
      },
      Bool: { 'aws:SecureTransport': 'true' },
    };
    const good = {
      'aws:RequestedRegion': 'eu-west-1',
      'aws:PrincipalAccount': '111111111111',
      'aws:SecureTransport': true,
    };

    expect(holds(condition, good)).toBe(true);
    expect(holds(condition, { ...good, 'aws:RequestedRegion': 'ap-south-1' })).toBe(false);
    expect(holds(condition, { ...good, 'aws:PrincipalAccount': '222222222222' })).toBe(false);
    expect(holds(condition, { ...good, 'aws:SecureTransport': false })).toBe(false);
  });

  test('a negated operator with several values holds only when the value matches none', () => {
    const condition = { StringNotEquals: { 'aws:RequestedRegion': ['us-east-1', 'eu-west-1'] } };

    expect(holds(condition, { 'aws:RequestedRegion': 'ap-south-1' })).toBe(true);
    expect(holds(condition, { 'aws:RequestedRegion': 'eu-west-1' })).toBe(false);
  });

  test('condition key names are case-insensitive', () => {
    expect(
      holds({ StringEquals: { 'AWS:RequestedRegion': 'us-east-1' } }, { 'aws:requestedregion': 'us-east-1' }),
    ).toBe(true);
  });

  test('a key missing from the context: positive operators are false, negated ones true', () => {
    expect(holds({ StringEquals: { 'aws:SourceAccount': '111111111111' } }, {})).toBe(false);
    expect(holds({ ArnLike: { 'aws:SourceArn': 'arn:*' } }, { 'aws:SourceArn': undefined })).toBe(false);
    expect(holds({ StringNotEquals: { 'aws:SourceAccount': '111111111111' } }, {})).toBe(true);
  });

  test('...IfExists holds when the key is missing and tests it when present', () => {
    const condition = { StringEqualsIfExists: { 'iam:PassedToService': 'states.amazonaws.com' } };

    expect(holds(condition, {})).toBe(true);
    expect(holds(condition, { 'iam:PassedToService': 'states.amazonaws.com' })).toBe(true);
    expect(holds(condition, { 'iam:PassedToService': 'lambda.amazonaws.com' })).toBe(false);
  });

  test('Null tests presence', () => {
    expect(holds({ Null: { 'aws:SourceArn': 'true' } }, {})).toBe(true);
    expect(holds({ Null: { 'aws:SourceArn': 'true' } }, { 'aws:SourceArn': 'arn:x' })).toBe(false);
    expect(holds({ Null: { 'aws:SourceArn': 'false' } }, { 'aws:SourceArn': 'arn:x' })).toBe(true);
    expect(holds({ Null: { 'aws:SourceArn': false } }, {})).toBe(false);
  });

  test('ForAnyValue: one matching member is enough; a missing key is false', () => {
    const condition = { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['owner', 'cost'] } };

    expect(holds(condition, { 'aws:TagKeys': ['name', 'cost'] })).toBe(true);
    expect(holds(condition, { 'aws:TagKeys': ['name'] })).toBe(false);
    expect(holds(condition, {})).toBe(false);
  });

  test('ForAllValues: every member must match; a missing key is true', () => {
    const condition = { 'ForAllValues:StringLike': { 'aws:TagKeys': ['owner', 'cost*'] } };

    expect(holds(condition, { 'aws:TagKeys': ['owner', 'cost-centre'] })).toBe(true);
    expect(holds(condition, { 'aws:TagKeys': ['owner', 'name'] })).toBe(false);
    expect(holds(condition, {})).toBe(true);
  });

  test('an unknown or unsupported operator throws a clear error', () => {
    expect(() => holds({ StringSortOf: { k: 'v' } }, { k: 'v' })).toThrow(
      /unknown condition operator "StringSortOf"/,
    );
    expect(() => holds({ 'ForSomeValues:StringEquals': { k: 'v' } }, { k: 'v' })).toThrow(/set operator/);
    expect(() => holds({ IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, {})).toThrow(/not supported/);
  });

  test('a policy variable in a condition value throws', () => {
    expect(() => holds({ StringEquals: { 'aws:username': '${aws:username}' } }, {})).toThrow(
      /policy variables/,
    );
  });
});

describe('trust policies', () => {
  const ROLE = 'arn:aws:iam::111111111111:role/Mgmt';
  const assume: RequestContext = { action: 'sts:AssumeRole', resource: ROLE };
  const session: Caller = {
    arn: 'arn:aws:sts::222222222222:assumed-role/Factory-Provision/session-1',
    roleArn: 'arn:aws:iam::222222222222:role/Factory-Provision',
  };
  const trust = (statement: Partial<PolicyStatement>) =>
    policy({ Effect: 'Allow', Action: 'sts:AssumeRole', ...statement } as PolicyStatement);

  test('an account id principal admits any principal of that account only', () => {
    const doc = trust({ Principal: { AWS: '222222222222' } });

    expect(evaluateTrustPolicy(doc, session, assume).effect).toBe('Allow');
    expect(
      evaluateTrustPolicy(doc, { arn: 'arn:aws:sts::333333333333:assumed-role/Factory-Provision/s' }, assume)
        .effect,
    ).toBe('ImplicitDeny');
  });

  test('an account root ARN principal is the same as the account id', () => {
    const doc = trust({ Principal: { AWS: 'arn:aws:iam::222222222222:root' } });

    expect(evaluateTrustPolicy(doc, session, assume).effect).toBe('Allow');
    expect(evaluateTrustPolicy(doc, { arn: 'arn:aws:iam::333333333333:role/X' }, assume).effect).toBe(
      'ImplicitDeny',
    );
  });

  test('a role ARN principal admits that role and its sessions, not another role', () => {
    const doc = trust({ Principal: { AWS: ['arn:aws:iam::222222222222:role/Factory-Provision'] } });

    expect(evaluateTrustPolicy(doc, session, assume).effect).toBe('Allow');
    expect(
      evaluateTrustPolicy(doc, { arn: 'arn:aws:iam::222222222222:role/Factory-Provision' }, assume).effect,
    ).toBe('Allow');
    expect(
      evaluateTrustPolicy(doc, { arn: 'arn:aws:sts::222222222222:assumed-role/Factory-Other/s' }, assume)
        .effect,
    ).toBe('ImplicitDeny');
  });

  test('an assumed-role session ARN derives its role ARN when none is given', () => {
    const doc = trust({ Principal: { AWS: 'arn:aws:iam::222222222222:role/Factory-Provision' } });

    const decision = evaluateTrustPolicy(doc, { arn: session.arn }, assume);

    expect(decision.effect).toBe('Allow');
  });

  test('a service principal admits that service only', () => {
    const doc = JSON.stringify(trust({ Principal: { Service: 'lambda.amazonaws.com' } }));

    expect(
      evaluateTrustPolicy(doc, { arn: 'lambda.amazonaws.com', service: 'lambda.amazonaws.com' }, assume)
        .effect,
    ).toBe('Allow');
    expect(
      evaluateTrustPolicy(doc, { arn: 'states.amazonaws.com', service: 'states.amazonaws.com' }, assume)
        .effect,
    ).toBe('ImplicitDeny');
    expect(evaluateTrustPolicy(doc, session, assume).effect).toBe('ImplicitDeny');
  });

  test('the project pattern: account root principal narrowed by aws:PrincipalArn ArnLike', () => {
    // Arrange
    const doc = trust({
      Principal: { AWS: 'arn:aws:iam::222222222222:root' },
      Condition: { ArnLike: { 'aws:PrincipalArn': ['arn:aws:iam::222222222222:role/Factory-*'] } },
    });
    const otherRole: Caller = { arn: 'arn:aws:sts::222222222222:assumed-role/Admin/s' };

    // Act
    const factory = evaluateTrustPolicy(doc, session, assume);
    const other = evaluateTrustPolicy(doc, otherRole, assume);

    // Assert: aws:PrincipalArn of a session is its role ARN, filled in from the caller
    expect(factory.effect).toBe('Allow');
    expect(other.effect).toBe('ImplicitDeny');
  });

  test('the role path is kept in aws:PrincipalArn when the caller gives roleArn', () => {
    const doc = trust({
      Principal: { AWS: '222222222222' },
      Condition: { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::222222222222:role/factory/*' } },
    });
    const withPath: Caller = {
      arn: 'arn:aws:sts::222222222222:assumed-role/Runner/s',
      roleArn: 'arn:aws:iam::222222222222:role/factory/Runner',
    };

    expect(evaluateTrustPolicy(doc, withPath, assume).effect).toBe('Allow');
    expect(evaluateTrustPolicy(doc, { arn: withPath.arn }, assume).effect).toBe('ImplicitDeny');
  });

  test('"*" principal, an Action that does not match, and an explicit Deny', () => {
    const everyone = trust({ Principal: '*' });
    const tagOnly = trust({ Principal: { AWS: '*' }, Action: 'sts:TagSession' });
    const denied = policy(
      { Effect: 'Allow', Principal: { AWS: '222222222222' }, Action: 'sts:AssumeRole' },
      { Sid: 'NotThatOne', Effect: 'Deny', Principal: { AWS: session.roleArn }, Action: 'sts:*' },
    );

    expect(evaluateTrustPolicy(everyone, session, assume).effect).toBe('Allow');
    expect(evaluateTrustPolicy(tagOnly, session, assume).effect).toBe('ImplicitDeny');
    expect(evaluateTrustPolicy(denied, session, assume)).toEqual({
      effect: 'ExplicitDeny',
      statement: 'NotThatOne',
    });
  });

  test('NotPrincipal applies to everyone but the listed principals', () => {
    const doc = policy(
      { Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole' },
      { Effect: 'Deny', NotPrincipal: { AWS: session.roleArn }, Action: 'sts:AssumeRole' },
    );

    expect(evaluateTrustPolicy(doc, session, assume).effect).toBe('Allow');
    expect(evaluateTrustPolicy(doc, { arn: 'arn:aws:iam::222222222222:role/Other' }, assume).effect).toBe(
      'ExplicitDeny',
    );
  });

  test('a partial wildcard in a principal ARN throws', () => {
    const doc = trust({ Principal: { AWS: 'arn:aws:iam::222222222222:role/Factory-*' } });

    expect(() => evaluateTrustPolicy(doc, session, assume)).toThrow(/wildcards/);
  });
});

describe('evaluateAssumeRole', () => {
  const MGMT_ROLE = 'arn:aws:iam::111111111111:role/factory-management';
  const factorySession: Caller = {
    arn: 'arn:aws:sts::222222222222:assumed-role/Factory-Provision/s',
    roleArn: 'arn:aws:iam::222222222222:role/Factory-Provision',
  };
  const canAssume = policy({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: MGMT_ROLE });
  const trustAccount = policy({
    Effect: 'Allow',
    Principal: { AWS: 'arn:aws:iam::222222222222:root' },
    Action: 'sts:AssumeRole',
    Condition: { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::222222222222:role/Factory-*' } },
  });

  test('across accounts both the identity policy and the trust policy must allow', () => {
    expect(evaluateAssumeRole([canAssume], trustAccount, factorySession, MGMT_ROLE).decision.effect).toBe(
      'Allow',
    );
    expect(evaluateAssumeRole([], trustAccount, factorySession, MGMT_ROLE)).toEqual({
      decision: { effect: 'ImplicitDeny' },
      policyType: 'identity-based',
    });
    expect(
      evaluateAssumeRole(
        [canAssume],
        policy({ ...(trustAccount.Statement as PolicyStatement[])[0], Principal: { AWS: '333333333333' } }),
        factorySession,
        MGMT_ROLE,
      ),
    ).toEqual({ decision: { effect: 'ImplicitDeny' }, policyType: 'resource-based' });
  });

  test('in one account a trust policy naming the role is enough; one trusting the account is not', () => {
    const role = 'arn:aws:iam::222222222222:role/Target';
    const named = policy({
      Effect: 'Allow',
      Principal: { AWS: factorySession.roleArn },
      Action: 'sts:AssumeRole',
    });
    const account = policy({ Effect: 'Allow', Principal: { AWS: '222222222222' }, Action: 'sts:AssumeRole' });

    expect(evaluateAssumeRole([], named, factorySession, role).decision.effect).toBe('Allow');
    expect(evaluateAssumeRole([], account, factorySession, role).decision.effect).toBe('ImplicitDeny');
    expect(
      evaluateAssumeRole(
        [policy({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: role })],
        account,
        factorySession,
        role,
      ).decision.effect,
    ).toBe('Allow');
  });

  test('an explicit deny in the identity policy wins over a trust that names the caller', () => {
    const role = 'arn:aws:iam::222222222222:role/Target';
    const named = policy({
      Effect: 'Allow',
      Principal: { AWS: factorySession.roleArn },
      Action: 'sts:AssumeRole',
    });
    const deny = policy({ Sid: 'NoAssume', Effect: 'Deny', Action: 'sts:AssumeRole', Resource: '*' });

    expect(evaluateAssumeRole([deny], named, factorySession, role)).toEqual({
      decision: { effect: 'ExplicitDeny', statement: 'NoAssume' },
      policyType: 'identity-based',
    });
  });
});

describe('authorizationMessage', () => {
  const caller = 'arn:aws:sts::111111111111:assumed-role/R/s';
  const product = 'arn:aws:catalog:us-east-1:111111111111:product/prod-abc';

  test('implicit deny', () => {
    expect(
      authorizationMessage(caller, 'servicecatalog:ProvisionProduct', product, { effect: 'ImplicitDeny' }),
    ).toBe(
      'User: arn:aws:sts::111111111111:assumed-role/R/s is not authorized to perform: servicecatalog:ProvisionProduct' +
        ` on resource: ${product} because no identity-based policy allows the servicecatalog:ProvisionProduct action`,
    );
  });

  test('explicit deny, and a resource-based (trust) policy', () => {
    expect(authorizationMessage(caller, 'sns:Publish', 'arn:t', { effect: 'ExplicitDeny' })).toBe(
      `User: ${caller} is not authorized to perform: sns:Publish on resource: arn:t with an explicit deny in an identity-based policy`,
    );
    expect(
      authorizationMessage(caller, 'sts:AssumeRole', 'arn:r', { effect: 'ImplicitDeny' }, 'resource-based'),
    ).toMatch(/because no resource-based policy allows the sts:AssumeRole action$/);
  });

  test('an Allow has no message', () => {
    expect(() => authorizationMessage(caller, 'sns:Publish', 'arn:t', { effect: 'Allow' })).toThrow(
      /allowed/,
    );
  });
});
