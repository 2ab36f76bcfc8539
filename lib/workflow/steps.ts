import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ENV } from '../../lambda/shared/env';
import { ExecutionRoleNotReady } from '../../lambda/shared/errors';
import { HANDLER, STEP } from './step-names';

/**
 * One place per step: every Lambda step of the provisioning workflow is one
 * descriptor in `WORKFLOW_STEPS`, with its handler (the folder under lambda/), what
 * it is, where it acts, the permissions it needs and why. The factory loops over
 * the descriptors to create each function and grant it what it needs (as aws-cdk's
 * tasks carry their own `taskPolicies`); the phase fragments take the functions
 * by handler name from one lookup (`StepFunctions`), and the account setup phase
 * chains the steps that say `accountSetup`, in the order of the table.
 *
 * To add a step: write lambda/<handler>/index.ts, and add a descriptor here.
 */

/** What a step's permissions may refer to: what the factory created or was given. */
export interface StepContext {
  readonly requestsTable: dynamodb.ITable;
  readonly metadataTable: dynamodb.ITable;
  readonly successTopic: sns.ITopic;
  readonly failureTopic: sns.ITopic;
  /** The role in the Control Tower management account. */
  readonly managementRole: iam.IRole;
  /** `arn:<partition>:iam::*:role/<executionRoleName>`: the execution role in any account. */
  readonly executionRoleArns: string;
  /** The ARN of every account pipeline (`<prefix>-*`). */
  readonly pipelineArnPattern: string;
  /** The role every account pipeline runs as. */
  readonly pipelineRole: iam.IRole;
  /** The opt-in feature options, resolved. */
  readonly features: {
    readonly deleteDefaultVpcs: boolean;
    readonly enterpriseSupport: boolean;
    readonly cloudTrailTrail?: string;
  };
  /** The ARNs of the roles the execution role trusts, comma-separated (resolved at synth). */
  readonly executionRoleTrustedArns: string;
  /** The index of the organization's accounts by email and name (AccountIndex). */
  readonly accountIndexTable: dynamodb.ITable;
}

/** One permission of a step (build them with the helpers below). */
export type StepPermission =
  | {
      /** Management-account APIs go through the management role, which holds their permissions (ControlTowerAccess). */
      readonly kind: 'management';
      /** What the step calls there (documentation: the management role grants them). */
      readonly actions: readonly string[];
      readonly reason: string;
    }
  | { readonly kind: 'table'; readonly table: dynamodb.ITable; readonly access: 'read' | 'readWrite' }
  | { readonly kind: 'publish'; readonly topic: sns.ITopic }
  | {
      readonly kind: 'statement';
      readonly statement: iam.PolicyStatement;
      /** Acknowledges the cdk-nag wildcard finding on each of the statement's resources, with this reason. */
      readonly wildcardReason?: string;
    };

/** sts:AssumeRole on the management role, to call `actions` in the management account. */
export function management(actions: readonly string[], reason: string): StepPermission {
  return { kind: 'management', actions, reason };
}
export function readTable(table: dynamodb.ITable): StepPermission {
  return { kind: 'table', table, access: 'read' };
}
export function readWriteTable(table: dynamodb.ITable): StepPermission {
  return { kind: 'table', table, access: 'readWrite' };
}
export function publish(topic: sns.ITopic): StepPermission {
  return { kind: 'publish', topic };
}
/** A statement; `wildcardReason` when its resources are patterns (one per account, ...). */
export function allow(
  props: iam.PolicyStatementProps & { readonly wildcardReason?: string },
): StepPermission {
  const { wildcardReason, ...statement } = props;
  return { kind: 'statement', statement: new iam.PolicyStatement(statement), wildcardReason };
}

/** Where a step runs in the account setup phase (after the Control Tower operation). */
export interface AccountSetupTask {
  /** The state name (the local engine and the tests key on it: see step-names.ts). */
  readonly stateName: string;
  /** Where the step's result lands in the state, or `JsonPath.DISCARD`. */
  readonly resultPath: string;
  /** @default - the retries every step has (Lambda failures, throttling) */
  readonly retries?: readonly sfn.RetryProps[];
  /**
   * The step starts asynchronous work and returns `status: 'IN_PROGRESS'` until it is
   * done: a Choice sends it through a Wait and back into the step, which reads its
   * previous result at `resultPath` and checks again (no busy loop in the Lambda).
   * @default - one call
   */
  readonly poll?: {
    /** The Choice's state name. */
    readonly choiceStateName: string;
    /** The Wait's state name. */
    readonly waitStateName: string;
    readonly interval: Duration;
  };
}

