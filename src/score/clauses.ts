/**
 * The readiness definitions clause by clause: "2" means every clause of the row's definition was
 * evidenced by this run. Each clause says what the run showed, or what would evidence it. A row
 * whose own rule would give 2 stays at 1 while one of its clauses is not evidenced (or failed).
 */
import { isMeasured, type Results } from '../run/results.js';
import { endpointTraffic, TRAFFIC_KINDS, trafficFigures } from './crosszone-source.js';
import type { SCORECARD_ROWS } from '../scenario/schema.js';

type RowId = (typeof SCORECARD_ROWS)[number];

export type ClauseStatus = 'evidenced' | 'not evidenced' | 'failed';

export interface Clause {
  clause: string;
  status: ClauseStatus;
  /** What the run showed (or why it shows nothing). */
  evidence: string;
  /** What would evidence it (when it is not evidenced or failed). */
  toEvidence?: string;
}

const yes = (clause: string, evidence: string): Clause => ({ clause, status: 'evidenced', evidence });
const no = (clause: string, evidence: string, toEvidence: string): Clause => ({ clause, status: 'not evidenced', evidence, toEvidence });
const failed = (clause: string, evidence: string, toEvidence: string): Clause => ({ clause, status: 'failed', evidence, toEvidence });

function eventContract(r: Results): Clause[] {
  const c = r.enrichment.counters;
  const out: Clause[] = [];
  out.push(c && c.processed > 0
    ? yes('a schema version on every event', `schema_version validated on each of ${c.processed} events (an event without one goes to the DLQ as missing_field)`)
    : no('a schema version on every event', 'no event was processed', 'run the scenario to completion'));
  const compat = isMeasured(r.dualRun) ? r.dualRun.compatibility : undefined;
  if (!compat) out.push(no('a compatibility rule checked', isMeasured(r.dualRun) ? 'the dual-run result predates the compatibility check' : 'no dual-run phase ran', 'add a dual-run phase: the other version\'s output is checked against the main one\'s, field by field'));
  else if (compat.compatible) out.push(yes('a compatibility rule checked', `${compat.rule}: compatible${Object.keys(compat.added).length ? ` (added: ${Object.keys(compat.added).join(', ')})` : ''}`));
  else out.push(failed('a compatibility rule checked', `${compat.rule}: ${[...Object.keys(compat.removed).map((f) => `${f} dropped`), ...Object.keys(compat.retyped)].join(', ') || 'no event compared'}`, 'keep every field of the main version\'s output with its type (or version the topic), and rerun the dual-run'));
  if (r.table && isMeasured(r.table)) {
    const incompatible = r.table.schemaChanges.flatMap((c) => c.typeChanged.filter((x) => !x.compatible).map((x) => `${x.column} ${x.from} → ${x.to} at commit ${c.seq}`));
    out.push(incompatible.length
      ? failed('the table reads every version\'s rows', `incompatible type changes: ${incompatible.join(', ')}`, 'keep each column\'s type across versions (or write the new type to a new column)')
      : yes('the table reads every version\'s rows', `${r.table.files} files, ${r.table.schemaChanges.length} schema change(s), none incompatible${r.table.versionOnlyColumns ? ` (${Object.entries(r.table.versionOnlyColumns).map(([v, cs]) => `${v} only: ${cs.join(', ') || 'no column'}`).join(', ')}: null in the other rows)` : ''}`));
  }
  const bad = r.correctness.badRecords;
  if (!bad || !isMeasured(bad)) out.push(no('every injected bad record in a DLQ, by id, with a reason', bad ? bad.reason : 'results written before bad records were checked one by one', 'rerun with this clickbench and bad_records.rate > 0'));
  else if (bad.acked === 0) out.push(no('every injected bad record in a DLQ, by id, with a reason', 'no bad record was injected', 'set bad_records.rate > 0'));
  else if (bad.found === bad.acked) {
    const unseen = r.scenario.spec.bad_records.kinds.filter((k) => !bad.byKind[k]?.found);
    out.push(unseen.length
      ? no('every injected bad record in a DLQ, by id, with a reason', `${bad.found} of ${bad.acked} found by their raw position, but kinds never seen in the DLQ: ${unseen.join(', ')}`, 'run longer or raise bad_records.rate so every configured kind is injected')
      : yes('every injected bad record in a DLQ, by id, with a reason', `${bad.found} of ${bad.acked} found by their raw position, every configured kind among them`));
  }
  else out.push(failed('every injected bad record in a DLQ, by id, with a reason', `${bad.acked - bad.found} of ${bad.acked} not found`, 'find why the stage lost them (see the DLQ and the stage\'s log)'));
  return out;
}

