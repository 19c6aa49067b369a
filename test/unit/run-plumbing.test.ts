import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { phaseTimeline } from '../../src/phases/timeline.js';
import { addCounters, catchUpSeconds, diffDualRun, diskResult, groupStateResult, rawAccounting, replayResetOffsets, replayResult, seenInSink } from '../../src/run/assemble.js';
import { notMeasured, type PhaseResult } from '../../src/run/results.js';
import { parseScenario } from '../../src/scenario/load.js';

describe('run plumbing', () => {
  it('lays phases end to end and fills the rest of the duration with steady', () => {
    const s = parseScenario('name: p\nduration: 60s\ntraffic: {base_rate: 1}\nphases:\n  - {kind: warmup, duration: 10s}\n  - {kind: burst, duration: 20s}\n  - {kind: replay, duration: 10s, lookback: 30s}\n').scenario;
    assert.deepEqual(phaseTimeline(s).map((p) => [p.name, p.startMs, p.endMs, p.scored]), [['warmup', 0, 10_000, false], ['burst', 10_000, 30_000, true], ['replay', 30_000, 40_000, false], ['steady', 40_000, 60_000, true]]);
    assert.deepEqual(phaseTimeline({ ...s, phases: [] }).map((p) => p.name), ['steady']);
  });

  it('sums enrichment counters across replay generations (maxima stay maxima)', () => {
    const a = { processed: 2, dlq: { oversized: 1 }, lateProfile: { maxLatenessMs: 5, events: 1 } };
    const b = { processed: 3, dlq: { oversized: 2 }, lateProfile: { maxLatenessMs: 9, events: 2 } };
    assert.deepEqual(addCounters(a, b), { processed: 5, dlq: { oversized: 3 }, lateProfile: { maxLatenessMs: 9, events: 3 } });
  });
});

describe('replay reset offsets', () => {
  it('never moves a lagging group forward: per partition the earlier of its committed offset and the lookback', () => {
    const byTime = new Map([[0, 500], [1, 800], [2, 300], [3, 1000]]);
    // Partition 0 was behind the lookback by 200, partition 1 ahead of it, partition 2 never committed, 3 exactly there.
    const committed = new Map([[0, 300], [1, 900], [2, -1], [3, 1000]]);
    const r = replayResetOffsets(byTime, committed);
    assert.deepEqual([...r.offsets], [[0, 300], [1, 800], [2, 300], [3, 1000]]);
    assert.equal(r.behindPartitions, 1);
    assert.equal(r.behindRecords, 200);
  });
  it('with a group at or ahead of the lookback everywhere, resets to the lookback', () => {
    const r = replayResetOffsets(new Map([[0, 10], [1, 20]]), new Map([[0, 50], [1, 20]]));
    assert.deepEqual([...r.offsets], [[0, 10], [1, 20]]);
    assert.equal(r.behindPartitions, 0);
  });
});

describe('catch-up seconds', () => {
  it('flags seconds over the intended rate only while a backlog from earlier seconds is being worked off', () => {
    // second 1 short by 500, second 2 catches up 300 of it, 3 the rest; 5 is a burst the schedule asked for.
    assert.deepEqual(catchUpSeconds([1000, 1000, 1000, 1000, 1000, 3000], [1000, 500, 1300, 1200, 1000, 3000], 6), [2, 3]);
    assert.deepEqual(catchUpSeconds([1000, 1000], [1000, 1050], 2), []);
  });
});

