import { serviceName } from './common';
import { integrationOf } from './services';
/**
 * Which IAM action an emulated API call needs, and on which resource ARN(s) AWS
 * authorizes it.
 *
 * Source: the Service Authorization Reference, one page per service ("Actions,
 * resources, and condition keys for <service>"), cited per entry in `source`. An
 * action whose "Resource types" column is empty is authorized on `*`. Where the
 * reference lists only optional resource types (ListParents, ListTagsForResource, ...)
 * the ARN of the resource the input names is returned: a policy on `*` matches it
 * either way. Where the ARN cannot be built from the input and the context, the
 * reference's ARN pattern is returned with `*` in the unknown part and `guess` says
 * why.
 *
 * Step Functions integrations: https://docs.aws.amazon.com/step-functions/latest/dg/integrate-optimized.html,
 * https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html and the IAM
 * policies each integration needs: https://docs.aws.amazon.com/step-functions/latest/dg/stepfunctions-iam.html
 */

export interface ArnContext {
  partition: string;
  region: string;
  /** The account the call acts in. */
  accountId: string;
  /** With or without the `o-` prefix. */
  organizationId?: string;
  managementAccountId?: string;
  /**
   * The ARN (with its path) of a role known by name. IAM authorizes role actions on the
   * role ARN, whose path the input (RoleName) does not carry; without this, path `/`.
   */
  resolveRoleArn?: (roleName: string) => string | undefined;
  /**
   * The ARN of the state machine (or activity) whose execution issued a task token.
   * SendTaskSuccess/Failure/Heartbeat are authorized on it (see the SFN entries).
   */
  resolveTaskToken?: (taskToken: string) => string | undefined;
}

export interface ActionCheck {
  action: string;
  resources: string[];
}

export interface IamActionMapping extends ActionCheck {
  /** URL of the Service Authorization Reference page. */
  source: string;
  /** Set when the resource mapping is not from a documented source, or is approximate. */
  guess?: string;
  /** Further checks the same call needs (e.g. one per item of a transaction). */
  additional?: ActionCheck[];
  /** Set when AWS does not authorize the call at all (sts:GetCallerIdentity). */
  authorizationNotRequired?: string;
}

const REF = 'https://docs.aws.amazon.com/service-authorization/latest/reference/';
const SOURCES = {
  sts: `${REF}list_sts.html`,
  organizations: `${REF}list_organizations.html`,
  controltower: `${REF}list_controltower.html`,
  servicecatalog: `${REF}list_awsservicecatalog.html`,
  iam: `${REF}list_iam.html`,
  ec2: `${REF}list_ec2.html`,
  codepipeline: `${REF}list_codepipeline.html`,
  sns: `${REF}list_sns.html`,
  support: `${REF}list_support.html`,
  cloudtrail: `${REF}list_cloudtrail.html`,
  dynamodb: `${REF}list_dynamodb.html`,
  states: `${REF}list_stepfunctions.html`,
  lambda: `${REF}list_lambda.html`,
  codebuild: `${REF}list_codebuild.html`,
  s3: `${REF}list_s3.html`,
  kms: `${REF}list_kms.html`,
  events: `${REF}list_events.html`,
  account: `${REF}list_awsaccountmanagement.html`,
  sso: `${REF}list_awsiamidentitycenter.html`,
  identitystore: `${REF}list_awsidentitystore.html`,
} as const;

type Input = Record<string, any>;
type Resolved = { resources: string[]; guess?: string; additional?: ActionCheck[] };
type Entry = {
  prefix: keyof typeof SOURCES;
  /** IAM action name when it differs from the operation (Lambda Invoke → InvokeFunction). */
  action?: string;
  resources: (input: Input, ctx: ArnContext) => Resolved | string[];
  authorizationNotRequired?: string;
};

const ANY = (): string[] => ['*'];

// --- ARN builders -----------------------------------------------------------

function arn(ctx: ArnContext, service: string, region: string, account: string, resource: string): string {
  return `arn:${ctx.partition}:${service}:${region}:${account}:${resource}`;
}

const isArn = (v: unknown): v is string => typeof v === 'string' && v.startsWith('arn:');

function required(input: Input, field: string, operation: string): string {
  const v = input[field];
  if (typeof v !== 'string' || v === '') {
    throw new Error(`iamActionFor ${operation}: input.${field} is required to build the resource ARN`);
  }
  return v;
}

function orgParts(ctx: ArnContext): { mgmt: string; org: string; guess?: string } {
  const missing: string[] = [];
  if (!ctx.managementAccountId) missing.push('managementAccountId');
  if (!ctx.organizationId) missing.push('organizationId');
  return {
    mgmt: ctx.managementAccountId ?? '*',
    org: ctx.organizationId ? `o-${ctx.organizationId.replace(/^o-/, '')}` : 'o-*',
    guess: missing.length
      ? `ArnContext has no ${missing.join(' or ')}: the Organizations ARN has * in its place`
      : undefined,
  };
}

