/** `clickbench compare`: runs side by side, differences against the first run highlighted. */
import { isMeasured, READABLE_SCHEMAS, type Results } from '../run/results.js';
import { scorecard } from '../score/scorecard.js';

interface Row {
  label: string;
  value: (r: Results) => number | null;
  unit: string;
  /** Which direction is better, for highlighting. */
  better: 'lower' | 'higher';
  digits?: number;
  /** Multiply the value by this (bytes → MB). */
  scale?: number;
}

const firstMove = (r: Results, action: string) => (r.elasticity ?? []).find((m) => m.action === action && m.error === null);

const ROWS: Row[] = [
  { label: 'e2e p50', value: (r) => r.latency.e2e?.p50Ms ?? null, unit: 'ms', better: 'lower' },
  { label: 'e2e p99', value: (r) => r.latency.e2e?.p99Ms ?? null, unit: 'ms', better: 'lower' },
  { label: 'e2e max', value: (r) => r.latency.e2e?.maxMs ?? null, unit: 'ms', better: 'lower' },
  { label: 'produce ack p99', value: (r) => r.latency.produceAck?.p99Ms ?? null, unit: 'ms', better: 'lower' },
  { label: 'enrichment p99', value: (r) => r.latency.enrich?.p99Ms ?? null, unit: 'ms', better: 'lower' },
  { label: 'achieved / intended', value: (r) => r.throughput.achievedRatio * 100, unit: '%', better: 'higher', digits: 2 },
  { label: 'replay duration', value: (r) => (isMeasured(r.replay) ? r.replay.durationMs : null), unit: 'ms', better: 'lower' },
  { label: 'replay min per hour', value: (r) => (isMeasured(r.replay) ? r.replay.minutesPerHour : null), unit: 'min', better: 'lower', digits: 2 },
  { label: 'producer batches compressed to', value: (r) => (r.compression?.producer.measured ? r.compression.producer.ratio * 100 : null), unit: '%', better: 'lower', digits: 1 },
  { label: 'broker CPU per 1 000 events', value: (r) => (isMeasured(r.cost) ? r.cost.brokerCpuSecondsPer1000Events : null), unit: 's', better: 'lower', digits: 3 },
  { label: 'clickbench CPU', value: (r) => (isMeasured(r.cost) ? r.cost.clickbenchCpuSeconds : null), unit: 's', better: 'lower', digits: 1 },
  { label: 'disk per GB ingested', value: (r) => (isMeasured(r.disk) ? r.disk.bytesPerGbIngested / 1e9 : null), unit: 'GB', better: 'lower', digits: 2 },
  { label: 'disk growth', value: (r) => (isMeasured(r.disk) ? r.disk.growthBytes / 1e6 : null), unit: 'MB', better: 'lower', digits: 1 },
  { label: 'remote tier', value: (r) => (isMeasured(r.disk) && isMeasured(r.disk.tiered) ? r.disk.tiered.remoteBytes / 1e6 : null), unit: 'MB', better: 'higher', digits: 1 },
  { label: 'cross-zone bytes', value: (r) => (isMeasured(r.crossZone) ? r.crossZone.total.crossZoneBytes / 1e6 : null), unit: 'MB', better: 'lower', digits: 1 },
  { label: 'cross-zone cost', value: (r) => (isMeasured(r.crossZone) ? r.crossZone.total.costUsd : null), unit: 'USD', better: 'lower', digits: 4 },
  { label: 'scale-out: bytes moved', value: (r) => firstMove(r, 'scale-out')?.bytesMovedLogDirs ?? null, unit: 'MB', better: 'lower', digits: 1, scale: 1e-6 },
  { label: 'scale-out: replicas in sync after', value: (r) => firstMove(r, 'scale-out')?.moveMs ?? null, unit: 'ms', better: 'lower' },
  { label: 'scale-out: left in remote tier', value: (r) => (r.topics.tiered ? firstMove(r, 'scale-out')?.remoteTierBytes ?? null : null), unit: 'MB', better: 'higher', digits: 1, scale: 1e-6 },
  { label: 'scale-out: new capacity usable after', value: (r) => firstMove(r, 'scale-out')?.capacityUsableAfterMs ?? null, unit: 'ms', better: 'lower' },
  { label: 'scale-out: sustainable rate before', value: (r) => firstMove(r, 'scale-out')?.headroom?.before?.sustainableRate ?? null, unit: 'rec/s', better: 'higher' },
  { label: 'scale-out: sustainable rate after', value: (r) => firstMove(r, 'scale-out')?.headroom?.after?.sustainableRate ?? null, unit: 'rec/s', better: 'higher' },
  { label: 'broker replacement: bytes rebuilt', value: (r) => firstMove(r, 'replace-broker')?.bytesMovedLogDirs ?? null, unit: 'MB', better: 'lower', digits: 1, scale: 1e-6 },
  { label: 'broker replacement: rebuilt after', value: (r) => firstMove(r, 'replace-broker')?.moveMs ?? null, unit: 'ms', better: 'lower' },
  { label: 'missing events', value: (r) => r.correctness.missing, unit: '', better: 'lower' },
  { label: 'duplicate events', value: (r) => r.correctness.duplicates, unit: '', better: 'lower' },
  { label: 'readiness total', value: (r) => scorecard(r).reduce((a, x) => a + x.score, 0), unit: '/12', better: 'higher' },
];