export interface StepDescriptor {
  /** The handler folder under lambda/ (its index.ts exports `handler`). */
  readonly handler: string;
  /** The function's description. */
  readonly description: string;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
  /**
   * `management`: the step calls the Control Tower management account through the
   * management role: it gets MANAGEMENT_ROLE_ARN and CONTROL_TOWER_HOME_REGION, and its
   * role lives under `factoryRolePath`, which the management role trusts.
   */
  readonly actsIn: 'factory' | 'management';
  /** What the step needs, in the order granted. */
  readonly permissions: (ctx: StepContext) => readonly StepPermission[];
  /**
   * The execution role in each vended account trusts this step's role.
   * @default false
   */
  readonly assumesExecutionRole?: boolean;
  /** @default - the factory's common environment only */
  readonly environment?: (ctx: StepContext) => Record<string, string>;
  /**
   * A task of the account setup phase; the phase chains these in table order.
   * @default - the step is wired by its phase's fragment
   */
  readonly accountSetup?: AccountSetupTask;
}

const SERVICE_CATALOG_ACTIONS = [
  'servicecatalog:SearchProducts',
  'servicecatalog:ListProvisioningArtifacts',
  'servicecatalog:ListLaunchPaths',
  'servicecatalog:ProvisionProduct',
  'servicecatalog:UpdateProvisionedProduct',
  'servicecatalog:DescribeRecord',
  'servicecatalog:SearchProvisionedProducts',
];

const ONE_PIPELINE_PER_ACCOUNT = 'One pipeline per account, named <prefix>-<account id>';

