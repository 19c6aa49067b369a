/**
 * The readiness scorecard and the evaluation checklist: pure functions of results.json.
 *
 * Scores: 0 untested (or ownerless, or failing), 1 planned / partly exercised, 2 tested under
 * production-like traffic, observable, and tied to an owner. A row without an owner never
 * scores 2. Each row states its rule and the evidence that earned the score.
 */
import { storageCost } from './profiles.js';
import { endpointTraffic, phaseCrossZone, TRAFFIC_KINDS, trafficFigures } from './crosszone-source.js';
import { clausesOf, type Clause } from './clauses.js';
import { PHASES, type PhaseKind } from '../phases/registry.js';
import type { Profile } from '../observe/crosszone.js';
import { isMeasured, type Results } from '../run/results.js';
import { SCORECARD_ROWS } from '../scenario/schema.js';

export type RowId = (typeof SCORECARD_ROWS)[number];
export type Score = 0 | 1 | 2;

export interface ScoreRow {
  id: RowId;
  title: string;
  score: Score;
  owner: string | null;
  rule: string;
  evidence: string[];
  /** What stood between this row and the next score. */
  missing: string[];
  /** The row's definition clause by clause: evidenced, not evidenced, or failed (./clauses.ts). */
  clauses: Clause[];
}

export const ROW_TITLES: Record<RowId, string> = {
  event_contract: 'Event contract',
  enrichment_state: 'Enrichment state',
  broker_storage: 'Broker storage',
  cloud_networking: 'Cloud networking',
  governance: 'Governance',
  rollback: 'Rollback',
};

export const ROW_RULES: Record<RowId, string> = {
  event_contract: '2 = compatibility rules, owners and bad-record paths are tested: a schema version on every event, a compatibility rule checked (a dual-run: the other version drops or retypes no field), bad records of every configured kind injected and every acknowledged one found in the DLQ, by its position in the raw topic, with a reason, and an owner. 1 = events were validated but a clause was not shown. 0 = nothing was processed.',
  enrichment_state: '2 = versioning, late data and replay behaviour are validated: lookup tables loaded from compacted topics, profiles joined as of event time (an earlier version when the newer one took effect after the event, as a replay shows), late profile updates counted, sessions and campaign attribution (across logins) exercised, the state after a replay or restart checked, and the sink has no missing and no duplicate events, with an owner. 1 = enrichment ran but a clause was not shown. 0 = no enrichment ran.',
  broker_storage: '2 = retention, replay, scaling and recovery are modelled: broker disk growth measured (DescribeLogDirs) in a steady and a burst phase, a retention projection, a replay caught up, a scale-out or broker replacement measured, and a broker recovery measured, with an owner. 1 = disk growth measured but a clause missing (the clauses say which phases would raise it). 0 = disk not measured.',
  cloud_networking: '2 = normal, burst, dual-running and replay traffic are measured: cross-zone bytes measured (kernel counters on the sandbox, or a flow-log export the scenario names) for each, with an owner. 1 = measured or modelled for some of them, or modelled from topology only. 0 = neither measured nor modelled.',
  governance: '2 = PII, consent, access, retention and audit signals are enforced: no PII (email, phone) in the sink, identifiers pseudonymized and IPs truncated for every sampled person without analytics consent (at least 10 checked), an ACL-limited principal refused what it is not granted, the sink\'s retention settings matching the scenario\'s policy, and lineage headers on every enriched record, with an owner. 1 = checks ran but a clause was not shown. 0 = a leak was found or nothing was checked.',
  rollback: '2 = replay position, consumer group state and sink idempotency are tested: a rollback (v2 → v1 by replay) ran and caught up, its reset position recorded and the consumer group checked before the reset (no member) and after the catch-up (committed past the end at the reset on every partition, the new stage a member), and the sink showed no duplicates or losses by id, with an owner. 1 = the mechanism (a replay to a timestamp) was exercised without loss, or a rollback is planned in the scenario. 0 = neither.',
};

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const phasesOfKind = (r: Results, kind: string) => r.phases.filter((p) => p.kind === kind);

/**
 * What a row function gives: the evidence lines, and either a reason the row scores 0 (nothing to judge,
 * or a leak) or, for the rollback row, a reason it cannot rise above 1 whatever its clauses say (no
 * rollback ran). Everything between 1 and 2 is decided by the row's clauses alone (./clauses.ts).
 */
interface RowBasis {
  id: RowId;
  evidence: string[];
  zero?: string[];
}

