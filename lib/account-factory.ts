import { Arn, ArnFormat, Duration, Fn, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
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
import { ConcurrencySemaphore, SemaphoreLock } from './concurrency-semaphore';
import { ControlTowerAccess, DEFAULT_TRUSTED_ROLE_PATH } from './control-tower-access';
import { CustomizationsSource, CustomizationsSourceConfig } from './customizations-source';
import {
  createCustomizationsProject,
  createCustomizationsResult,
  createCustomizationsStorage,
  createPipelineRole,
  pipelineArnPatternOf,
} from './private/customizations-infrastructure';
import { createFactoryTables, createFactoryTopics } from './private/factory-data';
import { allowLogsToUseKey, resolveProps, ResolvedProps } from './private/factory-props';
import {
  grantBucketReadWrite,
  grantTableRead,
  grantTableReadWrite,
  roleInAnyAccount,
  TopicOnFailure,
} from './private/grants';
import { HandlerFunction } from './private/handler-function';
import { acknowledge } from './private/nag';
import { StepFunctions } from './private/step-functions';
import { acknowledgeWorkflowRole } from './private/workflow-nag';
import { RerunCustomizations } from './rerun-customizations';
import { provisioningWorkflow } from './workflow/provisioning-workflow';
import { HANDLER, HandlerName } from './workflow/step-names';
import { AccountFactoryMonitoring, AccountFactoryMonitoringOptions, MonitoredLock } from './monitoring';
import { DriftDetection, DriftDetectionOptions } from './drift-detection';
import { Approvals, ApprovalsOptions } from './approvals';
import { ControlTowerEvents } from './control-tower-events';
import { AccountIndex } from './account-index';

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
   * The safety net of the wait for a Control Tower operation: the operation's lifecycle
   * event ends the wait; when none came within this interval (events are best effort),
   * the execution reads the Service Catalog record itself and waits again. A closure's
   * termination sends no lifecycle event: its record is read every minute, or every
   * `controlTowerPollInterval` when that is shorter. Between 10 seconds and 1 hour.
   * @default Duration.minutes(10)
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
   * Metrics, alarms and the dashboard (see AccountFactoryMonitoring): alarms go to the
   * failure topic when the factory has a customer-managed key (CloudWatch cannot publish
   * to a topic under the AWS-managed key), else to a topic of their own.
   * @default - alarms and a dashboard with the documented thresholds
   */
  readonly monitoring?: AccountFactoryMonitoringOptions;
  /**
   * A scheduled, read-only check of every managed account against its request (see
   * DriftDetection); `account-factory drift` runs it on demand.
   * @default - no drift detection
   */
  readonly driftDetection?: DriftDetectionOptions;
  /**
   * Approvals: the operations listed wait, after validation and before any Control Tower
   * slot is asked for, until an approver allowed by `approvals.grantApprove` approves them
   * (`account-factory approve`); a rejection or the timeout (default 7 days) ends the request
   * with a notification and changes nothing. A request's `requestedBy` cannot approve it
   * unless `allowSelfApproval`. See Approvals.
   * @default - no approvals: every request goes straight on
   */
  readonly approvals?: ApprovalsOptions;
}

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
  /**
   * The id (UUID) of the event source mapping from the requests table's stream to the
   * request trigger (its `EventSourceMappingUUID` metrics dimension).
   */
  public readonly requestTriggerEventSourceMappingId: string;
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
  /** Alarms, dashboard and `metric*()` methods for the metrics the handlers emit. */
  public readonly monitoring: AccountFactoryMonitoring;
  /**
   * Control Tower's lifecycle events end the wait for an account operation: the
   * waits table, the await and event functions, the rule (and, in a vending account,
   * the bus policy that lets the management account forward the events).
   */
  public readonly controlTowerEvents: ControlTowerEvents;
  /**
   * The organization's accounts by email and name, so a request's cost does not grow
   * with the organization: validation and Fetch account ID read it; a scheduled
   * reconcile rebuilds it from one listing.
   */
  public readonly accountIndex: AccountIndex;

  /** The drift check, with `driftDetection`. */
  public readonly driftDetection?: DriftDetection;

  /** The approvals table, function and topic, with `approvals` (`grantApprove` lets a principal decide). */
  public readonly approvals?: Approvals;

  /** Every handler function of the factory, by handler name (see `roleOf`). */
  private readonly handlerFunctions: Partial<Record<HandlerName, HandlerFunction>> = {};
  /** The roles the execution role trusts (trustExecutionRole adds to them). */
  private readonly executionRoleTrusted: iam.IRole[] = [];

  constructor(scope: Construct, id: string, props: AccountFactoryProps = {}) {
    super(scope, id);
    const config = resolveProps(props);
    const key = props.encryptionKey;
    this.encryptionKey = key;
    this.controlTowerExecutionRoleName = config.controlTowerExecutionRoleName;
    this.executionRoleName = config.executionRoleName;
    this.customizationsPipelineNamePrefix = config.pipelinePrefix;
    if (key) allowLogsToUseKey(key);

    const { requestsTable, metadataTable } = createFactoryTables(this, key, this.metadataEmailIndexName);
    this.requestsTable = requestsTable;
    this.metadataTable = metadataTable;
    const rolePath = props.factoryRolePath ?? DEFAULT_TRUSTED_ROLE_PATH;
    this.semaphore = new ConcurrencySemaphore(this, 'Semaphore', {
      limit: config.maxConcurrent,
      encryptionKey: key,
      logRetention: props.logRetention,
      cleanupRolePath: rolePath,
    });
    const topics = createFactoryTopics(this, props);
    this.successTopic = topics.successTopic;
    this.failureTopic = topics.failureTopic;

    const executionRoleArns = roleInAnyAccount(Stack.of(this), config.executionRoleName);
    const customizations = this.createCustomizationsInfrastructure(config, props, executionRoleArns);
    this.accessLogsBucket = customizations.accessLogsBucket;
    this.pipelineArtifactsBucket = customizations.artifactsBucket;
    this.customizationsSource = customizations.sourceConfig;
    this.customizationsBucket = customizations.sourceConfig.bucket;
    this.customizationsObjectKey = customizations.sourceConfig.environment[ENV.CUSTOMIZATIONS_OBJECT_KEY];
    this.customizationsProject = customizations.project;
    this.pipelineRole = customizations.pipelineRole;
    const pipelineArnPattern = pipelineArnPatternOf(this, config.pipelinePrefix);
    this.customizationsLock = this.semaphore.addLock('CustomizationsLock', {
      lockName: 'customizations',
      limit: config.maxConcurrentCustomizations,
    });

    const environment = this.stepEnvironment(config);
    this.controlTowerAccess = props.controlTowerManagementRole
      ? undefined
      : this.createControlTowerAccess(config, props, rolePath);
    this.managementRole = props.controlTowerManagementRole ?? this.controlTowerAccess!.role;
    const homeRegion = props.controlTowerHomeRegion ?? Stack.of(this).region;
    this.accountIndex = new AccountIndex(this, 'AccountIndex', {
      managementRole: this.managementRole,
      rolePath,
      controlTowerHomeRegion: homeRegion,
      encryptionKey: key,
      logRetention: props.logRetention,
    });
    this.controlTowerEvents = new ControlTowerEvents(this, 'ControlTowerEvents', {
      managementRole: this.managementRole,
      rolePath,
      controlTowerHomeRegion: homeRegion,
      managementAccountId: props.controlTowerManagementRole
        ? Arn.split(this.managementRole.roleArn, ArnFormat.SLASH_RESOURCE_NAME).account
        : undefined,
      encryptionKey: key,
      logRetention: props.logRetention,
    });

    const steps = this.createSteps(config, props, {
      environment,
      executionRoleArns,
      pipelineArnPattern,
      homeRegion,
      rolePath,
    });

    this.approvals = props.approvals
      ? new Approvals(this, 'Approvals', {
          ...props.approvals,
          metadataTable,
          failureTopic: this.failureTopic,
          encryptionKey: key,
          logRetention: props.logRetention,
        })
      : undefined;

    this.stateMachineLogGroup = new logs.LogGroup(this, 'WorkflowLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stateMachine = this.createStateMachine(steps, config, props, pipelineArnPattern);
    this.approvals?.bind(this.stateMachine);
    this.controlTowerEvents.grantTaskResponse(this.stateMachine);
    this.semaphore.guard(this.stateMachine);
    this.semaphore.checkOperationRecords(this.managementRole, homeRegion);
    this.semaphore.reportOrphanedOperations(this.failureTopic);
    this.rerunStateMachine = new RerunCustomizations(this, 'Rerun', {
      metadataTable,
      createPipelineFunction: steps.fn(HANDLER.CREATE_ACCOUNT_PIPELINE),
      pipelineArnPattern,
      maxConcurrency: props.rerunConcurrency,
      logRetention: props.logRetention,
      encryptionKey: key,
    }).stateMachine;
    acknowledgeWorkflowRole(this, this.stateMachine.role, {
      functions: [
        ...steps.all().map((s) => s.function),
        this.semaphore.acquireFunction,
        this.semaphore.releaseFunction,
        ...(this.approvals ? [this.approvals.function] : []),
        this.controlTowerEvents.awaitFunction,
      ],
      pipelineArnPattern,
      provisioningCustomizations: props.provisioningCustomizations,
    });

    const { trigger, eventSourceMappingId } = this.createRequestTrigger(props);
    this.requestTrigger = trigger.function;
    this.requestTriggerEventSourceMappingId = eventSourceMappingId;
    const { result, rule } = this.createCustomizationsResult(environment, config, props, pipelineArnPattern);
    this.customizationsResultFunction = result.function;
    this.customizationsResultRule = rule;

    for (const f of [
      ...steps.all(),
      trigger,
      result,
      ...this.controlTowerEvents.handlerFunctions,
      this.accountIndex.reconcileHandler,
    ])
      this.handlerFunctions[f.handlerName as HandlerName] = f;
    this.functions = {
      ...steps.functionsByHandler(),
      [HANDLER.REQUEST_TRIGGER]: trigger.function,
      [HANDLER.ACQUIRE_SLOT]: this.semaphore.acquireFunction,
      [HANDLER.RELEASE_SLOT]: this.semaphore.releaseFunction,
      [HANDLER.SEMAPHORE_CLEANUP]: this.semaphore.cleanupFunction,
      [HANDLER.CUSTOMIZATIONS_RESULT]: this.customizationsResultFunction,
      [HANDLER.AWAIT_CONTROL_TOWER]: this.controlTowerEvents.awaitFunction,
      [HANDLER.CONTROL_TOWER_EVENT]: this.controlTowerEvents.eventFunction,
      [HANDLER.RECONCILE_ACCOUNT_INDEX]: this.accountIndex.reconcileFunction,
    };

    const toFailureTopic = !props.monitoring?.alarmTopic && !props.failureTopic && key !== undefined;
    this.monitoring = new AccountFactoryMonitoring(this, 'Monitoring', {
      ...props.monitoring,
      ...(toFailureTopic ? { alarmTopic: this.failureTopic, alarmTopicKey: key } : {}),
      stateMachine: this.stateMachine,
      functions: this.functions,
      requestTrigger: this.requestTrigger,
      requestTriggerEventSourceMappingId: this.requestTriggerEventSourceMappingId,
      controlTowerLock: this.semaphore,
      customizationsLock: this.customizationsLock,
    });
    if (props.driftDetection) {
      this.driftDetection = new DriftDetection(this, 'DriftDetection', {
        ...props.driftDetection,
        topic: props.driftDetection.topic ?? this.failureTopic,
        metadataTable: this.metadataTable,
        managementRole: this.managementRole,
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
  public grantReadMetadata(grantee: iam.IGrantable): iam.Grant {
    return grantTableRead(this.metadataTable, grantee);
  }

  /** Lets a principal write account requests (e.g. a CLI role or a self-service portal). */
  public grantWriteRequests(grantee: iam.IGrantable): iam.Grant {
    return grantTableReadWrite(this.requestsTable, grantee);
  }

  /** Lets a principal upload the customizations source (an S3 source only). */
  public grantWriteCustomizations(grantee: iam.IGrantable): iam.Grant {
    if (!this.customizationsBucket) {
      throw new Error(
        'The customizations source is a repository: grant write access to it where it is hosted',
      );
    }
    return grantBucketReadWrite(this.customizationsBucket, grantee);
  }

  /**
   * The role of a workflow handler or of the request trigger (to grant it more,
   * or acknowledge a finding). The semaphore's functions: see `semaphore`.
   */
  public roleOf(handler: HandlerName): iam.IRole | undefined {
    return this.handlerFunctions[handler]?.role;
  }

  // ---- Metrics (as CDK constructs expose theirs; each delegates to `monitoring`) ----

  /** A metric the handlers emit, with this factory's `Factory` dimension. */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.monitoring.metric(metricName, props);
  }

  /** New accounts ready (CREATE requests that succeeded). Sum. */
  public metricAccountsVended(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.monitoring.metricAccountsVended(props);
  }

  /** UPDATE requests that succeeded. Sum. */
  public metricAccountsUpdated(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.monitoring.metricAccountsUpdated(props);
  }

  /** IMPORT requests that succeeded (existing accounts enrolled). Sum. */
  public metricAccountsImported(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.monitoring.metricAccountsImported(props);
  }

  /** ADOPT requests that succeeded (taken over without a Control Tower operation). Sum. */
  public metricAccountsAdopted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.monitoring.metricAccountsAdopted(props);
  }

  /** CUSTOMIZE requests that succeeded. Sum. */
  public metricAccountsCustomized(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.monitoring.metricAccountsCustomized(props);
  }

  /** Removed requests whose account left management. Sum. */
  public metricAccountsRemoved(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.monitoring.metricAccountsRemoved(props);
  }

  /** Requests that ended in the failure chain. Sum. */
  public metricRequestsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.monitoring.metricRequestsFailed(props);
  }

  /** Failed requests with the error that failed them (e.g. `ControlTowerOperationFailed`). Sum. */
  public metricStepFailures(errorName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.monitoring.metricStepFailures(errorName, props);
  }

  /** Seconds from an execution's start to its notification. Average. */
  public metricRequestDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.monitoring.metricRequestDuration(props);
  }

  /** Seconds each Control Tower operation took. Average. */
  public metricControlTowerDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.monitoring.metricControlTowerDuration(props);
  }

  /** Control Tower operations that ended FAILED. Sum. */
  public metricControlTowerOperationsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.monitoring.metricControlTowerOperationsFailed(props);
  }

  /** Control Tower operations that ended SUCCEEDED. Sum. */
  public metricControlTowerOperationsSucceeded(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.monitoring.metricControlTowerOperationsSucceeded(props);
  }

  /** Seconds from an execution's start to the start of its Control Tower operation. Average. */
  public metricSlotWait(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.monitoring.metricSlotWait(props);
  }

  /** Slots held (sampled by each semaphore cleanup run). Maximum. Default: the Control Tower lock. */
  public metricSlotsInUse(lock?: MonitoredLock, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.monitoring.metricSlotsInUse(lock, props);
  }

  /** Executions waiting for a slot. Maximum. Default: the Control Tower lock. */
  public metricWaiters(lock?: MonitoredLock, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.monitoring.metricWaiters(lock, props);
  }

  /** Seconds the first execution in line has waited. Maximum. Default: the Control Tower lock. */
  public metricOldestWaiterAge(lock?: MonitoredLock, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.monitoring.metricOldestWaiterAge(lock, props);
  }

  /** Seconds the longest-held slot has been held. Maximum. Default: the Control Tower lock. */
  public metricOldestSlotAge(lock?: MonitoredLock, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.monitoring.metricOldestSlotAge(lock, props);
  }

  /** Account pipelines that succeeded. Sum. */
  public metricCustomizationsSucceeded(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.monitoring.metricCustomizationsSucceeded(props);
  }

  /** Account pipelines that failed or were stopped. Sum. */
  public metricCustomizationsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.monitoring.metricCustomizationsFailed(props);
  }

  /** Stream records the request trigger could not start an execution for (each retried). Sum. */
  public metricTriggerRecordsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.monitoring.metricTriggerRecordsFailed(props);
  }

  /** Stream records the request trigger's event source mapping sent to the on-failure destination. Sum. */
  public metricTriggerRecordsSentToFailureDestination(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.monitoring.metricTriggerRecordsSentToFailureDestination(props);
  }

  /** Stream records the request trigger's event source mapping dropped. Sum. */
  public metricTriggerRecordsDropped(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.monitoring.metricTriggerRecordsDropped(props);
  }

  /** Stream records the request trigger gave up on (on-failure destination or dropped). */
  public metricTriggerRecordsGivenUp(): cloudwatch.MathExpression {
    return this.monitoring.metricTriggerRecordsGivenUp();
  }

  /** Executions that failed, timed out or were aborted (AWS/States). */
  public metricExecutionsFailed(): cloudwatch.MathExpression {
    return this.monitoring.metricExecutionsFailed();
  }

  /** The buckets, the customizations source, the CodeBuild project and the pipelines' role. */
  private createCustomizationsInfrastructure(
    config: ResolvedProps,
    props: AccountFactoryProps,
    executionRoleArns: string,
  ) {
    const source =
      props.customizationsSource ??
      CustomizationsSource.bucket({ objectKey: config.customizationsObjectKey });
    const storage = createCustomizationsStorage(this, props.encryptionKey, source);
    const project = createCustomizationsProject(
      this,
      config,
      storage.artifactsBucket,
      executionRoleArns,
      props,
    );
    const pipelineRole = createPipelineRole(this, storage.sourceConfig, storage.artifactsBucket, project);
    return { ...storage, project, pipelineRole };
  }

  /** The management role and its portfolio access, when the factory runs in the management account. */
  private createControlTowerAccess(
    config: ResolvedProps,
    props: AccountFactoryProps,
    rolePath: string,
  ): ControlTowerAccess {
    return new ControlTowerAccess(this, 'ControlTowerAccess', {
      trustedRolePath: rolePath,
      homeRegion: props.controlTowerHomeRegion,
      controlTowerExecutionRoleName: config.controlTowerExecutionRoleName,
      enterpriseSupport: config.features.enterpriseSupport,
      cloudTrailTrailName: config.features.cloudTrailTrail,
      logRetention: props.logRetention,
      encryptionKey: props.encryptionKey,
    });
  }

  /** The workflow steps' functions (WORKFLOW_STEPS), each granted what its descriptor says. */
  private createSteps(
    config: ResolvedProps,
    props: AccountFactoryProps,
    where: {
      environment: Record<string, string>;
      executionRoleArns: string;
      pipelineArnPattern: string;
      homeRegion: string;
      rolePath: string;
    },
  ): StepFunctions {
    const steps = new StepFunctions(this, {
      context: {
        requestsTable: this.requestsTable,
        metadataTable: this.metadataTable,
        successTopic: this.successTopic,
        failureTopic: this.failureTopic,
        managementRole: this.managementRole,
        executionRoleArns: where.executionRoleArns,
        pipelineArnPattern: where.pipelineArnPattern,
        pipelineRole: this.pipelineRole,
        features: config.features,
        // The execution role trusts the factory's roles that assume it, not the whole account
        // (trustExecutionRole adds others, e.g. a provisioning customization's).
        accountIndexTable: this.accountIndex.table,
        executionRoleTrustedArns: Lazy.string({
          produce: () =>
            Fn.join(
              ',',
              [...new Set(this.executionRoleTrusted)].map((r) => r.roleArn),
            ),
        }),
      },
      environment: where.environment,
      homeRegion: where.homeRegion,
      managementRolePath: where.rolePath,
      logRetention: props.logRetention,
      encryptionKey: props.encryptionKey,
    });
    this.executionRoleTrusted.push(...steps.executionRoleUsers(), this.customizationsProject.role!);
    return steps;
  }

  private createStateMachine(
    steps: StepFunctions,
    config: ResolvedProps,
    props: AccountFactoryProps,
    pipelineArnPattern: string,
  ): sfn.StateMachine {
    const definition = provisioningWorkflow(this, {
      steps,
      semaphore: this.semaphore,
      customizationsLock: this.customizationsLock,
      awaitFunction: this.controlTowerEvents.awaitFunction,
      pollInterval: config.pollInterval,
      terminationPollInterval: Duration.seconds(Math.min(60, config.pollInterval.toSeconds())),
      pipelineArnPattern,
      provisioningCustomizations: props.provisioningCustomizations,
      approval: this.approvals && {
        approvalFunction: this.approvals.function,
        operations: this.approvals.operations,
        expiry: this.approvals.timeout,
      },
    });
    return new sfn.StateMachine(this, 'Workflow', {
      comment:
        'Provisions, updates, imports, customizes or removes one account, for one version of its request',
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      stateMachineType: sfn.StateMachineType.STANDARD,
      queryLanguage: sfn.QueryLanguage.JSON_PATH,
      logs: { destination: this.stateMachineLogGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
    });
  }

  /** The environment of every step: tables, topics, names, feature options, customizations. */
  private stepEnvironment(config: ResolvedProps): Record<string, string> {
    const lock = this.customizationsLock;
    return {
      [ENV.REQUESTS_TABLE]: this.requestsTable.tableName,
      [ENV.METADATA_TABLE]: this.metadataTable.tableName,
      [ENV.METADATA_EMAIL_INDEX]: this.metadataEmailIndexName,
      [ENV.SUCCESS_TOPIC_ARN]: this.successTopic.topicArn,
      [ENV.FAILURE_TOPIC_ARN]: this.failureTopic.topicArn,
      [ENV.ACCOUNT_FACTORY_PRODUCT_NAME]: config.productName,
      [ENV.CONTROL_TOWER_EXECUTION_ROLE_NAME]: config.controlTowerExecutionRoleName,
      [ENV.EXECUTION_ROLE_NAME]: config.executionRoleName,
      [ENV.FEATURE_DELETE_DEFAULT_VPCS]: String(config.features.deleteDefaultVpcs),
      [ENV.FEATURE_ENTERPRISE_SUPPORT]: String(config.features.enterpriseSupport),
      [ENV.PIPELINE_NAME_PREFIX]: config.pipelinePrefix,
      [ENV.PIPELINE_ROLE_ARN]: this.pipelineRole.roleArn,
      [ENV.PIPELINE_ARTIFACT_BUCKET]: this.pipelineArtifactsBucket.bucketName,
      ...this.customizationsSource.environment,
      [ENV.CUSTOMIZATIONS_PROJECT]: this.customizationsProject.projectName,
      [ENV.CUSTOMIZATIONS_SEMAPHORE_TABLE]: lock.table.tableName,
      [ENV.CUSTOMIZATIONS_LOCK_NAME]: lock.lockName,
      [ENV.CUSTOMIZATIONS_LIMIT]: String(lock.limit),
      ...(config.features.cloudTrailTrail
        ? { [ENV.FEATURE_CLOUDTRAIL_DATA_EVENTS_TRAIL]: config.features.cloudTrailTrail }
        : {}),
    };
  }

  /** Records each account pipeline's outcome, notifies it, and frees its customizations slot. */
  private createCustomizationsResult(
    environment: Record<string, string>,
    config: ResolvedProps,
    props: AccountFactoryProps,
    pipelineArnPattern: string,
  ) {
    return createCustomizationsResult(this, {
      environment,
      logRetention: props.logRetention,
      encryptionKey: props.encryptionKey,
      metadataTable: this.metadataTable,
      customizationsLock: this.customizationsLock,
      successTopic: this.successTopic,
      failureTopic: this.failureTopic,
      stateMachine: this.stateMachine,
      semaphore: this.semaphore,
      pipelineArnPattern,
      pipelinePrefix: config.pipelinePrefix,
    });
  }

  /** Starts one workflow execution per request stream record. */
  private createRequestTrigger(props: AccountFactoryProps): {
    trigger: HandlerFunction;
    eventSourceMappingId: string;
  } {
    const trigger = new HandlerFunction(this, 'RequestTrigger', {
      logRetention: props.logRetention,
      encryptionKey: props.encryptionKey,
      handler: HANDLER.REQUEST_TRIGGER,
      description: 'Starts one workflow execution per request version',
      environment: { [ENV.STATE_MACHINE_ARN]: this.stateMachine.stateMachineArn },
    });
    this.stateMachine.grantStartExecution(trigger.role);
    const source = new DynamoEventSource(this.requestsTable, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: 10,
      bisectBatchOnError: true,
      retryAttempts: 10,
      reportBatchItemFailures: true,
      onFailure: new TopicOnFailure(this.failureTopic),
      // OnFailureDestinationDeliveredEventCount and DroppedEventCount (alarmed by the monitoring).
      metricsConfig: { metrics: [lambda.MetricType.EVENT_COUNT] },
    });
    trigger.function.addEventSource(source);
    acknowledge(trigger.role, 'AwsSolutions-IAM5', 'dynamodb:ListStreams has no resource-level permissions', [
      'Resource::*',
    ]);
    return { trigger, eventSourceMappingId: source.eventSourceMappingId };
  }
}
