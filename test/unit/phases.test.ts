import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PHASE_KINDS, PHASES, phaseNeeds, phaseShapeProblems } from '../../src/phases/registry.js';
import { CAPABILITIES, requirements } from '../../src/probe/probe.js';
import { parseScenario, ScenarioError } from '../../src/scenario/load.js';
import { phaseTimeline } from '../../src/phases/timeline.js';

const scenario = (phases: string) => `name: t\nduration: 60s\ntraffic: { base_rate: 10 }\nphases:\n${phases}`;
const problems = (src: string): string[] => {
  try {
    parseScenario(src, 't.yaml');
    return [];
  } catch (err) {
    assert.ok(err instanceof ScenarioError, String(err));
    return err.lines();
  }
};

describe('phase registry', () => {
  it('one entry per kind, keyed by its own kind, each with a runner and a summary', () => {
    assert.deepEqual(Object.keys(PHASES).sort(), [...PHASE_KINDS].sort());
    for (const k of PHASE_KINDS) {
      assert.equal(PHASES[k].kind, k);
      assert.ok(PHASES[k].summary.length > 10, k);
    }
    assert.deepEqual(PHASE_KINDS.filter((k) => PHASES[k].scored), ['steady', 'burst']);
  });
  it('the scenario schema accepts exactly the registry kinds', () => {
    assert.deepEqual(problems(scenario('  - { kind: steady, duration: 10s }\n  - { kind: replay, duration: 10s, lookback: 5s }\n  - { kind: rollback, duration: 10s, lookback: 5s }\n  - { kind: dual-run, duration: 10s }')), []);
    const bad = problems(scenario('  - { kind: rebalance-storm, duration: 10s }'));
    assert.equal(bad.length, 1);
    assert.match(bad[0], /phases\.0\.kind/);
  });
  it('required fields and blocks on the wrong kind, said at their paths', () => {
    assert.deepEqual(phaseShapeProblems({ kind: 'rollback' }), [{ path: ['lookback'], message: 'a rollback phase needs a lookback (how far back to reset), e.g. lookback: 30s' }]);
    assert.deepEqual(phaseShapeProblems({ kind: 'fault' }).map((p) => p.path), [['fault']]);
    assert.deepEqual(phaseShapeProblems({ kind: 'steady', elastic: {}, fault: {} }).map((p) => p.message), [
      'only fault phases take a fault block (this phase is steady)',
      'only scale-out, replace-broker and scale-in phases take an elastic block (this phase is steady)',
    ]);
    assert.deepEqual(phaseShapeProblems({ kind: 'scale-in', elastic: {} }), []);
    const lines = problems(scenario('  - { kind: steady, duration: 10s }\n  - { kind: replay, duration: 10s }'));
    assert.equal(lines.length, 1);
    assert.match(lines[0], /phases\.1\.lookback: a replay phase needs a lookback/);
  });
  it('capability needs: known probe capabilities, each once; a rollback needs offsets by time too', () => {
    for (const k of PHASE_KINDS) for (const n of PHASES[k].needs ?? []) assert.ok((CAPABILITIES as readonly string[]).includes(n.capability), `${k}: ${n.capability}`);
    assert.deepEqual(phaseNeeds(['replay', 'rollback', 'steady']).map((n) => n.capability), ['timestamp-lookup']);
    const base = { enrichment: { delivery: 'alo' as const }, clients: { acks: '1' as const } };
    assert.equal(requirements({ ...base, phases: [{ kind: 'rollback' }] }).find((r) => r.id === 'timestamp-lookup')?.why, 'the rollback phase resets offsets by time');
    assert.equal(requirements({ ...base, phases: [{ kind: 'steady' }] }).some((r) => r.id === 'timestamp-lookup'), false);
  });
  it('the timeline takes scored and elastic defaults from the registry', () => {
    const { scenario: s } = parseScenario(scenario('  - { kind: warmup, duration: 10s }\n  - { kind: burst, duration: 10s }\n  - { kind: scale-in, duration: 10s }'), 't.yaml');
    const t = phaseTimeline(s);
    assert.deepEqual(t.map((w) => [w.name, w.scored]), [['warmup', false], ['burst', true], ['scale-in', false], ['steady', true]]);
    assert.deepEqual(t[2].elastic?.nodes, 1);
  });
});
