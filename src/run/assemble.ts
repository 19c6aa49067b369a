/**
 * Pure pieces of a run's results: each turns what the run recorded into a part of results.json, so it
 * can be checked on recorded inputs (test/unit/run-plumbing.test.ts) without a cluster.
 */
import type { Codec, CodecCount } from '../kafka/compression.js';
import { notMeasured, type CompressionFigure, type DualRunResult, type NotMeasured, type PhaseResult, type ReplayResult, type Results } from './results.js';
import type { PhaseWindow } from '../phases/timeline.js';

/** Seconds (after the first) whose acknowledged count exceeded the intended by over 10 % while the seconds before had a backlog (acked < intended summed so far). */
export function catchUpSeconds(intended: number[], acked: number[], seconds: number): number[] {
  const out: number[] = [];
  let backlog = 0;
  for (let sec = 0; sec < seconds; sec++) {
    const want = intended[sec] ?? 0;
    const got = acked[sec] ?? 0;
    if (sec > 0 && backlog > 0 && got > want * 1.1 && got - want > 10) out.push(sec);
    backlog = Math.max(0, backlog + want - got);
  }
  return out;
}

/**
 * Where a replay or rollback resets its group: per partition the offset for `now − lookback`, unless
 * the group's committed offset is earlier (it was already further behind than the lookback): then the
 * committed offset, since moving it forward would skip records never enriched. A partition with no
 * committed offset (-1) takes the lookback's.
 */
export function replayResetOffsets(byTime: Map<number, number>, committed: Map<number, number>): { offsets: Map<number, number>; behindPartitions: number; behindRecords: number } {
  const offsets = new Map<number, number>();
  let behindPartitions = 0;
  let behindRecords = 0;
  for (const [p, t] of byTime) {
    const c = committed.get(p);
    if (c !== undefined && c >= 0 && (t < 0 || c < t)) {
      offsets.set(p, c);
      behindPartitions++;
      if (t >= 0) behindRecords += t - c;
    } else offsets.set(p, t);
  }
  return { offsets, behindPartitions, behindRecords };
}

/** Field-by-field diff of the two versions' outputs for the events both produced. */
export function diffDualRun(a: Map<number, string>, b: Map<number, string>, otherVersion: string, mainVersion: string): DualRunResult {
  const fieldDiffs: Record<string, number> = {};
  const removed: Record<string, number> = {};
  const added: Record<string, number> = {};
  const retyped: Record<string, number> = {};
  let compared = 0;
  let identical = 0;
  const ignore = new Set(['enrichment_version']);
  for (const [seq, va] of a) {
    const vb = b.get(seq);
    if (vb === undefined) continue;
    compared++;
    const oa = JSON.parse(va) as Record<string, unknown>;
    const ob = JSON.parse(vb) as Record<string, unknown>;
    let same = true;
    for (const k of new Set([...Object.keys(oa), ...Object.keys(ob)])) {
      if (ignore.has(k)) continue;
      // Schema evolution main → other: a field dropped or given another type breaks readers of the main output.
      const ta = jsonType(oa[k]);
      const tb = jsonType(ob[k]);
      if (ta !== 'absent' && tb === 'absent') removed[k] = (removed[k] ?? 0) + 1;
      else if (ta === 'absent' && tb !== 'absent') added[k] = (added[k] ?? 0) + 1;
      else if (ta !== tb && ta !== 'null' && tb !== 'null') {
        const key = `${k}: ${ta} → ${tb}`;
        retyped[key] = (retyped[key] ?? 0) + 1;
      }
      if (JSON.stringify(oa[k]) !== JSON.stringify(ob[k])) {
        fieldDiffs[k] = (fieldDiffs[k] ?? 0) + 1;
        same = false;
      }
    }
    if (same) identical++;
  }
  return {
    measured: true, versions: [mainVersion, otherVersion], onlyMain: a.size - compared, onlyOther: b.size - compared, compared, identical, differing: compared - identical, fieldDiffs,
    compatibility: {
      rule: `${otherVersion} may add fields to ${mainVersion}'s output but not drop one or change its JSON type (null is compatible with any type), checked on every event both versions enriched`,
      compatible: compared > 0 && Object.keys(removed).length === 0 && Object.keys(retyped).length === 0,
      removed, retyped, added,
    },
  };
}

/** The JSON type of a parsed value ('absent' when the field is not there). */
function jsonType(v: unknown): string {
  if (v === undefined) return 'absent';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Sum two counter sets field by field (nested objects too; maxima stay maxima). */
export function addCounters<T>(a: T, b: T): T {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(a as object)) {
    const x = (a as Record<string, unknown>)[k];
    const y = (b as Record<string, unknown>)[k];
    if (typeof x === 'number' && typeof y === 'number') out[k] = /^max/.test(k) ? Math.max(x, y) : x + y;
    else if (x && typeof x === 'object') out[k] = addCounters(x, (y ?? {}) as typeof x);
    else out[k] = x;
  }
  for (const k of Object.keys((b ?? {}) as object)) if (!(k in out)) out[k] = (b as Record<string, unknown>)[k];
  return out as T;
}