function enrichmentState(r: Results): Clause[] {
  const c = r.enrichment.counters;
  const out: Clause[] = [];
  const fill = r.enrichment.lookupFill;
  const asOf = c?.profileAsOf;
  const lookups = 'lookup tables versioned and replayable: profiles joined as of event time';
  if (!fill) out.push(no(lookups, 'no table fill recorded', 'run the scenario to completion'));
  else if (!asOf) out.push(no(lookups, 'results written before joins as of event time were counted', 'rerun with this clickbench'));
  else if (asOf.earlierVersion > 0) out.push(yes(lookups, `${fill.profiles} profiles, ${fill.catalog} products, ${fill.campaigns} campaigns, ${fill.consent} consent records loaded from compacted topics by every stage that started; of ${asOf.joins} profile joins, ${asOf.earlierVersion} took an earlier version than the newest held, the newer one being effective only after the event`));
  else out.push(no(lookups, `of ${asOf.joins} profile joins, none needed an earlier version than the newest held, so versioning by event time was not exercised`, 'a replay or rollback over a window with profile updates (events re-enriched after their person\'s profile changed)'));
  out.push(c && c.lateProfile.updates > 0 ? yes('late data counted', `${c.lateProfile.updates} late profile update(s) after ${c.lateProfile.events} event(s) that needed them`) : no('late data counted', 'no late profile update was observed', 'raise events.late_profile_updates.share or run longer'));
  const replays = [r.replay, r.rollback].filter((x) => isMeasured(x) && x.caughtUp) as Extract<Results['replay'], { measured: true }>[];
  out.push(c && c.attributed > 0 && c.merges > 0
    ? yes('sessions and campaign attribution across logins', `${c.attributed} events attributed to a campaign touch, ${c.merges} identity merges followed`)
    : no('sessions and campaign attribution across logins', `${c?.attributed ?? 0} events attributed, ${c?.merges ?? 0} identity merges`, 'run longer: campaign attribution across an identity merge (a login) was not exercised'));
  const kills = (r.faults ?? []).filter((f) => f.action === 'enricher-kill');
  const restarts = kills.filter((f) => f.restoredAtOffsetMs !== null);
  const unfinished = kills.filter((f) => f.injectedAtOffsetMs === null || f.restoredAtOffsetMs === null);
  // With a table, it is checked too: every enriched event once per generation there as well.
  const t = r.table && isMeasured(r.table) ? r.table : undefined;
  const tableClean = !t || (t.missingEvents === 0 && t.duplicateRows === 0);
  const tableText = t ? `; the table: ${t.missingEvents} missing, ${t.duplicateRows} duplicate rows` : '';
  const clean = r.correctness.missing === 0 && r.correctness.duplicates === 0 && tableClean;
  if (unfinished.length) out.push(failed('state after a replay or restart checked', unfinished.map((f) => `the enricher-kill of ${f.phase} did not complete: ${f.error ?? 'the run ended first'}`).join('; '), 'see the stage\'s log: the stage was not back within the run'));
  else if (replays.length + restarts.length === 0) out.push(no('state after a replay or restart checked', 'no replay, rollback or enricher restart completed', 'add a replay or rollback phase, or an enricher-kill fault'));
  else if (clean) out.push(yes('state after a replay or restart checked', `after ${[...replays.map((x) => x.phase), ...restarts.map((f) => f.phase)].join(', ')}: the sink holds every event once per generation${t ? ', and so does the table' : ''}`));
  else out.push(failed('state after a replay or restart checked', `after ${[...replays.map((x) => x.phase), ...restarts.map((f) => f.phase)].join(', ')}: ${r.correctness.missing} missing, ${r.correctness.duplicates} duplicated${tableText}`, 'find where the stage (or the table sink) lost or repeated events'));
  return out;
}

