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
import { accountingResult, complete, faultResult, headroomResult, recorded, scaleOut } from './recorded.js';

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
