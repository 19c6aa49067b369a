/**
 * `npm run bench:cost`: clickbench's own cost on the cluster (bench/cost-bench.ts) on the running
 * sandbox (`clickbench sandbox up`), or on one it starts and stops. BENCH_COST_SECONDS (default 30).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox } from '../src/sandbox/cluster.js';
import { costRecordBytes, driverCost, idleCost, pipelineCost, toolProducerCost, type CostRow } from './cost-bench.js';

export async function costBench(sb: Sandbox, log: (l: string) => void, only?: string[]): Promise<CostRow[]> {
  const seconds = Number(process.env.BENCH_COST_SECONDS ?? 30);
  const bytes = costRecordBytes();
  const rows: CostRow[] = [];
  const want = (k: string) => !only?.length || only.includes(k);
  if (want('idle')) { log('idle …'); rows.push(await idleCost(sb, 10)); }
  // The same linger as clickbench's default (clients.linger 10 ms); keyed traffic spreads over every
  // partition, which ProducerPerformance (no keys, sticky partitioner) only does with a round-robin partitioner.
  if (want('tool')) {
    log(`ProducerPerformance at 1 000 records/s of ${bytes} B, records spread over the partitions …`);
    rows.push(await toolProducerCost(sb, 1000, seconds, bytes, 10, true));
    log('ProducerPerformance as it runs by default (sticky partitioner) …');
    rows.push(await toolProducerCost(sb, 1000, seconds, bytes, 10, false));
  }
  if (want('driver')) { log('clickbench driver at 1 000 events/s …'); rows.push(await driverCost(sb, 1000, seconds)); }
  if (want('pipeline')) {
    for (const rate of [1000, 3000]) { log(`quickstart pipeline at ${rate} events/s …`); rows.push(await pipelineCost(sb, rate, seconds)); }
  }
  return rows;
}

export function printCost(rows: CostRow[]): void {
  const idle = rows.find((r) => r.what === 'idle');
  const idlePerSec = idle ? idle.brokerCpuSeconds / idle.seconds : 0;
  console.log('\n| workload | records | broker CPU-s | broker CPU-s per 1 000 (idle removed) | clickbench CPU-s | requests/s | p50 / p99 ms |');
  console.log('|---|---:|---:|---:|---:|---:|---|');
  for (const r of rows) {
    const net = r.records > 0 ? ((r.brokerCpuSeconds - idlePerSec * r.seconds) / r.records) * 1000 : 0;
    console.log(`| ${r.what} | ${r.records} | ${r.brokerCpuSeconds.toFixed(1)} | ${r.records ? `${r.brokerCpuPer1000.toFixed(2)} (${net.toFixed(2)})` : `${idlePerSec.toFixed(2)} per s`} | ${r.clientCpuSeconds?.toFixed(1) ?? '–'} | ${r.requestsPerSec ?? '–'} | ${r.p50Ms ?? '–'} / ${r.p99Ms ?? '–'} |`);
  }
  for (const r of rows) if (r.requestsPer1000ByApi) console.log(`\n${r.what}: requests per 1 000 events by API: ${Object.entries(r.requestsPer1000ByApi).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const tool = rows.find((r) => r.what.startsWith('ProducerPerformance') && r.what.includes('spread'));
  const drv = rows.find((r) => r.what.startsWith('clickbench driver'));
  if (tool && drv) console.log(`\nbroker CPU per 1 000 records, clickbench driver / ProducerPerformance = ${(drv.brokerCpuPer1000 / tool.brokerCpuPer1000).toFixed(2)}× (same linger, records spread over the partitions as keyed traffic is; goal ≤ 1.5×)`);
}

if (process.argv[1]?.endsWith('cost-main.js')) {
  const existing = Sandbox.load();
  const sb = existing ?? (await Sandbox.start({ nodes: 3, zones: ['a', 'b', 'c'], storage: 'local', stateDir: mkdtempSync(join(tmpdir(), 'clickbench-cost-')) }));
  try {
    printCost(await costBench(sb, (l) => console.error(`  ${l}`), process.argv.slice(2)));
  } finally {
    if (!existing) await sb.stop({ wipe: true });
  }
}
