import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { OPERATIONS } from '../shared/contracts';
import { parseInput } from '../shared/input';
import { beginInvocation, createLogger } from '../shared/logger';
import {
  createMetadataDocumentClient,
  MetadataItem,
  MetadataTable,
  metadataTableFromEnv,
  putMetadata,
} from '../shared/metadata';
import { AccountRequestSchema } from '../shared/schema';
import { ApprovalDecisionSchema } from '../shared/approval';
import { withRemainingTime } from '../shared/retry';

/**
 * Step 4, Store metadata: writes the account's item in the metadata table. A stale
 * execution (an older request version than the stored one) fails with
 * StaleRequestVersion and ends in a failure notification.
 */

const logger = createLogger('store-metadata');
const doc = createMetadataDocumentClient();

export const StoreMetadataInputSchema = z.object({
  state: z.object({
    requestId: z.string().min(1),
    version: z.number().int().nonnegative(),
    validation: z.object({
      operation: z.enum(OPERATIONS),
      request: AccountRequestSchema,
      organizationalUnit: z.object({ id: z.string().min(1), name: z.string().min(1) }),
      provisionedProductId: z.string().min(1).nullish(),
    }),
    provisioning: z.object({ provisionedProductId: z.string().min(1) }).nullish(),
    account: z.object({ accountId: z.string().regex(/^\d{12}$/, 'must be a 12-digit account ID') }),
    /** The approver's decision (SendTaskSuccess output), when the operation needed one. */
    approval: ApprovalDecisionSchema.optional(),
  }),
  execution: z.object({ id: z.string().min(1) }),
});
export type StoreMetadataInput = z.output<typeof StoreMetadataInputSchema>;

export async function storeMetadata(table: MetadataTable, input: StoreMetadataInput): Promise<MetadataItem> {
  const { state, execution } = input;
  const { validation } = state;
  const item = await putMetadata(table, {
    accountId: state.account.accountId,
    email: validation.request.accountEmail,
    accountName: validation.request.accountName,
    requestId: state.requestId,
    requestVersion: state.version,
    request: validation.request,
    organizationalUnit: validation.organizationalUnit,
    provisionedProductId: state.provisioning?.provisionedProductId ?? validation.provisionedProductId ?? null,
    operation: validation.operation,
    executionArn: execution.id,
    ...(state.approval ? { approval: state.approval } : {}),
  });
  logger.info('Stored account metadata', {
    accountId: item.accountId,
    requestId: item.requestId,
    requestVersion: item.requestVersion,
  });
  return item;
}

export const handler = withRemainingTime(async (event: unknown, context?: Context): Promise<MetadataItem> => {
  beginInvocation(logger, event, context);
  const input = parseInput(StoreMetadataInputSchema, event, 'Store metadata');
  return storeMetadata(metadataTableFromEnv(doc), input);
});
