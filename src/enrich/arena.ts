/**
 * Serialized values written at once into a shared arena, each a view of its bytes.
 *
 * JSON.stringify gives a rope (V8 builds its output in parts), flattened only when it is first read
 * — by the record encoder, after a transaction's worth of outputs has been held on the heap. That
 * late flattening allocated each value a second time while thousands of others were live, and the
 * collector copied the held strings from one space to the next. Written here as soon as it is made,
 * the flat copy dies young and what is held until the send is bytes off the heap.
 */
import { fieldMax, headersMaxBytes, writeField, writeHeaders } from '../kafka/record-encoder.js';
import { EncodedHeaders } from '../kafka/wire.js';
import type { PackedRecords } from '../kafka/packed.js';
import { packedRun } from './requests.js';

export class ByteArena {
  private buf = Buffer.allocUnsafe(0);
  private at = 0;

  constructor(private readonly chunkBytes = 1 << 20) {}

  private room(most: number): void {
    if (this.at + most > this.buf.length) {
      this.buf = Buffer.allocUnsafe(Math.max(this.chunkBytes, most));
      this.at = 0;
    }
  }

  /**
   * A record's headers in their wire form (src/kafka/wire.ts), as a view of the arena: written right after the
   * record's value, and held as one small view instead of an object of strings until the send.
   */
  headers(h: Record<string, string>): EncodedHeaders {
    this.room(headersMaxBytes(h));
    const end = writeHeaders(this.buf, this.at, h);
    const view = this.buf.subarray(this.at, end);
    this.at = end;
    return new EncodedHeaders(view);
  }

  /**
   * A record's body as record format v2 writes it after the offset delta (key, value, headers), added to the
   * last of a partition's runs of packed records (src/kafka/packed.ts; a new run when that one is full): nothing
   * is held per record but its span.
   */
  record(key: string | null, value: string | Buffer, headers: Record<string, string>, runs: PackedRecords[], partition: number): void {
    this.room(fieldMax(key) + fieldMax(value) + headersMaxBytes(headers));
    const start = this.at;
    let at = writeField(this.buf, start, key);
    at = writeField(this.buf, at, value);
    at = writeHeaders(this.buf, at, headers);
    packedRun(runs, partition, at - start).add(this.buf, start, at);
    this.at = at;
  }

  /** The string's UTF-8 bytes, as a view of the arena. */
  bytes(s: string): Buffer {
    this.room(s.length * 3);
    const n = this.buf.write(s, this.at);
    const view = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return view;
  }
}
