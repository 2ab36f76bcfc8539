import type { BenchResults, ThroughputRow } from './run';
import { round, type Spread } from './stats';
import type { FactoryRunResult } from './worker';

/** bench/results.md: the figures as tables, then what they say (computed from them). */

/** Above this event loop utilization, or with more load than cores, the run is flagged. */
export const ELU_WARNING = 0.5;

const min = (s: number) => round(s / 60, 1);
const mm = (s: Spread) => (s.count ? `${s.median} / ${s.max}` : 'n/a');
const pct = (x: number | null) => (x === null ? 'n/a' : `${round(x * 100, 0)} %`);

function machineFlag(f: FactoryRunResult): string {
  // On the virtual clock a busy machine makes a run slower, not its emulated times longer.
  if (f.job.scale === 0) return '';
  const flags: string[] = [];
  if (f.load.elu >= ELU_WARNING) flags.push(`ELU ${f.load.elu}: CPU-bound, emulated times inflated`);
  if (f.load.loadAverage > f.load.cores)
    flags.push(`load ${f.load.loadAverage} on ${f.load.cores} cores: other work competed for CPU`);
  return flags.join('; ');
}

function table(header: string[], rows: (string | number | null)[][]): string {
  const line = (cells: (string | number | null)[]) =>
    `| ${cells.map((c) => (c === null ? 'n/a' : String(c))).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** How the factory runs kept time, for the report's first paragraph. */
function clockSentence(r: BenchResults): string {
  const scales = new Set(r.throughput.map((row) => row.factory.job.scale));
  if (scales.size === 1 && scales.has(0)) {
    return "Durations are emulated time on the virtual clock: emulated time stands still while anything runs (a Lambda handler, a DynamoDB call) and jumps to the next deadline when nothing does, so CPU costs no emulated time and no figure depends on this machine's pace; the ELU, CPU and load columns say how hard the machine worked, not how it bent the figures. The AFT runs keep a scaled clock (a few calls per 5 minutes).";
  }
  return "Durations are emulated time on the scaled clock (emulated ms per real ms = the scale): every real millisecond this machine spends is `scale` emulated milliseconds, so each run prints its event loop utilization (ELU), its CPU use and the machine's load average.";
}

/** ` = <x> ms real` on a scaled clock; nothing on the virtual clock (no real time to give). */
function realMs(emulatedSeconds: number | null, scale: number): string {
  if (scale === 0) return '';
  return emulatedSeconds === null ? 'n/a' : `${round((emulatedSeconds * 1000) / scale, 0)} ms`;
}

export function renderMarkdown(r: BenchResults): string {
  const out: string[] = [];
  const T = r.settings.createMinutes;
  const L = r.settings.limit;
  out.push('# Benchmark: the account factory on the local engine');
  out.push('');
  out.push(`- Command: \`${r.command}\``);
  out.push(`- Date: ${r.date}`);
  out.push(
    `- Machine: ${r.machine.cores} cores (${r.machine.cpu}), ${r.machine.memoryGb} GB, Node ${r.machine.node}, ${r.machine.platform}`,
  );
  out.push(`- Bench wall time: ${r.benchWallSeconds} s`);
  out.push('');
  out.push(
    `${clockSentence(r)} Control Tower creates an account in T = ${T} min (no jitter unless said), the semaphore limit is L = ${L}, the lifecycle event of each Control Tower operation ends its wait (the emulator delivers it a few emulated seconds after the operation ends), the wait reads the record itself after ${r.settings.pollIntervalSeconds ?? '?'} s without an event, and an Acquire slot task times out (and registers again) after ${r.settings.slotWaitTimeoutSeconds ?? '?'} s. The account pipelines' stages take the emulator's stage time: their builds (in AWS, CodeBuild jobs beside the orchestration) are not run in the measured process.`,
  );
  out.push('');

  out.push(...issueFigures(r));

  // 1. Throughput
  out.push('## 1. Throughput');
  out.push('');
  out.push(
    `N requests submitted at once. Bound = ceil(N/${L}) x ${T} min. AFT = the same emulated Service Catalog driven by AFT's policy (at most one new Control Tower operation every ${r.settings.aftIntervalSeconds / 60} min, at most ${L} in flight), its makespan ending at the last Control Tower completion (nothing AFT does afterwards is counted: in AFT's favour).`,
  );
  out.push('');
  out.push(
    table(
      [
        'N',
        'clock',
        'factory makespan (min)',
        'bound (min)',
        'factory / bound',
        'AFT makespan (min)',
        'AFT / bound',
        'AFT / factory',
        'ELU (busiest 1 s)',
        'CPU / wall',
        'load avg / cores',
        'wall (s)',
      ],
      r.throughput.map((row) => {
        const f = row.factory;
        const t = f.figures.throughput;
        return [
          row.n,
          f.job.scale === 0 ? 'virtual' : f.job.scale,
          min(t.makespanSeconds),
          min(t.boundSeconds),
          t.ratio,
          min(row.aft.makespanSeconds),
          row.aft.ratio,
          row.aftOverFactory,
          `${f.load.elu} (${f.load.eluMaxWindow})`,
          f.load.cpuPerWall,
          `${f.load.loadAverage} / ${f.load.cores}`,
          round(f.load.wallMs / 1000, 0),
        ];
      }),
    ),
  );
  out.push('');
  const flagged = r.throughput.filter((row) => machineFlag(row.factory));
  for (const row of flagged) out.push(`- N=${row.n}: ${machineFlag(row.factory)}.`);
  if (flagged.length) out.push('');
  out.push('Where the factory makespan goes beyond the bound (emulated seconds):');
  out.push('');
  out.push(
    table(
      [
        'N',
        'makespan - bound',
        'lead: submission to 1st ProvisionProduct',
        'Control Tower span - ceil(N/L) x T (slots idle)',
        'tail: last completion to last execution end',
        'slot utilization',
        'submission spread',
        'AFT ticks at the limit',
      ],
      r.throughput.map((row) => {
        const t = row.factory.figures.throughput;
        return [
          row.n,
          round(t.makespanSeconds - t.boundSeconds, 0),
          t.leadSeconds,
          round(t.controlTowerSpanSeconds - t.controlTowerSpanBoundSeconds, 1),
          t.tailSeconds,
          pct(t.slotUtilization),
          t.submissionSpreadSeconds,
          `${row.aft.ticksAtLimit} of ${row.aft.ticks}`,
        ];
      }),
    ),
  );
  out.push('');

  // 2. Handoff
  const handoffRows = [
    ...r.throughput.map((row) => ({ label: String(row.n), f: row.factory })),
    ...(r.jitterRun
      ? [{ label: `${r.jitterRun.job.n} (T +/-${r.jitterRun.job.jitter * 100} %)`, f: r.jitterRun }]
      : []),
  ];
  out.push('## 2. Slot handoff');
  out.push('');
  out.push(
    'Emulated seconds, median / max. The k-th freed slot is paired with the (k+L)-th ProvisionProduct (first come, first served); "real" is the median as real time on this machine.',
  );
  out.push('');
  out.push(
    table(
      [
        'N',
        'Control Tower done -> Release slot (poll)',
        'Release slot -> next ProvisionProduct',
        'real',
        'Control Tower done -> next ProvisionProduct (slot idle)',
      ],
      handoffRows.map(({ label, f }) => {
        const h = f.figures.handoff;
        return [
          label,
          mm(h.completionToRelease),
          mm(h.releaseToNextCall),
          realMs(h.releaseToNextCall.median, f.job.scale),
          mm(h.completionToNextCall),
        ];
      }),
    ),
  );
  out.push('');

  // 3. Overhead
  out.push('## 3. Per-account overhead');
  out.push('');
  out.push(
    'Control Tower completion to the success notification (emulated seconds, median / max), and state transitions per account (median, max in brackets): workflow (states entered once), semaphore waiting (Acquire slot re-entries after a timeout), Control Tower wait (the token wait and its Choice, again after each poll interval without an event).',
  );
  out.push('');
  const tr = (s: Spread) => (s.count ? `${s.median} (${s.max})` : 'n/a');
  out.push(
    table(
      [
        'N',
        'Control Tower done -> notification (s)',
        'semaphore wait (min)',
        'transitions / account',
        'workflow',
        'semaphore waiting',
        'Control Tower polling',
        'polling share',
      ],
      handoffRows.map(({ label, f }) => {
        const o = f.figures.overhead;
        const t = f.figures.transitions;
        return [
          label,
          mm(o.completionToNotification),
          o.semaphoreWait.count ? `${min(o.semaphoreWait.median!)} / ${min(o.semaphoreWait.max!)}` : 'n/a',
          tr(t.perAccount.total),
          tr(t.perAccount.workflow),
          tr(t.perAccount.semaphoreWaiting),
          tr(t.perAccount.controlTowerPolling),
          pct(t.share.controlTowerPolling),
        ];
      }),
    ),
  );
  out.push('');
  const largest = r.throughput[r.throughput.length - 1];
  if (largest) {
    const f = largest.factory;
    out.push(
      `After Control Tower, per state (N=${largest.n}, emulated seconds from entering the state to entering the next, median / max; real = the median in real time on a scaled clock):`,
    );
    out.push('');
    out.push(
      table(
        ['state', 'median', 'max', 'real'],
        f.figures.overhead.afterControlTower
          .filter((s) => (s.max ?? 0) > 0)
          .map((s) => [s.state, s.median, s.max, realMs(s.median, f.job.scale)]),
      ),
    );
    out.push('');
  }

  // 4. Engineering
  out.push('## 4. Engineering');
  out.push('');
  const synth = r.engineering.synth;
  if (synth) {
    out.push(
      `\`npx cdk synth --quiet\` with bundling (esbuild, no Docker): ${synth.ok ? `${synth.wallSeconds} s wall` : `FAILED after ${synth.wallSeconds} s`}.`,
    );
    out.push('');
    if (synth.bundles.length) {
      out.push(
        table(
          ['function (handler)', 'its file (KB)', 'what it loads (KB, vendor/ included)'],
          synth.bundles.map((b) => [b.handler, b.indexJsKb, b.assetKb]),
        ),
      );
      const largest = Math.max(...synth.bundles.map((b) => b.assetKb));
      const js = synth.bundles.reduce((a, b) => a + b.indexJsKb, 0);
      out.push('');
      out.push(
        `Total: ${js} KB of handler files in one asset shared by every function (with vendor/: see \`npm run bench:bundles\`); the most a function loads: ${largest} KB.`,
      );
      out.push('');
    }
  } else {
    out.push('`cdk synth`: skipped (--skip-synth).');
    out.push('');
  }
  const tests = r.engineering.tests;
  out.push(
    tests
      ? `Test suite (\`npx jest\`): ${tests.wallSeconds} s wall, ${tests.ok ? 'passed' : 'FAILED'}: suites ${tests.suites ?? '?'}; tests ${tests.tests ?? '?'}.`
      : 'Test suite: skipped (--skip-tests).',
  );
  out.push('');

  out.push('## What the figures say');
  out.push('');
  for (const line of findings(r)) out.push(`- ${line}`);
  out.push('');
  return out.join('\n');
}