/** An Organizations ARN for an account id, `ou-...`, `r-...` or `p-...` identifier. */
function orgArn(ctx: ArnContext, id: string): { arn: string; guess?: string } {
  const { mgmt, org, guess } = orgParts(ctx);
  const base = `arn:${ctx.partition}:organizations::${mgmt}:`;
  if (/^\d{12}$/.test(id)) return { arn: `${base}account/${org}/${id}`, guess };
  if (id.startsWith('ou-')) return { arn: `${base}ou/${org}/${id}`, guess };
  if (id.startsWith('r-')) return { arn: `${base}root/${org}/${id}`, guess };
  if (id.startsWith('p-')) {
    return {
      arn: `${base}policy/${org}/*/${id}`,
      guess: 'a policy ARN carries the policy type, which the id does not: * in its place',
    };
  }
  return { arn: `${base}*`, guess: `unrecognised Organizations identifier "${id}"` };
}

function orgResources(ctx: ArnContext, ...ids: string[]): Resolved {
  const built = ids.map((id) => orgArn(ctx, id));
  const guesses = [...new Set(built.map((b) => b.guess).filter((g): g is string => !!g))];
  return { resources: built.map((b) => b.arn), guess: guesses.length ? guesses.join('; ') : undefined };
}

function roleArn(ctx: ArnContext, input: Input, operation: string): Resolved {
  if (isArn(input.RoleArn)) return { resources: [input.RoleArn] };
  const name = required(input, 'RoleName', operation);
  const resolved = ctx.resolveRoleArn?.(name);
  if (resolved) return { resources: [resolved] };
  const path = typeof input.Path === 'string' ? input.Path : '/';
  return {
    resources: [`arn:${ctx.partition}:iam::${ctx.accountId}:role${path}${name}`],
    guess: input.Path || ctx.resolveRoleArn ? undefined : "the role's path is not in the input: assumed '/'",
  };
}

/** A Service Catalog call authorized on the product or portfolio its input names. */
function onCatalog(kind: 'product' | 'portfolio', field: string): Entry {
  return { prefix: 'servicecatalog', resources: (i, c) => catalogArn(c, kind, i[field]) };
}

function catalogArn(ctx: ArnContext, kind: 'product' | 'portfolio', id: unknown): Resolved {
  const owner =
    'the owning account is assumed to be the calling account (a product from an imported portfolio has its owner account in its ARN)';
  if (typeof id !== 'string' || id === '') {
    return {
      resources: [arn(ctx, 'catalog', ctx.region, ctx.accountId, `${kind}/*`)],
      guess: `no ${kind} id in the input (by name?): ${kind}/* in its place; ${owner}`,
    };
  }
  return { resources: [arn(ctx, 'catalog', ctx.region, ctx.accountId, `${kind}/${id}`)] };
}

function tableArn(ctx: ArnContext, table: string, index?: string): string {
  const base = isArn(table) ? table : arn(ctx, 'dynamodb', ctx.region, ctx.accountId, `table/${table}`);
  return index ? `${base}/index/${index}` : base;
}

function pipelineArn(ctx: ArnContext, name: string): string {
  return arn(ctx, 'codepipeline', ctx.region, ctx.accountId, name);
}

function ec2Arn(ctx: ArnContext, type: string, id: string): string {
  return arn(ctx, 'ec2', ctx.region, ctx.accountId, `${type}/${id}`);
}

function lambdaArn(ctx: ArnContext, name: string, qualifier?: string): string {
  let fn: string;
  if (isArn(name)) fn = name;
  else if (/^\d{12}:function:/.test(name)) fn = `arn:${ctx.partition}:lambda:${ctx.region}:${name}`;
  else fn = arn(ctx, 'lambda', ctx.region, ctx.accountId, `function:${name}`);
  return qualifier ? `${fn}:${qualifier}` : fn;
}

function kmsKey(ctx: ArnContext, keyId: unknown): Resolved {
  if (typeof keyId !== 'string' || keyId === '') {
    return {
      resources: [arn(ctx, 'kms', ctx.region, ctx.accountId, 'key/*')],
      guess: 'no KeyId: KMS takes the key from the ciphertext; key/* in its place',
    };
  }
  if (isArn(keyId) && keyId.includes(':key/')) return { resources: [keyId] };
  if (keyId.startsWith('alias/') || (isArn(keyId) && keyId.includes(':alias/'))) {
    return {
      resources: [arn(ctx, 'kms', ctx.region, ctx.accountId, 'key/*')],
      guess: 'an alias: KMS authorizes on the key it points to, unknown here; key/* in its place',
    };
  }
  return { resources: [arn(ctx, 'kms', ctx.region, ctx.accountId, `key/${keyId}`)] };
}

