import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import '../../src/kafka/client.js';
import { concurrentRetries, COORDINATOR_REQUESTS, groupMessagesPerPartition, CoordinatorCache, followerOutOfRangeToLeader, retryConcurrentTransactions, stoppedRunnerSafeFetch } from '../../src/kafka/kafkajs-fixes.js';
import { encodeRecordBuffer, recordEncoder, recordInto, recordMaxBytes, writeVarLong, type EncodedRecord, type RecordInput } from '../../src/kafka/record-encoder.js';
import { frameRequest, type EncodedBody } from '../../src/kafka/request-framing.js';
import { varintBytes } from '../../src/kafka/wire.js';
import { CODEC_TYPE, CODECS, codecCounts, codecProblem, transactionalCodecCounts } from '../../src/kafka/compression.js';
import { batchCrc32c, crc32c, encodeCompressedProduceRequest, encodeProduceRequest, type ProduceArgs, type ProduceMessage, type ProduceRequest } from '../../src/kafka/produce-encoder.js';
import { sleep } from '../../src/sandbox/process.js';

describe('kafkajs fix: a stopped consumer\'s fetchers end instead of spinning', () => {
  const original = async function (this: unknown, nodeId: number) {
    return [{ nodeId }];
  };

  it('a running consumer fetches through the original', async () => {
    let stops = 0;
    const runner = { running: true, fetchManager: { stop: async () => void stops++ } };
    assert.deepEqual(await stoppedRunnerSafeFetch(original).call(runner as never, 7), [{ nodeId: 7 }]);
    assert.equal(stops, 0);
  });

  it('a stopped consumer stops its fetch manager and yields to the event loop before returning nothing', async () => {
    let stops = 0;
    const runner = { running: false, fetchManager: { stop: async () => void stops++ } };
    let timerRan = false;
    setTimeout(() => (timerRan = true), 0);
    const got = await stoppedRunnerSafeFetch(original, 5).call(runner as never, 1);
    assert.deepEqual(got, []);
    assert.equal(stops, 1);
    assert.equal(timerRan, true, 'a timer due meanwhile ran: the loop left the microtask queue');
  });

  it('is installed on the Runner kafkajs\'s consumers use when the client module loads', () => {
    const Runner = createRequire(import.meta.url)('kafkajs/src/consumer/runner') as { prototype: { fetch: { name: string; toString(): string } } };
    assert.match(Runner.prototype.fetch.toString(), /this\.fetchManager\.stop\(\)/);
  });
});

describe('kafkajs fix: an OFFSET_OUT_OF_RANGE from a follower goes back to the leader, not to a reset', () => {
  const make = () => {
    const resets: string[] = [];
    const original = async function (this: unknown, e: { topic: string; partition: number }) {
      resets.push(`${e.topic}:${e.partition}`);
    };
    return { resets, fix: followerOutOfRangeToLeader(original) };
  };

  it('read from a preferred replica (kafkajs keeps { nodeId, expireAt }): the replica is forgotten, the offset kept', async () => {
    const { resets, fix } = make();
    const group = { preferredReadReplicasPerTopicPartition: { raw: { 3: { nodeId: 2, expireAt: Date.now() + 5_000 }, 4: { nodeId: 1, expireAt: 0 } } } };
    await fix.call(group as never, { topic: 'raw', partition: 3 });
    assert.deepEqual(resets, []);
    assert.deepEqual(Object.keys(group.preferredReadReplicasPerTopicPartition.raw), ['4'], 'only partition 3 goes back to its leader');
  });

  it('read from the leader: the original reset runs', async () => {
    const { resets, fix } = make();
    await fix.call({ preferredReadReplicasPerTopicPartition: { raw: { 4: { nodeId: 1, expireAt: 0 } } } } as never, { topic: 'raw', partition: 3 });
    await fix.call({ preferredReadReplicasPerTopicPartition: {} } as never, { topic: 'other', partition: 0 });
    assert.deepEqual(resets, ['raw:3', 'other:0']);
  });

  it('is installed on the ConsumerGroup kafkajs\'s consumers use', () => {
    const ConsumerGroup = createRequire(import.meta.url)('kafkajs/src/consumer/consumerGroup') as { prototype: { recoverFromOffsetOutOfRange: { toString(): string } } };
    assert.match(ConsumerGroup.prototype.recoverFromOffsetOutOfRange.toString(), /replicas\[e\.partition\] != null/);
  });
});

