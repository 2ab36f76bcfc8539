import type { Context } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ServiceCatalogClient } from '@aws-sdk/client-service-catalog';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createClient } from '../shared/clients';
import {
  accountEventOf,
  completeWait,
  findWaits,
  LifecycleEventSchema,
  removeWait,
  waitKeys,
} from '../shared/control-tower-waits';
import { requireEnv } from '../shared/env';
import { parseInput } from '../shared/input';
import { beginInvocation, createLogger } from '../shared/logger';
import { createMetrics, type Metrics, withMetrics } from '../shared/metrics';
import { withRemainingTime } from '../shared/retry';
import { createManagementClients } from '../shared/management';
import { readRecordStatus, recordOperationMetrics } from '../shared/record-status';

/**
 * Control Tower event: the target of the rule on `CreateManagedAccount` /
 * `UpdateManagedAccount` lifecycle events. Finds the executions waiting for that
 * account (by name, and by ID when the event has one), reads each one's record, and
 * completes the waits whose operation has ended (SendTaskSuccess with the record's
 * status, the same result the poll gives).
 *
 * - Idempotent: a duplicate event finds the wait removed, or its token already
 *   completed (`gone`), and changes nothing.
 * - An event nobody waits for (an operation started elsewhere, a wait already
 *   served) is ignored.
 * - A record still running (a stale event, another account with the same name) is
 *   left to its own event or to the slow poll.
 */

const logger = createLogger('control-tower-event');
const ddb = DynamoDBDocumentClient.from(createClient(DynamoDBClient), {
  marshallOptions: { removeUndefinedValues: true },
});
const sfn = createClient(SFNClient);
const management = createManagementClients(createClient(STSClient));
const metrics = createMetrics();

export interface ControlTowerEventResult {
  eventName: string;
  /** Waits found for the account. */
  matched: number;
  /** Tokens this call completed. */
  completed: number;
  /** Waits whose token was already completed, or whose execution ended. */
  gone: number;
  /** Waits whose record still runs: left waiting. */
  stillRunning: number;
}

export async function onControlTowerEvent(
  clients: { ddb: DynamoDBDocumentClient; sfn: SFNClient; serviceCatalog: ServiceCatalogClient },
  table: string,
  raw: unknown,
  metrics?: Metrics,
): Promise<ControlTowerEventResult> {
  const event = parseInput(LifecycleEventSchema, raw, 'Control Tower lifecycle event');
  const result: ControlTowerEventResult = {
    eventName: event.detail.eventName,
    matched: 0,
    completed: 0,
    gone: 0,
    stillRunning: 0,
  };
  const account = accountEventOf(event);
  if (!account) return result;
  const waits = await findWaits(clients.ddb, table, waitKeys(account.accountName, account.accountId));
  result.matched = waits.length;
  for (const wait of waits) {
    const status = await readRecordStatus(clients.serviceCatalog, wait.sk, wait.startedAt);
    if (status.status === 'IN_PROGRESS') {
      result.stillRunning += 1;
      continue;
    }
    const outcome = await completeWait(clients.sfn, wait.taskToken, status);
    result[outcome] += 1;
    if (outcome === 'completed' && metrics) recordOperationMetrics(metrics, status);
    await removeWait(clients.ddb, table, wait);
  }
  return result;
}

export const handler = withRemainingTime(
  async (event: unknown, context?: Context): Promise<ControlTowerEventResult> => {
    beginInvocation(logger, event, context);
    return withMetrics(metrics, async () => {
      const result = await onControlTowerEvent(
        { ddb, sfn, serviceCatalog: management.serviceCatalog },
        requireEnv('CONTROL_TOWER_WAITS_TABLE'),
        event,
        metrics,
      );
      logger.info('Control Tower lifecycle event', { ...result });
      return result;
    });
  },
);
