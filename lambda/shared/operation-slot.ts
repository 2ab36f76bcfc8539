import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { createClient } from './clients';
import { SlotLost } from './errors';
import { beginOperation, recordOperation } from './semaphore';

/**
 * A Control Tower operation started under a semaphore slot. The step marks its
 * slot before the call (only while it still holds it: an execution whose slot the
 * cleanup freed starts nothing) and records the Service Catalog record after, so
 * the cleanup and the reaper free the slot only once the operation has ended,
 * whatever happens to the execution (see lambda/shared/semaphore.ts).
 */

/** The slot's lock, in the step's payload; the holder is the execution. */
export const OperationSlotSchema = z
  .object({
    slot: z.object({ table: z.string().min(1), lockName: z.string().min(1) }).optional(),
    execution: z.object({ id: z.string().min(1) }).optional(),
  })
  .loose();

export type OperationSlot = z.infer<typeof OperationSlotSchema>;

/** The execution no longer holds the slot its Control Tower operation needs (thrown before any call). */
export { SlotLost };

let ddb: DynamoDBDocumentClient | undefined;

/** Runs `start` (the Control Tower call) under the payload's slot marks; without a slot, just runs it. */
export async function underSlot<T extends { recordId: string | null }>(
  payload: OperationSlot,
  start: () => Promise<T>,
  client?: DynamoDBDocumentClient,
): Promise<T> {
  const { slot, execution } = payload;
  if (!slot || !execution) return start();
  ddb = client ?? ddb ?? DynamoDBDocumentClient.from(createClient(DynamoDBClient));
  const ref = { table: slot.table, lockName: slot.lockName, holder: execution.id };
  if (!(await beginOperation(ddb, ref))) {
    throw new SlotLost(
      `Execution ${execution.id} holds no ${slot.lockName} slot: it starts no Control Tower operation`,
    );
  }
  const result = await start();
  if (result.recordId) await recordOperation(ddb, { ...ref, recordId: result.recordId });
  return result;
}