const TRANSACT_ACTIONS: Record<string, string> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
};

/**
 * Account Management: the `account` resource (arn:${Partition}:account::${Account}:account)
 * for a call on the caller's own account, `accountInOrganization`
 * (arn:${Partition}:account::${ManagementAccountId}:account/o-${OrganizationId}/${MemberAccountId})
 * for a call with AccountId.
 */
function accountResource(ctx: ArnContext, input: Input): Resolved {
  const member = input.AccountId;
  if (typeof member !== 'string' || member === '') {
    return { resources: [`arn:${ctx.partition}:account::${ctx.accountId}:account`] };
  }
  const { mgmt, org, guess } = orgParts(ctx);
  return { resources: [`arn:${ctx.partition}:account::${mgmt}:account/${org}/${member}`], guess };
}

/** IAM Identity Center: Instance (arn:${Partition}:sso:::instance/${InstanceId}) as the input's InstanceArn. */
function ssoInstance(input: Input, operation: string): string {
  return required(input, 'InstanceArn', operation);
}

/** Account (arn:${Partition}:sso:::account/${AccountId}), Instance and PermissionSet resources of an assignment call. */
function ssoAssignment(ctx: ArnContext, input: Input, operation: string, accountField: string): string[] {
  return [
    `arn:${ctx.partition}:sso:::account/${required(input, accountField, operation)}`,
    ssoInstance(input, operation),
    required(input, 'PermissionSetArn', operation),
  ];
}

/**
 * Identity Store: Identitystore (arn:${Partition}:identitystore::${Account}:identitystore/${IdentityStoreId})
 * and AllGroups / AllUsers (arn:${Partition}:identitystore:::group/* and user/*).
 */
function identityStore(ctx: ArnContext, input: Input, operation: string, all: 'group' | 'user'): string[] {
  return [
    `arn:${ctx.partition}:identitystore::${ctx.accountId}:identitystore/${required(input, 'IdentityStoreId', operation)}`,
    `arn:${ctx.partition}:identitystore:::${all}/*`,
  ];
}

// --- The table --------------------------------------------------------------

