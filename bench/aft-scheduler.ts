import {
  DescribeRecordCommand,
  ProvisionProductCommand,
  type ServiceCatalogClient,
} from '@aws-sdk/client-service-catalog';
import type { AccountRequest } from '../lambda/shared/schema';
import {
  controlTowerParameters,
  idempotencyToken,
  provisionedProductName,
  requestIdOf,
} from '../lambda/shared/schema';
import { findAccountFactoryProduct } from '../lambda/shared/service-catalog';

/**
 * AFT's documented provisioning policy, as a scheduler over the same emulated Service
 * Catalog the factory drives: a scheduled processor starts at most ONE new Control
 * Tower operation per tick (every 5 minutes), and only while fewer than `maxInFlight`
 * operations are in progress. It calls ProvisionProduct and DescribeRecord through a
 * real SDK client, so the emulator times the operations exactly as it does for the
 * factory.
 *
 * Left out, in AFT's favour: the first tick comes at once (a rate(5 minutes) rule
 * fires 2.5 minutes later on average), and nothing AFT does after Control Tower
 * (its provisioning framework, customizations) is counted.
 */
export interface SchedulerClock {
  nowMs(): number;
  sleep(emulatedMs: number): Promise<void>;
}

export interface AftSchedulerOptions {
  /** Emulated seconds between two ticks of the request processor. @default 300 */
  readonly intervalSeconds?: number;
  /** Control Tower operations in flight at most. @default 5 */
  readonly maxInFlight?: number;
  /** The Account Factory product name. */
  readonly productName: string;
}

export interface AftStart {
  requestId: string;
  recordId: string;
  /** Emulated ms of the ProvisionProduct call. */
  at: number;
  tick: number;
}

export interface AftRunResult {
  starts: AftStart[];
  ticks: number;
  /** Ticks that found a request queued but `maxInFlight` operations in progress. */
  ticksAtLimit: number;
  /** Records that ended FAILED (must be 0). */
  failed: number;
  describeRecordCalls: number;
}

const IN_PROGRESS = new Set(['CREATED', 'IN_PROGRESS', 'IN_PROGRESS_IN_ERROR']);

export class AftScheduler {
  private readonly intervalMs: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly sc: ServiceCatalogClient,
    private readonly clock: SchedulerClock,
    private readonly options: AftSchedulerOptions,
  ) {
    this.intervalMs = (options.intervalSeconds ?? 300) * 1000;
    this.maxInFlight = options.maxInFlight ?? 5;
  }

  /** Provisions every request, then waits until every record has ended. */
  async run(requests: readonly AccountRequest[]): Promise<AftRunResult> {
    const queue = [...requests];
    const inFlight = new Set<string>();
    const starts: AftStart[] = [];
    let failed = 0;
    let describeRecordCalls = 0;
    let ticksAtLimit = 0;
    const refresh = async () => {
      for (const id of [...inFlight]) {
        describeRecordCalls++;
        const out = await this.sc.send(new DescribeRecordCommand({ Id: id }));
        const status = out.RecordDetail?.Status ?? 'FAILED';
        if (IN_PROGRESS.has(status)) continue;
        inFlight.delete(id);
        if (status !== 'SUCCEEDED') failed++;
      }
    };

    const t0 = this.clock.nowMs();
    let tick = 0;
    // The processor: a fixed-rate schedule, one new operation per tick at most.
    for (; queue.length; tick++) {
      await this.sleepUntil(t0 + tick * this.intervalMs);
      await refresh();
      if (inFlight.size >= this.maxInFlight) {
        ticksAtLimit++;
        continue;
      }
      const request = queue.shift()!;
      const recordId = await this.provision(request);
      inFlight.add(recordId);
      starts.push({ requestId: requestIdOf(request), recordId, at: this.clock.nowMs(), tick });
    }
    // The last operations: checked every minute until they end.
    while (inFlight.size) {
      await this.clock.sleep(60_000);
      await refresh();
    }
    return { starts, ticks: tick, ticksAtLimit, failed, describeRecordCalls };
  }

  private async provision(request: AccountRequest): Promise<string> {
    const product = await findAccountFactoryProduct(this.sc, this.options.productName);
    const requestId = requestIdOf(request);
    const out = await this.sc.send(
      new ProvisionProductCommand({
        ProductId: product.productId,
        ProvisioningArtifactId: product.provisioningArtifactId,
        PathId: product.pathId,
        ProvisionedProductName: provisionedProductName(request),
        ProvisioningParameters: Object.entries(controlTowerParameters(request)).map(([Key, Value]) => ({
          Key,
          Value,
        })),
        ProvisionToken: idempotencyToken(requestId, 1, 'provision'),
      }),
    );
    const recordId = out.RecordDetail?.RecordId;
    if (!recordId) throw new Error(`ProvisionProduct returned no record for ${requestId}`);
    return recordId;
  }

  private sleepUntil(deadline: number): Promise<void> {
    return this.clock.sleep(Math.max(0, deadline - this.clock.nowMs()));
  }
}
