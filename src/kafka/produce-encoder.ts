/**
 * A produce request (version 3, which kafkajs 2.2.4 also sends as versions 4 to 7) written into one
 * exactly-sized buffer, with its record batches' CRC-32C computed eight bytes at a time.
 *
 * kafkajs builds a produce request through a chain of growing `Encoder`s: the records into the
 * batch body, the body into the batch, the batch into its length-prefixed bytes, those into the
 * partition, the partitions into the topic, the topics into the request. Each step allocates a
 * zero-filled buffer of the next power of two, copies what it holds, and grows again while it
 * writes. Its CRC-32C goes one byte at a time. With the V8 profiler on the enrichment bench
 * (100 000 events, at-least-once, where the stage is CPU-bound) that chain, its CRC and the garbage
 * they leave were ~25 % of the stage's CPU; the run's driver sends through the same path.
 *
 * Installed in place of kafkajs's `requests/produce/v3/request` module (src/kafka/kafkajs-fixes.ts).
 * Batches whose every record the record encoder takes are written here, compressed ones too (each
 * partition's records compressed by the codec kafkajs would call); anything else (a `Long` timestamp, a
 * codec not registered) goes to kafkajs's own request. The unit tests compare the two byte for byte.
 */
import { createRequire } from 'node:module';
import { recordInto, recordMaxBytes, type RecordInput } from './record-encoder.js';
import { withBatchKind } from './compression.js';
import { PackedRecords, packedRunEnd } from './packed.js';

const require = createRequire(import.meta.url);
const Long = require('kafkajs/src/utils/long') as { fromValue(v: unknown): { getHighBits(): number; getLowBits(): number } };
const Encoder = require('kafkajs/src/protocol/encoder') as new (size?: number) => { buf: Buffer; offset: number };
/** The codec kafkajs would use for a batch's codec bits (those src/kafka/compression.ts registers), or null. */
const { lookupCodec } = require('kafkajs/src/protocol/message/compression') as { lookupCodec(type: number): { compress(e: { buffer: Buffer }): Promise<Buffer> } | null };

/** CRC-32C (Castagnoli), slicing by 8: eight tables of 256 entries. */
const T = (() => {
  const t = new Int32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c;
  }
  for (let i = 0; i < 256; i++) for (let s = 1; s < 8; s++) t[s * 256 + i] = (t[(s - 1) * 256 + i] >>> 8) ^ t[t[(s - 1) * 256 + i] & 0xff];
  return t;
})();

/**
 * CRC-32C of a record batch: @node-rs/crc32's native CRC-32C (already installed as a dependency of
 * @platformatic/kafka), ~165 ns per KiB against ~890 for crc32c below on this machine kind, or crc32c where that
 * package has no build for the platform. The record batches of the enrichment stage (~1 KB per event) and of
 * the driver all pass through it.
 */
export const batchCrc32c: (buf: Uint8Array, start: number, end: number) => number = (() => {
  try {
    const native = (require('@node-rs/crc32') as { crc32c(input: Uint8Array): number }).crc32c;
    // A check value first: a build that loads but answers wrongly would corrupt every batch.
    if (native(Buffer.from('123456789')) >>> 0 !== 0xe3069283) return crc32c;
    return (buf: Uint8Array, start: number, end: number) => native(buf.subarray(start, end)) >>> 0;
  } catch {
    return crc32c;
  }
})();

/** CRC-32C of `buf[start, end)`, as an unsigned 32-bit number. */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  let c = -1;
  let i = start;
  for (; end - i >= 8; i += 8) {
    c ^= buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24);
    c = T[1792 + (c & 0xff)] ^ T[1536 + ((c >>> 8) & 0xff)] ^ T[1280 + ((c >>> 16) & 0xff)] ^ T[1024 + (c >>> 24)]
      ^ T[768 + buf[i + 4]] ^ T[512 + buf[i + 5]] ^ T[256 + buf[i + 6]] ^ T[buf[i + 7]];
  }
  for (; i < end; i++) c = T[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

export interface ProduceMessage extends RecordInput {
  timestamp?: unknown;
}

export interface ProduceArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: { topic: string; partitions: { partition: number; firstSequence?: number; messages: ProduceMessage[] }[] }[];
}

export interface ProduceRequest {
  apiKey: number;
  apiVersion: number;
  apiName: string;
  expectResponse: () => boolean;
  encode: () => Promise<unknown>;
}

const RECORD_BATCH_OVERHEAD = 8 + 4 + 4 + 1 + 4; // first offset, length, leader epoch, magic, crc
const BATCH_BODY_HEADER = 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4; // attributes … first sequence, record count
const TRANSACTIONAL = 16;
const CODEC_MASK = 0x07;

function writeInt64(buf: Buffer, at: number, v: unknown): number {
  const l = Long.fromValue(v);
  buf.writeInt32BE(l.getHighBits(), at);
  buf.writeInt32BE(l.getLowBits(), at + 4);
  return at + 8;
}

