import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Results } from '../../src/run/results.js';
import { accountingResult, faultResult, recorded } from './recorded.js';
import { checklist } from '../../src/score/scorecard.js';
import { evaluateGates } from '../../src/score/gates.js';
import { errorCode } from '../../src/drive/driver.js';
import { AckTimeline, drainAfter, quantile } from '../../src/fault/faults.js';
import { parseScenario, ScenarioError } from '../../src/scenario/load.js';
import { faultProblems } from '../../src/scenario/schema.js';
import { phaseTimeline } from '../../src/phases/timeline.js';
import { lastLine, runUserCommand, type CommandRun } from '../../src/run/user-command.js';

const BASE = `name: f
duration: 60s
traffic: { base_rate: 100 }
`;
const rejected = (src: string): string => {
  try {
    parseScenario(src, 'f.yaml');
  } catch (err) {
    assert.ok(err instanceof ScenarioError);
    return err.message;
  }
  assert.fail('expected the scenario to be rejected');
};

describe('fault phases: validation', () => {
  it('a fault phase carries its fault into the timeline, with defaults', () => {
    const s = parseScenario(`${BASE}phases:\n  - { kind: steady, duration: 20s }\n  - { kind: fault, duration: 30s, fault: { action: broker-kill, leader_of: raw, at: 5s } }\n`, 'f.yaml').scenario;
    const w = phaseTimeline(s);
    assert.deepEqual(w.map((p) => [p.kind, p.startMs, p.endMs]), [['steady', 0, 20_000], ['fault', 20_000, 50_000], ['steady', 50_000, 60_000]]);
    assert.deepEqual(w[1].fault, { action: 'broker-kill', leader_of: 'raw', at: 5_000, down_for: 15_000, wipe: false, timeout: 120_000 });
    assert.equal(w[1].scored, false);
  });

  it('refuses a fault phase without a fault, and a fault on another phase', () => {
    assert.match(rejected(`${BASE}phases:\n  - { kind: fault, duration: 10s }\n`), /phases\.0\.fault.*needs a fault block/);
    assert.match(rejected(`${BASE}phases:\n  - { kind: steady, duration: 10s, fault: { action: broker-kill } }\n`), /only fault phases take a fault block/);
  });

  it('an external target needs the user\'s command for broker and zone faults (enricher-kill is local)', () => {
    const ext = `${BASE}target: { kind: brokers, brokers: "k1:9092" }\nphases:\n  - { kind: fault, duration: 10s, fault: { action: broker-kill, node: 1 } }\n`;
    assert.match(rejected(ext), /phases\.0\.fault\.command.*needs fault\.command/);
    parseScenario(ext.replace('node: 1 }', 'command: "kubectl delete pod kafka-1" }'), 'f.yaml');
    parseScenario(ext.replace('action: broker-kill, node: 1', 'action: enricher-kill'), 'f.yaml');
    assert.deepEqual(faultProblems({ action: 'zone-outage', at: 0, down_for: 1, wipe: false, timeout: 1 }, 'sandbox').map((p) => p.field), ['zone']);
    assert.deepEqual(faultProblems({ action: 'broker-kill', node: 1, zone: 'a', at: 0, down_for: 1, wipe: false, timeout: 1 }, 'sandbox').map((p) => p.field), ['node']);
    assert.deepEqual(faultProblems({ action: 'broker-kill', node: 1, wipe: true, command: 'x', at: 0, down_for: 1, timeout: 1 }, 'brokers').map((p) => p.field), ['wipe']);
  });
});