const TABLE: Record<string, Entry> = {
  // Account Management
  ...Object.fromEntries(
    [
      'PutAlternateContact',
      'GetAlternateContact',
      'DeleteAlternateContact',
      'EnableRegion',
      'DisableRegion',
      'GetRegionOptStatus',
      'ListRegions',
    ].map((op): [string, Entry] => [
      `Account.${op}`,
      { prefix: 'account', resources: (i, c) => accountResource(c, i) },
    ]),
  ),

  // IAM Identity Center (SSO admin)
  'SSOAdmin.ListInstances': { prefix: 'sso', resources: ANY },
  'SSOAdmin.ListPermissionSets': {
    prefix: 'sso',
    resources: (i) => [ssoInstance(i, 'ListPermissionSets')],
  },
  'SSOAdmin.DescribePermissionSet': {
    prefix: 'sso',
    resources: (i) => [
      ssoInstance(i, 'DescribePermissionSet'),
      required(i, 'PermissionSetArn', 'DescribePermissionSet'),
    ],
  },
  'SSOAdmin.CreateAccountAssignment': {
    prefix: 'sso',
    resources: (i, c) => ssoAssignment(c, i, 'CreateAccountAssignment', 'TargetId'),
  },
  'SSOAdmin.DeleteAccountAssignment': {
    prefix: 'sso',
    resources: (i, c) => ssoAssignment(c, i, 'DeleteAccountAssignment', 'TargetId'),
  },
  'SSOAdmin.DescribeAccountAssignmentCreationStatus': {
    prefix: 'sso',
    resources: (i) => [ssoInstance(i, 'DescribeAccountAssignmentCreationStatus')],
  },
  'SSOAdmin.DescribeAccountAssignmentDeletionStatus': {
    prefix: 'sso',
    resources: (i) => [ssoInstance(i, 'DescribeAccountAssignmentDeletionStatus')],
  },
  'SSOAdmin.ListAccountAssignments': {
    prefix: 'sso',
    resources: (i, c) => ssoAssignment(c, i, 'ListAccountAssignments', 'AccountId'),
  },

  // Identity Store
  'Identitystore.GetGroupId': {
    prefix: 'identitystore',
    resources: (i, c) => identityStore(c, i, 'GetGroupId', 'group'),
  },
  'Identitystore.GetUserId': {
    prefix: 'identitystore',
    resources: (i, c) => identityStore(c, i, 'GetUserId', 'user'),
  },

  // STS
  'STS.AssumeRole': { prefix: 'sts', resources: (i) => [required(i, 'RoleArn', 'AssumeRole')] },
  'STS.GetCallerIdentity': {
    prefix: 'sts',
    resources: ANY,
    authorizationNotRequired:
      'GetCallerIdentity needs no permission and works even under an explicit deny (STS API reference, GetCallerIdentity)',
  },

  // Organizations
  'Organizations.ListRoots': { prefix: 'organizations', resources: ANY },
  'Organizations.ListAccounts': { prefix: 'organizations', resources: ANY },
  'Organizations.DescribeOrganization': { prefix: 'organizations', resources: ANY },
  'Organizations.DescribeCreateAccountStatus': { prefix: 'organizations', resources: ANY },
  'Organizations.CreateAccount': { prefix: 'organizations', resources: ANY },
  'Organizations.ListOrganizationalUnitsForParent': {
    prefix: 'organizations',
    resources: (i, c) => orgResources(c, required(i, 'ParentId', 'ListOrganizationalUnitsForParent')),
  },
  'Organizations.ListAccountsForParent': {
    prefix: 'organizations',
    resources: (i, c) => orgResources(c, required(i, 'ParentId', 'ListAccountsForParent')),
  },
  'Organizations.DescribeOrganizationalUnit': {
    prefix: 'organizations',
    resources: (i, c) => orgResources(c, required(i, 'OrganizationalUnitId', 'DescribeOrganizationalUnit')),
  },
  'Organizations.DescribeAccount': {
    prefix: 'organizations',
    resources: (i, c) => orgResources(c, required(i, 'AccountId', 'DescribeAccount')),
  },
  'Organizations.CloseAccount': {
    prefix: 'organizations',
    resources: (i, c) => orgResources(c, required(i, 'AccountId', 'CloseAccount')),
  },
  'Organizations.ListParents': {
    prefix: 'organizations',
    resources: (i, c) => orgResources(c, required(i, 'ChildId', 'ListParents')),
  },
  'Organizations.ListTagsForResource': {
    prefix: 'organizations',
    resources: (i, c) => orgResources(c, required(i, 'ResourceId', 'ListTagsForResource')),
  },
  'Organizations.TagResource': {
    prefix: 'organizations',
    resources: (i, c) => orgResources(c, required(i, 'ResourceId', 'TagResource')),
  },
  'Organizations.UntagResource': {
    prefix: 'organizations',
    resources: (i, c) => orgResources(c, required(i, 'ResourceId', 'UntagResource')),
  },
  // account*, organizationalunit*, root*: the account, its source parent and its destination.
  'Organizations.MoveAccount': {
    prefix: 'organizations',
    resources: (i, c) =>
      orgResources(
        c,
        required(i, 'AccountId', 'MoveAccount'),
        required(i, 'SourceParentId', 'MoveAccount'),
        required(i, 'DestinationParentId', 'MoveAccount'),
      ),
  },

  // Control Tower
  'ControlTower.ListEnabledBaselines': { prefix: 'controltower', resources: ANY },
  'ControlTower.EnableBaseline': { prefix: 'controltower', resources: ANY },
  'ControlTower.GetBaselineOperation': { prefix: 'controltower', resources: ANY },
  'ControlTower.ResetEnabledBaseline': {
    prefix: 'controltower',
    resources: (i) => [required(i, 'enabledBaselineIdentifier', 'ResetEnabledBaseline')],
  },
  'ControlTower.GetEnabledBaseline': {
    prefix: 'controltower',
    resources: (i) => [required(i, 'enabledBaselineIdentifier', 'GetEnabledBaseline')],
  },

  // Service Catalog
  'ServiceCatalog.SearchProducts': { prefix: 'servicecatalog', resources: ANY },
  'ServiceCatalog.UpdateProvisionedProduct': { prefix: 'servicecatalog', resources: ANY },
  'ServiceCatalog.TerminateProvisionedProduct': { prefix: 'servicecatalog', resources: ANY },
  'ServiceCatalog.DescribeRecord': { prefix: 'servicecatalog', resources: ANY },
  'ServiceCatalog.SearchProvisionedProducts': { prefix: 'servicecatalog', resources: ANY },
  'ServiceCatalog.DescribeProvisionedProduct': { prefix: 'servicecatalog', resources: ANY },
  'ServiceCatalog.ListPortfolios': { prefix: 'servicecatalog', resources: ANY },
  'ServiceCatalog.ListProvisioningArtifacts': onCatalog('product', 'ProductId'),
  'ServiceCatalog.ListLaunchPaths': onCatalog('product', 'ProductId'),
  'ServiceCatalog.ProvisionProduct': onCatalog('product', 'ProductId'),
  'ServiceCatalog.DescribeProduct': onCatalog('product', 'Id'),
  'ServiceCatalog.AssociatePrincipalWithPortfolio': onCatalog('portfolio', 'PortfolioId'),
  'ServiceCatalog.DisassociatePrincipalFromPortfolio': onCatalog('portfolio', 'PortfolioId'),
  'ServiceCatalog.ListPrincipalsForPortfolio': onCatalog('portfolio', 'PortfolioId'),

  // IAM (PassRole is not an API call: the emulator checks it with { RoleArn } when a call passes a role)
  'IAM.GetRole': { prefix: 'iam', resources: (i, c) => roleArn(c, i, 'GetRole') },
  'IAM.CreateRole': { prefix: 'iam', resources: (i, c) => roleArn(c, i, 'CreateRole') },
  'IAM.UpdateAssumeRolePolicy': {
    prefix: 'iam',
    resources: (i, c) => roleArn(c, i, 'UpdateAssumeRolePolicy'),
  },
  'IAM.ListAttachedRolePolicies': {
    prefix: 'iam',
    resources: (i, c) => roleArn(c, i, 'ListAttachedRolePolicies'),
  },
  'IAM.AttachRolePolicy': { prefix: 'iam', resources: (i, c) => roleArn(c, i, 'AttachRolePolicy') },
  'IAM.DetachRolePolicy': { prefix: 'iam', resources: (i, c) => roleArn(c, i, 'DetachRolePolicy') },
  'IAM.DeleteRole': { prefix: 'iam', resources: (i, c) => roleArn(c, i, 'DeleteRole') },
  'IAM.PassRole': { prefix: 'iam', resources: (i, c) => roleArn(c, i, 'PassRole') },

  // EC2
  'EC2.DescribeRegions': { prefix: 'ec2', resources: ANY },
  'EC2.DescribeVpcs': { prefix: 'ec2', resources: ANY },
  'EC2.DescribeInternetGateways': { prefix: 'ec2', resources: ANY },
  'EC2.DescribeSubnets': { prefix: 'ec2', resources: ANY },
  'EC2.DetachInternetGateway': {
    prefix: 'ec2',
    resources: (i, c) => [
      ec2Arn(c, 'internet-gateway', required(i, 'InternetGatewayId', 'DetachInternetGateway')),
      ec2Arn(c, 'vpc', required(i, 'VpcId', 'DetachInternetGateway')),
    ],
  },
  'EC2.DeleteInternetGateway': {
    prefix: 'ec2',
    resources: (i, c) => [
      ec2Arn(c, 'internet-gateway', required(i, 'InternetGatewayId', 'DeleteInternetGateway')),
    ],
  },
  'EC2.DeleteSubnet': {
    prefix: 'ec2',
    resources: (i, c) => [ec2Arn(c, 'subnet', required(i, 'SubnetId', 'DeleteSubnet'))],
  },
  'EC2.DeleteVpc': {
    prefix: 'ec2',
    resources: (i, c) => [ec2Arn(c, 'vpc', required(i, 'VpcId', 'DeleteVpc'))],
  },

  // CodePipeline
  'CodePipeline.GetPipeline': {
    prefix: 'codepipeline',
    resources: (i, c) => [pipelineArn(c, required(i, 'name', 'GetPipeline'))],
  },
  'CodePipeline.CreatePipeline': {
    prefix: 'codepipeline',
    resources: (i, c) => [pipelineArn(c, required(i.pipeline ?? {}, 'name', 'CreatePipeline'))],
  },
  'CodePipeline.UpdatePipeline': {
    prefix: 'codepipeline',
    resources: (i, c) => [pipelineArn(c, required(i.pipeline ?? {}, 'name', 'UpdatePipeline'))],
  },
  'CodePipeline.DeletePipeline': {
    prefix: 'codepipeline',
    resources: (i, c) => [pipelineArn(c, required(i, 'name', 'DeletePipeline'))],
  },
  'CodePipeline.StartPipelineExecution': {
    prefix: 'codepipeline',
    resources: (i, c) => [pipelineArn(c, required(i, 'name', 'StartPipelineExecution'))],
  },
  'CodePipeline.GetPipelineExecution': {
    prefix: 'codepipeline',
    resources: (i, c) => [pipelineArn(c, required(i, 'pipelineName', 'GetPipelineExecution'))],
  },
  'CodePipeline.ListPipelineExecutions': {
    prefix: 'codepipeline',
    resources: (i, c) => [pipelineArn(c, required(i, 'pipelineName', 'ListPipelineExecutions'))],
  },
  'CodePipeline.GetPipelineState': {
    prefix: 'codepipeline',
    resources: (i, c) => [pipelineArn(c, required(i, 'name', 'GetPipelineState'))],
  },

  // SNS
  'SNS.Publish': {
    prefix: 'sns',
    resources: (i) => {
      if (isArn(i.TopicArn)) return [i.TopicArn];
      if (isArn(i.TargetArn)) return [i.TargetArn];
      return { resources: ['*'], guess: 'a publish to a phone number has no topic ARN: * in its place' };
    },
  },

  // Support
  'Support.CreateCase': { prefix: 'support', resources: ANY },
  'Support.DescribeCases': { prefix: 'support', resources: ANY },

  // CloudTrail
  'CloudTrail.GetEventSelectors': {
    prefix: 'cloudtrail',
    resources: (i, c) => trailArn(c, required(i, 'TrailName', 'GetEventSelectors')),
  },
  'CloudTrail.PutEventSelectors': {
    prefix: 'cloudtrail',
    resources: (i, c) => trailArn(c, required(i, 'TrailName', 'PutEventSelectors')),
  },

  // DynamoDB
  'DynamoDB.GetItem': {
    prefix: 'dynamodb',
    resources: (i, c) => [tableArn(c, required(i, 'TableName', 'GetItem'))],
  },
  'DynamoDB.PutItem': {
    prefix: 'dynamodb',
    resources: (i, c) => [tableArn(c, required(i, 'TableName', 'PutItem'))],
  },
  'DynamoDB.UpdateItem': {
    prefix: 'dynamodb',
    resources: (i, c) => [tableArn(c, required(i, 'TableName', 'UpdateItem'))],
  },
  'DynamoDB.DeleteItem': {
    prefix: 'dynamodb',
    resources: (i, c) => [tableArn(c, required(i, 'TableName', 'DeleteItem'))],
  },
  'DynamoDB.DescribeTable': {
    prefix: 'dynamodb',
    resources: (i, c) => [tableArn(c, required(i, 'TableName', 'DescribeTable'))],
  },
  'DynamoDB.Query': {
    prefix: 'dynamodb',
    resources: (i, c) => [tableArn(c, required(i, 'TableName', 'Query'), i.IndexName)],
  },
  'DynamoDB.Scan': {
    prefix: 'dynamodb',
    resources: (i, c) => [tableArn(c, required(i, 'TableName', 'Scan'), i.IndexName)],
  },
  'DynamoDB.BatchGetItem': {
    prefix: 'dynamodb',
    resources: (i, c) => Object.keys(i.RequestItems ?? {}).map((t) => tableArn(c, t)),
  },
  'DynamoDB.BatchWriteItem': {
    prefix: 'dynamodb',
    resources: (i, c) => Object.keys(i.RequestItems ?? {}).map((t) => tableArn(c, t)),
  },

  // Step Functions
  'SFN.StartExecution': {
    prefix: 'states',
    resources: (i) => [required(i, 'stateMachineArn', 'StartExecution')],
  },
  'SFN.DescribeExecution': {
    prefix: 'states',
    resources: (i) => [required(i, 'executionArn', 'DescribeExecution')],
  },
  'SFN.StopExecution': { prefix: 'states', resources: (i) => [required(i, 'executionArn', 'StopExecution')] },
  'SFN.ListExecutions': {
    prefix: 'states',
    resources: (i) => [isArn(i.mapRunArn) ? i.mapRunArn : required(i, 'stateMachineArn', 'ListExecutions')],
  },
  // The reference lists no resource type for SendTask* (which would mean "*"), but AWS
  // authorizes them on the state machine that issued the token: AccessDenied messages read
  // "... states:SendTaskFailure on resource: arn:aws:states:<r>:<a>:stateMachine:<name>", and
  // aws-cdk tested grants scoped to the state machine as working (aws/aws-cdk pull 8486).
  'SFN.SendTaskSuccess': { prefix: 'states', resources: (i, c) => taskTokenOwner(c, i) },
  'SFN.SendTaskFailure': { prefix: 'states', resources: (i, c) => taskTokenOwner(c, i) },
  'SFN.SendTaskHeartbeat': { prefix: 'states', resources: (i, c) => taskTokenOwner(c, i) },

  // Lambda
  'Lambda.Invoke': {
    prefix: 'lambda',
    action: 'InvokeFunction',
    resources: (i, c) => [lambdaArn(c, required(i, 'FunctionName', 'Invoke'), i.Qualifier)],
  },

  // CodeBuild
  'CodeBuild.StartBuild': {
    prefix: 'codebuild',
    resources: (i, c) => [
      arn(c, 'codebuild', c.region, c.accountId, `project/${required(i, 'projectName', 'StartBuild')}`),
    ],
  },
  'CodeBuild.BatchGetBuilds': {
    prefix: 'codebuild',
    // Build ids are "<project>:<uuid>" (or build ARNs); the reference authorizes on the project.
    resources: (i, c) => [
      ...new Set(
        ((i.ids ?? []) as string[]).map((id) => {
          const name = id.startsWith('arn:') ? id.split(':build/')[1]?.split(':')[0] : id.split(':')[0];
          return arn(c, 'codebuild', c.region, c.accountId, `project/${name}`);
        }),
      ),
    ],
  },

  // S3
  'S3.GetObject': {
    prefix: 's3',
    resources: (i, c) => [
      `arn:${c.partition}:s3:::${required(i, 'Bucket', 'GetObject')}/${required(i, 'Key', 'GetObject')}`,
    ],
  },
  'S3.PutObject': {
    prefix: 's3',
    resources: (i, c) => [
      `arn:${c.partition}:s3:::${required(i, 'Bucket', 'PutObject')}/${required(i, 'Key', 'PutObject')}`,
    ],
  },

  // KMS
  'KMS.Decrypt': { prefix: 'kms', resources: (i, c) => kmsKey(c, i.KeyId) },
  'KMS.GenerateDataKey': { prefix: 'kms', resources: (i, c) => kmsKey(c, i.KeyId) },
};