describe('isRetriableError: what kafkajs restarts a consumer for', () => {
  it('retries exhausted and retriable causes are retriable; fencing, plain errors and non-errors are not', async () => {
    // kafkajs's error classes are spread into its exports, which ESM named imports cannot see.
    const { KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, KafkaJSNonRetriableError } = (await import('kafkajs')).default as unknown as Record<string, new (...a: unknown[]) => Error>;
    const { isRetriableError } = await import('../../src/kafka/client.js');
    const protocol = (type: number) => new KafkaJSProtocolError({ type: 'X', code: type, retriable: type === 7, message: 'x' } as never);
    assert.equal(isRetriableError(new KafkaJSNumberOfRetriesExceeded(new Error('connect ECONNREFUSED'), { retryCount: 5, retryTime: 300 })), true);
    assert.equal(isRetriableError(protocol(7)), true, 'REQUEST_TIMED_OUT');
    assert.equal(isRetriableError(new KafkaJSNonRetriableError(protocol(7), { cause: protocol(7) })), true, 'the innermost cause decides');
    assert.equal(isRetriableError(protocol(90)), false, 'PRODUCER_FENCED');
    assert.equal(isRetriableError(new KafkaJSNonRetriableError(protocol(90), { cause: protocol(90) })), false);
    assert.equal(isRetriableError(new KafkaJSNonRetriableError('state')), false, 'a transaction-state error');
    assert.equal(isRetriableError(new Error('plain')), false);
    assert.equal(isRetriableError('a string'), false);
  });
});

describe('kafkajs fix: a broker connection schedules a pending-request check only when a request waits', () => {
  type Queue = { pending: unknown[]; throttledUntil: number; throttleCheckTimeoutId: unknown; checkPendingRequests(): void; scheduleCheckPendingRequests(): void; destroy(): void };
  const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue') as new (o: object) => Queue;
  const logger = { debug() {}, info() {}, warn() {}, error() {} };
  /** A real kafkajs RequestQueue whose checks are counted, with their times since `t0` (0 in flight allowed: what is pending stays pending). */
  const counted = () => {
    const q = new RequestQueue({ maxInFlightRequests: 0, requestTimeout: 30_000, enforceRequestTimeout: true, clientId: 't', broker: '127.0.0.1:1', logger });
    const at: number[] = [];
    const t0 = Date.now();
    const check = q.checkPendingRequests.bind(q);
    q.checkPendingRequests = () => {
      at.push(Date.now() - t0);
      check();
    };
    return { q, at };
  };

  it('with nothing pending, neither a schedule nor a check leaves a timer behind (kafkajs ran a 1 ms timer for ever)', async () => {
    const { q, at } = counted();
    q.scheduleCheckPendingRequests();
    q.checkPendingRequests();
    assert.equal(q.throttleCheckTimeoutId, null);
    await sleep(60);
    assert.deepEqual(at.length, 1, 'only the direct call');
    q.destroy();
  });

  it('a pending request is checked after 10 ms without a throttle, and when the throttle ends with one', async () => {
    const a = counted();
    a.q.pending.push({});
    a.q.scheduleCheckPendingRequests();
    a.q.scheduleCheckPendingRequests(); // one timer at a time
    await sleep(60);
    a.q.pending.length = 0;
    assert.equal(a.at.length >= 1 && a.at.length <= 6, true, `checks while a request waited: ${a.at.length}`);
    assert.ok(a.at[0] >= 9, `the first check came ${a.at[0]} ms after the schedule`);
    await sleep(30);
    const settled = a.at.length;
    await sleep(30);
    assert.equal(a.at.length, settled, 'no check once nothing is pending');
    a.q.destroy();

    const b = counted();
    b.q.pending.push({});
    b.q.throttledUntil = Date.now() + 40;
    b.q.scheduleCheckPendingRequests();
    await sleep(25);
    assert.equal(b.at.length, 0, 'not before the throttle ends');
    await sleep(40);
    assert.ok(b.at.length >= 1 && b.at[0] >= 38, `checked when the throttle ended: ${JSON.stringify(b.at)}`);
    b.q.pending.length = 0;
    b.q.destroy();
  });
});


