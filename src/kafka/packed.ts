/**
 * Records of one partition written ahead of their send in wire form, held as spans of a few shared
 * buffers instead of a message object each.
 *
 * The enrichment stage holds a transaction's outputs from its enrichment to the commit: 40 000–100 000
 * records when it is behind (1 MiB fetched per partition). Held as kafkajs messages, each was a message
 * object, a view of its value and one of its headers (src/enrich/arena.ts): some 300 000 small objects the
 * collector copied from space to space while they waited. The enricher alone, its outputs held so (200 000
 * generated events, CPU time, interleaved runs on this machine kind, 2026-12-07): 20–37 µs per event,
 * against 14–20 with the same bytes written and only numbers held.
 *
 * A record's body — key, value and headers as record format v2 writes them after its offset delta — is
 * written once (ByteArena.record); what stays is three numbers in an array. The produce encoder
 * (src/kafka/produce-encoder.ts) writes each record's length, attributes, timestamp and offset deltas in
 * front of its body and copies the body. To kafkajs, whose producer counts a request's records (and its
 * idempotent sequence numbers) by its messages, the run is its object repeated once per record
 * (`slots`): the same object, not one per record. Only clickbench's encoder writes them: a request
 * holding one that the encoder does not take is an error, never kafkajs's fallback.
 */
import { framedBytes, recordLength, varintBytes } from './wire.js';
import { writeRecordPrefix, writeVarLong } from './record-encoder.js';

/** The most bytes a record takes in front of its body: its length (≤ 5), attributes (1), timestamp and offset deltas (≤ 10 + 5). */
export const RECORD_FRAMING_MAX = 21;

export class PackedRecords {
  /** kafkajs's sendBatch refuses a message whose value is undefined: the records' values are in the spans. */
  readonly value = null;
  readonly key = null;
  /** Per record: its buffer's index in `bufs`, the start and the end of its body. */
  private readonly spans: number[] = [];
  private readonly bufs: Buffer[] = [];
  /** Σ of the records' body bytes. */
  bodyBytes = 0;

  constructor(readonly partition: number) {}

  /** A record whose body is `buf[start, end)`. */
  add(buf: Buffer, start: number, end: number): void {
    let b = this.bufs.length - 1;
    if (b < 0 || this.bufs[b] !== buf) {
      this.bufs.push(buf);
      b++;
    }
    this.spans.push(b, start, end);
    this.bodyBytes += end - start;
  }

  get count(): number {
    return this.spans.length / 3;
  }

  /** The body of record `i` (a view; for tests and checks). */
  body(i: number): Buffer {
    const k = 3 * i;
    return this.bufs[this.spans[k]].subarray(this.spans[k + 1], this.spans[k + 2]);
  }

  /** The messages that stand for the records in a request: this object once per record. */
  slots(): PackedRecords[] {
    return new Array<PackedRecords>(this.count).fill(this);
  }

  /** The most bytes the records take in a batch: each body and the most its framing takes. */
  maxBytes(): number {
    return this.bodyBytes + RECORD_FRAMING_MAX * this.count;
  }

  /** The records' bytes in a batch where the first is at offset delta `firstDelta`, the timestamp delta one byte (as src/kafka/wire.ts counts). */
  wireBytes(firstDelta: number): number {
    let bytes = 0;
    for (let i = 0, k = 0; k < this.spans.length; i++, k += 3) bytes += framedBytes(this.spans[k + 2] - this.spans[k + 1], firstDelta + i);
    return bytes;
  }

  /** The records written at `at` of `buf` (room for maxBytes), offset deltas from `firstDelta`; returns the next offset. */
  writeInto(buf: Buffer, at: number, firstDelta: number, timestampDelta: number): number {
    const tsBytes = varintBytes(timestampDelta);
    for (let i = 0, k = 0; k < this.spans.length; i++, k += 3) {
      const start = this.spans[k + 1];
      const end = this.spans[k + 2];
      const delta = firstDelta + i;
      at = writeVarLong(buf, at, recordLength(end - start, delta, tsBytes));
      at = writeRecordPrefix(buf, at, timestampDelta, delta);
      at += this.bufs[this.spans[k]].copy(buf, at, start, end);
    }
    return at;
  }
}

/**
 * Where a run of `messages` starting at `i` ends (exclusive) when it is a PackedRecords, else undefined. The run
 * must be whole: its object `count` times in a row (a request cut inside it would misnumber its records).
 */
export function packedRunEnd(messages: readonly unknown[], i: number): number | undefined {
  const m = messages[i];
  if (!(m instanceof PackedRecords)) return undefined;
  const end = i + m.count;
  if (messages[end - 1] !== m || messages[end] === m || (i > 0 && messages[i - 1] === m)) throw new Error('packed records: a run split or repeated inside a request');
  return end;
}