describe('fault measurements (pure)', () => {
  it('write availability: first acknowledgement after the fault and the longest silence', () => {
    const t = new AckTimeline();
    for (const ms of [900, 1_000, 1_100, 4_100, 4_200, 9_000]) t.ack(0, ms);
    assert.deepEqual(t.around(0, 1_050, 5_000), { firstAckAfterMs: 50, maxGapMs: 3_000 });
    assert.deepEqual(t.around(0, 1_150, 5_000), { firstAckAfterMs: 2_950, maxGapMs: 2_950 });
    // Nothing acknowledged until the window's end: the whole window is a gap.
    assert.deepEqual(t.around(0, 4_300, 8_000), { firstAckAfterMs: 4_700, maxGapMs: 3_700 });
    assert.deepEqual(t.around(1, 0, 2_000), { firstAckAfterMs: null, maxGapMs: 2_000 });
  });

  it('lag drains back to max(1.5 × steady p90, steady p90 + 100)', () => {
    const lag = [100, 200, 300, 200, 100, 5_000, 9_000, 4_000, 900, 400, 250].map((l, i) => ({ offsetMs: i * 1_000, lag: l, endOffset: 0 }));
    const d = drainAfter(lag, { startMs: 0, endMs: 5_000 }, 5_000);
    assert.deepEqual(d, { steadyRecords: 300, peakRecords: 9_000, peakAtOffsetMs: 6_000, thresholdRecords: 450, drainedAtOffsetMs: 9_000, drainMs: 4_000 });
    assert.equal(drainAfter(lag.slice(0, 8), { startMs: 0, endMs: 5_000 }, 5_000).drainMs, null);
    assert.equal(drainAfter(lag, undefined, 5_000).thresholdRecords, null);
    assert.equal(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9), 9);
    assert.equal(quantile([], 0.5), null);
  });

  it('names produce errors by their Kafka error type, else the client error and system code', () => {
    const protocol = Object.assign(new Error('This server is not the leader'), { type: 'NOT_LEADER_OR_FOLLOWER' });
    const retries = Object.assign(new Error('retries exceeded'), { name: 'KafkaJSNumberOfRetriesExceeded', cause: protocol });
    assert.equal(errorCode(retries), 'NOT_LEADER_OR_FOLLOWER');
    const conn = Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), { name: 'KafkaJSConnectionError' });
    assert.equal(errorCode(conn), 'KafkaJSConnectionError ECONNREFUSED');
    assert.equal(errorCode(new Error('x')), 'Error');
  });
});

describe('Recovery row and fault gates (pure, on recorded results)', () => {
  const fault = faultResult;
  const accounting = accountingResult;
  const recoveryRow = (r: Results) => checklist(r).find((c) => c.item === 'Recovery')!;

  it('is not measured without a fault, yes with a clean recovery, no when anything acknowledged was lost', () => {
    const r = recorded();
    assert.equal(recoveryRow(r).healthy, 'not measured');
    r.faults = [fault()];
    r.accounting = accounting(0);
    assert.equal(recoveryRow(r).healthy, 'yes');
    assert.match(recoveryRow(r).evidence.join('\n'), /writes unavailable up to 9\.8 s on 12 partition\(s\).*ISR whole 1\.0 s after the restart/);
    r.accounting = accounting(3);
    assert.equal(recoveryRow(r).healthy, 'no');
    r.accounting = accounting(0);
    r.faults = [fault({ recovery: { ...fault().recovery, isrRestoreMs: null, isrRestoredAtOffsetMs: null } })];
    assert.equal(recoveryRow(r).healthy, 'no', 'the ISR never became whole again');
  });

  it('fault gates take the worst fault; a fault without the figure is not measured', () => {
    const r = recorded();
    r.faults = [fault(), fault({ writeUnavailability: { measured: true, affectedPartitions: 3, perPartition: [], maxMs: 12_000, p50Ms: 1, p99Ms: 1, method: 'm' } })];
    r.accounting = accounting(2);
    const g = evaluateGates(r, { 'fault.write_unavailable_max_ms': '< 10000', 'correctness.acked_lost': '== 0', 'fault.drain_ms': '< 60000' });
    assert.deepEqual(g.map((x) => [x.metric, x.value, x.passed]), [['fault.write_unavailable_max_ms', 12_000, false], ['correctness.acked_lost', 2, false], ['fault.drain_ms', 30_000, true]]);
    r.faults.push(fault({ recovery: { ...fault().recovery, lag: { ...fault().recovery.lag, drainMs: null } } }));
    assert.match(evaluateGates(r, { 'fault.drain_ms': '< 60000' })[0].note!, /did not drain/);
    assert.match(evaluateGates(recorded(), { 'fault.drain_ms': '< 1' })[0].note!, /no fault phase/);
  });
});

describe('user commands for external clusters', () => {
  it('records exit code, duration and output whatever happens; a failure or timeout is one line naming the command', async () => {
    const runs: CommandRun[] = [];
    const ok = await runUserCommand('inject', 'echo first; echo started broker 6', 10_000, (r) => runs.push(r));
    assert.deepEqual([ok.exitCode, ok.output, lastLine(ok.output)], [0, 'first\nstarted broker 6', 'started broker 6']);
    await assert.rejects(runUserCommand('restore', 'echo no such node >&2; exit 3', 10_000, (r) => runs.push(r)), { message: 'restore command exited with 3: echo no such node >&2; exit 3 (no such node)' });
    await assert.rejects(runUserCommand('inject', 'sleep 5', 300, (r) => runs.push(r)), { message: 'inject command timed out after 0.3 s: sleep 5' });
    assert.deepEqual(runs.map((r) => [r.step, r.exitCode]), [['inject', 0], ['restore', 3], ['inject', null]]);
    assert.ok(runs[2].durationMs < 4_000, 'the timed-out command was stopped');
  });
});