function eventContract(r: Results): RowBasis {
  const c = r.enrichment.counters;
  if (!c || c.processed === 0) return { id: 'event_contract', evidence: ['no event was processed by the enrichment stage'], zero: ['run the scenario to completion'] };
  const evidence: string[] = [];
  const dlqTotal = Object.values(c.dlq).reduce((a, b) => a + b, 0);
  evidence.push(`events carry schema_version (validated on every one of ${c.processed} events; lineage headers cb-schema-version, cb-enrichment-version, source partition/offset)`);
  evidence.push(`${r.correctness.badRecordsAcked} bad records injected (${pct(r.scenario.spec.bad_records.rate)} rate); ${dlqTotal} DLQ records written to ${r.topics.dlq} by all stages (replays write again): ${Object.entries(c.dlq).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  const check = r.correctness.badRecords;
  if (check && isMeasured(check)) {
    evidence.push(`by record: ${check.found} of ${check.acked} acknowledged bad records found in the DLQ by their raw position${check.missing ? `, ${check.missing} not found (e.g. ${check.missingExamples.map((m) => `${m.kind} at partition ${m.partition} offset ${m.offset}`).join(', ')})` : ''}${check.unlocated ? `, ${check.unlocated} without a position` : ''}${check.otherReason ? `; ${check.otherReason} with another reason than the kind injected` : ''}`);
  }
  return { id: 'event_contract', evidence };
}

function enrichmentState(r: Results): RowBasis {
  const c = r.enrichment.counters;
  if (!c || c.enriched === 0) return { id: 'enrichment_state', evidence: ['no event was enriched'], zero: ['run the scenario to completion'] };
  const evidence: string[] = [];
  const fill = r.enrichment.lookupFill;
  if (fill) evidence.push(`lookup tables from compacted topics: ${fill.profiles} profiles, ${fill.catalog} products, ${fill.campaigns} campaigns, ${fill.consent} consent records`);
  evidence.push(`${c.enriched} events enriched (${r.enrichment.version}, ${r.enrichment.delivery}); profile misses ${c.profileMisses}, catalog misses ${c.catalogMisses}`);
  evidence.push(`late profile updates: ${c.lateProfile.updates} update(s) arrived after ${c.lateProfile.events} event(s) that needed them (max ${c.lateProfile.maxLatenessMs} ms late)`);
  evidence.push(`sessions and attribution: ${c.attributed} events attributed to a campaign touch, ${c.merges} identity merges followed`);
  evidence.push(`sink accounting: ${r.correctness.missing} missing, ${r.correctness.duplicates} duplicate(s) of ${r.correctness.expectedInSink} expected events`);
  const kills = (r.faults ?? []).filter((f) => f.action === 'enricher-kill');
  if (kills.length === 0) evidence.push('restart after a crash: not exercised (no enricher-kill fault in this run)');
  for (const f of kills) {
    if (f.injectedAtOffsetMs === null || f.restoredAtOffsetMs === null) { evidence.push(`the enricher-kill of ${f.phase} did not complete: ${f.error ?? 'the run ended first'}`); continue; }
    evidence.push(`enrichment process killed (SIGKILL) at ${(f.injectedAtOffsetMs / 1000).toFixed(1)} s and restarted ${((f.restoredAtOffsetMs - f.injectedAtOffsetMs) / 1000).toFixed(1)} s later; lag back to steady ${f.recovery.lag.drainMs !== null ? `${(f.recovery.lag.drainMs / 1000).toFixed(1)} s after the kill` : 'not within the run'}; sink afterwards: ${r.correctness.missing} missing, ${r.correctness.duplicates} duplicate(s) (${r.enrichment.delivery})`);
  }
  return { id: 'enrichment_state', evidence };
}

function brokerStorage(r: Results): RowBasis {
  if (!isMeasured(r.disk)) return { id: 'broker_storage', evidence: [`broker disk not measured: ${r.disk.reason}`], zero: ['a cluster that answers DescribeLogDirs'] };
  const evidence: string[] = [];
  const d = r.disk;
  evidence.push(`disk grew ${(d.growthBytes / 1e6).toFixed(1)} MB for ${(d.ingestedPayloadBytes / 1e6).toFixed(1)} MB ingested: ${(d.bytesPerGbIngested / 1e9).toFixed(2)} GB of broker disk per GB ingested (RF ${d.replicationFactor}, all run topics)`);
  evidence.push(`retention projection (${(d.projection.retentionMs / 86_400_000).toFixed(1)} days): ${(d.projection.averageRetainedBytes / 1e9).toFixed(1)} GB at the average rate, ${(d.projection.peakRetainedBytes / 1e9).toFixed(1)} GB at the peak rate${d.projection.basis ? `; projected from ${d.projection.basis}${d.projection.oneOffBytes ? `, one-off writes of ${(d.projection.oneOffBytes / 1e6).toFixed(1)} MB (dual-run, replay, rollback) kept apart` : ''}` : ' (from all growth of the run, one-off writes included)'}`);
  evidence.push(`disk growth per phase: ${r.phases.map((p) => `${p.name} ${isMeasured(p.disk) ? `${(p.disk.growthBytes / 1e6).toFixed(1)} MB` : 'not measured'}`).join(', ')}`);
  const replays = [r.replay, r.rollback].filter((x) => isMeasured(x)) as Extract<Results['replay'], { measured: true }>[];
  for (const x of replays) evidence.push(`replay of ${(x.lookbackMs / 1000).toFixed(0)} s (${x.phase}): ${x.caughtUp ? `caught up in ${((x.durationMs ?? 0) / 1000).toFixed(1)} s` : 'did not catch up within the run'}`);
  const moves = r.elasticity ?? [];
  if (moves.length === 0) evidence.push('data movement on scale-out / broker replacement: not measured (no such phase ran)');
  for (const m of moves) evidence.push(elasticLine(m));
  return { id: 'broker_storage', evidence };
}

function cloudNetworking(r: Results): RowBasis {
  if (r.crossZone.measured === false && !r.phases.some((p) => phaseCrossZone(r, p).source !== 'none')) return { id: 'cloud_networking', evidence: [`cross-zone bytes not measured: ${r.crossZone.reason}`], zero: ['broker racks (broker.rack) and client zones'] };
  const evidence: string[] = [];
  if (isMeasured(r.crossZone)) {
    const t = r.crossZone.total;
    evidence.push(`modelled from topology: cross-zone ${(t.crossZoneBytes / 1e6).toFixed(1)} MB of ${(t.totalBytes / 1e6).toFixed(1)} MB moved (produce ${(t.produce.crossZoneBytes / 1e6).toFixed(1)}, replication ${(t.replication.crossZoneBytes / 1e6).toFixed(1)}, consume ${(t.consume.crossZoneBytes / 1e6).toFixed(1)} MB), $${t.costUsd.toFixed(4)} at $${t.pricePerGb}/GB (${r.crossZone.assumptions.length} stated assumptions)`);
  }
  let modelledOnly = false;
  for (const { kinds, label } of TRAFFIC_KINDS) {
    const { measured, modelled } = trafficFigures(r, kinds);
    if (measured.length) evidence.push(`${label}: measured (${measured.map(({ p, f }) => `${p.name} ${((f.crossZoneBytes ?? 0) / 1e6).toFixed(1)} MB by ${f.source}`).join(', ')})`);
    else if (modelled.length) {
      modelledOnly = true;
      evidence.push(`${label}: modelled only (${modelled.map(({ p, f }) => `${p.name} ${((f.crossZoneBytes ?? 0) / 1e6).toFixed(1)} MB`).join(', ')})`);
    }
  }
  if (modelledOnly) evidence.push('for measured figures on a cluster clickbench cannot read kernel counters of: export per-zone bytes from the cloud provider\'s flow logs or billing data and name the file (measured_cross_zone in the scenario, or clickbench report --cross-zone-file)');
  return { id: 'cloud_networking', evidence };
}

function governance(r: Results): RowBasis {
  const c = r.enrichment.counters;
  const k = r.correctness;
  if (!c || c.enriched === 0) return { id: 'governance', evidence: ['nothing was enriched, so nothing was checked'], zero: ['run the scenario to completion'] };
  const evidence = [
    `stage: ${c.masked.piiFieldsWithheld} PII fields withheld, ${c.masked.pseudonymized} records pseudonymized, ${c.masked.ipTruncated} IPs truncated, ${c.masked.personalizationDropped} personalization drops (rules from enrichment.governance)`,
    `probe on the sink: ${k.piiLeaks} record(s) with an email or phone of ${c.enriched}; ${k.unpseudonymized} raw identifier(s) among ${k.checkedWithoutConsent} sampled records without analytics consent`,
  ];
  // A leak is not a clause left open: the row is 0.
  if (k.piiLeaks > 0 || k.unpseudonymized > 0) return { id: 'governance', evidence, zero: ['PII or raw identifiers reached the sink'] };
  return { id: 'governance', evidence };
}

function rollback(r: Results): RowBasis {
  const rb = phasesOfKind(r, 'rollback');
  if (rb.length > 0) {
    const evidence = [`rollback phase ${rb.map((p) => p.name).join(', ')} ran${isMeasured(r.rollback) ? ` (to ${r.rollback.toVersion}, ${r.rollback.replayedRecords} records replayed${r.rollback.caughtUp ? ` in ${((r.rollback.durationMs ?? 0) / 1000).toFixed(1)} s` : ', not caught up within the run'})` : `: no rollback result (${r.rollback.reason})`}; sink: ${r.correctness.missing} missing, ${r.correctness.duplicates} duplicates`];
    if (isMeasured(r.dualRun)) evidence.push(`before it, a dual-run diffed ${r.dualRun.compared} events: ${r.dualRun.differing} differ (${Object.entries(r.dualRun.fieldDiffs).map(([f, n]) => `${f} ${n}`).join(', ') || 'no field'})`);
    return { id: 'rollback', evidence };
  }
  if (isMeasured(r.replay) && r.replay.caughtUp && r.correctness.missing === 0) {
    return { id: 'rollback', evidence: [`the rollback mechanism (reset the enrichment group to a timestamp, replay ${r.replay.replayedRecords} records as a new generation) ran and caught up with 0 events lost`] };
  }
  if (r.scenario.spec.phases.some((p) => p.kind === 'rollback')) return { id: 'rollback', evidence: ['a rollback phase is planned in the scenario, but it did not run'] };
  const recovered = (r.faults ?? []).filter((f) => f.restoredAtOffsetMs !== null);
  if (recovered.length && isMeasured(r.accounting) && r.accounting.ackedLost === 0) {
    return { id: 'rollback', evidence: [`no rollback or replay ran; the pipeline did recover from ${recovered.map((f) => f.action).join(', ')} with 0 acknowledged events lost (recovery, not a rollback)`], zero: ['add a replay or rollback phase'] };
  }
  return { id: 'rollback', evidence: ['no rollback and no replay ran'], zero: ['add a replay or rollback phase'] };
}

/**
 * A row's score from its clauses alone: 0 when the row has nothing to judge (or a leak), 2 when every
 * clause of its definition is evidenced and an owner is named, else 1; what stands between the row and
 * the next score is its open clauses (and the owner), each with what would evidence it.
 */
function judged(r: Results, b: RowBasis): ScoreRow {
  const owner = r.scenario.spec.owners?.[b.id] ?? null;
  const base = { id: b.id, title: ROW_TITLES[b.id], owner, rule: ROW_RULES[b.id], evidence: b.evidence };
  const clauses = clausesOf(r, b.id);
  // A row at 0 still shows its clauses: what the run showed and what would evidence each.
  if (b.zero) return { ...base, score: 0, missing: b.zero, clauses };
  const missing = clauses.filter((c) => c.status !== 'evidenced').map((c) => `${c.clause}: ${c.status === 'failed' ? `FAILED — ${c.evidence}` : c.evidence} (${c.toEvidence})`);
  if (!owner) missing.push(`no owner: add owners.${b.id} to the scenario (a row without an owner with rollback authority cannot score 2)`);
  return { ...base, score: missing.length === 0 ? 2 : 1, missing, clauses };
}

export function scorecard(r: Results): ScoreRow[] {
  const rows = [eventContract(r), enrichmentState(r), brokerStorage(r), cloudNetworking(r), governance(r), rollback(r)].map((x) => judged(r, x));
  // A run that did not complete is not evidence of readiness: every row is capped at 1, and says why.
  if (r.run.status === 'completed') return rows;
  return rows.map((x) => (x.score < 2 ? x : { ...x, score: 1, missing: [...x.missing, `the run ${r.run.status}${r.run.error ? ` (${r.run.error})` : ''}: a run that did not complete caps every row at 1`] }));
}

/** Why the readiness total is capped, for the headline (undefined for a completed run). */
export function scoreCap(r: Results): string | undefined {
  return r.run.status === 'completed' ? undefined : `every row capped at 1: the run ${r.run.status}`;
}

export type Signal = 'yes' | 'no' | 'not measured';

/** The scenario's end-to-end p99 budget: its gate e2e.p99_ms when that is an upper bound ("< 3000"), else null. */
export function latencyBudgetMs(r: Results): number | null {
  const own = r.scenario.spec.budgets?.e2e_p99_ms;
  if (own !== undefined) return own;
  const m = /^\s*<=?\s*(\d+(?:\.\d+)?)\s*$/.exec(r.scenario.spec.gates?.['e2e.p99_ms'] ?? '');
  return m ? Number(m[1]) : null;
}

/** Where the latency budget came from, for the evidence. */
const latencyBudgetSource = (r: Results): string => (r.scenario.spec.budgets?.e2e_p99_ms !== undefined ? 'budgets: e2e_p99_ms' : 'gates: e2e.p99_ms');

const HOURS_PER_MONTH = 730;

/**
 * What the cluster would cost per month at this run's steady rate: storage (the retention projection),
 * compute, the steady phases' cross-zone dollars per second, and endpoint dollars per second of the
 * run, each over 730 hours. Null, with what is missing, unless every part is priced.
 */
export function monthlyTotal(r: Results, storageUsd: number | null, computeUsd: number | null, endpointRunUsd: number | null): { usd: number | null; parts: string; missing: string[] } {
  const steady = r.phases.filter((p) => p.kind === 'steady' && isMeasured(p.crossZone));
  const steadySeconds = steady.reduce((a, p) => a + (p.endOffsetMs - p.startOffsetMs) / 1000, 0);
  const crossZoneUsd = steadySeconds > 0 ? (steady.reduce((a, p) => a + (isMeasured(p.crossZone) ? p.crossZone.costUsd : 0), 0) / steadySeconds) * HOURS_PER_MONTH * 3600 : null;
  const runSeconds = Math.max(0, ...r.phases.map((p) => p.endOffsetMs)) / 1000;
  const endpointUsd = endpointRunUsd === null || runSeconds === 0 ? null : (endpointRunUsd / runSeconds) * HOURS_PER_MONTH * 3600;
  const parts: [string, number | null][] = [['storage', storageUsd], ['compute', computeUsd], ['steady cross-zone', crossZoneUsd], ['endpoint', endpointUsd]];
  const missing = parts.filter(([, v]) => v === null).map(([k]) => k);
  if (missing.length) return { usd: null, parts: '', missing };
  return { usd: parts.reduce((a, [, v]) => a + v!, 0), parts: parts.map(([k, v]) => `${k} $${v!.toFixed(2)}`).join(' + '), missing };
}

export interface ChecklistRow {
  item: string;
  healthy: Signal;
  evidence: string[];
}

/** A healthy signal needs disk/ingest at least this share of the replication factor (local disks: every replica holds every byte, plus framing). */
export const MIN_REPLICA_SHARE = 0.9;
/** DescribeLogDirs against the segment files on disk: further apart than this and the disk figures are not trusted. */
export const MAX_LOGDIRS_DIFF_PCT = 5;

function storageHealth(r: Results, ev: string[]): { healthy: Signal; evidence: string[] } {
  if (String(r.cluster.profileSource ?? '').startsWith('modelled')) return { healthy: 'not measured', evidence: [...ev, `${r.cluster.profile} is modelled from a run on another storage model: its storage was not exercised`] };
  if (!isMeasured(r.disk)) return { healthy: 'not measured', evidence: [...ev, `broker disk not measured: ${r.disk.reason}`] };
  const d = r.disk;
  const checks: { ok: boolean | null; text: string }[] = [];
  const perGb = d.bytesPerGbIngested / 1e9;
  if (isMeasured(d.groundTruth)) checks.push({ ok: Math.abs(d.groundTruth.diffPct) <= MAX_LOGDIRS_DIFF_PCT, text: `DescribeLogDirs vs the segment files on disk: ${d.groundTruth.diffPct.toFixed(2)} % apart (healthy within ±${MAX_LOGDIRS_DIFF_PCT} %)` });
  else checks.push({ ok: null, text: `DescribeLogDirs not checked against the files: ${d.groundTruth.reason}` });
  if (r.topics.tiered) {
    if (isMeasured(d.tiered)) checks.push({ ok: d.tiered.remoteBytes > 0, text: `remote tier holds ${(d.tiered.remoteBytes / 1e6).toFixed(1)} MB, local ${(d.tiered.localBytes / 1e6).toFixed(1)} MB (healthy: segments reached the remote tier)` });
    else checks.push({ ok: null, text: `remote tier: not measured (${d.tiered.reason})` });
  } else {
    // Compressed batches take the codec's share of the payload on disk: the floor shrinks by the measured ratio.
    const c = r.compression?.producer;
    const ratio = c?.measured ? c.ratio : 1;
    const floor = MIN_REPLICA_SHARE * d.replicationFactor * ratio;
    checks.push({ ok: perGb >= floor, text: `${perGb.toFixed(2)} GB of broker disk per GB ingested (healthy: ≥ ${floor.toFixed(ratio === 1 ? 1 : 2)}, every one of RF ${d.replicationFactor} replicas on disk${ratio === 1 ? '' : `, batches ${c!.codec}-compressed to ${(ratio * 100).toFixed(0)} % of their records`})` });
  }
  const replays = [r.replay, r.rollback].filter((x) => isMeasured(x)) as Extract<Results['replay'], { measured: true }>[];
  if (replays.length === 0) checks.push({ ok: null, text: 'reads of history: not exercised (no replay or rollback ran)' });
  const perHourBudget = r.scenario.spec.budgets?.replay_minutes_per_hour;
  for (const x of replays) {
    const phase = r.phases.find((p) => p.name === x.phase);
    const budget = phase ? phase.endOffsetMs - phase.startOffsetMs : null;
    const read = `${x.phase}: ${(x.lookbackMs / 1000).toFixed(0)} s of history ${x.durationMs !== null ? `read back in ${(x.durationMs / 1000).toFixed(1)} s` : 'not read back within the run'}`;
    if (perHourBudget !== undefined) {
      const ok = x.caughtUp && x.minutesPerHour !== null && x.minutesPerHour <= perHourBudget;
      checks.push({ ok, text: `${read}${x.minutesPerHour !== null ? `, ${x.minutesPerHour.toFixed(2)} minutes per hour of history` : ''} (healthy: within the budget of ${perHourBudget} minutes per hour, budgets: replay_minutes_per_hour)` });
      continue;
    }
    const ok = x.caughtUp && x.durationMs !== null && (budget === null || x.durationMs <= budget);
    checks.push({ ok, text: `${read} (healthy: caught up within the phase${budget !== null ? `, ${(budget / 1000).toFixed(0)} s` : ''})` });
  }
  // Broker recovery must not surprise the team with large unplanned data movement: it needs a broker fault or a replacement.
  const replaced = (r.elasticity ?? []).filter((m) => !m.modelled && m.action === 'replace-broker');
  const broken = (r.faults ?? []).filter((f) => f.nodes.length > 0);
  if (replaced.length + broken.length === 0) checks.push({ ok: null, text: 'broker recovery: not exercised (no broker fault or replacement ran), so the data a recovery moves is not shown' });
  for (const m of replaced) checks.push({ ok: m.error === null && m.completedAtOffsetMs !== null, text: `${m.phase}: rebuilding a broker ${m.error ? `failed (${m.error})` : m.completedAtOffsetMs === null ? 'did not complete within the run' : `moved ${m.bytesMovedLogDirs === null ? 'an unmeasured amount' : `${(m.bytesMovedLogDirs / 1e6).toFixed(1)} MB`} in ${((m.moveMs ?? 0) / 1000).toFixed(1)} s`}` });
  for (const f of broken) checks.push({ ok: f.restoredAtOffsetMs !== null && f.recovery.isrRestoreMs !== null, text: `${f.phase}: ${f.action} of ${f.target}: ${f.recovery.isrRestoreMs !== null ? `ISR whole ${(f.recovery.isrRestoreMs / 1000).toFixed(1)} s after the restart (the node caught up from its own log)` : 'ISR not whole again within the run'}` });
  const healthy: Signal = checks.some((c) => c.ok === false) ? 'no' : checks.some((c) => c.ok === null) ? 'not measured' : 'yes';
  return { healthy, evidence: [...ev, ...checks.map((c) => `${c.ok === null ? '–' : c.ok ? '✓' : '✗'} ${c.text}`)] };
}

export function checklist(r: Results): ChecklistRow[] {
  const rows: ChecklistRow[] = [];
  // Kafka compatibility.
  {
    const ev = [`client: ${r.clients.library}; cluster: ${r.cluster.kafkaVersion ? `Apache Kafka ${r.cluster.kafkaVersion}` : 'version not reported'}, ${r.cluster.brokers.length} brokers`];
    ev.push(`${r.scenario.spec.clients?.acks === '1' ? 'produce (acks=1, not idempotent)' : 'idempotent produce (acks=all)'}: ${r.throughput.ackedEvents} events acknowledged, ${r.errors.produceErrors} failed attempt(s) retried, ${r.errors.produceFailedEvents} event(s) given up on`);
    ev.push(`consumer groups: enrichment group joined ${r.enrichment.groupJoins} time(s), offsets ${r.enrichment.delivery === 'eos' ? 'committed inside transactions' : 'committed every 2 s'}`);
    if (r.enrichment.delivery === 'eos') ev.push(`transactions: ${r.enrichment.batches} committed, ${r.enrichment.transactionsAborted} aborted, ${r.enrichment.concurrentTransactionRetries} CONCURRENT_TRANSACTIONS retries`);
    if (isMeasured(r.replay)) ev.push('offsets by timestamp (ListOffsets) used for the replay reset');
    const probe = r.compatibility;
    if (probe && isMeasured(probe)) {
      const needs = probe.capabilities.filter((c) => !c.optional);
      const no = needs.filter((c) => c.status === 'no');
      const optional = probe.capabilities.filter((c) => c.optional);
      ev.push(`probe: ${needs.filter((c) => c.status === 'yes').length}/${needs.length} capabilities exercised${no.length ? `; lacking: ${no.map((c) => c.name).join(', ')}` : ''}${optional.length ? `; also asked (not needed): ${optional.map((c) => `${c.name} ${c.status}`).join(', ')}` : ''}`);
    } else if (probe) ev.push(`probe not measured: ${probe.reason}`);
    // Failed attempts during a fault are expected (and retried); events given up on are not.
    const faulted = (r.faults ?? []).some((f) => f.injectedAtOffsetMs !== null);
    // What the run needed from the cluster (its phases' needs, transactions for eos) must not be missing.
    const needed = new Set([...r.phases.flatMap((p) => (PHASES[p.kind as PhaseKind]?.needs ?? []).map((n) => n.capability)), ...(r.enrichment.delivery === 'eos' ? ['transactions'] : [])]);
    const lacking = probe && isMeasured(probe) ? probe.capabilities.filter((x) => needed.has(x.id) && x.status === 'no') : [];
    if (lacking.length) ev.push(`needed but missing: ${lacking.map((x) => `${x.name} (${x.evidence})`).join('; ')}`);
    const healthy: Signal = r.throughput.ackedEvents === 0 ? 'not measured' : lacking.length === 0 && (faulted ? r.errors.produceFailedEvents === 0 : r.errors.produceErrors === 0) && r.enrichment.groupJoins > 0 && (r.enrichment.delivery !== 'eos' || r.enrichment.batches > 0) ? 'yes' : 'no';
    rows.push({ item: 'Kafka compatibility', healthy, evidence: ev });
  }
  // Storage model: healthy when the disk figures are trustworthy, every replica is on disk (or in the
  // remote tier), and history was read back within its phase. Any check failing is 'no'; one not
  // exercised (and none failing) is 'not measured'.
  {
    const model = r.cluster.profile === 'automq' ? 'shared storage (AutoMQ)' : r.topics.tiered ? 'tiered (local hot tail + remote tier)' : 'local disks';
    rows.push({ item: 'Storage model', ...storageHealth(r, [`storage model: ${model}; cluster remote storage ${r.cluster.remoteStorageEnabled ? 'enabled' : 'not enabled'}; profile ${r.cluster.profile}`]) });
  }
  // Cost model.
  {
    const ev: string[] = [];
    const have: string[] = [];
    const cost = storageCost(r.cluster.profile as Profile, r, !String(r.cluster.profileSource ?? '').startsWith('modelled'));
    if (cost) ev.push(`storage (profile ${cost.profile}${cost.measuredOnProfile ? '' : ', MODELLED'}): ${cost.lines.map((l) => `${l.tier} ${(l.bytes / 1e9).toFixed(1)} GB × $${l.pricePerGbMonth}/GB-month = $${l.usdPerMonth.toFixed(2)}`).join(' + ')} = $${cost.usdPerMonth.toFixed(2)}/month`);
    for (const p of r.phases) {
      if (isMeasured(p.crossZone)) {
        have.push(p.kind);
        ev.push(`${p.name}: cross-zone ${(p.crossZone.crossZoneBytes / 1e6).toFixed(1)} MB, $${p.crossZone.costUsd.toFixed(4)}`);
      }
    }
    const lacking = TRAFFIC_KINDS.filter((t) => !t.kinds.some((k) => have.includes(k))).map((t) => t.kinds[0]);
    if (lacking.length) ev.push(`not measured: ${lacking.join(', ')} (no such phase ran)`);
    const perHour = r.scenario.spec.price?.broker_per_hour;
    const brokers = r.cluster.brokers.length;
    const nothingPriced = !cost && have.length === 0;
    if (perHour !== undefined) ev.push(`compute: ${brokers} broker(s) × $${perHour}/instance-hour × ${HOURS_PER_MONTH} h = $${(brokers * perHour * HOURS_PER_MONTH).toFixed(2)}/month (brokers as the cluster reported them)`);
    else {
      lacking.push('compute');
      ev.push('compute: not priced (set price.broker_per_hour, USD per broker instance-hour)');
    }
    const endpoint = endpointTraffic(r);
    ev.push(`endpoint: ${endpoint.text}${endpoint.usd ? ` = $${endpoint.usd.toFixed(4)} over the run` : ''}`);
    if (!endpoint.named) lacking.push('endpoint');
    const costBudget = r.scenario.spec.budgets?.cost_per_month;
    let overBudget = false;
    if (costBudget !== undefined) {
      const month = monthlyTotal(r, cost?.usdPerMonth ?? null, perHour === undefined ? null : brokers * perHour * HOURS_PER_MONTH, endpoint.named ? endpoint.usd ?? 0 : null);
      if (month.usd === null) ev.push(`budget $${costBudget}/month (budgets: cost_per_month): the monthly total is not known (${month.missing.join(', ')} not priced)`);
      else {
        overBudget = month.usd > costBudget;
        ev.push(`${overBudget ? '✗' : '✓'} $${month.usd.toFixed(2)}/month at the steady rate (${month.parts}) ${overBudget ? 'is over' : 'is within'} the budget of $${costBudget}/month (budgets: cost_per_month)`);
      }
    }
    rows.push({ item: 'Cost model', healthy: nothingPriced ? 'not measured' : lacking.length === 0 && isMeasured(r.disk) && !overBudget ? 'yes' : 'no', evidence: ev });
  }
  // Elasticity: was the burst absorbed, and what did adding or replacing a broker cost?
  {
    const bursts = phasesOfKind(r, 'burst');
    const moves = r.elasticity ?? [];
    if (bursts.length === 0 && moves.length === 0) rows.push({ item: 'Elasticity', healthy: 'not measured', evidence: ['no burst, scale-out or broker replacement phase ran'] });
    else {
      const ev: string[] = moves.map(elasticLine);
      const measuredMoves = moves.filter((m) => !m.modelled);
      let ok = measuredMoves.every((m) => m.error === null && m.completedAtOffsetMs !== null);
      if (bursts.length === 0) ev.push('no burst phase ran');
      for (const b of bursts) {
        const lagPeak = isMeasured(b.lag) ? b.lag.maxRecords : null;
        const after = r.series.lag.filter((l) => l.offsetMs >= b.endOffsetMs);
        const baseline = Math.max(100, ...r.phases.filter((p) => p.kind === 'steady' && p.endOffsetMs <= b.startOffsetMs).map((p) => (isMeasured(p.lag) ? p.lag.endRecords : 0)));
        const drained = after.find((l) => l.lag <= baseline * 1.5 + 100);
        const drain = drained ? drained.offsetMs - b.endOffsetMs : null;
        ev.push(`${b.name}: ${b.events.acked}/${b.events.intended} events acknowledged (${b.achievedRatio !== null ? pct(b.achievedRatio) : '–'}), lag peak ${lagPeak ?? 'not measured'} records, drained ${drain !== null ? `${(Math.max(0, drain) / 1000).toFixed(1)} s after the burst` : 'not within the run'}; e2e p99 ${b.latency.e2e?.p99Ms ?? '–'} ms`);
        if (drain === null || (b.achievedRatio ?? 0) < 0.95) ok = false;
      }
      // A burst far over the run's own latency budget is not absorbed, whatever else held.
      const budget = latencyBudgetMs(r);
      for (const b of bursts) {
        const p99 = b.latency.e2e?.p99Ms ?? null;
        if (budget !== null && p99 !== null && p99 > budget) {
          ok = false;
          ev.push(`${b.name}: e2e p99 ${p99} ms is over the scenario's budget of ${budget} ms (${latencyBudgetSource(r)})`);
        }
      }
      // Elasticity is headroom added without long copy windows: it needs a measured scale-out (or
      // replacement) with its headroom; a burst alone shows burst absorption, not elasticity.
      // Modelled moves (a profile re-read) say what would happen; they are not evidence of health.
      const withHeadroom = measuredMoves.filter((m) => m.headroom?.after?.sustainableRate != null);
      if (measuredMoves.length === 0) ev.push('no scale-out or broker replacement was measured: a burst shows burst absorption, not elasticity (add a scale-out phase)');
      else if (withHeadroom.length === 0) ev.push('no headroom was measured around the move (elastic.headroom): capacity added is not shown');
      // Headroom added means more of it after the move than before: a scale-out that left less is not elastic
      // (on one machine, a new broker competes with the others for the same cores).
      for (const m of withHeadroom.filter((x) => x.action === 'scale-out')) {
        const before = m.headroom!.before?.sustainableRate ?? null;
        const after = m.headroom!.after!.sustainableRate!;
        if (before !== null && after <= before) {
          ok = false;
          ev.push(`${m.phase}: headroom did not grow with the new broker(s): ${before.toLocaleString('en-US')}/s sustained before, ${after.toLocaleString('en-US')}/s after`);
        }
      }
      const healthy: Signal = !ok ? 'no' : measuredMoves.length === 0 || withHeadroom.length === 0 ? 'not measured' : 'yes';
      rows.push({ item: 'Elasticity', healthy, evidence: ev });
    }
  }
  // Governance: the row's clauses (PII, consent, access, retention, audit).
  {
    const clauses = clausesOf(r, 'governance');
    const healthy: Signal = clauses.some((x) => x.status === 'failed') ? 'no' : clauses.every((x) => x.status === 'evidenced') ? 'yes' : 'not measured';
    rows.push({ item: 'Governance', healthy, evidence: clauses.map((x) => `${x.status === 'evidenced' ? '✓' : x.status === 'failed' ? '✗' : '–'} ${x.clause}: ${x.evidence}`) });
  }
  rows.push(recovery(r));
  return rows;
}