/** What a replay or rollback phase recorded while it ran. */
export interface ReplayRecord {
  window: PhaseWindow;
  startedAt: number;
  resetOffsets: Map<number, number>;
  endAtReset: Map<number, number>;
  caughtUpAt?: number;
  lagCurve: { offsetMs: number; lag: number }[];
  reset: ReturnType<typeof replayResetOffsets>;
  /** The consumer group the replay reset. */
  group?: string;
  /** The group as the reset found it (after the old stage left) and as the catch-up left it. */
  groupBefore?: GroupSnapshot;
  groupAfter?: GroupSnapshot & { atMs: number };
}

/** A consumer group read through the admin API: its state, its members, its committed offsets (partition → offset, -1 none). */
export interface GroupSnapshot {
  state: string;
  members: number;
  committed: Map<number, number>;
}

/**
 * The group's state before the reset and after the catch-up, as a figure: committed offsets against the
 * raw topic's end at the reset (lag before), where the reset put them, and whether every partition's
 * committed offset passed that end afterwards with the new stage a member of the group.
 */
export function groupStateResult(rp: Pick<ReplayRecord, 'group' | 'startedAt' | 'resetOffsets' | 'endAtReset' | 'groupBefore' | 'groupAfter'>): NonNullable<ReplayResult['groupState']> | undefined {
  const b = rp.groupBefore;
  if (!b) return undefined;
  const ends = [...rp.endAtReset];
  const committedBefore = ends.filter(([p]) => (b.committed.get(p) ?? -1) >= 0);
  const a = rp.groupAfter;
  const passed = a ? ends.filter(([p, end]) => (a.committed.get(p) ?? -1) >= end).length : 0;
  return {
    group: rp.group ?? '',
    before: {
      state: b.state, members: b.members, partitionsCommitted: committedBefore.length, partitions: ends.length,
      lagRecords: committedBefore.reduce((x, [p, end]) => x + Math.max(0, end - (b.committed.get(p) ?? end)), 0),
    },
    resetRecordsBack: recordsBack(rp),
    after: a ? { state: a.state, members: a.members, partitionsPastEnd: passed, partitions: ends.length, afterMs: a.atMs - rp.startedAt } : null,
    // The reset is safe only with nobody in the group; the catch-up is shown only when every partition passed the end with the new stage in the group.
    checked: b.members === 0 && a !== undefined && passed === ends.length && a.members > 0,
  };
}

/** Records between a replay's reset offsets and the raw topic's end at the reset, over all partitions. */
const recordsBack = (rp: Pick<ReplayRecord, 'resetOffsets' | 'endAtReset'>): number => [...rp.endAtReset].reduce((a, [p, end]) => a + Math.max(0, end - (rp.resetOffsets.get(p) ?? end)), 0);

/** A replay's (or rollback's) figures: records replayed, time to catch up, pace per hour of history, live p99 before vs during. */
export function replayResult(rp: ReplayRecord, phases: PhaseResult[], tiered: boolean): ReplayResult {
  const replayed = recordsBack(rp);
  const durationMs = rp.caughtUpAt !== undefined ? rp.caughtUpAt - rp.startedAt : null;
  const idx = rp.window.index;
  const before = phases.slice(0, idx).reverse().find((p) => p.scored);
  const during = phases[idx];
  const b = before?.latency.e2e?.p99Ms ?? null;
  const d = during?.latency.e2e?.p99Ms ?? null;
  const lookbackMs = rp.window.lookbackMs ?? 60_000;
  return {
    measured: true, phase: rp.window.name, lookbackMs, replayedRecords: replayed, durationMs, caughtUp: durationMs !== null,
    ratePerSec: durationMs ? replayed / (durationMs / 1000) : null,
    minutesPerHour: durationMs ? (durationMs / 60_000) / (lookbackMs / 3_600_000) : null,
    liveE2eP99BeforeMs: b, liveE2eP99DuringMs: d, liveP99Degradation: b && d ? d / b : null,
    lagCurve: rp.lagCurve,
    ...(rp.groupBefore ? { groupState: groupStateResult(rp) } : {}),
    resetFrom: {
      lookbackPartitions: rp.reset.offsets.size - rp.reset.behindPartitions, behindPartitions: rp.reset.behindPartitions, behindRecords: rp.reset.behindRecords,
      note: rp.reset.behindPartitions > 0
        ? `the group was already further behind than the ${lookbackMs / 1000} s lookback on ${rp.reset.behindPartitions} partition(s): the replay started there from its committed offsets (${rp.reset.behindRecords} records earlier than the lookback), so it covers more than the lookback`
        : `every partition reset to ${lookbackMs / 1000} s before the phase began`,
    },
    remoteTier: tiered
      ? notMeasured('which fetches the remote tier served needs the brokers\' RemoteLogManager metrics (JMX), which clickbench does not read yet')
      : notMeasured('the raw topic is not tiered: every replayed byte came from broker disks'),
  };
}