describe('kafkajs fix: records encoded into one exactly-sized buffer (src/kafka/record-encoder.ts)', () => {
  const require = createRequire(import.meta.url);
  type Enc = (r: RecordInput) => EncodedRecord;
  const installed = require('kafkajs/src/protocol/recordBatch/record/v0') as Enc;
  const Encoder = require('kafkajs/src/protocol/encoder') as new () => { writeVarInt(v: number): unknown; writeInt8(v: number): unknown; writeVarLong(v: unknown): unknown; writeVarIntBytes(v: unknown): unknown; writeVarIntString(v: unknown): unknown; writeEncoder(e: unknown): unknown; buffer: Buffer };
  /** kafkajs 2.2.4's record encoding, written out from its protocol description (Record v0), to compare against. */
  const reference = (r: RecordInput): Buffer => {
    const pairs = Object.entries((r.headers ?? {}) as Record<string, unknown>).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]]));
    const body = new Encoder();
    body.writeInt8(0);
    body.writeVarLong(r.timestampDelta ?? 0);
    body.writeVarInt((r.offsetDelta ?? 0) as number);
    body.writeVarIntBytes(r.key);
    body.writeVarIntBytes(r.value);
    body.writeVarInt(pairs.length);
    for (const [k, v] of pairs) {
      body.writeVarIntString(k);
      body.writeVarIntBytes(v);
    }
    const out = new Encoder();
    out.writeVarInt(body.buffer.length);
    out.writeEncoder(body);
    return out.buffer;
  };
  const fallbacks: RecordInput[] = [];
  const fast = recordEncoder((r) => {
    fallbacks.push(r);
    return { buf: Buffer.alloc(0), buffer: Buffer.alloc(0) };
  });

  it('is what kafkajs\'s produce request loads (installed at client load, before the first produce)', () => {
    assert.equal(installed.name, 'encodeRecord');
  });

  it('writes the same bytes as kafkajs for keys, values and headers of every kind it takes', () => {
    const cases: RecordInput[] = [
      { key: 'u1', value: '{"a":1}', headers: { 'cb-schema-version': '2', 'cb-x': 'ü€😀' }, offsetDelta: 3, timestampDelta: 5 },
      { key: null, value: null, offsetDelta: 0, timestampDelta: 0 },
      { value: 'v' },
      { key: Buffer.from([0, 1, 2]), value: 'x'.repeat(300), headers: { h: ['1', Buffer.from('2')], e: '' }, offsetDelta: 200, timestampDelta: -70_000 },
      { key: '', value: '', headers: {}, offsetDelta: 63, timestampDelta: 64 },
      { key: 'k', value: 'v', offsetDelta: 8191, timestampDelta: 2 ** 40 },
      { key: 'k', value: 'v', offsetDelta: 8192, timestampDelta: -(2 ** 40) },
    ];
    for (let i = 0; i < 500; i++) cases.push({ key: i % 7 ? `k${i}` : undefined, value: 'é'.repeat(i % 170), headers: i % 3 ? { a: String(i), b: 'x'.repeat(i % 150) } : undefined, offsetDelta: i * 37, timestampDelta: (i - 250) * 123_457 });
    for (const c of cases) {
      const got = fast(c);
      assert.deepEqual(got.buffer, reference(c), JSON.stringify(c).slice(0, 120));
      assert.equal(got.buf, got.buffer);
    }
    assert.equal(fallbacks.length, 0, 'none of these went to kafkajs');
    // And the installed one, through kafkajs's own module:
    for (const c of cases.slice(0, 20)) assert.deepEqual(installed(c).buffer, reference(c));
  });

  it('leaves to kafkajs what it does not take: a Long timestamp delta, a header value that is neither string nor Buffer', () => {
    fallbacks.length = 0;
    const Long = require('kafkajs/src/utils/long') as { fromNumber(n: number): unknown };
    const long = { key: 'k', value: 'v', timestampDelta: Long.fromNumber(5) };
    const numHeader = { key: 'k', value: 'v', headers: { n: 5 } };
    fast(long);
    fast(numHeader);
    fast({ key: 'k', value: 'v', timestampDelta: 1.5 });
    assert.deepEqual(fallbacks, [long, numHeader, { key: 'k', value: 'v', timestampDelta: 1.5 }]);
  });

  it('varlongs: sizes and bytes at the 7-bit boundaries, zig-zag for negatives', () => {
    const buf = Buffer.alloc(10);
    const cases: [number, number[]][] = [[0, [0]], [-1, [1]], [1, [2]], [63, [126]], [-64, [127]], [64, [128, 1]], [8191, [254, 127]], [8192, [128, 128, 1]]];
    for (const [v, bytes] of cases) {
      assert.equal(varintBytes(v), bytes.length, `size of ${v}`);
      assert.equal(writeVarLong(buf, 0, v), bytes.length);
      assert.deepEqual([...buf.subarray(0, bytes.length)], bytes, `bytes of ${v}`);
    }
  });
});