const TASK_TOKEN_GUESS =
  'not in the reference (no resource type listed): AWS is observed to authorize SendTask* on the state machine that issued the token';

function taskTokenOwner(ctx: ArnContext, input: Input): Resolved {
  const owner = typeof input.taskToken === 'string' ? ctx.resolveTaskToken?.(input.taskToken) : undefined;
  if (owner) return { resources: [owner], guess: TASK_TOKEN_GUESS };
  return {
    resources: [arn(ctx, 'states', ctx.region, ctx.accountId, 'stateMachine:*')],
    guess: `${TASK_TOKEN_GUESS}; the token's state machine is unknown here (no resolveTaskToken): stateMachine:* in its place`,
  };
}

function trailArn(ctx: ArnContext, nameOrArn: string): string[] {
  if (isArn(nameOrArn)) return [nameOrArn];
  return [arn(ctx, 'cloudtrail', ctx.region, ctx.accountId, `trail/${nameOrArn}`)];
}

/** DynamoDB TransactWriteItems has no action of its own: each item is authorized as its own action. */
function transactWrite(input: Input, ctx: ArnContext): IamActionMapping {
  const items = (input.TransactItems ?? []) as Record<string, { TableName: string }>[];
  const checks: ActionCheck[] = items.map((item) => {
    const kind = Object.keys(item).find((k) => k in TRANSACT_ACTIONS);
    if (!kind)
      throw new Error(`iamActionFor TransactWriteItems: unknown item ${JSON.stringify(Object.keys(item))}`);
    return { action: TRANSACT_ACTIONS[kind], resources: [tableArn(ctx, item[kind].TableName)] };
  });
  if (checks.length === 0) throw new Error('iamActionFor TransactWriteItems: no TransactItems');
  return {
    ...checks[0],
    additional: checks.slice(1),
    source: SOURCES.dynamodb,
    guess:
      'no dynamodb:TransactWriteItems action exists in the reference; each item is checked as PutItem, UpdateItem, DeleteItem or ConditionCheckItem (DynamoDB developer guide, transactions and IAM)',
  };
}