type DiskFigures = Exclude<Results['disk'], NotMeasured>;

/** Broker disk over the run: growth per GB ingested, per broker, and the retention projection from the measured amplification. */
export function diskResult(o: {
  start: { totalBytes: number; byBroker: Record<string, number> };
  end: { totalBytes: number; byBroker: Record<string, number> };
  ingestedBytes: number; elapsedMs: number; peakEventsPerSec: number; averageEventBytes: number; retentionMs: number; replication: number;
  groundTruth: DiskFigures['groundTruth']; tiered: DiskFigures['tiered'];
  /** Each phase's disk growth (null: not measured), payload bytes acknowledged in it, and whether only the live pipeline wrote (warmup, steady, burst). */
  phases?: { name: string; live: boolean; growthBytes: number | null; ingestedBytes: number }[];
}): DiskFigures {
  const growth = o.end.totalBytes - o.start.totalBytes;
  const ingested = o.ingestedBytes;
  const avgIngest = ingested / Math.max(1, o.elapsedMs / 1000);
  const peakIngest = o.peakEventsPerSec * o.averageEventBytes;
  // Retention is projected from the live pipeline's writes only: the phases where nothing but the live
  // pipeline wrote give disk bytes per payload byte; what other phases wrote beyond that rate (a dual-run's
  // second output, a replay's or rollback's re-written sink) is one-off and shown apart.
  const live = (o.phases ?? []).filter((p) => p.live && p.growthBytes !== null);
  const liveGrowth = live.reduce((a, p) => a + (p.growthBytes ?? 0), 0);
  const liveIngested = live.reduce((a, p) => a + p.ingestedBytes, 0);
  const fromLive = liveIngested > 0;
  const amplification = fromLive ? liveGrowth / liveIngested : ingested > 0 ? growth / ingested : 0;
  const oneOffByPhase: Record<string, number> = {};
  if (fromLive) for (const p of o.phases ?? []) if (!p.live && p.growthBytes !== null) oneOffByPhase[p.name] = Math.max(0, p.growthBytes - amplification * p.ingestedBytes);
  const retentionS = o.retentionMs / 1000;
  const byBroker: Record<string, { startBytes: number; endBytes: number }> = {};
  for (const id of new Set([...Object.keys(o.start.byBroker), ...Object.keys(o.end.byBroker)])) byBroker[id] = { startBytes: o.start.byBroker[id] ?? 0, endBytes: o.end.byBroker[id] ?? 0 };
  return {
    measured: true, startBytes: o.start.totalBytes, endBytes: o.end.totalBytes, growthBytes: growth, ingestedPayloadBytes: ingested, bytesPerGbIngested: ingested > 0 ? growth / (ingested / 1e9) : 0,
    replicationFactor: o.replication, byBroker,
    projection: {
      retentionMs: o.retentionMs, averageIngestBytesPerSec: avgIngest, peakIngestBytesPerSec: peakIngest,
      averageRetainedBytes: avgIngest * retentionS * amplification, peakRetainedBytes: peakIngest * retentionS * amplification,
      bytesPerPayloadByte: amplification,
      basis: fromLive
        ? `the live pipeline's writes: ${live.map((p) => p.name).join(', ')} grew the disks ${(liveGrowth / 1e6).toFixed(1)} MB for ${(liveIngested / 1e6).toFixed(1)} MB ingested (${amplification.toFixed(2)} disk bytes per payload byte)`
        : 'the whole run (no warmup, steady or burst phase with a disk measurement): one-off writes (dual-run outputs, replays) are included',
      oneOffBytes: Object.values(oneOffByPhase).reduce((a, b) => a + b, 0),
      oneOffByPhase,
      formula: 'retained = ingest rate (payload B/s) × retention (s) × disk bytes per payload byte of the live pipeline (replication, enrichment outputs and overhead included; measured over the warmup, steady and burst phases); peak rate = the schedule\'s busiest intended second × the average event size (not the highest acknowledged second, which after a stall is a catch-up flush); one-off writes = what a dual-run, replay or rollback phase grew the disks beyond the live rate, not projected',
    },
    tiered: o.tiered,
    groundTruth: o.groundTruth,
  };
}

/** Anything that counts how often a sequence number was seen. */
export interface SeqCount {
  get(seq: number): number;
}

