import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bottleneck, stageBottleneck, type HealthSample } from '../../src/observe/health.js';

describe('bottleneck verdict (pure)', () => {
  const series = (n: number, f: (s: number) => number) => Array.from({ length: n }, (_, s) => f(s));
  const health = (cpu: number, loop: number): HealthSample[] => series(10, (s) => s).map((s) => ({ second: s, cpuShare: cpu, eventLoopP99Ms: loop, queueDepth: 0 }));
  const intended = series(10, () => 1_000);
  const short = series(10, (s) => (s >= 4 && s < 8 ? 600 : 1_000));

  it('kept up: no verdict beyond that', () => {
    assert.equal(bottleneck({ intended, acked: intended, sent: intended, health: health(0.3, 20), produceP99Ms: 50 }).side, 'none');
    // Isolated short seconds are noise, not a bottleneck.
    const isolated = bottleneck({ intended, acked: series(10, (s) => (s % 2 === 1 ? 500 : 1_000)), sent: intended, health: health(0.3, 20), produceP99Ms: 50 });
    assert.equal(isolated.side, 'none');
    assert.equal(isolated.verdict, 'kept up with the schedule (5 isolated second(s) short)');
  });

  it('short seconds with a saturated client are client-bound, with an idle client cluster-bound', () => {
    const client = bottleneck({ intended, acked: short, sent: short, health: health(0.97, 350), produceP99Ms: 40 });
    assert.equal(client.side, 'client');
    assert.deepEqual(client.shortSeconds, [4, 5, 6, 7]);
    assert.match(client.verdict, /^client-bound: .*CPU 97 % of a core, event loop up to 350 ms/);
    // A blocked event loop samples its own health badly; the driver's clock still shows events generated late.
    const late = bottleneck({ intended, acked: short, sent: short, health: health(0.6, 0), generationLagMs: series(10, (s) => (s >= 4 ? 2_500 : 3)), queueDepth: series(10, () => 40), produceP99Ms: 40 });
    assert.equal(late.side, 'client');
    assert.match(late.verdict, /generated a median 2500 ms late/);
    // Late because the queue was full (the cluster held it up) is not the client's fault.
    assert.equal(bottleneck({ intended, acked: short, sent: short, health: health(0.3, 5), generationLagMs: series(10, () => 2_500), queueDepth: series(10, () => 60_000), queueFull: series(10, (s) => (s >= 4 ? 1 : 0)), produceP99Ms: 9_000 }).side, 'cluster');
    const cluster = bottleneck({ intended, acked: short, sent: intended, health: health(0.2, 15), generationLagMs: series(10, () => 4), queueDepth: series(10, () => 900), produceP99Ms: 4_000, ceilingRecordsPerSec: 800 });
    assert.equal(cluster.side, 'cluster');
    assert.match(cluster.verdict, /^cluster-bound: .*produce p99 4000 ms/);
    assert.match(cluster.evidence.join('\n'), /calibrated produce ceiling \(ProducerPerformance\): 800 records\/s/);
  });
});

describe('enrichment stage verdict (pure)', () => {
  const health = (busy: (s: number) => number | undefined, seconds = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]): HealthSample[] => seconds.map((s) => ({ second: s, cpuShare: 0.5, eventLoopP99Ms: 10, loopBusy: busy(s), queueDepth: 0 }));
  const at = (pairs: [number, number][]) => pairs.map(([offsetMs, lag]) => ({ offsetMs, lag }));
  // Rising from 3.9 s to 7.4 s (four rises past 1 000 records over 3.5 s), then falling; a second rise at 9.6–10.5 s lasts under 3 s.
  const lag = at([[0, 0], [1_000, 200], [2_100, 150], [3_000, 900], [3_900, 800], [4_800, 3_000], [6_100, 6_000], [6_900, 9_000], [7_400, 9_500], [8_000, 4_000], [9_600, 500], [10_500, 1_600], [11_000, 1_000]]);

  it('a lag that never grows 3 s or more past 1 000 records is no verdict', () => {
    // 0.4 → 2.9 s: 2.5 s of rises; 5 → 7.5 s rises under 1 000 first (a stretch from 6 s: 1.5 s).
    const v = stageBottleneck({ lag: at([[0, 0], [400, 1_200], [1_700, 1_500], [2_900, 2_500], [5_000, 100], [6_000, 900], [7_000, 1_300], [7_500, 1_900], [8_000, 0]]), health: health(() => 0.99) });
    assert.equal(v.side, 'none');
    assert.deepEqual(v.growing, []);
    assert.equal(v.verdict, 'the enrichment kept up: its lag never grew for 3 s or more past 1,000 records');
  });

  it("a growing lag with clickbench's loop busy is clickbench-bound; with it idle, waiting on the cluster", () => {
    // The samples taken at seconds 4–7 fall in the stretch (3.9–7.4 s); the others do not count.
    const phases = [{ name: 'steady', startOffsetMs: 0, endOffsetMs: 5_000 }, { name: 'burst', startOffsetMs: 5_000, endOffsetMs: 7_400 }, { name: 'rollback', startOffsetMs: 7_400, endOffsetMs: 12_000 }];
    const busy = stageBottleneck({ lag, health: health((s) => (s >= 4 && s <= 7 ? [0.95, 0.91, 0.97, 0.6][s - 4] : 0.2)), phases });
    assert.equal(busy.side, 'clickbench');
    assert.deepEqual(busy.growing, [{ fromMs: 3_900, toMs: 7_400, peakRecords: 9_500 }]);
    // Median of 0.6, 0.91, 0.95, 0.97: the lower middle, 0.91 (≥ 0.9).
    assert.match(busy.verdict, /^clickbench-bound: .* busy a median 0\.91 of the time/);
    assert.deepEqual(busy.evidence, [
      'the enrichment lag grew from 3.9 s to 7.4 s (to 9,500 records, in steady and burst)',
      "clickbench's event loop (load generator, enrichment stage and probe) then: busy a median 0.91 of the time (highest 0.97; 4 sample(s)), CPU a median 50 % of a core",
    ]);
    const idle = stageBottleneck({ lag, health: health((s) => (s >= 4 && s <= 7 ? [0.95, 0.89, 0.97, 0.6][s - 4] : 1)) });
    assert.equal(idle.side, 'cluster');
    assert.match(idle.verdict, /^waiting on the cluster: .* busy a median 0\.89 of the time/);
    // With load workers the load generator is not on this thread, and the verdict does not say it is.
    const workers = stageBottleneck({ lag, health: health(() => 0.95), loadInProcess: false });
    assert.match(workers.verdict, /\(the stage shares it with the probe\)/);
    assert.match(workers.evidence[1], /^clickbench's event loop \(enrichment stage and probe\) then/);
    // A saturated loop samples late: one sample in the stretch is enough to judge it.
    assert.equal(stageBottleneck({ lag, health: health(() => 1, [1, 6, 12]) }).side, 'clickbench');
  });

  it('a stretch without a loop sample in it is not judged', () => {
    const v = stageBottleneck({ lag, health: health(() => 0.99, [1, 2, 3, 8, 9]) });
    assert.equal(v.side, 'none');
    assert.equal(v.growing.length, 1);
    assert.match(v.verdict, /^not judged/);
  });
});
