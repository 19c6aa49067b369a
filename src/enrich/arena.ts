/**
 * The enrichment stage's outputs written at once into a shared arena, in the form they are sent in.
 *
 * JSON.stringify gives a rope (V8 builds its output in parts), flattened only when it is first read
 * — by the record encoder, after a transaction's worth of outputs has been held on the heap. That
 * late flattening allocated each value a second time while thousands of others were live, and the
 * collector copied the held strings from one space to the next. Written here as soon as it is made,
 * the flat copy dies young; what is held until the send is bytes off the heap and a span of them per
 * record (src/kafka/packed.ts).
 */
import { fieldMax, headersMaxBytes, writeField, writeHeaders } from '../kafka/record-encoder.js';
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
}
