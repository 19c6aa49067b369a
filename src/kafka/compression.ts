/**
 * Record-batch compression, as production producers run it. kafkajs 2.2.4 implements only gzip and
 * lets an application register the other codecs (`CompressionCodecs`); they are registered here, at
 * load of the Kafka seam (src/kafka/client.ts), so every kafkajs client of a run — the driver, the
 * enrichment stage, the probe, the read-back, the table loaders — reads what any of them wrote.
 *
 *   gzip    Node's zlib (as kafkajs's own, registered again so that its bytes are counted)
 *   snappy  the `snappy` package (napi-rs; prebuilt per platform, from the npm registry), in the
 *           xerial framing that Apache Kafka's Java producer writes; raw snappy is read too
 *   lz4     the `lz4-napi` package (napi-rs, prebuilt), LZ4 frame format (Kafka ≥ 0.10, KIP-57), its
 *           synchronous calls: the Promise ones hand every batch to libuv's thread pool and back, ~3× the
 *           CPU of the work itself on a 7 KB batch (48 against 15 µs); in the quickstart the process's CPU
 *           fell 68.4 → 56.3 s and 70.3 → 60.8 s (two pairs of runs, one after the other, warm sandbox)
 *   zstd    Node's own zlib (Node ≥ 22.15 and 23.8); on an older Node a scenario asking for it is refused
 *           at validation with one line
 *
 * Native codecs load on first use (`registerCodecs`); `codecProblem` tells validation whether this Node can run one.
 */
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';

export const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type Codec = (typeof CODECS)[number];

/** kafkajs's CompressionTypes (the batch attribute's codec bits). */
export const CODEC_TYPE: Record<Codec, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

const require = createRequire(import.meta.url);
const gzip = promisify(zlib.gzip);
const unzip = promisify(zlib.unzip);

interface KafkajsCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

type ZstdZlib = typeof zlib & { zstdCompressSync?: (b: Buffer) => Buffer; zstdDecompressSync?: (b: Buffer) => Buffer };

const NATIVE_PACKAGE: Partial<Record<Codec, string>> = { snappy: 'snappy', lz4: 'lz4-napi' };

/** Why this Node cannot run `codec`, or undefined when it can. */
export function codecProblem(codec: Codec): string | undefined {
  if (codec === 'zstd' && typeof (zlib as ZstdZlib).zstdCompressSync !== 'function') {
    return `zstd needs Node 22.15 or later (its zlib has zstd); this is Node ${process.versions.node} — use lz4, snappy or gzip, or a newer Node`;
  }
  const pkg = NATIVE_PACKAGE[codec];
  if (!pkg) return undefined;
  try {
    require(pkg);
    return undefined;
  } catch (err) {
    return `${codec} needs the ${pkg} package, which did not load here (${(err as Error).message.split('\n')[0]}) — run npm ci again, or use gzip`;
  }
}

/* xerial snappy-java's stream framing (what Kafka's Java producer writes for snappy): a 16-byte header
 * (magic, version 1, compatible version 1), then blocks of [int32 compressed length][raw snappy]. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_BLOCK = 32 * 1024;

export function xerialFrame(data: Buffer, compress: (b: Buffer) => Buffer): Buffer {
  const parts: Buffer[] = [XERIAL_MAGIC, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])];
  for (let at = 0; at < data.length; at += XERIAL_BLOCK) {
    const block = compress(data.subarray(at, Math.min(data.length, at + XERIAL_BLOCK)));
    const len = Buffer.allocUnsafe(4);
    len.writeInt32BE(block.length);
    parts.push(len, block);
  }
  return Buffer.concat(parts);
}

export function xerialUnframe(data: Buffer, uncompress: (b: Buffer) => Buffer): Buffer {
  if (data.length < 16 || !data.subarray(0, 8).equals(XERIAL_MAGIC)) return uncompress(data);
  const out: Buffer[] = [];
  for (let at = 16; at < data.length; ) {
    const len = data.readInt32BE(at);
    out.push(uncompress(data.subarray(at + 4, at + 4 + len)));
    at += 4 + len;
  }
  return Buffer.concat(out);
}

/** Bytes into and out of each codec's compress in this process: the compression its producers achieved. */
export interface CodecCount {
  batches: number;
  recordBytes: number;
  compressedBytes: number;
}
export const codecCounts = new Map<Codec, CodecCount>();
/** The part of `codecCounts` that went into transactional batches (an exactly-once stage's output). */
export const transactionalCodecCounts = new Map<Codec, CodecCount>();

