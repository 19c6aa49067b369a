import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { CODEC_TYPE, codecCounts, codecProblem, registerCodecs, transactionalCodecCounts, xerialFrame, xerialUnframe } from '../../src/kafka/compression.js';
import '../../src/kafka/client.js';
import { compressionFactor, compressionFactors, compressionFigure, compressionSince } from '../../src/run/assemble.js';
import { parseScenario, ScenarioError } from '../../src/scenario/load.js';
import { compressionLine } from '../../src/report/markdown.js';

describe('compression', () => {
  it('a producer\'s figure: the codec\'s output over its input; not measured without a codec or without bytes', () => {
    assert.deepEqual(compressionFigure('lz4', { batches: 4, recordBytes: 10_000, compressedBytes: 2_500 }, 'the load producer'), {
      codec: 'lz4', measured: true, method: 'the bytes the load producer fed the lz4 codec (each batch\'s records) and the bytes it returned, counted in the client',
      batches: 4, recordBytes: 10_000, compressedBytes: 2_500, ratio: 0.25,
    });
    assert.deepEqual(compressionFigure('none', undefined, 'the load producer'), { codec: 'none', measured: false, reason: 'the load producer does not compress (codec none)' });
    assert.deepEqual(compressionFigure('gzip', { batches: 0, recordBytes: 0, compressedBytes: 0 }, 'the enrichment output producer'), { codec: 'gzip', measured: false, reason: 'the enrichment output producer compressed nothing' });
  });

  it('the report\'s line: each producer\'s codec, its bytes in and out, or why not measured', () => {
    assert.equal(
      compressionLine({ producer: compressionFigure('lz4', { batches: 1234, recordBytes: 10_000_000, compressedBytes: 3_100_000 }, 'p'), enrichment: compressionFigure('none', undefined, 'the enrichment output producer') }),
      'Compression (bytes each producer fed its codec and got back, counted in the client): load producer lz4: 10.00 MB of records → 3.10 MB (**31.0 %**, 1,234 batches); enrichment output none: the enrichment output producer does not compress (codec none).',
    );
  });

  it('the model\'s factor removes only what the codec saved: framing keeps its size', () => {
    const f = compressionFigure('lz4', { batches: 10, recordBytes: 8_000, compressedBytes: 2_000 }, 'p');
    // 10 000 B counted on the wire, 8 000 of them records compressed to 2 000: 4 000 B remain.
    assert.equal(compressionFactor(f, 10_000), 0.4);
    // Never below the codec's own ratio (wire bytes counted from fewer snapshots than the codec saw).
    assert.equal(compressionFactor(f, 6_000), 0.25);
    assert.equal(compressionFactor(compressionFigure('none', undefined, 'p'), 10_000), 1);
    assert.equal(compressionFactor(f, 0), 1);
  });

  it('a phase is scaled by what its codec did in the phase, not by the run\'s ratio so far', () => {
    const fig = (recordBytes: number, compressedBytes: number, batches = 1) => compressionFigure('lz4', { batches, recordBytes, compressedBytes }, 'p');
    // Steady: 8 000 B → 4 000 (0.5); then a burst: 40 000 B more → 8 000 more (0.2). The run so far says 0.25.
    const atStart = compressionFigure('lz4', undefined, 'p');
    const afterSteady = fig(8_000, 4_000, 10);
    const afterBurst = fig(48_000, 12_000, 14);
    assert.deepEqual(compressionSince(afterSteady, afterBurst), { ...afterBurst, batches: 4, recordBytes: 40_000, compressedBytes: 8_000, ratio: 0.2 });
    assert.deepEqual(compressionSince(atStart, afterSteady), afterSteady);
    assert.deepEqual(compressionSince(afterSteady, afterSteady), { codec: 'lz4', measured: false, reason: 'the lz4 codec compressed nothing in between' });
    const none = compressionFigure('none', undefined, 'p');
    const reading = (producer: typeof afterSteady, shared = false) => ({ producer, enrichment: none, shared });
    // The burst's 50 000 B counted on the wire, 40 000 of them records that became 8 000: 18 000 remain.
    assert.deepEqual(compressionFactors(reading(afterSteady), reading(afterBurst), { producer: 50_000, enrichment: 7_000 }), { producer: 0.36, enrichment: 1 });
    // Counted together with the enrichment output: one factor over both producers' wire bytes.
    assert.deepEqual(compressionFactors(reading(afterSteady, true), reading(afterBurst, true), { producer: 40_000, enrichment: 10_000 }), { producer: 0.36, enrichment: 0.36 });
  });

  it('snappy in xerial framing (what Kafka\'s Java producer writes): header, 32 KiB blocks, read back; raw snappy is read as it is', () => {
    const data = Buffer.from('x'.repeat(70_000));
    const calls: number[] = [];
    const framed = xerialFrame(data, (b) => {
      calls.push(b.length);
      return b.subarray(0, 3);
    });
    assert.deepEqual(calls, [32_768, 32_768, 4_464]);
    assert.deepEqual([...framed.subarray(0, 16)], [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
    assert.equal(framed.length, 16 + 3 * (4 + 3));
    assert.equal(framed.readInt32BE(16), 3);
    const blocks: number[] = [];
    xerialUnframe(framed, (b) => {
      blocks.push(b.length);
      return b;
    });
    assert.deepEqual(blocks, [3, 3, 3]);
    assert.equal(xerialUnframe(Buffer.from('raw'), (b) => Buffer.concat([b, b])).toString(), 'rawraw');
  });

  it('every codec registered with kafkajs compresses and reads back, and counts what it compressed', async () => {
    registerCodecs();
    const { CompressionCodecs } = (await import('kafkajs')).default as unknown as { CompressionCodecs: Record<number, () => { compress(e: { buffer: Buffer }): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer> }> };
    const payload = Buffer.from(JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ event_type: 'page_view', url: `/p/${i % 7}`, consent: { analytics: true } }))));
    for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
      if (codecProblem(codec)) continue;
      const before = codecCounts.get(codec)?.recordBytes ?? 0;
      const impl = CompressionCodecs[CODEC_TYPE[codec]]();
      const packed = await impl.compress({ buffer: payload });
      assert.ok(packed.length < payload.length / 3, `${codec}: ${packed.length} of ${payload.length}`);
      assert.deepEqual(await impl.decompress(packed), payload, codec);
      assert.equal((codecCounts.get(codec)?.recordBytes ?? 0) - before, payload.length, codec);
    }
  });

  it('a transactional batch (an exactly-once stage\'s output) is counted apart from a plain one, through kafkajs\'s own produce request', async () => {
    const produce = createRequire(import.meta.url)('kafkajs/src/protocol/requests/produce/v3/request') as (a: object) => { encode(): Promise<unknown> };
    const value = JSON.stringify({ event_type: 'page_view', url: '/p/1', consent: { analytics: true } }).repeat(20);
    const request = (transactionalId: string | undefined) => produce({
      acks: -1, timeout: 1000, compression: CODEC_TYPE.lz4, transactionalId, producerId: 1, producerEpoch: 0,
      topicData: [{ topic: 't', partitions: [{ partition: 0, firstSequence: 0, messages: [{ key: 'k', value }, { key: 'k', value }] }, { partition: 1, firstSequence: 0, messages: [{ key: 'k', value }] }] }],
    });
    const snap = () => [codecCounts.get('lz4')?.batches ?? 0, transactionalCodecCounts.get('lz4')?.batches ?? 0];
    const [all0, tx0] = snap();
    await request(undefined).encode();
    assert.deepEqual(snap(), [all0 + 2, tx0], 'two plain batches (one per partition)');
    await request('stage.0').encode();
    assert.deepEqual(snap(), [all0 + 4, tx0 + 2], 'two transactional batches');
  });

  it('clients.batch_size: 512KiB by default, a size or a byte count, refused in one located line outside 1KiB–900KiB', () => {
    const base = 'name: c\nduration: 10s\ntraffic: { base_rate: 10 }\nclients:\n  batch_size: ';
    assert.equal(parseScenario('name: c\nduration: 10s\ntraffic: { base_rate: 10 }\n', 'c.yaml').scenario.clients.batch_size, 524_288);
    assert.equal(parseScenario(`${base}64KiB\n`, 'c.yaml').scenario.clients.batch_size, 65_536);
    assert.equal(parseScenario(`${base}16384\n`, 'c.yaml').scenario.clients.batch_size, 16_384);
    assert.throws(() => parseScenario(`${base}2MB\n`, 'c.yaml'), (e: unknown) => e instanceof ScenarioError && /c\.yaml:5:15: clients\.batch_size: 2000000 is too large \(expected ≤ 921600\)/.test(e.message));
    assert.throws(() => parseScenario(`${base}100\n`, 'c.yaml'), (e: unknown) => e instanceof ScenarioError && /c\.yaml:5:15: clients\.batch_size: 100 is too small \(expected ≥ 1024\)/.test(e.message));
    assert.throws(() => parseScenario(`${base}lots\n`, 'c.yaml'), (e: unknown) => e instanceof ScenarioError && /c\.yaml:5:15: clients\.batch_size: "lots" is invalid \(expected a size such as 64KiB\)/.test(e.message));
  });

  it('a scenario asks for a codec: unknown ones are refused; zstd is refused on a Node without it, in one located line', () => {
    const base = 'name: c\nduration: 10s\ntraffic: { base_rate: 10 }\nclients:\n  compression: ';
    assert.equal(parseScenario(`${base}lz4\n`, 'c.yaml').scenario.clients.compression, 'lz4');
    assert.equal(parseScenario('name: c\nduration: 10s\ntraffic: { base_rate: 10 }\n', 'c.yaml').scenario.clients.compression, 'lz4', 'lz4 by default, as production producers run');
    assert.equal(parseScenario(`${base}none\n`, 'c.yaml').scenario.clients.compression, 'none');
    assert.throws(() => parseScenario(`${base}brotli\n`, 'c.yaml'), (e: unknown) => e instanceof ScenarioError && /c\.yaml:5:16: clients\.compression: /.test(e.message));
    const hasZstd = typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';
    if (hasZstd) assert.equal(parseScenario(`${base}zstd\n`, 'c.yaml').scenario.clients.compression, 'zstd');
    else {
      assert.throws(() => parseScenario(`${base}zstd\n`, 'c.yaml'), (e: unknown) => e instanceof ScenarioError
        && e.message === `c.yaml:5:16: clients.compression: zstd needs Node 22.15 or later (its zlib has zstd); this is Node ${process.versions.node} — use lz4, snappy or gzip, or a newer Node`);
    }
  });
});
