/**
 * Environment variables the constructs set on the handlers. One list, so lib/ and
 * lambda/ cannot drift apart.
 */
export const ENV = {
  REQUESTS_TABLE: 'REQUESTS_TABLE',
  METADATA_TABLE: 'METADATA_TABLE',
  /** Name of the metadata table's GSI on `email`. */
  METADATA_EMAIL_INDEX: 'METADATA_EMAIL_INDEX',
  SEMAPHORE_TABLE: 'SEMAPHORE_TABLE',
  SEMAPHORE_LOCK_NAME: 'SEMAPHORE_LOCK_NAME',
  SEMAPHORE_LIMIT: 'SEMAPHORE_LIMIT',
  STATE_MACHINE_ARN: 'STATE_MACHINE_ARN',
  SUCCESS_TOPIC_ARN: 'SUCCESS_TOPIC_ARN',
  FAILURE_TOPIC_ARN: 'FAILURE_TOPIC_ARN',
  ACCOUNT_FACTORY_PRODUCT_NAME: 'ACCOUNT_FACTORY_PRODUCT_NAME',
  CONTROL_TOWER_EXECUTION_ROLE_NAME: 'CONTROL_TOWER_EXECUTION_ROLE_NAME',
  EXECUTION_ROLE_NAME: 'EXECUTION_ROLE_NAME',
  /**
   * The factory's roles that assume the execution role (comma-separated role ARNs): the
   * execution role trusts these, not the whole account.
   */
  EXECUTION_ROLE_TRUSTED_ROLES: 'EXECUTION_ROLE_TRUSTED_ROLES',
  /** Optional: role in the Control Tower management account for Organizations / Service Catalog calls. */
  MANAGEMENT_ROLE_ARN: 'MANAGEMENT_ROLE_ARN',
  /** The Control Tower home region: Service Catalog (Account Factory) and Control Tower are called there. */
  CONTROL_TOWER_HOME_REGION: 'CONTROL_TOWER_HOME_REGION',
  FEATURE_DELETE_DEFAULT_VPCS: 'FEATURE_DELETE_DEFAULT_VPCS',
  FEATURE_ENTERPRISE_SUPPORT: 'FEATURE_ENTERPRISE_SUPPORT',
  /** Trail name or ARN for CloudTrail data events; unset = off. */
  FEATURE_CLOUDTRAIL_DATA_EVENTS_TRAIL: 'FEATURE_CLOUDTRAIL_DATA_EVENTS_TRAIL',
  PIPELINE_NAME_PREFIX: 'PIPELINE_NAME_PREFIX',
  PIPELINE_ROLE_ARN: 'PIPELINE_ROLE_ARN',
  PIPELINE_ARTIFACT_BUCKET: 'PIPELINE_ARTIFACT_BUCKET',
  CUSTOMIZATIONS_BUCKET: 'CUSTOMIZATIONS_BUCKET',
  CUSTOMIZATIONS_OBJECT_KEY: 'CUSTOMIZATIONS_OBJECT_KEY',
  CUSTOMIZATIONS_PROJECT: 'CUSTOMIZATIONS_PROJECT',
  /** 'S3' or 'CODECONNECTIONS': the kind of the pipelines' Source stage. Unset = S3. */
  CUSTOMIZATIONS_SOURCE_TYPE: 'CUSTOMIZATIONS_SOURCE_TYPE',
  CUSTOMIZATIONS_CONNECTION_ARN: 'CUSTOMIZATIONS_CONNECTION_ARN',
  /** `owner/name` of the customizations repository (CodeConnections source). */
  CUSTOMIZATIONS_REPOSITORY: 'CUSTOMIZATIONS_REPOSITORY',
  CUSTOMIZATIONS_BRANCH: 'CUSTOMIZATIONS_BRANCH',
  /** Extra locks the semaphore cleanup serves: JSON `[{ table, lockName, limit }]`. */
  SEMAPHORE_EXTRA_LOCKS: 'SEMAPHORE_EXTRA_LOCKS',
  /** The lock that bounds concurrent customizations pipelines (table, name, limit). */
  CUSTOMIZATIONS_SEMAPHORE_TABLE: 'CUSTOMIZATIONS_SEMAPHORE_TABLE',
  CUSTOMIZATIONS_LOCK_NAME: 'CUSTOMIZATIONS_LOCK_NAME',
  CUSTOMIZATIONS_LIMIT: 'CUSTOMIZATIONS_LIMIT',
  /** Optional: where the semaphore cleanup reports a Control Tower operation whose execution ended before it. */
  ORPHANED_OPERATIONS_TOPIC_ARN: 'ORPHANED_OPERATIONS_TOPIC_ARN',
  /** The factory's name: the `Factory` dimension of every metric the handlers emit (lambda/shared/metrics.ts). */
  ACCOUNT_FACTORY_NAME: 'ACCOUNT_FACTORY_NAME',
  /** The drift check's own table: the last drift set it notified (drift-check). */
  DRIFT_STATE_TABLE: 'DRIFT_STATE_TABLE',
  /** Where the drift check publishes a changed drift set. */
  DRIFT_TOPIC_ARN: 'DRIFT_TOPIC_ARN',
  /**
   * JSON: the read-only session policies the drift check passes when it assumes roles
   * (`{ management, account }`): its sessions can read, never write.
   */
  DRIFT_SESSION_POLICIES: 'DRIFT_SESSION_POLICIES',
  /** The approvals table: one item per request, its latest approval (approval-request, account-factory approve). */
  APPROVALS_TABLE: 'APPROVALS_TABLE',
  /** Where approval requests (with the plan) and their closing are published. */
  APPROVAL_TOPIC_ARN: 'APPROVAL_TOPIC_ARN',
  /** How long an approval waits before it expires, in seconds (the waiting task's timeout). */
  APPROVAL_TIMEOUT_SECONDS: 'APPROVAL_TIMEOUT_SECONDS',
  /** 'true': the principal named in `requestedBy` may approve its own request. */
  APPROVAL_ALLOW_SELF: 'APPROVAL_ALLOW_SELF',
  /** Executions waiting for a Control Tower operation, by account name / ID (lifecycle events end the wait). */
  CONTROL_TOWER_WAITS_TABLE: 'CONTROL_TOWER_WAITS_TABLE',
  /** The organization's accounts by email and name (lambda/shared/account-index.ts). */
  ACCOUNT_INDEX_TABLE: 'ACCOUNT_INDEX_TABLE',
} as const;

export type EnvName = keyof typeof ENV;

/** A required variable: a missing one is a deployment bug, named in the error. */
export function requireEnv(name: EnvName): string {
  const value = process.env[ENV[name]];
  if (value === undefined || value === '') {
    throw new Error(`Environment variable ${ENV[name]} is not set`);
  }
  return value;
}

export function optionalEnv(name: EnvName): string | undefined {
  const value = process.env[ENV[name]];
  return value === undefined || value === '' ? undefined : value;
}

export function flagEnv(name: EnvName): boolean {
  return optionalEnv(name) === 'true';
}

/** The metadata key that tells the local engine which lambda/<name>/ module a function runs. */
export const HANDLER_METADATA_KEY = 'cdk-account-factory:handler';
