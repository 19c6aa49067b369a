/** `clickbench validate | generate | schema`: scenario files and the generator, no Kafka needed. */
import { closeSync, fstatSync, openSync, write as fsWrite, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Command } from 'commander';
import { UsageError } from '../errors.js';
import { parseIntFlag } from './flags.js';
import type { ClickstreamGenerator } from '../generate/clickstream.js';
import type { TrafficStats } from '../generate/stats.js';
import type { Worker } from 'node:worker_threads';
import type { DrawnBlock, Piece, RenderJob } from './generate-worker.js';
import type { Scenario } from '../scenario/schema.js';
import { parseDurationMs } from '../scenario/units.js';
import { table, type Io } from '../report/io.js';
import { LineBuffer, lineAlone } from './line-buffer.js';
import { thousands } from '../report/numbers.js';

const pct = (x: number, digits = 1) => `${(x * 100).toFixed(digits)} %`;

export function validateCommand(io: Io): Command {
  return new Command('validate')
    .description('check a scenario file; prints every problem as file:line:col: path: what is wrong')
    .argument('<file>', 'scenario YAML')
    .action(async (file: string) => {
      const { loadScenario } = await import('../scenario/load.js');
      const { scenario, hash } = loadScenario(file);
      io.out(`${file}: valid scenario "${scenario.name}" (${scenario.duration / 1000} s, base ${scenario.traffic.base_rate} events/s, ${scenario.traffic.bursts.length} burst(s); sha256 ${hash.slice(0, 12)})`);
    });
}

export function schemaCommand(io: Io): Command {
  return new Command('schema')
    .description('print the JSON Schema of scenario files (for editor autocompletion)')
    .option('--out <file>', 'write it to a file instead')
    .action(async (o: { out?: string }) => {
      const { scenarioJsonSchema } = await import('../scenario/schema.js');
      const text = JSON.stringify(scenarioJsonSchema(), null, 2) + '\n';
      if (o.out) writeFileSync(o.out, text);
      else io.out(text.trimEnd());
    });
}

function parseCount(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`--events must be a positive whole number, got "${v}"`);
  return Number(v);
}
/** `--shard i/N`: this process's shard of the stream (0 ≤ i < N). */
export function parseShard(v: string): { index: number; of: number } {
  const m = /^(\d+)\/(\d+)$/.exec(v);
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) throw new UsageError(`--shard must be i/N with 0 ≤ i < N (e.g. 0/4 … 3/4), got "${v}"`);
  return { index: Number(m[1]), of: Number(m[2]) };
}
function parseDurationFlag(v: string): number {
  const ms = parseDurationMs(v);
  if (ms === undefined || ms <= 0) throw new UsageError(`--duration must be a duration such as 30s or 2m, got "${v}"`);
  return ms;
}

interface GenerateOptions {
  events?: number;
  duration?: number;
  seed?: number;
  out: string;
  shard?: { index: number; of: number };
  stats?: boolean;
  json?: boolean;
}

export function generateCommand(io: Io): Command {
  return new Command('generate')
    .description('write the scenario\'s clickstream as JSONL (deterministic by seed), or --stats about it')
    .argument('<file>', 'scenario YAML')
    .option('--events <n>', 'stop after n events', parseCount)
    .option('--duration <d>', 'stop after this much schedule time (default: the scenario duration)', parseDurationFlag)
    .option('--seed <n>', 'override the scenario seed', parseIntFlag('--seed'))
    .option('--out <file>', 'output file, or - for stdout', '-')
    .option('--shard <i/N>', 'only shard i of N (by visitor: a session never spans shards): N processes, one per shard, write the single stream between them; limit them by --duration, not --events, for their union to be the single stream', parseShard)
    .option('--threads <n>', `worker threads that serialize the events (the output is the same for any number; default: one per core, at most ${MAX_THREADS}, and 1 for --shard or fewer than ${thousands(THREADED_MIN_EVENTS)} events asked for or expected)`, parseIntFlag('--threads'))
    .option('--stats', 'print statistics of the generated traffic instead of the events')
    .option('--json', 'with --stats: print them as JSON')
    .action(async (file: string, o: GenerateOptions & { threads?: number }) => {
      if (o.threads !== undefined && (o.threads < 1 || o.threads > 64)) throw new UsageError(`--threads must be between 1 and 64, got ${o.threads}`);
      if (o.threads !== undefined && o.threads > 1 && o.shard) throw new UsageError('--threads with --shard: a shard is written by one thread (run more shards instead)');
      const threads = o.stats ? 1 : o.threads ?? (o.shard || (o.events !== undefined && o.events < THREADED_MIN_EVENTS) ? 1 : Math.min(MAX_THREADS, availableParallelism()));
      const workers = threads > 1 ? new RenderWorkers(threads, (await import('node:worker_threads')).Worker) : undefined;
      try {
        // By default a run expected to be short (by its duration) is written by one thread (the workers stopped).
        await generateTo(file, o, io, workers, o.threads === undefined ? THREADED_MIN_EVENTS : 0);
      } finally {
        workers?.stop();
      }
    });
}

