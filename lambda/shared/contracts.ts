import type { ApprovalDecision } from './approval';
import type { AccountRequest } from './schema';

/**
 * The data contract of the provisioning workflow. The state machine (lib/), the
 * handlers (lambda/) and the local engine (local/) all code against these types.
 *
 * The state is one JSON document; each step reads what it needs and writes its
 * result under its own key (ResultPath), so a failed step can be re-run from the
 * same input and the failure notification sees everything that happened.
 */

/**
 * What the workflow does with a request. ADOPT: an account Account Factory (or AFT) vended
 * earlier, not yet managed by the factory, taken over without a Control Tower operation.
 */
export const OPERATIONS = ['CREATE', 'UPDATE', 'IMPORT', 'ADOPT', 'CUSTOMIZE', 'REMOVE'] as const;
export type Operation = (typeof OPERATIONS)[number];
export type StreamEventName = 'INSERT' | 'MODIFY' | 'REMOVE';

/** Operations that go through Control Tower (and so through the semaphore). */
export const CONTROL_TOWER_OPERATIONS: readonly Operation[] = ['CREATE', 'UPDATE', 'IMPORT'];

/** An item of the requests table (partition key `id`). */
export interface RequestItem {
  /** The request id: the account email, lower-cased (see requestIdOf). */
  id: string;
  /** Incremented on every write of the request: one workflow execution per version. */
  version: number;
  /** The request as written (validated again by the workflow). */
  request: unknown;
  /** Where the request came from: `construct:<path>`, `file:<name>`, `cli`. */
  source?: string;
  updatedAt: string;
}

/** Input of one workflow execution: what the stream trigger passes to StartExecution. */
export interface WorkflowInput {
  requestId: string;
  version: number;
  eventName: StreamEventName;
  /** The new image's request (null on REMOVE). Not yet validated. */
  request: unknown | null;
  /** The old image's request (null on INSERT). */
  previous: unknown | null;
  /** When the item was written (its updatedAt): part of the execution name. */
  writtenAt?: string;
}

export interface OrganizationalUnitRef {
  id: string;
  name: string;
}

/** $.validation: output of step 1, Validate request. */
export interface ValidationResult {
  requestId: string;
  version: number;
  operation: Operation;
  /** The validated request (for REMOVE: the last request that was provisioned). */
  request: AccountRequest;
  organizationalUnit: OrganizationalUnitRef;
  /** Known for every operation but CREATE. */
  accountId: string | null;
  /** The Service Catalog provisioned product of the account, when there is one. */
  provisionedProductId: string | null;
  /** Control Tower parameter names that changed (UPDATE), e.g. ['ManagedOrganizationalUnit']. */
  controlTowerChanges: string[];
  validatedAt: string;
}

/** $.provisioning: output of Provision account (ProvisionProduct / UpdateProvisionedProduct). */
export interface ProvisioningResult {
  recordId: string;
  provisionedProductId: string;
  recordType: 'PROVISION_PRODUCT' | 'UPDATE_PROVISIONED_PRODUCT';
  startedAt: string;
}

/** $.provisioningStatus: output of Check provisioning (DescribeRecord). */
export interface ProvisioningStatus {
  status: 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';
  recordId: string;
  /** From the record outputs, once SUCCEEDED. */
  accountId: string | null;
  /** Control Tower's record errors, when FAILED. */
  errors: string | null;
  checkedAt: string;
  /** Emulated or real seconds since the operation started. */
  elapsedSeconds: number;
}

/** $.account: output of Fetch account ID. */
export interface AccountRef {
  accountId: string;
  email: string;
  name: string;
}

/** $.executionRole: output of Create execution role. */
export interface ExecutionRoleResult {
  roleArn: string;
  created: boolean;
}

/** $.tags: output of Tag account. */
export interface TagResult {
  added: string[];
  updated: string[];
  removed: string[];
}

/** A region where Apply feature options could not act, and why. */
export interface SkippedRegion {
  region: string;
  /** EC2's error code and message, e.g. `UnauthorizedOperation: ... explicit deny in a service control policy`. */
  reason: string;
}

/** $.featureOptions: output of Apply feature options. */
export interface FeatureOptionsResult {
  deletedDefaultVpcs: { region: string; vpcId: string }[];
  /**
   * Regions whose default VPCs were left alone because EC2 refused the account there
   * (an SCP such as Control Tower's Region deny control, or a region the account cannot
   * use), with EC2's answer.
   */
  skippedRegions: SkippedRegion[];
  enterpriseSupport: 'requested' | 'already-requested' | 'off';
  cloudTrailDataEvents: 'enabled' | 'off';
}

/** $.alternateContacts: output of Alternate contacts. Kinds are billing, operations, security. */
export interface AlternateContactsResult {
  put: string[];
  deleted: string[];
  unchanged: string[];
}

/** 'IN_PROGRESS': a Region is still changing state; the state machine waits and runs the step again. */
export type SettingStatus = 'IN_PROGRESS' | 'SUCCEEDED';

/** $.optInRegions: output of Opt-in Regions (one poll). */
export interface OptInRegionsResult {
  status: SettingStatus;
  /** Regions of the request that are ENABLED (or enabled by default). */
  enabled: string[];
  /** Regions this run asked to enable, or still ENABLING. */
  enabling: string[];
  /** Regions the factory enabled, dropped from the request, and disabled (disableRemovedRegions). */
  disabled: string[];
  /** Regions still DISABLING. */
  disabling: string[];
  /** When the first poll of this execution started: the step gives up after OPT_IN_REGIONS_TIMEOUT_HOURS. */
  startedAt: string;
  checkedAt: string;
}