describe('kafkajs fix: produce requests written into one buffer, CRC-32C eight bytes at a time (src/kafka/produce-encoder.ts)', () => {
  const require = createRequire(import.meta.url);
  type Req = (a: ProduceArgs) => ProduceRequest;
  const v3Path = require.resolve('kafkajs/src/protocol/requests/produce/v3/request');
  const installed = require(v3Path) as Req;
  /** kafkajs's own v3 request, loaded afresh beside the installed one (with the record encoder the tests above compare). */
  const kafkajsV3 = (() => {
    const saved = require.cache[v3Path];
    delete require.cache[v3Path];
    try {
      return require(v3Path) as Req;
    } finally {
      require.cache[v3Path] = saved;
    }
  })();
  const Long = require('kafkajs/src/utils/long') as { fromString(s: string): unknown; fromNumber(n: number): unknown };
  const bytesOf = async (r: ProduceRequest) => ((await r.encode()) as { buffer: Buffer }).buffer;
  const msgs = (n: number, from: number, withTime: boolean): ProduceMessage[] => Array.from({ length: n }, (_, i) => ({
    key: i % 5 ? `user-${from + i}` : null,
    value: JSON.stringify({ i: from + i, s: 'ü'.repeat((from + i) % 40) }),
    headers: i % 2 ? { 'cb-schema-version': '2', 'cb-source-offset': String(from + i) } : undefined,
    ...(withTime ? { timestamp: 1_790_000_000_000 + ((i * 7919) % 1000) } : {}),
  }));

  it('is what kafkajs loads for produce requests', () => {
    assert.equal(installed.name, 'produceRequest');
  });

  it('CRC-32C: the check value, and kafkajs\'s own CRC on 300 buffers of every length and offset', () => {
    const crcKafkajs = require('kafkajs/src/protocol/recordBatch/crc32C') as (b: Buffer) => number;
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc32c(Buffer.alloc(0)), 0);
    for (let n = 0; n < 300; n++) {
      const b = Buffer.from(Array.from({ length: n * 3 + 1 }, (_, i) => (i * 131 + n * 17) & 255));
      assert.equal(crc32c(b), crcKafkajs(b), `length ${b.length}`);
      const from = n % 11;
      assert.equal(crc32c(b, from, b.length), crcKafkajs(b.subarray(from)), `from ${from}`);
    }
  });

  it('the record batches\' CRC-32C is the native one where it loads (here it does), with crc32c\'s values on every length and offset', () => {
    assert.notEqual(batchCrc32c, crc32c, '@node-rs/crc32 loads on this machine kind');
    const b = Buffer.from(Array.from({ length: 5_000 }, (_, i) => (i * 197 + 11) & 255));
    for (let n = 0; n < 400; n++) {
      const from = (n * 7) % 61;
      const to = Math.min(b.length, from + n * 12);
      assert.equal(batchCrc32c(b, from, to), crc32c(b, from, to), `[${from}, ${to})`);
    }
    assert.equal(batchCrc32c(Buffer.from('123456789'), 0, 9), 0xe3069283);
  });

  it('writes the same bytes as kafkajs: transactional or not, several topics and partitions, with and without timestamps', async () => {
    const realNow = Date.now;
    Date.now = () => 1_790_000_123_456;
    try {
      const cases: ProduceArgs[] = [
        { acks: -1, timeout: 30_000, topicData: [{ topic: 'raw', partitions: [{ partition: 0, messages: msgs(1, 0, false) }] }] },
        { acks: 1, timeout: 5_000, transactionalId: 'cb-enrich.0', producerId: Long.fromString('4001'), producerEpoch: 3, compression: 0, topicData: [
          { topic: 'enriched', partitions: [{ partition: 3, firstSequence: 17, messages: msgs(40, 10, true) }, { partition: 11, firstSequence: 2 ** 31 - 5, messages: msgs(7, 90, true) }] },
          { topic: 'dlq-ü', partitions: [{ partition: 0, firstSequence: 0, messages: msgs(3, 500, false) }] },
        ] },
        { acks: -1, timeout: 30_000, producerId: 12, producerEpoch: 0, topicData: [{ topic: 'raw', partitions: [{ partition: 5, firstSequence: 1000, messages: msgs(2_000, 0, false) }] }] },
      ];
      for (const c of cases) {
        const got = await bytesOf(installed(c));
        assert.ok(encodeProduceRequest(c), 'written by the fast path');
        assert.deepEqual(got, await bytesOf(kafkajsV3(c)));
        assert.equal(installed(c).apiVersion, 3);
        assert.equal(installed(c).expectResponse(), c.acks !== 0);
      }
    } finally {
      Date.now = realNow;
    }
  });

  it('leaves to kafkajs an empty partition and a Long timestamp, with kafkajs\'s bytes; a compressed batch is not the uncompressed writer\'s', async () => {
    const gzip: ProduceArgs = { acks: -1, timeout: 30_000, compression: 1, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: msgs(20, 0, true) }] }] };
    const longTs: ProduceArgs = { acks: -1, timeout: 30_000, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [{ key: 'k', value: 'v', timestamp: Long.fromNumber(1_790_000_000_000) }] }] }] };
    assert.equal(encodeProduceRequest(gzip), undefined);
    assert.equal(encodeProduceRequest(longTs), undefined);
    assert.equal(await encodeCompressedProduceRequest({ ...longTs, compression: 1 }, async (b) => b), undefined);
    assert.equal(await encodeCompressedProduceRequest(longTs, async (b) => b), undefined, 'no codec: not the compressed writer\'s');
    assert.equal(encodeProduceRequest({ acks: -1, timeout: 1, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [] }] }] }), undefined);
    assert.deepEqual(await bytesOf(installed(longTs)), await bytesOf(kafkajsV3(longTs)));
  });

  it('compressed batches (every codec this Node runs, transactional or not, several partitions, a tombstone and Buffer keys, values and headers): kafkajs\'s bytes, each codec called once per partition and counted by batch kind', async () => {
    const realNow = Date.now;
    Date.now = () => 1_790_000_123_456;
    try {
      const codecs = CODECS.filter((c) => c !== 'none' && !codecProblem(c));
      assert.ok(codecs.includes('lz4') && codecs.includes('gzip') && codecs.includes('snappy'), `codecs here: ${codecs.join(', ')}`);
      for (const codec of codecs) {
        for (const txn of [false, true]) {
          const c: ProduceArgs = { acks: -1, timeout: 30_000, compression: CODEC_TYPE[codec], ...(txn ? { transactionalId: 'cb-enrich.0', producerId: Long.fromString('4001'), producerEpoch: 3 } : { producerId: 12 }), topicData: [
            { topic: 'enriched', partitions: [{ partition: 3, firstSequence: 17, messages: msgs(40, 10, true) }, { partition: 11, firstSequence: 2 ** 31 - 5, messages: msgs(700, 90, false) }] },
            { topic: 'dlq-ü', partitions: [{ partition: 0, firstSequence: 0, messages: msgs(3, 500, false) }, { partition: 1, firstSequence: 9, messages: [{ key: 'gone', value: null }, { key: Buffer.from('bk'), value: Buffer.from('{"v":1}'), headers: { h: Buffer.from([0, 255]) } }] }] },
          ] };
          const before = { all: codecCounts.get(codec)?.batches ?? 0, txn: transactionalCodecCounts.get(codec)?.batches ?? 0 };
          const got = await bytesOf(installed(c));
          const after = { all: codecCounts.get(codec)?.batches ?? 0, txn: transactionalCodecCounts.get(codec)?.batches ?? 0 };
          assert.deepEqual(after, { all: before.all + 4, txn: before.txn + (txn ? 4 : 0) }, `${codec}: four batches compressed, counted by kind`);
          assert.deepEqual(got, await bytesOf(kafkajsV3(c)), `${codec}${txn ? ', transactional' : ''}`);
          const calls: number[] = [];
          assert.ok(await encodeCompressedProduceRequest(c, async (b) => (calls.push(b.length), b)), `${codec}: written by the fast path`);
          assert.equal(calls.length, 4);
        }
      }
    } finally {
      Date.now = realNow;
    }
  });

  it('an Encoder grown past its first buffer holds exactly what was written (growth not zero-filled)', () => {
    const Encoder = require('kafkajs/src/protocol/encoder') as new () => { writeInt32(v: number): unknown; writeString(s: string): unknown; buffer: Buffer; buf: Buffer };
    const e = new Encoder();
    const expected: number[] = [];
    for (let i = 0; i < 1_000; i++) {
      e.writeInt32(i * 65_537);
      const b = Buffer.alloc(4);
      b.writeInt32BE((i * 65_537) | 0);
      expected.push(...b);
    }
    assert.deepEqual([...e.buffer], expected);
    assert.ok(e.buf.length >= 4_000 && e.buf.length <= 8_192);
  });
});

