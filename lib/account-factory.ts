import { ArnFormat, Aws, Duration, Fn, Lazy, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ENV } from '../lambda/shared/env';
import {
  ConcurrencySemaphore,
  DEFAULT_SEMAPHORE_LIMIT,
  SemaphoreLock,
  validateLimit,
} from './concurrency-semaphore';
import { CustomizationsSource, CustomizationsSourceConfig } from './customizations-source';
import { customizationsBuildSpec, DEFAULT_CDK_CLI_VERSION } from './private/customizations-buildspec';
import {
  grantBucketReadWrite,
  grantKey,
  grantTableRead,
  grantTableReadWrite,
  grantTopicPublish,
  roleInAnyAccount,
  TopicOnFailure,
} from './private/grants';
import { acknowledge, nagResource } from './private/nag';
import { StepFunction } from './private/step-function';
import { AccountSetup } from './workflow/account-setup';
import { ControlTowerOperation } from './workflow/control-tower-operation';
import { Customizations } from './workflow/customizations';
import { FailureHandling, NotifySuccess, RemoveFromManagement } from './workflow/notify';
import { HANDLER, HandlerName } from './workflow/step-names';
import { ValidateRequest } from './workflow/validate';
import { CloseAccountOnRemoval } from './workflow/close-account';
import { RerunCustomizations } from './rerun-customizations';
import { ControlTowerAccess, DEFAULT_TRUSTED_ROLE_PATH } from './control-tower-access';
import { DriftDetection, DriftDetectionOptions } from './drift-detection';

/** Opt-in account baseline options, applied in step 7 ('Apply feature options'). */
export interface FeatureOptions {
  /**
   * Deletes the default VPC (with its subnets and internet gateway) in every
   * enabled region of the account, through the execution role.
   * @default false
   */
  readonly deleteDefaultVpcs?: boolean;
  /**
   * Opens an AWS Support case asking to add the account to the organization's
   * Enterprise Support plan (once per account).
   * @default false
   */
  readonly enterpriseSupport?: boolean;
  /**
   * Logs S3 and Lambda data events of the organization trail (by name or ARN).
   * @default - off
   */
  readonly cloudTrailDataEvents?: { readonly trailName: string };
}

export interface AccountFactoryProps {
  /**
   * How many Control Tower operations (create, update, import) may run at once;
   * the others wait for a slot. Control Tower itself refuses more than a few
   * concurrent operations. An integer from 1 to 100.
   * @default 5
   */
  readonly maxConcurrentAccountOperations?: number;
  /**
   * A state machine run for every account after it is set up, to completion
   * (`startExecution.sync:2`), with the AccountContext as input; its failure
   * fails the request.
   * @default - none
   */
  readonly provisioningCustomizations?: sfn.IStateMachine;
  /**
   * Opt-in account baseline options.
   * @default - all off
   */
  readonly featureOptions?: FeatureOptions;
  /**
   * The Service Catalog product of Control Tower's Account Factory.
   * @default 'AWS Control Tower Account Factory'
   */
  readonly accountFactoryProductName?: string;
  /**
   * The role Control Tower creates in every enrolled account.
   * @default 'AWSControlTowerExecution'
   */
  readonly controlTowerExecutionRoleName?: string;
  /**
   * The role the factory creates in every account for its own work and the
   * customizations.
   * @default 'AWSAFTExecution'
   */
  readonly executionRoleName?: string;
  /**
   * The role in the Control Tower management account that the factory assumes for
   * Organizations, Service Catalog, Control Tower, Support, CloudTrail and the first hop
   * into member accounts, when the factory runs in another account (a vending account,
   * as AWS recommends for AFT). Deploy it with `ManagementAccountStack` (or
   * `ControlTowerAccess`) in the management account: it must trust this factory's roles
   * under `factoryRolePath` and be associated with Account Factory's portfolio.
   * @default - the factory runs in the Control Tower management account and creates that role itself (`controlTowerAccess`)
   */
  readonly controlTowerManagementRole?: iam.IRole;
  /**
   * The Control Tower home region: Account Factory (Service Catalog) and Control Tower
   * are called there, wherever the factory runs.
   * @default - the stack's region
   */
  readonly controlTowerHomeRegion?: string;
  /**
   * The IAM path of the factory roles that act in the management account; the
   * management role trusts the roles under it (ControlTowerAccess `trustedRolePath`).
   * @default '/account-factory/'
   */
  readonly factoryRolePath?: string;
  /**
   * A customer-managed key for the tables, topics, buckets, logs and the
   * customizations project. The key policy must let CloudWatch Logs use the key
   * (added automatically when the key is defined in the same app).
   * @default - AWS-managed encryption everywhere
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Receives a message for each account that is ready (and each removal).
   * @default - a new topic, encrypted, SSL enforced
   */
  readonly successTopic?: sns.ITopic;
  /**
   * Receives a message for each failed request, and each stream record the
   * request trigger could not process.
   * @default - a new topic, encrypted, SSL enforced
   */
  readonly failureTopic?: sns.ITopic;
  /**
   * How long the workflow waits between two checks of a Control Tower operation.
   * At least 10 seconds.
   * @default Duration.seconds(60)
   */
  readonly controlTowerPollInterval?: Duration;
  /**
   * Retention of every log group the factory creates.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Prefix of the per-account customizations pipelines (`<prefix>-<account id>`).
   * @default 'account-customizations'
   */
  readonly customizationsPipelineNamePrefix?: string;
  /**
   * The object in the customizations bucket that the account pipelines take as
   * their source (a zip with `global/` and `accounts/<customizationsName>/`).
   * @default 'customizations.zip'
   */
  readonly customizationsObjectKey?: string;
  /**
   * Where the account customizations live (`global/` and
   * `accounts/<customizationsName>/`, each a CDK app or a `run.sh`).
   * @default - CustomizationsSource.bucket(): a new bucket, object `customizationsObjectKey`
   */
  readonly customizationsSource?: CustomizationsSource;
  /**
   * How many account pipelines may run at once; the other accounts wait for a
   * slot (a re-run of hundreds of accounts would otherwise hit CodePipeline and
   * CodeBuild limits). An integer from 1 to 100.
   * @default 10
   */
  readonly maxConcurrentCustomizations?: number;
  /**
   * How long one customizations build (one folder for one account) may run.
   * From 5 minutes to 8 hours.
   * @default Duration.hours(1)
   */
  readonly customizationsBuildTimeout?: Duration;
  /**
   * How many accounts the re-run state machine (`rerunStateMachine`) re-runs
   * at once. An integer from 1 to 40.
   * @default 10
   */
  readonly rerunConcurrency?: number;
  /**
   * A scheduled, read-only check of every managed account against its request (see
   * DriftDetection); `account-factory drift` runs it on demand.
   * @default - no drift detection
   */
  readonly driftDetection?: DriftDetectionOptions;
}

