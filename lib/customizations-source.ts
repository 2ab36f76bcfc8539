import { RemovalPolicy, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ENV } from '../lambda/shared/env';
import { grantBucketRead } from './private/grants';

/** How the account pipelines fetch the customizations. */
export type CustomizationsSourceType = 'S3' | 'CODECONNECTIONS';

/** What the factory gives a source when it binds it. */
export interface CustomizationsSourceBindOptions {
  /**
   * Encrypts a bucket the source creates.
   * @default - S3-managed encryption
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Receives the server access logs of a bucket the source creates.
   * @default - no access logs
   */
  readonly accessLogsBucket?: s3.IBucket;
}

/** A bound source: what the pipelines' Source stage needs. */
export interface CustomizationsSourceConfig {
  readonly type: CustomizationsSourceType;
  /** Environment of the create-pipeline function, which declares the Source stage from it. */
  readonly environment: Record<string, string>;
  /** The source bucket, for an S3 source. */
  readonly bucket?: s3.IBucket;
  /** The connection, for a CodeConnections source. */
  readonly connectionArn?: string;
  /** Lets the pipelines' role read the source. */
  grantRead(grantee: iam.IGrantable): void;
}

export interface BucketCustomizationsSourceProps {
  /**
   * The bucket that holds the customizations object.
   * @default - a new bucket: versioned, encrypted, SSL only, private, retained
   */
  readonly bucket?: s3.IBucket;
  /**
   * The zip object the pipelines take as their source, with `global/` and
   * `accounts/<customizationsName>/` at its root.
   * @default 'customizations.zip'
   */
  readonly objectKey?: string;
}

export interface ConnectionCustomizationsSourceProps {
  /**
   * ARN of an AWS CodeConnections (or CodeStar Connections) connection to
   * GitHub, GitLab or Bitbucket, in the factory's account.
   */
  readonly connectionArn: string;
  /** The repository, as `owner/name`. */
  readonly repository: string;
  /**
   * The branch the pipelines check out.
   * @default 'main'
   */
  readonly branch?: string;
}

const CONNECTION_ARN =
  /^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection\/[A-Za-z0-9-]+$/;
const REPOSITORY = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/;
const BRANCH = /^[^\s~^:?*[\\]{1,255}$/;

/**
 * Where the account customizations live. Both kinds hold the same layout:
 *
 * ```
 * global/                      run for every account
 * accounts/<customizationsName>/  run for the accounts whose request names it
 * ```
 * each folder either a CDK app (`cdk.json` present: deployed with `cdk deploy`)
 * or a plain `run.sh`.
 *
 * @example
 * new AccountFactory(this, 'Factory', {
 *   customizationsSource: CustomizationsSource.connection({
 *     connectionArn: 'arn:aws:codeconnections:us-east-1:111111111111:connection/0b1c2d3e-example',
 *     repository: 'example-org/account-customizations',
 *     branch: 'main',
 *   }),
 * });
 */
export abstract class CustomizationsSource {
  /** A zip object in an S3 bucket (a new bucket by default). */
  static bucket(props: BucketCustomizationsSourceProps = {}): CustomizationsSource {
    return new BucketSource(props);
  }

  /** A Git repository reached through an AWS CodeConnections connection. */
  static connection(props: ConnectionCustomizationsSourceProps): CustomizationsSource {
    return new ConnectionSource(props);
  }

  abstract readonly type: CustomizationsSourceType;

  /** Creates what the source needs (e.g. its bucket) in `scope`. Called once, by the factory. */
  abstract bind(scope: Construct, options?: CustomizationsSourceBindOptions): CustomizationsSourceConfig;
}

class BucketSource extends CustomizationsSource {
  readonly type = 'S3' as const;
  private readonly objectKey: string;

  constructor(private readonly props: BucketCustomizationsSourceProps) {
    super();
    this.objectKey = props.objectKey ?? 'customizations.zip';
    if (
      !Token.isUnresolved(this.objectKey) &&
      (this.objectKey.trim() === '' || this.objectKey.startsWith('/'))
    ) {
      throw new Error(
        `CustomizationsSource.bucket objectKey "${this.objectKey}" must be a non-empty key without a leading /`,
      );
    }
  }

  bind(scope: Construct, options: CustomizationsSourceBindOptions = {}): CustomizationsSourceConfig {
    const key = options.encryptionKey;
    const bucket =
      this.props.bucket ??
      new s3.Bucket(scope, 'CustomizationsSource', {
        ...(key
          ? { encryption: s3.BucketEncryption.KMS, encryptionKey: key, bucketKeyEnabled: true }
          : { encryption: s3.BucketEncryption.S3_MANAGED }),
        versioned: true,
        enforceSSL: true,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        serverAccessLogsBucket: options.accessLogsBucket,
        serverAccessLogsPrefix: options.accessLogsBucket ? 'customizations-source/' : undefined,
        removalPolicy: RemovalPolicy.RETAIN,
      });
    return {
      type: this.type,
      bucket,
      environment: {
        [ENV.CUSTOMIZATIONS_SOURCE_TYPE]: this.type,
        [ENV.CUSTOMIZATIONS_BUCKET]: bucket.bucketName,
        [ENV.CUSTOMIZATIONS_OBJECT_KEY]: this.objectKey,
      },
      grantRead: (grantee) => grantBucketRead(bucket, grantee),
    };
  }
}

class ConnectionSource extends CustomizationsSource {
  readonly type = 'CODECONNECTIONS' as const;
  private readonly branch: string;

  constructor(private readonly props: ConnectionCustomizationsSourceProps) {
    super();
    this.branch = props.branch ?? 'main';
    const checks: [string, string, RegExp, string][] = [
      ['connectionArn', props.connectionArn, CONNECTION_ARN, 'a CodeConnections connection ARN'],
      ['repository', props.repository, REPOSITORY, 'owner/name'],
      ['branch', this.branch, BRANCH, 'a branch name'],
    ];
    for (const [prop, value, pattern, what] of checks) {
      if (Token.isUnresolved(value)) {
        if (prop === 'connectionArn') continue;
        throw new Error(`CustomizationsSource.connection ${prop} must be a literal, not a token`);
      }
      if (!pattern.test(value)) {
        throw new Error(`CustomizationsSource.connection ${prop} "${value}" is not ${what}`);
      }
    }
  }

  bind(): CustomizationsSourceConfig {
    const connectionArn = this.props.connectionArn;
    return {
      type: this.type,
      connectionArn,
      environment: {
        [ENV.CUSTOMIZATIONS_SOURCE_TYPE]: this.type,
        [ENV.CUSTOMIZATIONS_CONNECTION_ARN]: connectionArn,
        [ENV.CUSTOMIZATIONS_REPOSITORY]: this.props.repository,
        [ENV.CUSTOMIZATIONS_BRANCH]: this.branch,
      },
      grantRead: (grantee) => {
        grantee.grantPrincipal.addToPrincipalPolicy(
          new iam.PolicyStatement({
            // Connections created as CodeStar Connections answer to either prefix.
            actions: ['codeconnections:UseConnection', 'codestar-connections:UseConnection'],
            resources: [connectionArn],
          }),
        );
      },
    };
  }
}
