import type { Context } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ServiceCatalogClient } from '@aws-sdk/client-service-catalog';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { createClient } from '../shared/clients';
import { completeWait, registerWait, removeWait } from '../shared/control-tower-waits';
import { requireEnv } from '../shared/env';
import { parseInput } from '../shared/input';
import { beginInvocation, createLogger } from '../shared/logger';
import { createMetrics, withMetrics } from '../shared/metrics';
import { withRemainingTime } from '../shared/retry';
import { createManagementClients } from '../shared/management';
import { readRecordStatus, recordOperationMetrics } from '../shared/record-status';
import type { Metrics } from '../shared/metrics';

/**
 * Await Control Tower: invoked by a `lambda:invoke.waitForTaskToken` task after the
 * operation started. Registers the execution's task token under the account's name
 * (and ID, when known), THEN reads the record once:
 * - the operation has ended (its lifecycle event came before the registration, or
 *   was lost and this is the slow poll after a timeout): completes its own token
 *   with the record's status;
 * - it still runs: returns, and the token waits for the lifecycle event (handled by
 *   control-tower-event) or for the task's timeout, after which the state machine
 *   invokes this again (the poll that catches a lost event).
 * Registering before reading makes a missed completion impossible: an event that
 * comes after the registration finds the wait; one that came before it is seen in
 * the record.
 */

const logger = createLogger('await-control-tower');
const ddb = DynamoDBDocumentClient.from(createClient(DynamoDBClient), {
  marshallOptions: { removeUndefinedValues: true },
});
const sfn = createClient(SFNClient);
const management = createManagementClients(createClient(STSClient));
const metrics = createMetrics();

export const AwaitControlTowerSchema = z.object({
  taskToken: z.string().min(1),
  executionId: z.string().min(1),
  recordId: z.string().min(1),
  startedAt: z.string().min(1),
  accountName: z.string().min(1),
  accountId: z.string().nullish(),
});
export type AwaitControlTowerInput = z.infer<typeof AwaitControlTowerSchema>;

export interface AwaitControlTowerResult {
  /** `completed`: the record had ended and this call completed the token. */
  outcome: 'waiting' | 'completed' | 'gone';
  status: string;
  keys: string[];
}

export async function awaitControlTower(
  clients: { ddb: DynamoDBDocumentClient; sfn: SFNClient; serviceCatalog: ServiceCatalogClient },
  table: string,
  input: AwaitControlTowerInput,
  metrics?: Metrics,
): Promise<AwaitControlTowerResult> {
  const [wait] = await registerWait(clients.ddb, table, input);
  const status = await readRecordStatus(clients.serviceCatalog, input.recordId, input.startedAt);
  if (status.status === 'IN_PROGRESS') return { outcome: 'waiting', status: status.status, keys: wait.keys };
  const outcome = await completeWait(clients.sfn, input.taskToken, status);
  if (outcome === 'completed' && metrics) recordOperationMetrics(metrics, status);
  await removeWait(clients.ddb, table, wait);
  return { outcome, status: status.status, keys: wait.keys };
}

export const handler = withRemainingTime(
  async (event: unknown, context?: Context): Promise<AwaitControlTowerResult> => {
    beginInvocation(logger, event, context);
    const input = parseInput(AwaitControlTowerSchema, event, 'Await Control Tower');
    return withMetrics(metrics, async () => {
      const result = await awaitControlTower(
        { ddb, sfn, serviceCatalog: management.serviceCatalog },
        requireEnv('CONTROL_TOWER_WAITS_TABLE'),
        input,
        metrics,
      );
      logger.info('Control Tower wait registered', { recordId: input.recordId, ...result });
      return result;
    });
  },
);
