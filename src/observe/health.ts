/**
 * The load generator's own health, sampled every second during a run: the process's CPU share
 * (user + system time over wall time; 1.0 = one core busy), how busy its event loop was (perf_hooks'
 * event-loop utilization) and how late (event-loop delay), and the driver's queue (events due but not
 * sent yet). When the achieved rate falls short of the curve, `bottleneck` says which side was
 * saturated and shows the evidence; when the enrichment lag grows, `stageBottleneck` does the same for
 * the enrichment stage.
 */
import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';

/** The lower middle of values sorted ascending (0 when there are none): a median that is always one of them. */
function lowerMiddle(sorted: number[]): number {
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : 0;
}

/** The share of the time from reading `a` to reading `b` (performance.eventLoopUtilization()) this thread's event loop ran code, to two places. */
export function loopBusyBetween(a: EventLoopUtilization, b: EventLoopUtilization): number {
  return Math.round(performance.eventLoopUtilization(b, a).utilization * 100) / 100;
}

export interface HealthSample {
  second: number;
  /** process CPU time / wall time over the second (1 = one core) */
  cpuShare: number;
  /** event-loop delay p99 over the second, ms */
  eventLoopP99Ms: number;
  /** The share of the second the event loop was running code (not waiting for I/O or timers): perf_hooks' event-loop utilization, 0–1 (absent from older results). */
  loopBusy?: number;
  queueDepth: number;
}

export interface HealthSummary {
  samples: HealthSample[];
  cpuShareP50: number;
  cpuShareMax: number;
  eventLoopP99MaxMs: number;
  queueDepthMax: number;
}

export class ClientHealth {
  private readonly samples: HealthSample[] = [];
  private readonly eld: IntervalHistogram;
  private timer?: NodeJS.Timeout;
  private lastCpu = process.cpuUsage();
  private lastAt = process.hrtime.bigint();
  private lastLoop: EventLoopUtilization = performance.eventLoopUtilization();

  constructor(private readonly o: { secondOf: (epochMs: number) => number; queueDepth: () => number }) {
    this.eld = monitorEventLoopDelay({ resolution: 10 });
  }

  start(): void {
    this.eld.enable();
    this.lastCpu = process.cpuUsage();
    this.lastAt = process.hrtime.bigint();
    this.lastLoop = performance.eventLoopUtilization();
    this.timer = setInterval(() => this.sample(), 1_000);
    this.timer.unref();
  }

  private sample(): void {
    const now = process.hrtime.bigint();
    const cpu = process.cpuUsage(this.lastCpu);
    const wallUs = Number(now - this.lastAt) / 1_000;
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    const p99 = this.eld.count > 0 ? this.eld.percentile(99) / 1e6 : 0;
    this.eld.reset();
    const loop = performance.eventLoopUtilization();
    const loopBusy = loopBusyBetween(this.lastLoop, loop);
    this.lastLoop = loop;
    this.samples.push({ second: this.o.secondOf(Date.now()) - 1, cpuShare: wallUs > 0 ? (cpu.user + cpu.system) / wallUs : 0, eventLoopP99Ms: Math.round(p99 * 10) / 10, loopBusy, queueDepth: this.o.queueDepth() });
  }

  stop(): HealthSummary {
    if (this.timer) clearInterval(this.timer);
    this.eld.disable();
    return summarize(this.samples);
  }
}

export function summarize(samples: HealthSample[]): HealthSummary {
  const cpu = samples.map((s) => s.cpuShare).sort((a, b) => a - b);
  return {
    samples,
    cpuShareP50: lowerMiddle(cpu),
    cpuShareMax: cpu.length ? cpu[cpu.length - 1] : 0,
    eventLoopP99MaxMs: Math.max(0, ...samples.map((s) => s.eventLoopP99Ms)),
    queueDepthMax: Math.max(0, ...samples.map((s) => s.queueDepth)),
  };
}

/** A client is saturated when its process keeps a core busy or its event loop stalls. */
export const CLIENT_CPU_SATURATED = 0.85;
export const CLIENT_LOOP_STALLED_MS = 200;
/** Events generated this late (median over the short seconds) mean the client fell behind itself. */
export const CLIENT_GENERATION_LATE_MS = 500;

export interface Bottleneck {
  side: 'none' | 'client' | 'cluster';
  verdict: string;
  /** seconds that fell short (< 95 % of the intended rate acknowledged) */
  shortSeconds: number[];
  evidence: string[];
}

/**
 * Which side limited a run, from the seconds that fell short: in those seconds, was the client
 * busy (CPU share ≥ 0.85 of a core, or event-loop p99 ≥ 200 ms) — then it could not send faster —
 * or idle while its requests waited on the cluster (acknowledgement latency up, queue growing)?
 */
