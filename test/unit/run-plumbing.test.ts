import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { phaseTimeline } from '../../src/run/phases.js';
import { addCounters, catchUpSeconds, replayResetOffsets } from '../../src/run/run.js';
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
