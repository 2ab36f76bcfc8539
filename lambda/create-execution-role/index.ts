import type { Context } from 'aws-lambda';
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  GetRoleCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  Role,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { z } from 'zod';
import { assumeRole, createClient, roleArn } from '../shared/clients';
import type { ExecutionRoleResult } from '../shared/contracts';
import { requireEnv } from '../shared/env';
import { ExecutionRoleNotReady } from '../shared/errors';
import { parseInput } from '../shared/input';
import { beginInvocation, createLogger } from '../shared/logger';
import { clientsInAccount, createManagementClients, partitionOf } from '../shared/management';
import { withRemainingTime } from '../shared/retry';

/**
 * Step 5, Create execution role: creates (or repairs) the factory's execution role in
 * the account, through the Control Tower execution role, then checks that it can be
 * assumed. IAM is eventually consistent: a role that cannot be assumed yet fails with
 * ExecutionRoleNotReady, which the state machine retries with backoff.
 */

const logger = createLogger('create-execution-role');
const sts = createClient(STSClient);
/** AWSControlTowerExecution trusts only the Control Tower management account: the first hop goes through it. */
const management = createManagementClients(sts);

/**
 * The same managed policy as AFT's AWSAFTExecution role: customizations run with it and
 * may deploy anything in the account.
 */
export function executionRolePolicyArn(partition: string): string {
  return `arn:${partition}:iam::aws:policy/AdministratorAccess`;
}

/** Error names of an AssumeRole that is refused (a new role not yet visible to STS). */
const NOT_ASSUMABLE_ERRORS = new Set(['AccessDenied', 'AccessDeniedException']);

export interface ExecutionRoleConfig {
  /** The role the factory assumes to act in the account (AWSControlTowerExecution). */
  controlTowerRoleName: string;
  /** The role to create (AWSAFTExecution). */
  executionRoleName: string;
  /**
   * The factory's roles that assume the execution role: this step's own (to check the role
   * can be assumed), Apply feature options' (default VPCs) and the customizations build's.
   * The role trusts them, not the factory account's root (which would let any principal of
   * that account with sts:AssumeRole in).
   */
  trustedRoleArns: string[];
}

/** The partition of the factory (`aws`, `aws-us-gov`, `aws-cn`), from its own role ARNs. */
export function partitionOfConfig(config: ExecutionRoleConfig): string {
  return partitionOf(config.trustedRoleArns[0]);
}

export function configFromEnv(): ExecutionRoleConfig {
  return {
    controlTowerRoleName: requireEnv('CONTROL_TOWER_EXECUTION_ROLE_NAME'),
    executionRoleName: requireEnv('EXECUTION_ROLE_NAME'),
    trustedRoleArns: parseRoleArns(requireEnv('EXECUTION_ROLE_TRUSTED_ROLES')),
  };
}

const ROLE_ARN = /^arn:[a-z-]+:iam::\d{12}:role\/[\w+=,.@/-]+$/;

/** Comma-separated role ARNs; anything else is a deployment bug, named. */
export function parseRoleArns(value: string): string[] {
  const arns = [
    ...new Set(
      value
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean),
    ),
  ];
  const bad = arns.filter((a) => !ROLE_ARN.test(a));
  if (!arns.length || bad.length) {
    throw new Error(`EXECUTION_ROLE_TRUSTED_ROLES must list role ARNs, got '${value}'`);
  }
  return arns;
}

export const CreateExecutionRoleInputSchema = z.object({
  state: z.object({
    account: z.object({ accountId: z.string().regex(/^\d{12}$/, 'must be a 12-digit account ID') }),
  }),
  execution: z
    .object({ startTime: z.string().min(1) })
    .partial()
    .optional(),
});
export type CreateExecutionRoleInput = z.output<typeof CreateExecutionRoleInputSchema>;

/**
 * The execution role's trust policy: the factory's own roles, by ARN. IAM role principals in
 * a trust policy: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles
 * (IAM saves them as the role's unique ID, so a role deleted and created again is trusted
 * again only when this step writes the policy again: it does, on every run).
 */
export function trustPolicy(trustedRoleArns: readonly string[]): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: trustedRoleArns.length === 1 ? trustedRoleArns[0] : [...trustedRoleArns] },
        Action: 'sts:AssumeRole',
      },
    ],
  };
}

/** Keys whose value IAM accepts as a string or a list of strings. */
const LIST_KEYS = new Set([
  'Statement',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'AWS',
  'Service',
  'Federated',
  'CanonicalUser',
]);

/** A policy in a canonical form: keys sorted, single values as lists, lists in a stable order. */
function canonical(value: unknown, key?: string): unknown {
  if (key !== undefined && LIST_KEYS.has(key) && !Array.isArray(value)) return canonical([value]);
  if (Array.isArray(value)) {
    return value.map((v) => canonical(v)).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k], k)]),
    );
  }
  return value;
}

