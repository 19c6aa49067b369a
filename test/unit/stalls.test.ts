import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { partitionStalls, type LagSample } from '../../src/observe/samplers.js';
import { stallsLine } from '../../src/report/markdown.js';

/** Samples every `stepMs` of 3 partitions: committed offsets and lags given per sample. */
function samples(stepMs: number, rows: [number[], number[]][]): LagSample[] {
  return rows.map(([committed, lag], i) => ({ offsetMs: i * stepMs, lag: lag.reduce((a, b) => a + b, 0), endOffset: 0, committed, lagByPartition: lag }));
}

describe('input partitions that stood still', () => {
  it('finds a partition whose committed offset stayed put while records waited, with its bounds and largest lag; moving or empty partitions are not stalls', () => {
    const s = samples(1_000, [
      [[10, 5, 0], [3, 0, 0]],
      [[20, 5, 0], [2, 4, 0]], // p1 stuck from here …
      [[30, 5, 0], [1, 9, 0]],
      [[40, 5, 0], [4, 15, 0]],
      [[50, 5, 0], [0, 21, 0]], // … still at 5 (3 s so far)
      [[60, 40, 0], [2, 1, 0]], // moved
      [[70, 45, -1], [1, 0, 0]], // p2: no records waiting, nothing to stall on
    ]);
    assert.deepEqual(partitionStalls(s), [{ partition: 1, fromMs: 1_000, toMs: 4_000, movedMs: 5_000, maxLag: 21 }]);
    // Under the threshold: not reported.
    assert.deepEqual(partitionStalls(s, 3_001), []);
  });

  it('a stall that lasts to the last sample is open; a rollback (the offset moving back) ends a stall; the longest comes first', () => {
    const s = samples(500, [
      [[100, 7, 0], [5, 5, 5]],
      [[100, 7, 0], [8, 6, 5]],
      [[100, 7, 0], [9, 7, 5]],
      [[100, 7, 0], [9, 8, 5]],
      [[100, 7, 0], [9, 9, 5]],
      [[60, 7, 0], [50, 9, 5]], // p0 reset back by a rollback: it moved
      [[60, 7, 0], [50, 9, 5]],
    ]);
    assert.deepEqual(partitionStalls(s, 2_000), [
      { partition: 1, fromMs: 0, toMs: 3_000, movedMs: null, maxLag: 9 },
      { partition: 2, fromMs: 0, toMs: 3_000, movedMs: null, maxLag: 5 },
      { partition: 0, fromMs: 0, toMs: 2_000, movedMs: 2_500, maxLag: 9 },
    ]);
  });

  it('says so in one line, and says "not measured" for samples without per-partition offsets', () => {
    const s = samples(1_000, [[[0], [5]], [[0], [6]], [[0], [7]], [[9], [0]]]);
    assert.match(stallsLine(s), /: partition 0 for at least 2\.0 s from 0 ms, up to 7 records behind\. /);
    assert.match(stallsLine(samples(1_000, [[[0], [0]], [[1], [0]]])), /: none\.$/);
    assert.match(stallsLine([{ offsetMs: 0, lag: 4, endOffset: 9 }]), /^Input partitions that stood still: not measured/);
  });

  it('stalls that begin at one sample are one entry: every partition at once says the stage was not consuming, a few say one fetch path; each names its phase', () => {
    const s = samples(1_000, [
      [[10, 10, 10], [1, 1, 1]], // p0 stuck from the first sample …
      [[10, 20, 20], [2, 1, 1]],
      [[10, 30, 30], [3, 1, 1]],
      [[10, 40, 40], [4, 1, 1]], // … until here (3 s)
      [[50, 50, 50], [0, 0, 0]],
      [[60, 60, 60], [5, 6, 7]], // all three stuck from 5 s …
      [[60, 60, 60], [9, 9, 9]],
      [[60, 60, 60], [9, 12, 9]], // … p1 a sample longer, the others move
      [[70, 60, 70], [0, 13, 0]],
      [[80, 80, 80], [0, 0, 0]],
    ]);
    const phases = [{ name: 'steady', startOffsetMs: 0, endOffsetMs: 5_000 }, { name: 'rollback', startOffsetMs: 5_000, endOffsetMs: 10_000 }];
    const line = stallsLine(s, phases);
    assert.match(line, /: all 3 partitions for at least 2\.0 s–3\.0 s from 5\.0 s \(rollback\), up to 13 records behind; partition 0 for at least 3\.0 s from 0 ms \(steady\), up to 4 records behind\. /);
    assert.match(line, /Every partition standing still at once is the stage not consuming/);
    assert.match(line, /A few partitions standing still while the others move/);
    // Without the partial stall, only the first explanation.
    assert.doesNotMatch(stallsLine(s.slice(4), phases), /A few partitions/);
  });
});
