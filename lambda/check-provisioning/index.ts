import type { Context } from 'aws-lambda';
import { DescribeRecordCommand, ServiceCatalogClient } from '@aws-sdk/client-service-catalog';
import { STSClient } from '@aws-sdk/client-sts';
import { z } from 'zod';
import { createClient } from '../shared/clients';
import { now } from '../shared/clock';
import type { ProvisioningStatus } from '../shared/contracts';
import { parseInput } from '../shared/input';
import { beginInvocation, createLogger } from '../shared/logger';
import { createManagementClients } from '../shared/management';
import { withRemainingTime } from '../shared/retry';
import { createMetrics, METRIC, MetricUnit, Metrics, withMetrics } from '../shared/metrics';

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

const IN_PROGRESS = new Set(['CREATED', 'IN_PROGRESS', 'IN_PROGRESS_IN_ERROR']);

export async function checkProvisioning(
  sc: ServiceCatalogClient,
  payload: Payload,
): Promise<ProvisioningStatus> {
  const { recordId, startedAt } = payload.state.provisioning;
  const out = await sc.send(new DescribeRecordCommand({ Id: recordId }));
  const record = out.RecordDetail;
  const at = now();
  const started = Date.parse(startedAt);
  const base = {
    recordId,
    checkedAt: at.toISOString(),
    elapsedSeconds: Number.isNaN(started) ? 0 : Math.max(0, Math.round((at.getTime() - started) / 1000)),
  };
  const status = record?.Status;
  if (status === 'SUCCEEDED') {
    const accountId = out.RecordOutputs?.find((o) => o.OutputKey === 'AccountId')?.OutputValue ?? null;
    return { ...base, status: 'SUCCEEDED', accountId, errors: null };
  }
  if (status === 'FAILED') {
    const errors = (record?.RecordErrors ?? [])
      .map((e) => [e.Code, e.Description].filter(Boolean).join(': '))
      .filter(Boolean)
      .join('; ');
    return {
      ...base,
      status: 'FAILED',
      accountId: null,
      errors: errors || 'Control Tower reported no error details',
    };
  }
  if (status && IN_PROGRESS.has(status)) {
    return { ...base, status: 'IN_PROGRESS', accountId: null, errors: null };
  }
  throw new Error(`DescribeRecord ${recordId} returned an unknown status ${String(status)}`);
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
