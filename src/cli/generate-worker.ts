/**
 * One of `generate`'s worker threads (src/cli/scenario.ts starts them): the scenario's generator striped
 * (GeneratorOptions.stripe), its blocks' lines encoded into buffers that go to the main thread (moved, not
 * copied), which writes every worker's blocks in order. A buffer comes back once written: a worker with
 * none left waits, so a slow reader holds the workers back instead of filling memory.
 *
 * Messages to the main thread (`Piece`): part or all of block `block`; `final` when the block is complete;
 * `last` when this worker's later blocks are all empty (the stream ended: the event limit or the duration).
 */
import { parentPort } from 'node:worker_threads';
import { ClickstreamGenerator } from '../generate/clickstream.js';
import { LineBuffer, lineAlone } from './line-buffer.js';
import type { Scenario } from '../scenario/schema.js';

export interface StripeJob {
  scenario: Scenario;
  startMs: number;
  idPrefix: string;
  index: number;
  of: number;
  /** Events per block. */
  block: number;
  maxEvents: number;
  durationMs: number;
  /** Bytes per buffer, and how many buffers this worker may have out at once. */
  bufferBytes: number;
  buffers: number;
}

export interface Piece {
  block: number;
  bytes: Uint8Array;
  final: boolean;
  last: boolean;
}

const port = parentPort!;
// The job is the first message: the thread starts (and loads the generator) while the main thread reads
// and checks the scenario.
const job = await new Promise<StripeJob>((resolve) => port.once('message', resolve));
const gen = new ClickstreamGenerator(job.scenario, { startMs: job.startMs, idPrefix: job.idPrefix, mirrors: false, stripe: { index: job.index, of: job.of, block: job.block } });

const spare: Buffer[] = [];
let waiting: (() => void) | null = null;
let made = 0;
port.on('message', (bytes: Uint8Array) => {
  // A buffer of this worker's, its whole length (the message is the view of what was written).
  if (bytes.buffer.byteLength === job.bufferBytes) spare.push(Buffer.from(bytes.buffer as ArrayBuffer));
  waiting?.();
  waiting = null;
});
async function buffer(): Promise<Buffer> {
  if (made < job.buffers) {
    made++;
    return Buffer.from(new ArrayBuffer(job.bufferBytes));
  }
  while (spare.length === 0) await new Promise<void>((r) => (waiting = r));
  return spare.pop()!;
}

let block = job.index;
const lines = new LineBuffer(await buffer());
const post = (final: boolean, last: boolean) => {
  const bytes = lines.view();
  port.postMessage({ block, bytes, final, last } satisfies Piece, [bytes.buffer as ArrayBuffer]);
};
for (;;) {
  if (gen.nextOffsetMs >= job.durationMs) break;
  const e = gen.next();
  if (e.seq >= job.maxEvents) break;
  const line = e.value;
  const at = Math.floor(e.seq / job.block);
  // Blocks of this worker's before the event's are complete (some may be empty).
  while (block < at) {
    post(true, false);
    lines.reset(await buffer());
    block += job.of;
  }
  if (!lines.put(line)) {
    post(false, false);
    lines.reset(await buffer());
    // A line longer than a buffer (an oversized bad record) goes alone.
    if (!lines.put(line)) {
      const bytes = lineAlone(line);
      port.postMessage({ block, bytes, final: false, last: false } satisfies Piece, [bytes.buffer as ArrayBuffer]);
    }
  }
}
post(true, true);
port.close();