describe('kafkajs fix: coordinators kept until a request to them fails', () => {
  const broker = (nodeId: number) => ({ nodeId });
  const setup = (ttlMs = 60_000) => {
    let t = 0;
    const cache = new CoordinatorCache(ttlMs, () => t);
    const asked: string[] = [];
    let answer = 1;
    const known = new Set([1, 2, 3]);
    const cluster = {
      findBroker: async ({ nodeId }: { nodeId: number }) => {
        if (!known.has(nodeId)) throw Object.assign(new Error(`broker ${nodeId} not found`), { name: 'KafkaJSBrokerNotFound' });
        return broker(nodeId);
      },
    };
    const find = cache.find(async function (a) {
      asked.push(`${a.coordinatorType ?? 0}:${a.groupId}`);
      return broker(answer);
    });
    return { cache, asked, cluster, find: (groupId: string, coordinatorType?: number) => find.call(cluster, { groupId, coordinatorType }), setAnswer: (n: number) => (answer = n), advance: (ms: number) => (t += ms), known };
  };

  it('asks once per coordinator type and key, then answers from what it kept', async () => {
    const s = setup();
    assert.equal((await s.find('txn-1', 1)).nodeId, 1);
    assert.equal((await s.find('txn-1', 1)).nodeId, 1);
    assert.equal((await s.find('txn-1', 1)).nodeId, 1);
    await s.find('txn-1', 0);
    await s.find('group-a');
    await s.find('group-a');
    assert.deepEqual(s.asked, ['1:txn-1', '0:txn-1', '0:group-a']);
    assert.deepEqual([s.cache.lookups, s.cache.hits], [3, 3]);
  });

  it('asks again after "not the coordinator", "not available" or a connection error on that broker, not after other errors', async () => {
    const s = setup();
    await s.find('txn-1', 1);
    const fail = (type: Record<string, string | undefined>) => s.cache.watch(async function () {
      throw Object.assign(new Error('x'), type);
    });
    await assert.rejects(fail({ type: 'INVALID_PRODUCER_EPOCH' }).call(broker(1)));
    await s.find('txn-1', 1);
    assert.equal(s.asked.length, 1, 'a fenced producer is not a moved coordinator');
    await assert.rejects(fail({ type: 'NOT_COORDINATOR_FOR_GROUP' }).call(broker(2)));
    await s.find('txn-1', 1);
    assert.equal(s.asked.length, 1, 'another broker failing leaves broker 1\'s answer');
    for (const [i, e] of [{ type: 'NOT_COORDINATOR_FOR_GROUP' }, { type: 'GROUP_COORDINATOR_NOT_AVAILABLE' }, { name: 'KafkaJSConnectionError' }, { name: 'KafkaJSRequestTimeoutError' }, { code: 'ECONNREFUSED' }].entries()) {
      s.setAnswer(i % 2 ? 1 : 2);
      await assert.rejects(fail(e).call(broker(i % 2 ? 2 : 1)));
      assert.equal((await s.find('txn-1', 1)).nodeId, i % 2 ? 1 : 2, JSON.stringify(e));
      assert.equal(s.asked.length, 2 + i, `asked again after ${JSON.stringify(e)}`);
    }
  });

  it('a successful request passes its answer through; the answer expires after the TTL; a broker no longer known is asked again', async () => {
    const s = setup(1_000);
    const ok = s.cache.watch(async function (this: { nodeId: number | null }, x: number) {
      return x * 2;
    });
    assert.equal(await ok.call(broker(1), 21), 42);
    await s.find('g');
    s.advance(999);
    await s.find('g');
    assert.equal(s.asked.length, 1);
    s.advance(1);
    await s.find('g');
    assert.equal(s.asked.length, 2, 'expired');
    s.known.delete(1);
    s.setAnswer(3);
    assert.equal((await s.find('g')).nodeId, 3);
    assert.equal(s.asked.length, 3, 'broker 1 left the cluster');
  });

  it('is installed on kafkajs\'s cluster and on every coordinator request of its brokers', () => {
    const require = createRequire(import.meta.url);
    const Cluster = require('kafkajs/src/cluster') as { prototype: { findGroupCoordinator: { name: string } } };
    const Broker = require('kafkajs/src/broker') as { prototype: Record<string, { name: string }> };
    assert.equal(Cluster.prototype.findGroupCoordinator.name, 'findGroupCoordinator');
    assert.notEqual(String(Cluster.prototype.findGroupCoordinator).indexOf('answers'), -1);
    for (const m of COORDINATOR_REQUESTS) assert.equal(Broker.prototype[m].name, ['addPartitionsToTxn', 'addOffsetsToTxn'].includes(m) ? 'concurrentRetrying' : 'coordinatorRequest', m);
    assert.equal(Broker.prototype.produce.name, 'produce', 'produce requests are not coordinator requests');
  });
});

