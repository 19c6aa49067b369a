import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteArena } from '../../src/enrich/arena.js';

describe('ByteArena', () => {
  it('gives each string its UTF-8 bytes, in views that never overlap, across chunks', () => {
    const arena = new ByteArena(8192);
    const strings = ['{"a":1}', 'é€😀 ascii', 'x'.repeat(2000), '', 'y'.repeat(9000), 'z'.repeat(10)];
    const views = strings.map((s) => arena.bytes(s));
    views.forEach((v, i) => assert.equal(v.toString('utf8'), strings[i]));
    assert.deepEqual(views.map((v) => v.length), strings.map((s) => Buffer.byteLength(s)));
    // A later write never lands in an earlier view.
    for (let i = 0; i < views.length; i++) for (let j = i + 1; j < views.length; j++) {
      if (views[i].buffer !== views[j].buffer || views[i].length === 0 || views[j].length === 0) continue;
      const [a, b] = [views[i].byteOffset, views[j].byteOffset];
      assert.ok(a + views[i].length <= b || b + views[j].length <= a, `views ${i} and ${j} overlap`);
    }
    // A string that could take more than a chunk (8 192 here) gets a chunk of its size, and the next writes fill
    // its rest: the 10 bytes after it land right behind its 9 000. (Not checked through the chunk's
    // ArrayBuffer: Node takes small allocations from a shared pool, 8 KiB on Node 20 and 64 KiB on Node 24.)
    assert.equal(views[5].buffer, views[4].buffer);
    assert.equal(views[5].byteOffset, views[4].byteOffset + 9000);
  });
});
