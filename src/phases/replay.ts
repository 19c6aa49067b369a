/**
 * Replay and rollback phases: the enrichment group of a version is reset to `lookback` ago and catches
 * up as a new generation while live traffic continues. A replay keeps the version; a rollback goes
 * back to `version` (v1 by default). The catch-up ends when the group's committed offsets reach the
 * raw topic's end at the reset; its duration, lag curve and re-read bytes go to results.replay /
 * results.rollback.
 */
import type { RunContext } from '../run/context.js';
import { setGroupOffsets } from '../kafka/group-offsets.js';
import { committedOffsets } from '../kafka/client.js';
import { replayResetOffsets, replayResult, type ReplayRecord } from '../run/assemble.js';
import type { PhaseRunnerModule } from './runner.js';
import type { PhaseWindow } from './timeline.js';

type ReplayState = ReplayRecord & { generation: number; group: string };

/** The group's state and members (DescribeGroups). */
async function describeGroup(admin: RunContext['admin'], group: string): Promise<{ state: string; members: number }> {
  const d = await admin.describeGroups([group]).catch(() => undefined);
  const g = d?.groups.find((x) => x.groupId === group);
  return { state: g?.state ?? 'not described', members: g?.members.length ?? 0 };
}

export class ReplayPhases implements PhaseRunnerModule {
  private readonly replays: ReplayState[] = [];

  constructor(private readonly ctx: RunContext, _windows: PhaseWindow[]) {}

  private active(): ReplayState | undefined {
    return this.replays.find((x) => x.caughtUpAt === undefined);
  }

  busy(): boolean {
    return this.active() !== undefined;
  }

  status(): string {
    return this.busy() ? ' · replaying' : '';
  }

  async begin(w: PhaseWindow): Promise<void> {
    const ctx = this.ctx;
    const { admin, names } = ctx;
    const lookback = w.lookbackMs ?? 60_000;
    const version = w.kind === 'rollback' ? ((w.version ?? 'v1') as 'v1' | 'v2') : ctx.mainVersion;
    if (w.kind === 'rollback') await ctx.stopSide();
    ctx.log(`${w.kind}: resetting ${ctx.groupOf(version)} to ${lookback / 1000} s ago${w.kind === 'rollback' ? ` (${ctx.mainVersion === version ? 'v2' : ctx.mainVersion} → ${version})` : ''} and catching up while live traffic continues`);
    // No stage while an enricher-kill fault holds the only process down: the replay starts the new one.
    const old = ctx.stage;
    if (old) {
      await ctx.countingCloses(() => old.stop());
      ctx.retireMain(old);
    }
    const ts = Date.now() - lookback;
    const byTime = await admin.fetchTopicOffsetsByTimestamp(names.raw, ts);
    const ends = await admin.fetchTopicOffsets(names.raw);
    const committedBefore = await committedOffsets(admin, ctx.groupOf(version), names.raw);
    const reset = replayResetOffsets(new Map(byTime.map((p) => [p.partition, Number(p.offset)])), committedBefore);
    const endAtReset = new Map(ends.map((p) => [p.partition, Number(p.high)]));
    const groupBefore = { ...(await describeGroup(admin, ctx.groupOf(version))), committed: committedBefore };
    if (reset.behindPartitions > 0) ctx.log(`${w.kind}: the group was already more than ${lookback / 1000} s behind on ${reset.behindPartitions} partition(s) (${reset.behindRecords} records): it restarts from its committed offsets there, so nothing is skipped`);
    ctx.mainVersion = version;
    ctx.groupId = ctx.groupOf(version);
    await setGroupOffsets(ctx.target, ctx.groupId, names.raw, reset.offsets);
    ctx.generation++;
    ctx.generationStart[ctx.generation] = w.startMs;
    this.replays.push({ window: w, startedAt: Date.now(), resetOffsets: reset.offsets, endAtReset, lagCurve: [], generation: ctx.generation, group: ctx.groupId, reset, groupBefore });
    ctx.stage = ctx.stageFor(ctx.generation, version);
    await ctx.stage.start();
  }

  /** While a replay catches up: its lag curve, and whether its committed offsets reached the end at the reset. */
  async sample(offsetMs: number, lag: number | undefined): Promise<void> {
    const rp = this.active();
    if (!rp || lag === undefined) return;
    rp.lagCurve.push({ offsetMs, lag });
    const c = await committedOffsets(this.ctx.admin, rp.group, this.ctx.names.raw).catch(() => new Map<number, number>());
    if ([...rp.endAtReset].every(([p, end]) => (c.get(p) ?? 0) >= end)) {
      rp.caughtUpAt = Date.now();
      rp.groupAfter = { ...(await describeGroup(this.ctx.admin, rp.group)), committed: c, atMs: rp.caughtUpAt };
    }
  }

  async contribute(): Promise<void> {
    const { results, s } = this.ctx;
    const replay = this.replays.find((x) => x.window.kind === 'replay');
    if (replay) results.replay = replayResult(replay, results.phases, s.topics.tiered);
    const rollback = this.replays.find((x) => x.window.kind === 'rollback');
    if (rollback) results.rollback = { ...replayResult(rollback, results.phases, s.topics.tiered), toVersion: (rollback.window.version ?? 'v1') as string };
  }
}
