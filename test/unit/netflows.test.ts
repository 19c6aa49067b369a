import assert from 'node:assert/strict';
import { createConnection, createServer } from 'node:net';
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

  it('two connections on one local port to different brokers keep their own clients', async () => {
    // Linux gives one ephemeral port to connections with different destinations: the producer's to node 1
    // (its zone) and the enrichment stage's to node 2 both on local port 50000.
    const nodes = [{ id: 1, zone: 'a', port: 9001, pid: 101 }, { id: 2, zone: 'b', port: 9002, pid: 102 }];
    const labels = new Map([['50000>9001', 'producer'], ['50000>9002', 'enrichment']]);
    const ledger = new NetLedger({
      nodes: () => nodes, labelOf: (local, peer) => labels.get(`${local}>${peer}`), zoneOfLabel: (l) => (l === 'producer' ? 'a' : 'b'),
      read: async () => ss([[50000, 9001, 7, 8_000, 300], [50000, 9002, 7, 2_000, 100]]),
    });
    await ledger.sample();
    const all = ledger.summarize(undefined, ledger.snapshot());
    assert.equal(all.byClient.producer.sentBytes, 8_000);
    assert.equal(all.byClient.producer.crossZoneBytes, 0, 'the producer and node 1 are both in zone a');
    assert.equal(all.byClient.enrichment.sentBytes, 2_000);
    assert.equal(all.byClient.enrichment.crossZoneBytes, 0, 'the stage and node 2 are both in zone b');
  });

  it('a reading that prints a known connection without its owner keeps its bytes in that connection\'s flow', async () => {
    const nodes = [{ id: 1, zone: 'a', port: 9001, pid: 101 }, { id: 2, zone: 'b', port: 9002, pid: 102 }];
    const readings = [
      ss([[40000, 9001, 102, 10, 1_000]]),
      ss([[40000, 9001, null, 20, 4_000], [41000, 9001, null, 5, 70]]), // owner missing; a new connection without owner stays 'other'
      ss([[40000, 9001, 102, 30, 6_000]]),
    ];
    let i = 0;
    const ledger = new NetLedger({ nodes: () => nodes, labelOf: () => undefined, zoneOfLabel: () => undefined, read: async () => readings[i++] });
    for (let k = 0; k < 3; k++) await ledger.sample();
    const snap = ledger.snapshot();
    assert.deepEqual(NetLedger.replicationInto(new Map(), snap as never, [2]), { total: 6_000, byLeader: { '2←1': 6_000 }, unattributed: 70, unattributedByLeader: { '?←1': 70 } });
    assert.equal(ledger.summarize(undefined, snap).total.brokerToClient, 70);
    assert.deepEqual(ledger.health(), { samples: 3, closedCounted: 0, connectionsClosed: 1, ownerFilled: 1, ownerAwaited: 1, destroyEvents: 'off' });
  });

  it('a new connection printed without its owner waits for a reading that names it, then counts from zero', async () => {
    const nodes = [{ id: 1, zone: 'a', port: 9001, pid: 101 }, { id: 4, zone: 'b', port: 9004, pid: 104 }];
    const readings = [
      ss([[40000, 9001, null, 10, 3_000]]), // a new follower's fetcher, its owner not printed yet
      ss([[40000, 9001, null, 20, 8_000]]),
      ss([[40000, 9001, 104, 30, 9_000], [42000, 9001, null, 1, 10]]), // named: all 9 000 B are node 4's from node 1
      ss([[40000, 9001, 104, 40, 9_500], [42000, 9001, null, 2, 20]]),
      ss([[40000, 9001, 104, 40, 9_500], [42000, 9001, null, 3, 30]]),
      ss([[40000, 9001, 104, 40, 9_500], [42000, 9001, null, 4, 40]]), // never named after 3 readings: 'other'
      ss([[40000, 9001, 104, 40, 9_500], [42000, 9001, null, 5, 50]]),
    ];
    let i = 0;
    const ledger = new NetLedger({ nodes: () => nodes, labelOf: () => undefined, zoneOfLabel: () => undefined, read: async () => readings[i++] });
    for (let k = 0; k < readings.length; k++) await ledger.sample();
    const snap = ledger.snapshot();
    assert.deepEqual(NetLedger.replicationInto(new Map(), snap as never, [4]), { total: 9_500, byLeader: { '4←1': 9_500 }, unattributed: 50, unattributedByLeader: { '?←1': 50 } });
    assert.deepEqual([ledger.summarize(undefined, snap).total.clientToBroker, ledger.summarize(undefined, snap).total.brokerToClient], [5, 50]);
    assert.equal(ledger.health().ownerAwaited, 5);
  });

  it('a connection that closes between readings is counted to its last byte from its destroy event, and never twice', async () => {
    const nodes = [{ id: 1, zone: 'a', port: 9001, pid: 101 }, { id: 2, zone: 'b', port: 9002, pid: 102 }];
    const readings = [
      ss([[40000, 9001, 102, 10, 1_000], [50000, 9002, 7, 100, 10], [40001, 9001, 102, 10, 500]]),
      // Taken before the fetcher closed, read after its destroy event: must not count it again.
      ss([[40000, 9001, 102, 20, 3_000], [50000, 9002, 7, 200, 20]]),
      ss([[50000, 9002, 7, 300, 30]]),
    ];
    let i = 0;
    const ledger = new NetLedger({ nodes: () => nodes, labelOf: (port) => (port >= 50000 ? 'producer' : undefined), zoneOfLabel: () => 'a', read: async () => readings[i++] });
    let push!: (line: string | null) => void;
    const queue: (string | null)[] = [];
    let wake: (() => void) | undefined;
    push = (line) => {
      queue.push(line);
      wake?.();
    };
    const lines = (async function* () {
      for (;;) {
        while (!queue.length) await new Promise<void>((r) => (wake = r));
        const l = queue.shift()!;
        if (l === null) return;
        yield l;
      }
    })();
    await ledger.listen(lines);
    await ledger.sample();
    const destroy = (l: number, p: number, sent: number, recv: number) => ss([[l, p, null, sent, recv]]).split('\n').forEach((x) => push(x));
    destroy(40000, 9001, 25, 4_000); // the fetcher's final counters: 3 000 B since the first reading
    destroy(9001, 40000, 4_000, 25); // the accepting side: ignored
    destroy(41000, 9002, 5, 700); // a client connection opened and closed between readings: counted whole
    await new Promise((r) => setTimeout(r, 10));
    await ledger.sample(); // finds 40001 gone before its event arrived
    destroy(40001, 9001, 12, 800); // counted from the first reading on: 500 + 300 B
    await new Promise((r) => setTimeout(r, 10));
    await ledger.sample();
    const snap = ledger.snapshot();
    // The client connection no reading saw (41000 → node 2) has no owner: its 700 B are unattributed, not replication.
    assert.deepEqual(NetLedger.replicationInto(new Map(), snap as never, [2]), { total: 4_800, byLeader: { '2←1': 4_800 }, unattributed: 700, unattributedByLeader: { '?←2': 700 } });
    const sum = ledger.summarize(undefined, snap);
    assert.deepEqual([sum.total.clientToBroker, sum.total.brokerToClient], [305, 730]);
    assert.deepEqual(ledger.health(), { samples: 3, closedCounted: 3, connectionsClosed: 0, ownerFilled: 0, ownerAwaited: 0, destroyEvents: 'listening' });
    assert.match(sum.method, /during replica moves and while a stage or probe stops also the final counters of connections closing between readings/);
    push(null);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(ledger.health().destroyEvents, 'failed', 'a stream that ends by itself is reported, not taken for listening');
    // Switched on for a move and off after it: the stopped stream's end does not mark the next one failed.
    let release!: () => void;
    const held = (async function* () {
      await new Promise<void>((r) => (release = r));
    })();
    await ledger.listen(held);
    ledger.stop();
    await ledger.listen((async function* () { await new Promise(() => {}); })());
    release();
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(ledger.health().destroyEvents, 'listening', 'the first stream ending after stop() leaves the second listening');
    ledger.stop();
    assert.equal(ledger.health().destroyEvents, 'off');
  });

  it('the kernel\'s destroy events come as each connection closes (ss -E into a pipe), so a lone closing connection is counted before the listener stops', async () => {
    const server = createServer((c) => {
      c.on('data', () => undefined);
      c.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const ledger = new NetLedger({ nodes: () => [{ id: 1, zone: 'a', port, pid: -1 }], labelOf: () => 'client', zoneOfLabel: () => 'b' });
    try {
      await ledger.listen();
      const c = createConnection(port, '127.0.0.1');
      await new Promise((r) => c.once('connect', r));
      await new Promise((r) => c.write(Buffer.alloc(123_456), r));
      await new Promise((r) => setTimeout(r, 100));
      c.destroy();
      const until = Date.now() + 2_000;
      while (ledger.health().closedCounted === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      assert.equal(ledger.health().closedCounted, 1, 'the closing connection\'s event arrived within 2 s');
      assert.equal(ledger.summarize(undefined, ledger.snapshot()).byClient.client.sentBytes, 123_456);
    } finally {
      ledger.stop();
      server.close();
    }
  });
});
