import type { Context } from 'aws-lambda';
import { ServiceCatalogClient } from '@aws-sdk/client-service-catalog';
import { STSClient } from '@aws-sdk/client-sts';
import { z } from 'zod';
import { createClient } from '../shared/clients';
import type { ProvisioningStatus } from '../shared/contracts';
import { parseInput } from '../shared/input';
import { beginInvocation, createLogger } from '../shared/logger';
import { createManagementClients } from '../shared/management';
import { withRemainingTime } from '../shared/retry';
import { createMetrics, METRIC, MetricUnit, Metrics, withMetrics } from '../shared/metrics';
import { readRecordStatus } from '../shared/record-status';

/**
 * Check provisioning: one DescribeRecord of the Control Tower operation. The state
 * machine polls it (with a Wait) until it is SUCCEEDED or FAILED.
 */

const logger = createLogger('check-provisioning');
const management = createManagementClients(createClient(STSClient));
const metrics = createMetrics();

const PayloadSchema = z.object({
  state: z.object({
    provisioning: z.object({
      recordId: z.string().min(1),
      startedAt: z.string().min(1),
    }),
  }),
});
type Payload = z.infer<typeof PayloadSchema>;

export async function checkProvisioning(
  sc: ServiceCatalogClient,
  payload: Payload,
): Promise<ProvisioningStatus> {
  const { recordId, startedAt } = payload.state.provisioning;
  return readRecordStatus(sc, recordId, startedAt);
}

export const handler = withRemainingTime(
  async (event: unknown, context?: Context): Promise<ProvisioningStatus> => {
    beginInvocation(logger, event, context);
    const payload = parseInput(PayloadSchema, event, 'Check provisioning');
    return withMetrics(metrics, async () => {
      const result = await checkProvisioning(management.serviceCatalog, payload);
      recordOperationMetrics(metrics, result);
      logger.info('Control Tower operation status', { ...result });
      return result;
    });
  },
);

/** When the operation has ended: how long it took, and how it ended. */
export function recordOperationMetrics(metrics: Metrics, status: ProvisioningStatus): void {
  if (status.status === 'IN_PROGRESS') return;
  metrics.addMetric(METRIC.CONTROL_TOWER_DURATION, MetricUnit.Seconds, status.elapsedSeconds);
  metrics.addMetric(
    status.status === 'SUCCEEDED' ? METRIC.CONTROL_TOWER_SUCCEEDED : METRIC.CONTROL_TOWER_FAILED,
    MetricUnit.Count,
    1,
  );
}