/** `generate` once the threads (if any) are started: the scenario read and checked, then the events or their statistics. */
async function generateTo(file: string, o: GenerateOptions, io: Io, workers: RenderWorkers | undefined, threadedMinEvents: number): Promise<void> {
  const overrides: Record<string, unknown> = o.seed !== undefined ? { seed: o.seed } : {};
  const [{ loadScenario }, { ClickstreamGenerator, DEFAULT_START_MS }, { collectStats }, { rateCurve }] = await Promise.all([import('../scenario/load.js'), import('../generate/clickstream.js'), import('../generate/stats.js'), import('../generate/curve.js')]);
  const { scenario } = loadScenario(file, overrides);
  const startMs = scenario.start_time ? Date.parse(scenario.start_time) : DEFAULT_START_MS;
  if (o.shard && o.shard.index >= scenario.population.users && o.shard.index >= scenario.population.bots) {
    throw new UsageError(`--shard ${o.shard.index}/${o.shard.of}: that shard would hold no visitor (the scenario has ${scenario.population.users} users and ${scenario.population.bots} bots); use fewer shards`);
  }
  // The events alone: no mirror records for the lookup topics (a run's), which generate does not write.
  const idPrefix = `s${scenario.seed.toString(36)}`;
  const generator = () => new ClickstreamGenerator(scenario, { startMs, idPrefix, shard: o.shard, mirrors: false });
  const limit = { events: o.events, durationMs: o.duration ?? (o.events ? Infinity : scenario.duration) };
  if (o.stats) {
    const stats = collectStats(generator(), scenario, limit);
    if (o.json) io.out(JSON.stringify(stats, null, 2));
    else printStats(io, scenario, stats);
    return;
  }
  const output = new Output(o.out);
  const threaded = workers !== undefined && (threadedMinEvents === 0 || (o.events ?? rateCurve(scenario).expectedEvents(0, limit.durationMs)) >= threadedMinEvents);
  if (threaded && !output.failed) await workers.write({ scenario, startMs, idPrefix, maxEvents: limit.events ?? Infinity, durationMs: limit.durationMs }, output);
  else await writeEvents(generator(), limit, output);
}

/**
 * Events as JSONL, in chunks of about 1 MiB (4 MiB into a pipe), written in order by descriptor from
 * libuv's thread pool while the next chunk is generated (the copy into a pipe or the page cache runs on
 * another core). At most a few chunks wait: a slow reader holds the generator back instead of filling
 * memory. A reader that closes the pipe early (`| head -1000`) ends the command quietly with exit 0,
 * like other Unix tools; any other write error (a full disk, a folder that does not exist) is one line
 * and exit 2.
 *
 * Measured (1 M events, one process each): a file stream waited for 'drain' after every chunk (its
 * buffer holds 16 KiB) and only wrote while the generator waited: 21 % of the run idle; stdout into a
 * pipe blocks the generator for each write (~0.7 s per 500 MB here).
 */
const CHUNK_BYTES = 1 << 20;
/** Worker threads by default: one per core up to this (the main thread's draws, ~25 % of the work, bound what more would add). */
const MAX_THREADS = 4;
/** Fewer events than this (asked for, or expected from the rate curve over the duration) are written by one thread: starting workers (~0.1 s) is not worth it. */
const THREADED_MIN_EVENTS = 100_000;
const IN_FLIGHT_CHUNKS = 4;
/**
 * Into a pipe, 4 MiB chunks, two in flight: fewer hand-overs between the generator, the pool thread and
 * the reader on a 2-core machine (1 M events `| cat`, 4 runs each, interleaved: median 3.9 → 3.45 s);
 * to a file they were slower (3.6 → 4.1 s), so files keep 1 MiB × 4.
 */