/** The Lambda steps of the provisioning workflow (the semaphore brings its own functions). */
export const WORKFLOW_STEPS = [
  {
    handler: HANDLER.VALIDATE_REQUEST,
    description: 'Validates an account request and decides the operation',
    actsIn: 'management',
    permissions: (ctx) => [
      management(
        [
          'organizations:ListRoots',
          'organizations:ListOrganizationalUnitsForParent',
          'organizations:DescribeOrganizationalUnit',
          // Only until the account index's first reconcile (a factory just deployed).
          'organizations:ListAccounts',
          'organizations:DescribeAccount',
          'organizations:ListParents',
          'controltower:ListEnabledBaselines',
          'servicecatalog:SearchProvisionedProducts',
        ],
        'reads the organization (its ID is not known when the factory is deployed)',
      ),
      readTable(ctx.metadataTable),
      // Accounts by email and name: no full ListAccounts per request.
      readTable(ctx.accountIndexTable),
    ],
    environment: (ctx) => ({ [ENV.ACCOUNT_INDEX_TABLE]: ctx.accountIndexTable.tableName }),
  },
  {
    handler: HANDLER.PROVISION_ACCOUNT,
    description: 'Starts the Control Tower Account Factory operation',
    actsIn: 'management',
    permissions: (ctx) => [
      management(
        SERVICE_CATALOG_ACTIONS,
        'the Control Tower Account Factory product, its versions, launch paths and provisioned products are found by name at run time',
      ),
      // Before touching Control Tower, it checks that no newer version of the request was written.
      readTable(ctx.requestsTable),
    ],
  },
  {
    handler: HANDLER.FETCH_ACCOUNT_ID,
    description: 'Finds the account ID of the request',
    actsIn: 'management',
    permissions: (ctx) => [
      management(
        // ListAccounts: only until the account index's first reconcile.
        ['organizations:ListAccounts', 'organizations:DescribeAccount'],
        'finds and confirms the account in the organization',
      ),
      readTable(ctx.metadataTable),
      // Finds an account by email without a listing, and indexes the account it confirms.
      readWriteTable(ctx.accountIndexTable),
    ],
    environment: (ctx) => ({ [ENV.ACCOUNT_INDEX_TABLE]: ctx.accountIndexTable.tableName }),
    accountSetup: { stateName: STEP.FETCH_ACCOUNT_ID, resultPath: '$.account' },
  },
  {
    handler: HANDLER.STORE_METADATA,
    description: 'Stores the account metadata',
    actsIn: 'factory',
    permissions: (ctx) => [readWriteTable(ctx.metadataTable)],
    accountSetup: { stateName: STEP.STORE_METADATA, resultPath: sfn.JsonPath.DISCARD },
  },
  {
    handler: HANDLER.CREATE_EXECUTION_ROLE,
    description: 'Creates the execution role in the account',
    actsIn: 'management',
    assumesExecutionRole: true,
    // The first hop (AWSControlTowerExecution) goes through the management role; the
    // check that the new role can be assumed is made as the factory itself.
    permissions: (ctx) => [
      management(['sts:AssumeRole'], 'first hop into the account'),
      allow({
        actions: ['sts:AssumeRole'],
        resources: [ctx.executionRoleArns],
        wildcardReason:
          'Checks that the execution role it created in a vended account (any account ID) can be assumed',
      }),
    ],
    // The execution role trusts the factory's roles that assume it, not the whole account.
    environment: (ctx) => ({ [ENV.EXECUTION_ROLE_TRUSTED_ROLES]: ctx.executionRoleTrustedArns }),
    accountSetup: {
      stateName: STEP.CREATE_EXECUTION_ROLE,
      resultPath: '$.executionRole',
      // Until IAM lets the new role be assumed.
      retries: [
        {
          errors: [ExecutionRoleNotReady.errorName],
          interval: Duration.seconds(5),
          backoffRate: 2,
          maxAttempts: 8,
        },
      ],
    },
  },
  {
    handler: HANDLER.TAG_ACCOUNT,
    description: 'Tags the account',
    actsIn: 'management',
    permissions: (ctx) => [
      management(
        ['organizations:ListTagsForResource', 'organizations:TagResource', 'organizations:UntagResource'],
        'tags vended accounts, whose IDs are not known when the factory is deployed',
      ),
      readWriteTable(ctx.metadataTable),
    ],
    accountSetup: { stateName: STEP.TAG_ACCOUNT, resultPath: '$.tags' },
  },
  {
    handler: HANDLER.APPLY_FEATURE_OPTIONS,
    description: 'Applies the opt-in feature options to the account',
    timeout: Duration.minutes(10),
    actsIn: 'management',
    assumesExecutionRole: true,
    permissions: (ctx) => [
      ...(ctx.features.deleteDefaultVpcs
        ? [
            allow({
              actions: ['sts:AssumeRole'],
              resources: [ctx.executionRoleArns],
              wildcardReason:
                'Deletes default VPCs in each vended account (any account ID) through its execution role',
            }),
          ]
        : []),
      ...(ctx.features.enterpriseSupport
        ? [
            management(
              ['support:DescribeCases', 'support:CreateCase'],
              'AWS Support has no resource-level permissions',
            ),
          ]
        : []),
      ...(ctx.features.cloudTrailTrail
        ? [
            management(
              ['cloudtrail:GetEventSelectors', 'cloudtrail:PutEventSelectors'],
              'the organization trail lives in the management account',
            ),
          ]
        : []),
    ],
    accountSetup: { stateName: STEP.APPLY_FEATURE_OPTIONS, resultPath: '$.featureOptions' },
  },
  {
    handler: HANDLER.ALTERNATE_CONTACTS,
    description: "Sets the account's alternate contacts (billing, operations, security)",
    actsIn: 'management',
    permissions: (ctx) => [
      management(
        ['account:GetAlternateContact', 'account:PutAlternateContact', 'account:DeleteAlternateContact'],
        'the Account Management API sets a member account from the management account',
      ),
      readWriteTable(ctx.metadataTable),
    ],
    accountSetup: { stateName: STEP.SET_ALTERNATE_CONTACTS, resultPath: '$.alternateContacts' },
  },
  {
    handler: HANDLER.OPT_IN_REGIONS,
    description: "Enables the account's opt-in Regions, and waits for them",
    actsIn: 'management',
    permissions: (ctx) => [
      management(
        ['account:GetRegionOptStatus', 'account:EnableRegion', 'account:DisableRegion'],
        'the Account Management API sets a member account from the management account',
      ),
      readWriteTable(ctx.metadataTable),
    ],
    accountSetup: {
      stateName: STEP.ENABLE_OPT_IN_REGIONS,
      resultPath: '$.optInRegions',
      poll: {
        choiceStateName: STEP.OPT_IN_REGIONS_SETTLED,
        waitStateName: STEP.WAIT_FOR_OPT_IN_REGIONS,
        interval: Duration.minutes(5),
      },
    },
  },
  {
    handler: HANDLER.IDENTITY_CENTER_ACCESS,
    description: "Assigns the account's Identity Center groups and users to their permission sets",
    actsIn: 'management',
    permissions: (ctx) => [
      management(
        [
          'sso:ListInstances',
          'sso:ListPermissionSets',
          'sso:DescribePermissionSet',
          'sso:ListAccountAssignments',
          'sso:CreateAccountAssignment',
          'sso:DeleteAccountAssignment',
          'sso:DescribeAccountAssignmentCreationStatus',
          'sso:DescribeAccountAssignmentDeletionStatus',
          'identitystore:GetGroupId',
          'identitystore:GetUserId',
        ],
        'IAM Identity Center is administered from the management account',
      ),
      readWriteTable(ctx.metadataTable),
    ],
    accountSetup: {
      stateName: STEP.ASSIGN_IDENTITY_CENTER_ACCESS,
      resultPath: '$.identityCenterAccess',
      poll: {
        choiceStateName: STEP.IDENTITY_CENTER_ACCESS_SETTLED,
        waitStateName: STEP.WAIT_FOR_IDENTITY_CENTER_ACCESS,
        interval: Duration.seconds(30),
      },
    },
  },
  {
    handler: HANDLER.CREATE_ACCOUNT_PIPELINE,
    description: "Creates the account's customizations pipeline",
    actsIn: 'factory',
    permissions: (ctx) => [
      allow({
        actions: ['codepipeline:GetPipeline', 'codepipeline:CreatePipeline', 'codepipeline:UpdatePipeline'],
        resources: [ctx.pipelineArnPattern],
        wildcardReason: ONE_PIPELINE_PER_ACCOUNT,
      }),
      allow({
        actions: ['iam:PassRole'],
        resources: [ctx.pipelineRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'codepipeline.amazonaws.com' } },
      }),
    ],
  },
  {
    handler: HANDLER.NOTIFY,
    description: 'Publishes the outcome of a request',
    actsIn: 'factory',
    permissions: (ctx) => [
      publish(ctx.successTopic),
      publish(ctx.failureTopic),
      readWriteTable(ctx.metadataTable),
    ],
  },
  {
    handler: HANDLER.REMOVE_FROM_MANAGEMENT,
    description: 'Ends the management of an account',
    actsIn: 'factory',
    permissions: (ctx) => [
      allow({
        actions: ['codepipeline:GetPipeline', 'codepipeline:DeletePipeline'],
        resources: [ctx.pipelineArnPattern],
        wildcardReason: ONE_PIPELINE_PER_ACCOUNT,
      }),
      readWriteTable(ctx.metadataTable),
    ],
  },
  {
    handler: HANDLER.CLOSE_ACCOUNT,
    description: 'Closes an account whose removed request asked for it (closeOnRemoval)',
    actsIn: 'management',
    permissions: () => [
      management(
        [
          'servicecatalog:TerminateProvisionedProduct',
          'servicecatalog:SearchProvisionedProducts',
          'organizations:CloseAccount',
        ],
        "terminates the account's provisioned product and closes the account, whose IDs are known at run time only",
      ),
    ],
  },
] as const satisfies readonly StepDescriptor[];

/** The handler of a workflow step. */
export type StepHandler = (typeof WORKFLOW_STEPS)[number]['handler'];

/** The workflow steps' functions, by handler name: how the phase fragments find them. */
export interface WorkflowFunctions {
  /** The function of a workflow step. */
  fn(handler: StepHandler): lambda.IFunction;
}