describe('kafkajs fix: CONCURRENT_TRANSACTIONS after a commit retried at once, below kafkajs', () => {
  const refuse = (times: number, type = 'CONCURRENT_TRANSACTIONS') => {
    let calls = 0;
    const fn = retryConcurrentTransactions(async function (this: unknown, a: { transactionalId?: string; n: number }) {
      calls++;
      if (calls <= times) throw Object.assign(new Error('The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing'), { type });
      return a.n * 2;
    }, 1, 5);
    return { fn, calls: () => calls };
  };

  it('sends the same request again until it is taken, and counts the retries per transactional id', async () => {
    const before = concurrentRetries.get('txn-t') ?? 0;
    const r = refuse(3);
    assert.equal(await r.fn({ transactionalId: 'txn-t', n: 21 }), 42);
    assert.equal(r.calls(), 4);
    assert.equal((concurrentRetries.get('txn-t') ?? 0) - before, 3);
  });

  it('gives up after its limit, and passes any other error through at once', async () => {
    const r = refuse(100);
    await assert.rejects(r.fn({ transactionalId: 'txn-u', n: 1 }), /concurrent operation/);
    assert.equal(r.calls(), 6, 'the first try and 5 retries');
    const other = refuse(1, 'INVALID_PRODUCER_EPOCH');
    await assert.rejects(other.fn({ transactionalId: 'txn-u', n: 1 }));
    assert.equal(other.calls(), 1);
  });
});

