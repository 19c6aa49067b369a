import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConsumerPerformance, parseEndToEndLatency, parseProducerPerformance } from '../../src/calibrate/calibrate.js';
import { parseOpenLoop } from '../../bench/kafka-bench.js';
import { cpuCeiling, roundRatios } from '../../bench/enrich-bench.js';

describe('Kafka tool output parsing', () => {
  it('reads ProducerPerformance, ConsumerPerformance and EndToEndLatency summaries', () => {
    const p = parseProducerPerformance('123 records sent, 24.6 records/sec\n300000 records sent, 71234.5 records/sec (36.12 MB/sec), 210.3 ms avg latency, 912.0 ms max latency, 180 ms 50th, 520 ms 95th, 700 ms 99th, 880 ms 99.9th.\n');
    assert.deepEqual([p.recordsPerSec, p.mbPerSec, p.avgLatencyMs, p.p99LatencyMs], [71234.5, 36.12, 210.3, 700]);
    const c = parseConsumerPerformance('start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec\n2026-11-25 10:00:00:000, 2026-11-25 10:00:04:000, 152.1, 38.02, 300000, 75000.0, 3100, 900, 169.0, 333333.3\n');
    assert.deepEqual([c.recordsPerSec, c.mbPerSec, c.fetchRecordsPerSec, c.rebalanceMs], [75000, 38.02, 333333.3, 3100]);
    const l = parseEndToEndLatency('0\t1.2\nAvg latency: 1.3456 ms\nPercentiles: 50th = 1, 99th = 7, 99.9th = 14\n');
    assert.deepEqual([l.avgMs, l.p50Ms, l.p99Ms, l.p999Ms], [1.3456, 1, 7, 14]);
    assert.throws(() => parseProducerPerformance('Exception in thread main'), /unexpected ProducerPerformance output/);
    // With --warmup-records (the headroom probe's steps), the steady-state summary printed last is the one read.
    const w = parseProducerPerformance('2500 records sent, 480.1 records/sec (0.23 MB/sec), 900.00 ms avg latency, 2100.00 ms max latency, 700 ms 50th, 1900 ms 95th, 2000 ms 99th, 2100 ms 99.9th.\n2000 steady state records sent, 512.4 records/sec (0.25 MB/sec), 80.10 ms avg latency, 400.00 ms max latency, 60 ms 50th, 200 ms 95th, 300 ms 99th, 400 ms 99.9th.\n');
    assert.deepEqual([w.recordsPerSec, w.avgLatencyMs, w.p99LatencyMs], [512.4, 80.1, 300]);
  });

  it('reads the bench\'s Java open-loop reference (its last JSON line) and refuses a run whose reader missed records', () => {
    const r = parseOpenLoop('SLF4J: No providers\n{"records":2000,"seen":2000,"failed":0,"p50Ms":6.3,"p99Ms":29.5,"maxMs":57.1,"ackP50Ms":6.1,"ackP99Ms":26.7}\n');
    assert.deepEqual([r.records, r.p50Ms, r.p99Ms, r.ackP99Ms], [2000, 6.3, 29.5, 26.7]);
    assert.throws(() => parseOpenLoop('{"records":2000,"seen":1990,"failed":0,"p50Ms":6.3,"p99Ms":29.5,"maxMs":57.1,"ackP50Ms":6.1,"ackP99Ms":26.7}'), /saw 1990 of 2000/);
    assert.throws(() => parseOpenLoop('Exception in thread "main" org.apache.kafka.common.errors.TimeoutException'), /unexpected OpenLoopLatency output/);
  });
});

describe('enrichment bench arithmetic', () => {
  it('pairs each round\'s modes (rate ratio = passthrough time / mode time) and takes the median of the pairs', () => {
    // Times in ms: the passthrough 4 000, 3 000, 5 000; exactly-once 10 000, 6 000, 8 000 → 0.4, 0.5, 0.625.
    assert.deepEqual(roundRatios([4_000, 3_000, 5_000], [10_000, 6_000, 8_000]), { ratios: [0.4, 0.5, 0.625], median: 0.5 });
    // Even count: the mean of the middle two; a mode with fewer rounds pairs only those.
    assert.equal(roundRatios([1_000, 2_000, 3_000, 4_000], [4_000, 4_000, 4_000, 4_000]).median, 0.625);
    assert.deepEqual(roundRatios([1_000, 2_000], [4_000]).ratios, [0.25]);
    assert.ok(Number.isNaN(roundRatios([], []).median));
  });

  it('bounds a mode by CPU per event: the passthrough\'s over the mode\'s, brokers and client together', () => {
    assert.equal(cpuCeiling({ brokerUs: 18, clientUs: 6 }, { brokerUs: 22, clientUs: 26 }), 0.5);
    assert.equal(cpuCeiling({ brokerUs: 17.5, clientUs: 6.5 }, { brokerUs: 30, clientUs: 30 }), 0.4);
  });
});