/** The IAM action and resources AWS authorizes an API call on. Throws for a call not in the table. */
export function iamActionFor(
  service: string,
  operation: string,
  input: Record<string, any>,
  ctx: ArnContext,
): IamActionMapping {
  if (service === 'DynamoDB' && operation === 'TransactWriteItems') return transactWrite(input, ctx);
  const entry = TABLE[`${service}.${operation}`];
  if (!entry) throw new Error(`iamActionFor: no IAM mapping for ${service}.${operation}`);
  const out = entry.resources(input ?? {}, ctx);
  const resolved: Resolved = Array.isArray(out) ? { resources: out } : out;
  const mapping: IamActionMapping = {
    action: `${entry.prefix}:${entry.action ?? operation}`,
    resources: resolved.resources,
    source: SOURCES[entry.prefix],
  };
  if (resolved.guess) mapping.guess = resolved.guess;
  if (resolved.additional?.length) mapping.additional = resolved.additional;
  if (entry.authorizationNotRequired) mapping.authorizationNotRequired = entry.authorizationNotRequired;
  return mapping;
}

/** Every call the table covers, with its IAM action (TransactWriteItems: per item, see iamActionFor). */
export function mappedOperations(): { service: string; operation: string; action: string }[] {
  const rows = Object.entries(TABLE).map(([k, e]) => {
    const [service, operation] = k.split('.');
    return { service, operation, action: `${e.prefix}:${e.action ?? operation}` };
  });
  return [
    ...rows,
    ...Object.values(TRANSACT_ACTIONS).map((action) => ({
      service: 'DynamoDB',
      operation: 'TransactWriteItems',
      action,
    })),
  ];
}

