import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { compareMarkdown } from '../../src/report/compare.js';
import { renderMarkdown, verdictLine } from '../../src/report/markdown.js';
import { evaluate } from '../../src/score/evaluate.js';
import { notMeasured, type Results } from '../../src/run/results.js';
import { evaluateGates, parseGate } from '../../src/score/gates.js';
import { checklist, scorecard, type RowId } from '../../src/score/scorecard.js';

/** A results.json recorded from a real 25 s sandbox run (warmup, steady, burst, replay; owners set). */
const RECORDED = readFileSync('test/fixtures/results-recorded.json', 'utf8');
const recorded = (): Results => JSON.parse(RECORDED);
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
      ['event_contract', 2], ['enrichment_state', 2], ['broker_storage', 2], ['cloud_networking', 1], ['governance', 2], ['rollback', 1],
    ]);
    for (const x of rows) assert.ok(x.evidence.length > 0 && x.evidence.every((e) => e.length > 10), `${x.id} has evidence`);
    assert.match(row(recorded(), 'cloud_networking').missing.join(), /dual-run/);
  });

  it('a row without an owner cannot score 2', () => {
    const r = recorded();
    delete r.scenario.spec.owners.governance;
    const g = row(r, 'governance');
    assert.equal(g.score, 1);
    assert.match(g.missing.join(), /no owner: add owners\.governance/);
  });

  it('event contract: 2 / 1 (a bad record missed the DLQ) / 0 (nothing processed)', () => {
    assert.equal(row(recorded(), 'event_contract').score, 2);
    const r1 = recorded();
    r1.correctness.badRecordsAcked = 10_000;
    assert.equal(row(r1, 'event_contract').score, 1);
    const r1b = recorded();
    r1b.correctness.badRecordsAcked = 0;
    assert.match(row(r1b, 'event_contract').missing.join(), /no bad records were injected/);
    const r0 = recorded();
    r0.enrichment.counters = null;
    assert.equal(row(r0, 'event_contract').score, 0);
  });

  it('enrichment state: 2 / 1 (duplicates in the sink) / 0 (nothing enriched)', () => {
    assert.equal(row(recorded(), 'enrichment_state').score, 2);
    const r1 = recorded();
    r1.correctness.duplicates = 3;
    assert.equal(row(r1, 'enrichment_state').score, 1);
    const r0 = recorded();
    r0.enrichment.counters!.enriched = 0;
    assert.equal(row(r0, 'enrichment_state').score, 0);
  });

  it('broker storage: 2 / 1 (no replay) / 0 (disk not measured)', () => {
    assert.equal(row(recorded(), 'broker_storage').score, 2);
    const r1 = recorded();
    r1.replay = notMeasured('the scenario has no replay phase');
    assert.equal(row(r1, 'broker_storage').score, 1);
    const r0 = recorded();
    r0.disk = notMeasured('DescribeLogDirs is not supported');
    assert.equal(row(r0, 'broker_storage').score, 0);
  });

  it('cloud networking: 2 (all four phase kinds) / 1 / 0', () => {
    const r2 = recorded();
    r2.phases.push({ ...r2.phases[2], name: 'dual', kind: 'dual-run' });
    assert.equal(row(r2, 'cloud_networking').score, 2);
    assert.equal(row(recorded(), 'cloud_networking').score, 1);
    const r0 = recorded();
    r0.crossZone = notMeasured('brokers report no racks');
    assert.equal(row(r0, 'cloud_networking').score, 0);
  });

  it('governance: 2 / 1 (too little checked) / 0 (a leak)', () => {
    assert.equal(row(recorded(), 'governance').score, 2);
    const r1 = recorded();
    r1.correctness.checkedWithoutConsent = 3;
    assert.equal(row(r1, 'governance').score, 1);
    const r0 = recorded();
    r0.correctness.piiLeaks = 1;
    assert.equal(row(r0, 'governance').score, 0);
  });

  it('rollback: 2 (a rollback phase ran clean) / 1 (replay only) / 0 (neither)', () => {
    const r2 = recorded();
    r2.phases.push({ ...r2.phases[3], name: 'rollback', kind: 'rollback' });
    assert.ok(r2.replay.measured);
    r2.rollback = { ...r2.replay, phase: 'rollback', toVersion: 'v1' };
    assert.equal(row(r2, 'rollback').score, 2);
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
    const r = recorded();
    r.run.status = 'interrupted';
    const rows = scorecard(r);
    assert.deepEqual(rows.map((x) => x.score), [1, 1, 1, 1, 1, 1]);
    // The rows that scored 2 when it completed say why they do not now.
    const capped = rows.filter((x) => x.missing.some((m) => /the run interrupted: a run that did not complete caps every row at 1/.test(m))).map((x) => x.id);
    assert.deepEqual(capped, ['event_contract', 'enrichment_state', 'broker_storage', 'governance']);
    const line = verdictLine(r, evaluate(r, evaluateGates(r)));
    assert.match(line, /readiness 6\/12 .*INTERRUPTED.*every row capped at 1: the run interrupted/);
    // Rows already below 2 keep their score (a 0 stays 0).
    const r0 = recorded();
    r0.run.status = 'failed';
    r0.correctness.piiLeaks = 1;
    assert.equal(row(r0, 'governance').score, 0);
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
  });

  it('evaluates against measured values, and an unmeasured metric fails with its reason', () => {
    const r = recorded();
    const g = evaluateGates(r, { 'e2e.p99_ms': '< 1', 'correctness.missing': '== 0', 'scorecard.min_row': '>= 1', 'scorecard.total': '== 10' });
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
    writeFileSync(pass, RECORDED);
    const a = io();
    assert.equal(await main(['report', pass], a.io), 0);
    assert.match(a.out[0], /^PASS — all 3 gates passed · readiness 10\/12/);
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
