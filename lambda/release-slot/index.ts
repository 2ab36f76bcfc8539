import type { Context } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { createClient } from '../shared/clients';
import type { ReleaseSlotInput } from '../shared/contracts';
import { requireEnv } from '../shared/env';
import { parseInput } from '../shared/input';
import { beginInvocation, createLogger } from '../shared/logger';
import { release, removeWaitersOf, wakeNext } from '../shared/semaphore';
import { withRemainingTime } from '../shared/retry';

/** Release slot: frees the execution's slot (idempotent) and hands it to the oldest waiter. */

const logger = createLogger('release-slot');
const ddb = DynamoDBDocumentClient.from(createClient(DynamoDBClient));
const sfn = createClient(SFNClient);

const ReleaseSlotSchema = z.object({
  lockName: z.string().min(1),
  limit: z.number().int().min(1),
  holder: z.string().min(1),
  table: z.string().min(1).optional(),
});

export interface ReleaseSlotResult {
  /** False when the execution held no slot (released already, or never acquired). */
  released: boolean;
  woken: string[];
}

export async function releaseSlot(
  ddb: DynamoDBDocumentClient,
  sfn: SFNClient,
  table: string,
  input: ReleaseSlotInput,
): Promise<ReleaseSlotResult> {
  const ref = { table, lockName: input.lockName };
  // A queue place left by this execution (its Acquire failed into the failure chain)
  // goes first, so no wake-up hands it a slot after this release.
  await removeWaitersOf(ddb, { ...ref, holder: input.holder });
  const released = await release(ddb, { ...ref, holder: input.holder });
  // Wake even when nothing was released: it costs one query and repairs a wake-up lost elsewhere.
  const woken = await wakeNext(ddb, sfn, { ...ref, limit: input.limit });
  return { released, woken };
}

export const handler = withRemainingTime(
  async (event: unknown, context?: Context): Promise<ReleaseSlotResult> => {
    beginInvocation(logger, event, context);
    const input = parseInput(ReleaseSlotSchema, event, 'Release slot');
    const result = await releaseSlot(ddb, sfn, input.table ?? requireEnv('SEMAPHORE_TABLE'), input);
    logger.info('release slot', { holder: input.holder, lockName: input.lockName, ...result });
    return result;
  },
);