/** Statements computed from the figures: where time and transitions go, with numbers. */
export function findings(r: BenchResults): string[] {
  const lines: string[] = [];
  const poll = r.settings.pollIntervalSeconds;
  const T = r.settings.createMinutes * 60;
  const rows: ThroughputRow[] = r.throughput;
  const largest = rows[rows.length - 1];
  if (!largest) return lines;
  const f = largest.factory.figures;
  const t = f.throughput;
  lines.push(
    `Throughput: at N=${largest.n} the factory takes ${t.ratio} x the bound; ${round(t.makespanSeconds - t.boundSeconds, 0)} s over it = lead ${t.leadSeconds} s + slots idle ${round(t.controlTowerSpanSeconds - t.controlTowerSpanBoundSeconds, 0)} s over ${Math.ceil(f.accounts / r.settings.limit)} rounds (${round((t.controlTowerSpanSeconds - t.controlTowerSpanBoundSeconds) / Math.max(1, Math.ceil(f.accounts / r.settings.limit) - 1), 0)} s per handoff round) + tail ${t.tailSeconds} s.`,
  );
  const smallest = rows[0];
  if (smallest && smallest !== largest) {
    const s = smallest.factory.figures;
    const scale = smallest.factory.job.scale;
    lines.push(
      `At N=${smallest.n} (one round) the excess is the lead (${s.throughput.leadSeconds} s; an execution's start to its ProvisionProduct is ${s.overhead.firstRoundStartToCall.median} s median${realMs(s.overhead.firstRoundStartToCall.median, scale) && ` = ${realMs(s.overhead.firstRoundStartToCall.median, scale)} real`}, the first calls of each handler in a fresh process) and the tail (${s.throughput.tailSeconds} s: the ${smallest.n} operations end at the same instant and their steps after Control Tower run at once; slowest: ${s.overhead.afterControlTower
        .slice(0, 2)
        .map(
          (x) => `${x.state} ${x.median} s${realMs(x.median, scale) && ` = ${realMs(x.median, scale)} real`}`,
        )
        .join(', ')}).`,
    );
  }
  for (const row of rows) {
    lines.push(
      `AFT's policy at N=${row.n}: ${row.aft.ratio} x the bound, ${row.aftOverFactory} x the factory's makespan. One start per ${r.settings.aftIntervalSeconds / 60}-min tick gives at best (N-1) x ${r.settings.aftIntervalSeconds / 60} min + T = ${min((row.n - 1) * r.settings.aftIntervalSeconds + T)} min; ${row.aft.ticksAtLimit} of ${row.aft.ticks} ticks found ${r.settings.limit} operations still running (an operation started just after a tick is still running ${T / 60} min later, at the same point of the schedule) and started nothing.`,
    );
  }
  if (poll) {
    const polls = Math.ceil(T / poll);
    lines.push(
      `Control Tower wait: ${pct(f.transitions.share.controlTowerPolling)} of all state transitions at N=${largest.n} (${f.transitions.perAccount.controlTowerPolling.median} of ${f.transitions.perAccount.total.median} per account): the token wait and its Choice, entered once when the lifecycle event comes, and again every ${poll} s without one (a ${T / 60}-min operation would take about ${polls} such rounds if every event were lost).`,
    );
    const h = f.handoff.completionToRelease;
    lines.push(
      `Detection: Control Tower completion -> Release slot is ${h.median} s median (max ${h.max}) at N=${largest.n}: the lifecycle event's delivery (emulated: 2 to 4 s, a guess: AWS documents no figure), the event function's read of the record, the callback${largest.factory.job.scale === 0 ? ' (no emulated time on the virtual clock)' : ", and this machine's time"}.` +
        (r.jitterRun
          ? ` With T +/-${r.jitterRun.job.jitter * 100} % it is ${r.jitterRun.figures.handoff.completionToRelease.median} s median (max ${r.jitterRun.figures.handoff.completionToRelease.max}): the event does not depend on where the completion falls.`
          : ''),
    );
  }
  const rel = f.handoff.releaseToNextCall;
  lines.push(
    `Handoff after the release: ${rel.median} s median (max ${rel.max}) emulated at N=${largest.n}${realMs(rel.median, largest.factory.job.scale) && ` = ${realMs(rel.median, largest.factory.job.scale)} real`}: no wait on that path by design (release -> wakeNext -> SendTaskSuccess -> Provision account).`,
  );
  const sw = f.transitions.perAccount.semaphoreWaiting;
  if (r.settings.slotWaitTimeoutSeconds) {
    lines.push(
      `Semaphore waiting: an Acquire slot task times out every ${r.settings.slotWaitTimeoutSeconds / 60} min and enters again: ${sw.median} re-entries median (max ${sw.max}) per account at N=${largest.n}, ${pct(f.transitions.share.semaphoreWaiting)} of transitions; each re-entry also runs the acquire Lambda.`,
    );
  }
  const slowest = f.overhead.afterControlTower.slice(0, 3).map((s) => `${s.state} ${s.median} s`);
  lines.push(
    `After Control Tower: ${f.overhead.completionToNotification.median} s median to the success notification at N=${largest.n}; the slowest steps: ${slowest.join(', ')}.`,
  );
  for (const row of rows) {
    const flag = machineFlag(row.factory);
    if (flag)
      lines.push(`N=${row.n} ran on a busy machine (${flag}): its emulated times are inflated by it.`);
  }
  return lines;
}

