/**
 * Named errors. A handler throws one of these; Step Functions sees `error.name` as the
 * error name, so the state machine can Retry or Catch it by name, and the failure
 * notification carries it. Never return an error as data.
 */
export class AccountFactoryError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

function named(name: string) {
  return class extends AccountFactoryError {
    static readonly errorName = name;
    constructor(message: string) {
      super(name, message);
    }
  };
}

/** The request does not match the schema; the message names each field and why. */
export const InvalidAccountRequest = named('InvalidAccountRequest');
/** Another account (not this request's) already uses the email. */
export const EmailInUse = named('EmailInUse');
/** Another account (not this request's) already uses the account name. */
export const AccountNameInUse = named('AccountNameInUse');
/** The organizational unit does not exist in the organization. */
export const OrganizationalUnitNotFound = named('OrganizationalUnitNotFound');
/** The organizational unit exists but is not registered with Control Tower. */
export const OrganizationalUnitNotRegistered = named('OrganizationalUnitNotRegistered');
/** The Control Tower Account Factory product (or its active version or launch path) is missing. */
export const AccountFactoryProductNotFound = named('AccountFactoryProductNotFound');
/** Control Tower refused the operation because other operations are in progress: retried. */
export const ControlTowerBusy = named('ControlTowerBusy');
/** The Service Catalog record ended in FAILED: the message carries Control Tower's errors. */
export const ControlTowerOperationFailed = named('ControlTowerOperationFailed');
/** The account cannot be found (record outputs, then Organizations by email). */
export const AccountNotFound = named('AccountNotFound');
/** The execution role was created but cannot be assumed yet (IAM is eventually consistent): retried. */
export const ExecutionRoleNotReady = named('ExecutionRoleNotReady');
/** A feature option failed; the message says which and where. */
export const FeatureOptionFailed = named('FeatureOptionFailed');

/**
 * AWS stayed busy (throttled) for as long as the invocation could wait: the handler
 * stops retrying before Lambda's timeout would kill it, and the state machine retries
 * the step (RETRYABLE_STEP_ERRORS).
 */
export const RetryBudgetExhausted = named('RetryBudgetExhausted');

/**
 * The execution no longer holds the semaphore slot its Control Tower operation needs
 * (the step's mark on the slot was refused, before any Service Catalog call).
 */
export const SlotLost = named('SlotLost');

/**
 * Account Management refuses calls for member accounts because the organization has not
 * enabled trusted access for it (`organizations:EnableAWSServiceAccess` for
 * `account.amazonaws.com`): alternate contacts and opt-in Regions cannot be set.
 */
export const AccountManagementTrustedAccessDisabled = named('AccountManagementTrustedAccessDisabled');
/** An opt-in Region of the request is not a Region the account can enable (ListRegions does not list it). */
export const OptInRegionNotAvailable = named('OptInRegionNotAvailable');
/** The request's opt-in Regions did not reach ENABLED (or DISABLED) within the time the factory waits. */
export const OptInRegionsTimedOut = named('OptInRegionsTimedOut');
/** The organization has no IAM Identity Center instance the factory can see. */
export const IdentityCenterInstanceNotFound = named('IdentityCenterInstanceNotFound');
/** No Identity Center group has the request's display name. */
export const IdentityCenterGroupNotFound = named('IdentityCenterGroupNotFound');
/** No Identity Center user has the request's user name. */
export const IdentityCenterUserNotFound = named('IdentityCenterUserNotFound');
/** No permission set of the Identity Center instance has the request's name. */
export const PermissionSetNotFound = named('PermissionSetNotFound');
/** Identity Center reported an account assignment creation or deletion as FAILED; the message carries its reason. */
export const IdentityCenterAssignmentFailed = named('IdentityCenterAssignmentFailed');

/**
 * An approver rejected the request version (SendTaskFailure on the waiting approval task):
 * the execution notifies it and ends, nothing changed.
 */
export const ApprovalRejected = named('ApprovalRejected');
/** The approval waited longer than the approvals timeout: nothing changed. */
export const ApprovalExpired = named('ApprovalExpired');
/** A newer version of the request was written while this one waited: it asks for its own approval. */
export const ApprovalSuperseded = named('ApprovalSuperseded');
/**
 * The approver is the principal the request names as `requestedBy`, and the factory does not
 * allow self-approval: nothing was decided.
 */
export const SelfApprovalRefused = named('SelfApprovalRefused');
/** An approver's comment is too long (it travels in SendTaskFailure's cause and the notifications). */
export const InvalidApprovalComment = named('InvalidApprovalComment');
/** The request has no approval waiting for a decision (none asked, or already decided). */
export const NoPendingApproval = named('NoPendingApproval');

/**
 * The metadata table holds a newer version of this account's request than the execution
 * that tried to write it: the execution was superseded and stops.
 */
export const StaleRequestVersion = named('StaleRequestVersion');

/**
 * Error names that mean "AWS is busy, try again": every Lambda task retries these with
 * backoff. The names each service really returns: `ThrottlingException` (JSON
 * protocols: Control Tower, Service Catalog, CodePipeline, Step Functions, ...),
 * `Throttling` (query protocol: IAM, STS, SNS), `ThrottledException` (SNS),
 * `TooManyRequestsException` and `ConcurrentModificationException` (Organizations),
 * `RequestLimitExceeded` (EC2).
 */
export const THROTTLING_ERRORS = [
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'ConcurrentModificationException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerError',
  'InternalFailure',
] as const;

/**
 * A DynamoDB conditional write whose condition failed. `Item` is the item as it was,
 * when the request asked for it (ReturnValuesOnConditionCheckFailure ALL_OLD).
 */
export function isConditionalCheckFailed(err: unknown): err is Error & { Item?: Record<string, unknown> } {
  return (err as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';
}

/** Whether an error is one of THROTTLING_ERRORS (a handler's own retry uses it). */
export function isThrottling(err: unknown): boolean {
  const name = (err as { name?: string } | undefined)?.name ?? '';
  return (THROTTLING_ERRORS as readonly string[]).includes(name);
}

/**
 * What a step's Retry for "busy" catches: THROTTLING_ERRORS as AWS returns them, and the
 * handlers' own RetryBudgetExhausted (throttled until the invocation's time ran short).
 */
export const RETRYABLE_STEP_ERRORS: readonly string[] = [
  ...THROTTLING_ERRORS,
  RetryBudgetExhausted.errorName,
];