/** IAM role names: 1-64 of letters, digits and +=,.@_- */
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
/** Leaves room for `-<12-digit account id>` within CodePipeline's 100 characters. */
const PIPELINE_PREFIX = /^[A-Za-z0-9.@_-]{1,80}$/;
const TRAIL_NAME = /^(arn:[\w-]+:cloudtrail:[a-z0-9-]+:\d{12}:trail\/)?[A-Za-z0-9][A-Za-z0-9._-]{2,127}$/;

/**
 * The handlers that act in the Control Tower management account, through the management
 * role (create-execution-role for its first hop: AWSControlTowerExecution trusts only the
 * management account).
 */
const MANAGEMENT_HANDLERS: readonly HandlerName[] = [
  HANDLER.CREATE_EXECUTION_ROLE,
  HANDLER.VALIDATE_REQUEST,
  HANDLER.PROVISION_ACCOUNT,
  HANDLER.CHECK_PROVISIONING,
  HANDLER.FETCH_ACCOUNT_ID,
  HANDLER.TAG_ACCOUNT,
  HANDLER.APPLY_FEATURE_OPTIONS,
  HANDLER.CLOSE_ACCOUNT,
];

/** The step handlers the state machine invokes (the semaphore brings its own). */
type WorkflowHandler = Exclude<
  HandlerName,
  'request-trigger' | 'acquire-slot' | 'release-slot' | 'semaphore-cleanup' | 'customizations-result'
>;

const SERVICE_CATALOG_ACTIONS = [
  'servicecatalog:SearchProducts',
  'servicecatalog:ListProvisioningArtifacts',
  'servicecatalog:ListLaunchPaths',
  'servicecatalog:ProvisionProduct',
  'servicecatalog:UpdateProvisionedProduct',
  'servicecatalog:DescribeRecord',
  'servicecatalog:SearchProvisionedProducts',
];

/**
 * Vends and customizes AWS Control Tower accounts: the account provisioning
 * pipeline of Account Factory for Terraform, on Step Functions, Lambda and
 * DynamoDB.
 *
 * Each write of an account request to `requestsTable` (see AccountRequest)
 * starts one execution of `stateMachine`: validate the request; create, update
 * or import the account through Control Tower's Account Factory (at most
 * `maxConcurrentAccountOperations` at once); store its metadata; create the
 * execution role; tag it; apply the feature options; run the provisioning
 * customizations; create and start the account's customizations pipeline; and
 * notify. Every failure releases the Control Tower slot, notifies the failure
 * topic and fails the execution with a named error.
 *
 * @example
 * const factory = new AccountFactory(this, 'Factory', {
 *   maxConcurrentAccountOperations: 3,
 *   featureOptions: { deleteDefaultVpcs: true },
 * });
 * new AccountRequest(this, 'Sandbox01', {
 *   factory,
 *   accountEmail: 'sandbox-01@example.com',
 *   accountName: 'sandbox-01',
 *   organizationalUnit: 'Sandbox',
 *   sso: { email: 'platform-team@example.com', firstName: 'Platform', lastName: 'Team' },
 * });
 */
export class AccountFactory extends Construct {
  /** Account requests (partition key `id`), with a NEW_AND_OLD_IMAGES stream. */
  public readonly requestsTable: dynamodb.ITable;
  /** One item per managed account (partition key `accountId`, GSI `email`). */
  public readonly metadataTable: dynamodb.ITable;
  /** Name of the metadata table's GSI on `email`. */
  public readonly metadataEmailIndexName = 'email';
  /** Bounds the concurrent Control Tower operations. */
  public readonly semaphore: ConcurrencySemaphore;
  /** The provisioning workflow: one execution per request version. */
  public readonly stateMachine: sfn.StateMachine;
  public readonly stateMachineLogGroup: logs.ILogGroup;
  public readonly successTopic: sns.ITopic;
  public readonly failureTopic: sns.ITopic;
  /** Starts the workflow for each request stream record. */
  public readonly requestTrigger: lambda.IFunction;
  /** Every handler function, by handler name (lambda/<name>). */
  public readonly functions: Record<HandlerName, lambda.IFunction>;
  /** Server access logs of the factory's buckets. */
  public readonly accessLogsBucket: s3.IBucket;
  /** Holds the customizations source object, for an S3 customizations source. */
  public readonly customizationsBucket?: s3.IBucket;
  /** The key of the customizations source object, for an S3 customizations source. */
  public readonly customizationsObjectKey?: string;
  /** Where the account customizations live, as the pipelines' Source stage reads them. */
  public readonly customizationsSource: CustomizationsSourceConfig;
  /** Bounds how many account pipelines run at once (`maxConcurrentCustomizations`). */
  public readonly customizationsLock: SemaphoreLock;
  /** Records and notifies each account pipeline's outcome, and frees its slot. */
  public readonly customizationsResultFunction: lambda.IFunction;
  /** Sends the account pipelines' execution state changes to `customizationsResultFunction`. */
  public readonly customizationsResultRule: events.Rule;
  /** Artifact store of the account pipelines. */
  public readonly pipelineArtifactsBucket: s3.IBucket;
  /** The role of every account pipeline. */
  public readonly pipelineRole: iam.IRole;
  /** The CodeBuild project every account pipeline runs its customizations with. */
  public readonly customizationsProject: codebuild.IProject;
  public readonly customizationsPipelineNamePrefix: string;
  public readonly controlTowerExecutionRoleName: string;
  public readonly executionRoleName: string;
  public readonly encryptionKey?: kms.IKey;
  /** The role the factory assumes in the Control Tower management account. */
  public readonly managementRole: iam.IRole;
  /**
   * The management role and its portfolio access, when the factory runs in the
   * management account (no `controlTowerManagementRole` given).
   */
  public readonly controlTowerAccess?: ControlTowerAccess;
  /**
   * Re-runs the customizations of given managed accounts (input
   * `{ "accountIds": [...] }`), with no Control Tower operation.
   */
  public readonly rerunStateMachine: sfn.StateMachine;

  /** The drift check, with `driftDetection`. */
  public readonly driftDetection?: DriftDetection;

