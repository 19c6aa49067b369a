/**
 * Serialized values written at once into a shared arena, each a view of its bytes.
 *
 * JSON.stringify gives a rope (V8 builds its output in parts), flattened only when it is first read
 * — by the record encoder, after a transaction's worth of outputs has been held on the heap. That
 * late flattening allocated each value a second time while thousands of others were live, and the
 * collector copied the held strings from one space to the next. Written here as soon as it is made,
 * the flat copy dies young and what is held until the send is bytes off the heap.
 */
export class ByteArena {
  private buf = Buffer.allocUnsafe(0);
  private at = 0;

  constructor(private readonly chunkBytes = 1 << 20) {}

  /** The string's UTF-8 bytes, as a view of the arena. */
  bytes(s: string): Buffer {
    const most = s.length * 3;
    if (this.at + most > this.buf.length) {
      this.buf = Buffer.allocUnsafe(Math.max(this.chunkBytes, most));
      this.at = 0;
    }
    const n = this.buf.write(s, this.at);
    const view = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return view;
  }
}
