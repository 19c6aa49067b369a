/**
 * Dual-run phases: the other enrichment version runs beside the main one, from the phase's start, into
 * its own output and DLQ topics, read by its own probe; each event's output from both versions is kept
 * for the phase's window and compared field by field (results.dualRun). Leaving the phase stops it.
 */
import { setGroupOffsets } from '../kafka/group-offsets.js';
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
    await stage.start();
    const probe = new Probe({
      kafka: ctx.probeKafka, groupId: `${ctx.runPrefix}.probe.${this.version}`, enrichedTopic: this.topic, dlqTopic: `${ctx.names.dlq}.${this.version}`, rack: ctx.zones.probe, idPrefix: ctx.runPrefix,
      onEnriched: (seq, value, intendedMs) => {
        if (this.inWindow(intendedMs) && !this.outputs.other.has(seq)) this.outputs.other.set(seq, value);
      },
      onSample: () => {},
    });
    ctx.side.probe = probe;
    ctx.sideProbes.push(probe);
    await probe.start();
  }

  async leave(): Promise<void> {
    await this.ctx.stopSide();
  }

  status(): string {
    return this.ctx.side ? ` · dual-run ${this.version}` : '';
  }

  async contribute(): Promise<void> {
    this.ctx.results.dualRun = diffDualRun(this.outputs.main, this.outputs.other, this.version, this.ctx.s.enrichment.version);
  }
}
