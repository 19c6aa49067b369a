import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bottleneck, type HealthSample } from '../../src/observe/health.js';

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