describe('kafkajs fix 10: a send\'s messages grouped per partition in one pass', () => {
  const require = createRequire(import.meta.url);
  const path = require.resolve('kafkajs/src/producer/groupMessagesPerPartition');
  /** kafkajs's own function, loaded apart from the module cache that holds the fix. */
  const kafkajsOwn = (): typeof groupMessagesPerPartition => {
    const cached = require.cache[path];
    delete require.cache[path];
    try {
      return require(path) as typeof groupMessagesPerPartition;
    } finally {
      require.cache[path] = cached;
    }
  };
  const messages = Array.from({ length: 600 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, p: (i * 7919) % 12 }));
  const args = { topic: 't', partitionMetadata: [{}], messages, partitioner: ({ message }: { message: { p: number } }) => message.p };

  it('is what kafkajs\'s producer takes (put in place before kafkajs loaded)', () => {
    assert.equal(require.cache[path]?.exports, groupMessagesPerPartition);
    assert.notEqual(kafkajsOwn(), groupMessagesPerPartition);
  });

  it('groups as kafkajs does: the same partitions, in the same key order, each partition\'s messages in send order', () => {
    const own = kafkajsOwn()(args);
    const fixed = groupMessagesPerPartition(args);
    assert.deepEqual(fixed, own);
    assert.deepEqual(Object.keys(fixed), Object.keys(own));
    assert.deepEqual(Object.keys(fixed), ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11']);
    assert.deepEqual(fixed[5].map((m) => m.key), messages.filter((m) => m.p === 5).map((m) => m.key));
    assert.equal(Object.values(fixed).reduce((a, l) => a + l.length, 0), 600);
  });

  it('no partitions known: nothing grouped, the partitioner not called', () => {
    let calls = 0;
    const none = { ...args, partitionMetadata: [], partitioner: () => ++calls };
    assert.deepEqual(groupMessagesPerPartition(none), {});
    assert.deepEqual(kafkajsOwn()(none), {});
    assert.equal(calls, 0);
  });
});