const PIPE_CHUNK_BYTES = 4 << 20;
const PIPE_IN_FLIGHT_CHUNKS = 2;

/** Clears O_NONBLOCK on a stream's descriptor through its libuv handle (uv_stream_set_blocking); no-op without one. */
function blocking(stream: NodeJS.WriteStream): void {
  (stream as unknown as { _handle?: { setBlocking?: (on: boolean) => number } })._handle?.setBlocking?.(true);
}

/** Write all of `buf` at the descriptor's position; a non-blocking pipe that is full is waited for. */
async function writeAll(fd: number, buf: Uint8Array): Promise<void> {
  for (let off = 0; off < buf.length; ) {
    try {
      off += await new Promise<number>((resolve, reject) => fsWrite(fd, buf, off, buf.length - off, null, (err, n) => (err ? reject(err) : resolve(n))));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}

/** Where the events go: a descriptor written in order, chunk after chunk; the first write error stops it. */
class Output {
  fd = 1;
  pipe = false;
  failed: NodeJS.ErrnoException | undefined;
  /** The chain of writes: each chunk's write starts when the one before it is done. */
  tail: Promise<void> = Promise.resolve();

  constructor(readonly out: string) {
    if (out !== '-') {
      try {
        this.fd = openSync(out, 'w');
      } catch (err) {
        this.failed = err as NodeJS.ErrnoException;
      }
    }
    try {
      this.pipe = !this.failed && fstatSync(this.fd).isFIFO();
    } catch (err) {
      this.failed = err as NodeJS.ErrnoException; // standard output closed (\`>&-\`): EBADF, one line
    }
    // Node makes standard output non-blocking once \`process.stdout\` exists (any \`import 'node:process'\` creates
    // it): a write from the pool thread then returns after what fits in the pipe (64 KiB and what the reader
    // took meanwhile), and the rest waited for the generator to yield, up to a chunk's generation time
    // (~1 000 partial writes per 1 M events; the generator waited ~200 ms for its chunks to go out). Blocking
    // again, one write hands over a whole chunk while the reader reads (1 M events \`| cat\`, 5 runs each,
    // interleaved with the generator alone: × alone median 0.85 → 0.88; wait 200 → 1 ms).
    if (this.pipe && this.fd === 1) blocking(process.stdout);
  }

  get chunkBytes(): number {
    return this.pipe ? PIPE_CHUNK_BYTES : CHUNK_BYTES;
  }

  get inFlightChunks(): number {
    return this.pipe ? PIPE_IN_FLIGHT_CHUNKS : IN_FLIGHT_CHUNKS;
  }

  /** Queue `data` after the chunks before it; `after` runs once it is written (or skipped after an error). */
  write(data: Uint8Array, after?: () => void): Promise<void> {
    return (this.tail = this.tail.then(async () => {
      if (!this.failed) await writeAll(this.fd, data).catch((err: NodeJS.ErrnoException) => void (this.failed ??= err));
      after?.();
    }));
  }

  /** Wait for the writes, close the file; a write error other than EPIPE is one line (EPIPE: the reader has what it wanted). */
  async close(): Promise<void> {
    await this.tail;
    if (this.fd !== 1) closeSync(this.fd);
    if (this.failed && this.failed.code !== 'EPIPE') {
      throw new UsageError(`could not write the events to ${this.out === '-' ? 'standard output' : this.out}: ${this.failed.code ?? this.failed.message} — check that the folder exists, is writable and has space`);
    }
  }
}

async function writeEvents(gen: ClickstreamGenerator, limit: { events?: number; durationMs: number }, output: Output): Promise<void> {
  const chunkBytes = output.chunkBytes;
  const inFlightChunks = output.inFlightChunks;
  const inFlight: Promise<void>[] = [];
  // Chunk buffers are reused once written: a new 1 MiB buffer per chunk made the collector run more
  // often (external memory), 9 % of a run into a pipe.
  const spare: Buffer[] = [];
  const send = async (data: Uint8Array, reuse?: Buffer) => {
    inFlight.push(output.write(data, reuse && (() => spare.push(reuse))));
    while (inFlight.length > inFlightChunks) await inFlight.shift();
    // A turn of the event loop per chunk: the pool's finished write hands over to the next one.
    await new Promise((r) => setImmediate(r));
  };
  const maxEvents = limit.events ?? Infinity;
  let n = 0;
  // Lines are encoded straight into a buffer (joining strings first cost twice the time: bench).
  const lines = new LineBuffer(Buffer.allocUnsafe(chunkBytes));
  const flush = async () => {
    if (lines.used === 0) return;
    const full = lines.buf;
    const view = lines.view();
    lines.reset(spare.pop() ?? Buffer.allocUnsafe(chunkBytes));
    await send(view, full);
  };
  while (n < maxEvents && gen.nextOffsetMs < limit.durationMs && !output.failed) {
    const line = gen.next().value;
    n++;
    // A line longer than what is left (events are ~0.5 KiB; a chunk is 1 MiB): flush first; one longer than a chunk goes alone.
    if (!lines.put(line)) {
      await flush();
      if (!lines.put(line)) await send(lineAlone(line));
    }
  }
  if (!output.failed) await flush();
  await output.close();
}

/**
 * The same stream from worker threads (src/cli/generate-worker.ts): this thread makes every event's draws and
 * state changes once (ClickstreamGenerator.draw, ~25 % of the generator's time), in blocks of numbers handed
 * to the workers in turn; each worker turns its blocks into lines (ClickstreamGenerator.render) and this
 * thread writes the blocks in order. Byte for byte the single thread's output (test/unit/scenario.test.ts).
 * Before, every worker made every event's draws itself and serialized its own blocks: the draws were repeated
 * by each (two workers: 1.27 times the one thread's work; see \`npm run bench\`, "generate").
 *
 * The threads start before the scenario is read (the constructor), so their start-up overlaps its checks;
 * unref'd until they have a job and stopped when the command fails, they never keep it waiting.
 */
class RenderWorkers {
  private readonly workers: Worker[] = [];

  constructor(private readonly threads: number, WorkerClass: typeof Worker) {
    for (let i = 0; i < threads; i++) {
      const worker = new WorkerClass(new URL('./generate-worker.js', import.meta.url));
      worker.unref();
      this.workers.push(worker);
    }
  }

  async write(job: Omit<RenderJob, 'bufferBytes' | 'buffers'> & { maxEvents: number; durationMs: number }, output: Output): Promise<void> {
    const { threads, workers } = this;
    const { ClickstreamGenerator, DRAW_SLOTS, Drawn, packDrawn } = await import('../generate/clickstream.js');
    const gen = new ClickstreamGenerator(job.scenario, { startMs: job.startMs, idPrefix: job.idPrefix, mirrors: false });
    const event = new Drawn();
    const bufferBytes = output.chunkBytes;
    // ~0.5 KiB per event: a block fills most of a buffer.
    const block = Math.max(1, Math.floor(bufferBytes / 640));
    // Blocks of draws: two per worker (one rendered, one waiting); they come back with their block's last piece.
    const spareDraws: Float64Array[] = Array.from({ length: 2 * threads }, () => new Float64Array(block * DRAW_SLOTS));
    const pieces = new Map<number, Piece[]>();
    /** The block written next; the number of blocks (known once the draws reach the end of the stream). */
    let next = 0;
    let blocks: number | undefined;
    let wakeDraws: (() => void) | null = null;
    await new Promise<void>((resolve, reject) => {
      let finished = false;
      const finish = (err?: Error) => {
        if (finished) return;
        finished = true;
        this.stop();
        wakeDraws?.();
        if (err) reject(err);
        else resolve();
      };
      const pump = () => {
        while (!finished) {
          if (output.failed) return finish();
          if (blocks !== undefined && next >= blocks) return void output.tail.then(() => finish());
          const piece = pieces.get(next)?.shift();
          if (!piece) return;
          const worker = workers[next % threads];
          // The buffer goes back to its worker once written (back-pressure: a worker with no buffer waits).
          void output.write(piece.bytes, () => (output.failed ? finish() : worker.postMessage(piece.bytes, [piece.bytes.buffer as ArrayBuffer])));
          if (piece.final) {
            pieces.delete(next);
            next++;
          }
        }
      };
      workers.forEach((worker, i) => {
        worker.on('message', (p: Piece) => {
          if (p.draws) spareDraws.push(p.draws);
          const list = pieces.get(p.block);
          if (list) list.push(p);
          else pieces.set(p.block, [p]);
          pump();
          wakeDraws?.();
          wakeDraws = null;
        });
        worker.on('error', (err) => finish(err));
        // A worker ends only when stopped (terminate() after finish): an exit before that is a failure.
        worker.on('exit', (code) => finish(new Error(`generate: worker thread ${i} exited with code ${code}`)));
        worker.ref();
        worker.postMessage({ scenario: job.scenario, startMs: job.startMs, idPrefix: job.idPrefix, bufferBytes, buffers: output.inFlightChunks + 1 } satisfies RenderJob);
      });
      const drawAll = async () => {
        let drawn = 0;
        for (let b = 0; !finished; b++) {
          while (spareDraws.length === 0 && !finished) await new Promise<void>((r) => (wakeDraws = r));
          if (finished) return;
          const draws = spareDraws.pop()!;
          let count = 0;
          while (count < block && drawn < job.maxEvents && gen.nextOffsetMs < job.durationMs) {
            gen.draw(event);
            packDrawn(event, draws, count * DRAW_SLOTS);
            count++;
            drawn++;
          }
          if (count > 0) workers[b % threads].postMessage({ block: b, count, draws } satisfies DrawnBlock, [draws.buffer as ArrayBuffer]);
          if (count < block) {
            blocks = count > 0 ? b + 1 : b;
            return pump();
          }
          // A turn of the event loop per block: the workers' pieces are written meanwhile.
          await new Promise((r) => setImmediate(r));
        }
      };
      drawAll().catch((err: Error) => finish(err));
    });
    await output.close();
  }

  stop(): void {
    for (const w of this.workers) void w.terminate();
  }
}

function printStats(io: Io, scenario: Scenario, s: TrafficStats): void {
  io.out(`${s.events} events over ${s.seconds} s (${(s.bytes / s.events).toFixed(0)} B average), scenario "${scenario.name}", seed ${scenario.seed}`);
  io.out(`achieved vs intended rate: worst full second off by ${pct(s.maxRateDeviation, 2)}${scenario.traffic.arrivals === 'poisson' ? ' (poisson arrivals: a second\'s count varies like a Poisson count, about ±1/√rate; traffic.arrivals: uniform for evenly spaced events)' : ''}`);
  const rate = table(io, ['second', 'intended events', 'generated']);
  const step = Math.max(1, Math.ceil(s.perSecond.length / 20));
  for (let i = 0; i < s.perSecond.length; i += step) rate.push([s.perSecond[i].second, s.perSecond[i].intendedEvents, s.perSecond[i].generatedEvents]);
  io.out(rate.toString());
  const mix = table(io, ['event type (people)', 'share', 'configured']);
  for (const [t, share] of Object.entries(s.mix)) mix.push([t, pct(share, 2), pct(s.configuredMix[t as keyof typeof s.mix], 2)]);
  io.out(mix.toString());
  io.out(`bots: ${pct(s.botShare)} of events · bad records: ${s.badRecords} · late profile updates: ${s.lateProfileUpdates}`);
  io.out(`visitors (${s.visitors.population}): Zipf fitted ${s.visitors.fittedZipf.toFixed(3)} (configured ${s.visitors.configuredZipf}); top 1 % of visitors ${pct(s.visitors.top1PctShare)} of their events, top 20 % ${pct(s.visitors.top20PctShare)}`);
  const p = s.partitions;
  io.out(`partitions (${p.count}, murmur2 on the key): hottest #${p.hottest} at ${p.maxOverMean.toFixed(2)}× the mean, coldest ${p.minOverMean.toFixed(2)}×`);
  const load = table(io, ['partition', 'events', '× mean']);
  const mean = s.events / p.count;
  p.events.forEach((n, i) => load.push([i, n, (n / mean).toFixed(2)]));
  io.out(load.toString());
}
