/**
 * JSONL lines encoded into fixed-size buffers, as `generate` writes them, on one thread (src/cli/scenario.ts)
 * or on its worker threads (src/cli/generate-worker.ts). Whether a line fits is judged on UTF-8's bound (at
 * most 3 bytes per UTF-16 unit), not measured: `Buffer#write` encodes straight into the buffer.
 */
export class LineBuffer {
  used = 0;

  constructor(public buf: Buffer) {}

  /** Encode `line` and a newline after what the buffer holds; false, with nothing written, when it might not fit. */
  put(line: string): boolean {
    if (this.used + line.length * 3 + 1 > this.buf.length) return false;
    this.used += this.buf.write(line, this.used);
    this.buf[this.used++] = 10;
    return true;
  }

  /** What the buffer holds (a view on it). */
  view(): Uint8Array {
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.used);
  }

  /** Go on in `buf`, empty. */
  reset(buf: Buffer): void {
    this.buf = buf;
    this.used = 0;
  }
}

/** A line that `put` refused in an empty buffer (longer than a buffer: an oversized bad record), with its newline, in memory of its own. */
export function lineAlone(line: string): Uint8Array {
  return new TextEncoder().encode(`${line}\n`);
}
