import { AsyncLocalStorage } from 'node:async_hooks';
import { isEmfDocument, type EmfDocument } from '../../lambda/shared/metrics';

/**
 * The metrics the handlers emit, recorded as CloudWatch would: in Lambda, a line of
 * stdout that is an embedded-metric-format document becomes metric data points. Here
 * every invocation runs under `capture`, and the lines its handler writes on stdout
 * that are EMF documents are taken out of the output and recorded (other lines, the
 * logs, pass through). Nothing in the handlers knows about it.
 *
 * `evaluateAlarms` then applies the synthesized template's CloudWatch alarms on the
 * factory's own metrics to what was recorded, period by period: a local run shows which
 * alarm would have gone off. Alarms on AWS's metrics (AWS/States, AWS/Lambda) are not
 * evaluated: the engine does not produce those.
 */

/** One data point. */
export interface RecordedMetric {
  namespace: string;
  name: string;
  unit: string;
  value: number;
  dimensions: Record<string, string>;
  /** Epoch ms, in the handlers' (emulated) time. */
  timestamp: number;
  /** The handler that emitted it (e.g. 'notify'). */
  handler: string;
}

const invocation = new AsyncLocalStorage<{ recorder: MetricsRecorder; handler: string }>();
const CAPTURE = Symbol.for('cdk-account-factory.emf-capture');

/**
 * Wraps process.stdout.write (unless it is our wrapper already): EMF lines written under
 * `capture` are recorded, the rest passes through. Checked at every capture, since a test
 * or a tool may replace process.stdout.write (and restore it) at any time.
 */
function installStdoutCapture(): void {
  if ((process.stdout.write as unknown as Record<symbol, boolean>)[CAPTURE]) return;
  const original = process.stdout.write.bind(process.stdout) as (...args: unknown[]) => boolean;
  const write = (chunk: unknown, ...rest: unknown[]): boolean => {
    const ctx = invocation.getStore();
    if (!ctx || (typeof chunk !== 'string' && !Buffer.isBuffer(chunk))) return original(chunk, ...rest);
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    const kept: string[] = [];
    for (const line of text.split('\n')) {
      if (!ctx.recorder.recordLine(line, ctx.handler)) kept.push(line);
    }
    const remaining = kept.join('\n');
    if (remaining.length) return original(remaining, ...rest);
    const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  };
  Object.defineProperty(write, CAPTURE, { value: true });
  process.stdout.write = write as typeof process.stdout.write;
}

export class MetricsRecorder {
  readonly datapoints: RecordedMetric[] = [];

  /** Runs one invocation of `handler`, recording the EMF documents it writes on stdout. */
  capture<T>(handler: string, run: () => Promise<T>): Promise<T> {
    installStdoutCapture();
    return invocation.run({ recorder: this, handler }, run);
  }

  /** Records a line if it is an EMF document (true), else leaves it (false). */
  recordLine(line: string, handler: string): boolean {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{') || !trimmed.includes('"_aws"')) return false;
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      return false;
    }
    if (!isEmfDocument(parsed)) return false;
    this.recordDocument(parsed, handler);
    return true;
  }

  recordDocument(doc: EmfDocument, handler: string): void {
    for (const directive of doc._aws.CloudWatchMetrics) {
      for (const dimensionSet of directive.Dimensions) {
        const dimensions = Object.fromEntries(dimensionSet.map((d) => [d, String(doc[d])]));
        for (const metric of directive.Metrics) {
          const raw = doc[metric.Name];
          for (const value of Array.isArray(raw) ? raw : [raw]) {
            if (typeof value !== 'number') continue;
            this.datapoints.push({
              namespace: directive.Namespace,
              name: metric.Name,
              unit: metric.Unit,
              value,
              dimensions,
              timestamp: doc._aws.Timestamp,
              handler,
            });
          }
        }
      }
    }
  }

  /** Data points of a metric whose dimensions include `dimensions`. */
  points(name: string, dimensions: Record<string, string> = {}): RecordedMetric[] {
    return this.datapoints.filter(
      (p) => p.name === name && Object.entries(dimensions).every(([k, v]) => p.dimensions[k] === v),
    );
  }

  sum(name: string, dimensions?: Record<string, string>): number {
    return this.points(name, dimensions).reduce((a, p) => a + p.value, 0);
  }

  max(name: string, dimensions?: Record<string, string>): number | undefined {
    const points = this.points(name, dimensions);
    return points.length ? Math.max(...points.map((p) => p.value)) : undefined;
  }
}

/** A metric of a run, per set of dimensions other than the factory's. */
export interface MetricSummary {
  name: string;
  /** The dimensions beyond `Factory` (e.g. `{ ErrorName: 'ControlTowerOperationFailed' }`). */
  dimensions: Record<string, string>;
  unit: string;
  count: number;
  sum: number;
  max: number;
  average: number;
}

/** Every metric of a run, by name then dimensions. */
export function summarizeMetrics(recorder: MetricsRecorder): MetricSummary[] {
  const groups = new Map<string, RecordedMetric[]>();
  for (const p of recorder.datapoints) {
    const dims = Object.fromEntries(Object.entries(p.dimensions).filter(([k]) => k !== 'Factory'));
    const key = JSON.stringify([p.name, Object.entries(dims).sort()]);
    const group = groups.get(key) ?? [];
    group.push(p);
    groups.set(key, group);
  }
  return [...groups.values()]
    .map((points) => {
      const sum = points.reduce((a, p) => a + p.value, 0);
      return {
        name: points[0].name,
        dimensions: Object.fromEntries(Object.entries(points[0].dimensions).filter(([k]) => k !== 'Factory')),
        unit: points[0].unit,
        count: points.length,
        sum,
        max: Math.max(...points.map((p) => p.value)),
        average: sum / points.length,
      };
    })
    .sort((a, b) => metricLabel(a).localeCompare(metricLabel(b)));
}