// --- Step Functions integrations ------------------------------------------------

export interface IntegrationTarget {
  /** SDK client name without 'Client', as iamActionFor takes it. */
  service: string;
  operation: string;
  pattern: 'request-response' | 'sync' | 'waitForTaskToken';
  /**
   * Permissions the integration pattern needs beyond the call itself (`.sync`: the
   * status poll, the stop and the managed EventBridge rule), as resource patterns.
   */
  additional?: ActionCheck[];
  source: string;
}

const SFN_IAM_DOC = 'https://docs.aws.amazon.com/step-functions/latest/dg/stepfunctions-iam.html';
const SFN_SDK_DOC = 'https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html';

/**
 * aws-sdk integrations nothing serves locally (the engine refuses such a Task), mapped
 * here only to check the IAM they need. The served ones come from the emulator's one
 * mapping (`integrationOf`, services.ts).
 */
const UNSERVED_SDK_SERVICES: Record<string, string> = {
  lambda: 'Lambda',
  codebuild: 'CodeBuild',
  s3: 'S3',
  kms: 'KMS',
};

/** The service and action parts of a Task Resource `arn:<partition>:states:::<service>:<action>`. */
export function parseIntegrationArn(resource: string): { service: string; action: string } {
  const m = /^arn:[^:]+:states:::(aws-sdk:[^:]+|[^:]+):(.+)$/.exec(resource);
  if (!m) throw new Error(`not a Step Functions service integration: ${resource}`);
  return { service: m[1], action: m[2] };
}

