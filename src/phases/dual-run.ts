/**
 * Dual-run phases: the other enrichment version runs beside the main one, from the phase's start, into
 * its own output and DLQ topics, read by its own probe; each event's output from both versions is kept
 * for the phase's window and compared field by field (results.dualRun). Leaving the phase stops it, once
 * it has enriched the window's events or DUAL_RUN_FINISH_MS passed: a side stage that started slowly
 * (its tables, its group, on a busy machine) compared only what it reached before the phase ended — 0
 * events in one fresh quickstart.
 */
import { setGroupOffsets } from '../kafka/group-offsets.js';
import { committedOffsets } from '../kafka/client.js';
import type { DualRunSide } from '../run/results.js';
import { DUAL_RUN_FINISH_MS } from '../enrich/limits.js';
import type { RunContext } from '../run/context.js';
import { enrichedTopicFor } from '../drive/topics.js';
import { Probe } from '../observe/probe.js';
import { diffDualRun } from '../run/assemble.js';
import type { PhaseRunnerModule } from './runner.js';
import type { PhaseWindow } from './timeline.js';

export class DualRunPhases implements PhaseRunnerModule {
  private readonly version: 'v1' | 'v2';
  private readonly topic: string;
  /** The window is known up front, so the main version's outputs are captured from its first event on. */
  private readonly startOffset: number;
  private readonly endOffset: number;
  private readonly outputs = { main: new Map<number, string>(), other: new Map<number, string>() };
  /** The side stage's start and end, as results.dualRun.side reports them. */
  private side?: DualRunSide;
  private beganAt = 0;

  constructor(private readonly ctx: RunContext, windows: PhaseWindow[]) {
    const w = windows[0];
    this.version = (w.version ?? (ctx.mainVersion === 'v1' ? 'v2' : 'v1')) as 'v1' | 'v2';
    this.topic = enrichedTopicFor(ctx.names, this.version, ctx.mainVersion);
    this.startOffset = w.startMs;
    this.endOffset = w.endMs;
  }

  extraTopics(): string[] {
    return [this.topic, `${this.ctx.names.dlq}.${this.version}`];
  }

  private inWindow(intendedMs: number | null): boolean {
    if (intendedMs === null) return false;
    const offset = this.ctx.offsetOf(intendedMs);
    return offset >= this.startOffset && offset < this.endOffset;
  }

  /** The main probe's outputs inside the window (first seen per event). */
  enriched(seq: number, value: string, intendedMs: number | null): void {
    if (this.inWindow(intendedMs) && !this.outputs.main.has(seq)) this.outputs.main.set(seq, value);
  }

  async begin(): Promise<void> {
    const ctx = this.ctx;
    if (ctx.side) return;
    ctx.log(`dual-run: ${this.version} beside ${ctx.mainVersion}, writing ${this.topic}`);
    // The other version starts at the live end of the raw topic, as a new deployment would, with
    // empty in-memory state (sessions, touches, velocity); its own output and DLQ topics.
    const now = await ctx.admin.fetchTopicOffsets(ctx.names.raw);
    await setGroupOffsets(ctx.target, ctx.groupOf(this.version), ctx.names.raw, new Map(now.map((p) => [p.partition, Number(p.high)])));
    const stage = ctx.stageFor(0, this.version, this.topic);
    ctx.side = { stage, version: this.version };
    this.beganAt = Date.now();
    const side: DualRunSide = (this.side = { startedAtOffsetMs: ctx.offsetOf(this.beganAt), readyAfterMs: null, firstOutputAfterMs: null, finish: null });
    await stage.start();
    side.readyAfterMs = Date.now() - this.beganAt;
    const probe = new Probe({
      kafka: ctx.probeKafka, groupId: `${ctx.runPrefix}.probe.${this.version}`, enrichedTopic: this.topic, dlqTopic: `${ctx.names.dlq}.${this.version}`, rack: ctx.zones.probe, idPrefix: ctx.runPrefix,
      onEnriched: (seq, value, intendedMs) => {
        side.firstOutputAfterMs ??= Date.now() - this.beganAt;
        if (this.inWindow(intendedMs) && !this.outputs.other.has(seq)) this.outputs.other.set(seq, value);
      },
      onSample: () => {},
    });
    ctx.side.probe = probe;
    ctx.sideProbes.push(probe);
    await probe.start();
  }

  async leave(): Promise<void> {
    await this.finish().catch((err: Error) => this.ctx.errorLine(`dual-run: could not tell whether ${this.version} enriched its window: ${err.message}`));
    await this.ctx.stopSide();
  }

  /**
   * Wait (at most DUAL_RUN_FINISH_MS) until the side stage has committed past the raw topic's end as
   * the window closed, and its probe has read what it had written by then.
   */
  private async finish(): Promise<void> {
    const { ctx } = this;
    const side = ctx.side;
    if (!side || !this.side) return;
    const t0 = Date.now();
    // Not past a Ctrl-C or a failed run: those stop at once.
    const until = ctx.signal.aborted || ctx.fatal ? t0 : t0 + DUAL_RUN_FINISH_MS;
    const ends = new Map((await ctx.admin.fetchTopicOffsets(ctx.names.raw)).map((p) => [p.partition, Number(p.high)]));
    const behind = async () => {
      const at = await committedOffsets(ctx.admin, ctx.groupOf(this.version), ctx.names.raw);
      return [...ends].reduce((n, [p, end]) => n + Math.max(0, end - (at.get(p) ?? 0)), 0);
    };
    let left = await behind();
    const behindAtEnd = left;
    while (left > 0 && Date.now() < until && !ctx.signal.aborted && !ctx.fatal) {
      await new Promise((r) => setTimeout(r, 200));
      left = await behind();
    }
    // What it committed last, its probe reads a moment later: as many records as the stage had written
    // when it caught up (the stage goes on with live traffic, so its probe is never quiet).
    const written = () => {
      const c = side.stage.counters;
      return c.enriched + Object.values(c.dlq).reduce((a, b) => a + b, 0);
    };
    const read = () => (side.probe ? side.probe.stats.enriched + side.probe.stats.dlq : Infinity);
    const target = written();
    while (left === 0 && Date.now() < until && read() < target && !ctx.signal.aborted && !ctx.fatal) await new Promise((r) => setTimeout(r, 50));
    this.side.finish = { behindAtWindowEnd: behindAtEnd, waitedMs: Date.now() - t0, caughtUp: left === 0, recordsLeft: left };
  }

  status(): string {
    return this.ctx.side ? ` · dual-run ${this.version}` : '';
  }

  async contribute(): Promise<void> {
    this.ctx.results.dualRun = { ...diffDualRun(this.outputs.main, this.outputs.other, this.version, this.ctx.s.enrichment.version), ...(this.side ? { side: this.side } : {}) };
  }
}
