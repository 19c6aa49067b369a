/**
 * Load workers (issue #20) on a sandbox: `clickbench load --workers N --spawn` for N = 1, 2, 4 local worker
 * processes offering more than one process can (the quickstart's event mix at BENCH_WORKERS_RATE events/s,
 * default 200 000, for BENCH_WORKERS_SECONDS, default 10), each N in rounds interleaved with the others.
 * Reports the events/s the brokers acknowledged, the workers' CPU per event, and the coordinator's merge
 * cost per worker-second. `node dist/bench/workers-bench.js <sandbox state dir>` alone, or from run-bench.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox } from '../src/sandbox/cluster.js';
import { createKafka } from '../src/kafka/client.js';
import { deleteTopicsWithPrefix } from '../src/drive/topics.js';
import type { LoadResult } from '../src/workers/coordinator.js';

export interface WorkersRow {
  workers: number;
  /** Acknowledged events per second of schedule, per round. */
  ackedPerSec: number[];
  /** Workers' CPU µs per event, per round. */
  workerCpuUsPerEvent: number[];
  mergeCpuUsPerWorkerSecond: number[];
  /** Produce-ack p99 (intended time → ack), merged over workers, per round. */
  ackP99Ms: number[];
  unfinished: number;
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

export async function workersBench(sb: Sandbox, log: (l: string) => void = () => {}): Promise<WorkersRow[]> {
  const rate = Number(process.env.BENCH_WORKERS_RATE ?? 200_000);
  const seconds = Number(process.env.BENCH_WORKERS_SECONDS ?? 10);
  const rounds = Number(process.env.BENCH_WORKERS_ROUNDS ?? 2);
  const counts = (process.env.BENCH_WORKERS ?? '1,2,4').split(',').map(Number);
  const dir = mkdtempSync(join(tmpdir(), 'bench-workers-'));
  const file = join(dir, 'load.yaml');
  const quickstart = readFileSync('scenarios/quickstart.yaml', 'utf8');
  // The quickstart's population and mix, a flat schedule at `rate`, no phases.
  writeFileSync(file, `name: workers-bench\nduration: ${seconds}s\nseed: 5\ntraffic: {base_rate: ${rate}}\ntopics: {partitions: 12, replication: 3, min_insync_replicas: 2}\n${/^population:[\s\S]*?(?=^\S)/m.exec(quickstart)?.[0] ?? ''}`);
  const rows = new Map<number, WorkersRow>(counts.map((n) => [n, { workers: n, ackedPerSec: [], workerCpuUsPerEvent: [], mergeCpuUsPerWorkerSecond: [], ackP99Ms: [], unfinished: 0 }]));
  const kafka = createKafka({ brokers: sb.brokers, clientId: 'clickbench-bench' });
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (let r = 0; r < rounds; r++) {
      for (const n of counts) {
        const prefix = `cb-bench-workers-${n}-${r}-${Date.now().toString(36)}`;
        const json = join(dir, `${prefix}.json`);
        const p = spawnSync(process.execPath, ['bin/clickbench.js', 'load', file, '--workers', String(n), '--spawn', '--brokers', sb.brokers.join(','), '--prefix', prefix, '--json', json, '--reports', join(dir, 'reports')], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
        if (p.status !== 0 && p.status !== 3) throw new Error(`load --workers ${n} exited ${p.status}: ${p.stderr.split('\n').slice(-5).join(' ')}`);
        const res = JSON.parse(readFileSync(json, 'utf8')) as LoadResult;
        const acked = res.acked.reduce((a, b) => a + b, 0);
        const row = rows.get(n)!;
        // From the schedule's start to the last worker's end: workers behind the schedule finish late.
        row.ackedPerSec.push(res.ackedPerSecond ?? acked / seconds);
        row.ackP99Ms.push(res.produceAck?.p99Ms ?? NaN);
        row.workerCpuUsPerEvent.push((res.workers.reduce((a, w) => a + (w.done?.cpuSeconds ?? 0), 0) / Math.max(1, acked)) * 1e6);
        row.mergeCpuUsPerWorkerSecond.push(res.mergeCpuUsPerWorkerSecond);
        row.unfinished += res.unfinished.length;
        log(`${n} worker(s), round ${r + 1}: ${Math.round(row.ackedPerSec.at(-1)!)} events/s acknowledged, ack p99 ${res.produceAck?.p99Ms} ms`);
        await deleteTopicsWithPrefix(admin, prefix);
      }
    }
  } finally {
    await admin.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
  return [...rows.values()];
}

export function printWorkers(rows: WorkersRow[], rate: number): void {
  console.log(`\n### load workers (\`clickbench load --workers N --spawn\`), offered ${rate.toLocaleString('en-US')} events/s, medians\n`);
  console.log('| workers | events/s acknowledged (start → last worker done) | × 1 worker | ack p99 ms (intended → ack) | workers\' CPU µs/event | coordinator merge µs per worker-second | rounds |');
  console.log('|---:|---:|---:|---:|---:|---:|---|');
  const one = rows.find((r) => r.workers === 1);
  for (const r of rows) {
    console.log(`| ${r.workers} | ${Math.round(median(r.ackedPerSec)).toLocaleString('en-US')} | ${one ? (median(r.ackedPerSec) / median(one.ackedPerSec)).toFixed(2) : '–'} | ${median(r.ackP99Ms)} | ${median(r.workerCpuUsPerEvent).toFixed(1)} | ${Math.round(median(r.mergeCpuUsPerWorkerSecond))} | ${r.ackedPerSec.map((x) => Math.round(x)).join(', ')}${r.unfinished ? ` (${r.unfinished} worker(s) unfinished)` : ''} |`);
  }
}

if (process.argv[1]?.endsWith('workers-bench.js')) {
  const sb = Sandbox.load(process.argv[2]);
  if (!sb) throw new Error(`no sandbox in ${process.argv[2]}`);
  const rows = await workersBench(sb, (l) => console.error(`  ${l}`));
  printWorkers(rows, Number(process.env.BENCH_WORKERS_RATE ?? 200_000));
}