/** The table of issue 13 ("Control Tower completion by event, and an organization of thousands of accounts"), every figure from this run. */
export function issueFigures(r: BenchResults): string[] {
  const at = (n: number) => r.throughput.find((row) => row.n === n);
  const notRun = (what: string) => `not measured in this run (${what})`;
  const ratioAt = (n: number) => at(n)?.factory.figures.throughput.ratio ?? 'not run';
  const n50 = at(50)?.factory.figures;
  const release = r.throughput
    .map((row) => `N=${row.n}: ${row.factory.figures.handoff.completionToRelease.median ?? 'n/a'} s`)
    .join(', ');
  const small = r.orgScale?.find((o) => o.accounts === 100);
  const large = r.orgScale?.find((o) => o.accounts === 5000);
  const calls = (o: { validateTotal: number; fetchByEmailTotal: number }) =>
    `${o.validateTotal} (validate) + ${o.fetchByEmailTotal} (fetch by email)`;
  const cli = r.cliScale;
  const n1000 = at(1000);
  const rows: (string | number | null)[][] = [
    [
      'state transitions per account, all included, N=50 (median, max)',
      '<= 30',
      n50
        ? `${n50.transitions.perAccount.total.median} (${n50.transitions.perAccount.total.max})`
        : notRun('N=50 runs in the full bench'),
    ],
    ['Control Tower done -> slot released, median (emulated s)', '<= 3 s', release || 'n/a'],
    [
      'makespan / ceil(N/5)*T, N=5 / 50 / 200',
      '<= 1.05 / 1.01 / 1.01',
      `${ratioAt(5)} / ${ratioAt(50)} / ${ratioAt(200)}`,
    ],
    [
      'AWS calls per request, organization of 100 vs 5,000 accounts',
      'equal within 10 %',
      small && large
        ? `${calls(small)} = ${small.validateTotal + small.fetchByEmailTotal} vs ${calls(large)} = ${large.validateTotal + large.fetchByEmailTotal}`
        : notRun('organization scale'),
    ],
    [
      `\`plan\` and \`rerun --ous\` wall time at ${cli?.accounts ?? 5000} accounts (real ms; DynamoDB calls)`,
      'printed',
      cli
        ? `plan ${cli.plan.wallMs} ms (${cli.plan.calls} calls, ${cli.plan.changes} change found); rerun --ous ${cli.rerunOus.wallMs} ms (${cli.rerunOus.calls} calls, ${cli.rerunOus.selected} accounts chosen)`
        : notRun('CLI scale'),
    ],
    [
      'N=1,000 requests: makespan / bound',
      'printed',
      n1000
        ? `${n1000.factory.figures.throughput.ratio} (ELU ${n1000.factory.load.elu}, ${n1000.factory.job.scale === 0 ? 'virtual clock' : `scale ${n1000.factory.job.scale}`}, wall ${round(n1000.factory.load.wallMs / 1000, 0)} s)`
        : notRun('N=1,000 runs in the full bench'),
    ],
  ];
  return [
    '## 0. The figures of issue 13',
    '',
    `One run, T = ${r.settings.createMinutes} min, emulated time unless said. AWS calls per request: what Validate request (a new account) and Fetch account ID (by email) call, through the account index (its hourly reconcile, one listing, is not per request); \`plan\` / \`rerun --ous\`: the command's work after it opened its target (scanning the requests and metadata tables, computing), not the process start nor the re-run state machine.`,
    '',
    table(['figure', 'goal', 'this run'], rows),
    '',
  ];
}
