import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteArena } from '../../src/enrich/arena.js';
import type { PackedRecords } from '../../src/kafka/packed.js';
import { fieldMax } from '../../src/kafka/record-encoder.js';

describe('ByteArena', () => {
  it('writes each record\'s body whole into one chunk, bodies never overlapping, across chunks', () => {
    const arena = new ByteArena(8192);
    const values = ['{"a":1}', 'é€😀 ascii', 'x'.repeat(2000), '', 'y'.repeat(9000), 'z'.repeat(10)];
    const runs: PackedRecords[] = [];
    values.forEach((v, i) => arena.record(`k${i}`, v, { h: String(i) }, runs, 0));
    assert.equal(runs.length, 1);
    const bodies = values.map((_, i) => runs[0].body(i));
    // Each body: the key, the value and the headers as a record writes them.
    bodies.forEach((b, i) => {
      const key = Buffer.from(`k${i}`);
      const value = Buffer.from(values[i]);
      const header = Buffer.concat([Buffer.from([2, 2]), Buffer.from('h'), Buffer.from([2 * String(i).length]), Buffer.from(String(i))]);
      const field = (x: Buffer) => Buffer.concat([Buffer.from(zigzag(x.length)), x]);
      assert.deepEqual(b, Buffer.concat([field(key), field(value), header]), `record ${i}`);
    });
    for (let i = 0; i < bodies.length; i++) for (let j = i + 1; j < bodies.length; j++) {
      if (bodies[i].buffer !== bodies[j].buffer) continue;
      const [a, b] = [bodies[i].byteOffset, bodies[j].byteOffset];
      assert.ok(a + bodies[i].length <= b || b + bodies[j].length <= a, `bodies ${i} and ${j} overlap`);
    }
    // A body that could take more than a chunk (8 192 here) gets a chunk of its most, and the next ones fill its
    // rest: the record after it lands right behind it. (Not checked through the chunk's ArrayBuffer: Node takes
    // small allocations from a shared pool, 8 KiB on Node 20 and 64 KiB on Node 24.)
    assert.ok(fieldMax('y'.repeat(9000)) > 8192);
    assert.equal(bodies[5].buffer, bodies[4].buffer);
    assert.equal(bodies[5].byteOffset, bodies[4].byteOffset + bodies[4].length);
  });
});

/** A zig-zag varint's bytes. */
function zigzag(n: number): number[] {
  let u = n * 2;
  const out: number[] = [];
  while (u >= 128) {
    out.push((u % 128) | 128);
    u = Math.floor(u / 128);
  }
  out.push(u);
  return out;
}
