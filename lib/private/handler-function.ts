import { CfnResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { HANDLER_METADATA_KEY } from '../../lambda/shared/env';
import { handlerAsset } from './assets';
import { acknowledge } from './nag';

export interface HandlerFunctionProps {
  /**
   * The handler: a folder under lambda/ whose index.ts exports `handler`, or the
   * path of another entry without its extension (e.g.
   * `examples/provisioning-customizations/handler`). Its prebuilt bundle
   * (scripts/build-assets.ts) is the function's code.
   */
  readonly handler: string;
  /** @default - no extra variables */
  readonly environment?: Record<string, string>;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Encrypts the log group (the key policy must allow CloudWatch Logs).
   * @default - CloudWatch Logs' own encryption
   */
  readonly encryptionKey?: kms.IKey;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
  /**
   * The IAM path of the function's role. The Control Tower management role trusts the
   * factory's roles under one path (see ControlTowerAccess).
   * @default '/'
   */
  readonly rolePath?: string;
  /** @default - none */
  readonly description?: string;
  /**
   * POWERTOOLS_SERVICE_NAME.
   * @default - the handler name
   */
  readonly serviceName?: string;
}

/**
 * One handler Lambda: Node.js 22 on arm64, its code the prebuilt bundle of the
 * handler (lib/private/assets.ts; the AWS SDK v3 comes from the Lambda runtime), its
 * own role (logs to its own log group, X-Ray), an explicit log group with a
 * retention, active tracing, and no VPC.
 *
 * The CfnFunction carries the handler name as metadata (HANDLER_METADATA_KEY):
 * the local engine reads it to run the same handler in process.
 */
export class HandlerFunction extends Construct {
  public readonly function: lambda.Function;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;
  /** The handler folder name under lambda/. */
  public readonly handlerName: string;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the ${props.handler} handler of the account factory`,
      path: props.rolePath,
    });
    this.logGroup.grantWrite(this.role);

    const asset = handlerAsset(props.handler);
    this.function = new lambda.Function(this, 'Function', {
      code: lambda.Code.fromAsset(asset.dir),
      handler: asset.handler,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: props.timeout ?? Duration.minutes(1),
      tracing: lambda.Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      description: props.description,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName ?? props.handler,
        ...props.environment,
      },
    });
    (this.function.node.defaultChild as CfnResource).addMetadata(HANDLER_METADATA_KEY, props.handler);
    this.handlerName = props.handler;

    acknowledge(
      this.role,
      'AwsSolutions-IAM5',
      'xray:PutTraceSegments, xray:PutTelemetryRecords: X-Ray has no resource-level permissions (active tracing)',
      ['Resource::*'],
    );
    acknowledge(
      this.function,
      'AwsSolutions-L1',
      'Node.js 22 is the runtime the handlers are built and tested for; upgrading is a deliberate change',
    );
  }

  /**
   * Allows actions that have no resource-level permissions (`Resource: *`) and
   * acknowledges the cdk-nag finding for this role with the reason, so the audit
   * trail lists every such action and why.
   */
  public allowOnAnyResource(actions: string[], reason: string): void {
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources: ['*'] }));
    acknowledge(this.role, 'AwsSolutions-IAM5', `${actions.join(', ')}: ${reason}`, ['Resource::*']);
  }
}
