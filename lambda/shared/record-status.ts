import { DescribeRecordCommand, ServiceCatalogClient } from '@aws-sdk/client-service-catalog';
import { now } from './clock';
import type { ProvisioningStatus } from './contracts';
import { METRIC, MetricUnit, type Metrics } from './metrics';

/** Service Catalog record statuses that mean "still running". */
const IN_PROGRESS = new Set(['CREATED', 'IN_PROGRESS', 'IN_PROGRESS_IN_ERROR']);

/**
 * One DescribeRecord of a Control Tower operation, as the workflow's ProvisioningStatus.
 * The record is the truth about an operation: a lifecycle event only says when to look.
 */
export async function readRecordStatus(
  sc: ServiceCatalogClient,
  recordId: string,
  startedAt: string,
): Promise<ProvisioningStatus> {
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

/**
 * When the operation has ended: how long it took, and how it ended. Emitted by whoever
 * saw the end first and completed the wait (the event, or the poll), once per operation.
 */
export function recordOperationMetrics(metrics: Metrics, status: ProvisioningStatus): void {
  if (status.status === 'IN_PROGRESS') return;
  metrics.addMetric(METRIC.CONTROL_TOWER_DURATION, MetricUnit.Seconds, status.elapsedSeconds);
  metrics.addMetric(
    status.status === 'SUCCEEDED' ? METRIC.CONTROL_TOWER_SUCCEEDED : METRIC.CONTROL_TOWER_FAILED,
    MetricUnit.Count,
    1,
  );
}
