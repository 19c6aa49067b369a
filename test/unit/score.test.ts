import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { compareMarkdown } from '../../src/report/compare.js';
import { renderMarkdown, verdictLine } from '../../src/report/markdown.js';
import { evaluate } from '../../src/score/evaluate.js';
import { isMeasured, notMeasured, type Results } from '../../src/run/results.js';
import { evaluateGates, parseGate } from '../../src/score/gates.js';
import { checklist, latencyBudgetMs, monthlyTotal, scorecard, type RowId } from '../../src/score/scorecard.js';
import { checkBadRecords } from '../../src/observe/contract.js';
import { flowLogWindow, parseFlowLog, type FlowLogRow } from '../../src/observe/flowlog.js';
import { withFlowLog } from '../../src/score/crosszone-source.js';
import { asProfile } from '../../src/score/profiles.js';
import { retentionCheck } from '../../src/observe/contract.js';
import type { AccessCheck } from '../../src/kafka/access.js';
import { faultResult, headroomResult, scaleOut } from './recorded.js';

/** A results.json recorded from a real 25 s sandbox run (warmup, steady, burst, replay; owners set). */
import { complete, recorded } from './recorded.js';
const row = (r: Results, id: RowId) => scorecard(r).find((x) => x.id === id)!;
const io = () => {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), isTTY: false }, out, err };
};

