import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineBuffer, lineAlone } from '../../src/cli/line-buffer.js';

const text = (u: Uint8Array) => Buffer.from(u).toString('utf8');

describe('generate: lines into fixed-size buffers', () => {
  it('puts lines with their newline while UTF-8 bound (3 bytes per unit + 1) fits, and refuses the first that might not', () => {
    const lines = new LineBuffer(Buffer.alloc(16));
    assert.equal(lines.put('abc'), true); // 4 bytes, bound 10
    assert.equal(lines.used, 4);
    assert.equal(lines.put('de'), true); // bound 7: 4 + 7 = 11 ≤ 16
    assert.equal(lines.used, 7);
    assert.equal(lines.put('fgh'), false); // bound 10: 7 + 10 = 17 > 16, though its 4 bytes would fit
    assert.equal(lines.used, 7);
    assert.equal(text(lines.view()), 'abc\nde\n');
  });

  it('counts encoded bytes, not units, for what it holds (é is 2 bytes, € 3)', () => {
    const lines = new LineBuffer(Buffer.alloc(32));
    assert.equal(lines.put('é€'), true);
    assert.equal(lines.used, 6);
    assert.equal(text(lines.view()), 'é€\n');
  });

  it('a view starts at the buffer\'s own offset, and reset goes on empty in the next buffer', () => {
    const backing = Buffer.alloc(64);
    const lines = new LineBuffer(backing.subarray(8, 40));
    lines.put('xy');
    const v = lines.view();
    assert.equal(v.byteOffset, 8);
    assert.equal(text(v), 'xy\n');
    const next = Buffer.alloc(32);
    lines.reset(next);
    assert.equal(lines.used, 0);
    assert.equal(lines.buf, next);
    assert.equal(lines.view().length, 0);
  });

  it('a line longer than an empty buffer is refused there and goes alone, in memory of its own', () => {
    const lines = new LineBuffer(Buffer.alloc(8));
    assert.equal(lines.put('abc'), false); // bound 10 > 8
    const alone = lineAlone('abc');
    assert.equal(text(alone), 'abc\n');
    assert.equal(alone.byteOffset, 0);
    assert.equal(alone.buffer.byteLength, 4);
  });
});