/**
 * Maps a Task's integration (`aws-sdk:<service>` + `<action>[.waitForTaskToken]`, or an
 * optimized one such as `dynamodb` + `updateItem`, `states` + `startExecution.sync:2`) to
 * the (service, operation) iamActionFor takes.
 */
export function STEP_FUNCTIONS_INTEGRATION_ACTION(service: string, action: string): IntegrationTarget {
  const [name, suffix] = splitSuffix(action);
  const pattern: IntegrationTarget['pattern'] =
    suffix === undefined ? 'request-response' : suffix === 'waitForTaskToken' ? 'waitForTaskToken' : 'sync';
  if (suffix !== undefined && !/^(waitForTaskToken|sync(:2)?)$/.test(suffix)) {
    throw new Error(`unknown integration pattern ".${suffix}" in ${service}:${action}`);
  }
  const operation = name.charAt(0).toUpperCase() + name.slice(1);

  if (service.startsWith('aws-sdk:')) {
    const sdk = service.slice('aws-sdk:'.length);
    const served = integrationOf(sdk, name)?.client.name;
    const client = served ? serviceName(served) : UNSERVED_SDK_SERVICES[sdk];
    if (!client) throw new Error(`no SDK client known for the aws-sdk:${sdk} integration`);
    if (pattern === 'sync')
      throw new Error(`aws-sdk integrations do not support .sync (${service}:${action})`);
    return { service: client, operation, pattern, source: SFN_SDK_DOC };
  }

  switch (`${service}:${name}`) {
    case 'lambda:invoke':
      return { service: 'Lambda', operation: 'Invoke', pattern, source: SFN_IAM_DOC };
    case 'sns:publish':
      return { service: 'SNS', operation: 'Publish', pattern, source: SFN_IAM_DOC };
    case 'dynamodb:getItem':
    case 'dynamodb:putItem':
    case 'dynamodb:updateItem':
    case 'dynamodb:deleteItem':
      if (pattern !== 'request-response')
        throw new Error(`${service}:${action}: DynamoDB is request-response only`);
      return { service: 'DynamoDB', operation, pattern, source: SFN_IAM_DOC };
    case 'states:startExecution':
      return {
        service: 'SFN',
        operation: 'StartExecution',
        pattern,
        source: SFN_IAM_DOC,
        additional:
          pattern === 'sync'
            ? [
                // Resource patterns from the "Synchronous" policy on the page: the execution ARNs of
                // the started state machine, and the rule Step Functions manages.
                { action: 'states:DescribeExecution', resources: ['arn:*:states:*:*:execution:*:*'] },
                { action: 'states:StopExecution', resources: ['arn:*:states:*:*:execution:*:*'] },
                ...['events:PutTargets', 'events:PutRule', 'events:DescribeRule'].map((a) => ({
                  action: a,
                  resources: ['arn:*:events:*:*:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule'],
                })),
              ]
            : undefined,
      };
    case 'codebuild:startBuild':
      return {
        service: 'CodeBuild',
        operation: 'StartBuild',
        pattern,
        source: SFN_IAM_DOC,
        additional:
          pattern === 'sync'
            ? [
                { action: 'codebuild:StopBuild', resources: ['arn:*:codebuild:*:*:project/*'] },
                { action: 'codebuild:BatchGetBuilds', resources: ['arn:*:codebuild:*:*:project/*'] },
                ...['events:PutTargets', 'events:PutRule', 'events:DescribeRule'].map((a) => ({
                  action: a,
                  resources: ['arn:*:events:*:*:rule/StepFunctionsGetEventForCodeBuildStartBuildRule'],
                })),
              ]
            : undefined,
      };
    default:
      throw new Error(`no mapping for the optimized integration ${service}:${action}`);
  }
}

function splitSuffix(action: string): [string, string | undefined] {
  const dot = action.indexOf('.');
  return dot < 0 ? [action, undefined] : [action.slice(0, dot), action.slice(dot + 1)];
}