function brokerStorage(r: Results): Clause[] {
  const out: Clause[] = [];
  out.push(isMeasured(r.disk) ? yes('a retention projection', `${(r.disk.projection.averageRetainedBytes / 1e9).toFixed(1)} GB at the average rate over ${(r.disk.projection.retentionMs / 86_400_000).toFixed(1)} days`) : no('a retention projection', `broker disk not measured: ${r.disk.reason}`, 'a cluster that answers DescribeLogDirs'));
  const grew = (kind: string) => r.phases.some((p) => p.kind === kind && isMeasured(p.disk));
  const phasesMissing = ['steady', 'burst'].filter((k) => !grew(k));
  out.push(phasesMissing.length === 0
    ? yes('disk growth measured in a steady and a burst phase', r.phases.filter((p) => (p.kind === 'steady' || p.kind === 'burst') && isMeasured(p.disk)).map((p) => `${p.name} ${isMeasured(p.disk) ? (p.disk.growthBytes / 1e6).toFixed(1) : '–'} MB`).join(', '))
    : no('disk growth measured in a steady and a burst phase', `no ${phasesMissing.join(' or ')} phase with a disk measurement`, `add a ${phasesMissing.join(' and a ')} phase`));
  const replays = [r.replay, r.rollback].filter((x) => isMeasured(x)) as Extract<Results['replay'], { measured: true }>[];
  const caught = replays.filter((x) => x.caughtUp);
  out.push(caught.length ? yes('a replay measured', caught.map((x) => `${x.phase}: ${(x.lookbackMs / 1000).toFixed(0)} s of history in ${((x.durationMs ?? 0) / 1000).toFixed(1)} s`).join('; ')) : no('a replay measured', replays.length ? 'no replay caught up within the run' : 'no replay or rollback phase ran', 'add a replay phase (lookback) and let it catch up'));
  const moves = (r.elasticity ?? []).filter((m) => !m.modelled && m.error === null && m.completedAtOffsetMs !== null);
  const modelled = (r.elasticity ?? []).filter((m) => m.modelled);
  out.push(moves.length
    ? yes('a scale-out or broker replacement measured', moves.map((m) => `${m.phase} (${m.action}): ${m.bytesMovedLogDirs === null ? 'bytes not measured' : `${(m.bytesMovedLogDirs / 1e6).toFixed(1)} MB moved`} in ${((m.moveMs ?? 0) / 1000).toFixed(1)} s`).join('; '))
    : no('a scale-out or broker replacement measured', modelled.length ? 'modelled only (another profile)' : (r.elasticity ?? []).length ? 'no move completed' : 'no scale-out or replace-broker phase ran', 'add a scale-out or replace-broker phase'));
  const recovered = (r.faults ?? []).filter((f) => f.nodes.length > 0 && f.restoredAtOffsetMs !== null && f.recovery.isrRestoreMs !== null);
  out.push(recovered.length
    ? yes('a broker recovery measured', recovered.map((f) => `${f.phase} (${f.action}): ISR whole ${((f.recovery.isrRestoreMs ?? 0) / 1000).toFixed(1)} s after the restart`).join('; '))
    : no('a broker recovery measured', (r.faults ?? []).some((f) => f.nodes.length > 0) ? 'a broker fault ran but the ISR was not whole again within the run' : 'no broker fault ran', 'add a fault phase that stops a broker (broker-kill) and let it recover'));
  return out;
}

function cloudNetworking(r: Results): Clause[] {
  const out = TRAFFIC_KINDS.map(({ kinds, label }) => {
    const { figures, measured: m } = trafficFigures(r, kinds);
    const clause = `${label} traffic measured`;
    if (m.length) return yes(clause, m.map(({ p, f }) => `${p.name}: ${((f.crossZoneBytes ?? 0) / 1e6).toFixed(1)} MB cross-zone by ${f.source}`).join('; '));
    if (figures.length) return no(clause, `modelled only (${figures[0].f.note ?? 'no measured source'})`, 'kernel counters (the sandbox) or a flow-log export (measured_cross_zone)');
    return no(clause, 'no such phase ran', `add a ${kinds.join(' or ')} phase`);
  });
  const e = endpointTraffic(r);
  out.push(e.named ? yes('endpoint traffic named', e.text) : no('endpoint traffic named', e.text, 'set price.endpoint_per_gb: the private endpoint or NAT price per GB, or 0 if the clients connect to the brokers directly'));
  return out;
}

