/**
 * scorecard.md: a pure rendering of results.json (plus the scorecard, checklist and gates computed
 * from it). Verdict first, then how each score was earned, then every measurement with its table
 * and charts that render on a code host without attachments (mermaid xychart).
 */
import { isMeasured, type DualRunSide, type PhaseResult, type Results } from '../run/results.js';
import { phaseCrossZone } from '../score/crosszone-source.js';
import type { LatencyTriple } from '../observe/latency.js';
import { ROW_RULES, scoreCap } from '../score/scorecard.js';
import { groupStateText } from '../score/clauses.js';
import type { Evaluation } from '../score/evaluate.js';
import { formatBytes, formatDurationMs } from '../scenario/units.js';
import { storageCost } from '../score/profiles.js';
import { DUAL_RUN_FINISH_MS, TABLE_STALL_MS } from '../enrich/limits.js';
import { jitNote } from '../sandbox/jvm.js';
import { PHASES } from '../phases/registry.js';
import { PROFILE_ASSUMPTIONS, type Profile } from '../observe/crosszone.js';
import { HOST_CPU_METHOD, stealWarning } from '../observe/host.js';
import { STAGE_LOOP_SATURATED } from '../observe/health.js';
import { partitionStalls, type LagSample } from '../observe/samplers.js';
import { unfinishedLines, workerTable } from './workers.js';

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const num = (v: number | null | undefined, digits = 0) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const mb = (b: number) => `${(b / 1e6).toFixed(2)} MB`;

/** How the dual-run's other stage started and ended, in one sentence. */
export function dualRunSide(version: string, s: DualRunSide): string {
  const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const start = s.readyAfterMs === null ? `${version}'s stage never ran` : `${version}'s stage ran ${secs(s.readyAfterMs)} after the phase started it (tables loaded, producer and group joined)${s.firstOutputAfterMs === null ? ' and wrote nothing its probe read' : `, its first output read after ${secs(s.firstOutputAfterMs)}`}`;
  const f = s.finish;
  const end = !f ? '' : f.behindAtWindowEnd === 0 ? '; it had enriched the window when the phase ended' : `; when the window ended it was ${num(f.behindAtWindowEnd)} records behind, and the next phase began ${secs(f.waitedMs)} later ${f.caughtUp ? 'once it had caught up' : `without it catching up (${num(f.recordsLeft)} records left; the wait is capped at ${DUAL_RUN_FINISH_MS / 1000} s)`}`;
  return `${start}${end}.`;
}

function table(head: string[], rows: (string | number)[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map((c) => esc(String(c))).join(' | ')} |`)].join('\n');
}

function downsample<T>(xs: T[], max = 120): { items: T[]; step: number } {
  const step = Math.max(1, Math.ceil(xs.length / max));
  return { items: xs.filter((_, i) => i % step === 0), step };
}

function chart(title: string, xLabel: string, xs: (number | string)[], yLabel: string, series: { values: (number | null)[] }[]): string {
  if (xs.length < 2) return `_${title}: not enough samples for a chart._`;
  const fmt = (v: number | null) => (v === null || !Number.isFinite(v) ? 0 : Math.round(v * 100) / 100);
  return ['```mermaid', 'xychart-beta', `  title "${title}"`, `  x-axis "${xLabel}" [${xs.join(', ')}]`, `  y-axis "${yLabel}"`, ...series.map((s) => `  line [${s.values.map(fmt).join(', ')}]`), '```'].join('\n');
}

function latencyRows(name: string, l: LatencyTriple): (string | number)[][] {
  const row = (what: string, s: LatencyTriple['e2e']) => [name, what, s ? num(s.count) : '–', s ? num(s.p50Ms) : '–', s ? num(s.p90Ms) : '–', s ? num(s.p99Ms) : '–', s ? num(s.p999Ms) : '–', s ? num(s.maxMs) : '–'];
  return [row('produce ack', l.produceAck), row('enrichment', l.enrich), row('end to end', l.e2e)];
}

export function verdictLine(r: Results, e: Evaluation): string {
  const total = e.rows.reduce((a, x) => a + x.score, 0);
  const min = Math.min(...e.rows.map((x) => x.score));
  const failed = e.gates.filter((g) => !g.passed);
  const status = r.run.status === 'completed' ? '' : ` · run ${r.run.status.toUpperCase()}${r.run.error ? `: ${r.run.error}` : ''} (partial results; ${scoreCap(r)})`;
  const gateText = e.gates.length === 0 ? 'no gates' : failed.length === 0 ? `all ${e.gates.length} gates passed` : `${failed.length} of ${e.gates.length} gates FAILED (${failed.map((g) => g.metric).join(', ')})`;
  return `${e.passed ? 'PASS' : 'FAIL'} — ${gateText} · readiness ${total}/12 (lowest row ${min})${status}`;
}

/** Whether the run's enrichment stage shared this process's event loop (not run as its own processes). */
function stageInProcess(r: Results): boolean {
  return !!r.client && isMeasured(r.client) && !!r.client.stage && isMeasured(r.client.stage);
}

/** This machine's CPU over the schedule and per phase, with a warning when the hypervisor took a notable share. */
export function hostCpuLines(r: Results): string[] {
  if (!r.host) return [];
  if (!isMeasured(r.host)) return [`This machine's CPU: not measured — ${r.host.reason}.`];
  const perPhase = r.phases.map((p) => `${p.name} ${p.host && isMeasured(p.host) ? `${p.host.stealPercent} %` : '–'}`).join(', ');
  const lines = [`This machine's CPU over the schedule (measured: ${HOST_CPU_METHOD}): busy ${r.host.busyPercent} %, waiting for disk ${r.host.iowaitPercent} %, **stolen by the hypervisor ${r.host.stealPercent} %** (per phase: ${perPhase}).`];
  const loops = r.phases.map((p) => (p.cost && isMeasured(p.cost) && p.cost.clickbenchLoopBusy !== undefined ? `${p.name} ${p.cost.clickbenchLoopBusy.toFixed(2)}` : null));
  if (loops.some((l) => l !== null)) lines.push('', `clickbench's own event loop (${r.workers ? 'the probe; the load ran in workers' : 'the load generator and the probe'}${stageInProcess(r) ? ', and the enrichment stage in the same process' : ''}), share of each phase it was running code (measured: perf_hooks' event-loop utilization; ${STAGE_LOOP_SATURATED} or more: its own thread was the limit): ${loops.map((l, i) => l ?? `${r.phases[i].name} –`).join(', ')}.`);
  const w = stealWarning(r.phases);
  if (w) lines.push('', `**Warning: ${w}.**`);
  return lines;
}

