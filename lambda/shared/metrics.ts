import { now } from './clock';
import { optionalEnv } from './env';

/**
 * The handlers' metrics, in CloudWatch's embedded metric format (EMF): one JSON
 * document per line on stdout, which CloudWatch Logs turns into metrics in Lambda
 * (no API call, no IAM permission).
 *
 * A small writer whose interface mirrors Powertools Metrics
 * (`@aws-lambda-powertools/metrics`: `addMetric(name, unit, value)`, `addDimension`,
 * `addMetadata`, `singleMetric`, `publishStoredMetrics`, `POWERTOOLS_METRICS_NAMESPACE`,
 * `POWERTOOLS_METRICS_DISABLED`), rather than that package, for two differences the
 * factory needs: no `service` default dimension (the `Factory` dimension only, so that
 * one alarm covers a metric whichever handler emits it), and the timestamp from the
 * handlers' clock (emulated time under the local engine, where the alarms are
 * evaluated on the recorded metrics). Swapping Powertools in is an import change in
 * `createMetrics`.
 *
 * Dimensions stay few and bounded: the factory's name on every metric, and where a
 * metric is split, an error name or a lock name; never an account or a request.
 */

/** EMF units (the CloudWatch `StandardUnit` values the handlers use). */
export const MetricUnit = {
  Count: 'Count',
  Seconds: 'Seconds',
  Milliseconds: 'Milliseconds',
} as const;
export type MetricUnit = (typeof MetricUnit)[keyof typeof MetricUnit];

/** The default namespace (`POWERTOOLS_METRICS_NAMESPACE` overrides it). */
export const DEFAULT_METRICS_NAMESPACE = 'AccountFactory';

/** The dimension every metric carries: the factory's name (`ACCOUNT_FACTORY_NAME`). */
export const FACTORY_DIMENSION = 'Factory';
/** The error a step failed with (StepFailures). */
export const ERROR_NAME_DIMENSION = 'ErrorName';
/** The semaphore lock a gauge is about (SlotsInUse, Waiters, ...). */
export const LOCK_DIMENSION = 'Lock';
/** The factory name when ACCOUNT_FACTORY_NAME is unset. */
export const DEFAULT_FACTORY_NAME = 'AccountFactory';

/**
 * The metric names, shared by the handlers and the constructs (lib/monitoring.ts):
 * one list, so that an alarm cannot watch a metric no handler emits.
 */
export const METRIC = {
  /** A CREATE request succeeded: a new account is ready (notify). */
  ACCOUNTS_VENDED: 'AccountsVended',
  /** An UPDATE request succeeded (notify). */
  ACCOUNTS_UPDATED: 'AccountsUpdated',
  /** An IMPORT request succeeded: an existing account was enrolled (notify). */
  ACCOUNTS_IMPORTED: 'AccountsImported',
  /** An ADOPT request succeeded: an account vended earlier, taken over without a Control Tower operation (notify). */
  ACCOUNTS_ADOPTED: 'AccountsAdopted',
  /** A CUSTOMIZE request succeeded: customizations only, no Control Tower (notify). */
  ACCOUNTS_CUSTOMIZED: 'AccountsCustomized',
  /** A REMOVE request succeeded (notify). */
  ACCOUNTS_REMOVED: 'AccountsRemoved',
  /** A request ended in the failure chain (notify). */
  REQUESTS_FAILED: 'RequestsFailed',
  /** Seconds from an execution's start to its notification (notify). */
  REQUEST_DURATION: 'RequestDuration',
  /** A request failed, by the error that failed it (notify; dimension ErrorName too). */
  STEP_FAILURES: 'StepFailures',
  /** Seconds a Control Tower operation took, measured when it ended (check-provisioning). */
  CONTROL_TOWER_DURATION: 'ControlTowerOperationDuration',
  CONTROL_TOWER_SUCCEEDED: 'ControlTowerOperationsSucceeded',
  CONTROL_TOWER_FAILED: 'ControlTowerOperationsFailed',
  /**
   * Seconds from an execution's start (its place in the queue) to the start of its
   * Control Tower operation: the time it waited for a slot, validation included
   * (provision-account).
   */
  SLOT_WAIT: 'SlotWaitTime',
  /** An account pipeline ended (customizations-result). */
  CUSTOMIZATIONS_SUCCEEDED: 'CustomizationsSucceeded',
  /** An account pipeline failed or was stopped (customizations-result). */
  CUSTOMIZATIONS_FAILED: 'CustomizationsFailed',
  /** Stream records the request trigger could not start an execution for (retried, then on-failure). */
  TRIGGER_RECORDS_FAILED: 'TriggerRecordsFailed',
  /** Executions the request trigger started. */
  EXECUTIONS_STARTED: 'ExecutionsStarted',
  /** Slots held now, per lock (semaphore-cleanup, each run). */
  SLOTS_IN_USE: 'SlotsInUse',
  /** Executions waiting for a slot now, per lock (semaphore-cleanup). */
  WAITERS: 'Waiters',
  /** Seconds the first waiter in line has waited, per lock; 0 without waiters (semaphore-cleanup). */
  OLDEST_WAITER_AGE: 'OldestWaiterAge',
  /** Seconds the longest-held slot has been held, per lock; 0 when none is held (semaphore-cleanup). */
  OLDEST_SLOT_AGE: 'OldestSlotAge',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** One EMF document, as written on one line. */
export interface EmfDocument {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: MetricUnit }[];
    }[];
  };
  [key: string]: unknown;
}