/** Whether a policy document as IAM returns it (URL-encoded JSON) says the same as `desired`. */
export function samePolicy(current: string | undefined, desired: unknown): boolean {
  if (!current) return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(decodeURIComponent(current));
  } catch {
    return false;
  }
  return JSON.stringify(canonical(parsed)) === JSON.stringify(canonical(desired));
}

async function getRole(iam: IAMClient, roleName: string): Promise<Role | undefined> {
  try {
    return (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role;
  } catch (err) {
    if ((err as Error).name === 'NoSuchEntity' || (err as Error).name === 'NoSuchEntityException')
      return undefined;
    throw err;
  }
}

async function attachedPolicyArns(iam: IAMClient, roleName: string): Promise<Set<string>> {
  const arns = new Set<string>();
  let marker: string | undefined;
  do {
    const out = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName, Marker: marker }));
    for (const p of out.AttachedPolicies ?? []) if (p.PolicyArn) arns.add(p.PolicyArn);
    marker = out.IsTruncated ? out.Marker : undefined;
  } while (marker);
  return arns;
}

/**
 * Creates the role, or brings an existing one back to the desired trust policy and policy.
 * `created` is also true for a role this execution created on an earlier attempt of the
 * step (created at or after `since`, the execution start): the step is retried while the
 * new role is not assumable yet, and its result must say the same as a first attempt.
 */
export async function ensureExecutionRole(
  iam: IAMClient,
  accountId: string,
  config: ExecutionRoleConfig,
  since?: Date,
): Promise<ExecutionRoleResult> {
  const roleName = config.executionRoleName;
  const policy = trustPolicy(config.trustedRoleArns);
  const partition = partitionOfConfig(config);
  const policyArn = executionRolePolicyArn(partition);
  const existing = await getRole(iam, roleName);
  let arn: string;
  if (!existing) {
    const out = await iam.send(
      new CreateRoleCommand({
        RoleName: roleName,
        AssumeRolePolicyDocument: JSON.stringify(policy),
        Description: 'Account factory execution role: customizations run with it',
      }),
    );
    arn = out.Role?.Arn ?? roleArn(accountId, roleName, partition);
    logger.info('Created execution role', { accountId, roleName });
  } else {
    arn = existing.Arn ?? roleArn(accountId, roleName, partition);
    if (!samePolicy(existing.AssumeRolePolicyDocument, policy)) {
      await iam.send(
        new UpdateAssumeRolePolicyCommand({ RoleName: roleName, PolicyDocument: JSON.stringify(policy) }),
      );
      logger.info('Restored execution role trust policy', { accountId, roleName });
    }
  }
  if (!(await attachedPolicyArns(iam, roleName)).has(policyArn)) {
    await iam.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn }));
  }
  const createdEarlier = Boolean(
    existing?.CreateDate && since && existing.CreateDate.getTime() >= since.getTime(),
  );
  return { roleArn: arn, created: !existing || createdEarlier };
}

/** Throws ExecutionRoleNotReady while STS refuses to assume the role. */
export async function checkAssumable(stsClient: STSClient, arn: string): Promise<void> {
  try {
    await assumeRole(stsClient, arn, 'cdk-account-factory-check');
  } catch (err) {
    if (NOT_ASSUMABLE_ERRORS.has((err as Error).name)) {
      throw new ExecutionRoleNotReady(`${arn} cannot be assumed yet: ${(err as Error).message}`);
    }
    throw err;
  }
}

/**
 * `managementSts` acts as the Control Tower management account (the management role):
 * Control Tower's execution role trusts only that account (AFT's
 * account_provisioning_framework.py: "this role only trusts federation from the CT
 * Management account"). The check that the new role can be assumed uses `stsClient`, the
 * factory's own identity, as the customizations will.
 */
export async function createExecutionRole(
  stsClient: STSClient,
  input: CreateExecutionRoleInput,
  config: ExecutionRoleConfig,
  managementSts: STSClient = stsClient,
): Promise<ExecutionRoleResult> {
  const { accountId } = input.state.account;
  const iam = await clientsInAccount(managementSts, accountId, config.controlTowerRoleName, (c) =>
    createClient(IAMClient, c),
  );
  const startTime = input.execution?.startTime ? new Date(input.execution.startTime) : undefined;
  const since = startTime && !Number.isNaN(startTime.getTime()) ? startTime : undefined;
  const result = await ensureExecutionRole(iam, accountId, config, since);
  await checkAssumable(stsClient, result.roleArn);
  return result;
}

export const handler = withRemainingTime(
  async (event: unknown, context?: Context): Promise<ExecutionRoleResult> => {
    beginInvocation(logger, event, context);
    const input = parseInput(CreateExecutionRoleInputSchema, event, 'Create execution role');
    return createExecutionRole(sts, input, configFromEnv(), management.sts);
  },
);
