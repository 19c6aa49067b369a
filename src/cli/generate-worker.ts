/**
 * One of `generate`'s worker threads (src/cli/scenario.ts starts them): it serializes the blocks of events the
 * main thread drew (ClickstreamGenerator.draw, the single stream's draws made once) with a generator of the same
 * scenario and options (ClickstreamGenerator.render), its lines encoded into buffers that go to the main thread
 * (moved, not copied), which writes every block in order. A buffer comes back once written: a worker with none
 * left waits, so a slow reader holds the workers back (and, through its draws coming back late, the main thread)
 * instead of filling memory.
 *
 * Messages from the main thread: the job first (`RenderJob`), then blocks to render (`DrawnBlock`) and written
 * buffers coming back (a Uint8Array). To the main thread (`Piece`): part or all of block `block`; `final` when
 * the block is complete, with the block's draws given back for the next one.
 */
import { parentPort } from 'node:worker_threads';
import { ClickstreamGenerator, DRAW_SLOTS, Drawn, unpackDrawn } from '../generate/clickstream.js';
import { LineBuffer, lineAlone } from './line-buffer.js';
import type { Scenario } from '../scenario/schema.js';

export interface RenderJob {
  scenario: Scenario;
  startMs: number;
  idPrefix: string;
  /** Bytes per buffer, and how many buffers this worker may have out at once. */
  bufferBytes: number;
  buffers: number;
}

/** Events `count` of block `block`: their draws (ClickstreamGenerator.draw), packed (packDrawn: DRAW_SLOTS numbers each). */
export interface DrawnBlock {
  block: number;
  count: number;
  draws: Float64Array;
}

export interface Piece {
  block: number;
  bytes: Uint8Array;
  final: boolean;
  /** With the final piece: the block's draws, for the main thread's next block. */
  draws?: Float64Array;
}

const port = parentPort!;
// The job is the first message: the thread starts (and loads the generator) while the main thread reads
// and checks the scenario.
const job = await new Promise<RenderJob>((resolve) => port.once('message', resolve));
const gen = new ClickstreamGenerator(job.scenario, { startMs: job.startMs, idPrefix: job.idPrefix, mirrors: false });

const spare: Buffer[] = [];
const blocks: DrawnBlock[] = [];
let waiting: (() => void) | null = null;
let made = 0;
port.on('message', (m: Uint8Array | DrawnBlock) => {
  if (m instanceof Uint8Array) {
    // A buffer of this worker's, its whole length (the message is the view of what was written).
    if (m.buffer.byteLength === job.bufferBytes) spare.push(Buffer.from(m.buffer as ArrayBuffer));
  } else blocks.push(m);
  waiting?.();
  waiting = null;
});
const wake = () => new Promise<void>((r) => (waiting = r));
async function buffer(): Promise<Buffer> {
  if (made < job.buffers) {
    made++;
    return Buffer.from(new ArrayBuffer(job.bufferBytes));
  }
  while (spare.length === 0) await wake();
  return spare.pop()!;
}

const drawn = new Drawn();
const lines = new LineBuffer(await buffer());
for (;;) {
  while (blocks.length === 0) await wake();
  const { block, count, draws } = blocks.shift()!;
  for (let i = 0; i < count; i++) {
    unpackDrawn(draws, i * DRAW_SLOTS, drawn);
    const line = gen.render(drawn).value;
    if (lines.put(line)) continue;
    const bytes = lines.view();
    port.postMessage({ block, bytes, final: false } satisfies Piece, [bytes.buffer as ArrayBuffer]);
    lines.reset(await buffer());
    // A line longer than a buffer (an oversized bad record) goes alone.
    if (!lines.put(line)) {
      const alone = lineAlone(line);
      port.postMessage({ block, bytes: alone, final: false } satisfies Piece, [alone.buffer as ArrayBuffer]);
    }
  }
  const bytes = lines.view();
  port.postMessage({ block, bytes, final: true, draws } satisfies Piece, [bytes.buffer as ArrayBuffer, draws.buffer as ArrayBuffer]);
  lines.reset(await buffer());
}