export function bottleneck(o: { intended: number[]; acked: number[]; sent: number[]; health: HealthSample[]; generationLagMs?: number[]; queueDepth?: number[]; queueFull?: number[]; produceP99Ms: number | null; ceilingRecordsPerSec?: number }): Bottleneck {
  const short: number[] = [];
  for (let sec = 1; sec < o.intended.length; sec++) if (o.intended[sec] > 0 && (o.acked[sec] ?? 0) < o.intended[sec] * 0.95) short.push(sec);
  // A shortfall is a streak of seconds; isolated seconds (a GC pause, a second boundary) are not a verdict.
  let streak = 0;
  let longest = 0;
  for (let i = 0; i < short.length; i++) {
    streak = i > 0 && short[i] === short[i - 1] + 1 ? streak + 1 : 1;
    longest = Math.max(longest, streak);
  }
  if (longest < 3) return { side: 'none', verdict: short.length ? `kept up with the schedule (${short.length} isolated second(s) short)` : 'kept up with the schedule', shortSeconds: short, evidence: [] };
  const inShort = o.health.filter((h) => short.includes(h.second));
  const busy = inShort.filter((h) => h.cpuShare >= CLIENT_CPU_SATURATED || h.eventLoopP99Ms >= CLIENT_LOOP_STALLED_MS);
  const cpu = inShort.map((h) => h.cpuShare).sort((a, b) => a - b);
  const median = lowerMiddle(cpu);
  const loop = Math.max(0, ...inShort.map((h) => h.eventLoopP99Ms));
  // The driver's own clock: events generated late (while its queue stayed small) mean the process
  // could not keep up, whatever the sampled CPU says (a blocked event loop samples badly).
  const genLag = short.map((s) => o.generationLagMs?.[s] ?? 0).sort((a, b) => a - b);
  const genLagMedian = lowerMiddle(genLag);
  const queueMax = Math.max(0, ...short.map((s) => o.queueDepth?.[s] ?? 0));
  // The driver stops generating while its queue is full: lateness then comes from the cluster.
  const queueFullSeconds = short.filter((s) => (o.queueFull?.[s] ?? 0) > 0).length;
  const generatedLate = genLagMedian >= CLIENT_GENERATION_LATE_MS && queueFullSeconds === 0;
  const sentShort = short.reduce((a, s) => a + (o.sent[s] ?? 0), 0);
  const intendedShort = short.reduce((a, s) => a + o.intended[s], 0);
  const ackedShort = short.reduce((a, s) => a + (o.acked[s] ?? 0), 0);
  const evidence = [
    `${short.length} second(s) acknowledged < 95 % of the intended rate: ${intendedShort} intended, ${sentShort} sent, ${ackedShort} acknowledged in them`,
    `client in those seconds: CPU share median ${(median * 100).toFixed(0)} % of a core, event-loop p99 up to ${loop} ms (${busy.length} of ${inShort.length} sampled second(s) saturated)`,
    `driver in those seconds: events generated up to ${genLag.length ? genLag[genLag.length - 1] : 0} ms late (median ${genLagMedian} ms), queue up to ${queueMax} events${queueFullSeconds ? `, full (generation held back) in ${queueFullSeconds} of them` : ''}`,
    `produce acknowledgement p99 over the run: ${o.produceP99Ms ?? '–'} ms`,
  ];
  if (o.ceilingRecordsPerSec) evidence.push(`calibrated produce ceiling (ProducerPerformance): ${Math.round(o.ceilingRecordsPerSec)} records/s; peak intended here ${Math.max(...o.intended)} events/s`);
  if (generatedLate || (inShort.length > 0 && busy.length >= inShort.length / 2)) {
    return { side: 'client', shortSeconds: short, evidence, verdict: `client-bound: in the seconds that fell short the load generator could not keep up (events generated a median ${genLagMedian} ms late, CPU ${(median * 100).toFixed(0)} % of a core, event loop up to ${loop} ms late), so it could not send at the intended rate; the cluster's figures are not its limit` };
  }
  return { side: 'cluster', shortSeconds: short, evidence, verdict: `cluster-bound: in the seconds that fell short the load generator had headroom (CPU ${(median * 100).toFixed(0)} % of a core, event loop within ${loop} ms) while its requests waited for the cluster (produce p99 ${o.produceP99Ms ?? '–'} ms)` };
}

/** An event loop busy this share of the time or more is bound by its own thread's CPU (the enrichment bench's stages bound by their thread ran at 0.92–0.95). */
export const STAGE_LOOP_SATURATED = 0.9;
/** Lag below this many records is not a verdict: a transaction's worth in flight. */
export const STAGE_LAG_NOTABLE_RECORDS = 1_000;

export interface StageBottleneck {
  side: 'none' | 'clickbench' | 'cluster';
  verdict: string;
  /** Where the enrichment lag grew for STAGE_GROWTH_MIN_MS or longer (ms from the start of the schedule, between lag samples). */
  growing: { fromMs: number; toMs: number; peakRecords: number }[];
  evidence: string[];
}

