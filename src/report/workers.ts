/** Load workers in reports: `clickbench load`'s summary and the "Load workers" section of a `run --workers` scorecard. */
import type { LoadResult, WorkerReport } from '../workers/coordinator.js';

const row = (cells: string[]) => `| ${cells.join(' | ')} |`;

/** One row per worker: shard, process, clock, counts, produce-ack latency, whether it finished. */
export function workerTable(workers: WorkerReport[]): string[] {
  return [
    row(['shard', 'worker', 'clock offset', 'intended', 'sent', 'acked', 'ack p50 / p99 ms', 'finished']), row(Array(8).fill('---')),
    ...workers.map((w) => row([
      String(w.shard), `${w.host}:${w.pid}`, `${w.clockOffsetMs} ms ± ${Math.ceil(w.clockRoundTripMs / 2)}`, String(w.intended), String(w.sent), String(w.acked),
      w.produceAck ? `${w.produceAck.p50Ms} / ${w.produceAck.p99Ms}` : '–', w.done ? `yes (${w.done.cpuSeconds.toFixed(1)} CPU-s)` : `NO: last second reported ${w.lastSecond}`,
    ])),
  ];
}

export function unfinishedLines(unfinished: LoadResult['unfinished']): string[] {
  return unfinished.map((u) => `**Worker of shard ${u.shard} (${u.host}) did not finish**${u.leftGroup ? ' (it left the group)' : ''}: nothing reported after second ${u.lastSecond}; of its shard's ${u.shardEvents} events ${u.notAcknowledged} were not acknowledged — no other worker sends them, and no other shard's events are counted missing.`);
}

/** The merged result as markdown: per worker, then the whole. */
export function loadSummary(r: LoadResult, prefix: string): string[] {
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
  const seconds = r.durationMs / 1000;
  const lines = [`## Load from ${r.workers.length} worker(s) — run ${prefix}`, ''];
  lines.push(...workerTable(r.workers));
  const acked = sum(r.acked);
  lines.push('', `Together: ${sum(r.intended)} events intended, ${sum(r.sent)} sent, ${acked} acknowledged over a ${seconds} s schedule${r.ackedPerSecond !== null ? `, ${Math.round(r.ackedPerSecond)} events/s from its start to the last worker's end` : ''}; produce ack (intended → ack) p50 ${r.produceAck?.p50Ms ?? '–'} ms, p99 ${r.produceAck?.p99Ms ?? '–'} ms, from one histogram merged from the workers' (${r.mergedCount} values = the sum of theirs: ${sum(r.workers.map((w) => w.produceAck?.count ?? 0))}).`);
  lines.push(`Merging cost this process ${Math.round(r.mergeCpuUsPerWorkerSecond)} µs of CPU per worker-second reported.`);
  lines.push(...unfinishedLines(r.unfinished));
  return lines;
}
