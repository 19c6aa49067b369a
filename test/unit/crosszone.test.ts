import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crossZoneBytes, layoutDiffers, sumCrossZone, TRANSACTION_REPLICATION_BYTES, unmatchedClientZones } from '../../src/observe/crosszone.js';
import { rackAwareFetchSeen } from '../../src/run/observe.js';
import { notMeasured } from '../../src/run/results.js';

describe('cross-zone model (hand computation)', () => {
  it('a phase whose layout changed is the mean of the model on both layouts; phases sum into the run', () => {
    const brokerZone = new Map([[1, 'a'], [2, 'b']]);
    const before = [{ topic: 't', partition: 0, leader: 1, replicas: [1, 2], isr: [1, 2] }];
    const after = [{ topic: 't', partition: 0, leader: 2, replicas: [1, 2], isr: [2] }];
    assert.equal(layoutDiffers(before, before.map((p) => ({ ...p, replicas: [2, 1] }))), false, 'replica order is not a change');
    assert.equal(layoutDiffers(before, after), true);
    const flows = [{ client: 'producer', zone: 'a', kind: 'produce' as const, topic: 't', bytesByPartition: new Map([[0, 1000]]) }];
    const m = (placements: typeof before) => crossZoneBytes({ profile: 'apache-kafka', placements, brokerZone, flows, pricePerGb: 0.02 });
    // Leader in a: produce stays in a, replication a→b 1 000. Leader in b: produce a→b 1 000, replication b→a 1 000.
    const mean = sumCrossZone([m(before), m(after)], 0.5);
    assert.deepEqual([mean.produce.crossZoneBytes, mean.replication.crossZoneBytes, mean.crossZoneBytes, mean.totalBytes], [500, 1000, 1500, 2000]);
    assert.deepEqual(mean.byZonePair, { 'a→b': 1000, 'b→a': 500 });
    const run = sumCrossZone([m(before), m(after)]);
    assert.equal(run.crossZoneBytes, 3000);
    assert.equal(run.costUsd, 3000 / 1e9 * 0.02);
  });

  it('exactly-once transactions add their measured replication overhead, spread over the output topic\'s followers; none on shared storage', () => {
    // Output topic o: p0 leader 1 (a) → followers 2 (b), 3 (a: same zone); p1 leader 2 (b) → follower 3 (a). 1.5 followers per partition.
    const brokerZone = new Map([[1, 'a'], [2, 'b'], [3, 'a']]);
    const placements = [
      { topic: 'o', partition: 0, leader: 1, replicas: [1, 2, 3], isr: [1, 2, 3] },
      { topic: 'o', partition: 1, leader: 2, replicas: [2, 3], isr: [2, 3] },
    ];
    const { perTransaction, perPartition } = TRANSACTION_REPLICATION_BYTES;
    assert.deepEqual([perTransaction, perPartition], [1_730, 365]);
    const m = (profile: 'apache-kafka' | 'automq', transactions?: { count: number; partitions: number; topic: string }) => crossZoneBytes({ profile, placements, brokerZone, flows: [], pricePerGb: 0.02, transactions });
    // 10 transactions touching 25 partitions: per follower 10 × 1 730 + 25 × 365 = 26 425 B; × 1.5 followers = 39 637.5 over 3 links, 13 212.5 each.
    const t = m('apache-kafka', { count: 10, partitions: 25, topic: 'o' });
    assert.equal(t.replication.bytes, 39_637.5);
    // a→b and b→a cross; a→a does not.
    assert.equal(t.replication.crossZoneBytes, 26_425);
    assert.deepEqual(t.byZonePair, { 'a→b': 13_212.5, 'b→a': 13_212.5 });
    assert.equal(m('apache-kafka').replication.bytes, 0, 'no transactions, no overhead');
    assert.equal(m('apache-kafka', { count: 10, partitions: 25, topic: 'elsewhere' }).replication.bytes, 0, 'an output topic the layout does not have: nothing to spread over');
    assert.equal(m('automq', { count: 10, partitions: 25, topic: 'o' }).replication.bytes, 0);
  });

  it('a produce flow that counted its batches replicates what followers fetch (batches and fetch framing), not its produce requests', () => {
    const brokerZone = new Map([[1, 'a'], [2, 'b'], [3, 'c']]);
    const placements = [{ topic: 't', partition: 0, leader: 1, replicas: [1, 2, 3], isr: [1, 2, 3] }];
    // 1 000 B on the wire to the leader (requests' framing included); followers fetch 950 B each.
    const flow = { client: 'producer', zone: 'b', kind: 'produce' as const, topic: 't', bytesByPartition: new Map([[0, 1000]]) };
    const m = (f: typeof flow & { replicaBytesByPartition?: Map<number, number> }) => crossZoneBytes({ profile: 'apache-kafka', placements, brokerZone, flows: [f], pricePerGb: 0.02 });
    const withBatches = m({ ...flow, replicaBytesByPartition: new Map([[0, 950]]) });
    assert.deepEqual([withBatches.produce.crossZoneBytes, withBatches.replication.bytes, withBatches.replication.crossZoneBytes], [1000, 1900, 1900]);
    // Without batch counts, followers are taken to fetch the produced bytes.
    assert.equal(m(flow).replication.bytes, 2000);
  });

  it('client zones that name no broker rack are found (cloud racks named use1-az1 and clients named a, b, c)', () => {
    assert.deepEqual(unmatchedClientZones({ producer: 'a', enrichment: 'use1-az2', probe: 'c' }, ['use1-az1', 'use1-az2', 'use1-az3']), ['producer a', 'probe c']);
    assert.deepEqual(unmatchedClientZones({ producer: 'a', enrichment: 'b', probe: 'c' }, ['a', 'b', 'c']), []);
    assert.deepEqual(unmatchedClientZones({ producer: 'unknown' }, [null, null]), [], 'no racks reported: nothing to compare against');
  });

  it('counts produce, replication and rack-aware consume bytes that cross zones', () => {
    // Brokers 1,2,3 in zones a,b,c. p0: leader 1, replicas 1,2,3. p1: leader 2, replicas 2,3 (no replica in a).
    const brokerZone = new Map([[1, 'a'], [2, 'b'], [3, 'c']]);
    const placements = [
      { topic: 't', partition: 0, leader: 1, replicas: [1, 2, 3], isr: [1, 2, 3] },
      { topic: 't', partition: 1, leader: 2, replicas: [2, 3], isr: [2, 3] },
    ];
    const flows = [
      { client: 'producer', zone: 'a', kind: 'produce' as const, topic: 't', bytesByPartition: new Map([[0, 1000], [1, 400]]) },
      { client: 'consumer', zone: 'a', kind: 'consume' as const, topic: 't', bytesByPartition: new Map([[0, 1000], [1, 400]]) },
    ];
    const r = crossZoneBytes({ profile: 'apache-kafka', placements, brokerZone, flows, pricePerGb: 0.02, rackAwareFetch: true });
    // produce: p0 a→a stays, p1 a→b crosses 400. replication: p0 a→b, a→c = 2000; p1 b→c = 400.
    // consume: p0 from the zone-a replica (0); p1 has no replica in a: from leader b → 400.
    assert.deepEqual([r.produce.crossZoneBytes, r.replication.crossZoneBytes, r.consume.crossZoneBytes], [400, 2400, 400]);
    assert.equal(r.crossZoneBytes, 3200);
    assert.deepEqual(r.byZonePair, { 'a→b': 1400, 'a→c': 1000, 'b→c': 400, 'b→a': 400 });
    assert.equal(r.costUsd, (3200 / 1e9) * 0.02);
    const automq = crossZoneBytes({ profile: 'automq', placements, brokerZone, flows, pricePerGb: 0.02 });
    assert.equal(automq.crossZoneBytes, 0, 'shared storage, zone-aligned routing: nothing crosses');
  });

  it('without rack-aware fetching (the probe did not see it work) consumers are served by the leader', () => {
    const brokerZone = new Map([[1, 'a'], [2, 'b'], [3, 'c']]);
    const placements = [{ topic: 't', partition: 0, leader: 2, replicas: [1, 2, 3], isr: [1, 2, 3] }];
    const flows = [{ client: 'consumer', zone: 'a', kind: 'consume' as const, topic: 't', bytesByPartition: new Map([[0, 1000]]) }];
    assert.equal(crossZoneBytes({ profile: 'apache-kafka', placements, brokerZone, flows, pricePerGb: 0.02, rackAwareFetch: true }).consume.crossZoneBytes, 0);
    assert.equal(crossZoneBytes({ profile: 'apache-kafka', placements, brokerZone, flows, pricePerGb: 0.02, rackAwareFetch: false }).consume.crossZoneBytes, 1000);
    assert.equal(crossZoneBytes({ profile: 'apache-kafka', placements, brokerZone, flows, pricePerGb: 0.02 }).consume.crossZoneBytes, 1000, 'not assumed by default');
    assert.equal(rackAwareFetchSeen(undefined), false);
    assert.equal(rackAwareFetchSeen(notMeasured('the probe failed')), false);
    const probe = (status: string) => ({ measured: true, capabilities: [{ id: 'rack-aware-fetch', status }] }) as unknown as Parameters<typeof rackAwareFetchSeen>[0];
    assert.equal(rackAwareFetchSeen(probe('yes')), true);
    assert.equal(rackAwareFetchSeen(probe('no')), false);
    assert.equal(rackAwareFetchSeen(probe('not checked')), false);
  });
});
