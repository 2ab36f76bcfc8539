import { ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { AccountFactoryProps } from '../account-factory';
import { DEFAULT_SEMAPHORE_LIMIT, validateLimit } from '../concurrency-semaphore';

/** IAM role names: 1-64 of letters, digits and +=,.@_- */
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
/** Leaves room for `-<12-digit account id>` within CodePipeline's 100 characters. */
const PIPELINE_PREFIX = /^[A-Za-z0-9.@_-]{1,80}$/;
const TRAIL_NAME = /^(arn:[\w-]+:cloudtrail:[a-z0-9-]+:\d{12}:trail\/)?[A-Za-z0-9][A-Za-z0-9._-]{2,127}$/;

/** AccountFactoryProps with every default applied and checked. */
export interface ResolvedProps {
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
export function resolveProps(props: AccountFactoryProps): ResolvedProps {
  const maxConcurrent = props.maxConcurrentAccountOperations ?? DEFAULT_SEMAPHORE_LIMIT;
  validateLimit(maxConcurrent, 'AccountFactory maxConcurrentAccountOperations');

  const productName = props.accountFactoryProductName ?? 'AWS Control Tower Account Factory';
  if (!Token.isUnresolved(productName) && (productName.trim() === '' || productName.length > 8191)) {
    throw new Error('AccountFactory accountFactoryProductName must not be empty');
  }

  const { controlTowerExecutionRoleName, executionRoleName } = resolveRoleNames(props);

  const pollInterval = props.controlTowerPollInterval ?? Duration.minutes(10);
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
export function allowLogsToUseKey(key: kms.IKey): void {
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

/** The two role names in each account: IAM role names, literal, and different. */
function resolveRoleNames(props: AccountFactoryProps): {
  controlTowerExecutionRoleName: string;
  executionRoleName: string;
} {
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
  return { controlTowerExecutionRoleName, executionRoleName };
}