/** A growth shorter than this is a transaction's sawtooth, not a verdict. */
export const STAGE_GROWTH_MIN_MS = 3_000;

/**
 * Which side limited the enrichment when its lag grew: the stretches where consecutive lag samples rose, each
 * to STAGE_LAG_NOTABLE_RECORDS or more, for STAGE_GROWTH_MIN_MS or longer (samples, not seconds: a saturated
 * event loop runs its samplers late, seconds apart). In those stretches, was the thread running the stage
 * (in-process: the same event loop as the load generator and the probe) busy a median STAGE_LOOP_SATURATED of the
 * time or more — then the stage could not enrich faster on its thread, and the lag and end-to-end latency
 * include clickbench's own limit — or was it mostly waiting, on its fetches, produce acknowledgements and
 * transaction commits? Each health sample's loop figure covers the time since the sample before it.
 */
export function stageBottleneck(o: { lag: { offsetMs: number; lag: number }[]; health: HealthSample[]; phases?: { name: string; startOffsetMs: number; endOffsetMs: number }[]; loadInProcess?: boolean }): StageBottleneck {
  // With load workers (`run --workers N`) the load generator runs in them, not on this thread.
  const loadHere = o.loadInProcess ?? true;
  const growing: StageBottleneck['growing'] = [];
  let from = -1;
  const close = (i: number) => {
    // The stretch runs from the sample before its first rise to sample i.
    if (from >= 0 && o.lag[i].offsetMs - o.lag[from].offsetMs >= STAGE_GROWTH_MIN_MS) {
      growing.push({ fromMs: o.lag[from].offsetMs, toMs: o.lag[i].offsetMs, peakRecords: o.lag[i].lag });
    }
    from = -1;
  };
  for (let i = 1; i < o.lag.length; i++) {
    if (o.lag[i].lag > o.lag[i - 1].lag && o.lag[i].lag >= STAGE_LAG_NOTABLE_RECORDS) {
      if (from < 0) from = i - 1;
    } else close(i - 1);
  }
  close(o.lag.length - 1);
  if (growing.length === 0) return { side: 'none', verdict: `the enrichment kept up: its lag never grew for ${STAGE_GROWTH_MIN_MS / 1000} s or more past ${STAGE_LAG_NOTABLE_RECORDS.toLocaleString('en-US')} records`, growing, evidence: [] };
  const within = (h: HealthSample) => growing.some((g) => h.second * 1000 >= g.fromMs && h.second * 1000 <= g.toMs);
  const inGrowth = o.health.filter((h) => h.loopBusy !== undefined && within(h));
  const busy = inGrowth.map((h) => h.loopBusy!).sort((a, b) => a - b);
  const cpu = inGrowth.map((h) => h.cpuShare).sort((a, b) => a - b);
  const s = (ms: number) => (ms / 1000).toFixed(1);
  // The phases a stretch overlaps, by name.
  const where = (g: { fromMs: number; toMs: number }) => {
    const names = (o.phases ?? []).filter((p) => p.startOffsetMs < g.toMs && p.endOffsetMs > g.fromMs).map((p) => p.name);
    return names.length ? `, in ${names.join(' and ')}` : '';
  };
  const evidence = [
    `the enrichment lag grew ${growing.map((g) => `from ${s(g.fromMs)} s to ${s(g.toMs)} s (to ${g.peakRecords.toLocaleString('en-US')} records${where(g)})`).join(', ')}`,
    busy.length ? `clickbench's event loop (${loadHere ? 'load generator, ' : ''}enrichment stage and probe) then: busy a median ${lowerMiddle(busy).toFixed(2)} of the time (highest ${busy[busy.length - 1].toFixed(2)}; ${busy.length} sample(s)), CPU a median ${(lowerMiddle(cpu) * 100).toFixed(0)} % of a core` : "clickbench's event loop was not sampled then",
  ];
  if (busy.length === 0) return { side: 'none', verdict: "not judged: the lag grew but clickbench's event loop was not sampled then", growing, evidence };
  if (lowerMiddle(busy) >= STAGE_LOOP_SATURATED) {
    return { side: 'clickbench', growing, evidence, verdict: `clickbench-bound: while the enrichment lag grew, clickbench's own thread (the stage shares it with ${loadHere ? 'the load generator and ' : ''}the probe) was busy a median ${lowerMiddle(busy).toFixed(2)} of the time — the lag and the end-to-end latency then include clickbench's own limit, not only the cluster's` };
  }
  return { side: 'cluster', growing, evidence, verdict: `waiting on the cluster: while the enrichment lag grew, clickbench's thread was busy a median ${lowerMiddle(busy).toFixed(2)} of the time — the stage had headroom and waited on its fetches, produce acknowledgements and transaction commits` };
}