function governance(r: Results): Clause[] {
  const k = r.correctness;
  const c = r.enrichment.counters;
  const out: Clause[] = [];
  if (!c || c.enriched === 0) out.push(no('no PII in the sink', 'nothing was enriched', 'run the scenario to completion'));
  else out.push(k.piiLeaks === 0 ? yes('no PII in the sink', `no email or phone in ${c.enriched} enriched records`) : failed('no PII in the sink', `${k.piiLeaks} record(s) with an email or phone`, 'withhold every PII field in the stage'));
  if (k.unpseudonymized > 0) out.push(failed('consent masking sampled', `${k.unpseudonymized} raw identifier(s) among ${k.checkedWithoutConsent} sampled records without analytics consent`, 'pseudonymize identifiers without consent'));
  else out.push(k.checkedWithoutConsent >= 10 ? yes('consent masking sampled', `${k.checkedWithoutConsent} records without analytics consent sampled, all pseudonymized`) : no('consent masking sampled', `only ${k.checkedWithoutConsent} records without analytics consent sampled`, 'run longer (more people without consent)'));
  const acc = r.accessCheck;
  const access = 'access: an ACL-limited principal is refused what it must not do';
  if (!acc || !isMeasured(acc)) out.push(no(access, acc ? acc.reason : 'results written before the access check', 'on the sandbox: run it secured (target.security: sasl-ssl, or --security-protocol SASL_SSL), its limited principal is checked; on your cluster: name a principal your ACLs limit in target.security.limited_principal'));
  else out.push(acc.refused ? yes(access, `${acc.principal}: ${acc.action} — ${acc.answer}`) : failed(access, `${acc.principal}: ${acc.action} — ${acc.answer}`, 'remove the grant the principal should not have'));
  const ret = r.retentionCheck;
  if (!ret || !isMeasured(ret)) out.push(no('retention: the sink\'s settings match the policy', ret ? ret.reason : 'results written before the retention check', 'rerun with this clickbench'));
  else out.push(ret.matches ? yes('retention: the sink\'s settings match the policy', `${ret.topic}: retention.ms ${ret.actualMs} = topics.retention, cleanup.policy ${ret.cleanupPolicy}`) : failed('retention: the sink\'s settings match the policy', `${ret.topic}: retention.ms ${ret.actualMs ?? 'not reported'} (policy ${ret.expectedMs}), cleanup.policy ${ret.cleanupPolicy ?? 'not reported'}`, 'align the topic\'s retention with topics.retention (a cluster policy may cap it)'));
  if (k.lineageMissing === undefined) out.push(no('audit: lineage headers on every enriched record', 'results written before lineage was audited', 'rerun with this clickbench'));
  else if (!c || c.enriched === 0) out.push(no('audit: lineage headers on every enriched record', 'nothing was enriched', 'run the scenario to completion'));
  else out.push(k.lineageMissing === 0 ? yes('audit: lineage headers on every enriched record', `schema version, enrichment version and source partition/offset on each of the ${c.enriched} records the probe read`) : failed('audit: lineage headers on every enriched record', `${k.lineageMissing} enriched record(s) without every lineage header`, 'write cb-schema-version, cb-enrichment-version, cb-source-partition and cb-source-offset on every record'));
  return out;
}

