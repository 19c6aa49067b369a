import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { murmur2, partitionForKey } from '../../src/kafka/murmur2.js';

const enc = new TextEncoder();

describe("Kafka's murmur2 partitioner", () => {
  it('gives the values of Kafka\'s own test vectors', () => {
    // From Apache Kafka's UtilsTest.testMurmur2.
    const cases: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, want] of cases) assert.equal(murmur2(enc.encode(key)), want, key);
  });

  it('picks the same partition as the kafkajs producer for 5 000 keys', () => {
    const kafkajsMurmur2 = createRequire(import.meta.url)('kafkajs/src/producer/partitioners/default/murmur2') as (k: string) => number;
    for (let i = 0; i < 5_000; i++) {
      const key = `a${i.toString(36)}k${(i * 7919).toString(36)}é`;
      assert.equal(partitionForKey(key, 12), (kafkajsMurmur2(key) & 0x7fffffff) % 12, key);
      // ASCII keys (the common case, hashed without an array per call) of every length 0..299, across the 256-byte fast path's edge.
      const ascii = `u-${(i * 104729).toString(36)}`.repeat(1 + (i % 80)).slice(0, i % 300);
      assert.equal(partitionForKey(ascii, 12), (kafkajsMurmur2(ascii) & 0x7fffffff) % 12, ascii);
      assert.equal(partitionForKey(ascii, 7), (kafkajsMurmur2(ascii) & 0x7fffffff) % 7, ascii);
    }
  });
});