describe('results assembly (pure, hand-computed)', () => {
  const window = { index: 2, name: 'replay', kind: 'replay' as const, startMs: 40_000, endMs: 60_000, lookbackMs: 30_000, scored: false };
  const phase = (name: string, scored: boolean, p99: number) => ({ name, scored, latency: { produceAck: null, enrich: null, e2e: { count: 10, p50Ms: 1, p90Ms: 1, p99Ms: p99, p999Ms: p99, maxMs: p99, meanMs: 1 } } }) as unknown as PhaseResult;
  it('a replay: records between reset and end offsets, catch-up time, minutes per hour of history, live p99 before vs during', () => {
    const reset = replayResetOffsets(new Map([[0, 100], [1, 200]]), new Map([[0, 50], [1, 250]]));
    const r = replayResult({ window, startedAt: 1_000, caughtUpAt: 7_000, resetOffsets: reset.offsets, endAtReset: new Map([[0, 400], [1, 500]]), lagCurve: [], reset }, [phase('warmup', false, 900), phase('steady', true, 200), phase('replay', false, 500)], false);
    // partition 0 was behind the lookback: from its committed 50 to 400 = 350; partition 1 from 200 to 500 = 300
    assert.equal(r.replayedRecords, 650);
    assert.equal(r.durationMs, 6_000);
    assert.equal(r.ratePerSec, 650 / 6);
    // 6 s for 30 s of history = 12 minutes per hour
    assert.equal(r.minutesPerHour, 12);
    assert.deepEqual([r.liveE2eP99BeforeMs, r.liveE2eP99DuringMs, r.liveP99Degradation], [200, 500, 2.5]);
    assert.deepEqual([r.resetFrom!.lookbackPartitions, r.resetFrom!.behindPartitions, r.resetFrom!.behindRecords], [1, 1, 50]);
    assert.equal(r.remoteTier.measured, false);
    const never = replayResult({ window, startedAt: 1_000, resetOffsets: reset.offsets, endAtReset: new Map([[0, 400], [1, 500]]), lagCurve: [], reset }, [], false);
    assert.deepEqual([never.caughtUp, never.durationMs, never.ratePerSec, never.minutesPerHour, never.liveP99Degradation], [false, null, null, null, null]);
  });
  it('the consumer group before the reset and after the catch-up: lag before, records reset back, partitions past the end', () => {
    const reset = replayResetOffsets(new Map([[0, 100], [1, 200], [2, 10]]), new Map([[0, 50], [1, 250]]));
    const base = { startedAt: 1_000, resetOffsets: reset.offsets, endAtReset: new Map([[0, 400], [1, 500], [2, 30]]) };
    const before = { state: 'Empty', members: 0, committed: new Map([[0, 50], [1, 250], [2, -1]]) };
    const g = groupStateResult({ ...base, group: 'g1', groupBefore: before, groupAfter: { state: 'Stable', members: 1, committed: new Map([[0, 420], [1, 500], [2, 31]]), atMs: 9_500 } })!;
    // lag before: (400 - 50) + (500 - 250), partition 2 had nothing committed; reset back: 400 - 50, 500 - 200, 30 - 10
    assert.deepEqual(g.before, { state: 'Empty', members: 0, partitionsCommitted: 2, partitions: 3, lagRecords: 600 });
    assert.equal(g.resetRecordsBack, 350 + 300 + 20);
    assert.deepEqual(g.after, { state: 'Stable', members: 1, partitionsPastEnd: 3, partitions: 3, afterMs: 8_500 });
    assert.equal(g.checked, true);
    // One partition short of the end, a member in the group at the reset, or never caught up: not checked.
    assert.equal(groupStateResult({ ...base, group: 'g1', groupBefore: before, groupAfter: { state: 'Stable', members: 1, committed: new Map([[0, 399], [1, 500], [2, 31]]), atMs: 9_500 } })!.checked, false);
    assert.equal(groupStateResult({ ...base, group: 'g1', groupBefore: { ...before, members: 1 }, groupAfter: { state: 'Stable', members: 1, committed: new Map([[0, 420], [1, 500], [2, 31]]), atMs: 9_500 } })!.checked, false);
    const never = groupStateResult({ ...base, group: 'g1', groupBefore: before })!;
    assert.deepEqual([never.after, never.checked], [null, false]);
    assert.equal(groupStateResult({ ...base, group: 'g1' }), undefined);
  });
  it('disk: growth per GB ingested, per broker, and the retention projection from the measured amplification', () => {
    const d = diskResult({
      start: { totalBytes: 1_000, byBroker: { 1: 500, 2: 500 } }, end: { totalBytes: 31_000, byBroker: { 1: 15_000, 2: 15_000, 3: 1_000 } },
      ingestedBytes: 10_000, elapsedMs: 10_000, peakEventsPerSec: 20, averageEventBytes: 100, retentionMs: 3_600_000, replication: 3,
      groundTruth: notMeasured('x'), tiered: notMeasured('y'),
    });
    assert.equal(d.growthBytes, 30_000);
    assert.ok(Math.abs(d.bytesPerGbIngested - 3e9) < 1, '3 bytes on disk per payload byte');
    assert.deepEqual(d.byBroker[3], { startBytes: 0, endBytes: 1_000 });
    // 1 000 B/s average × 3 600 s × 3 = 10.8 MB; peak 2 000 B/s → 21.6 MB
    assert.equal(d.projection.averageRetainedBytes, 10_800_000);
    assert.equal(d.projection.peakRetainedBytes, 21_600_000);
  });
  it('disk: the projection uses the live pipeline\'s phases only; a dual-run\'s and a rollback\'s extra writes are shown apart', () => {
    const d = diskResult({
      start: { totalBytes: 0, byBroker: {} }, end: { totalBytes: 40_000, byBroker: {} },
      ingestedBytes: 10_000, elapsedMs: 10_000, peakEventsPerSec: 20, averageEventBytes: 100, retentionMs: 3_600_000, replication: 3,
      groundTruth: notMeasured('x'), tiered: notMeasured('y'),
      phases: [
        { name: 'steady', live: true, growthBytes: 12_000, ingestedBytes: 6_000 },
        { name: 'dual-run', live: false, growthBytes: 20_000, ingestedBytes: 3_000 },
        { name: 'rollback', live: false, growthBytes: 8_000, ingestedBytes: 1_000 },
        { name: 'burst', live: true, growthBytes: null, ingestedBytes: 9_000 },
      ],
    });
    // Live: 12 000 B for 6 000 B ingested = 2 per byte (the burst's disk was not measured, so it does not count).
    assert.equal(d.projection.bytesPerPayloadByte, 2);
    assert.equal(d.projection.averageRetainedBytes, 1_000 * 3_600 * 2);
    assert.deepEqual(d.projection.oneOffByPhase, { 'dual-run': 20_000 - 6_000, rollback: 8_000 - 2_000 });
    assert.equal(d.projection.oneOffBytes, 20_000);
    assert.match(d.projection.basis!, /^the live pipeline's writes: steady grew the disks/);
    // The whole-run figure stays as measured (4 per byte, one-off writes included).
    assert.ok(Math.abs(d.bytesPerGbIngested - 4e9) < 1);
  });
});

describe('dual-run diff (pure)', () => {
  it('compares the events both versions enriched field by field, and judges the schema evolution', () => {
    const v1 = new Map([
      [1, JSON.stringify({ id: 1, segment: 'a', price: 10, tier: null, enrichment_version: 'v1' })],
      [2, JSON.stringify({ id: 2, segment: 'b', price: 12, tier: 'gold', enrichment_version: 'v1' })],
      [3, JSON.stringify({ id: 3, segment: 'c', price: 1, tier: null, enrichment_version: 'v1' })],
    ]);
    // v2: adds "score", keeps the rest (tier null → string is not a retype); event 3 not enriched by v2 yet.
    const v2 = new Map([
      [1, JSON.stringify({ id: 1, segment: 'a', price: 10, tier: 'silver', score: 0.5, enrichment_version: 'v2' })],
      [2, JSON.stringify({ id: 2, segment: 'b', price: 12, tier: 'gold', score: 0.1, enrichment_version: 'v2' })],
    ]);
    const d = diffDualRun(v1, v2, 'v2', 'v1');
    assert.deepEqual([d.compared, d.identical, d.differing, d.onlyMain, d.onlyOther], [2, 0, 2, 1, 0]);
    assert.deepEqual(d.fieldDiffs, { tier: 1, score: 2 });
    assert.deepEqual(d.compatibility && [d.compatibility.compatible, d.compatibility.removed, d.compatibility.retyped, d.compatibility.added], [true, {}, {}, { score: 2 }]);
    // v2 drops "segment" and turns "price" into a string: incompatible, and says which.
    const bad = new Map([[1, JSON.stringify({ id: 1, price: '10', tier: null })], [2, JSON.stringify({ id: 2, price: '12', tier: 'gold' })]]);
    const x = diffDualRun(v1, bad, 'v2', 'v1').compatibility!;
    assert.equal(x.compatible, false);
    assert.deepEqual(x.removed, { segment: 2 });
    assert.deepEqual(x.retyped, { 'price: number → string': 2 });
    assert.equal(diffDualRun(v1, new Map(), 'v2', 'v1').compatibility!.compatible, false, 'nothing compared: not shown compatible');
  });
});

describe('accounting (pure)', () => {
  const counts = (m: Record<number, number>) => ({ get: (seq: number) => m[seq] ?? 0 });
  const acked = (seq: number) => seq !== 3; // event 3 was never acknowledged
  it('an acknowledged event counts as seen when any generation of the sink holds it', () => {
    assert.equal(seenInSink(6, acked, [counts({ 0: 1, 1: 1, 3: 1 }), counts({ 2: 1, 1: 1 })]), 3, 'events 0, 1 (twice: once), 2; 3 was not acknowledged; 4 and 5 missing');
    assert.equal(seenInSink(6, acked, []), 0);
  });
  it('the raw topic read back: lost by partition, raw duplicates, events without a known partition skipped', () => {
    const partitionOf = (seq: number) => (seq === 5 ? -1 : seq % 2);
    const r = rawAccounting(7, acked, partitionOf, counts({ 0: 1, 1: 2, 2: 0, 4: 1, 6: 0 }));
    // checked 0,1,2,4,6 (3 not acked, 5 no partition); 2 and 6 lost (both partition 0); 1 twice
    assert.deepEqual(r, { checked: 5, lost: 2, rawDuplicates: 1, lostByPartition: { 0: 2 } });
  });
});
