import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import type { Message } from 'kafkajs';
import '../../src/kafka/client.js';
import { PackedRecords } from '../../src/kafka/packed.js';
import { ByteArena } from '../../src/enrich/arena.js';
import { cutRequests, mergeRequests } from '../../src/enrich/requests.js';
import { OutputRoute } from '../../src/enrich/output.js';
import { encodeCompressedProduceRequest, encodeProduceRequest, type ProduceArgs, type ProduceMessage, type ProduceRequest } from '../../src/kafka/produce-encoder.js';
import { CODEC_TYPE } from '../../src/kafka/compression.js';

/** Records of every shape the stage writes: ASCII and multi-byte values, keys, none, headers of 0–7 entries. */
function records(n: number, from = 0): { key: string | null; value: string; headers: Record<string, string> }[] {
  return Array.from({ length: n }, (_, j) => {
    const i = from + j;
    const headers: Record<string, string> = {};
    for (let h = 0; h < i % 8; h++) headers[`cb-h${h}`] = h % 3 ? String(1_790_000_000_000 + i) : 'ü'.repeat(h);
    return { key: i % 7 ? `user-${i}` : null, value: JSON.stringify({ i, s: i % 5 ? 'x'.repeat(i % 300) : '€😀'.repeat(i % 40) }), headers };
  });
}

/** The records packed by the arena into a partition's runs. */
function packed(arena: ByteArena, rs: ReturnType<typeof records>, partition: number): PackedRecords[] {
  const runs: PackedRecords[] = [];
  for (const r of rs) arena.record(r.key, r.value, r.headers, runs, partition);
  return runs;
}

const plain = (rs: ReturnType<typeof records>, partition: number): ProduceMessage[] => rs.map((r) => ({ key: r.key, value: r.value, headers: r.headers, partition }) as ProduceMessage);
const NOW = 1_790_000_123_456;

