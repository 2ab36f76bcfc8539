import { ArnFormat, CustomResource, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge, nagResource } from './private/nag';
import { HandlerFunction } from './private/handler-function';

/** The IAM path of the factory roles that the management role trusts. */
export const DEFAULT_TRUSTED_ROLE_PATH = '/account-factory/';
/** The portfolio Control Tower creates for its Account Factory product. */
export const ACCOUNT_FACTORY_PORTFOLIO_NAME = 'AWS Control Tower Account Factory Portfolio';
/** The management role's name when the factory runs in another account (it must know the ARN). */
export const DEFAULT_MANAGEMENT_ROLE_NAME = 'AccountFactoryManagement';

const ROLE_PATH = /^\/([\x21-\x7e]{1,510}\/)?$/;

export interface ControlTowerAccessProps {
  /**
   * The account the factory runs in: its roles under `trustedRolePath` may assume the
   * management role.
   * @default - this stack's account (the factory runs in the management account)
   */
  readonly factoryAccountId?: string;
  /**
   * The IAM path of the factory roles allowed to assume the management role. The
   * factory gives this path to the roles of the steps that act in the management account.
   * @default DEFAULT_TRUSTED_ROLE_PATH ('/account-factory/')
   */
  readonly trustedRolePath?: string;
  /**
   * The management role's name. A factory in another account must know it.
   * @default - a name CloudFormation generates
   */
  readonly roleName?: string;
  /**
   * The Control Tower home region, where Account Factory's portfolio lives.
   * @default - this stack's region
   */
  readonly homeRegion?: string;
  /**
   * The name of Account Factory's portfolio in Service Catalog.
   * @default ACCOUNT_FACTORY_PORTFOLIO_NAME
   */
  readonly portfolioName?: string;
  /**
   * The role Control Tower creates in every enrolled account.
   * @default 'AWSControlTowerExecution'
   */
  readonly controlTowerExecutionRoleName?: string;
  /**
   * Lets the factory open AWS Support cases (featureOptions.enterpriseSupport).
   * @default false
   */
  readonly enterpriseSupport?: boolean;
  /**
   * Lets the factory change the event selectors of this trail (featureOptions.cloudTrailDataEvents).
   * @default - none
   */
  readonly cloudTrailTrailName?: string;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /** @default - CloudWatch Logs' own encryption */
  readonly encryptionKey?: kms.IKey;
}

/**
 * What the factory may do in the Control Tower management account: one role, trusted
 * only by the factory's roles under one IAM path, with the permissions the factory's
 * management-account steps need, and associated with Account Factory's portfolio in
 * Service Catalog (a product is visible only to principals associated with its
 * portfolio).
 *
 * Deploy it in the Control Tower management account and home region: inside the
 * factory when the factory runs there (`AccountFactory` does it), or in
 * `ManagementAccountStack` when the factory runs in a vending account.
 */
export class ControlTowerAccess extends Construct {
  /** The role the factory assumes in the management account. */
  public readonly role: iam.Role;
  /** The custom resource that associates `role` with the Account Factory portfolio. */
  public readonly portfolioAssociation: CustomResource;

