/**
 * `npm run bench`: the project's own benchmarks, measured side by side in one run, as medians of
 * several rounds (the machines are shared and noisy: read the ratios, not one absolute figure).
 *
 *   generator  clickbench's generator (quickstart scenario, serialized events) vs a bare
 *              JSON.stringify of an equivalent, already-built event object.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { ClickstreamGenerator, DEFAULT_START_MS } from '../src/generate/clickstream.js';
import { buildPools } from '../src/generate/pools.js';
import { loadScenario } from '../src/scenario/load.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function timeIt(fn: () => number): { perSec: number; sink: number } {
  const t0 = process.hrtime.bigint();
  const sink = fn();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return { perSec: EVENTS / s, sink };
}

const { scenario } = loadScenario('scenarios/quickstart.yaml');
const long = { ...scenario, duration: 1e12 };
const pools = buildPools(scenario);
const sample = new ClickstreamGenerator(long, { startMs: DEFAULT_START_MS, idPrefix: 'bench', pools });
let probe = sample.next();
while (probe.bad || probe.type !== 'product_view') probe = sample.next();
const equivalent = JSON.parse(probe.value);

const gen: number[] = [];
const bare: number[] = [];
let bytes = 0;
for (let r = 0; r < ROUNDS; r++) {
  const g = new ClickstreamGenerator(long, { startMs: DEFAULT_START_MS, idPrefix: `b${r}`, pools });
  const a = timeIt(() => {
    let n = 0;
    for (let i = 0; i < EVENTS; i++) n += g.next().value.length;
    return n;
  });
  bytes = a.sink / EVENTS;
  gen.push(a.perSec);
  const b = timeIt(() => {
    let n = 0;
    for (let i = 0; i < EVENTS; i++) {
      equivalent.intended_time = DEFAULT_START_MS + i;
      n += JSON.stringify(equivalent).length;
    }
    return n;
  });
  bare.push(b.perSec);
}

const rows = [
  { benchmark: 'generator (quickstart mix, serialized)', eventsPerSec: median(gen), min: Math.min(...gen), max: Math.max(...gen) },
  { benchmark: 'bare JSON.stringify of an equivalent event', eventsPerSec: median(bare), min: Math.min(...bare), max: Math.max(...bare) },
];
const ratio = median(gen) / median(bare);
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
console.log(`\n## clickbench bench — ${new Date().toISOString()} — Node ${process.version}, ${ROUNDS} rounds × ${EVENTS.toLocaleString('en-US')} events, one core\n`);
console.log('| benchmark | events/s (median) | min | max |');
console.log('|---|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.benchmark} | ${fmt(r.eventsPerSec)} | ${fmt(r.min)} | ${fmt(r.max)} |`);
console.log(`\ngenerator / bare stringify = ${ratio.toFixed(2)}× · average event ${bytes.toFixed(0)} B · target ≥ 500 000 events/s: ${median(gen) >= 500_000 ? 'met' : 'MISSED'}`);
mkdirSync('reports/bench', { recursive: true });
const file = `reports/bench/bench-${Date.now()}.json`;
writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), node: process.version, rounds: ROUNDS, events: EVENTS, rows, ratio, averageEventBytes: bytes }, null, 2));
console.log(`written ${file}`);