/**
 * Whether the batch being encoded is transactional. The codec reads it synchronously when called:
 * src/kafka/produce-encoder.ts sets it around its own codec call, src/kafka/kafkajs-fixes.ts around kafkajs's
 * RecordBatch (which encodes and calls the codec in one synchronous stretch) for the requests left to kafkajs,
 * so the codec can tell an exactly-once stage's output from the load producer's in one process.
 */
let transactionalBatch = false;
export function withBatchKind<T>(transactional: boolean, encode: () => T): T {
  transactionalBatch = transactional;
  try {
    return encode();
  } finally {
    transactionalBatch = false;
  }
}

function add(into: Map<Codec, CodecCount>, codec: Codec, recordBytes: number, compressedBytes: number): void {
  const c = into.get(codec) ?? { batches: 0, recordBytes: 0, compressedBytes: 0 };
  c.batches++;
  c.recordBytes += recordBytes;
  c.compressedBytes += compressedBytes;
  into.set(codec, c);
}

/** Counts added up; undefined when there are none. */
export function sumCodecCounts(counts: Iterable<CodecCount | undefined>): CodecCount | undefined {
  let t: CodecCount | undefined;
  for (const c of counts) if (c) t = { batches: (t?.batches ?? 0) + c.batches, recordBytes: (t?.recordBytes ?? 0) + c.recordBytes, compressedBytes: (t?.compressedBytes ?? 0) + c.compressedBytes };
  return t;
}

/** a − b (b's batches were part of a's), or a when there is no b. */
export function subtractCodecCounts(a: CodecCount | undefined, b: CodecCount | undefined): CodecCount | undefined {
  if (!a || !b) return a;
  return { batches: a.batches - b.batches, recordBytes: a.recordBytes - b.recordBytes, compressedBytes: a.compressedBytes - b.compressedBytes };
}

/** Every codec's counts in this process added up (one process's producers use one codec each). */
export function totalCodecCount(): CodecCount {
  return sumCodecCounts(codecCounts.values()) ?? { batches: 0, recordBytes: 0, compressedBytes: 0 };
}

function counted(codec: Codec, impl: KafkajsCodec): KafkajsCodec {
  return {
    decompress: impl.decompress,
    compress: async (e) => {
      const transactional = transactionalBatch; // read before the first await: set for this call only
      const out = await impl.compress(e);
      add(codecCounts, codec, e.buffer.length, out.length);
      if (transactional) add(transactionalCodecCounts, codec, e.buffer.length, out.length);
      return out;
    },
  };
}

function codecFor(codec: Exclude<Codec, 'none'>): KafkajsCodec {
  if (codec === 'gzip') {
    return { compress: async (e) => gzip(e.buffer), decompress: async (b) => unzip(b) };
  }
  if (codec === 'snappy') {
    const snappy = require('snappy') as { compressSync(b: Buffer): Buffer; uncompressSync(b: Buffer, o?: { asBuffer: true }): Buffer };
    return {
      compress: async (e) => xerialFrame(e.buffer, (b) => snappy.compressSync(b)),
      decompress: async (b) => xerialUnframe(b, (x) => snappy.uncompressSync(x, { asBuffer: true })),
    };
  }
  if (codec === 'lz4') {
    const lz4 = require('lz4-napi') as { compressFrameSync(b: Buffer): Buffer; decompressFrameSync(b: Buffer): Buffer };
    return { compress: async (e) => lz4.compressFrameSync(e.buffer), decompress: async (b) => lz4.decompressFrameSync(b) };
  }
  const z = zlib as ZstdZlib;
  return { compress: async (e) => z.zstdCompressSync!(e.buffer), decompress: async (b) => z.zstdDecompressSync!(b) };
}

let registered = false;

/**
 * Registers gzip, snappy, lz4 and zstd with kafkajs (each counting what it compresses: `codecCounts`), each loaded on its first use: a consumer must read
 * whatever codec a producer of the cluster wrote, and a run that compresses nothing loads no native
 * module. zstd is registered only where Node's zlib has it; elsewhere kafkajs fails such a batch
 * with its own "not implemented" error (and validation refuses a scenario that asks for zstd there).
 */
export function registerCodecs(): void {
  if (registered) return;
  registered = true;
  const { CompressionCodecs } = require('kafkajs') as { CompressionCodecs: Record<number, () => KafkajsCodec> };
  for (const c of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    if (c === 'zstd' && typeof (zlib as ZstdZlib).zstdCompressSync !== 'function') continue;
    let impl: KafkajsCodec | undefined;
    CompressionCodecs[CODEC_TYPE[c]] = () => (impl ??= counted(c, codecFor(c)));
  }
}