/**
 * Room left in front of an encoded produce request for kafkajs's request header (size, API key and
 * version, correlation id, client id): the request framing (src/kafka/request-framing.ts) writes it there
 * instead of copying the request twice into growing buffers.
 */
export const REQUEST_HEADROOM = 512;

/** One partition's batch as planned: its records' timestamps, and (compressed) its records' compressed bytes. */
interface PartitionPlan {
  partition: number;
  firstSequence: number;
  messages: ProduceMessage[];
  firstTimestamp: number;
  maxTimestamp: number;
  /** The most bytes its records can take (recordMaxBytes of each). */
  recordsMax: number;
  /** The compressed records (a compressed batch); absent: the records are written in place. */
  compressed?: Buffer;
}

/**
 * Each partition's plan, and the most bytes the request can take, or undefined when it is not one this encoder
 * writes. Timestamps as kafkajs takes them: the messages' own (sorted as kafkajs sorts them), else the time now.
 */
function planRequest(a: ProduceArgs, now: number): { plans: PartitionPlan[][]; max: number; txnIdLen: number } | undefined {
  const txnId = a.transactionalId ?? null;
  const txnIdLen = txnId === null ? 0 : Buffer.byteLength(txnId, 'utf8');
  let max = 2 + txnIdLen + 2 + 4 + 4 + 16;
  const plans: PartitionPlan[][] = [];
  for (const t of a.topicData) {
    max += 2 + Buffer.byteLength(t.topic, 'utf8') + 4;
    const tp: PartitionPlan[] = [];
    for (const p of t.partitions) {
      const ms = p.messages;
      if (ms.length === 0) return undefined;
      max += 4 + 4 + RECORD_BATCH_OVERHEAD + BATCH_BODY_HEADER;
      let recordsMax = 0;
      for (let i = 0; i < ms.length; ) {
        const runEnd = packedRunEnd(ms, i);
        if (runEnd !== undefined) {
          recordsMax += (ms[i] as PackedRecords).maxBytes();
          i = runEnd;
          continue;
        }
        const n = recordMaxBytes(ms[i]);
        if (n === undefined) return undefined;
        recordsMax += n;
        i++;
      }
      max += recordsMax;
      let firstTimestamp: unknown = now;
      let maxTimestamp: unknown = now;
      if (ms.some((m) => m.timestamp != null)) {
        const stamps = ms.map((m) => m.timestamp).filter((x) => x != null).sort();
        firstTimestamp = stamps[0];
        maxTimestamp = stamps[stamps.length - 1];
      }
      if (typeof firstTimestamp !== 'number' || typeof maxTimestamp !== 'number') return undefined;
      for (const m of ms) if (!Number.isSafeInteger(((m.timestamp || now) as number) - firstTimestamp)) return undefined;
      tp.push({ partition: p.partition, firstSequence: p.firstSequence ?? 0, messages: ms, firstTimestamp, maxTimestamp, recordsMax });
    }
    plans.push(tp);
  }
  return { plans, max, txnIdLen };
}

/** The plan, or undefined for a request left to kafkajs; one holding packed records (./packed.ts) is never left to it. */
function taken<P>(a: ProduceArgs, plan: P | undefined): P | undefined {
  if (plan === undefined && a.topicData.some((t) => t.partitions.some((p) => p.messages.some((m) => m instanceof PackedRecords)))) {
    throw new Error('produce encoder: a request with packed records that this encoder does not take (kafkajs would write them empty)');
  }
  return plan;
}

/** A partition's records written at `at` of `buf` (room for their recordMaxBytes); returns the next offset. */
function recordsInto(buf: Buffer, at: number, p: PartitionPlan, now: number): number {
  const ms = p.messages;
  for (let i = 0; i < ms.length; ) {
    const m = ms[i];
    if (m instanceof PackedRecords) {
      // A run's records were sent without timestamps: the time now, as for any such message.
      at = m.writeInto(buf, at, i, now - p.firstTimestamp);
      i += m.count;
      continue;
    }
    at = recordInto(buf, at, { key: m.key, value: m.value, headers: m.headers, offsetDelta: i, timestampDelta: ((m.timestamp || now) as number) - p.firstTimestamp });
    i++;
  }
  return at;
}

