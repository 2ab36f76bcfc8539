import * as os from 'node:os';
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import { round } from './stats';

/**
 * How busy this process was during a run. The scaled clock counts real time, CPU
 * included, as emulated time: every real millisecond the event loop is busy (or late)
 * becomes `scale` emulated milliseconds. A high utilization, or a long event loop
 * delay, means this machine inflated the emulated durations.
 */
export interface LoadFigures {
  /** Event loop utilization over the whole run, 0..1. */
  elu: number;
  /** The busiest one-second window's utilization. */
  eluMaxWindow: number;
  /** Event loop delay, real milliseconds. */
  delayP50Ms: number;
  delayP99Ms: number;
  delayMaxMs: number;
  /** The p99 delay as emulated seconds (what one late timer costs on the scaled clock). */
  delayP99EmulatedSeconds: number;
  /** CPU time this process used (user + system) over the wall time: 1 = one core busy all the time. */
  cpuPerWall: number;
  /** The machine's 1-minute load average (mean of one sample a second), and its cores: load above the cores means other work competed for CPU. */
  loadAverage: number;
  cores: number;
  wallMs: number;
}

export class LoadMonitor {
  private static readonly RESOLUTION_MS = 10;
  private readonly histogram = monitorEventLoopDelay({ resolution: LoadMonitor.RESOLUTION_MS });
  private start: EventLoopUtilization | undefined;
  private last: EventLoopUtilization | undefined;
  private timer: NodeJS.Timeout | undefined;
  private maxWindow = 0;
  private wallStart = 0;
  private cpuStart: NodeJS.CpuUsage | undefined;
  private readonly loadSamples: number[] = [];

  constructor(private readonly scale: number) {}

  begin(): void {
    this.wallStart = Date.now();
    this.cpuStart = process.cpuUsage();
    this.start = performance.eventLoopUtilization();
    this.last = this.start;
    this.histogram.enable();
    this.timer = setInterval(() => {
      const now = performance.eventLoopUtilization();
      const window = performance.eventLoopUtilization(now, this.last);
      this.maxWindow = Math.max(this.maxWindow, window.utilization);
      this.last = now;
      this.loadSamples.push(os.loadavg()[0]);
    }, 1000);
    this.timer.unref();
  }

  end(): LoadFigures {
    if (!this.start) throw new Error('LoadMonitor.end() before begin()');
    clearInterval(this.timer);
    this.histogram.disable();
    const total = performance.eventLoopUtilization(this.start);
    const wallMs = Date.now() - this.wallStart;
    const cpu = process.cpuUsage(this.cpuStart);
    // The histogram counts the sampling interval itself: what is beyond it is delay.
    const ms = (ns: number) => round(Math.max(0, ns / 1e6 - LoadMonitor.RESOLUTION_MS), 1);
    const p99 = ms(this.histogram.percentile(99));
    return {
      elu: round(total.utilization, 3),
      eluMaxWindow: round(Math.max(this.maxWindow, total.utilization), 3),
      delayP50Ms: ms(this.histogram.percentile(50)),
      delayP99Ms: p99,
      delayMaxMs: ms(this.histogram.max),
      delayP99EmulatedSeconds: round((p99 * this.scale) / 1000, 1),
      cpuPerWall: round((cpu.user + cpu.system) / 1000 / Math.max(1, wallMs), 3),
      loadAverage: round(
        this.loadSamples.length
          ? this.loadSamples.reduce((a, b) => a + b, 0) / this.loadSamples.length
          : os.loadavg()[0],
        2,
      ),
      cores: os.cpus().length,
      wallMs,
    };
  }
}