/** `StepFailures{ErrorName=ControlTowerOperationFailed}` */
export function metricLabel(m: { name: string; dimensions: Record<string, string> }): string {
  const dims = Object.entries(m.dimensions);
  return dims.length ? `${m.name}{${dims.map(([k, v]) => `${k}=${v}`).join(',')}}` : m.name;
}

function seconds(s: number): string {
  return s >= 120 ? `${(s / 60).toFixed(1)} min` : `${Math.round(s)} s`;
}

/**
 * One line per metric, for the summary: counts as a total, durations as average and
 * maximum, the semaphore's gauges as their maximum.
 */
export function formatMetrics(summaries: readonly MetricSummary[]): string[] {
  if (!summaries.length) return ['  (no metrics recorded)'];
  const width = Math.max(...summaries.map((m) => metricLabel(m).length));
  return summaries.map((m) => {
    const label = metricLabel(m).padEnd(width);
    const gauge = m.dimensions.Lock !== undefined;
    let value: string;
    if (m.unit === 'Seconds') {
      value = `${m.count} values: average ${seconds(m.average)}, max ${seconds(m.max)}`;
    } else if (gauge) {
      value = `max ${m.max} (${m.count} samples)`;
    } else {
      value = String(m.sum);
    }
    return `  ${label}  ${value}`;
  });
}

/** A CloudWatch alarm of the template, as far as evaluateAlarms needs it. */
interface CfnAlarm {
  Type: 'AWS::CloudWatch::Alarm';
  Properties: {
    AlarmDescription?: string;
    Namespace?: string;
    MetricName?: string;
    Dimensions?: { Name: string; Value: unknown }[];
    Statistic?: string;
    ExtendedStatistic?: string;
    Period?: number;
    EvaluationPeriods: number;
    DatapointsToAlarm?: number;
    Threshold?: number;
    ComparisonOperator: string;
  };
}

export interface AlarmEvaluation {
  logicalId: string;
  description?: string;
  metric: string;
  /** ALARM when some `EvaluationPeriods` consecutive periods held `DatapointsToAlarm` breaching ones. */
  state: 'ALARM' | 'OK';
  /** The breaching periods: their start (epoch ms) and the statistic's value. */
  breaching: { at: number; value: number }[];
}

function statistic(name: string, values: number[]): number {
  switch (name) {
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'Maximum':
      return Math.max(...values);
    case 'Minimum':
      return Math.min(...values);
    case 'SampleCount':
      return values.length;
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    default:
      throw new Error(`evaluateAlarms: statistic ${name} is not supported`);
  }
}

function breaches(operator: string, value: number, threshold: number): boolean {
  switch (operator) {
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
    default:
      throw new Error(`evaluateAlarms: comparison ${operator} is not supported`);
  }
}

/**
 * The template's single-metric alarms on `namespace`, applied to the recorded data points
 * (periods aligned on the epoch; a period without data is not breaching, as
 * `TreatMissingData: notBreaching`).
 */
export function evaluateAlarms(
  template: { Resources?: Record<string, { Type: string; Properties?: unknown }> },
  recorder: MetricsRecorder,
  namespace = 'AccountFactory',
): AlarmEvaluation[] {
  const out: AlarmEvaluation[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::CloudWatch::Alarm') continue;
    const p = (resource as CfnAlarm).Properties;
    if (p.Namespace !== namespace || !p.MetricName || p.Threshold === undefined || !p.Statistic) continue;
    const dims = Object.fromEntries((p.Dimensions ?? []).map((d) => [d.Name, String(d.Value)]));
    const points = recorder
      .points(p.MetricName)
      .filter(
        (pt) =>
          pt.namespace === namespace &&
          Object.keys(pt.dimensions).length === Object.keys(dims).length &&
          Object.entries(dims).every(([k, v]) => pt.dimensions[k] === v),
      );
    const periodMs = (p.Period ?? 300) * 1000;
    const byPeriod = new Map<number, number[]>();
    for (const pt of points) {
      const start = Math.floor(pt.timestamp / periodMs) * periodMs;
      byPeriod.set(start, [...(byPeriod.get(start) ?? []), pt.value]);
    }
    const breaching = [...byPeriod]
      .map(([at, values]) => ({ at, value: statistic(p.Statistic!, values) }))
      .filter((b) => breaches(p.ComparisonOperator, b.value, p.Threshold!))
      .sort((a, b) => a.at - b.at);
    const needed = p.DatapointsToAlarm ?? p.EvaluationPeriods;
    const windowMs = p.EvaluationPeriods * periodMs;
    const alarm = breaching.some(
      (b) => breaching.filter((o) => o.at >= b.at && o.at < b.at + windowMs).length >= needed,
    );
    out.push({
      logicalId,
      description: p.AlarmDescription,
      metric: metricLabel({
        name: p.MetricName,
        dimensions: Object.fromEntries(Object.entries(dims).filter(([k]) => k !== 'Factory')),
      }),
      state: alarm ? 'ALARM' : 'OK',
      breaching,
    });
  }
  return out;
}