describe('kafkajs fix: records written in place, requests framed once', () => {
  const require = createRequire(import.meta.url);
  const Encoder = require('kafkajs/src/protocol/encoder') as new (size?: number) => EncodedBody & { writeInt32(v: number): unknown; writeString(s: string): unknown };

  it('a record written in place is the record encoder\'s bytes: lengths at every varint boundary, multi-byte and lone-surrogate strings, Buffers, nulls', () => {
    const strings = ['', 'a', 'ü', '€', '😀', '\ud800', 'x'.repeat(21), 'x'.repeat(22), 'ü'.repeat(21), 'x'.repeat(63), 'x'.repeat(64), '€'.repeat(64), 'x'.repeat(2730), 'x'.repeat(2731), '😀'.repeat(1400), 'x'.repeat(3000), 'ü'.repeat(5000), 'x'.repeat(8200)];
    const cases: (RecordInput & { offsetDelta: number; timestampDelta: number })[] = [];
    for (const [i, v] of strings.entries()) {
      cases.push({ key: v, value: strings[(i * 7) % strings.length], headers: { 'cb-a': v, [v.slice(0, 30) || 'e']: strings[(i + 3) % strings.length] }, offsetDelta: i * 100, timestampDelta: (i - 9) * 70_001 });
      cases.push({ key: null, value: v, offsetDelta: 8191 + i, timestampDelta: 0 });
      cases.push({ key: Buffer.from(v), value: Buffer.from(v), headers: { b: Buffer.from(v) }, offsetDelta: 0, timestampDelta: 2 ** 40 });
    }
    cases.push({ key: undefined, value: undefined, headers: undefined, offsetDelta: 0, timestampDelta: 0 });
    for (const c of cases) {
      const max = recordMaxBytes(c)!;
      const buf = Buffer.alloc(max + 7, 0xaa);
      const end = recordInto(buf, 7, c);
      const want = encodeRecordBuffer(c)!;
      assert.ok(end - 7 <= max, 'within the bound');
      assert.deepEqual(buf.subarray(7, end), want, `${JSON.stringify(c).slice(0, 80)}`);
      assert.ok(buf.subarray(0, 7).every((b) => b === 0xaa), 'nothing written before it');
    }
    assert.equal(recordMaxBytes({ value: 'v', headers: { h: ['1'] } }), undefined, 'an array header value is left to the other path');
    assert.equal(recordMaxBytes({ value: 5 }), undefined);
  });

  it('requests are framed with kafkajs\'s bytes: with the produce encoder\'s room, without it, a null and a long client id', async () => {
    const original = require('kafkajs/src/protocol/request') as Parameters<typeof frameRequest>[0];
    // The module cache holds the installed framing (kafkajs-preload); kafkajs's own, loaded afresh beside it:
    const path = require.resolve('kafkajs/src/protocol/request');
    const saved = require.cache[path];
    delete require.cache[path];
    const kafkajs = require(path) as (a: unknown) => Promise<{ buffer: Buffer }>;
    require.cache[path] = saved;
    assert.equal((original as { name: string }).name, 'encodeRequest', 'the installed framing is ours');
    const frame = frameRequest(kafkajs as never);
    const plain = () => {
      const e = new Encoder();
      e.writeInt32(7);
      e.writeString('body ü');
      return e;
    };
    const roomy = () => {
      const whole = Buffer.alloc(512 + 300, 0x55);
      const e = new Encoder(0);
      e.buf = whole.subarray(512);
      e.offset = 300;
      e.framingRoom = 512;
      return e;
    };
    for (const clientId of ['clickbench-run-x-producer', null, 'ü'.repeat(10), 'c'.repeat(600)]) {
      for (const body of [plain, roomy]) {
        const args = { correlationId: 123_456, clientId, request: { apiKey: 0, apiVersion: 3, encode: async () => body() } };
        const got = (await frame(args as never)).buffer;
        assert.deepEqual(got, (await kafkajs(args)).buffer, `client id ${String(clientId).slice(0, 20)}, ${body.name}`);
      }
    }
  });
});