/** One Identity Center account assignment, resolved from names. */
export interface ResolvedAssignment {
  /** `group:Developers -> PowerUserAccess` (schema's assignmentKey). */
  key: string;
  principalType: 'GROUP' | 'USER';
  principalId: string;
  permissionSetArn: string;
}

/** $.identityCenterAccess: output of Identity Center access (one poll). */
export interface IdentityCenterAccessResult {
  status: SettingStatus;
  instanceArn: string | null;
  /** Assignment keys created (or being created) by this execution. */
  created: string[];
  /** Assignment keys the factory had made, dropped from the request, deleted (or being deleted). */
  deleted: string[];
  /** Request ids still IN_PROGRESS: the next poll describes them. */
  pendingCreations: string[];
  pendingDeletions: string[];
  /** When the first poll of this execution started: the step gives up after IDENTITY_CENTER_TIMEOUT_MINUTES. */
  startedAt: string;
  checkedAt: string;
}

/** $.pipeline: output of Create account pipeline. */
export interface PipelineResult {
  pipelineName: string;
  created: boolean;
}

/** $.error: what a Catch puts in the state (Step Functions' own shape). */
export interface CaughtError {
  Error: string;
  Cause?: string;
}

/** The whole state, as it grows step by step. */
export interface WorkflowState extends WorkflowInput {
  validation?: ValidationResult;
  /** $.approval: the approver's decision (Wait for approval), when the operation needed one. */
  approval?: ApprovalDecision;
  provisioning?: ProvisioningResult;
  provisioningStatus?: ProvisioningStatus;
  account?: AccountRef;
  executionRole?: ExecutionRoleResult;
  tags?: TagResult;
  featureOptions?: FeatureOptionsResult;
  alternateContacts?: AlternateContactsResult;
  optInRegions?: OptInRegionsResult;
  identityCenterAccess?: IdentityCenterAccessResult;
  provisioningCustomizations?: unknown;
  pipeline?: PipelineResult;
  pipelineExecution?: { PipelineExecutionId: string };
  error?: CaughtError;
}

/** Input of the user's provisioning customizations state machine. */
export interface AccountContext {
  requestId: string;
  operation: Operation;
  account: AccountRef;
  organizationalUnit: OrganizationalUnitRef;
  request: AccountRequest;
  executionRoleArn: string;
}

/** Payload of the Acquire slot task (lambda:invoke.waitForTaskToken). */
export interface AcquireSlotInput {
  lockName: string;
  limit: number;
  /** The execution ARN ($$.Execution.Id). */
  holder: string;
  /** $$.Execution.StartTime: the queue is first come, first served by execution start. */
  queuedAt: string;
  taskToken: string;
  /**
   * Which task attempt this is ($$.Execution.RedriveCount, $$.State.EnteredTime): a
   * registration of an earlier attempt never overwrites a later one's.
   * @default - registrations overwrite each other (a state machine synthesized before)
   */
  attempt?: { redriveCount: number; enteredTime: string };
  /** The lock's table, when it is not the semaphore's own (SEMAPHORE_TABLE). */
  table?: string;
}

/** Payload of the Release slot task. */
export interface ReleaseSlotInput {
  lockName: string;
  limit: number;
  holder: string;
  /** The lock's table, when it is not the semaphore's own (SEMAPHORE_TABLE). */
  table?: string;
}

/** Messages published to the success and failure topics. */
export interface NotificationMessage {
  outcome: 'SUCCEEDED' | 'FAILED' | 'REMOVED';
  requestId: string;
  version: number;
  operation: Operation | null;
  accountId: string | null;
  accountName: string | null;
  executionArn: string | null;
  /** For failures: the error name (e.g. EmailInUse) and its cause. */
  error?: { name: string; cause: string; field?: string };
  durations: { totalSeconds: number | null; controlTowerSeconds: number | null };
  /** Regions where the default VPCs were not deleted because EC2 is denied or not enabled there. */
  skippedRegions?: SkippedRegion[];
  /** Who approved the request version, when and why (with approvals, when it needed one). */
  approval?: ApprovalDecision;
  at: string;
}

/**
 * What the state machine passes to every step Lambda: the whole state, and the
 * execution it runs in ($$.Execution.Id / StartTime).
 */
export interface StepPayload {
  state: WorkflowState;
  execution: { id: string; startTime: string };
}

/** Payload of the Notify step. */
export interface NotifyPayload extends StepPayload {
  outcome: NotificationMessage['outcome'];
}

/** How an account's customizations pipeline execution ended (or that it runs). */
export type CustomizationsStatus = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'STOPPED' | 'SUPERSEDED';

/** `customizations` of an account's metadata item: its latest pipeline execution. */
export interface CustomizationsRecord {
  status: CustomizationsStatus;
  pipelineName: string;
  pipelineExecutionId: string;
  /** The stage that failed (Source, Global or Account), for FAILED. */
  failedStage?: string;
  /** What CodePipeline says went wrong, for FAILED. */
  message?: string;
  /** When the pipeline execution reached this status (the event's time). */
  at: string;
  /** When the outcome was published. */
  notifiedAt?: string;
}

/**
 * Published when an account's customizations pipeline ends: to the success topic
 * (SUCCEEDED) or the failure topic (FAILED, STOPPED). Told apart from the
 * request notifications by `kind` (also a message attribute, for subscription
 * filter policies).
 */
export interface CustomizationsNotification {
  kind: 'CUSTOMIZATIONS';
  outcome: Exclude<CustomizationsStatus, 'IN_PROGRESS'>;
  accountId: string;
  accountName: string | null;
  requestId: string | null;
  pipelineName: string;
  pipelineExecutionId: string;
  failedStage?: string;
  error?: { name: 'CustomizationsFailed'; cause: string; stage?: string };
  at: string;
}