  private readonly stepFunctions: Partial<Record<HandlerName, StepFunction>>;
  /** The roles the execution role trusts (trustExecutionRole adds to them). */
  private readonly executionRoleTrusted: iam.IRole[] = [];

  constructor(scope: Construct, id: string, props: AccountFactoryProps = {}) {
    super(scope, id);
    const config = resolveProps(props);
    const stack = Stack.of(this);
    const key = props.encryptionKey;
    this.encryptionKey = key;
    this.controlTowerExecutionRoleName = config.controlTowerExecutionRoleName;
    this.executionRoleName = config.executionRoleName;
    this.customizationsPipelineNamePrefix = config.pipelinePrefix;
    const source =
      props.customizationsSource ??
      CustomizationsSource.bucket({ objectKey: config.customizationsObjectKey });
    if (key) allowLogsToUseKey(key);

    // ---- Data ----------------------------------------------------------------
    const tableEncryption = key
      ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: key }
      : { encryption: dynamodb.TableEncryption.AWS_MANAGED };
    const requestsTable = new dynamodb.Table(this, 'Requests', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      ...tableEncryption,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const metadataTable = new dynamodb.Table(this, 'Metadata', {
      partitionKey: { name: 'accountId', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      ...tableEncryption,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    metadataTable.addGlobalSecondaryIndex({
      indexName: this.metadataEmailIndexName,
      partitionKey: { name: 'email', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    this.requestsTable = requestsTable;
    this.metadataTable = metadataTable;

    const rolePath = props.factoryRolePath ?? DEFAULT_TRUSTED_ROLE_PATH;
    this.semaphore = new ConcurrencySemaphore(this, 'Semaphore', {
      limit: config.maxConcurrent,
      encryptionKey: key,
      logRetention: props.logRetention,
      cleanupRolePath: rolePath,
    });

    // ---- Topics --------------------------------------------------------------
    const topicKey = key ?? kms.Alias.fromAliasName(this, 'SnsManagedKey', 'alias/aws/sns');
    this.successTopic =
      props.successTopic ??
      new sns.Topic(this, 'SuccessTopic', {
        displayName: 'Account factory: accounts ready',
        masterKey: topicKey,
        enforceSSL: true,
      });
    this.failureTopic =
      props.failureTopic ??
      new sns.Topic(this, 'FailureTopic', {
        displayName: 'Account factory: failed requests',
        masterKey: topicKey,
        enforceSSL: true,
      });

    // ---- Customizations --------------------------------------------------------
    const bucketEncryption = key
      ? { encryption: s3.BucketEncryption.KMS, encryptionKey: key, bucketKeyEnabled: true }
      : { encryption: s3.BucketEncryption.S3_MANAGED };
    const accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      // Server access log delivery supports SSE-S3 only.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      accessLogsBucket,
      'AwsSolutions-S1',
      'This is the access log bucket: it does not log to itself',
    );
    const artifactsBucket = new s3.Bucket(this, 'PipelineArtifacts', {
      ...bucketEncryption,
      versioned: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogsBucket,
      serverAccessLogsPrefix: 'pipeline-artifacts/',
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30), expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.accessLogsBucket = accessLogsBucket;
    this.pipelineArtifactsBucket = artifactsBucket;
    const sourceConfig = source.bind(this, { encryptionKey: key, accessLogsBucket });
    this.customizationsSource = sourceConfig;
    this.customizationsBucket = sourceConfig.bucket;
    this.customizationsObjectKey = sourceConfig.environment[ENV.CUSTOMIZATIONS_OBJECT_KEY];

    const executionRoleArns = roleInAnyAccount(stack, config.executionRoleName);
    const project = this.createCustomizationsProject(config, artifactsBucket, executionRoleArns, props);
    this.customizationsProject = project;

    const pipelineRole = new iam.Role(this, 'PipelineRole', {
      assumedBy: new iam.ServicePrincipal('codepipeline.amazonaws.com'),
      description: 'Role of the per-account customizations pipelines',
    });
    sourceConfig.grantRead(pipelineRole);
    grantBucketReadWrite(artifactsBucket, pipelineRole);
    pipelineRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['codebuild:StartBuild', 'codebuild:BatchGetBuilds', 'codebuild:StopBuild'],
        resources: [project.projectArn],
      }),
    );
    acknowledge(
      pipelineRole,
      'AwsSolutions-IAM5',
      'The pipelines read and write objects of their own buckets',
      [
        ...(sourceConfig.bucket
          ? [`Resource::${nagResource(this, sourceConfig.bucket.arnForObjects('*'))}`]
          : []),
        `Resource::${nagResource(this, artifactsBucket.arnForObjects('*'))}`,
      ],
    );
    this.pipelineRole = pipelineRole;
    const pipelineArnPattern = stack.formatArn({
      service: 'codepipeline',
      resource: `${config.pipelinePrefix}-*`,
      arnFormat: ArnFormat.NO_RESOURCE_NAME,
    });

    const customizationsLock = this.semaphore.addLock('CustomizationsLock', {
      lockName: 'customizations',
      limit: config.maxConcurrentCustomizations,
    });
    this.customizationsLock = customizationsLock;

    // ---- Step functions --------------------------------------------------------
    const environment: Record<string, string> = {
      [ENV.REQUESTS_TABLE]: requestsTable.tableName,
      [ENV.METADATA_TABLE]: metadataTable.tableName,
      [ENV.METADATA_EMAIL_INDEX]: this.metadataEmailIndexName,
      [ENV.SUCCESS_TOPIC_ARN]: this.successTopic.topicArn,
      [ENV.FAILURE_TOPIC_ARN]: this.failureTopic.topicArn,
      [ENV.ACCOUNT_FACTORY_PRODUCT_NAME]: config.productName,
      [ENV.CONTROL_TOWER_EXECUTION_ROLE_NAME]: config.controlTowerExecutionRoleName,
      [ENV.EXECUTION_ROLE_NAME]: config.executionRoleName,
      [ENV.FEATURE_DELETE_DEFAULT_VPCS]: String(config.features.deleteDefaultVpcs),
      [ENV.FEATURE_ENTERPRISE_SUPPORT]: String(config.features.enterpriseSupport),
      [ENV.PIPELINE_NAME_PREFIX]: config.pipelinePrefix,
      [ENV.PIPELINE_ROLE_ARN]: pipelineRole.roleArn,
      [ENV.PIPELINE_ARTIFACT_BUCKET]: artifactsBucket.bucketName,
      ...sourceConfig.environment,
      [ENV.CUSTOMIZATIONS_PROJECT]: project.projectName,
      [ENV.CUSTOMIZATIONS_SEMAPHORE_TABLE]: customizationsLock.table.tableName,
      [ENV.CUSTOMIZATIONS_LOCK_NAME]: customizationsLock.lockName,
      [ENV.CUSTOMIZATIONS_LIMIT]: String(customizationsLock.limit),
    };
    if (config.features.cloudTrailTrail) {
      environment[ENV.FEATURE_CLOUDTRAIL_DATA_EVENTS_TRAIL] = config.features.cloudTrailTrail;
    }
    if (!props.controlTowerManagementRole) {
      this.controlTowerAccess = new ControlTowerAccess(this, 'ControlTowerAccess', {
        trustedRolePath: rolePath,
        homeRegion: props.controlTowerHomeRegion,
        controlTowerExecutionRoleName: config.controlTowerExecutionRoleName,
        enterpriseSupport: config.features.enterpriseSupport,
        cloudTrailTrailName: config.features.cloudTrailTrail,
        logRetention: props.logRetention,
        encryptionKey: key,
      });
    }
    const managementRole = props.controlTowerManagementRole ?? this.controlTowerAccess!.role;
    this.managementRole = managementRole;
    const homeRegion = props.controlTowerHomeRegion ?? stack.region;

    const fnProps = { logRetention: props.logRetention, encryptionKey: key };
    const make = (name: HandlerName, description: string, timeout?: Duration): StepFunction => {
      const env = { ...environment };
      const inManagement = MANAGEMENT_HANDLERS.includes(name);
      if (inManagement) {
        env[ENV.MANAGEMENT_ROLE_ARN] = managementRole.roleArn;
        env[ENV.CONTROL_TOWER_HOME_REGION] = homeRegion;
      }
      return new StepFunction(this, pascal(name), {
        ...fnProps,
        handler: name,
        description,
        timeout,
        environment: env,
        rolePath: inManagement ? rolePath : undefined,
      });
    };
    const steps = {
      [HANDLER.VALIDATE_REQUEST]: make(
        HANDLER.VALIDATE_REQUEST,
        'Validates an account request and decides the operation',
      ),
      [HANDLER.PROVISION_ACCOUNT]: make(
        HANDLER.PROVISION_ACCOUNT,
        'Starts the Control Tower Account Factory operation',
      ),
      [HANDLER.CHECK_PROVISIONING]: make(
        HANDLER.CHECK_PROVISIONING,
        'Reads the Control Tower operation record',
      ),
      [HANDLER.FETCH_ACCOUNT_ID]: make(HANDLER.FETCH_ACCOUNT_ID, 'Finds the account ID of the request'),
      [HANDLER.STORE_METADATA]: make(HANDLER.STORE_METADATA, 'Stores the account metadata'),
      [HANDLER.CREATE_EXECUTION_ROLE]: make(
        HANDLER.CREATE_EXECUTION_ROLE,
        'Creates the execution role in the account',
      ),
      [HANDLER.TAG_ACCOUNT]: make(HANDLER.TAG_ACCOUNT, 'Tags the account'),
      [HANDLER.APPLY_FEATURE_OPTIONS]: make(
        HANDLER.APPLY_FEATURE_OPTIONS,
        'Applies the opt-in feature options to the account',
        Duration.minutes(10),
      ),
      [HANDLER.CREATE_ACCOUNT_PIPELINE]: make(
        HANDLER.CREATE_ACCOUNT_PIPELINE,
        "Creates the account's customizations pipeline",
      ),
      [HANDLER.NOTIFY]: make(HANDLER.NOTIFY, 'Publishes the outcome of a request'),
      [HANDLER.REMOVE_FROM_MANAGEMENT]: make(
        HANDLER.REMOVE_FROM_MANAGEMENT,
        'Ends the management of an account',
      ),
      [HANDLER.CLOSE_ACCOUNT]: make(
        HANDLER.CLOSE_ACCOUNT,
        'Closes an account whose removed request asked for it (closeOnRemoval)',
      ),
    } satisfies Record<WorkflowHandler, StepFunction>;
    // The execution role trusts the factory's roles that assume it, not the whole account
    // (trustExecutionRole adds others, e.g. a provisioning customization's).
    this.executionRoleTrusted.push(
      steps[HANDLER.CREATE_EXECUTION_ROLE].role,
      steps[HANDLER.APPLY_FEATURE_OPTIONS].role,
      project.role!,
    );
    steps[HANDLER.CREATE_EXECUTION_ROLE].function.addEnvironment(
      ENV.EXECUTION_ROLE_TRUSTED_ROLES,
      Lazy.string({
        produce: () =>
          Fn.join(
            ',',
            [...new Set(this.executionRoleTrusted)].map((r) => r.roleArn),
          ),
      }),
    );

    this.grantStepPermissions(steps, {
      config,
      managementRole,
      executionRoleArns,
      pipelineArnPattern,
    });

    // ---- Workflow --------------------------------------------------------------
    const failure = new FailureHandling(this, 'FailureHandling', {
      notifyFunction: steps[HANDLER.NOTIFY].function,
      semaphore: this.semaphore,
    });
    const onFailure = failure.startState;
    const success = new NotifySuccess(this, 'NotifySuccess', {
      notifyFunction: steps[HANDLER.NOTIFY].function,
      onFailure,
    });
    const customizations = new Customizations(this, 'Customizations', {
      provisioningCustomizations: props.provisioningCustomizations,
      createPipelineFunction: steps[HANDLER.CREATE_ACCOUNT_PIPELINE].function,
      pipelineArnPattern,
      customizationsLock,
      onFailure,
    });
    const setup = new AccountSetup(this, 'AccountSetup', {
      fetchAccountIdFunction: steps[HANDLER.FETCH_ACCOUNT_ID].function,
      storeMetadataFunction: steps[HANDLER.STORE_METADATA].function,
      createExecutionRoleFunction: steps[HANDLER.CREATE_EXECUTION_ROLE].function,
      tagAccountFunction: steps[HANDLER.TAG_ACCOUNT].function,
      applyFeatureOptionsFunction: steps[HANDLER.APPLY_FEATURE_OPTIONS].function,
      onFailure,
    });
    setup.next(customizations).next(success);
    const controlTower = new ControlTowerOperation(this, 'ControlTowerOperation', {
      semaphore: this.semaphore,
      provisionFunction: steps[HANDLER.PROVISION_ACCOUNT].function,
      checkFunction: steps[HANDLER.CHECK_PROVISIONING].function,
      pollInterval: config.pollInterval,
      onFailure,
    });
    controlTower.next(setup);
    const removal = new RemoveFromManagement(this, 'Removal', {
      removeFunction: steps[HANDLER.REMOVE_FROM_MANAGEMENT].function,
      notifyFunction: steps[HANDLER.NOTIFY].function,
      onFailure,
    });
    const closure = new CloseAccountOnRemoval(this, 'Closure', {
      semaphore: this.semaphore,
      closeFunction: steps[HANDLER.CLOSE_ACCOUNT].function,
      checkFunction: steps[HANDLER.CHECK_PROVISIONING].function,
      pollInterval: config.pollInterval,
      removal,
      onFailure,
    });
    const validate = new ValidateRequest(this, 'Validate', {
      validateFunction: steps[HANDLER.VALIDATE_REQUEST].function,
      controlTowerOperation: controlTower,
      removal: closure,
      accountSetup: setup,
      onFailure,
    });

    const workflowLogs = new logs.LogGroup(this, 'WorkflowLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stateMachineLogGroup = workflowLogs;
    this.stateMachine = new sfn.StateMachine(this, 'Workflow', {
      comment:
        'Provisions, updates, imports, customizes or removes one account, for one version of its request',
      definitionBody: sfn.DefinitionBody.fromChainable(validate),
      stateMachineType: sfn.StateMachineType.STANDARD,
      queryLanguage: sfn.QueryLanguage.JSON_PATH,
      logs: { destination: workflowLogs, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
    });
    this.semaphore.guard(this.stateMachine);
    this.semaphore.checkOperationRecords(managementRole, homeRegion);
    this.semaphore.reportOrphanedOperations(this.failureTopic);
    this.rerunStateMachine = new RerunCustomizations(this, 'Rerun', {
      metadataTable,
      createPipelineFunction: steps[HANDLER.CREATE_ACCOUNT_PIPELINE].function,
      pipelineArnPattern,
      maxConcurrency: props.rerunConcurrency,
      logRetention: props.logRetention,
      encryptionKey: key,
    }).stateMachine;
    this.acknowledgeWorkflowRole(steps, props.provisioningCustomizations, pipelineArnPattern);

    // ---- Request trigger -------------------------------------------------------
    const trigger = new StepFunction(this, 'RequestTrigger', {
      ...fnProps,
      handler: HANDLER.REQUEST_TRIGGER,
      description: 'Starts one workflow execution per request version',
      environment: { [ENV.STATE_MACHINE_ARN]: this.stateMachine.stateMachineArn },
    });
    this.stateMachine.grantStartExecution(trigger.role);
    trigger.function.addEventSource(
      new DynamoEventSource(requestsTable, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 10,
        bisectBatchOnError: true,
        retryAttempts: 10,
        reportBatchItemFailures: true,
        onFailure: new TopicOnFailure(this.failureTopic),
      }),
    );
    acknowledge(trigger.role, 'AwsSolutions-IAM5', 'dynamodb:ListStreams has no resource-level permissions', [
      'Resource::*',
    ]);
    this.requestTrigger = trigger.function;

    // ---- Customizations results -----------------------------------------------
    const result = new StepFunction(this, 'CustomizationsResult', {
      ...fnProps,
      handler: HANDLER.CUSTOMIZATIONS_RESULT,
      description: "Records and notifies an account pipeline's outcome and frees its customizations slot",
      environment,
    });
    this.customizationsResultFunction = result.function;
    this.customizationsResultRule = this.wireCustomizationsResult(
      result,
      pipelineArnPattern,
      config.pipelinePrefix,
    );

    this.stepFunctions = {
      ...steps,
      [HANDLER.REQUEST_TRIGGER]: trigger,
      [HANDLER.CUSTOMIZATIONS_RESULT]: result,
    };
    this.functions = {
      ...mapValues(steps, (s) => s.function),
      [HANDLER.REQUEST_TRIGGER]: trigger.function,
      [HANDLER.ACQUIRE_SLOT]: this.semaphore.acquireFunction,
      [HANDLER.RELEASE_SLOT]: this.semaphore.releaseFunction,
      [HANDLER.SEMAPHORE_CLEANUP]: this.semaphore.cleanupFunction,
      [HANDLER.CUSTOMIZATIONS_RESULT]: this.customizationsResultFunction,
    };

    if (props.driftDetection) {
      this.driftDetection = new DriftDetection(this, 'DriftDetection', {
        ...props.driftDetection,
        topic: props.driftDetection.topic ?? this.failureTopic,
        metadataTable: this.metadataTable,
        managementRole,
        controlTowerHomeRegion: homeRegion,
        rolePath,
        controlTowerExecutionRoleName: config.controlTowerExecutionRoleName,
        executionRoleName: config.executionRoleName,
        executionRoleTrustedRoles: Lazy.string({
          produce: () =>
            Fn.join(
              ',',
              [...new Set(this.executionRoleTrusted)].map((r) => r.roleArn),
            ),
        }),
        customizationsPipelineNamePrefix: config.pipelinePrefix,
        encryptionKey: key,
        logRetention: props.logRetention,
      });
    }
  }

  /**
   * Lets a role of yours assume the factory's execution role in the vended accounts (e.g. a
   * provisioning customization's function): the role is added to the execution role's trust
   * policy (which trusts only the factory's own roles) and allowed sts:AssumeRole on it.
   */
  public trustExecutionRole(role: iam.IRole): void {
    this.executionRoleTrusted.push(role);
  }

  /** Lets a principal read the account metadata (e.g. a report, or a customization). */
  public grantReadMetadata(grantee: iam.IGrantable): void {
    grantTableRead(this.metadataTable, grantee);
  }

  /** Lets a principal write account requests (e.g. a CLI role or a self-service portal). */
  public grantWriteRequests(grantee: iam.IGrantable): void {
    grantTableReadWrite(this.requestsTable, grantee);
  }

  /** Lets a principal upload the customizations source (an S3 source only). */
  public grantWriteCustomizations(grantee: iam.IGrantable): void {
    if (!this.customizationsBucket) {
      throw new Error(
        'The customizations source is a repository: grant write access to it where it is hosted',
      );
    }
    grantBucketReadWrite(this.customizationsBucket, grantee);
  }

  /**
   * The EventBridge rule (every end of an account pipeline execution, and its
   * start) and what the result function may do: release the slot and wake the
   * next waiting execution, read the failed stage, record, publish.
   */
  private wireCustomizationsResult(
    result: StepFunction,
    pipelineArnPattern: string,
    pipelinePrefix: string,
  ): events.Rule {
    grantTableReadWrite(this.metadataTable, result.role);
    grantTableReadWrite(this.customizationsLock.table, result.role);
    grantTopicPublish(this.successTopic, result.role);
    grantTopicPublish(this.failureTopic, result.role);
    this.stateMachine.grantTaskResponse(result.role);
    const readPipelines = new iam.PolicyStatement({
      actions: ['codepipeline:GetPipelineState', 'codepipeline:GetPipelineExecution'],
      resources: [pipelineArnPattern],
    });
    result.role.addToPrincipalPolicy(readPipelines);
    acknowledge(
      result.role,
      'AwsSolutions-IAM5',
      'Reads the pipeline of each account, named <prefix>-<account id>; queries the metadata table GSI',
      [
        `Resource::${nagResource(this, pipelineArnPattern)}`,
        `Resource::${nagResource(this, `${this.metadataTable.tableArn}/index/*`)}`,
      ],
    );
    // The reaper asks CodePipeline whether a pipeline holding a slot still runs.
    const cleanupRole = this.semaphore.cleanupFunction.role;
    if (cleanupRole) {
      cleanupRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['codepipeline:GetPipelineExecution'],
          resources: [pipelineArnPattern],
        }),
      );
      acknowledge(
        cleanupRole,
        'AwsSolutions-IAM5',
        'Checks whether the pipeline of an account (<prefix>-<account id>) still runs',
        [`Resource::${nagResource(this, pipelineArnPattern)}`],
      );
    }
    return new events.Rule(this, 'CustomizationsResultRule', {
      description:
        'An account pipeline execution started or ended: record, notify, free its customizations slot',
      eventPattern: {
        source: ['aws.codepipeline'],
        detailType: ['CodePipeline Pipeline Execution State Change'],
        detail: {
          pipeline: [{ prefix: `${pipelinePrefix}-` }],
          state: ['STARTED', 'SUCCEEDED', 'FAILED', 'STOPPED', 'SUPERSEDED', 'CANCELED'],
        },
      },
      targets: [new targets.LambdaFunction(result.function, { retryAttempts: 8 })],
    });
  }

  /**
   * The role of a workflow handler or of the request trigger (to grant it more,
   * or acknowledge a finding). The semaphore's functions: see `semaphore`.
   */
  public roleOf(handler: HandlerName): iam.IRole | undefined {
    return this.stepFunctions[handler]?.role;
  }

  private createCustomizationsProject(
    config: ResolvedProps,
    artifactsBucket: s3.IBucket,
    executionRoleArns: string,
    props: AccountFactoryProps,
  ): codebuild.PipelineProject {
    const key = props.encryptionKey;
    const logGroup = new logs.LogGroup(this, 'CustomizationsLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const role = new iam.Role(this, 'CustomizationsRole', {
      assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
      description: "Runs an account's customizations through its execution role",
    });
    const project = new codebuild.PipelineProject(this, 'CustomizationsProject', {
      description:
        "Deploys an account's customizations (a CDK app, or run.sh, of the selected folder) through its execution role",
      role,
      environment: {
        buildImage: codebuild.LinuxBuildImage.STANDARD_7_0,
        computeType: codebuild.ComputeType.SMALL,
        privileged: false,
      },
      environmentVariables: {
        EXECUTION_ROLE_NAME: { value: config.executionRoleName },
        AWS_PARTITION: { value: Aws.PARTITION },
        CDK_CLI_VERSION: { value: DEFAULT_CDK_CLI_VERSION },
      },
      timeout: config.customizationsBuildTimeout,
      logging: { cloudWatch: { logGroup } },
      buildSpec: customizationsBuildSpec(),
    });
    if (!key) {
      acknowledge(
        project,
        'AwsSolutions-CB4',
        'No customer-managed key was given (encryptionKey): build artifacts use the AWS-managed S3 key',
      );
    }
    if (key) {
      // Set directly: the Project's own key grant uses action wildcards.
      (project.node.defaultChild as codebuild.CfnProject).encryptionKey = key.keyArn;
      grantKey(key, role, ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey']);
    }
    grantBucketReadWrite(artifactsBucket, role);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [executionRoleArns] }),
    );
    const stack = Stack.of(this);
    acknowledge(
      role,
      'AwsSolutions-IAM5',
      'CodeBuild writes its own log streams and reports; builds read and write pipeline artifacts; customizations run in any vended account through its execution role',
      [
        `Resource::${nagResource(this, artifactsBucket.arnForObjects('*'))}`,
        `Resource::${nagResource(this, executionRoleArns)}`,
        // The Project's own grants: its default log group and its report groups.
        `Resource::${nagResource(
          this,
          `${stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            resourceName: `/aws/codebuild/${project.projectName}`,
          })}:*`,
        )}`,
        `Resource::${nagResource(
          this,
          stack.formatArn({
            service: 'codebuild',
            resource: 'report-group',
            resourceName: `${project.projectName}-*`,
          }),
        )}`,
      ],
    );
    return project;
  }

  private grantStepPermissions(
    steps: Record<WorkflowHandler, StepFunction>,
    ctx: {
      config: ResolvedProps;
      managementRole: iam.IRole;
      executionRoleArns: string;
      pipelineArnPattern: string;
    },
  ): void {
    const { config, managementRole } = ctx;
    // Management-account APIs go through the management role, which holds their permissions
    // (ControlTowerAccess): `actions` and `reason` document what the step does there.
    const management = (step: StepFunction, _actions: string[], _reason: string) => {
      step.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [managementRole.roleArn] }),
      );
    };