describe('readiness scorecard (pure, on recorded results)', () => {
  it('scores the recorded run as its evidence allows', () => {
    const rows = scorecard(recorded());
    assert.deepEqual(rows.map((x) => [x.id, x.score]), [
      ['event_contract', 1], ['enrichment_state', 1], ['broker_storage', 1], ['cloud_networking', 1], ['governance', 1], ['rollback', 1],
    ]);
    // Schema 1 did not count profile joins as of event time: the enrichment state says so.
    assert.match(row(recorded(), 'enrichment_state').missing.join(), /profiles joined as of event time: results written before/);
    // With every clause's evidence: 2 everywhere.
    assert.deepEqual(scorecard(complete()).map((x) => x.score), [2, 2, 2, 2, 2, 2]);
    // Schema 1: its bad records were counted, not looked up one by one, and its cross-zone bytes were modelled only.
    assert.match(row(recorded(), 'event_contract').missing.join(), /every injected bad record in a DLQ, by id, with a reason: results written before bad records were checked one by one/);
    for (const x of rows) assert.ok(x.evidence.length > 0 && x.evidence.every((e) => e.length > 10), `${x.id} has evidence`);
    assert.match(row(recorded(), 'cloud_networking').missing.join(), /dual-run/);
  });

  it('every clause: the complete run lacking that clause\'s evidence (or contradicting it) scores below 2, and the row says which clause', () => {
    const cases: [RowId, RegExp, (r: Results) => void][] = [
      ['event_contract', /a compatibility rule checked: no dual-run phase ran/, (r) => { r.dualRun = notMeasured('no dual-run'); }],
      ['event_contract', /a compatibility rule checked: FAILED — .*segment dropped, price: number → string/, (r) => { if (r.dualRun.measured) r.dualRun.compatibility = { rule: 'r', compatible: false, removed: { segment: 3 }, retyped: { 'price: number → string': 3 }, added: {} }; }],
      ['event_contract', /every injected bad record in a DLQ, by id, with a reason: results written before/, (r) => { delete r.correctness.badRecords; }],
      ['enrichment_state', /state after a replay or restart checked: no replay, rollback or enricher restart completed/, (r) => { r.replay = notMeasured('x'); r.rollback = notMeasured('x'); r.faults = []; }],
      ['enrichment_state', /late data counted: no late profile update/, (r) => { r.enrichment.counters!.lateProfile.updates = 0; }],
      ['broker_storage', /a scale-out or broker replacement measured: no scale-out or replace-broker phase ran \(add a scale-out or replace-broker phase\)/, (r) => { r.elasticity = []; }],
      ['broker_storage', /a scale-out or broker replacement measured: no move completed/, (r) => { r.elasticity = [scaleOut({ completedAtOffsetMs: null })]; }],
      ['broker_storage', /a broker recovery measured: no broker fault ran/, (r) => { r.faults = []; }],
      ['broker_storage', /a broker recovery measured: a broker fault ran but the ISR was not whole/, (r) => { r.faults = [faultResult({ recovery: { ...faultResult().recovery, isrRestoreMs: null } })]; }],
      ['cloud_networking', /dual-run traffic measured: no such phase ran|dual-run phase: cross-zone bytes not measured/, (r) => { r.phases = r.phases.filter((p) => p.kind !== 'dual-run'); }],
      ['governance', /access: an ACL-limited principal is refused what it must not do: the sandbox runs without an authorizer/, (r) => { r.accessCheck = notMeasured('the sandbox runs without an authorizer (PLAINTEXT)'); }],
      ['governance', /access: .*: FAILED — User:clickbench-limited: .* granted/, (r) => { r.accessCheck = { ...(r.accessCheck as AccessCheck), refused: false, answer: 'granted: a producer id was issued' }; }],
      ['governance', /retention: the sink's settings match the policy: FAILED — .*retention\.ms 86400000 \(policy 604800000\)/, (r) => { r.retentionCheck = retentionCheck(r.topics.enriched, r.topics.retentionMs, { 'retention.ms': '86400000', 'cleanup.policy': 'delete' }); }],
      ['governance', /retention: the sink's settings match the policy: FAILED — .*cleanup\.policy compact/, (r) => { r.retentionCheck = retentionCheck(r.topics.enriched, r.topics.retentionMs, { 'retention.ms': String(r.topics.retentionMs), 'cleanup.policy': 'compact' }); }],
      ['governance', /audit: lineage headers on every enriched record: FAILED — 2 enriched record\(s\)/, (r) => { r.correctness.lineageMissing = 2; }],
      ['governance', /audit: lineage headers on every enriched record: results written before/, (r) => { delete r.correctness.lineageMissing; }],
      ['rollback', /replay position and consumer-group state checked before and after: results written before/, (r) => { if (r.rollback.measured) { delete r.rollback.resetFrom; delete r.rollback.groupState; } }],
      ['rollback', /consumer-group state checked before and after: FAILED — .*Stable with 2 member\(s\)/, (r) => { if (r.rollback.measured) r.rollback.groupState = { ...r.rollback.groupState!, before: { ...r.rollback.groupState!.before, state: 'Stable', members: 2 }, checked: false }; }],
      ['rollback', /consumer-group state checked before and after: .*not caught up within the run, so its state after was not read/, (r) => { if (r.rollback.measured) r.rollback.groupState = { ...r.rollback.groupState!, after: null, checked: false }; }],
      ['rollback', /consumer-group state checked before and after: .*committed past the end at the reset on 5 of 6 partitions/, (r) => { if (r.rollback.measured) r.rollback.groupState = { ...r.rollback.groupState!, after: { ...r.rollback.groupState!.after!, partitionsPastEnd: 5 }, checked: false }; }],
      ['enrichment_state', /profiles joined as of event time: of 20000 profile joins, none needed an earlier version/, (r) => { r.enrichment.counters!.profileAsOf = { joins: 20_000, earlierVersion: 0 }; }],
      ['enrichment_state', /profiles joined as of event time: results written before/, (r) => { delete (r.enrichment.counters as { profileAsOf?: unknown }).profileAsOf; }],
      ['enrichment_state', /sessions and campaign attribution across logins: \d+ events attributed, 0 identity merges/, (r) => { r.enrichment.counters!.merges = 0; }],
      ['enrichment_state', /state after a replay or restart checked: FAILED — the enricher-kill of crash did not complete: the run ended first/, (r) => { r.faults = [...(r.faults ?? []), faultResult({ phase: 'crash', action: 'enricher-kill', target: 'the enrichment stage', nodes: [], restoredAtOffsetMs: null })]; }],
      ['broker_storage', /disk growth measured in a steady and a burst phase: no burst phase with a disk measurement/, (r) => { for (const p of r.phases) if (p.kind === 'burst') p.disk = notMeasured('x'); }],
      ['broker_storage', /a replay measured: no replay caught up within the run/, (r) => { for (const x of [r.replay, r.rollback]) if (x.measured) x.caughtUp = false; }],
      ['rollback', /sink idempotent: 0 lost, 0 duplicated by id: FAILED — 0 missing, 3 duplicated/, (r) => { r.correctness.duplicates = 3; }],
      ['governance', /consent masking sampled: only 5 records without analytics consent sampled/, (r) => { r.correctness.checkedWithoutConsent = 5; }],
      ['event_contract', /every injected bad record in a DLQ, by id, with a reason: no bad record was injected/, (r) => { if (r.correctness.badRecords && isMeasured(r.correctness.badRecords)) r.correctness.badRecords.acked = 0; }],
      ['rollback', /the rollback ran: it did not catch up/, (r) => { if (r.rollback.measured) r.rollback.caughtUp = false; }],
    ];
    for (const [id, why, spoil] of cases) {
      const r = complete();
      spoil(r);
      const x = row(r, id);
      assert.ok(x.score < 2, `${id} after ${why}: score ${x.score}`);
      // The clause says so (and, when the row's own rule would have given 2, so does "what is missing").
      const open = x.clauses.filter((c) => c.status !== 'evidenced').map((c) => `${c.clause}: ${c.status === 'failed' ? 'FAILED — ' : ''}${c.evidence}`);
      assert.match([...open, ...x.missing].join('\n'), why, `${id}: ${open.join(' | ')}`);
    }
  });

  it('a row without an owner cannot score 2', () => {
    const r = complete();
    delete r.scenario.spec.owners.governance;
    const g = row(r, 'governance');
    assert.equal(g.score, 1);
    assert.match(g.missing.join(), /no owner: add owners\.governance/);
  });

  /** The recorded run with its bad records looked up in a DLQ holding all of them but those in `lose`. */
  const withBadCheck = (lose: number[] = [], r = complete()): Results => {
    const kinds = r.scenario.spec.bad_records.kinds;
    const bad = Array.from({ length: r.correctness.badRecordsAcked }, (_, i) => ({ seq: i * 50, kind: kinds[i % kinds.length], partition: i % 6, offset: String(1000 + i) }));
    const dlq = new Map(bad.filter((_, i) => !lose.includes(i)).map((b) => [`${b.partition}:${b.offset}`, b.kind as string]));
    r.correctness.badRecords = checkBadRecords(bad, dlq);
    return r;
  };

  it('event contract: 2 (every bad record found by position) / 1 (one missing, or only counted) / 0 (nothing processed)', () => {
    assert.equal(row(withBadCheck(), 'event_contract').score, 2);
    // One bad record lost: the DLQ still holds more records than were injected (replays write again), but the row drops.
    const lost = withBadCheck([3]);
    assert.ok(Object.values(lost.enrichment.counters!.dlq).reduce((a, b) => a + b, 0) >= lost.correctness.badRecordsAcked);
    assert.equal(row(lost, 'event_contract').score, 1);
    assert.match(row(lost, 'event_contract').missing.join(), /every injected bad record in a DLQ, by id, with a reason: FAILED — 1 of 380 not found/);
    assert.match(row(lost, 'event_contract').evidence.join(), /not found \(e\.g\. \w+ at partition 3 offset 1003\)/);
    // A kind configured but never found.
    const r = complete();
    r.scenario.spec.bad_records.kinds = ['malformed_json'];
    const narrow = withBadCheck([], r);
    r.scenario.spec.bad_records.kinds = ['malformed_json', 'oversized'];
    assert.match(row(narrow, 'event_contract').missing.join(), /kinds never seen in the DLQ: oversized/);
    const none = complete();
    none.correctness.badRecordsAcked = 0;
    const r1b = withBadCheck([], none);
    assert.match(row(r1b, 'event_contract').missing.join(), /no bad record was injected/);
    const r0 = withBadCheck();
    r0.enrichment.counters = null;
    assert.equal(row(r0, 'event_contract').score, 0);
  });

  it('bad records are checked by raw position: found, missing, unlocated, another reason', () => {
    const c = checkBadRecords([
      { seq: 1, kind: 'oversized', partition: 0, offset: '10' },
      { seq: 2, kind: 'malformed_json', partition: 1, offset: '10' },
      { seq: 3, kind: 'missing_field', partition: 2, offset: null },
      { seq: 4, kind: 'wrong_type', partition: 0, offset: '11' },
    ], new Map([['0:10', 'malformed_json'], ['0:11', 'wrong_type'], ['1:11', 'malformed_json']]));
    assert.deepEqual({ acked: c.acked, found: c.found, missing: c.missing, unlocated: c.unlocated, otherReason: c.otherReason }, { acked: 4, found: 2, missing: 1, unlocated: 1, otherReason: 1 });
    assert.deepEqual(c.byKind, { oversized: { acked: 1, found: 1 }, malformed_json: { acked: 1, found: 0 }, missing_field: { acked: 1, found: 0 }, wrong_type: { acked: 1, found: 1 } });
    assert.deepEqual(c.missingExamples, [{ seq: 2, kind: 'malformed_json', partition: 1, offset: '10' }]);
  });

  it('enrichment state: 2 / 1 (duplicates in the sink) / 0 (nothing enriched)', () => {
    assert.equal(row(complete(), 'enrichment_state').score, 2);
    const r1 = complete();
    r1.correctness.duplicates = 3;
    assert.equal(row(r1, 'enrichment_state').score, 1);
    const r0 = recorded();
    r0.enrichment.counters!.enriched = 0;
    assert.equal(row(r0, 'enrichment_state').score, 0);
  });

  it('broker storage: 2 / 1 (no replay) / 0 (disk not measured)', () => {
    assert.equal(row(complete(), 'broker_storage').score, 2);
    const r1 = complete();
    r1.replay = notMeasured('the scenario has no replay phase');
    r1.rollback = notMeasured('the scenario has no rollback phase');
    assert.equal(row(r1, 'broker_storage').score, 1);
    const r0 = recorded();
    r0.disk = notMeasured('DescribeLogDirs is not supported');
    assert.equal(row(r0, 'broker_storage').score, 0);
  });

  it('cloud networking: modelled bytes alone score 1 even for all four phase kinds; measured ones (a flow log) score 2; 0 without either', () => {
    const all = () => {
      const r = recorded();
      r.phases.push({ ...r.phases[2], name: 'dual', kind: 'dual-run', startOffsetMs: 25_000, endOffsetMs: 30_000 });
      r.run.scheduleStartMs = 1_000_000;
      return r;
    };
    const modelled = row(all(), 'cloud_networking');
    assert.equal(modelled.score, 1);
    assert.match(modelled.evidence.join('\n'), /normal: modelled only \(steady/);
    assert.match(modelled.evidence.join('\n'), /flow logs or billing data/);
    assert.match(modelled.missing.join('\n'), /normal traffic measured: modelled only/);
    // A flow log covering every phase: measured.
    const rows: FlowLogRow[] = [{ startMs: 1_000_000, endMs: 1_030_000, srcZone: 'a', dstZone: 'b', bytes: 30_000_000 }, { startMs: 1_000_000, endMs: 1_030_000, srcZone: 'a', dstZone: 'a', bytes: 1 }];
    const measured = row(withFlowLog(all(), rows, 'flows.csv'), 'cloud_networking');
    assert.equal(measured.score, 2, measured.missing.join());
    assert.match(measured.evidence.join('\n'), /normal: measured \(steady 6\.0 MB by flow log\)/);
    // Coverage at the line: 95 % of the dual-run (25–30 s) is measured, less is not.
    const upTo = (endMs: number) => row(withFlowLog(all(), [{ ...rows[0], endMs, bytes: endMs - 1_000_000 }], 'flows.csv'), 'cloud_networking').score;
    assert.equal(upTo(1_029_750), 2);
    assert.equal(upTo(1_029_700), 1);
    // One covering only part of the dual-run: that phase is modelled only.
    const part = row(withFlowLog(all(), [{ ...rows[0], endMs: 1_027_000, bytes: 27_000_000 }], 'flows.csv'), 'cloud_networking');
    assert.equal(part.score, 1);
    assert.match(part.missing.join('\n'), /dual-run traffic measured: modelled only \(.*the flow log covers 40 % of the phase/);
    // Re-read as AutoMQ: the log measured Apache Kafka's traffic, so it no longer counts.
    assert.equal(row(asProfile(withFlowLog(all(), rows, 'flows.csv'), 'automq'), 'cloud_networking').score, 1);
    // Not alignable: results without the schedule's start.
    const old = recorded();
    assert.match((withFlowLog(old, rows, 'f').crossZoneFile as { reason: string }).reason, /do not say when the schedule started/);
    const r0 = recorded();
    r0.crossZone = notMeasured('brokers report no racks');
    for (const p of r0.phases) p.crossZone = notMeasured('brokers report no racks');
    assert.equal(row(r0, 'cloud_networking').score, 0);
  });

  it('a flow log parses from CSV or JSON, pro-rates rows by overlap, and rejects a bad row with where and what', () => {
    const csv = parseFlowLog('start,end,src_zone,dst_zone,bytes\n# comment\n2026-12-03T10:00:00Z,2026-12-03T10:01:00Z,az1,az2,600\n1796292060000,1796292120000,az2,az2,50\n', 'f.csv');
    assert.deepEqual(csv[0], { startMs: Date.parse('2026-12-03T10:00:00Z'), endMs: Date.parse('2026-12-03T10:01:00Z'), srcZone: 'az1', dstZone: 'az2', bytes: 600 });
    assert.equal(csv[1].startMs, 1796292060000);
    assert.deepEqual(parseFlowLog('{"records":[{"start":0,"end":10,"src_zone":"a","dst_zone":"b","bytes":5}]}', 'f.json'), [{ startMs: 0, endMs: 10, srcZone: 'a', dstZone: 'b', bytes: 5 }]);
    const t0 = Date.parse('2026-12-03T10:00:00Z');
    // 15 s of a 60 s row: a quarter of its bytes; the window is 30 s, 15 s of it covered.
    assert.deepEqual(flowLogWindow(csv, t0 + 45_000, t0 + 75_000), { bytes: 150 + 13, crossZoneBytes: 150, coverage: 1 });
    assert.deepEqual(flowLogWindow([csv[0]], t0 + 45_000, t0 + 75_000), { bytes: 150, crossZoneBytes: 150, coverage: 0.5 });
    assert.throws(() => parseFlowLog('start,end,src_zone,dst_zone,bytes\nyesterday,2026-12-03T10:01:00Z,a,b,1\n', 'f.csv'), /f\.csv line 2: "yesterday" is not a time/);
    assert.throws(() => parseFlowLog('start,end,src,dst,bytes\n', 'f.csv'), /f\.csv line 1: the header has no src_zone column/);
    assert.throws(() => parseFlowLog('[{"start":10,"end":5,"src_zone":"a","dst_zone":"b","bytes":1}]', 'f.json'), /f\.json record 1: end 5 is not after start 10/);
  });

  it('governance: 2 / 1 (too little checked) / 0 (a leak)', () => {
    assert.equal(row(complete(), 'governance').score, 2);
    const r1 = complete();
    r1.correctness.checkedWithoutConsent = 9;
    assert.equal(row(r1, 'governance').score, 1);
    r1.correctness.checkedWithoutConsent = 10;
    assert.equal(row(r1, 'governance').score, 2, 'ten checked is enough');
    r1.correctness.unpseudonymized = 1;
    assert.equal(row(r1, 'governance').score, 0, 'a raw identifier reached the sink');
    const r0 = recorded();
    r0.correctness.piiLeaks = 1;
    assert.equal(row(r0, 'governance').score, 0);
  });

  it('rollback: 2 (a rollback phase ran clean) / 1 (replay only) / 0 (neither)', () => {
    assert.equal(row(complete(), 'rollback').score, 2);
    assert.equal(row(recorded(), 'rollback').score, 1);
    const r0 = recorded();
    r0.replay = notMeasured('no replay');
    assert.equal(row(r0, 'rollback').score, 0);
  });

  it('rollback: a rollback phase without a rollback result (cut short before it reset anything) cannot score 2', () => {
    const r = recorded();
    r.phases.push({ ...r.phases[3], name: 'rollback', kind: 'rollback' });
    r.rollback = notMeasured('the run ended before the rollback reset its group');
    const x = row(r, 'rollback');
    assert.equal(x.score, 1);
    assert.match(x.evidence.join(), /no rollback result \(the run ended before the rollback reset its group\)/);
  });

  it('a run that did not complete caps every row at 1, and the headline says why', () => {
    const r = complete();
    r.run.status = 'interrupted';
    const rows = scorecard(r);
    assert.deepEqual(rows.map((x) => x.score), [1, 1, 1, 1, 1, 1]);
    // The rows that scored 2 when it completed say why they do not now.
    const capped = rows.filter((x) => x.missing.some((m) => /the run interrupted: a run that did not complete caps every row at 1/.test(m))).map((x) => x.id);
    assert.deepEqual(capped, ['event_contract', 'enrichment_state', 'broker_storage', 'cloud_networking', 'governance', 'rollback']);
    const line = verdictLine(r, evaluate(r, evaluateGates(r)));
    assert.match(line, /readiness 6\/12 .*INTERRUPTED.*every row capped at 1: the run interrupted/);
    // Rows already below 2 keep their score (a 0 stays 0).
    const r0 = recorded();
    r0.run.status = 'failed';
    r0.correctness.piiLeaks = 1;
    assert.equal(row(r0, 'governance').score, 0);
  });

  it('storage model is healthy only on trustworthy disk figures, every replica on disk and history read back within its phase', () => {
    const storage = (r: Results) => checklist(r).find((x) => x.item === 'Storage model')!;
    assert.equal(storage(complete()).healthy, 'yes');
    assert.match(storage(complete()).evidence.join('\n'), /✓ replay: 10 s of history read back in 1\.3 s \(healthy: caught up within the phase, 6 s\)/);
    const apart = complete();
    if (apart.disk.measured && apart.disk.groundTruth.measured) apart.disk.groundTruth.diffPct = 12;
    assert.equal(storage(apart).healthy, 'no');
    const thin = complete();
    if (thin.disk.measured) thin.disk.bytesPerGbIngested = 2.5e9;
    assert.equal(storage(thin).healthy, 'no', 'less than RF 3 × 0.9 GB on disk per GB ingested');
    const slow = complete();
    if (slow.replay.measured) slow.replay.durationMs = 6_001;
    assert.equal(storage(slow).healthy, 'no', 'the replay took longer than its phase');
    // At the boundaries: within ±5 %, ≥ 0.9 × RF, within the phase — healthy; a hair beyond — not.
    const edge = (f: (r: Results) => void) => { const r = complete(); f(r); return storage(r).healthy; };
    assert.equal(edge((r) => { if (r.disk.measured && r.disk.groundTruth.measured) r.disk.groundTruth.diffPct = -5; }), 'yes');
    assert.equal(edge((r) => { if (r.disk.measured && r.disk.groundTruth.measured) r.disk.groundTruth.diffPct = -5.01; }), 'no');
    assert.equal(edge((r) => { if (r.disk.measured) r.disk.bytesPerGbIngested = 2.7e9; }), 'yes');
    assert.equal(edge((r) => { if (r.disk.measured) r.disk.bytesPerGbIngested = 2.69e9; }), 'no');
    assert.equal(edge((r) => { if (r.replay.measured) r.replay.durationMs = 6_000; }), 'yes');
    assert.equal(edge((r) => { if (r.replay.measured) r.replay.caughtUp = false; }), 'no');
    assert.equal(edge((r) => { if (r.disk.measured) r.disk.groundTruth = notMeasured('not the sandbox'); }), 'not measured', 'log dirs not checked against files');
    const none = complete();
    none.replay = notMeasured('no replay phase');
    none.rollback = notMeasured('no rollback phase');
    assert.equal(storage(none).healthy, 'not measured');
    assert.equal(storage(asProfile(complete(), 'automq')).healthy, 'not measured');
    // Recovery must be exercised: without a broker fault or replacement the signal is not measured; a broker that never rejoined is "no".
    assert.equal(edge((r) => { r.faults = []; }), 'not measured');
    assert.equal(edge((r) => { r.faults = [faultResult({ recovery: { ...faultResult().recovery, isrRestoreMs: null } })]; }), 'no');
    assert.equal(edge((r) => { r.faults = []; r.elasticity = [scaleOut({ phase: 'rebuild', action: 'replace-broker' })]; }), 'yes');
  });

  it('checklist says yes / no / not measured with evidence', () => {
    const rows = checklist(recorded());
    assert.deepEqual(rows.map((x) => x.item), ['Kafka compatibility', 'Storage model', 'Cost model', 'Elasticity', 'Governance', 'Recovery']);
    const by = Object.fromEntries(rows.map((x) => [x.item, x.healthy]));
    assert.equal(by['Kafka compatibility'], 'yes');
    assert.equal(by.Recovery, 'not measured');
    assert.equal(by['Cost model'], 'no', 'no dual-run phase');
    for (const x of rows) assert.ok(x.evidence.length > 0);
  });
});

describe('gates', () => {
  it('parses comparisons longest operator first', () => {
    const cases: [string, string, number][] = [['< 250', '<', 250], ['<= 1', '<=', 1], ['>=0.5', '>=', 0.5], ['== 0', '==', 0], ['!= 3', '!=', 3], ['> -1', '>', -1]];
    for (const [expr, op, t] of cases) assert.deepEqual(parseGate(expr), { op, threshold: t }, expr);
    assert.throws(() => parseGate('about 5'), /expected "<op> <number>"/);
    assert.throws(() => parseGate('< five'), /expected "<op> <number>"/, 'an operator without a number');
    assert.throws(() => parseGate('<'), /expected "<op> <number>"/);
  });

  it('each operator passes and fails exactly at its boundary (value just below, at, just above the threshold)', () => {
    const r = recorded();
    const v = r.correctness.duplicates; // a whole number measured in the run
    const at = (expr: string) => evaluateGates(r, { 'correctness.duplicates': expr })[0].passed;
    const row = (op: string) => [at(`${op} ${v + 1}`), at(`${op} ${v}`), at(`${op} ${v - 1}`)];
    // threshold above the value, equal to it, below it
    assert.deepEqual(row('<'), [true, false, false]);
    assert.deepEqual(row('<='), [true, true, false]);
    assert.deepEqual(row('>'), [false, false, true]);
    assert.deepEqual(row('>='), [false, true, true]);
    assert.deepEqual(row('=='), [false, true, false]);
    assert.deepEqual(row('!='), [true, false, true]);
    const unknown = evaluateGates(r, { 'no.such_metric': '< 1' })[0];
    assert.deepEqual([unknown.passed, unknown.value], [false, null]);
    assert.match(unknown.note!, /^unknown metric \(known: e2e\.p50_ms, /);
    assert.deepEqual(evaluateGates(r, { 'e2e.p99_ms': undefined }), [], 'an unset gate is not evaluated');
  });

  it('evaluates against measured values, and an unmeasured metric fails with its reason', () => {
    const r = recorded();
    const g = evaluateGates(r, { 'e2e.p99_ms': '< 1', 'correctness.missing': '== 0', 'scorecard.min_row': '>= 1', 'scorecard.total': '== 6' });
    assert.deepEqual(g.map((x) => x.passed), [false, true, true, true]);
    assert.equal(g[0].value, r.latency.e2e!.p99Ms);
    r.replay = notMeasured('the scenario has no replay phase');
    const [m] = evaluateGates(r, { 'replay.minutes_per_hour': '< 5' });
    assert.equal(m.passed, false);
    assert.match(m.note!, /not measured: the scenario has no replay phase/);
  });

  it('`clickbench report` exits 0 when the gates pass and 1 when one fails, printing it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-report-'));
    const pass = join(dir, 'pass.json');
    writeFileSync(pass, JSON.stringify(recorded()));
    const a = io();
    assert.equal(await main(['report', pass], a.io), 0);
    assert.match(a.out[0], /^PASS — all 3 gates passed · readiness 6\/12/);
    const md = readFileSync(join(dir, 'scorecard.md'), 'utf8');
    assert.match(md, /^# clickbench scorecard — recorded/);
    assert.match(md, /```mermaid\nxychart-beta/);
    const failing = recorded();
    failing.scenario.spec.gates = { 'e2e.p99_ms': '< 10' };
    const fail = join(dir, 'fail.json');
    writeFileSync(fail, JSON.stringify(failing));
    const b = io();
    const summary = join(dir, 'summary.json');
    assert.equal(await main(['report', fail, '--out', join(dir, 'fail.md'), '--summary-json', summary], b.io), 1);
    assert.match(b.out.join('\n'), /e2e\.p99_ms .*< 10 .*FAIL/);
    assert.equal(JSON.parse(readFileSync(summary, 'utf8')).passed, false);
  });

  it('the markdown shows every row\'s evidence and says "not measured" instead of inventing a number', () => {
    const r = recorded();
    r.disk = notMeasured('DescribeLogDirs is not supported by this cluster');
    const md = renderMarkdown(r, evaluate(r, evaluateGates(r)));
    for (const x of scorecard(r)) assert.ok(md.includes(x.evidence[0].slice(0, 40).replace(/\|/g, '\\|')), x.id);
    assert.match(md, /## Broker disk\n\nNot measured — DescribeLogDirs is not supported by this cluster\./);
  });

  it('compare highlights changes of more than 10 % against the first run', () => {
    const a = recorded();
    const b = recorded();
    b.latency.e2e!.p99Ms = a.latency.e2e!.p99Ms * 2;
    const md = compareMarkdown([a, b]);
    assert.match(md, /\| e2e p99 \| [\d,]+ ms \| \*\*[\d,]+ ms\*\* \(\+100 %, worse\) \|/);
  });

  it('compare of a scale-out on local vs tiered topics: bytes moved, duration, headroom side by side, and what drove the bytes', () => {
    const move = (bytes: number, moveMs: number, remote: number | null) => ({
      phase: 'add-broker', action: 'scale-out' as const, nodes: [4], requestedAtOffsetMs: 40_000, nodesUsableAtOffsetMs: 49_000, completedAtOffsetMs: 55_000, durationMs: 15_000, moveMs,
      replicasMoved: 24, partitionsMoved: 24, bytesMovedLogDirs: bytes, bytesMovedNetwork: bytes, networkVsLogDirsPct: 0, networkByLink: null, groundTruthBytes: bytes, logDirsVsGroundTruthPct: 0,
      retainedBytesAtRequest: 450_000_000, bytesMovedPerGbRetained: bytes / 0.45, remoteTierBytes: remote, throttleBytesPerSec: null, leadersOnNewNodes: 8, capacityUsableAtOffsetMs: 56_000, capacityUsableAfterMs: 16_000,
      headroom: null, milestones: [], error: null,
    });
    const local = recorded();
    local.elasticity = [move(84_200_000, 5_900, null)];
    const tiered = recorded();
    tiered.topics.tiered = true;
    tiered.scenario.spec.topics.local_retention = 3_000;
    tiered.elasticity = [move(7_000_000, 6_100, 50_200_000)];
    const md = compareMarkdown([local, tiered]);
    assert.match(md, /\| scale-out: bytes moved \| 84\.2 MB \| \*\*7\.0 MB\*\* \(-92 %, better\) \|/);
    assert.match(md, /\| scale-out: replicas in sync after \| 5,900 ms \| 6,100 ms \|/);
    assert.match(md, /\| scale-out: left in remote tier \| not measured \| 50\.2 MB \|/);
    assert.match(md, /\| scale-out: new capacity usable after \| 16,000 ms \| 16,000 ms \|/);
    assert.match(md, /\| scale-out: sustainable rate before \| not measured \| not measured \|/);
    assert.match(md, /What drove the data movement:\n\n- `[^`]+` add-broker \(scale-out\): 24 replicas, 84\.2 MB of 450\.0 MB on the brokers' disks \(all replicas\) in 5\.9 s — local disks: every moved replica copies its partition's whole retained log from the leader; the duration follows the retained bytes\.\n- `[^`]+` add-broker \(scale-out\): 24 replicas, 7\.0 MB of 450\.0 MB on the brokers' disks \(all replicas\) in 6\.1 s — tiered topics: a new replica copies only the local tail \(segments not yet in the remote tier, kept locally for 3 s, plus the active segment\); 50\.2 MB of the moved partitions stayed in the remote tier and were not copied\./);
  });
});

describe('the latency budget read from the e2e.p99_ms gate', () => {
  const budget = (gate: string | undefined) => {
    const r = recorded();
    r.scenario.spec.gates = gate === undefined ? (undefined as never) : ({ 'e2e.p99_ms': gate } as never);
    return latencyBudgetMs(r);
  };
  it('takes an upper bound written with < or <=, with or without spaces, decimals too', () => {
    assert.deepEqual(['<= 2500', '<2500', '  <=  2500  ', '< 2500.75', '<=9'].map(budget), [2500, 2500, 2500, 2500.75, 9]);
  });
  it('is no budget for a lower bound, another unit, a malformed number or no gate', () => {
    assert.deepEqual(['>= 2500', '== 2500', '<= 2500 ms', 'x <= 2500', '<= 25 00', '<= 2500.', '<= .5', '<= abc', ''].map(budget), [null, null, null, null, null, null, null, null, null]);
    assert.equal(budget(undefined), null);
  });
});

describe('gates on figures that were not measured (pure)', () => {
  const judge = (r: Results, metric: string, expression = '< 1e12') => {
    const [g] = evaluateGates(r, { [metric]: expression });
    return [g.passed, g.value, g.note ?? null];
  };
  it('fail saying why, per metric', () => {
    const r = recorded();
    r.latency.e2e = null as never;
    assert.deepEqual(judge(r, 'e2e.p99_ms'), [false, null, 'not measured: no e2e latency samples']);
    r.series.lag = [];
    assert.deepEqual(judge(r, 'lag.max_records'), [false, null, 'not measured: no lag samples']);
    if (!isMeasured(r.replay)) throw new Error('the recorded run has a replay');
    r.replay = { ...r.replay, minutesPerHour: null, durationMs: null, liveP99Degradation: null } as never;
    assert.deepEqual(judge(r, 'replay.minutes_per_hour'), [false, null, 'not measured: the replay did not catch up']);
    assert.deepEqual(judge(r, 'replay.duration_ms'), [false, null, 'not measured: the replay did not catch up']);
    assert.deepEqual(judge(r, 'replay.p99_degradation'), [false, null, 'not measured: no live latency before or during the replay']);
    assert.equal(judge(r, 'cross_zone.gb_per_tb')[0], true);
    r.throughput.payloadBytes = 0;
    assert.deepEqual(judge(r, 'cross_zone.gb_per_tb'), isMeasured(r.crossZone) ? [false, null, 'not measured: nothing was ingested'] : [false, null, `not measured: ${r.crossZone.reason}`]);
    r.throughput.achievedRatio = null as never;
    assert.deepEqual(judge(r, 'throughput.achieved_ratio'), [false, null, 'not measured: no value']);
  });
  it('measured figures are compared with spaces or none around the operator', () => {
    const r = recorded();
    const p99 = r.latency.e2e!.p99Ms;
    assert.deepEqual([`<=${p99}`, `  <= ${p99}  `, `<${p99}`, `>=${p99}`, `== ${p99}`, `!=${p99}`].map((e) => judge(r, 'e2e.p99_ms', e)[0]), [true, true, false, true, true, false]);
  });
  it('a run that did not complete fails even when every gate passes', () => {
    const r = { ...recorded(), run: { ...recorded().run, status: 'interrupted' as const } };
    const gates = evaluateGates(r, { 'e2e.p99_ms': '< 1e9' });
    assert.equal(gates[0].passed, true);
    assert.equal(evaluate(r, gates).passed, false);
    assert.equal(evaluate(recorded(), gates).passed, true);
  });
});

describe('endpoint traffic and compute in the cost model (pure)', () => {
  const external = (price: Record<string, number>) => {
    const r = complete();
    r.cluster.target = 'external' as never;
    r.scenario.spec.price = { ...r.scenario.spec.price, ...price };
    return r;
  };
  const endpointClause = (r: Results) => scorecard(r).find((x) => x.id === 'cloud_networking')!.clauses.find((c) => c.clause === 'endpoint traffic named')!;
  const cost = (r: Results) => checklist(r).find((c) => c.item === 'Cost model')!;
  it('an external cluster that does not say how its clients reach the brokers: the clause is not evidenced, the cost model lacks endpoint', () => {
    const r = external({});
    assert.equal(endpointClause(r).status, 'not evidenced');
    assert.equal(scorecard(r).find((x) => x.id === 'cloud_networking')!.score, 1);
    assert.equal(cost(r).healthy, 'no');
    assert.match(cost(r).evidence.join('\n'), /endpoint: not named/);
  });
  it('priced per GB: the bytes the clients counted × the price; 0 says they connect directly', () => {
    const r = external({ endpoint_per_gb: 0.01 });
    if (!isMeasured(r.crossZone)) throw new Error('the recorded run has a traffic model');
    const bytes = r.crossZone.total.produce.bytes + r.crossZone.total.consume.bytes;
    assert.equal(endpointClause(r).status, 'evidenced');
    assert.ok(cost(r).evidence.includes(`endpoint: ${(bytes / 1e6).toFixed(1)} MB between the clients and the brokers (produce ${(r.crossZone.total.produce.bytes / 1e6).toFixed(1)}, consume ${(r.crossZone.total.consume.bytes / 1e6).toFixed(1)} MB, counted by the clients) × $0.01/GB = $${((bytes / 1e9) * 0.01).toFixed(4)} over the run`), cost(r).evidence.join('\n'));
    assert.equal(cost(r).healthy, 'yes');
    const direct = external({ endpoint_per_gb: 0 });
    assert.match(endpointClause(direct).evidence, /^none: price.endpoint_per_gb is 0/);
    assert.equal(cost(direct).healthy, 'yes');
  });
  it('compute is priced from the brokers the cluster reported, or listed as not priced', () => {
    const r = complete();
    assert.ok(cost(r).evidence.includes(`compute: ${r.cluster.brokers.length} broker(s) × $0.192/instance-hour × 730 h = $${(r.cluster.brokers.length * 0.192 * 730).toFixed(2)}/month (brokers as the cluster reported them)`));
    assert.equal(cost(r).healthy, 'yes');
    r.scenario.spec.price = { ...r.scenario.spec.price, broker_per_hour: undefined };
    assert.equal(cost(r).healthy, 'no');
    assert.ok(cost(r).evidence.includes('compute: not priced (set price.broker_per_hour, USD per broker instance-hour)'));
  });
});

describe('the checklist judged against the scenario\'s budgets (pure)', () => {
  const item = (r: Results, name: string) => checklist(r).find((c) => c.item === name)!;
  it('budgets.e2e_p99_ms is the latency budget, ahead of the e2e gate', () => {
    const r = complete();
    const p99 = r.phases.find((p) => p.kind === 'burst')!.latency.e2e!.p99Ms;
    r.scenario.spec.budgets = { e2e_p99_ms: p99 - 1 };
    assert.equal(latencyBudgetMs(r), p99 - 1);
    assert.equal(item(r, 'Elasticity').healthy, 'no');
    assert.ok(item(r, 'Elasticity').evidence.includes(`burst: e2e p99 ${p99} ms is over the scenario's budget of ${p99 - 1} ms (budgets: e2e_p99_ms)`));
    r.scenario.spec.budgets = { e2e_p99_ms: p99 };
    assert.equal(item(r, 'Elasticity').healthy, 'yes');
  });
  it('elasticity is headroom added: a scale-out after which less was sustained than before is "no", saying so', () => {
    const r = complete();
    assert.equal(item(r, 'Elasticity').healthy, 'yes');
    r.elasticity = [scaleOut({ headroom: headroomResult(4_000, 2_000) })];
    assert.equal(item(r, 'Elasticity').healthy, 'no');
    assert.ok(item(r, 'Elasticity').evidence.includes('add-broker: headroom did not grow with the new broker(s): 4,000/s sustained before, 2,000/s after'));
    r.elasticity = [scaleOut({ headroom: headroomResult(4_000, 4_000) })];
    assert.equal(item(r, 'Elasticity').healthy, 'no');
    r.elasticity = [scaleOut({ headroom: headroomResult(4_000, 4_400) })];
    assert.equal(item(r, 'Elasticity').healthy, 'yes');
  });
  it('budgets.replay_minutes_per_hour: a replay slower than that fails the storage model', () => {
    const r = complete();
    if (!isMeasured(r.replay) || r.replay.minutesPerHour === null) throw new Error('the recorded run has a replay that caught up');
    const mph = r.replay.minutesPerHour;
    r.scenario.spec.budgets = { replay_minutes_per_hour: mph * 0.99 };
    assert.equal(item(r, 'Storage model').healthy, 'no');
    assert.ok(item(r, 'Storage model').evidence.some((e) => e.startsWith('✗ replay: ') && e.endsWith(`, ${mph.toFixed(2)} minutes per hour of history (healthy: within the budget of ${mph * 0.99} minutes per hour, budgets: replay_minutes_per_hour)`)), item(r, 'Storage model').evidence.join('\n'));
    r.scenario.spec.budgets = { replay_minutes_per_hour: Math.max(mph, (isMeasured(r.rollback) && r.rollback.minutesPerHour) || 0) };
    assert.equal(item(r, 'Storage model').healthy, 'yes');
  });
  it('budgets.cost_per_month: storage + compute + steady cross-zone + endpoint at the steady rate, over it is "no"', () => {
    const r = complete();
    const steady = r.phases.filter((p) => p.kind === 'steady');
    const secs = steady.reduce((a, p) => a + (p.endOffsetMs - p.startOffsetMs) / 1000, 0);
    const xz = (steady.reduce((a, p) => a + (isMeasured(p.crossZone) ? p.crossZone.costUsd : 0), 0) / secs) * 730 * 3600;
    const storage = Number(/= \$(\d+\.\d+)\/month$/.exec(item(r, 'Cost model').evidence[0])![1]);
    const total = monthlyTotal(r, storage, r.cluster.brokers.length * 0.192 * 730, 0);
    assert.ok(Math.abs(total.usd! - (storage + r.cluster.brokers.length * 0.192 * 730 + xz)) < 1e-9);
    assert.equal(total.parts, `storage $${storage.toFixed(2)} + compute $${(r.cluster.brokers.length * 0.192 * 730).toFixed(2)} + steady cross-zone $${xz.toFixed(2)} + endpoint $0.00`);
    r.scenario.spec.budgets = { cost_per_month: Math.floor(total.usd! * 10) / 10 };
    assert.equal(item(r, 'Cost model').healthy, 'no');
    assert.ok(item(r, 'Cost model').evidence.some((e) => e.startsWith('✗ $') && e.includes(`/month at the steady rate (storage $${storage.toFixed(2)} + compute $${(r.cluster.brokers.length * 0.192 * 730).toFixed(2)} + steady cross-zone $${xz.toFixed(2)} + endpoint $0.00)`) && e.endsWith('is over the budget of $' + Math.floor(total.usd! * 10) / 10 + '/month (budgets: cost_per_month)')), item(r, 'Cost model').evidence.join('\n'));
    r.scenario.spec.budgets = { cost_per_month: Math.ceil(total.usd!) };
    assert.equal(item(r, 'Cost model').healthy, 'yes');
    r.scenario.spec.price = { ...r.scenario.spec.price, broker_per_hour: undefined };
    assert.ok(item(r, 'Cost model').evidence.includes(`budget $${Math.ceil(total.usd!)}/month (budgets: cost_per_month): the monthly total is not known (compute not priced)`));
    assert.deepEqual(monthlyTotal(r, null, null, null).missing, ['storage', 'compute', 'endpoint']);
  });
});
