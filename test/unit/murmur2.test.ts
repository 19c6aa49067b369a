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
    }
  });
});
