/**
 * The run's sampler, every 250 ms while the schedule runs: the main enrichment group's lag (once a
 * second; every time while a runner is busy, e.g. a replay catching up), a log-dir sample every 5 s,
 * the kernel counters once a second, each phase runner's own sampling, and the live progress line.
 */
import { sampleLag, type LagSample } from '../observe/samplers.js';
import { sleep } from '../sandbox/process.js';
import { phaseAt } from '../phases/timeline.js';
import type { PhaseRunnerModule } from '../phases/runner.js';
import type { RunContext } from './context.js';
import type { Observer } from './observe.js';

export class Sampler {
  /** Per phase: the largest and the last lag seen in it. */
  readonly lagMax: number[];
  readonly lagEnd: number[];
  private sampling = false;
  private finished = false;
  private ticker?: NodeJS.Timeout;
  private lastLag = 0;
  private lastNet = 0;
  private lastProgress = 0;

  constructor(private readonly ctx: RunContext, private readonly observer: Observer, private readonly runners: PhaseRunnerModule[]) {
    this.lagMax = ctx.phases.map(() => 0);
    this.lagEnd = ctx.phases.map(() => 0);
  }

  start(): void {
    this.ticker = setInterval(() => void this.sample().catch((e) => this.ctx.errorLine(String(e))), 250);
  }

  /** Stops sampling and waits for a sample in progress. */
  async stop(): Promise<void> {
    this.finished = true;
    clearInterval(this.ticker);
    while (this.sampling) await sleep(20);
  }

  private async sample(): Promise<void> {
    if (this.sampling || this.finished) return;
    this.sampling = true;
    try {
      const ctx = this.ctx;
      const { results, phases, s } = ctx;
      const offset = Date.now() - ctx.scheduleStart;
      const busy = this.runners.some((r) => r.busy?.());
      const lagDue = busy || Date.now() - this.lastLag >= 1_000;
      if (lagDue) this.lastLag = Date.now();
      // Each lag reading is a ListOffsets and an OffsetFetch round.
      const l = lagDue ? await sampleLag(ctx.admin, ctx.groupId, ctx.names.raw).catch(() => undefined) : undefined;
      if (l) {
        const sample: LagSample = { offsetMs: offset, lag: l.lag, endOffset: l.endOffset, committed: l.committed, lagByPartition: l.lagByPartition };
        results.series.lag.push(sample);
        const p = phaseAt(phases, Math.max(0, offset));
        this.lagMax[p.index] = Math.max(this.lagMax[p.index], l.lag);
        this.lagEnd[p.index] = l.lag;
      }
      for (const r of this.runners) await r.sample?.(offset, l?.lag);
      const disk = results.series.disk;
      if (disk.length === 0 || offset - disk[disk.length - 1].offsetMs >= 5_000) await this.observer.diskAt(offset);
      if (ctx.ledger && Date.now() - this.lastNet >= 1_000) {
        this.lastNet = Date.now();
        await ctx.ledger.sample().catch(() => {});
      }
      if (ctx.opts.progress && Date.now() - this.lastProgress >= 1_000 && !this.finished) {
        this.lastProgress = Date.now();
        const sec = Math.floor(offset / 1000) - 1;
        const p = phaseAt(phases, Math.max(0, offset));
        const driver = ctx.driver;
        const p99 = ctx.latency.recent.takeP99();
        const lagNow = l?.lag ?? results.series.lag[results.series.lag.length - 1]?.lag;
        ctx.opts.progress(`${p.name} ${(Math.max(0, Math.min(offset, s.duration)) / 1000).toFixed(0)}/${s.duration / 1000}s · ${driver.acked.values[sec] ?? 0}/${driver.intended.values[sec] ?? 0} ev/s · e2e p99 ${p99 ?? '–'} ms · lag ${lagNow ?? '?'}${driver.queueDepth > 1000 ? ` · behind by ${driver.queueDepth} events` : ''}${this.runners.map((r) => r.status?.() ?? '').join('')}`);
      }
    } finally {
      this.sampling = false;
    }
  }
}