  constructor(scope: Construct, id: string, props: ControlTowerAccessProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const factoryAccount = props.factoryAccountId ?? stack.account;
    const path = props.trustedRolePath ?? DEFAULT_TRUSTED_ROLE_PATH;
    validate(props, path, factoryAccount);
    const ctRole = props.controlTowerExecutionRoleName ?? 'AWSControlTowerExecution';
    const homeRegion = props.homeRegion ?? stack.region;

    const trustedArns = `arn:${stack.partition}:iam::${factoryAccount}:role${path}*`;
    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName,
      description: `Assumed by the account factory's roles (${path}) in account ${factoryAccount}`,
      assumedBy: new iam.AccountPrincipal(factoryAccount).withConditions({
        ArnLike: { 'aws:PrincipalArn': trustedArns },
      }),
    });

    const statements = managementRoleStatements(stack, props, ctRole);
    for (const s of statements) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: s.sid, actions: s.actions, resources: s.resources }),
      );
      const wild = s.resources.filter((r) => r.includes('*'));
      if (wild.length && s.reason) {
        acknowledge(
          this.role,
          'AwsSolutions-IAM5',
          `${s.actions.join(', ')}: ${s.reason}`,
          wild.map((r) => `Resource::${nagResource(this, r)}`),
        );
      }
    }

    this.portfolioAssociation = this.associateWithPortfolio(props, homeRegion);
  }

  /** The custom resource that associates the role with Account Factory's portfolio. */
  private associateWithPortfolio(props: ControlTowerAccessProps, homeRegion: string): CustomResource {
    const stack = Stack.of(this);
    const onEvent = new HandlerFunction(this, 'PortfolioAccess', {
      handler: 'portfolio-access',
      description: "Associates the factory's management role with Account Factory's portfolio",
      logRetention: props.logRetention,
      encryptionKey: props.encryptionKey,
    });
    const portfolios = Arn(stack, homeRegion, 'portfolio/*');
    onEvent.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['servicecatalog:ListPortfolios'],
        resources: ['*'],
      }),
    );
    onEvent.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'servicecatalog:AssociatePrincipalWithPortfolio',
          'servicecatalog:DisassociatePrincipalFromPortfolio',
        ],
        resources: [portfolios],
      }),
    );
    acknowledge(
      onEvent.role,
      'AwsSolutions-IAM5',
      "servicecatalog:ListPortfolios, servicecatalog:AssociatePrincipalWithPortfolio: Account Factory's portfolio is created by Control Tower and found by name at deploy time; ListPortfolios has no resource-level permissions",
      ['Resource::*', `Resource::${nagResource(this, portfolios)}`],
    );
    const association = new CustomResource(this, 'PortfolioAssociation', {
      // CloudFormation invokes the handler directly; it answers at the event's ResponseURL.
      serviceToken: onEvent.function.functionArn,
      resourceType: 'Custom::AccountFactoryPortfolioAccess',
      properties: {
        PortfolioName: props.portfolioName ?? ACCOUNT_FACTORY_PORTFOLIO_NAME,
        PrincipalArn: this.role.roleArn,
        Region: homeRegion,
      },
    });
    // Its permissions must exist before CloudFormation invokes it.
    association.node.addDependency(onEvent.role);
    return association;
  }

  /** Lets a factory role assume the management role (it must be under the trusted path). */
  public grantAssume(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['sts:AssumeRole'],
      resourceArns: [this.role.roleArn],
    });
  }
}

function Arn(stack: Stack, region: string, resource: string): string {
  return stack.formatArn({
    service: 'catalog',
    region,
    resource,
    arnFormat: ArnFormat.NO_RESOURCE_NAME,
  });
}

function validate(props: ControlTowerAccessProps, path: string, factoryAccount: string): void {
  if (!Token.isUnresolved(path) && !ROLE_PATH.test(path)) {
    throw new Error(
      `ControlTowerAccess trustedRolePath "${path}" must start and end with / (e.g. /account-factory/)`,
    );
  }
  if (!Token.isUnresolved(factoryAccount) && !/^\d{12}$/.test(factoryAccount)) {
    throw new Error(`ControlTowerAccess factoryAccountId "${factoryAccount}" must be a 12-digit account ID`);
  }
  if (props.roleName !== undefined && !/^[\w+=,.@-]{1,64}$/.test(props.roleName)) {
    throw new Error(
      `ControlTowerAccess roleName "${props.roleName}" is not an IAM role name (1-64 of letters, digits and +=,.@_-)`,
    );
  }
  if (
    props.homeRegion !== undefined &&
    !Token.isUnresolved(props.homeRegion) &&
    !/^[a-z]{2}(-[a-z]+)+-\d$/.test(props.homeRegion)
  ) {
    throw new Error(
      `ControlTowerAccess homeRegion "${props.homeRegion}" is not an AWS region (e.g. us-east-1)`,
    );
  }
}

