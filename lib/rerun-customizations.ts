import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { grantKey } from './private/grants';
import { acknowledge, nagResource } from './private/nag';
import { startPipelineTask } from './workflow/pipeline-tasks';
import { codePipelineRetry, dynamoDbRetry } from './private/retry';
import { ERROR_PATH, stepTask } from './workflow/step-task';

/** The state names of the re-run state machine. */
export const RERUN_STEP = {
  EACH_ACCOUNT: 'Re-run each account',
  READ_METADATA: 'Read account metadata',
  IN_METADATA: 'Account in metadata?',
  MANAGED: 'Account managed?',
  NOT_MANAGED: 'Not managed',
  ACCOUNT_CUSTOMIZATIONS: 'Account customizations?',
  WITH_ACCOUNT_CUSTOMIZATIONS: 'Global and account customizations',
  GLOBAL_ONLY: 'Global customizations only',
  CREATE_ACCOUNT_PIPELINE: 'Create account pipeline',
  START_PIPELINE: 'Start account pipeline',
  WAIT: 'Wait for customizations',
  CHECK: 'Check customizations',
  FINISHED: 'Customizations finished?',
  SUCCEEDED: 'Customizations succeeded',
  PIPELINE_FAILED: 'Customizations failed',
  FAILED: 'Re-run failed',
} as const;

/** The input of a re-run execution. */
export interface RerunInput {
  /** Account IDs (12 digits) of managed accounts. */
  accountIds: string[];
}

/** What the re-run reports for each account (`$.results`, in the order of `accountIds`). */
export type RerunResult =
  | { accountId: string; outcome: 'SUCCEEDED'; pipelineName: string; pipelineExecutionId: string }
  | { accountId: string; outcome: 'SKIPPED'; reason: string }
  | {
      accountId: string;
      outcome: 'FAILED';
      /** `CustomizationsFailed` when the pipeline ran and did not succeed; else the step's error. */
      error: string;
      cause: string;
      pipelineName?: string;
      pipelineExecutionId?: string;
    };

/** The output of a re-run execution. */
export interface RerunOutput extends RerunInput {
  results: RerunResult[];
}

/** The most accounts one execution takes (its history stays far below 25,000 events). */
export const MAX_RERUN_ACCOUNTS = 500;

export interface RerunCustomizationsProps {
  /** The metadata table of the factory (partition key `accountId`). */
  readonly metadataTable: dynamodb.ITable;
  /** The Create account pipeline handler (idempotent: creates, updates or leaves the pipeline). */
  readonly createPipelineFunction: lambda.IFunction;
  /** ARN pattern of the account pipelines (`arn:...:codepipeline:<region>:<account>:<prefix>-*`). */
  readonly pipelineArnPattern: string;
  /**
   * How many accounts are re-run at once (each until its pipeline ends). An
   * integer from 1 to 40.
   * @default 10
   */
  readonly maxConcurrency?: number;
  /**
   * How long to wait between two checks of a running pipeline.
   * @default Duration.seconds(30)
   */
  readonly pollInterval?: Duration;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Encrypts the log group; also the key of the metadata table, if it has one.
   * @default - CloudWatch Logs' own encryption
   */
  readonly encryptionKey?: kms.IKey;
}

export const DEFAULT_RERUN_CONCURRENCY = 10;

/**
 * Re-runs the customizations of a set of managed accounts, with no Control Tower
 * operation: for each account ID (a Map state, `maxConcurrency` at once), reads
 * its metadata; skips an account that is not ACTIVE; brings its pipeline up to
 * date with the request last applied ('Create account pipeline', idempotent);
 * starts the pipeline and waits for its end, so that at most `maxConcurrency`
 * re-run pipelines run at once. One account's failure never stops the others:
 * the output lists each account's outcome (`RerunOutput`).
 *
 * Start it with `{ "accountIds": ["111111111111", ...] }` (at most
 * MAX_RERUN_ACCOUNTS), e.g. with `account-factory rerun`.
 */
