/**
 * The scorecard, checklist and gates of recorded results, compared with what was reviewed: every
 * row's score, evidence and "what is missing", word for word. The evidence is the product (it is what
 * a platform team signs off on), so a change to how a figure is computed or worded must show here.
 * After a deliberate change: CLICKBENCH_UPDATE_GOLDEN=1 node --test dist/test/unit/score-golden.test.js,
 * then review the diff of test/fixtures/scorecard.golden.json.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { notMeasured, type Results } from '../../src/run/results.js';
import { evaluate } from '../../src/score/evaluate.js';
import { evaluateGates } from '../../src/score/gates.js';
import { asProfile } from '../../src/score/profiles.js';
import { checklist, scorecard, scoreCap } from '../../src/score/scorecard.js';
import { GATE_METRICS } from '../../src/scenario/schema.js';
import { accountingResult, complete, faultResult, headroomResult, probeResult, recorded, scaleOut } from './recorded.js';

const GOLDEN = 'test/fixtures/scorecard.golden.json';

const variants: Record<string, () => Results> = {
  'recorded (schema 1)': recorded,
  'complete (schema 2 evidence)': complete,
  'complete, re-read as automq': () => asProfile(complete(), 'automq'),
  'complete, re-read as tiered': () => asProfile(complete(), 'tiered'),
  'complete, interrupted': () => ({ ...complete(), run: { ...complete().run, status: 'interrupted', error: 'SIGINT' } }),
  'complete, with faults and a scale-out that went well': () => {
    const r = complete();
    r.faults = [
      faultResult({ latency: { baselinePhase: 'steady', before: { produceAck: null, enrich: null, e2e: { p50Ms: 40, p90Ms: 80, p99Ms: 120, p999Ms: 200, maxMs: 300, count: 9000, meanMs: 50 } }, during: { produceAck: null, enrich: null, e2e: { p50Ms: 400, p90Ms: 900, p99Ms: 1900, p999Ms: 2500, maxMs: 3000, count: 7000, meanMs: 500 } } } }),
      faultResult({ phase: 'stage-crash', action: 'enricher-kill', target: 'the enrichment stage', nodes: [], writeUnavailability: { measured: false, reason: 'no broker was stopped' }, injectedAtOffsetMs: 40_000, restoredAtOffsetMs: 42_500, downForMs: 2_500 }),
    ];
    r.accounting = accountingResult(0);
    r.elasticity = [scaleOut({ headroom: headroomResult(20_000, 26_000) })];
    return r;
  },
  'complete, with faults and moves that went wrong': () => {
    const r = complete();
    r.faults = [
      faultResult({ recovery: { ...faultResult().recovery, isrRestoreMs: null, isrRestoredAtOffsetMs: null, lag: { ...faultResult().recovery.lag, drainMs: null, drainedAtOffsetMs: null } } }),
      faultResult({ phase: 'stage-crash', action: 'enricher-kill', target: 'the enrichment stage', nodes: [], injectedAtOffsetMs: null, restoredAtOffsetMs: null, error: 'the stage did not start' }),
    ];
    r.accounting = accountingResult(3, 2);
    r.elasticity = [scaleOut({ completedAtOffsetMs: null, durationMs: null, headroom: headroomResult(20_000, null) }), scaleOut({ phase: 'replace', action: 'replace-broker', error: 'the reassignment was refused', nodes: [] })];
    r.correctness.missing = 4;
    r.correctness.duplicates = 1;
    r.correctness.piiLeaks = 1;
    return r;
  },
  'complete, tiered topics': () => {
    const r = asProfile(complete(), 'tiered');
    r.cluster.profileSource = 'scenario';
    r.topics.tiered = true;
    if (r.disk.measured) r.disk.tiered = { measured: true, remoteBytes: 0, localBytes: 90_000_000 };
    return r;
  },
  'complete, probed: a needed capability missing, the burst over the latency budget, a duplicate under eos': () => {
    const r = complete();
    r.compatibility = probeResult({ 'timestamp-lookup': 'no', 'log-compaction': 'no', 'listener-security': 'not checked' });
    r.scenario.spec.gates = { ...r.scenario.spec.gates, 'e2e.p99_ms': '<= 900' };
    r.accounting = { ...accountingResult(0, 1), sinkMissing: 0 };
    r.errors.produceErrors = 3;
    return r;
  },
  'complete, probed clean, at-least-once with acks=1, a fault recovered without a rollback or replay': () => {
    const r = complete();
    r.compatibility = probeResult();
    r.enrichment.delivery = 'alo';
    r.scenario.spec.clients = { ...r.scenario.spec.clients, acks: '1' } as never;
    r.phases = r.phases.filter((p) => p.kind !== 'replay' && p.kind !== 'rollback');
    r.scenario.spec.phases = r.scenario.spec.phases.filter((p) => p.kind !== 'replay' && p.kind !== 'rollback');
    r.replay = notMeasured('no replay phase');
    r.rollback = notMeasured('no rollback phase');
    r.faults = [faultResult({ phase: 'stage-crash', action: 'enricher-kill', target: 'the enrichment stage', nodes: [], injectedAtOffsetMs: 12_000, restoredAtOffsetMs: 14_000, downForMs: 2_000 })];
    r.accounting = accountingResult(0);
    r.elasticity = [];
    r.scenario.spec.gates = { ...r.scenario.spec.gates, 'e2e.p99_ms': '< 5000' };
    return r;
  },
  'recorded, a rollback planned that did not run, the burst lag never drained, the probe not measured': () => {
    const r = recorded();
    r.scenario.spec.phases = [...r.scenario.spec.phases, { kind: 'rollback', duration: '5s', lookback: '10s' } as never];
    r.compatibility = notMeasured('the probe could not connect');
    const burstEnd = r.phases.find((p) => p.kind === 'burst')!.endOffsetMs;
    r.series.lag = r.series.lag.map((l) => (l.offsetMs >= burstEnd ? { ...l, lag: 5_000 } : l));
    r.faults = [faultResult({ restoredAtOffsetMs: null })];
    r.accounting = notMeasured('the raw topic could not be read back');
    return r;
  },
  'complete, a broker replaced, data in the remote tier': () => {
    const r = asProfile(complete(), 'tiered');
    r.cluster.profileSource = 'scenario';
    r.topics.tiered = true;
    if (r.disk.measured) r.disk.tiered = { measured: true, remoteBytes: 40_000_000, localBytes: 50_000_000 };
    r.elasticity = [scaleOut({ phase: 'replace', action: 'replace-broker', nodes: [3], moveMs: 13_000, bytesMovedLogDirs: 115_200_000, headroom: null })];
    r.faults = [faultResult({ nodes: [2, 3] }), faultResult({ phase: 'stage-crash', action: 'enricher-kill', target: 'the enrichment stage', nodes: [], recovery: { ...faultResult().recovery, isrRestoreMs: null } })];
    return r;
  },
  'recorded, nothing measured': () => {
    const r = recorded();
    r.disk = notMeasured('DescribeLogDirs is not supported');
    r.crossZone = notMeasured('brokers report no racks');
    for (const p of r.phases) p.crossZone = notMeasured('brokers report no racks');
    r.replay = notMeasured('no replay');
    r.enrichment.counters = null;
    return r;
  },
};

function judged(r: Results) {
  // Every metric, under each operator in turn.
  const ops = ['< 1000', '<= 1', '> 0', '>= 2', '== 0', '!= 0'];
  const gates = evaluateGates(r, Object.fromEntries(GATE_METRICS.map((m, i) => [m, ops[i % ops.length]])));
  const e = evaluate(r, gates);
  return {
    scorecard: scorecard(r).map((x) => ({ id: x.id, score: x.score, owner: x.owner, evidence: x.evidence, missing: x.missing, clauses: x.clauses })),
    checklist: checklist(r),
    gates: gates.map((g) => ({ metric: g.metric, expression: g.expression, value: g.value, passed: g.passed, note: g.note ?? null })),
    passed: e.passed,
    cap: scoreCap(r) ?? null,
  };
}

describe('scorecard, checklist and gates word for word (golden)', () => {
  const now = Object.fromEntries(Object.entries(variants).map(([k, f]) => [k, judged(f())]));
  if (process.env.CLICKBENCH_UPDATE_GOLDEN) writeFileSync(GOLDEN, JSON.stringify(now, null, 1) + '\n');
  const golden = JSON.parse(readFileSync(GOLDEN, 'utf8'));
  for (const name of Object.keys(variants)) {
    it(name, () => assert.deepEqual(JSON.parse(JSON.stringify(now[name])), golden[name]));
  }
});
