import type { Context } from 'aws-lambda';
import { DescribeAccountCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { STSClient } from '@aws-sdk/client-sts';
import { z } from 'zod';
import { createClient } from '../shared/clients';
import type { AccountRef } from '../shared/contracts';
import { AccountNotFound } from '../shared/errors';
import { parseInput } from '../shared/input';
import { beginInvocation, createLogger } from '../shared/logger';
import { createManagementClients } from '../shared/management';
import { type AccountLookup, accountLookupFromEnv, listingLookup } from '../shared/account-index';
import { createMetadataDocumentClient } from '../shared/metadata';
import { withRemainingTime } from '../shared/retry';

/**
 * Fetch account ID (step 3): the account's id from the Control Tower record outputs,
 * else from validation (IMPORT / UPDATE / CUSTOMIZE), else from Organizations by
 * email; confirmed with DescribeAccount.
 */

const logger = createLogger('fetch-account-id');
const management = createManagementClients(createClient(STSClient));
const doc = createMetadataDocumentClient();

const PayloadSchema = z.object({
  state: z.object({
    validation: z.object({
      requestId: z.string().min(1),
      accountId: z.string().min(1).nullable(),
      request: z.object({ accountEmail: z.string().min(1) }),
    }),
    provisioningStatus: z.object({ accountId: z.string().min(1).nullable() }).optional(),
  }),
});
type Payload = z.infer<typeof PayloadSchema>;

/**
 * `accounts`: the account index (the factory's function), so an account is found by
 * email without a listing; the account confirmed here is indexed at once.
 */
export async function fetchAccountId(
  org: OrganizationsClient,
  payload: Payload,
  accounts: AccountLookup = listingLookup(org),
): Promise<AccountRef> {
  const { validation, provisioningStatus } = payload.state;
  const email = validation.request.accountEmail.trim().toLowerCase();
  const accountId =
    provisioningStatus?.accountId ?? validation.accountId ?? (await accounts.byEmail(email))?.id ?? null;
  if (!accountId) {
    throw new AccountNotFound(`No account in the organization uses ${email}`);
  }
  try {
    const out = await org.send(new DescribeAccountCommand({ AccountId: accountId }));
    const account = out.Account;
    if (!account?.Id) throw new AccountNotFound(`DescribeAccount ${accountId} returned no account`);
    const found = {
      accountId: account.Id,
      email: (account.Email ?? email).toLowerCase(),
      name: account.Name ?? '',
    };
    await accounts.remember({ id: found.accountId, email: found.email, name: found.name });
    return found;
  } catch (err) {
    if ((err as Error).name === 'AccountNotFoundException') {
      throw new AccountNotFound(`Account ${accountId} (for ${email}) is not in the organization`);
    }
    throw err;
  }
}

export const handler = withRemainingTime(async (event: unknown, context?: Context): Promise<AccountRef> => {
  beginInvocation(logger, event, context);
  const payload = parseInput(PayloadSchema, event, 'Fetch account ID');
  const result = await fetchAccountId(
    management.organizations,
    payload,
    accountLookupFromEnv(doc, management.organizations, 'readWrite'),
  );
  logger.info('account found', { requestId: payload.state.validation.requestId, ...result });
  return result;
});
