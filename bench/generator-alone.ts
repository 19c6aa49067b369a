/**
 * The in-process generator as a process of its own (`node dist/bench/generator-alone.js <events>`): the
 * quickstart's generator built, then `events` events serialized to UTF-8 bytes, timed from the first event
 * to the last (no start-up, no pools, no output). run-bench runs it between the whole-process `generate`
 * runs, so the two are measured under the same machine load and the same cold JIT: its figure beside the
 * warm one of the bench's own process (which can read ~25 % apart on this shared machine from one bench
 * to the next) tells a slower `generate` from a busier machine. Prints events/s.
 */
import { ClickstreamGenerator, DEFAULT_START_MS } from '../src/generate/clickstream.js';
import { loadScenario } from '../src/scenario/load.js';

const events = Number(process.argv[2] ?? 1_000_000);
const { scenario } = loadScenario('scenarios/quickstart.yaml');
const gen = new ClickstreamGenerator({ ...scenario, duration: 1e12, seed: 5 }, { startMs: DEFAULT_START_MS, idPrefix: 'alone' });
const scratch = Buffer.allocUnsafe(1 << 16);
const t0 = process.hrtime.bigint();
let bytes = 0;
for (let i = 0; i < events; i++) bytes += scratch.write(gen.next().value, 0);
const s = Number(process.hrtime.bigint() - t0) / 1e9;
process.stdout.write(`${JSON.stringify({ eventsPerSec: events / s, bytes })}\n`);