function rollback(r: Results): Clause[] {
  const out: Clause[] = [];
  const rb = isMeasured(r.rollback) ? r.rollback : undefined;
  out.push(rb?.caughtUp ? yes('the rollback ran', `to ${rb.toVersion}: ${rb.replayedRecords} records replayed in ${((rb.durationMs ?? 0) / 1000).toFixed(1)} s`) : no('the rollback ran', rb ? 'it did not catch up within the run' : r.rollback.measured === false ? r.rollback.reason : 'no rollback result', 'add a rollback phase and let it catch up'));
  out.push(groupStateClause(rb));
  const clean = r.correctness.missing === 0 && r.correctness.duplicates === 0;
  out.push(!rb ? no('sink idempotent: 0 lost, 0 duplicated by id', 'no rollback ran', 'add a rollback phase') : clean ? yes('sink idempotent: 0 lost, 0 duplicated by id', `every acknowledged event once per generation (${r.correctness.expectedInSink} checked by id)`) : failed('sink idempotent: 0 lost, 0 duplicated by id', `${r.correctness.missing} missing, ${r.correctness.duplicates} duplicated`, 'find where the rollback lost or repeated events'));
  if (r.table) out.push(tableClause(r.table, !!rb));
  return out;
}

/** With a table: the rollback's rewrite checked in the table too (every enriched event once per generation, by id). */
function tableClause(t: NonNullable<Results['table']>, rolledBack: boolean): Clause {
  const clause = 'the table idempotent too: every enriched event once per generation';
  if (!isMeasured(t)) return no(clause, `the table was not checked: ${t.reason}`, 'let the run end normally (the table is checked after the drain)');
  if (t.missingEvents > 0 || t.duplicateRows > 0) return failed(clause, `${t.missingEvents} enriched event(s) not in the table, ${t.duplicateRows} duplicate row(s)`, 'see the table sink\'s commits: a file committed twice or offsets skipped');
  const gens = Object.entries(t.rowsByGeneration).map(([g, n]) => `generation ${g}: ${n} rows`).join(', ');
  if (!rolledBack || Object.keys(t.rowsByGeneration).length < 2) return no(clause, `${t.expectedEvents} events in the table once (${gens}), but no rollback rewrote any of them`, 'a rollback phase that catches up while the sink runs');
  return yes(clause, `${t.expectedEvents} events, 0 missing, 0 duplicate rows${t.sink.kills ? ` after ${t.sink.kills} sink kill(s)` : ''}; ${gens}${t.versionOnlyColumns ? `; ${Object.entries(t.versionOnlyColumns).map(([v, cs]) => `${v} only: ${cs.join(', ') || 'no column'}`).join(', ')}` : ''}`);
}

/** The group before the reset and after the catch-up, in words. */
export function groupStateText(g: NonNullable<NonNullable<Extract<Results['rollback'], { measured: true }>['groupState']>>): string {
  const b = g.before;
  const before = `before the reset ${g.group} was ${b.state} with ${b.members} member(s), offsets committed on ${b.partitionsCommitted} of ${b.partitions} partitions, ${b.lagRecords} records behind the end`;
  const reset = `reset ${g.resetRecordsBack} records back`;
  const a = g.after;
  const after = a ? `${(a.afterMs / 1000).toFixed(1)} s later ${a.state} with ${a.members} member(s), committed past the end at the reset on ${a.partitionsPastEnd} of ${a.partitions} partitions` : 'not caught up within the run, so its state after was not read';
  return `${before}; ${reset}; ${after}`;
}

function groupStateClause(rb: Extract<Results['rollback'], { measured: true }> | undefined): Clause {
  const clause = 'replay position and consumer-group state checked before and after';
  if (!rb) return no(clause, 'no rollback ran', 'add a rollback phase');
  const g = rb.groupState;
  if (!g) return no(clause, rb.resetFrom ? `${rb.resetFrom.note}; the group's state was not read (results written before it was)` : 'results written before the reset position was recorded', 'rerun with this clickbench and a rollback phase');
  const text = `${rb.resetFrom ? `${rb.resetFrom.note}; ` : ''}${groupStateText(g)}`;
  if (g.checked) return yes(clause, text);
  if (g.before.members > 0) return failed(clause, text, 'stop every consumer of the group before resetting its offsets');
  return no(clause, text, 'let the rollback catch up within its phase (a longer phase or a shorter lookback)');
}

const CLAUSES: Record<RowId, (r: Results) => Clause[]> = {
  event_contract: eventContract,
  enrichment_state: enrichmentState,
  broker_storage: brokerStorage,
  cloud_networking: cloudNetworking,
  governance,
  rollback,
};

export function clausesOf(r: Results, id: RowId): Clause[] {
  return CLAUSES[id](r);
}
