import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConsumerPerformance, parseEndToEndLatency, parseProducerPerformance } from '../../src/calibrate/calibrate.js';
import { bottleneck, type HealthSample } from '../../src/observe/health.js';
import { NetLedger, parseSs } from '../../src/observe/netflows.js';

describe('Kafka tool output parsing', () => {
  it('reads ProducerPerformance, ConsumerPerformance and EndToEndLatency summaries', () => {
    const p = parseProducerPerformance('123 records sent, 24.6 records/sec\n300000 records sent, 71234.5 records/sec (36.12 MB/sec), 210.3 ms avg latency, 912.0 ms max latency, 180 ms 50th, 520 ms 95th, 700 ms 99th, 880 ms 99.9th.\n');
    assert.deepEqual([p.recordsPerSec, p.mbPerSec, p.avgLatencyMs, p.p99LatencyMs], [71234.5, 36.12, 210.3, 700]);
    const c = parseConsumerPerformance('start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec\n2026-11-25 10:00:00:000, 2026-11-25 10:00:04:000, 152.1, 38.02, 300000, 75000.0, 3100, 900, 169.0, 333333.3\n');
    assert.deepEqual([c.recordsPerSec, c.mbPerSec, c.fetchRecordsPerSec, c.rebalanceMs], [75000, 38.02, 333333.3, 3100]);
    const l = parseEndToEndLatency('0\t1.2\nAvg latency: 1.3456 ms\nPercentiles: 50th = 1, 99th = 7, 99.9th = 14\n');
    assert.deepEqual([l.avgMs, l.p50Ms, l.p99Ms, l.p999Ms], [1.3456, 1, 7, 14]);
    assert.throws(() => parseProducerPerformance('Exception in thread main'), /unexpected ProducerPerformance output/);
  });
});

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
    assert.equal(bottleneck({ intended, acked: short, sent: short, health: health(0.3, 5), generationLagMs: series(10, () => 2_500), queueDepth: series(10, () => 200_000), produceP99Ms: 9_000 }).side, 'cluster');
    const cluster = bottleneck({ intended, acked: short, sent: intended, health: health(0.2, 15), generationLagMs: series(10, () => 4), queueDepth: series(10, () => 900), produceP99Ms: 4_000, ceilingRecordsPerSec: 800 });
    assert.equal(cluster.side, 'cluster');
    assert.match(cluster.verdict, /^cluster-bound: .*produce p99 4000 ms/);
    assert.match(cluster.evidence.join('\n'), /calibrated produce ceiling \(ProducerPerformance\): 800 records\/s/);
  });
});

describe('kernel TCP counters (pure)', () => {
  const ss = (rows: [number, number, number | null, number, number][]) => rows.map(([l, p, pid, s, r]) => `ESTAB 0 0 127.0.0.1:${l} 127.0.0.1:${p}${pid ? ` users:(("x",pid=${pid},fd=3))` : ''}\n\t cubic bytes_sent:${s} bytes_acked:${s} bytes_received:${r} segs_out:1`).join('\n');

  it('parses ss -tinpH', () => {
    assert.deepEqual(parseSs(ss([[5000, 9092, 42, 10, 20]])), [{ localPort: 5000, peerPort: 9092, pid: 42, bytesSent: 10, bytesReceived: 20 }]);
    // The JVM's sockets are IPv6-mapped.
    const java = 'ESTAB 0      0      [::ffff:127.0.0.1]:38908 [::ffff:127.0.0.1]:38515 users:(("java",pid=1332,fd=159))\n\t bbr bytes_sent:7 bytes_acked:7 bytes_received:9';
    assert.deepEqual(parseSs(java), [{ localPort: 38908, peerPort: 38515, pid: 1332, bytesSent: 7, bytesReceived: 9 }]);
  });

  it('attributes connecting-side bytes to replication and clients by zone, across samples and closed connections', async () => {
    const nodes = [{ id: 1, zone: 'a', port: 9001, pid: 101 }, { id: 2, zone: 'b', port: 9002, pid: 102 }];
    const readings = [
      // node 2 fetches from node 1; the producer (zone a) writes to node 2; the accepting sides are ignored.
      ss([[40000, 9001, 102, 100, 5_000], [9001, 40000, 101, 5_000, 100], [50000, 9002, 7, 8_000, 300]]),
      ss([[40000, 9001, 102, 150, 9_000], [50000, 9002, 7, 10_000, 400], [50001, 9001, 7, 50, 60]]),
      ss([[40000, 9001, 102, 160, 9_500]]),
    ];
    let i = 0;
    const ledger = new NetLedger({ nodes: () => nodes, labelOf: (port) => (port >= 50000 ? 'producer' : undefined), zoneOfLabel: (l) => (l === 'producer' ? 'a' : undefined), read: async () => readings[i++] });
    await ledger.sample();
    const first = ledger.snapshot();
    await ledger.sample();
    await ledger.sample();
    const all = ledger.summarize(undefined, ledger.snapshot());
    assert.deepEqual(all.total, { clientToBroker: 10_050, brokerToClient: 460, replication: 9_500, replicationRequests: 160, bytes: 20_170 });
    // Cross-zone: replication a→b and the producer's connection to node 2 (a→b); its connection to node 1 stays in zone a.
    assert.deepEqual(all.crossZone, { clientToBroker: 10_000, brokerToClient: 400, replication: 9_500, replicationRequests: 160, bytes: 20_060 });
    assert.deepEqual(all.byZonePair, { 'b→a': 560, 'a→b': 19_500 });
    assert.equal(all.connectionsClosed, 2);
    const later = ledger.summarize(first, ledger.snapshot());
    assert.equal(later.total.replication, 4_500);
  });
});

describe('records as on the wire (pure)', () => {
  it('sizes varints and v2 records as Kafka encodes them', async () => {
    const { varintBytes, recordBytes, produceRequestOverheadBytes } = await import('../../src/kafka/wire.js');
    assert.deepEqual([0, 1, 63, 64, 8191, 8192, -1, -64, -65].map(varintBytes), [1, 1, 1, 2, 2, 3, 1, 1, 2]);
    // body = attributes 1 + timestampDelta 1 + offsetDelta 1 + keyLen 1 + 4 + valueLen 2 + 100 + headerCount 1 = 111; + varint(111) 2
    assert.equal(recordBytes(4, 100), 113);
    // a null key is one byte (-1); one header "h" = "vv": 1 + 1 + 1 + 2
    assert.equal(recordBytes(-1, 10, { h: 'vv' }), 1 + (1 + 1 + 1 + 1 + 1 + 10 + 1 + 5));
    assert.equal(produceRequestOverheadBytes('client', 'topic'), 4 + 8 + 2 + 6 + 2 + 2 + 4 + 4 + 2 + 5 + 4 + 4 + 4);
    const { fetchedBytes } = await import('../../src/kafka/wire.js');
    const rec = (batch: string) => ({ key: Buffer.from('abcd'), value: Buffer.alloc(100), batchContext: { firstOffset: batch } });
    // Two record batches: two 61-byte headers and three 113-byte records.
    assert.equal(fetchedBytes([rec('0'), rec('0'), rec('2')]), 2 * 61 + 3 * 113);
  });
});
