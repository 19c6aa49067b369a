import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

describe('records as on the wire (pure)', () => {
  it('sizes varints and v2 records as Kafka encodes them', async () => {
    const { varintBytes, recordBytes, produceRequestShares } = await import('../../src/kafka/wire.js');
    assert.deepEqual([0, 1, 63, 64, 8191, 8192, -1, -64, -65].map(varintBytes), [1, 1, 1, 2, 2, 3, 1, 1, 2]);
    // body = attributes 1 + timestampDelta 1 + offsetDelta 1 + keyLen 1 + 4 + valueLen 2 + 100 + headerCount 1 = 111; + varint(111) 2
    assert.equal(recordBytes(4, 100), 113);
    // a null key is one byte (-1); one header "h" = "vv": 1 + 1 + 1 + 2
    assert.equal(recordBytes(-1, 10, { h: 'vv' }), 1 + (1 + 1 + 1 + 1 + 1 + 10 + 1 + 5));
    // One partition: the whole request's framing.
    assert.deepEqual(produceRequestShares('client', null, ['topic']), [4 + 8 + 2 + 6 + 2 + 2 + 4 + 4 + 2 + 5 + 4 + 4 + 4]);
    // Three partitions of two topics in one request: request fields once (4 + 8 + 2 + 6 + 2 + 2 + 4 + 4 = 32 B),
    // each topic's name and partition count once (2 + 5 + 4 = 11, 2 + 2 + 4 = 8), 8 B per partition: 75 in all.
    const shares = produceRequestShares('client', null, ['topic', 'topic', 'tb']);
    assert.deepEqual(shares.map((x) => Math.round(x * 1000) / 1000), [24.167, 24.167, 26.667]);
    assert.equal(Math.round(shares.reduce((a, b) => a + b, 0) * 1e9) / 1e9, 75);
    // A transactional id is request framing too.
    assert.equal(produceRequestShares('client', 'txn', ['topic'])[0], 4 + 8 + 2 + 6 + 2 + 3 + 2 + 4 + 4 + 2 + 5 + 4 + 4 + 4);
    const { fetchedBytes } = await import('../../src/kafka/wire.js');
    const rec = (batch: string) => ({ key: Buffer.from('abcd'), value: Buffer.alloc(100), batchContext: { firstOffset: batch } });
    // Two record batches: two 61-byte headers and three 113-byte records.
    assert.equal(fetchedBytes([rec('0'), rec('0'), rec('2')]), 2 * 61 + 3 * 113);
  });
});