    const validate = steps[HANDLER.VALIDATE_REQUEST];
    management(
      validate,
      [
        'organizations:ListRoots',
        'organizations:ListOrganizationalUnitsForParent',
        'organizations:DescribeOrganizationalUnit',
        'organizations:ListAccounts',
        'organizations:DescribeAccount',
        'organizations:ListParents',
        'controltower:ListEnabledBaselines',
        'servicecatalog:SearchProvisionedProducts',
      ],
      'reads the organization (its ID is not known when the factory is deployed)',
    );
    grantTableRead(this.metadataTable, validate.role);

    management(
      steps[HANDLER.PROVISION_ACCOUNT],
      SERVICE_CATALOG_ACTIONS,
      'the Control Tower Account Factory product, its versions, launch paths and provisioned products are found by name at run time',
    );
    // Before touching Control Tower, it checks that no newer version of the request was written.
    grantTableRead(this.requestsTable, steps[HANDLER.PROVISION_ACCOUNT].role);
    management(
      steps[HANDLER.CHECK_PROVISIONING],
      ['servicecatalog:DescribeRecord', 'servicecatalog:SearchProvisionedProducts'],
      'reads the records of the operations it started, whose IDs are known at run time only',
    );
    management(
      steps[HANDLER.FETCH_ACCOUNT_ID],
      ['organizations:ListAccounts', 'organizations:DescribeAccount'],
      'finds the account in the organization',
    );
    grantTableRead(this.metadataTable, steps[HANDLER.FETCH_ACCOUNT_ID].role);