/** One evidence line of a scale-out / replace-broker / scale-in phase. */
export function elasticLine(m: NonNullable<Results['elasticity']>[number]): string {
  if (m.error) return `${m.phase} (${m.action}, node(s) ${m.nodes.join(', ') || '–'}): failed: ${m.error}`;
  if (m.modelled) return `${m.phase} (${m.action}, node(s) ${m.nodes.join(', ')}): ${m.modelled}`;
  const mb = (b: number | null) => (b === null ? 'not measured' : `${(b / 1e6).toFixed(1)} MB`);
  return `${m.phase} (${m.action}, node(s) ${m.nodes.join(', ')}): ${m.replicasMoved} replicas of ${m.partitionsMoved} partitions in sync after ${((m.moveMs ?? 0) / 1000).toFixed(1)} s (${((m.durationMs ?? 0) / 1000).toFixed(1)} s from the request); ${mb(m.bytesMovedLogDirs)} moved (log dirs; network ${mb(m.bytesMovedNetwork)})${m.bytesMovedPerGbRetained !== null ? `, ${(m.bytesMovedPerGbRetained / 1e9).toFixed(3)} GB per GB retained` : ''}${m.remoteTierBytes ? `; ${mb(m.remoteTierBytes)} stayed in the remote tier` : ''}${m.action === 'scale-out' ? `; ${headroomText(m)}` : ''}`;
}

