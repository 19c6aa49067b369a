/**
 * The memory figure of `npm run bench`: a steady run of the whole pipeline in a process of its own, as
 * a user's `clickbench run` is (in the bench's process it carried the heap of every section before it:
 * calibration, the 200 000 events/s produce, the read-back). Between two full collections V8's old
 * generation grows by ~5 MB/s at 1 000 events/s here and RSS with it (a 150 MB sawtooth), so one RSS
 * reading says more about when it was taken than about a leak. At each mark the process runs a full
 * collection (started with --expose-gc) and reads RSS and the live heap then: what the run cannot give
 * back. RSS is also sampled every second (median within 5 s of each mark, and the highest).
 * Prints one JSON line: { samples, early, late } with early/late = { atS, rssMb, afterGc: { rssMb, heapMb } }.
 *
 *   node --expose-gc dist/bench/memory-run.js <sandbox state dir> <early s> <late s>
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newRunId, runScenario } from '../src/run/run.js';
import { resolveTarget } from '../src/run/target.js';
import { parseScenario } from '../src/scenario/load.js';

export interface MemoryMark { atS: number; rssMb: number }
export interface MemoryAtMark extends MemoryMark { afterGc: { rssMb: number; heapMb: number } | null }

/** The median RSS of the samples within `halfWindowS` of `atS` (NaN when there are none). */
export function rssAround(samples: MemoryMark[], atS: number, halfWindowS = 5): MemoryMark {
  const xs = samples.filter((s) => Math.abs(s.atS - atS) <= halfWindowS).map((s) => s.rssMb).sort((a, b) => a - b);
  return { atS, rssMb: xs.length ? xs[(xs.length - 1) >> 1] : NaN };
}

async function main(): Promise<void> {
  const [stateDir, earlyArg, lateArg] = process.argv.slice(2);
  const [early, late] = [Number(earlyArg), Number(lateArg)];
  const ms = parseScenario(`name: bench-memory\nseed: 4\nduration: ${late + 8}s\ntopics: { partitions: 12, replication: 3, min_insync_replicas: 2 }\ntraffic: { base_rate: 1000 }\npopulation: { users: 20000, products: 10000, pages: 1000 }\n`, 'memory.yaml');
  const target = await resolveTarget(ms.scenario, { stateDir });
  const samples: MemoryMark[] = [];
  const t = Date.now();
  const sampler = setInterval(() => samples.push({ atS: (Date.now() - t) / 1000, rssMb: process.memoryUsage().rss / 2 ** 20 }), 1_000);
  const gc = (globalThis as { gc?: () => void }).gc;
  const afterGc: Record<number, MemoryAtMark['afterGc']> = {};
  const marks = [early, late].map((at) => setTimeout(() => {
    if (!gc) return;
    gc();
    const m = process.memoryUsage();
    afterGc[at] = { rssMb: m.rss / 2 ** 20, heapMb: m.heapUsed / 2 ** 20 };
  }, at * 1_000));
  const reports = mkdtempSync(join(tmpdir(), 'bench-memory-'));
  try {
    await runScenario(ms, { target, runId: newRunId('bench-memory'), reportsDir: reports, log: () => {} });
  } finally {
    clearInterval(sampler);
    for (const m of marks) clearTimeout(m);
    rmSync(reports, { recursive: true, force: true });
  }
  const at = (s: number): MemoryAtMark => ({ ...rssAround(samples, s), afterGc: afterGc[s] ?? null });
  process.stdout.write(`${JSON.stringify({ samples, early: at(early), late: at(late), highestMb: Math.max(...samples.map((x) => x.rssMb)) })}\n`);
  process.exit(0);
}

if (process.argv[1]?.endsWith('memory-run.js')) void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