interface RoleStatement {
  readonly sid: string;
  readonly actions: readonly string[];
  /** The resources, in the stack of the role; `ctRole` is Control Tower's role in each account. */
  readonly resources: (stack: Stack, ctRole: string, props: ControlTowerAccessProps) => string[];
  /** Why a wildcard resource (acknowledged for cdk-nag with it). */
  readonly reason?: string;
  /** Only when the factory uses the feature. @default - always */
  readonly when?: (props: ControlTowerAccessProps) => boolean;
}

/**
 * What the management role may do, statement by statement, with the reason for each
 * wildcard. A workflow step declares the management-account actions it calls
 * (`management()` in lib/workflow/steps.ts); each must be scoped here, where its
 * resources are known, or the factory refuses to synthesize (see
 * `assertManagementRoleGrants`).
 */
const MANAGEMENT_ROLE_STATEMENTS: readonly RoleStatement[] = [
  {
    sid: 'ReadOrganization',
    // These list actions have no resource-level permissions.
    actions: [
      'organizations:ListRoots',
      'organizations:ListAccounts',
      'organizations:ListOrganizationalUnitsForParent',
    ],
    resources: () => ['*'],
    reason: 'Organizations list actions have no resource-level permissions',
  },
  {
    sid: 'ManageAccounts',
    actions: [
      'organizations:DescribeAccount',
      'organizations:DescribeOrganizationalUnit',
      'organizations:ListParents',
      'organizations:ListTagsForResource',
      'organizations:TagResource',
      'organizations:UntagResource',
      'organizations:CloseAccount',
    ],
    resources: (stack) => [`arn:${stack.partition}:organizations::${stack.account}:*`],
    reason: "The organization's ID and its accounts are not known when the factory is deployed",
  },
  {
    // Account Factory's requester creates the account through Organizations
    // (Control Tower guide, "Permissions for Account Factory").
    sid: 'AccountFactoryRequester',
    actions: ['organizations:CreateAccount', 'organizations:DescribeCreateAccountStatus'],
    resources: () => ['*'],
    reason:
      'Account Factory creates the account on behalf of the principal that provisions the product; the account does not exist yet',
  },
  {
    sid: 'AccountFactoryProduct',
    actions: [
      'servicecatalog:SearchProducts',
      'servicecatalog:ListProvisioningArtifacts',
      'servicecatalog:ListLaunchPaths',
      'servicecatalog:ProvisionProduct',
      'servicecatalog:UpdateProvisionedProduct',
      'servicecatalog:TerminateProvisionedProduct',
      'servicecatalog:DescribeRecord',
      'servicecatalog:SearchProvisionedProducts',
    ],
    resources: () => ['*'],
    reason:
      'The Account Factory product, its versions, launch paths, provisioned products and records are found at run time',
  },
  {
    sid: 'ControlTowerBaselines',
    actions: ['controltower:ListEnabledBaselines'],
    resources: () => ['*'],
    reason: 'Reads which OUs Control Tower governs; ListEnabledBaselines has no resource-level permissions',
  },
  {
    sid: 'FirstHopIntoAccounts',
    actions: ['sts:AssumeRole'],
    resources: (stack, ctRole) => [`arn:${stack.partition}:iam::*:role/${ctRole}`],
    reason: 'Creates the execution role in each vended account (any account ID) through Control Tower’s role',
  },
  {
    sid: 'AccountSettings',
    actions: [
      'account:GetAlternateContact',
      'account:PutAlternateContact',
      'account:DeleteAlternateContact',
      'account:GetRegionOptStatus',
      'account:EnableRegion',
      'account:DisableRegion',
    ],
    resources: (stack) => [`arn:${stack.partition}:account::${stack.account}:account/o-*/*`],
    reason:
      "Sets each member account's alternate contacts and opt-in Regions; the organization's ID and the accounts are not known when the factory is deployed",
  },
  {
    sid: 'IdentityCenterInstances',
    actions: ['sso:ListInstances'],
    resources: () => ['*'],
    reason: 'sso:ListInstances has no resource-level permissions',
  },
  {
    sid: 'IdentityCenterAssignments',
    actions: [
      'sso:ListPermissionSets',
      'sso:DescribePermissionSet',
      'sso:ListAccountAssignments',
      'sso:CreateAccountAssignment',
      'sso:DeleteAccountAssignment',
      'sso:DescribeAccountAssignmentCreationStatus',
      'sso:DescribeAccountAssignmentDeletionStatus',
    ],
    resources: (stack) => [
      `arn:${stack.partition}:sso:::instance/*`,
      `arn:${stack.partition}:sso:::permissionSet/*/*`,
      `arn:${stack.partition}:sso:::account/*`,
    ],
    reason:
      "Assigns each account's groups and users to permission sets of the organization's Identity Center instance, found at run time",
  },
  {
    sid: 'IdentityCenterPrincipals',
    actions: ['identitystore:GetGroupId', 'identitystore:GetUserId'],
    resources: (stack) => [
      `arn:${stack.partition}:identitystore::${stack.account}:identitystore/*`,
      `arn:${stack.partition}:identitystore:::group/*`,
      `arn:${stack.partition}:identitystore:::user/*`,
    ],
    reason: 'Finds groups and users by name in the identity store of the instance found at run time',
  },
  {
    sid: 'EnterpriseSupport',
    actions: ['support:DescribeCases', 'support:CreateCase'],
    resources: () => ['*'],
    reason: 'AWS Support has no resource-level permissions',
    when: (props) => props.enterpriseSupport === true,
  },
  {
    sid: 'TrailDataEvents',
    actions: ['cloudtrail:GetEventSelectors', 'cloudtrail:PutEventSelectors'],
    resources: (stack, _ctRole, props) => {
      const trail = props.cloudTrailTrailName!;
      return [
        trail.startsWith('arn:')
          ? trail
          : stack.formatArn({ service: 'cloudtrail', resource: 'trail', resourceName: trail }),
      ];
    },
    when: (props) => props.cloudTrailTrailName !== undefined,
  },
];