function headroomText(m: NonNullable<Results['elasticity']>[number]): string {
  const h = m.headroom;
  const usable = m.capacityUsableAfterMs != null ? `new capacity usable ${(m.capacityUsableAfterMs / 1000).toFixed(1)} s after the request` : 'new capacity usable: not measured';
  if (!h) return `${usable}; headroom not measured (turned off)`;
  const r = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${x.toLocaleString('en-US')}/s`);
  return `${usable}; sustainable produce rate ${r(h.before?.sustainableRate)} before, ${r(h.after?.sustainableRate)} after (${h.gainPct !== null ? `${h.gainPct >= 0 ? '+' : ''}${h.gainPct.toFixed(0)} %` : h.gainNote})`;
}

/** Recovery: only a fault run can say it; every figure comes from results.faults and the accounting. */
function recovery(r: Results): ChecklistRow {
  const faults = r.faults ?? [];
  if (faults.length === 0) return { item: 'Recovery', healthy: 'not measured', evidence: ['no fault phase ran: recovery is a claim until something breaks on purpose'] };
  const ev: string[] = [];
  let ok = true;
  for (const f of faults) {
    if (f.injectedAtOffsetMs === null) {
      ok = false;
      ev.push(`${f.phase}: ${f.action} was not injected${f.error ? ` (${f.error})` : ''}`);
      continue;
    }
    const wu = isMeasured(f.writeUnavailability) ? `writes unavailable up to ${(f.writeUnavailability.maxMs / 1000).toFixed(1)} s on ${f.writeUnavailability.affectedPartitions} partition(s)` : `write availability: ${f.writeUnavailability.reason}`;
    const p99 = `e2e p99 ${f.latency.during.e2e?.p99Ms ?? '–'} ms during vs ${f.latency.before?.e2e?.p99Ms ?? '–'} ms in ${f.latency.baselinePhase ?? 'no earlier phase'}`;
    const rc = f.recovery;
    const drain = rc.lag.drainMs !== null ? `lag peak ${rc.lag.peakRecords} drained in ${(rc.lag.drainMs / 1000).toFixed(1)} s` : `lag peak ${rc.lag.peakRecords}, not drained within the run`;
    const isr = f.nodes.length ? (rc.isrRestoreMs !== null ? `ISR whole ${(rc.isrRestoreMs / 1000).toFixed(1)} s after the restart` : 'ISR not whole within the run') : '';
    ev.push(`${f.phase}: ${f.action} of ${f.target}, down ${(f.downForMs / 1000).toFixed(0)} s${f.restoredAtOffsetMs === null ? ' planned, never restored' : ''} — ${[wu, p99, drain, `${rc.leaderElections} leader election(s)`, isr].filter(Boolean).join('; ')}`);
    if (f.restoredAtOffsetMs === null || rc.lag.drainMs === null || (f.nodes.length > 0 && rc.isrRestoreMs === null)) ok = false;
  }
  if (isMeasured(r.accounting)) {
    const a = r.accounting;
    ev.push(`accounting: ${a.ackedLost} of ${a.ackedChecked} acknowledged events lost from the raw topic, ${a.rawDuplicates} duplicated there; sink ${a.sinkMissing} missing, ${a.sinkDuplicates} duplicate(s)`);
    if (a.ackedLost > 0 || a.sinkMissing > 0 || (r.enrichment.delivery === 'eos' && a.sinkDuplicates > 0)) ok = false;
  } else {
    ok = false;
    ev.push(`accounting: not measured (${r.accounting?.reason ?? 'no accounting in these results'})`);
  }
  return { item: 'Recovery', healthy: ok ? 'yes' : 'no', evidence: ev };
}