/** Markdown table; a change of more than 10 % against the first run is bold, with its sign. */
export function compareMarkdown(runs: Results[]): string {
  const head = ['metric', ...runs.map((r) => `${r.scenario.name} · ${r.cluster.profile}${r.topics.tiered ? ' (tiered)' : ''} · \`${r.run.id}\``)];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const row of ROWS) {
    const first = row.value(runs[0]);
    const base = first === null ? null : first * (row.scale ?? 1);
    const cells = runs.map((r, i) => {
      const raw = row.value(r);
      const v = raw === null ? null : raw * (row.scale ?? 1);
      if (v === null || !Number.isFinite(v)) return 'not measured';
      const text = `${v.toLocaleString('en-US', { maximumFractionDigits: row.digits ?? 0, minimumFractionDigits: row.digits ?? 0 })}${row.unit ? ` ${row.unit}` : ''}`;
      if (i === 0 || base === null || base === 0) return text;
      const change = (v - base) / Math.abs(base);
      if (Math.abs(change) < 0.1) return text;
      const good = row.better === 'lower' ? change < 0 : change > 0;
      return `**${text}** (${change > 0 ? '+' : ''}${(change * 100).toFixed(0)} %, ${good ? 'better' : 'worse'})`;
    });
    lines.push(`| ${row.label} | ${cells.join(' | ')} |`);
  }
  const why = [...schemaNotes(runs), ...movementExplained(runs)];
  return lines.join('\n') + '\n' + (why.length ? `\n${why.join('\n')}\n` : '');
}

/** Runs written under different results schemas: which figures changed meaning between them (not comparable as they stand). */
export function schemaNotes(runs: Results[]): string[] {
  const schemas = [...new Set(runs.map((r) => r.schema))];
  if (schemas.length < 2) return [];
  const out = [`**Not comparable as they stand:** these runs were written under different results schemas (${runs.map((r) => `\`${r.run.id}\` ${r.schema}`).join(', ')}); figures that changed meaning since the older one:`];
  const changed = new Set(schemas.flatMap((x) => READABLE_SCHEMAS[x] ?? [`${x}: unknown to this clickbench`]));
  for (const c of changed) out.push(`- ${c}`);
  return out;
}

/** What drove the bytes a scale-out or replacement moved in each run: its storage model and retained volume. */
export function movementExplained(runs: Results[]): string[] {
  const out: string[] = [];
  for (const r of runs) {
    for (const m of (r.elasticity ?? []).filter((x) => x.error === null && x.bytesMovedLogDirs !== null)) {
      const moved = `${(m.bytesMovedLogDirs! / 1e6).toFixed(1)} MB`;
      const retained = m.retainedBytesAtRequest ? ` of ${(m.retainedBytesAtRequest / 1e6).toFixed(1)} MB on the brokers' disks (all replicas)` : '';
      const head = `- \`${r.run.id}\` ${m.phase} (${m.action}): ${m.replicasMoved} replicas, ${moved}${retained} in ${((m.moveMs ?? 0) / 1000).toFixed(1)} s`;
      if (r.topics.tiered) {
        const lr = r.scenario.spec.topics.local_retention;
        out.push(`${head} — tiered topics: a new replica copies only the local tail (segments not yet in the remote tier, kept locally ${lr !== undefined ? `for ${lr / 1000} s` : 'as long as retention'}, plus the active segment); ${m.remoteTierBytes !== null ? `${(m.remoteTierBytes / 1e6).toFixed(1)} MB of the moved partitions stayed in the remote tier and were not copied` : 'the remote tier was not measured'}.`);
      } else {
        out.push(`${head} — local disks: every moved replica copies its partition's whole retained log from the leader${m.throttleBytesPerSec ? `, throttled to ${(m.throttleBytesPerSec / 1e6).toFixed(1)} MB/s per broker` : ''}; the duration follows the retained bytes.`);
      }
    }
  }
  return out.length ? ['What drove the data movement:', '', ...out] : [];
}
