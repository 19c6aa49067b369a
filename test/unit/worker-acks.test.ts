import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AckPacker, unpackAcks } from '../../src/workers/protocol.js';

describe('per-event acknowledgements from load workers (run --workers)', () => {
  it('pack and unpack: seq, raw partition (−1: no id), intended and ack offsets, exactly, across buffer growth', () => {
    const p = new AckPacker();
    const want: [number, number, number, number][] = [];
    for (let i = 0; i < 5_000; i++) want.push([i * 7 + 3, i % 13 === 0 ? -1 : i % 12, i * 1.25 + 0.5, i * 1.25 + 40.75]);
    want.push([2 ** 32 - 1, 32_767, 86_400_000.125, 86_400_123.5]);
    for (const w of want) p.add(...w);
    assert.equal(p.count, want.length);
    const got: [number, number, number, number][] = [];
    assert.equal(unpackAcks(p.take(), (...a) => got.push(a)), want.length);
    assert.deepEqual(got, want);
    assert.equal(p.count, 0, 'take empties the packer');
    assert.equal(unpackAcks(p.take(), () => assert.fail('nothing packed')), 0);
  });
});