/** The request written from its plan into a buffer of `size` bytes, `headroom` in front; returns its bytes. */
function writeRequest(a: ProduceArgs, plan: NonNullable<ReturnType<typeof planRequest>>, size: number, now: number, headroom: number): Buffer {
  const txnId = a.transactionalId ?? null;
  // Written where it is sent from: a buffer of the most it can take (its pages untouched past what is written),
  // the header's room in front.
  const whole = Buffer.allocUnsafe(headroom + size);
  const buf = headroom ? whole.subarray(headroom) : whole;
  let at = 0;
  if (txnId === null) at = buf.writeInt16BE(-1, at);
  else {
    at = buf.writeInt16BE(plan.txnIdLen, at);
    at += buf.write(txnId, at, plan.txnIdLen, 'utf8');
  }
  at = buf.writeInt16BE(a.acks, at);
  at = buf.writeInt32BE(a.timeout, at);
  at = buf.writeInt32BE(a.topicData.length, at);
  const attributes = (txnId !== null ? TRANSACTIONAL : 0) | ((a.compression ?? 0) & CODEC_MASK);
  a.topicData.forEach((t, ti) => {
    const topicLen = Buffer.byteLength(t.topic, 'utf8');
    at = buf.writeInt16BE(topicLen, at);
    at += buf.write(t.topic, at, topicLen, 'utf8');
    at = buf.writeInt32BE(t.partitions.length, at);
    for (const p of plan.plans[ti]) {
      at = buf.writeInt32BE(p.partition, at);
      // The record set's size, the batch's length and its CRC are filled in once the records are written.
      const setSizeAt = at;
      at += 4;
      at = writeInt64(buf, at, 0);
      const batchLengthAt = at;
      at += 4;
      at = buf.writeInt32BE(0, at); // partition leader epoch
      at = buf.writeInt8(2, at); // magic
      const crcAt = at;
      at += 4;
      const bodyAt = at;
      at = buf.writeInt16BE(attributes, at);
      at = buf.writeInt32BE(p.messages.length - 1, at);
      at = writeInt64(buf, at, p.firstTimestamp);
      at = writeInt64(buf, at, p.maxTimestamp);
      at = writeInt64(buf, at, a.producerId ?? -1);
      at = buf.writeInt16BE(a.producerEpoch ?? 0, at);
      at = buf.writeInt32BE(p.firstSequence, at);
      at = buf.writeInt32BE(p.messages.length, at);
      at = p.compressed ? at + p.compressed.copy(buf, at) : recordsInto(buf, at, p, now);
      buf.writeInt32BE(at - setSizeAt - 4, setSizeAt);
      buf.writeInt32BE(at - batchLengthAt - 4, batchLengthAt);
      buf.writeUInt32BE(batchCrc32c(buf, bodyAt, at), crcAt);
    }
  });
  return buf.subarray(0, at);
}

/**
 * The request's bytes (after the request header, which `headroom` bytes in front are left for), or
 * undefined when it is not one this encoder writes (a codec: encodeCompressedProduceRequest). Records are
 * written in place (recordInto): each string is encoded once, straight into the request, which is not copied again.
 */
export function encodeProduceRequest(a: ProduceArgs, now = Date.now(), headroom = 0): Buffer | undefined {
  if ((a.compression ?? 0) !== 0) return undefined;
  const plan = taken(a, planRequest(a, now));
  return plan && writeRequest(a, plan, plan.max, now, headroom);
}

/** Compresses a batch's records (a codec as kafkajs registers them: it reads `buffer`). */
export type RecordsCompressor = (records: Buffer, transactional: boolean) => Promise<Buffer>;

/**
 * A compressed request's bytes, as encodeProduceRequest writes an uncompressed one, or undefined when it is not
 * one this encoder writes. Each partition's records are written into one buffer (recordInto) and handed to
 * `compress`; the request is then written in one exactly-sized buffer. kafkajs's path, which every compressed
 * batch took before 2026-12-07: a record object and an `Encoder` per record, the records copied into a growing
 * encoder, the batch through two more, its CRC-32C a byte at a time in JavaScript.
 */
export async function encodeCompressedProduceRequest(a: ProduceArgs, compress: RecordsCompressor, now = Date.now(), headroom = 0): Promise<Buffer | undefined> {
  if ((a.compression ?? 0) === 0) return undefined;
  const plan = taken(a, planRequest(a, now));
  if (!plan) return undefined;
  let size = plan.max;
  for (const tp of plan.plans) {
    for (const p of tp) {
      const scratch = Buffer.allocUnsafe(p.recordsMax);
      const records = scratch.subarray(0, recordsInto(scratch, 0, p, now));
      p.compressed = await compress(records, !!a.transactionalId);
      size += p.compressed.length - p.recordsMax;
    }
  }
  return writeRequest(a, plan, size, now, headroom);
}

/** The replacement for kafkajs's produce v3 request: this encoder when it takes the request, else `original`'s. */
export function produceRequestV3(original: (a: ProduceArgs) => ProduceRequest): (a: ProduceArgs) => ProduceRequest {
  return function produceRequest(a: ProduceArgs): ProduceRequest {
    const fallback = original(a);
    return {
      ...fallback,
      encode: async () => {
        const codec = a.compression ? lookupCodec(a.compression) : null;
        const buf = codec
          ? await encodeCompressedProduceRequest(a, (records, transactional) => withBatchKind(transactional, () => codec.compress({ buffer: records })), Date.now(), REQUEST_HEADROOM)
          : encodeProduceRequest(a, Date.now(), REQUEST_HEADROOM);
        if (!buf) return fallback.encode();
        // kafkajs's request framing takes an Encoder (it checks `buf`, copies `buffer`); the framing
        // (src/kafka/request-framing.ts) writes its header into the room left in front instead.
        const e = new Encoder(0) as { buf: Buffer; offset: number; framingRoom?: number };
        e.buf = buf;
        e.offset = buf.length;
        e.framingRoom = REQUEST_HEADROOM;
        return e;
      },
    };
  };
}