export class RerunCustomizations extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly logGroup: logs.ILogGroup;
  public readonly maxConcurrency: number;

  constructor(scope: Construct, id: string, props: RerunCustomizationsProps) {
    super(scope, id);
    const maxConcurrency = props.maxConcurrency ?? DEFAULT_RERUN_CONCURRENCY;
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1 || maxConcurrency > 40) {
      throw new Error(`rerunConcurrency must be an integer from 1 to 40, got ${maxConcurrency}`);
    }
    this.maxConcurrency = maxConcurrency;

    const failed = new sfn.Pass(this, RERUN_STEP.FAILED, {
      parameters: {
        'accountId.$': '$.accountId',
        outcome: 'FAILED',
        'error.$': `${ERROR_PATH}.Error`,
        'cause.$': `${ERROR_PATH}.Cause`,
      },
    });
    const catchFailed = <T extends sfn.TaskStateBase>(task: T): T => {
      task.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: ERROR_PATH });
      return task;
    };

    const createPipeline = this.pipelineRun(props, catchFailed);
    const item = this.readAccount(props, catchFailed, createPipeline);

    const map = new sfn.Map(this, RERUN_STEP.EACH_ACCOUNT, {
      itemsPath: '$.accountIds',
      itemSelector: { 'accountId.$': '$$.Map.Item.Value' },
      maxConcurrency,
      resultPath: '$.results',
      comment: `Re-runs the customizations of each account, ${maxConcurrency} at once, each until its pipeline ends`,
    });
    map.itemProcessor(item);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'Re-runs the customizations of managed accounts, without any Control Tower operation',
      definitionBody: sfn.DefinitionBody.fromChainable(map),
      stateMachineType: sfn.StateMachineType.STANDARD,
      queryLanguage: sfn.QueryLanguage.JSON_PATH,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
    });
    grantKey(props.metadataTable.encryptionKey, this.stateMachine, ['kms:Decrypt']);

    this.acknowledgeRole(props);
  }

  /**
   * 'Read metadata' -> is it in the table, ACTIVE, with account customizations? -> the
   * pipeline run of a managed account, or 'Not managed'.
   */
  private readAccount(
    props: RerunCustomizationsProps,
    catchFailed: <T extends sfn.TaskStateBase>(task: T) => T,
    createPipeline: sfn.IChainable,
  ): sfn.IChainable {
    const getItem = new tasks.DynamoGetItem(this, RERUN_STEP.READ_METADATA, {
      table: props.metadataTable,
      key: { accountId: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.accountId')) },
      consistentRead: true,
      resultPath: '$.metadata',
    });
    getItem.addRetry(dynamoDbRetry());
    const read = catchFailed(getItem);
    const notManaged = new sfn.Pass(this, RERUN_STEP.NOT_MANAGED, {
      parameters: {
        'accountId.$': '$.accountId',
        outcome: 'SKIPPED',
        reason: 'not a managed account (no ACTIVE item in the metadata table)',
      },
    });

    const target = (customizationsName?: string) => ({
      'accountId.$': '$.accountId',
      account: { 'accountId.$': '$.accountId' },
      validation: { request: customizationsName ? { 'customizationsName.$': customizationsName } : {} },
    });
    const withAccount = new sfn.Pass(this, RERUN_STEP.WITH_ACCOUNT_CUSTOMIZATIONS, {
      parameters: target('$.metadata.Item.request.M.customizationsName.S'),
    });
    const globalOnly = new sfn.Pass(this, RERUN_STEP.GLOBAL_ONLY, { parameters: target() });

    const item = read.next(
      new sfn.Choice(this, RERUN_STEP.IN_METADATA)
        .when(
          sfn.Condition.isPresent('$.metadata.Item'),
          new sfn.Choice(this, RERUN_STEP.MANAGED)
            .when(
              sfn.Condition.stringEquals('$.metadata.Item.status.S', 'ACTIVE'),
              new sfn.Choice(this, RERUN_STEP.ACCOUNT_CUSTOMIZATIONS)
                .when(
                  sfn.Condition.isPresent('$.metadata.Item.request.M.customizationsName.S'),
                  withAccount.next(createPipeline),
                )
                .otherwise(globalOnly.next(createPipeline)),
            )
            .otherwise(notManaged),
        )
        .otherwise(notManaged),
    );

    return item;
  }

  /**
   * 'Create account pipeline' -> 'Start pipeline' -> poll its execution until it ends ->
   * 'Succeeded' or 'Pipeline failed'. Returns the first state.
   */
  private pipelineRun(
    props: RerunCustomizationsProps,
    catchFailed: <T extends sfn.TaskStateBase>(task: T) => T,
  ): sfn.TaskStateBase {
    const createPipeline = catchFailed(
      stepTask(this, RERUN_STEP.CREATE_ACCOUNT_PIPELINE, {
        lambdaFunction: props.createPipelineFunction,
        resultPath: '$.pipeline',
        comment: "Brings the account's pipeline up to date with its request (idempotent)",
      }),
    );
    const start = startPipelineTask(this, RERUN_STEP.START_PIPELINE, props.pipelineArnPattern);
    const wait = new sfn.Wait(this, RERUN_STEP.WAIT, {
      time: sfn.WaitTime.duration(props.pollInterval ?? Duration.seconds(30)),
    });
    const check = new tasks.CallAwsService(this, RERUN_STEP.CHECK, {
      service: 'codepipeline',
      action: 'getPipelineExecution',
      parameters: {
        PipelineName: sfn.JsonPath.stringAt('$.pipeline.pipelineName'),
        PipelineExecutionId: sfn.JsonPath.stringAt('$.pipelineExecution.PipelineExecutionId'),
      },
      iamResources: [props.pipelineArnPattern],
      resultSelector: { Status: sfn.JsonPath.stringAt('$.PipelineExecution.Status') },
      resultPath: '$.pipelineStatus',
      comment: 'Reads the state of the pipeline execution',
    });
    check.addRetry(codePipelineRetry());
    catchFailed(check);
    const pipelineResult = {
      'accountId.$': '$.accountId',
      'pipelineName.$': '$.pipeline.pipelineName',
      'pipelineExecutionId.$': '$.pipelineExecution.PipelineExecutionId',
    };
    const succeeded = new sfn.Pass(this, RERUN_STEP.SUCCEEDED, {
      parameters: { ...pipelineResult, outcome: 'SUCCEEDED' },
    });
    const pipelineFailed = new sfn.Pass(this, RERUN_STEP.PIPELINE_FAILED, {
      parameters: {
        ...pipelineResult,
        outcome: 'FAILED',
        error: 'CustomizationsFailed',
        cause: sfn.JsonPath.format(
          'The customizations pipeline execution ended {}',
          sfn.JsonPath.stringAt('$.pipelineStatus.Status'),
        ),
      },
    });
    const finished = new sfn.Choice(this, RERUN_STEP.FINISHED)
      .when(sfn.Condition.stringEquals('$.pipelineStatus.Status', 'Succeeded'), succeeded)
      .when(
        sfn.Condition.or(
          sfn.Condition.stringEquals('$.pipelineStatus.Status', 'InProgress'),
          sfn.Condition.stringEquals('$.pipelineStatus.Status', 'Stopping'),
        ),
        wait,
      )
      .otherwise(pipelineFailed);
    wait.next(check).next(finished);

    catchFailed(start);
    createPipeline.next(start).next(wait);
    return createPipeline;
  }

  private acknowledgeRole(props: RerunCustomizationsProps): void {
    acknowledge(
      this.stateMachine.role,
      'AwsSolutions-IAM5',
      'The Lambda task invokes any version of its function (`<arn>:*`), as the Step Functions integration grants',
      [`Resource::${nagResource(this, `${props.createPipelineFunction.functionArn}:*`)}`],
    );
    acknowledge(
      this.stateMachine.role,
      'AwsSolutions-IAM5',
      'X-Ray and CloudWatch Logs vended-log delivery have no resource-level permissions',
      ['Resource::*'],
    );
    acknowledge(
      this.stateMachine.role,
      'AwsSolutions-IAM5',
      'Starts the pipeline of each account, named <prefix>-<account id>',
      [`Resource::${nagResource(this, props.pipelineArnPattern)}`],
    );
  }
}
