import type { Context } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { createClient } from '../shared/clients';
import type { AcquireSlotInput } from '../shared/contracts';
import { requireEnv } from '../shared/env';
import { parseInput } from '../shared/input';
import { createLogger, beginInvocation } from '../shared/logger';
import { attemptOrder, confirmSlot, dequeue, enqueue, notifyWaiter, wakeNext } from '../shared/semaphore';
import { withRemainingTime } from '../shared/retry';

/**
 * Acquire slot: invoked by a `lambda:invoke.waitForTaskToken` task. The execution
 * waits until its token is completed, by this call when a slot is free now, or by
 * the wakeNext of a later release (or of the cleanup) otherwise.
 */

const logger = createLogger('acquire-slot');
const ddb = DynamoDBDocumentClient.from(createClient(DynamoDBClient));
const sfn = createClient(SFNClient);

const AcquireSlotSchema = z.object({
  lockName: z.string().min(1),
  limit: z.number().int().min(1),
  holder: z.string().min(1),
  table: z.string().min(1).optional(),
  queuedAt: z.string().min(1),
  taskToken: z.string().min(1),
  attempt: z
    .object({
      redriveCount: z.number().int().nonnegative(),
      enteredTime: z.string().refine((t) => !Number.isNaN(Date.parse(t)), 'must be an ISO 8601 time'),
    })
    .optional(),
});

/** 'superseded': a later task attempt of the execution registered already; this call did nothing. */
export type AcquireSlotStatus = 'acquired' | 'reentered' | 'waiting' | 'superseded';

export interface AcquireSlotResult {
  status: AcquireSlotStatus;
  /** Holders this call handed a slot to (oldest waiters first; may include this one). */
  woken: string[];
}

/**
 * Registers the waiter FIRST, and only THEN looks for a free slot (through
 * wakeNext, which serves the oldest waiter first). That order makes a lost
 * wake-up impossible: a release that happens before the registration leaves a
 * free slot that our own wakeNext (after the registration) finds; a release
 * that happens after the registration runs a wakeNext that finds our waiter
 * item. Either way someone hands us the slot, or we are behind older waiters
 * that get it first (first come, first served by execution start time).
 *
 * A waiter item is removed only after its token was completed or found gone, so a
 * throttled SendTaskSuccess never strands a waiter: the item stays for the next
 * wake-up.
 */
export async function acquireSlot(
  ddb: DynamoDBDocumentClient,
  sfn: SFNClient,
  table: string,
  input: AcquireSlotInput,
): Promise<AcquireSlotResult> {
  const ref = { table, lockName: input.lockName };
  const attempt = input.attempt ? attemptOrder(input.attempt) : undefined;
  const waiter = await enqueue(ddb, {
    ...ref,
    holder: input.holder,
    queuedAt: input.queuedAt,
    token: input.taskToken,
    attempt,
  });
  // A late invocation of an earlier attempt (an aborted run, its execution redriven since):
  // its token is dead, and the later attempt's registration stays.
  if (!waiter) return { status: 'superseded', woken: [] };

  // Re-entry: this execution already holds a slot (e.g. the slot was handed to it
  // while its previous token timed out, or the task is retried). It must not queue
  // behind others for a slot it holds. Complete first, then remove the item: a
  // failed SendTaskSuccess leaves it for the next wake-up.
  if (await confirmSlot(ddb, { ...ref, holder: input.holder, token: input.taskToken, attempt })) {
    await notifyWaiter(sfn, input.taskToken, 'reentered');
    await dequeue(ddb, { table, waiter, token: input.taskToken });
    return { status: 'reentered', woken: [] };
  }

  const woken = await wakeNext(ddb, sfn, { ...ref, limit: input.limit });
  return { status: woken.includes(input.holder) ? 'acquired' : 'waiting', woken };
}

export const handler = withRemainingTime(
  async (event: unknown, context?: Context): Promise<AcquireSlotResult> => {
    beginInvocation(logger, event, context);
    const input = parseInput(AcquireSlotSchema, event, 'Acquire slot');
    const result = await acquireSlot(ddb, sfn, input.table ?? requireEnv('SEMAPHORE_TABLE'), input);
    logger.info('acquire slot', { holder: input.holder, lockName: input.lockName, ...result });
    return result;
  },
);
