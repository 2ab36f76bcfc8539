/**
 * The state names of the provisioning state machine. The constructs, the local
 * engine (overrides are keyed by state name) and the tests share this one list.
 */
export const STEP = {
  // 1. Validate, then route by operation
  VALIDATE_REQUEST: 'Validate request',
  CONTROL_TOWER_OPERATION: 'Control Tower operation?',

  // REMOVE (closing the account first only with closeOnRemoval, in a Control Tower slot)
  CLOSE_ON_REMOVAL: 'Close account on removal?',
  ACQUIRE_SLOT_FOR_CLOSURE: 'Acquire slot for closure',
  TERMINATE_PROVISIONED_PRODUCT: 'Terminate provisioned product',
  TERMINATION_STARTED: 'Termination started?',
  WAIT_FOR_TERMINATION: 'Wait for termination',
  TERMINATION_FINISHED: 'Termination finished?',
  TERMINATION_FAILED: 'Termination failed',
  CLOSE_ACCOUNT: 'Close account',
  RELEASE_SLOT_AFTER_CLOSURE: 'Release slot after closure',
  REMOVE_FROM_MANAGEMENT: 'Remove from management',
  NOTIFY_REMOVED: 'Notify removed',
  ACCOUNT_REMOVED: 'Account removed',

  // 2. Control Tower operation (CREATE / UPDATE / IMPORT), guarded by the semaphore
  ACQUIRE_SLOT: 'Acquire slot',
  PROVISION_ACCOUNT: 'Provision account',
  WAIT_FOR_CONTROL_TOWER: 'Wait for Control Tower',
  PROVISIONING_FINISHED: 'Provisioning finished?',
  RELEASE_SLOT: 'Release slot',
  CONTROL_TOWER_OPERATION_FAILED: 'Control Tower operation failed',

  // 3-7. Account setup
  FETCH_ACCOUNT_ID: 'Fetch account ID',
  STORE_METADATA: 'Store metadata',
  CREATE_EXECUTION_ROLE: 'Create execution role',
  TAG_ACCOUNT: 'Tag account',
  APPLY_FEATURE_OPTIONS: 'Apply feature options',
  SET_ALTERNATE_CONTACTS: 'Set alternate contacts',
  ENABLE_OPT_IN_REGIONS: 'Enable opt-in Regions',
  OPT_IN_REGIONS_SETTLED: 'Opt-in Regions settled?',
  WAIT_FOR_OPT_IN_REGIONS: 'Wait for opt-in Regions',
  ASSIGN_IDENTITY_CENTER_ACCESS: 'Assign Identity Center access',
  IDENTITY_CENTER_ACCESS_SETTLED: 'Identity Center access settled?',
  WAIT_FOR_IDENTITY_CENTER_ACCESS: 'Wait for Identity Center access',

  // 8-10. Customizations
  PROVISIONING_CUSTOMIZATIONS: 'Provisioning customizations',
  CREATE_ACCOUNT_PIPELINE: 'Create account pipeline',
  ACQUIRE_CUSTOMIZATIONS_SLOT: 'Acquire customizations slot',
  RUN_ACCOUNT_CUSTOMIZATIONS: 'Run account customizations',
  HAND_OVER_CUSTOMIZATIONS_SLOT: 'Hand customizations slot to the pipeline',
  RELEASE_CUSTOMIZATIONS_SLOT_AFTER_FAILURE: 'Release customizations slot after failure',
  CUSTOMIZATIONS_STARTED: 'Customizations started',

  // 11. Notify
  NOTIFY_SUCCESS: 'Notify success',
  ACCOUNT_READY: 'Account ready',

  // Failure handling
  RELEASE_SLOT_AFTER_FAILURE: 'Release slot after failure',
  NOTIFY_FAILURE: 'Notify failure',
  REQUEST_FAILED: 'Request failed',
} as const;

export type StepName = (typeof STEP)[keyof typeof STEP];

/** The eleven numbered steps of the design, in order (the Control Tower phase counts as one). */
export const NUMBERED_STEPS: readonly StepName[] = [
  STEP.VALIDATE_REQUEST,
  STEP.PROVISION_ACCOUNT,
  STEP.FETCH_ACCOUNT_ID,
  STEP.STORE_METADATA,
  STEP.CREATE_EXECUTION_ROLE,
  STEP.TAG_ACCOUNT,
  STEP.APPLY_FEATURE_OPTIONS,
  STEP.PROVISIONING_CUSTOMIZATIONS,
  STEP.CREATE_ACCOUNT_PIPELINE,
  STEP.RUN_ACCOUNT_CUSTOMIZATIONS,
  STEP.NOTIFY_SUCCESS,
];

/** The handler folders under lambda/: one per step Lambda. */
export const HANDLER = {
  REQUEST_TRIGGER: 'request-trigger',
  VALIDATE_REQUEST: 'validate-request',
  ACQUIRE_SLOT: 'acquire-slot',
  RELEASE_SLOT: 'release-slot',
  SEMAPHORE_CLEANUP: 'semaphore-cleanup',
  PROVISION_ACCOUNT: 'provision-account',
  AWAIT_CONTROL_TOWER: 'await-control-tower',
  CONTROL_TOWER_EVENT: 'control-tower-event',
  RECONCILE_ACCOUNT_INDEX: 'reconcile-account-index',
  FETCH_ACCOUNT_ID: 'fetch-account-id',
  STORE_METADATA: 'store-metadata',
  CREATE_EXECUTION_ROLE: 'create-execution-role',
  TAG_ACCOUNT: 'tag-account',
  APPLY_FEATURE_OPTIONS: 'apply-feature-options',
  CREATE_ACCOUNT_PIPELINE: 'create-account-pipeline',
  NOTIFY: 'notify',
  REMOVE_FROM_MANAGEMENT: 'remove-from-management',
  CUSTOMIZATIONS_RESULT: 'customizations-result',
  CLOSE_ACCOUNT: 'close-account',
  ALTERNATE_CONTACTS: 'alternate-contacts',
  OPT_IN_REGIONS: 'opt-in-regions',
  IDENTITY_CENTER_ACCESS: 'identity-center-access',
} as const;

export type HandlerName = (typeof HANDLER)[keyof typeof HANDLER];
