import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NetLedger, parseSs } from '../../src/observe/netflows.js';

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