describe('packed records: the stage\'s outputs held as spans of the arena (src/kafka/packed.ts)', () => {
  it('a request of packed runs is byte for byte the request of the same records as messages: alone, after messages, two runs in a row, transactional, compressed', async () => {
    const arena = new ByteArena(4096);
    const a = records(300);
    const b = records(40, 300);
    const runA = packed(arena, a, 3);
    const runB = packed(arena, b, 3);
    assert.equal(runA.length, 1);
    assert.equal(runA[0].count, 300);
    // In the arena's several chunks (4 KiB each here), each record's body in one of them.
    assert.ok((runA[0] as unknown as { bufs: Buffer[] }).bufs.length > 5);
    const cases: [ProduceMessage[], ProduceMessage[]][] = [
      [runA[0].slots(), plain(a, 3)],
      [[...plain(b, 3), ...runA[0].slots()], [...plain(b, 3), ...plain(a, 3)]],
      [[...runA[0].slots(), ...runB[0].slots()], [...plain(a, 3), ...plain(b, 3)]],
    ];
    for (const [i, [got, want]] of cases.entries()) {
      for (const txn of [{}, { transactionalId: 'cb.0', producerId: 4001, producerEpoch: 2 }]) {
        const args = (messages: ProduceMessage[]): ProduceArgs => ({ acks: -1, timeout: 30_000, ...txn, topicData: [{ topic: 'enriched', partitions: [{ partition: 3, firstSequence: 11, messages }] }] });
        assert.deepEqual(encodeProduceRequest(args(got), NOW), encodeProduceRequest(args(want), NOW), `case ${i}`);
        const seen: Buffer[] = [];
        const compress = async (r: Buffer) => (seen.push(Buffer.from(r)), r);
        const gz = (messages: ProduceMessage[]): ProduceArgs => ({ ...args(messages), compression: CODEC_TYPE.lz4 });
        assert.deepEqual(await encodeCompressedProduceRequest(gz(got), compress, NOW), await encodeCompressedProduceRequest(gz(want), compress, NOW), `case ${i}, compressed`);
        assert.deepEqual(seen[0], seen[1], `case ${i}: the codec got the same records`);
      }
    }
    // Every body is the record's key, value and headers as a record writes them.
    assert.deepEqual(runA[0].body(1).subarray(0, 7), Buffer.from('\x0cuser-1', 'latin1'), 'key user-1: its zig-zag length 12, its bytes');
    assert.equal(runA[0].body(0)[0], 1, 'no key: length −1');
  });

  it('through kafkajs\'s produce request (as the stage sends it): the same bytes as the messages', async () => {
    const require = createRequire(import.meta.url);
    const installed = require('kafkajs/src/protocol/requests/produce/v3/request') as (a: ProduceArgs) => ProduceRequest;
    const realNow = Date.now;
    Date.now = () => NOW;
    try {
      const rs = records(120);
      const run = packed(new ByteArena(), rs, 0)[0];
      for (const compression of [0, CODEC_TYPE.lz4]) {
        const args = (messages: ProduceMessage[]): ProduceArgs => ({ acks: -1, timeout: 30_000, compression, topicData: [{ topic: 'e', partitions: [{ partition: 0, messages }] }] });
        const bytes = async (a: ProduceArgs) => ((await installed(a).encode()) as { buffer: Buffer }).buffer;
        assert.deepEqual(await bytes(args(run.slots())), await bytes(args(plain(rs, 0))));
      }
    } finally {
      Date.now = realNow;
    }
  });

  it('never left to kafkajs (which would write them empty): a request it cannot take with packed records in it is an error', async () => {
    const run = packed(new ByteArena(), records(3), 0)[0];
    const Long = createRequire(import.meta.url)('kafkajs/src/utils/long') as { fromNumber(n: number): unknown };
    const longTs = { key: 'k', value: 'v', timestamp: Long.fromNumber(NOW) } as ProduceMessage;
    const args: ProduceArgs = { acks: -1, timeout: 1, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [...run.slots(), longTs] }] }] };
    assert.throws(() => encodeProduceRequest(args, NOW), /packed records/);
    await assert.rejects(encodeCompressedProduceRequest({ ...args, compression: 1 }, async (b) => b, NOW), /packed records/);
    // A run cut short, or the same run twice in a row, would misnumber its records.
    assert.throws(() => encodeProduceRequest({ ...args, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: run.slots().slice(1) }] }] }, NOW), /split or repeated/);
    assert.throws(() => encodeProduceRequest({ ...args, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [...run.slots(), ...run.slots()] }] }] }, NOW), /split or repeated/);
  });

  it('runs are cut at 512 KiB of record bytes and stay whole when requests are cut or merged', () => {
    const arena = new ByteArena();
    const big = Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: 'v'.repeat(100_000), headers: { h: String(i) } }));
    const runs = packed(arena, big, 5);
    // 100 000-byte values: five in 512 KiB (with their framing), the sixth opens a run.
    assert.deepEqual(runs.map((r) => r.count), [5, 5, 5, 5, 5, 5]);
    assert.ok(runs.every((r) => r.maxBytes() <= 512 * 1024 && r.partition === 5));
    const small = packed(arena, records(10), 5)[0];
    const into: { topic: string; messages: Message[] }[] = [];
    cutRequests('t', [...runs[0].slots(), ...small.slots(), ...runs[1].slots()] as Message[], into);
    assert.deepEqual(into.map((r) => r.messages.length), [15, 5]);
    assert.ok(into[0].messages.slice(0, 5).every((m) => m === runs[0]) && into[0].messages.slice(5).every((m) => m === small));
    const merged = mergeRequests([{ topic: 't', messages: small.slots() as Message[] }, { topic: 't', messages: runs[2].slots() as Message[] }]);
    assert.deepEqual(merged.map((r) => r.messages.length), [15]);
  });

  it('counted as on the wire: the same bytes as the same records as messages, at every offset delta', async () => {
    const rs = records(200).map((r) => ({ ...r, value: r.value.replace(/[^\x00-\x7f]/g, 'a'), headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, v.replace(/[^\x00-\x7f]/g, 'b')])) }));
    const run = packed(new ByteArena(), rs, 1)[0];
    const count = async (messages: Message[]) => {
      const route = new OutputRoute({ output: 't', dlq: 'd' }, { clientId: 'c', transactionalId: 'tx' });
      await route.send([{ topic: 't', messages }], async () => {});
      return route.producedBytes.get('t')!.get(1);
    };
    const head = plain(rs.slice(0, 150), 1) as Message[];
    assert.equal(await count(run.slots() as Message[]), await count(plain(rs, 1) as Message[]));
    assert.equal(await count([...head, ...run.slots()] as Message[]), await count([...head, ...plain(rs, 1)] as Message[]));
  });
});