/** EMF's limits: 100 metrics per document, 30 dimensions per set. */
const MAX_METRICS = 100;
const MAX_DIMENSIONS = 29;

export interface MetricsOptions {
  /** @default POWERTOOLS_METRICS_NAMESPACE, else 'AccountFactory' */
  readonly namespace?: string;
  /** Added to every metric. @default { Factory: ACCOUNT_FACTORY_NAME } */
  readonly defaultDimensions?: Record<string, string>;
  /** Where a document goes. @default one line on process.stdout */
  readonly write?: (line: string) => void;
}

/** A bad metric (a programming error): named, never written. */
export class InvalidMetric extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidMetric';
  }
}

function stdoutWriter(line: string): void {
  // As Powertools does in Lambda: straight to stdout (the runtime's console adds a prefix).
  process.stdout.write(`${line}\n`);
}

export class Metrics {
  private readonly namespace: string;
  private readonly defaultDimensions: Record<string, string>;
  private readonly write: (line: string) => void;
  private dimensions: Record<string, string> = {};
  private metadata: Record<string, unknown> = {};
  private stored = new Map<string, { unit: MetricUnit; values: number[] }>();
  private timestamp: number | undefined;
  private readonly single: boolean;

  constructor(options: MetricsOptions = {}, single = false) {
    this.namespace =
      options.namespace ?? (process.env.POWERTOOLS_METRICS_NAMESPACE || DEFAULT_METRICS_NAMESPACE);
    this.defaultDimensions = options.defaultDimensions ?? {
      [FACTORY_DIMENSION]: optionalEnv('ACCOUNT_FACTORY_NAME') ?? DEFAULT_FACTORY_NAME,
    };
    this.write = options.write ?? stdoutWriter;
    this.single = single;
  }

  /** Stores a value (a second value of a metric makes it a list, as EMF allows). */
  addMetric(name: string, unit: MetricUnit, value: number): void {
    if (!name || name.length > 255) throw new InvalidMetric(`Metric name "${name}" must be 1-255 characters`);
    if (!Number.isFinite(value)) throw new InvalidMetric(`Metric ${name}: ${value} is not a finite number`);
    if (!Object.values(MetricUnit).includes(unit))
      throw new InvalidMetric(`Metric ${name}: unit ${String(unit)} is not an EMF unit this writer knows`);
    const entry = this.stored.get(name);
    if (entry && entry.unit !== unit)
      throw new InvalidMetric(`Metric ${name} was stored with unit ${entry.unit}, not ${unit}`);
    if (!entry && this.stored.size >= MAX_METRICS) this.publishStoredMetrics();
    const e = this.stored.get(name) ?? { unit, values: [] };
    e.values.push(value);
    this.stored.set(name, e);
    if (this.single) this.publishStoredMetrics();
  }

  addDimension(name: string, value: string): void {
    if (!name || !value) throw new InvalidMetric(`Dimension ${name}=${value}: both must be non-empty`);
    const count = Object.keys({ ...this.defaultDimensions, ...this.dimensions, [name]: value }).length;
    if (count > MAX_DIMENSIONS) throw new InvalidMetric(`More than ${MAX_DIMENSIONS} dimensions`);
    this.dimensions[name] = value;
  }

  /** A field in the document that is not a metric or a dimension (searchable in Logs Insights). */
  addMetadata(key: string, value: unknown): void {
    this.metadata[key] = value;
  }

  setTimestamp(ms: number): void {
    this.timestamp = ms;
  }

  /**
   * A metrics object for one metric with dimensions of its own: published as soon as
   * its metric is added, so its dimensions never mix with the stored metrics'.
   */
  singleMetric(): Metrics {
    return new Metrics(
      { namespace: this.namespace, defaultDimensions: { ...this.defaultDimensions }, write: this.write },
      true,
    );
  }

  /** The stored metrics as one EMF document (undefined when none is stored). */
  serializeMetrics(): EmfDocument | undefined {
    if (!this.stored.size) return undefined;
    const dims = { ...this.defaultDimensions, ...this.dimensions };
    const doc: EmfDocument = {
      _aws: {
        Timestamp: this.timestamp ?? now().getTime(),
        CloudWatchMetrics: [
          {
            Namespace: this.namespace,
            Dimensions: [Object.keys(dims)],
            Metrics: [...this.stored].map(([Name, { unit }]) => ({ Name, Unit: unit })),
          },
        ],
      },
      ...this.metadata,
      ...dims,
    };
    for (const [name, { values }] of this.stored) doc[name] = values.length === 1 ? values[0] : values;
    return doc;
  }

  /** Writes the stored metrics (if any) and clears them, the dimensions and the metadata. */
  publishStoredMetrics(): void {
    const doc = process.env.POWERTOOLS_METRICS_DISABLED === 'true' ? undefined : this.serializeMetrics();
    this.stored = new Map();
    this.dimensions = {};
    this.metadata = {};
    this.timestamp = undefined;
    if (doc) this.write(JSON.stringify(doc));
  }
}

/** One Metrics per handler module, created at module level (as the logger). */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  return new Metrics(options);
}

/** Runs an invocation and publishes what it stored, whether it succeeded or threw. */
export async function withMetrics<T>(metrics: Metrics, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } finally {
    metrics.publishStoredMetrics();
  }
}

/** Whether a parsed JSON value is an EMF document. */
export function isEmfDocument(value: unknown): value is EmfDocument {
  const aws = (value as { _aws?: { CloudWatchMetrics?: unknown } } | null)?._aws;
  return Array.isArray(aws?.CloudWatchMetrics);
}