/** Acknowledged events (sequence numbers below `generated` that `acked` accepts) that some generation of the sink (enriched or DLQ) holds. */
export function seenInSink(generated: number, acked: (seq: number) => boolean, generations: SeqCount[]): number {
  let n = 0;
  for (let seq = 0; seq < generated; seq++) if (acked(seq) && generations.some((c) => c.get(seq) > 0)) n++;
  return n;
}

/**
 * The raw topic read back against what the producer saw acknowledged: every acknowledged event with a
 * known partition must be there once; missing ones are lost (by partition), repeated ones raw duplicates.
 */
export function rawAccounting(generated: number, acked: (seq: number) => boolean, partitionOf: (seq: number) => number, readBack: SeqCount): { checked: number; lost: number; rawDuplicates: number; lostByPartition: Record<string, number> } {
  let checked = 0;
  let lost = 0;
  let rawDuplicates = 0;
  const lostByPartition: Record<string, number> = {};
  for (let seq = 0; seq < generated; seq++) {
    if (!acked(seq) || partitionOf(seq) < 0) continue;
    checked++;
    const n = readBack.get(seq);
    if (n > 1) rawDuplicates++;
    if (n === 0) {
      lost++;
      const pt = String(partitionOf(seq));
      lostByPartition[pt] = (lostByPartition[pt] ?? 0) + 1;
    }
  }
  return { checked, lost, rawDuplicates, lostByPartition };
}

/** One producer's compression, from what it fed its codec and got back (`who` names the producer in the reasons). */
export function compressionFigure(codec: Codec, count: CodecCount | undefined, who: string): CompressionFigure {
  if (codec === 'none') return { codec, ...notMeasured(`${who} does not compress (codec none)`) };
  if (!count || count.recordBytes === 0) return { codec, ...notMeasured(`${who} compressed nothing`) };
  return {
    codec, measured: true, method: `the bytes ${who} fed the ${codec} codec (each batch's records) and the bytes it returned, counted in the client`,
    batches: count.batches, recordBytes: count.recordBytes, compressedBytes: count.compressedBytes, ratio: count.compressedBytes / count.recordBytes,
  };
}

/**
 * What a codec did between two readings of its cumulative figure: the bytes it took in and gave back
 * since `before` (not measured when it compressed nothing in between). A phase's cross-zone bytes are
 * scaled by its own ratio, not the run's so far: the ratio moves with batch sizes (an lz4 burst's
 * big batches compress better than a steady second's small ones).
 */
export function compressionSince(before: CompressionFigure, now: CompressionFigure): CompressionFigure {
  if (!now.measured) return now;
  const b = before.measured ? before : { batches: 0, recordBytes: 0, compressedBytes: 0 };
  const recordBytes = now.recordBytes - b.recordBytes;
  const compressedBytes = now.compressedBytes - b.compressedBytes;
  if (recordBytes <= 0) return { codec: now.codec, ...notMeasured(`the ${now.codec} codec compressed nothing in between`) };
  return { ...now, batches: now.batches - b.batches, recordBytes, compressedBytes, ratio: compressedBytes / recordBytes };
}

/** Each producer's codec figure so far; `shared`: the load producer's figure counts the enrichment output's bytes too. */
export interface CompressionReading {
  producer: CompressionFigure;
  enrichment: CompressionFigure;
  shared: boolean;
}

/**
 * The factors that turn the clients' uncompressed byte counts between two readings into bytes on the
 * wire, each from what its codec did in between (`wire`: the bytes the model counts for each
 * producer's topics in between). Counted together, the two share one ratio (their events compress
 * alike: both are JSON click events).
 */
export function compressionFactors(a: CompressionReading, b: CompressionReading, wire: { producer: number; enrichment: number }): { producer: number; enrichment: number } {
  const producer = compressionSince(a.producer, b.producer);
  if (b.shared) {
    const f = compressionFactor(producer, wire.producer + wire.enrichment);
    return { producer: f, enrichment: f };
  }
  return { producer: compressionFactor(producer, wire.producer), enrichment: compressionFactor(compressionSince(a.enrichment, b.enrichment), wire.enrichment) };
}

/**
 * The share of the clients' uncompressed byte counts that is on the wire once compressed: `wireBytes`
 * (records, batch headers and request framing, as src/kafka/wire.ts counts them) less what the codec
 * saved on the records. Only the records compress, so framing keeps its size: scaling the whole count
 * by the codec's ratio undercounted a compressed quickstart by 8 % against the kernel's counters.
 */
export function compressionFactor(f: CompressionFigure | undefined, wireBytes: number): number {
  if (!f || !f.measured || wireBytes <= 0) return 1;
  return Math.max(f.ratio, 1 - (f.recordBytes - f.compressedBytes) / wireBytes);
}
