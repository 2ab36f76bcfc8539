import type { Context } from 'aws-lambda';
import { CodePipelineClient, DeletePipelineCommand, GetPipelineCommand } from '@aws-sdk/client-codepipeline';
import { z } from 'zod';
import { pipelineName, DEFAULT_PIPELINE_NAME_PREFIX } from '../create-account-pipeline';
import { createClient } from '../shared/clients';
import { optionalEnv } from '../shared/env';
import { parseInput } from '../shared/input';
import { createLogger, beginInvocation } from '../shared/logger';
import { withRemainingTime } from '../shared/retry';
import {
  createMetadataDocumentClient,
  markRemoved,
  MetadataTable,
  metadataTableFromEnv,
} from '../shared/metadata';

/**
 * REMOVE: the account leaves management. Its pipeline is deleted and its metadata item
 * is marked REMOVED (and kept, for audit). The account itself is neither closed nor
 * untagged here: closing is a separate opt-in, through the Control Tower semaphore.
 */

const logger = createLogger('remove-from-management');
const codePipeline = createClient(CodePipelineClient);
const doc = createMetadataDocumentClient();

export const RemoveFromManagementInputSchema = z.object({
  state: z.object({
    version: z.number().int().nonnegative(),
    validation: z.object({
      operation: z.literal('REMOVE', { error: 'must be REMOVE' }),
      accountId: z.string().regex(/^\d{12}$/, 'must be a 12-digit account ID'),
    }),
  }),
  execution: z.object({ id: z.string().min(1) }),
});
export type RemoveFromManagementInput = z.output<typeof RemoveFromManagementInputSchema>;

export interface RemovalResult {
  accountId: string;
  /** Whether this run deleted the pipeline (false: there was none). */
  pipelineDeleted: boolean;
}

export interface RemoveFromManagementClients {
  codePipeline: CodePipelineClient;
  metadata: MetadataTable;
}

/** Deletes the pipeline; false when there is none. */
export async function deletePipeline(client: CodePipelineClient, name: string): Promise<boolean> {
  try {
    await client.send(new GetPipelineCommand({ name }));
    await client.send(new DeletePipelineCommand({ name }));
    return true;
  } catch (err) {
    if ((err as Error).name === 'PipelineNotFoundException') return false;
    throw err;
  }
}

export async function removeFromManagement(
  clients: RemoveFromManagementClients,
  input: RemoveFromManagementInput,
  pipelineNamePrefix = DEFAULT_PIPELINE_NAME_PREFIX,
): Promise<RemovalResult> {
  const { accountId } = input.state.validation;
  // The metadata first: a removal older than the stored request version stops here
  // (StaleRequestVersion) and leaves the pipeline alone.
  const marked = await markRemoved(clients.metadata, accountId, {
    executionArn: input.execution.id,
    requestVersion: input.state.version,
  });
  const pipelineDeleted = await deletePipeline(
    clients.codePipeline,
    pipelineName(pipelineNamePrefix, accountId),
  );
  logger.info('Removed account from management', { accountId, metadataMarked: marked, pipelineDeleted });
  return { accountId, pipelineDeleted };
}

export const handler = withRemainingTime(
  async (event: unknown, context?: Context): Promise<RemovalResult> => {
    beginInvocation(logger, event, context);
    const input = parseInput(RemoveFromManagementInputSchema, event, 'Remove from management');
    return removeFromManagement(
      { codePipeline, metadata: metadataTableFromEnv(doc) },
      input,
      optionalEnv('PIPELINE_NAME_PREFIX') ?? DEFAULT_PIPELINE_NAME_PREFIX,
    );
  },
);