    grantTableReadWrite(this.metadataTable, steps[HANDLER.STORE_METADATA].role);

    // The first hop (AWSControlTowerExecution) goes through the management role; the
    // check that the new role can be assumed is made as the factory itself.
    management(steps[HANDLER.CREATE_EXECUTION_ROLE], ['sts:AssumeRole'], 'first hop into the account');
    steps[HANDLER.CREATE_EXECUTION_ROLE].role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [ctx.executionRoleArns] }),
    );
    acknowledge(
      steps[HANDLER.CREATE_EXECUTION_ROLE].role,
      'AwsSolutions-IAM5',
      'Checks that the execution role it created in a vended account (any account ID) can be assumed',
      [`Resource::${nagResource(this, ctx.executionRoleArns)}`],
    );

    const tag = steps[HANDLER.TAG_ACCOUNT];
    management(
      tag,
      ['organizations:ListTagsForResource', 'organizations:TagResource', 'organizations:UntagResource'],
      'tags vended accounts, whose IDs are not known when the factory is deployed',
    );
    grantTableReadWrite(this.metadataTable, tag.role);

    const features = steps[HANDLER.APPLY_FEATURE_OPTIONS];
    if (config.features.deleteDefaultVpcs) {
      features.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [ctx.executionRoleArns] }),
      );
      acknowledge(
        features.role,
        'AwsSolutions-IAM5',
        'Deletes default VPCs in each vended account (any account ID) through its execution role',
        [`Resource::${nagResource(this, ctx.executionRoleArns)}`],
      );
    }
    if (config.features.enterpriseSupport) {
      management(
        features,
        ['support:DescribeCases', 'support:CreateCase'],
        'AWS Support has no resource-level permissions',
      );
    }
    if (config.features.cloudTrailTrail) {
      management(
        features,
        ['cloudtrail:GetEventSelectors', 'cloudtrail:PutEventSelectors'],
        'the organization trail lives in the management account',
      );
    }

    const pipeline = steps[HANDLER.CREATE_ACCOUNT_PIPELINE];
    pipeline.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['codepipeline:GetPipeline', 'codepipeline:CreatePipeline', 'codepipeline:UpdatePipeline'],
        resources: [ctx.pipelineArnPattern],
      }),
    );
    pipeline.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.pipelineRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'codepipeline.amazonaws.com' } },
      }),
    );
    acknowledge(pipeline.role, 'AwsSolutions-IAM5', 'One pipeline per account, named <prefix>-<account id>', [
      `Resource::${nagResource(this, ctx.pipelineArnPattern)}`,
    ]);

    const remove = steps[HANDLER.REMOVE_FROM_MANAGEMENT];
    remove.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['codepipeline:GetPipeline', 'codepipeline:DeletePipeline'],
        resources: [ctx.pipelineArnPattern],
      }),
    );
    acknowledge(remove.role, 'AwsSolutions-IAM5', 'One pipeline per account, named <prefix>-<account id>', [
      `Resource::${nagResource(this, ctx.pipelineArnPattern)}`,
    ]);
    grantTableReadWrite(this.metadataTable, remove.role);

    management(
      steps[HANDLER.CLOSE_ACCOUNT],
      [
        'servicecatalog:TerminateProvisionedProduct',
        'servicecatalog:SearchProvisionedProducts',
        'organizations:CloseAccount',
      ],
      "terminates the account's provisioned product and closes the account, whose IDs are known at run time only",
    );

    const notify = steps[HANDLER.NOTIFY];
    grantTopicPublish(this.successTopic, notify.role);
    grantTopicPublish(this.failureTopic, notify.role);
    grantTableReadWrite(this.metadataTable, notify.role);

    // Table grants include the GSI (`<table>/index/*`).
    for (const step of [
      validate,
      steps[HANDLER.FETCH_ACCOUNT_ID],
      steps[HANDLER.STORE_METADATA],
      tag,
      remove,
      notify,
    ]) {
      acknowledge(step.role, 'AwsSolutions-IAM5', 'Queries the metadata table by email (its GSI)', [
        `Resource::${nagResource(this, `${this.metadataTable.tableArn}/index/*`)}`,
      ]);
    }
  }

  private acknowledgeWorkflowRole(
    steps: Record<WorkflowHandler, StepFunction>,
    provisioningCustomizations: sfn.IStateMachine | undefined,
    pipelineArnPattern: string,
  ): void {
    const stack = Stack.of(this);
    const role = this.stateMachine.role;
    const functions = [
      ...Object.values(steps).map((s) => s.function),
      this.semaphore.acquireFunction,
      this.semaphore.releaseFunction,
    ];
    acknowledge(
      role,
      'AwsSolutions-IAM5',
      'Lambda tasks invoke any version of their function (`<arn>:*`), as the Step Functions integration grants',
      functions.map((f) => `Resource::${nagResource(this, `${f.functionArn}:*`)}`),
    );
    acknowledge(
      role,
      'AwsSolutions-IAM5',
      'X-Ray and CloudWatch Logs vended-log delivery have no resource-level permissions',
      ['Resource::*'],
    );
    acknowledge(
      role,
      'AwsSolutions-IAM5',
      'Starts the pipeline of each account, named <prefix>-<account id>',
      [`Resource::${nagResource(this, pipelineArnPattern)}`],
    );
    if (provisioningCustomizations) {
      acknowledge(
        role,
        'AwsSolutions-IAM5',
        'startExecution.sync describes and stops the executions it starts, and manages the managed EventBridge rule of the integration',
        [
          `Resource::${nagResource(
            this,
            stack.formatArn({
              service: 'events',
              resource: 'rule',
              resourceName: 'StepFunctionsGetEventsForStepFunctionsExecutionRule',
            }),
          )}`,
          `Resource::${nagResource(
            this,
            stack.formatArn({
              service: 'states',
              resource: 'execution',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
              resourceName: `${stack.splitArn(provisioningCustomizations.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME).resourceName}*`,
            }),
          )}`,
        ],
      );
    }
  }
}

interface ResolvedProps {
  maxConcurrent: number;
  productName: string;
  controlTowerExecutionRoleName: string;
  executionRoleName: string;
  pollInterval: Duration;
  pipelinePrefix: string;
  customizationsObjectKey: string;
  maxConcurrentCustomizations: number;
  customizationsBuildTimeout: Duration;
  features: { deleteDefaultVpcs: boolean; enterpriseSupport: boolean; cloudTrailTrail?: string };
}

/** Defaults, then every check: a bad combination fails at synth with what to change. */
function resolveProps(props: AccountFactoryProps): ResolvedProps {
  const maxConcurrent = props.maxConcurrentAccountOperations ?? DEFAULT_SEMAPHORE_LIMIT;
  validateLimit(maxConcurrent, 'AccountFactory maxConcurrentAccountOperations');

  const productName = props.accountFactoryProductName ?? 'AWS Control Tower Account Factory';
  if (!Token.isUnresolved(productName) && (productName.trim() === '' || productName.length > 8191)) {
    throw new Error('AccountFactory accountFactoryProductName must not be empty');
  }

  const controlTowerExecutionRoleName = props.controlTowerExecutionRoleName ?? 'AWSControlTowerExecution';
  const executionRoleName = props.executionRoleName ?? 'AWSAFTExecution';
  for (const [prop, value] of [
    ['controlTowerExecutionRoleName', controlTowerExecutionRoleName],
    ['executionRoleName', executionRoleName],
  ] as const) {
    if (Token.isUnresolved(value))
      throw new Error(`AccountFactory ${prop} must be a literal role name, not a token`);
    if (!ROLE_NAME.test(value)) {
      throw new Error(
        `AccountFactory ${prop} "${value}" is not an IAM role name (1-64 of letters, digits and +=,.@_-)`,
      );
    }
  }
  if (controlTowerExecutionRoleName.toLowerCase() === executionRoleName.toLowerCase()) {
    throw new Error(
      `AccountFactory executionRoleName must differ from controlTowerExecutionRoleName (both are "${executionRoleName}"): the factory creates its own role next to Control Tower's`,
    );
  }

  const pollInterval = props.controlTowerPollInterval ?? Duration.seconds(60);
  if (pollInterval.isUnresolved())
    throw new Error('AccountFactory controlTowerPollInterval must be a literal duration');
  const pollSeconds = pollInterval.toSeconds();
  if (pollSeconds < 10) {
    throw new Error(
      `AccountFactory controlTowerPollInterval must be at least 10 seconds, got ${pollInterval.toHumanString()}`,
    );
  }
  if (pollSeconds > 3600) {
    throw new Error(
      `AccountFactory controlTowerPollInterval must be at most 1 hour, got ${pollInterval.toHumanString()}`,
    );
  }

  const pipelinePrefix = props.customizationsPipelineNamePrefix ?? 'account-customizations';
  if (Token.isUnresolved(pipelinePrefix) || !PIPELINE_PREFIX.test(pipelinePrefix)) {
    throw new Error(
      `AccountFactory customizationsPipelineNamePrefix "${pipelinePrefix}" must be 1-80 characters of A-Z a-z 0-9 . @ _ -`,
    );
  }

  const customizationsObjectKey = props.customizationsObjectKey ?? 'customizations.zip';
  if (customizationsObjectKey.trim() === '' || customizationsObjectKey.startsWith('/')) {
    throw new Error(
      `AccountFactory customizationsObjectKey "${customizationsObjectKey}" must be a non-empty key without a leading /`,
    );
  }

  if (props.customizationsSource && props.customizationsObjectKey !== undefined) {
    throw new Error(
      'AccountFactory customizationsObjectKey applies to the default bucket source only: give the key to CustomizationsSource.bucket({ objectKey }) instead',
    );
  }
  const maxConcurrentCustomizations = props.maxConcurrentCustomizations ?? 10;
  validateLimit(maxConcurrentCustomizations, 'AccountFactory maxConcurrentCustomizations');
  const customizationsBuildTimeout = props.customizationsBuildTimeout ?? Duration.hours(1);
  if (customizationsBuildTimeout.isUnresolved()) {
    throw new Error('AccountFactory customizationsBuildTimeout must be a literal duration');
  }
  const buildMinutes = customizationsBuildTimeout.toMinutes({ integral: false });
  if (buildMinutes < 5 || buildMinutes > 480 || !Number.isInteger(buildMinutes)) {
    throw new Error(
      `AccountFactory customizationsBuildTimeout must be whole minutes from 5 minutes to 8 hours, got ${customizationsBuildTimeout.toHumanString()}`,
    );
  }

  const trail = props.featureOptions?.cloudTrailDataEvents?.trailName;
  if (trail !== undefined && (Token.isUnresolved(trail) || !TRAIL_NAME.test(trail))) {
    throw new Error(
      `AccountFactory featureOptions.cloudTrailDataEvents.trailName "${trail}" must be a trail name (3-128 of A-Z a-z 0-9 . _ -) or a trail ARN`,
    );
  }

  return {
    maxConcurrent,
    productName,
    controlTowerExecutionRoleName,
    executionRoleName,
    pollInterval,
    pipelinePrefix,
    customizationsObjectKey,
    maxConcurrentCustomizations,
    customizationsBuildTimeout,
    features: {
      deleteDefaultVpcs: props.featureOptions?.deleteDefaultVpcs ?? false,
      enterpriseSupport: props.featureOptions?.enterpriseSupport ?? false,
      cloudTrailTrail: trail,
    },
  };
}

/** Lets CloudWatch Logs encrypt this account's log groups with the key (a no-op for an imported key). */
function allowLogsToUseKey(key: kms.IKey): void {
  const stack = Stack.of(key);
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: [
        'kms:Encrypt',
        'kms:Decrypt',
        'kms:ReEncryptFrom',
        'kms:ReEncryptTo',
        'kms:GenerateDataKey',
        'kms:DescribeKey',
      ],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    }),
  );
}

function pascal(name: string): string {
  return name
    .split('-')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
}

function mapValues<K extends string, A, B>(record: Record<K, A>, f: (a: A) => B): Record<K, B> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, f(v as A)])) as Record<K, B>;
}