export function renderMarkdown(r: Results, e: Evaluation): string {
  const out: string[] = [];
  const s = r.scenario;
  out.push(`# clickbench scorecard — ${s.name}`);
  out.push('');
  out.push(`**${verdictLine(r, e)}**`);
  out.push('');
  out.push(`Run \`${r.run.id}\` · ${r.run.startedAt} · ${formatDurationMs(r.run.durationMs)} · ${r.cluster.target === 'sandbox' ? 'sandbox' : 'external cluster'} ${r.cluster.kafkaVersion ? `Apache Kafka ${r.cluster.kafkaVersion}` : ''} (${r.cluster.brokers.length} brokers, racks ${[...new Set(r.cluster.brokers.map((b) => b.rack ?? '?'))].join('/')}) · profile \`${r.cluster.profile}\` · scenario \`${s.file}\` sha256 \`${s.hash.slice(0, 12)}\` seed ${s.seed}`);
  const w = r.cluster.warmup;
  if (w) out.push('', w.by === 'none' ? `Sandbox warm-up: none — ${w.reason}.` : `Sandbox warm-up (not measured): ${w.seconds} s of pipeline traffic (${num(w.produced)} records, ${num(w.transactions)} transactions) on throwaway topics ${w.by === 'this run' ? 'by this run, before its schedule' : `by an earlier run or \`sandbox up\` on the same JVMs, finished ${w.finishedAt}`}, ended ${w.ended === 'flat' ? 'when the brokers\' CPU per 1 000 records had stopped falling' : `at its ${w.maxSeconds} s limit`} (per 10 s: ${w.cpuPer1000ByWindow?.length ? `${w.cpuPer1000ByWindow.join(' → ')} CPU s per 1 000 records, brokers using ${(w.brokerCoresByWindow ?? []).join(' → ')} cores of ${r.run.host.cpus}` : 'broker CPU not readable'}; brokers using most of the machine make that curve flat by saturation, not because compiling is done). A just-started broker compiles its hot code under load, which a production cluster has long done.`);
  out.push('', ...hostCpuLines(r));
  if (r.cluster.brokerOverrides) out.push('', `Sandbox broker overrides (CLICKBENCH_SANDBOX_BROKER_PROPS): ${Object.keys(r.cluster.brokerOverrides).length ? `${Object.entries(r.cluster.brokerOverrides).map(([k, v]) => `\`${k}=${v}\``).join(' ')} (applied to every node on top of the sandbox's settings)` : 'none'}.`);
  if (r.cluster.jvmOptions) out.push('', `Sandbox JVM options: ${r.cluster.jvmOptions.length ? r.cluster.jvmOptions.map((o) => `\`${o}\``).join(' ') : '(none)'} (${jitNote(r.cluster.jvmOptions)}).`);
  out.push('');

  out.push('## Gates');
  out.push('');
  out.push(e.gates.length === 0 ? '_The scenario defines no gates._' : table(['metric', 'threshold', 'measured', 'result'], e.gates.map((g) => [`\`${g.metric}\``, g.expression, g.value === null ? g.note ?? '–' : num(g.value, Number.isInteger(g.value) ? 0 : 3), g.passed ? 'pass' : '**FAIL**'])));
  out.push('');

  out.push('## Readiness scorecard');
  out.push('');
  out.push(table(['row', 'score', 'owner', 'evidence', 'to reach the next score'], e.rows.map((x) => [x.title, `**${x.score}**`, x.owner ?? '_none_', x.evidence.join('; '), x.score === 2 ? '–' : x.missing.join('; ') || '–'])));
  out.push('');
  out.push('### Clause by clause');
  out.push('');
  out.push('A 2 needs every clause of the row\'s definition evidenced by this run (✓); ✗ failed, – not evidenced, with what would evidence it.');
  out.push('');
  out.push(table(['row', 'clause', '', 'what the run showed', 'what would evidence it'], e.rows.flatMap((x) => (x.clauses ?? []).map((c, i) => [i === 0 ? x.title : '', c.clause, c.status === 'evidenced' ? '✓' : c.status === 'failed' ? '✗' : '–', c.evidence, c.status === 'evidenced' ? '' : c.toEvidence ?? '']))));
  out.push('');
  out.push('<details><summary>How each row is scored (argue with the rules, not the numbers)</summary>');
  out.push('');
  for (const x of e.rows) out.push(`- **${x.title}**: ${ROW_RULES[x.id]}`);
  out.push('');
  out.push('</details>');
  out.push('');

  out.push('## Evaluation checklist');
  out.push('');
  out.push(table(['item', 'healthy signal', 'evidence'], e.checklist.map((c) => [c.item, c.healthy, c.evidence.join('; ')])));
  out.push('');

  out.push('## Latency (ms, from each event\'s intended send time)');
  out.push('');
  out.push(table(['phase', 'latency', 'count', 'p50', 'p90', 'p99', 'p99.9', 'max'], [...r.phases.flatMap((p) => latencyRows(`${p.name}${p.scored ? '' : ' (not scored)'}`, p.latency)), ...latencyRows('**all scored**', r.latency)]));
  out.push('');
  const ls = r.latencySamples;
  if (ls) {
    out.push(`Samples: the first sighting of each enriched event (${num(ls.dlqRecordsExcluded)} DLQ record(s) and ${num(ls.duplicatesExcluded)} duplicate(s) left out). Enrichment time = output append time − raw append time on the brokers' clocks${ls.negativeEnrichMs ? `: **${num(ls.negativeEnrichMs)} came out negative** (the brokers' clocks disagree) and were recorded as 0` : '; none came out negative'}.`);
    out.push('');
  }
  const ps = downsample(r.series.perSecond);
  out.push(chart('End-to-end p99 per second (ms)', 'second', ps.items.map((x) => x.second), 'ms', [{ values: ps.items.map((x) => x.e2eP99Ms) }]));
  out.push('');

  out.push('## Throughput against the schedule');
  out.push('');
  const t = r.throughput;
  out.push(`${num(t.ackedEvents)} of ${num(t.intendedEvents)} intended events acknowledged (${(t.achievedRatio * 100).toFixed(2)} %), ${num(t.failedEvents)} failed; ${formatBytes(t.payloadBytes)} payload, ${num(t.averageEventBytes)} B per event. ${t.verdict}. Max schedule lag ${num(t.maxScheduleLagMs)} ms, max queue ${num(t.maxQueueDepth)} events.`);
  out.push('');
  out.push(table(['phase', 'kind', 'from', 'to', 'intended', 'acknowledged', 'achieved', 'what it does'], r.phases.map((p) => [p.name, p.kind, `${p.startOffsetMs / 1000} s`, `${p.endOffsetMs / 1000} s`, num(p.events.intended), num(p.events.acked), p.achievedRatio === null ? '–' : `${(p.achievedRatio * 100).toFixed(1)} %`, PHASES[p.kind]?.summary ?? '–'])));
  out.push('');
  out.push(...clientSection(r));
  if (r.workers) out.push(...workersSection(r.workers), '');
  out.push(chart('Events per second: intended (1st line) vs acknowledged (2nd)', 'second', ps.items.map((x) => x.second), 'events/s', [{ values: ps.items.map((x) => x.intended) }, { values: ps.items.map((x) => x.acked) }]));
  out.push('');

  out.push('## Consumer lag and replay');
  out.push('');
  const lag = downsample(r.series.lag.filter((l) => l.offsetMs >= 0));
  out.push(chart('Enrichment consumer lag (records)', 'second', lag.items.map((l) => Math.round(l.offsetMs / 1000)), 'records', [{ values: lag.items.map((l) => l.lag) }]));
  out.push('');
  out.push(stallsLine(r.series.lag.filter((l) => l.offsetMs >= 0), r.phases));
  out.push('');
  if (isMeasured(r.replay)) {
    const rp = r.replay;
    out.push(table(['replay', 'value'], [
      ['phase', rp.phase], ['history replayed', `${formatDurationMs(rp.lookbackMs)} (${num(rp.replayedRecords)} records)`],
      ['catch-up duration', rp.durationMs === null ? 'did not catch up within the run' : formatDurationMs(rp.durationMs)],
      ['replay rate', rp.ratePerSec === null ? '–' : `${num(rp.ratePerSec)} records/s`], ['minutes per hour of history', num(rp.minutesPerHour, 2)],
      ['live e2e p99 before → during', `${num(rp.liveE2eP99BeforeMs)} → ${num(rp.liveE2eP99DuringMs)} ms (×${num(rp.liveP99Degradation, 2)})`],
      ['served from the remote tier', isMeasured(rp.remoteTier) ? mb(rp.remoteTier.remoteBytes) : `not measured: ${rp.remoteTier.reason}`],
    ]));
  } else out.push(`Replay: not measured — ${r.replay.reason}.`);
  out.push('');

  out.push('## Dual-run and rollback');
  out.push('');
  if (isMeasured(r.dualRun)) {
    const d = r.dualRun;
    out.push(`Dual-run of ${d.versions[1]} beside ${d.versions[0]} (two consumer groups, two outputs): ${num(d.compared)} events compared field by field, ${num(d.identical)} identical, **${num(d.differing)} differing**; ${num(d.onlyMain)} only in ${d.versions[0]}'s output and ${num(d.onlyOther)} only in ${d.versions[1]}'s when the phase ended.`);
    if (d.side) out.push('', dualRunSide(d.versions[1], d.side));
    out.push('');
    const fields = Object.entries(d.fieldDiffs).sort((a, b) => b[1] - a[1]);
    const why: Record<string, string> = {
      risk: 'the versions\' risk rules differ (the point of the dual-run)',
      server_session: `${d.versions[1]} started at the phase start with no session state (warm-up)`,
      attribution: `${d.versions[1]} started with no campaign touches in memory (warm-up)`,
      consent: 'lookup-table timing: the versions enriched the event at different moments and a consent change arrived in between',
      profile: 'lookup-table timing: a (late) profile update had arrived for one version and not yet for the other',
    };
    for (const f of ['anonymous_id', 'user_id', 'session_id', 'person_id', 'ip', 'merged_user_id', 'profile_user_id']) why[f] = 'follows the consent difference (pseudonymized for one version, not the other)';
    out.push(fields.length ? table(['field', 'events that differ', 'why'], fields.map(([f, n]) => [f, num(n), why[f] ?? 'unexpected: look here'])) : '_No field differs._');
  } else out.push(`Dual-run: not measured — ${r.dualRun.reason}.`);
  out.push('');
  if (isMeasured(r.rollback)) {
    const rb = r.rollback;
    out.push(`Rollback to ${rb.toVersion}: its consumer group was reset ${formatDurationMs(rb.lookbackMs)} back and replayed ${num(rb.replayedRecords)} records into the sink as a new generation; ${rb.durationMs === null ? 'it did not catch up within the run' : `caught up in ${formatDurationMs(rb.durationMs)} (${num(rb.ratePerSec)} records/s)`}. Live e2e p99 ${num(rb.liveE2eP99BeforeMs)} → ${num(rb.liveE2eP99DuringMs)} ms. Sink afterwards: ${r.correctness.missing} missing, ${r.correctness.duplicates} duplicates within a generation.${rb.groupState ? ` Consumer group: ${groupStateText(rb.groupState)}.` : ''}`);
  } else out.push(`Rollback: not measured — ${r.rollback.reason}.`);
  out.push('');

  out.push(...faultSection(r));
  out.push(...elasticSection(r));

  out.push('## Broker disk');
  out.push('');
  if (isMeasured(r.disk)) {
    const d = r.disk;
    out.push(`Source: DescribeLogDirs (sizes of the run's partitions on every broker). Growth ${mb(d.growthBytes)} for ${mb(d.ingestedPayloadBytes)} of payload ingested = **${(d.bytesPerGbIngested / 1e9).toFixed(2)} GB of broker disk per GB ingested** (RF ${d.replicationFactor}; the raw topic, the enriched sink, the DLQ and the lookup topics all count).`);
    out.push('');
    if (r.compression) out.push(compressionLine(r.compression), '');
    out.push(table(['broker', 'start', 'end', 'growth'], Object.entries(d.byBroker).map(([b, v]) => [b, mb(v.startBytes), mb(v.endBytes), mb(v.endBytes - v.startBytes)])));
    out.push('');
    const lastDisk = r.series.disk[r.series.disk.length - 1];
    if (lastDisk) {
      out.push(table(['topic (all replicas)', 'on disk at the end', 'per GB ingested'], Object.entries(lastDisk.byTopic).sort((a, b) => b[1] - a[1]).map(([t, b]) => [t, mb(b), d.ingestedPayloadBytes > 0 ? `${(b / d.ingestedPayloadBytes).toFixed(2)} GB` : '–'])));
      out.push('');
    }
    out.push(`Projection for the retention window (${formatDurationMs(d.projection.retentionMs)}): **${(d.projection.averageRetainedBytes / 1e9).toFixed(1)} GB** at the average rate (${mb(d.projection.averageIngestBytesPerSec)}/s), **${(d.projection.peakRetainedBytes / 1e9).toFixed(1)} GB** at the peak rate (${mb(d.projection.peakIngestBytesPerSec)}/s). Formula: ${d.projection.formula}.`);
    if (d.projection.basis) out.push('', `Projected from ${d.projection.basis}.${d.projection.oneOffBytes ? ` One-off writes, not projected: ${mb(d.projection.oneOffBytes)} (${Object.entries(d.projection.oneOffByPhase ?? {}).filter(([, b]) => b > 0).map(([p, b]) => `${p} ${mb(b)}`).join(', ')}).` : ''}`);
    out.push('');
    out.push(`Ground truth: ${isMeasured(d.groundTruth) ? `${d.groundTruth.method}: ${mb(d.groundTruth.bytes)}, DescribeLogDirs ${d.groundTruth.diffPct >= 0 ? '+' : ''}${d.groundTruth.diffPct.toFixed(2)} % from it` : `not measured — ${d.groundTruth.reason}`}. Tiered: ${isMeasured(d.tiered) ? `${mb(d.tiered.remoteBytes)} in the remote tier, ${mb(d.tiered.localBytes)} on broker disks` : `not measured — ${d.tiered.reason}`}.`);
    out.push('');
    const ds = downsample(r.series.disk);
    out.push(chart('Broker disk of the run\'s topics (MB, all brokers)', 'second', ds.items.map((x) => Math.round(x.offsetMs / 1000)), 'MB', [{ values: ds.items.map((x) => x.totalBytes / 1e6) }]));
  } else out.push(`Not measured — ${r.disk.reason}.`);
  out.push('');

  out.push(...profileSection(r));

  out.push('## Cross-zone bytes');
  out.push('');
  if (isMeasured(r.crossZone)) {
    const z = r.crossZone;
    out.push(`The model: **modelled** from the live topology (leaders, replicas, ISR, broker racks ${Object.entries(z.brokerZones).map(([b, zn]) => `${b}→${zn}`).join(', ')}) and per-partition payload bytes; client zones: producer ${r.clients.producerZone}, enrichment ${r.clients.enrichmentZone}, probe ${r.clients.probeZone}.`);
    out.push('');
    out.push('The model\'s columns are modelled; the last column is the phase\'s cross-zone figure as measured, with its source (kernel TCP counters on the sandbox, or a flow-log export), or "modelled only" when nothing measured it.');
    out.push('');
    const measuredCell = (p: PhaseResult) => {
      const f = phaseCrossZone(r, p);
      return f.source === 'kernel counters' || f.source === 'flow log' ? `${mb(f.crossZoneBytes ?? 0)} (${f.source})` : 'modelled only';
    };
    const fileTotal = r.crossZoneFile && isMeasured(r.crossZoneFile) ? `${mb(r.crossZoneFile.total.crossZoneBytes)} (flow log, ${(r.crossZoneFile.total.coverage * 100).toFixed(0)} % covered)` : undefined;
    const kernelTotal = z.measuredBytes && isMeasured(z.measuredBytes) ? `${mb(z.measuredBytes.crossZone.bytes)} (kernel counters)` : undefined;
    out.push(table(['phase', 'produce (model)', 'replication (model)', 'consume (model)', 'cross-zone total (model)', 'of all bytes (model)', 'cost (model)', 'cross-zone measured'], [
      ...r.phases.map((p) => isMeasured(p.crossZone) ? [p.name, mb(p.crossZone.produce.crossZoneBytes), mb(p.crossZone.replication.crossZoneBytes), mb(p.crossZone.consume.crossZoneBytes), mb(p.crossZone.crossZoneBytes), mb(p.crossZone.totalBytes), `$${p.crossZone.costUsd.toFixed(4)}`, measuredCell(p)] : [p.name, 'not modelled', '', '', '', '', '', measuredCell(p)]),
      ['**run**', mb(z.total.produce.crossZoneBytes), mb(z.total.replication.crossZoneBytes), mb(z.total.consume.crossZoneBytes), `**${mb(z.total.crossZoneBytes)}**`, mb(z.total.totalBytes), `$${z.total.costUsd.toFixed(4)}`, kernelTotal ?? fileTotal ?? 'modelled only'],
    ]));
    if (r.crossZoneFile) out.push('', isMeasured(r.crossZoneFile) ? `Flow log: ${r.crossZoneFile.method}.` : `Flow log: not measured — ${r.crossZoneFile.reason}.`);
    out.push('');
    out.push('Formula:');
    for (const f of z.formula) out.push(`- ${f}`);
    out.push('');
    out.push(`Assumptions of profile \`${z.total.profile}\`:`);
    for (const a of z.assumptions) out.push(`- ${a}`);
    out.push('');
    out.push(...fidelity(r));
  } else out.push(`Not measured — ${r.crossZone.reason}.`);
  out.push('');

  out.push('## Enrichment and correctness');
  out.push('');
  const c = r.enrichment.counters;
  const k = r.correctness;
  out.push(table(['figure', 'value'], [
    ['version / delivery', `${r.enrichment.version} / ${r.enrichment.delivery}${r.enrichment.instances ? ` · ${r.enrichment.instances} instances in one group (partition p to instance p mod ${r.enrichment.instances}, each its own transactional id)` : ''}`],
    ['events processed / enriched', c ? `${num(c.processed)} / ${num(c.enriched)}` : 'not measured'],
    ['DLQ by reason', c ? Object.entries(c.dlq).map(([x, n]) => `${x} ${n}`).join(', ') : '–'],
    ...(r.enrichment.tableFallbacks ? [['lookup-table load', `${r.enrichment.tableFallbacks} load(s) stalled ${TABLE_STALL_MS / 1000} s fetching from the stage's zone and were redone from the leaders`]] : []),
    ...(r.enrichment.consumerRestarts || r.enrichment.producerReplacements ? [['stage self-repair', `${r.enrichment.consumerRestarts ?? 0} consumer(s) started anew after a crash kafkajs does not restart, ${r.enrichment.producerReplacements ?? 0} transactional producer(s) replaced`]] : []),
    ['late profile updates', c ? `${c.lateProfile.updates} updates, ${c.lateProfile.events} events enriched before their update (max ${c.lateProfile.maxLatenessMs} ms late)` : '–'],
    ['masking', c ? `${c.masked.piiFieldsWithheld} PII fields withheld, ${c.masked.pseudonymized} pseudonymized, ${c.masked.ipTruncated} IPs truncated, ${c.masked.personalizationDropped} personalization drops` : '–'],
    ['risk', c ? `${c.risk.flagged} flagged; signals ${Object.entries(c.risk.bySignal).map(([x, n]) => `${x} ${n}`).join(', ') || 'none'}` : '–'],
    ['transactions', `${r.enrichment.batches} batches, ${r.enrichment.transactionsAborted} aborted, ${r.enrichment.concurrentTransactionRetries} CONCURRENT_TRANSACTIONS retries, ${r.enrichment.redeliveredSkipped} re-delivered records skipped${r.enrichment.commitsConfirmedAfterError ? `, ${r.enrichment.commitsConfirmedAfterError} commit(s) that raised an error but had landed (found in the group's offsets, not redone)` : ''}`],
    ['accounting', `${num(k.ackedEvents)} acknowledged; ${num(k.expectedInSink)} expected in sink/DLQ by id, ${num(k.seenDistinct)} seen, **${k.missing} missing**${k.timedOut ? ` (${k.timedOut} not seen by the probe when the drain ended${k.timedOutWhere ? `: by phase ${Object.entries(k.timedOutWhere.byPhase).map(([p, n]) => `${p} ${n}`).join(', ')}; by raw partition ${Object.entries(k.timedOutWhere.byRawPartition).map(([p, n]) => `${p}: ${n}`).join(', ')}; intended ${(k.timedOutWhere.intendedOffsetMs[0] / 1000).toFixed(1)}–${(k.timedOutWhere.intendedOffsetMs[1] / 1000).toFixed(1)} s into the run${openTxnText(k.timedOutWhere.openTransactions)}` : ''})` : ''}, **${k.duplicates} duplicates**${k.duplicateExamples?.length ? ` (first ones: ${k.duplicateExamples.map((d) => `event ${d.seq} of generation ${d.generation}: ${d.first ?? 'first copy no longer among the probe\'s recent records'}, again at ${d.copy}`).join('; ')})` : ''}`],
    ['governance probe', `${k.piiLeaks} PII leak(s); ${k.unpseudonymized} raw identifier(s) in ${k.checkedWithoutConsent} sampled records without analytics consent`],
    ['errors', `${r.errors.produceErrors} failed produce attempt(s), retried (${r.errors.produceFailedEvents} events given up on)${Object.keys(r.errors.byCode ?? {}).length ? `; by code: ${Object.entries(r.errors.byCode).map(([x, n]) => `${x} ${n}`).join(', ')}` : ''}${r.errors.messages.length ? `; first message: ${r.errors.messages[0]}` : ''}`],
  ]));
  out.push('');
  if (r.table) out.push(...tableSection(r.table, r.cluster.profile, Object.fromEntries(r.phases.map((p) => [p.name, p.latency.e2e]))), '');
  out.push(`_Generated by clickbench ${r.run.clickbenchVersion} on Node ${r.run.node}, ${r.run.host.cpus} CPUs. Results: \`results.json\` (schema \`${r.schema}\`)._`);
  out.push('');
  return out.join('\n');
}

/** The lakehouse table: freshness per phase beside the stream's e2e, the table checked by queries, its files and schema history. */
export function tableSection(t: NonNullable<Results['table']>, profile: string, e2eByPhase: Record<string, LatencyTriple['e2e']> = {}): string[] {
  const out = ['## Lakehouse table', ''];
  if (!isMeasured(t)) return [...out, `Not measured — ${t.reason}.`];
  out.push(...tableTopicModel(t, profile));
  const lat = (l: { p50Ms: number; p99Ms: number; maxMs: number; count: number } | null) => (l ? `${l.p50Ms} / ${l.p99Ms} / ${l.maxMs} (${num(l.count)} events)` : 'no event reached the table');
  out.push(`Table sink (its own process, pid ${t.sink.pid ?? '?'}) → \`${t.dir}\`: a Parquet file and an atomic commit record every ${num(t.cadence.rows)} rows, ${t.cadence.intervalMs / 1000} s or ${formatBytes(t.cadence.bytes)}, whichever comes first.`);
  out.push('');
  const e2e = (phase: string) => {
    const l = e2eByPhase[phase];
    return l ? `${l.p50Ms} / ${l.p99Ms}` : '–';
  };
  out.push(table(['phase', 'table freshness p50 / p99 / max (ms)', 'stream e2e p50 / p99 (ms)'], [...t.freshness.byPhase.map((p) => [p.phase, lat(p.freshness), e2e(p.phase)]), ['**scored phases**', lat(t.freshness.scored), '']]));
  out.push('');
  out.push(`_Freshness ${t.freshness.method} (${num(t.freshness.queries)} queries, the slowest ${t.freshness.slowestQueryMs} ms); live rows only, as the stream's e2e: ${num(t.freshness.rewrittenRowsExcluded)} rows a replay or rollback rewrote (events from before it started) left out._`);
  out.push('');
  out.push(table(['figure', 'value'], [
    ['exactly-once in the table', `${num(t.expectedEvents)} events read from the enriched topic; **${num(t.missingEvents)} not in the table**${t.missingExamples.length ? ` (e.g. ${t.missingExamples.slice(0, 3).join(', ')})` : ''}, **${num(t.duplicateRows)} duplicate rows** (an event twice in one generation)${t.unexpectedEvents ? `, ${num(t.unexpectedEvents)} event ids the probe never read` : ''}`],
    ['rows by generation', Object.entries(t.rowsByGeneration).map(([g, n]) => `${g === '0' ? 'live' : `generation ${g}`} ${num(n)}`).join(', ') || 'none'],
    ['files', `${num(t.files)} (${formatBytes(t.bytes)}); ${num(t.smallFiles)} under 1 MiB`],
    ...(t.versionOnlyColumns ? [['columns by enrichment version', Object.entries(t.versionOnlyColumns).map(([v, cs]) => `${v} only: ${cs.join(', ') || 'none'}`).join('; ') + ' (other rows read null there: queries over the whole table still work)']] : []),
    ['schema history', t.schemaChanges.length ? t.schemaChanges.map((c) => `commit ${c.seq}: ${c.added.length ? `added ${c.added.join(', ')}` : ''}${c.typeChanged.length ? `${c.added.length ? '; ' : ''}${c.typeChanged.map((x) => `${x.column} ${x.from} → ${x.to}${x.compatible ? '' : ' (**incompatible**)'}`).join(', ')}` : ''}`).join('; ') : 'one shape throughout'],
    ['sink', `${t.sink.cpuSeconds === null ? 'CPU not read' : `${t.sink.cpuSeconds.toFixed(1)} CPU-s`}; ${t.sink.kills ? `killed ${t.sink.kills} time${t.sink.kills > 1 ? 's' : ''} by a fault phase and restarted from its last commit record (${num(t.sink.restartedSkipped)} re-delivered records skipped below it); ` : ''}${t.sink.slowestCommitMs != null ? `slowest commit ${num(t.sink.slowestCommitMs)} ms; ` : ''}${t.sink.rejoins ? `**joined its group again ${t.sink.rejoins} time${t.sink.rejoins > 1 ? 's' : ''}** (rebalances: reading paused meanwhile); ` : ''}${t.sink.stoppedCleanly ? 'stopped cleanly (last commit made)' : '**did not stop cleanly** (killed; rows after its last commit are not in the table)'}`],
  ]));
  return out;
}

/**
 * Profile automq: what AutoMQ's Table Topic would change for this table, modelled (never measured here: the
 * sandbox is Apache Kafka, which refuses automq.table.topic.enable; the probe says whether a cluster accepts it).
 */
export const TABLE_TOPIC_DEFAULT_COMMIT_MS = 60_000;
function tableTopicModel(t: Extract<NonNullable<Results['table']>, { measured: true }>, profile: string): string[] {
  if (profile !== 'automq') return [];
  return [`**Modelled for AutoMQ Table Topic** (profile \`automq\`; not measured: this run's table came from clickbench's sink): with \`automq.table.topic.enable=true\` on the enriched topic the brokers write the Iceberg table themselves — no sink process (this run's sink used ${t.sink.cpuSeconds === null ? 'unread' : `${t.sink.cpuSeconds.toFixed(1)}`} CPU-s and wrote ${num(t.files)} files), and the table's freshness is bounded by \`automq.table.topic.commit.interval.ms\` (${TABLE_TOPIC_DEFAULT_COMMIT_MS / 1000} s by default; this run's sink committed every ${t.cadence.intervalMs / 1000} s and measured p99 ${t.freshness.scored ? `${t.freshness.scored.p99Ms} ms` : '–'}). Whether its table holds every event once per generation is not measured here: clickbench checks the Parquet table its own sink writes.`, ''];
}

/** Fidelity (sandbox): the model and DescribeLogDirs against what the kernel and the file system say. */
function fidelity(r: Results): string[] {
  const out = ['### Fidelity: modelled vs measured', ''];
  const m = isMeasured(r.crossZone) ? r.crossZone.measuredBytes : undefined;
  if (!m || !isMeasured(m)) {
    out.push(`Cross-zone bytes measured: not measured — ${m?.reason ?? 'not in these results'}.`, '');
  } else {
    const pct = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `${v >= 0 ? '+' : ''}${v.toFixed(1)} %`);
    out.push(`Measured with ${m.method}; ${m.connectionsSeen} connections seen, ${m.connectionsClosed} closed during the run${m.connectionsClosedUncounted ? ` (${m.connectionsClosedUncounted} without their last bytes: a lower bound)` : ''}. Difference = (model − measured) / measured.`);
    out.push('');
    out.push(table(['cross-zone flow', 'modelled (records as on the wire)', 'measured (TCP bytes)', 'difference'], [
      ['produce: clients → leaders', m.model ? mb(m.model.produce) : '–', mb(m.crossZone.clientToBroker), pct(m.diffPct?.produce)],
      ['replication: leaders → followers', m.model ? mb(m.model.replication) : '–', mb(m.crossZone.replication), pct(m.diffPct?.replication)],
      // With rack-aware reads the model has no cross-zone consume; the kernel's broker → client bytes are
      // every answer a broker sent across zones (produce acknowledgements, metadata), which -100 % misread.
      ['consume: replicas → clients', m.model ? mb(m.model.consume) : '–', mb(m.crossZone.brokerToClient), m.model?.consume === 0 ? 'none modelled (rack-aware reads); measured: every broker answer sent across zones, not only records' : pct(m.diffPct?.consume)],
      ['**data flows**', m.model ? `**${mb(m.model.crossZoneBytes)}**` : '–', `**${mb(m.crossZone.clientToBroker + m.crossZone.replication + m.crossZone.brokerToClient)}**`, `**${pct(m.diffPct?.crossZone)}**`],
      ['replica fetch requests (followers → leaders)', 'not modelled', mb(m.crossZone.replicationRequests), ''],
      ['all cross-zone bytes', m.model ? mb(m.model.crossZoneBytes) : '–', mb(m.crossZone.bytes), pct(m.diffPct?.allTraffic)],
    ]));
    out.push('');
    out.push(table(['client', 'zone', 'sent', 'received', 'cross-zone'], Object.entries(m.byClient).map(([c, v]) => [c, v.zone, mb(v.sentBytes), mb(v.receivedBytes), mb(v.crossZoneBytes)])));
    out.push('');
  }
  if (isMeasured(r.disk)) out.push(`Broker disk: ${isMeasured(r.disk.groundTruth) ? `DescribeLogDirs ${r.disk.groundTruth.diffPct >= 0 ? '+' : ''}${r.disk.groundTruth.diffPct.toFixed(2)} % from ${r.disk.groundTruth.method}` : `ground truth not measured — ${r.disk.groundTruth.reason}`}.`, '');
  return out;
}

/** The sink partitions a transaction still held open at the end (read_committed readers stop there). */
function openTxnText(o: string | { topic: string; partition: number; lastStable: number; highWatermark: number }[] | undefined): string {
  if (o === undefined) return '';
  if (typeof o === 'string') return `; open transactions on the sink not checked: ${o}`;
  if (o.length === 0) return '; no transaction was open on the sink at the end (last stable offset = high watermark everywhere)';
  return `; a transaction was still open at the end on ${o.map((x) => `${x.topic}[${x.partition}] (last stable offset ${x.lastStable}, high watermark ${x.highWatermark})`).join(', ')}: read_committed readers cannot pass it`;
}

/** Which side limited the run (client or cluster), and the cluster's calibrated ceilings. */
function clientSection(r: Results): string[] {
  const out: string[] = [];
  const c = r.client;
  if (c && isMeasured(c)) {
    out.push(`Load generator: CPU share median ${(c.cpuShareP50 * 100).toFixed(0)} % of a core (max ${(c.cpuShareMax * 100).toFixed(0)} %), event-loop delay p99 up to ${num(c.eventLoopP99MaxMs, 1)} ms, queue up to ${num(c.queueDepthMax)} events. **Bottleneck: ${c.bottleneck.side === 'none' ? 'none (kept up)' : c.bottleneck.side}.**`);
    for (const e of c.bottleneck.evidence) out.push(`- ${e}`);
    out.push('');
    if (c.stage) {
      const st = c.stage;
      out.push(isMeasured(st) ? `Enrichment stage: **${st.side === 'none' ? st.verdict : `${st.verdict}.`}**` : `Enrichment stage: which side limited it not judged — ${st.reason}.`);
      if (isMeasured(st)) for (const e of st.evidence) out.push(`- ${e}`);
      out.push('');
    }
  }
  const cal = r.calibration;
  if (cal && isMeasured(cal)) {
    const share = c && isMeasured(c) && isMeasured(c.calibratedShare) ? c.calibratedShare : undefined;
    out.push(`Calibration with Apache Kafka's own tools on the same cluster (${cal.settings.recordBytes} B records, acks=${cal.settings.acks}, ${cal.settings.partitions} partitions, RF ${cal.settings.replication}; scratch topic ${cal.scratchTopicRemoved ? 'removed' : 'NOT removed'}):`);
    out.push('');
    out.push(table(['ceiling', 'Kafka tool', 'this run'], [
      ['produce rate', `${num(cal.produce.recordsPerSec)} records/s (ProducerPerformance)`, share ? `peak ${num(share.peakAckedPerSec)} events/s acknowledged = **${(share.share * 100).toFixed(1)} %** of the ceiling` : '–'],
      ['catch-up read rate', `${num(cal.consume.recordsPerSec)} records/s (ConsumerPerformance)`, isMeasured(r.replay) && r.replay.ratePerSec ? `replay ${num(r.replay.ratePerSec)} records/s (through enrichment)` : '–'],
      ['e2e latency floor', `p50 ${cal.latency.p50Ms} ms, p99 ${cal.latency.p99Ms} ms (EndToEndLatency)`, `e2e p50 ${num(r.latency.e2e?.p50Ms)} ms, p99 ${num(r.latency.e2e?.p99Ms)} ms (through enrichment, open loop)`],
    ]));
    out.push('');
  }
  return out;
}

/** Faults: what broke, what users felt, how the cluster and the pipeline recovered, and the accounting. */
function faultSection(r: Results): string[] {
  const faults = r.faults ?? [];
  if (faults.length === 0) return [];
  const out = ['## Faults and recovery', ''];
  const sec = (ms: number | null) => (ms === null ? '–' : `${(ms / 1000).toFixed(1)} s`);
  for (const f of faults) {
    out.push(`### ${f.phase}: ${f.action} of ${f.target}`);
    out.push('');
    if (f.error) out.push(`**Problem:** ${f.error}`, '');
    const wu = f.writeUnavailability;
    const lb = f.latency.before;
    const d = f.latency.during;
    out.push(table(['figure', 'value'], [
      ['injected / restored', `${sec(f.injectedAtOffsetMs)} / ${sec(f.restoredAtOffsetMs)} into the run (down for ${sec(f.downForMs)}${f.wiped ? ', partition directories wiped' : ''})`],
      ['writes unavailable', isMeasured(wu) ? `max ${sec(wu.maxMs)}, p50 ${sec(wu.p50Ms)} over ${wu.affectedPartitions} affected partition(s) (${wu.perPartition.filter((p) => p.leaderLost).length} lost their leader)` : `not measured: ${wu.reason}`],
      ['produce ack p50 / p99 / max', `${num(d.produceAck?.p50Ms)} / ${num(d.produceAck?.p99Ms)} / ${num(d.produceAck?.maxMs)} ms during vs ${num(lb?.produceAck?.p50Ms)} / ${num(lb?.produceAck?.p99Ms)} / ${num(lb?.produceAck?.maxMs)} ms in ${f.latency.baselinePhase ?? '–'}`],
      ['end-to-end p50 / p99 / max', `${num(d.e2e?.p50Ms)} / ${num(d.e2e?.p99Ms)} / ${num(d.e2e?.maxMs)} ms during vs ${num(lb?.e2e?.p50Ms)} / ${num(lb?.e2e?.p99Ms)} / ${num(lb?.e2e?.maxMs)} ms in ${f.latency.baselinePhase ?? '–'}`],
      ['leaders', `${f.recovery.leaderElections} leader change(s); every partition led by a live node ${sec(f.recovery.leadersMovedMs)} after the fault`],
      ['ISR', `${f.recovery.underReplicatedMax} under-replicated partition(s) at most; whole again ${f.recovery.isrRestoreMs === null ? 'not within the run' : `${sec(f.recovery.isrRestoreMs)} after the restart`}`],
      ['consumer lag', `steady ${num(f.recovery.lag.steadyRecords)}, peak ${num(f.recovery.lag.peakRecords)} records; back under ${num(f.recovery.lag.thresholdRecords)} ${f.recovery.lag.drainMs === null ? 'not within the run' : `${sec(f.recovery.lag.drainMs)} after the fault`}`],
      ['produce errors (retried)', Object.entries(f.produceErrors).map(([x, n]) => `${x} ${n}`).join(', ') || 'none'],
      ['client retries', Object.entries(f.clientRetries).map(([x, n]) => `${esc(x)} ${n}`).join(', ') || 'none'],
    ]));
    out.push('');
    if (f.recovery.milestones.length) {
      out.push('Milestones: ' + f.recovery.milestones.map((m) => `${sec(m.offsetMs)} ${m.what}`).join(' → '));
      out.push('');
    }
    for (const c of f.commands) out.push(`\`${esc(c.command)}\` (${c.step}) exited ${c.exitCode} after ${sec(c.durationMs)}${c.output ? `:\n\n\`\`\`\n${c.output.trim()}\n\`\`\`` : ''}`, '');
  }
  const a = r.accounting;
  out.push(isMeasured(a)
    ? `**Accounting:** ${num(a.ackedChecked)} acknowledged events checked — **${num(a.ackedLost)} lost** from the raw topic${a.ackedLost ? ` (by partition: ${Object.entries(a.lostByPartition).map(([p, n]) => `${p}: ${n}`).join(', ')})` : ''}, ${num(a.rawDuplicates)} duplicated there; sink **${num(a.sinkMissing)} missing**, **${num(a.sinkDuplicates)} duplicates**. Method: ${a.method}.`
    : `Accounting: not measured — ${a?.reason ?? 'not in these results'}.`);
  out.push('');
  return out;
}

/** The platform profile (how storage and networking are read and costed) and the cluster's compatibility matrix. */
function profileSection(r: Results): string[] {
  const out: string[] = ['## Platform profile and compatibility', ''];
  const profile = r.cluster.profile as Profile;
  const modelled = String(r.cluster.profileSource ?? '').startsWith('modelled') || profile === 'automq';
  out.push(`Profile \`${profile}\`${r.cluster.profileSource ? ` (${r.cluster.profileSource})` : ''}${modelled ? ' — **figures that depend on it are MODELLED, not measured**' : ''}.`);
  if (r.cluster.security) {
    const sec = r.cluster.security;
    out.push(`Connection: ${sec.protocol}${sec.saslMechanism ? `, SASL ${sec.saslMechanism} as \`${sec.saslUsername}\` (password from ${sec.passwordFrom}, never recorded)` : ''}${sec.caFile ? `, TLS ${sec.tlsVerify ? 'verified against' : 'NOT verified,'} ${sec.caFile}` : ''}.`);
  }
  out.push('');
  out.push('Traffic assumptions:');
  for (const a of PROFILE_ASSUMPTIONS[profile] ?? []) out.push(`- ${a}`);
  const cost = storageCost(profile, r, !modelled);
  if (cost) {
    out.push('');
    out.push(`Storage cost for the retention window at the average rate${cost.measuredOnProfile ? '' : ' (**modelled**)'}:`);
    out.push('');
    out.push(table(['tier', 'GB', 'price', 'per month', 'basis'], [
      ...cost.lines.map((l) => [l.tier, (l.bytes / 1e9).toFixed(1), `$${l.pricePerGbMonth}/GB-month`, `$${l.usdPerMonth.toFixed(2)}`, l.basis]),
      ['**total**', '', '', `**$${cost.usdPerMonth.toFixed(2)}**`, ''],
    ]));
    out.push('');
    for (const a of cost.assumptions) out.push(`- ${a}`);
  }
  out.push('');
  const c = r.compatibility;
  if (!c) out.push('Compatibility: not measured — this results.json predates the probe.');
  else if (!isMeasured(c)) out.push(`Compatibility: not measured — ${c.reason}.`);
  else {
    out.push(`Compatibility probe (${(c.durationMs / 1000).toFixed(1)} s, each "yes" exercised on a scratch topic; Kafka version ${c.kafkaVersion.value ?? 'not reported'}: ${c.kafkaVersion.how}):`);
    out.push('');
    out.push(table(['capability', 'result', 'evidence'], c.capabilities.map((x) => (x.optional ? [`${x.name} — not needed by the pipeline`, x.status, x.evidence] : [x.name, x.status === 'yes' ? 'yes' : `**${x.status}**`, x.evidence]))));
  }
  out.push('');
  return out;
}

const rate = (x: number | null) => (x === null ? '–' : `${Math.round(x).toLocaleString('en-US')}/s`);

/** Headroom probes of scale-out phases: steps, sustainable rates, gain, when the new capacity became usable. */
function headroomLines(r: Results, moves: NonNullable<Results['elasticity']>): string[] {
  const out: string[] = [];
  for (const m of moves.filter((x) => x.action === 'scale-out' && !x.modelled)) {
    const h = m.headroom;
    if (!h) {
      out.push(`Headroom gained by ${m.phase}: not measured (${h === null ? 'headroom: false in the scenario' : 'this results.json predates the headroom probe'}).`, '');
    } else {
      const st = h.settings;
      out.push(`Headroom gained by ${m.phase}: the produce rate a topic shaped like the raw one sustains (${st.partitions} partitions, RF ${st.replication}, ${st.recordBytes} B records; ${st.tool}) while the scenario's own load runs, offered in steps of ${(st.stepMs / 1000).toFixed(0)} s doubling from ${st.startRate.toLocaleString('en-US')}/s up to ${st.maxRate.toLocaleString('en-US')}/s, then bisected ${st.refine}×; a step is sustained when it achieves ≥ ${Math.round(st.minAchieved * 100)} % of the offered rate with an ack p99 ≤ ${st.p99LimitMs} ms. A fresh scratch topic per probe spreads over the brokers there are at that moment.`);
      out.push('');
      out.push(table(['probe', 'at', 'brokers', 'steps: offered → achieved, ack p99', 'sustainable'], [h.before, h.after].filter((x) => x !== null).map((x) => [
        x.when, `${(x.startedAtOffsetMs / 1000).toFixed(1)} s${x.underLiveLoad ? '' : ' (load had ended)'}`, String(x.brokers),
        x.error ? `failed: ${x.error}` : x.steps.map((s) => `${s.offeredRate.toLocaleString('en-US')} → ${rate(s.achievedRate)}, ${s.ackP99Ms ?? '–'} ms${s.retried ? ' (2nd try)' : ''} ${s.passed ? '✓' : `✗ (${s.why})`}`).join('; '),
        x.sustainableRate === null ? 'none of the steps' : `${x.atMax ? '≥ ' : ''}${rate(x.sustainableRate)}`,
      ])));
      out.push('');
      out.push(h.gainPct !== null ? `Headroom gained: **${h.gainPct >= 0 ? '+' : ''}${h.gainPct.toFixed(0)} %**${h.gainNote ? ` (${h.gainNote})` : ''}. One probe pair is one sample: on a busy machine a step's result moves by tens of percent between runs, so repeat the run before trusting a gain.` : `Headroom gained: not computed — ${h.gainNote}.`);
      if (r.cluster.target === 'sandbox') out.push('On the sandbox every node shares this one machine\'s CPU cores and disk: an added broker brings no new hardware, so this figure says what one more broker process on the same cores gives (and what the moving replicas cost) — on real hardware the new machine adds its own capacity.');
      out.push('');
    }
    out.push(m.capacityUsableAfterMs != null
      ? `New capacity usable ${(m.capacityUsableAfterMs / 1000).toFixed(1)} s after the scale-out request: the new node(s) led ${m.leadersOnNewNodes} partition(s) of the run's topics (their preferred ones, after a preferred-leader election where needed).`
      : `New capacity usable: not measured — ${m.leadersOnNewNodes == null ? 'the move did not complete' : m.leadersOnNewNodes === 0 ? 'the new node(s) lead no partition of the run\'s topics (follower replicas only)' : `the new node(s) led ${m.leadersOnNewNodes} partition(s) but not all of their preferred ones (see the timeline)`}.`);
    out.push('');
  }
  return out;
}

/** Scale-out / broker replacement / scale-in: how long, how many bytes moved, what users felt. */
function elasticSection(r: Results): string[] {
  const moves = r.elasticity ?? [];
  if (moves.length === 0) return [];
  const out: string[] = ['## Elasticity and data movement', ''];
  if (r.topics.history) out.push(`Retained data before the load: ${mb(r.topics.history.bytes)} of generated history written into \`${r.topics.history.topic}\` in ${(r.topics.history.writeMs / 1000).toFixed(1)} s (plus what the run itself wrote), ${r.topics.tiered ? 'tiered (4 MiB segments, local retention ' + (r.scenario.spec.topics.local_retention !== undefined ? formatDurationMs(r.scenario.spec.topics.local_retention) : 'as retention') + ')' : 'on local disks'}.`);
  out.push('');
  const m2 = (b: number | null) => (b === null ? 'not measured' : mb(b));
  for (const m of moves) if (m.modelled) out.push(`**${m.phase}**: ${m.modelled}.`, '');
  out.push(table(['phase', 'change', 'replicas moved', 'in sync after', 'bytes moved (log dirs)', 'bytes moved (network)', 'per GB retained', 'left in remote tier', 'throttle'], moves.map((m) => [
    m.phase, `${m.action} ${m.nodes.join(', ')}`, m.error ? `failed: ${m.error}` : `${m.replicasMoved} (${m.partitionsMoved} partitions)`,
    m.moveMs !== null ? `${(m.moveMs / 1000).toFixed(1)} s (${((m.durationMs ?? 0) / 1000).toFixed(1)} s from the request)` : m.modelled ? 'not measured (modelled)' : '–',
    m2(m.bytesMovedLogDirs), m.bytesMovedNetwork === null ? 'not measured' : `${mb(m.bytesMovedNetwork)}${m.networkVsLogDirsPct !== null ? ` (${m.networkVsLogDirsPct >= 0 ? '+' : ''}${m.networkVsLogDirsPct.toFixed(1)} %)` : ''}${m.networkCounting?.connectionsClosed ? `, a lower bound: ${m.networkCounting.connectionsClosed} connection(s) closed between readings` : ''}${m.networkUnattributed?.bytes ? `; ${mb(m.networkUnattributed.bytes)} more from brokers on connections no reading tied to a process (a fetcher that opened and closed between two readings), not counted as replication` : ''}`,
    m.bytesMovedPerGbRetained !== null ? `${(m.bytesMovedPerGbRetained / 1e9).toFixed(3)} GB` : '–', !r.topics.tiered ? '– (not tiered)' : m.remoteTierBytes === null ? 'not measured' : mb(m.remoteTierBytes), m.throttleBytesPerSec ? `${(m.throttleBytesPerSec / 1e6).toFixed(1)} MB/s` : 'none',
  ])));
  out.push('');
  for (const m of moves) if (m.groundTruthBytes !== null) out.push(`Ground truth for ${m.phase}: the moved replicas' .log files on the receiving node(s) hold ${mb(m.groundTruthBytes)}; DescribeLogDirs ${m.logDirsVsGroundTruthPct !== null ? `${m.logDirsVsGroundTruthPct >= 0 ? '+' : ''}${m.logDirsVsGroundTruthPct.toFixed(2)} %` : '–'} from it.`);
  out.push('');
  out.push('Bytes moved (log dirs) = the moved replicas\' sizes on their new brokers when the last one joined its ISR (DescribeLogDirs), live writes during the move included; (network) = what those brokers received as followers over the same time, from the kernel\'s per-connection counters (framing and live writes included; it exceeds the log-dir figure when record batches are large next to replica.fetch.max.bytes, 1 MiB by default: a follower\'s fetch is cut in the middle of a batch, which it drops and fetches again — 512 KiB batches cost 1.85× their size in a check on this machine). Per GB retained = log-dir bytes moved ÷ all replicas of the run\'s topics on the brokers\' disks at the request (what a tiered topic keeps in the remote tier is shown apart).');
  out.push('');
  const impact = moves.map((m) => {
    const phase = r.phases.find((p) => p.name === m.phase);
    const idx = r.phases.findIndex((p) => p.name === m.phase);
    const before = r.phases.slice(0, idx).reverse().find((p) => p.scored);
    const mv = m.latencyDuringMove;
    const during = mv ? `${mv.produceAck?.p99Ms ?? '–'} / ${mv.e2e?.p99Ms ?? '–'} ms` : 'not measured';
    return phase ? [m.phase, `${phase.latency.produceAck?.p99Ms ?? '–'} ms`, `${phase.latency.e2e?.p99Ms ?? '–'} ms`, during, before ? `${before.latency.produceAck?.p99Ms ?? '–'} / ${before.latency.e2e?.p99Ms ?? '–'} ms (${before.name})` : '–', phase.achievedRatio !== null ? `${(phase.achievedRatio * 100).toFixed(1)} %` : '–', isMeasured(phase.lag) ? String(phase.lag.maxRecords) : '–'] : [m.phase, '–', '–', during, '–', '–', '–'];
  });
  out.push('What users felt during the phase:');
  out.push('');
  out.push(table(['phase', 'produce p99', 'e2e p99', 'while replicas moved (produce / e2e p99)', 'before (produce / e2e p99)', 'throughput held', 'lag peak'], impact));
  out.push('');
  if (moves.some((m) => m.headroom)) out.push('The phase\'s own figures include the headroom probes, which push the cluster to its limit on purpose; "while replicas moved" counts only the events intended between the request and the last new replica joining its ISR. The probes\' traffic also counts in the kernel counters (cross-zone bytes) of the phase.', '');
  out.push(...headroomLines(r, moves));
  out.push('By profile: on local disks every retained byte of a moved replica is copied; with tiered storage only the local tail (segments not yet in the remote tier, plus the active segment) is; on shared storage (AutoMQ) no retained bytes move, a partition changes brokers by metadata — **modelled, not measured**: no AutoMQ cluster was run.');
  for (const m of moves) {
    out.push('');
    out.push(`Timeline of ${m.phase}: ${m.milestones.map((x) => `${(x.offsetMs / 1000).toFixed(1)} s ${x.what}`).join(' → ')}`);
  }
  out.push('');
  return out;
}

/** What each producer's codec did to its batches (the disk and cross-zone figures are of the compressed batches). */
export function compressionLine(c: NonNullable<Results['compression']>): string {
  const one = (who: string, f: NonNullable<Results['compression']>['producer']) =>
    f.measured ? `${who} ${f.codec}: ${mb(f.recordBytes)} of records → ${mb(f.compressedBytes)} (**${(f.ratio * 100).toFixed(1)} %**, ${num(f.batches)} batches)` : `${who} ${f.codec}: ${f.reason}`;
  return `Compression (bytes each producer fed its codec and got back, counted in the client): ${one('load producer', c.producer)}; ${one('enrichment output', c.enrichment)}.`;
}

/**
 * The input partitions the enrichment group stood still on while records waited (from the lag samples'
 * per-partition offsets). Stalls that began at the same sample are one line: every partition at once
 * is the stage not consuming (stopped for a rollback, restarting), a few is one fetch path.
 */
export function stallsLine(samples: LagSample[], phases: Pick<PhaseResult, 'name' | 'startOffsetMs' | 'endOffsetMs'>[] = []): string {
  if (!samples.some((x) => x.committed)) return 'Input partitions that stood still: not measured (the lag samples carry no per-partition offsets: a run from before they did).';
  const stalls = partitionStalls(samples);
  const head = `Input partitions whose committed offset stood still for ≥ 2 s while records waited in them (measured: the group's committed offsets, sampled every 0.25–1 s)`;
  if (stalls.length === 0) return `${head}: none.`;
  const partitions = Math.max(...samples.map((x) => x.committed?.length ?? 0));
  const groups = new Map<number, typeof stalls>();
  for (const x of stalls) {
    const g = groups.get(x.fromMs);
    if (g) g.push(x);
    else groups.set(x.fromMs, [x]);
  }
  const ordered = [...groups.values()].sort((a, b) => b.length - a.length || Math.max(...b.map((x) => x.toMs - x.fromMs)) - Math.max(...a.map((x) => x.toMs - x.fromMs)) || a[0].fromMs - b[0].fromMs);
  const phaseAt = (ms: number) => phases.find((p) => p.startOffsetMs <= ms && ms < p.endOffsetMs)?.name;
  const describe = (g: typeof stalls) => {
    const ids = g.map((x) => x.partition).sort((a, b) => a - b);
    const who = ids.length === partitions && partitions > 1 ? `all ${partitions} partitions` : ids.length === 1 ? `partition ${ids[0]}` : `partitions ${ids.join(', ')}`;
    const spans = g.map((x) => x.toMs - x.fromMs);
    const lo = Math.min(...spans);
    const hi = Math.max(...spans);
    const phase = phaseAt(g[0].fromMs);
    const open = g.some((x) => x.movedMs === null) ? ' (still at the end)' : '';
    return `${who} for at least ${formatDurationMs(lo)}${hi > lo ? `–${formatDurationMs(hi)}` : ''} from ${formatDurationMs(g[0].fromMs)}${phase ? ` (${phase})` : ''}${open}, up to ${num(Math.max(...g.map((x) => x.maxLag)))} records behind`;
  };
  const shown = ordered.slice(0, 6).map(describe);
  const why: string[] = [];
  if (ordered.some((g) => g.length === partitions && partitions > 1)) why.push('Every partition standing still at once is the stage not consuming: stopped for a rollback or replay, restarting, or rejoining its group.');
  if (ordered.some((g) => g.length < partitions || partitions === 1)) why.push('A few partitions standing still while the others move points at one fetch path (a broker, the replica the stage reads from, or the client), not at the cluster\'s capacity.');
  return `${head}: ${shown.join('; ')}${ordered.length > 6 ? `; ${ordered.length - 6} more` : ''}. ${why.join(' ')}`;
}

/** `run --workers N`: who drove the load, and any shard that did not finish. */
export function workersSection(w: NonNullable<Results['workers']>): string[] {
  return [
    `The load came from ${w.expected} load worker process(es) (\`clickbench worker\`), each driving its shard of the single stream (by visitor) on the run's clock, corrected by the offset measured through the cluster; every acknowledged event was reported back and accounted for here as from one process. Their requests are not in this process's request counts; the brokers' CPU includes them. The workers used ${w.cpuSeconds.toFixed(1)} CPU-s together; merging their per-second reports cost this process ${Math.round(w.mergeCpuUsPerWorkerSecond)} µs of CPU per worker-second, and accounting for each acknowledged event they reported ${w.accountingCpuUsPerEvent.toFixed(2)} µs per event.`,
    '',
    ...workerTable(w.workers),
    ...(w.unfinished.length ? ['', ...unfinishedLines(w.unfinished)] : []),
  ];
}
