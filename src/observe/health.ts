/**
 * The load generator's own health, sampled every second during a run: the process's CPU share
 * (user + system time over wall time; 1.0 = one core busy), event-loop delay (perf_hooks), and the
 * driver's queue (events due but not sent yet) and lanes in flight. When the achieved rate falls
 * short of the curve, `bottleneck` says which side was saturated and shows the evidence.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface HealthSample {
  second: number;
  /** process CPU time / wall time over the second (1 = one core) */
  cpuShare: number;
  /** event-loop delay p99 over the second, ms */
  eventLoopP99Ms: number;
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

  constructor(private readonly o: { secondOf: (epochMs: number) => number; queueDepth: () => number }) {
    this.eld = monitorEventLoopDelay({ resolution: 10 });
  }

  start(): void {
    this.eld.enable();
    this.lastCpu = process.cpuUsage();
    this.lastAt = process.hrtime.bigint();
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
    this.samples.push({ second: this.o.secondOf(Date.now()) - 1, cpuShare: wallUs > 0 ? (cpu.user + cpu.system) / wallUs : 0, eventLoopP99Ms: Math.round(p99 * 10) / 10, queueDepth: this.o.queueDepth() });
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
    cpuShareP50: cpu.length ? cpu[Math.floor((cpu.length - 1) / 2)] : 0,
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
  const median = cpu.length ? cpu[Math.floor((cpu.length - 1) / 2)] : 0;
  const loop = Math.max(0, ...inShort.map((h) => h.eventLoopP99Ms));
  // The driver's own clock: events generated late (while its queue stayed small) mean the process
  // could not keep up, whatever the sampled CPU says (a blocked event loop samples badly).
  const genLag = short.map((s) => o.generationLagMs?.[s] ?? 0).sort((a, b) => a - b);
  const genLagMedian = genLag.length ? genLag[Math.floor((genLag.length - 1) / 2)] : 0;
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