/** Every action the management role can grant (with every feature on). */
export const MANAGEMENT_ROLE_ACTIONS: ReadonlySet<string> = new Set(
  MANAGEMENT_ROLE_STATEMENTS.flatMap((s) => s.actions),
);

/**
 * Refuses a step that calls, in the management account, an action the management role
 * does not scope: it would fail with AccessDenied at run time, in the first account.
 */
export function assertManagementRoleGrants(step: string, actions: readonly string[]): void {
  const missing = actions.filter((a) => !MANAGEMENT_ROLE_ACTIONS.has(a));
  if (missing.length) {
    throw new Error(
      `Step ${step} calls ${missing.join(', ')} in the management account, which the management role does not grant: ` +
        'add the action to a statement of MANAGEMENT_ROLE_STATEMENTS in lib/control-tower-access.ts, with its resources',
    );
  }
}

/** The management role's statements for these props, resolved in `stack`. */
function managementRoleStatements(
  stack: Stack,
  props: ControlTowerAccessProps,
  ctRole: string,
): { sid: string; actions: string[]; resources: string[]; reason?: string }[] {
  return MANAGEMENT_ROLE_STATEMENTS.filter((s) => s.when?.(props) ?? true).map((s) => ({
    sid: s.sid,
    actions: [...s.actions],
    resources: s.resources(stack, ctRole, props),
    reason: s.reason,
  }));
}
