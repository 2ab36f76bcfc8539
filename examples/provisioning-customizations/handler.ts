import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  GetRoleCommand,
  IAMClient,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { z } from 'zod';
import { createClient } from '../../lambda/shared/clients';
import { parseInput } from '../../lambda/shared/input';
import { createLogger } from '../../lambda/shared/logger';
import { clientsInAccount } from '../../lambda/shared/management';

/**
 * Example provisioning customization: creates an `audit-readonly` role with the
 * ReadOnlyAccess managed policy in the new account, through the account's
 * execution role (AWSAFTExecution). The audit team's account (AUDIT_TRUSTED_ACCOUNT)
 * may assume it. Idempotent: an existing role is kept, the policy attached again.
 */

const logger = createLogger('example-provisioning-customizations');
const sts = createClient(STSClient);

export const AUDIT_ROLE_NAME = 'audit-readonly';
export const READ_ONLY_POLICY_ARN = 'arn:aws:iam::aws:policy/ReadOnlyAccess';

/** The part of the AccountContext this customization reads. */
const InputSchema = z.object({
  account: z.object({ accountId: z.string().regex(/^\d{12}$/, 'must be a 12-digit account ID') }),
  executionRoleArn: z.string().regex(/^arn:[\w-]+:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN'),
});

export interface AuditRoleResult {
  roleName: string;
  roleArn: string;
  created: boolean;
}

export async function ensureAuditRole(iam: IAMClient, trustedAccountId: string): Promise<AuditRoleResult> {
  let roleArn: string | undefined;
  let created = false;
  try {
    roleArn = (await iam.send(new GetRoleCommand({ RoleName: AUDIT_ROLE_NAME }))).Role?.Arn;
  } catch (err) {
    if (!(err instanceof NoSuchEntityException) && (err as Error).name !== 'NoSuchEntity') throw err;
  }
  if (!roleArn) {
    const trust = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${trustedAccountId}:root` },
          Action: 'sts:AssumeRole',
        },
      ],
    };
    const out = await iam.send(
      new CreateRoleCommand({
        RoleName: AUDIT_ROLE_NAME,
        AssumeRolePolicyDocument: JSON.stringify(trust),
        Description: 'Read-only access for the audit team (created by the account factory)',
        Tags: [{ Key: 'managed-by', Value: 'cdk-account-factory' }],
      }),
    );
    roleArn = out.Role?.Arn;
    created = true;
  }
  await iam.send(new AttachRolePolicyCommand({ RoleName: AUDIT_ROLE_NAME, PolicyArn: READ_ONLY_POLICY_ARN }));
  if (!roleArn) throw new Error(`IAM returned no ARN for ${AUDIT_ROLE_NAME}`);
  return { roleName: AUDIT_ROLE_NAME, roleArn, created };
}

export async function handler(event: unknown): Promise<AuditRoleResult> {
  const { account, executionRoleArn } = parseInput(InputSchema, event, 'Provisioning customizations');
  const roleName = executionRoleArn.split('/').pop() as string;
  const trustedAccountId = process.env.AUDIT_TRUSTED_ACCOUNT || account.accountId;
  const iam = await clientsInAccount(sts, account.accountId, roleName, (config) =>
    createClient(IAMClient, config),
  );
  const result = await ensureAuditRole(iam, trustedAccountId);
  logger.info('audit role ready', { accountId: account.accountId, ...result });
  return result;
}
