import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boundariesPassed, createRunners, RUNNERS } from '../../src/phases/runners.js';
import { PHASE_KINDS, PHASES } from '../../src/phases/registry.js';
import { phaseTimeline } from '../../src/phases/timeline.js';
import { DualRunPhases } from '../../src/phases/dual-run.js';
import { dualRunSide } from '../../src/report/markdown.js';
import { enricherRestore, FaultPhases } from '../../src/phases/fault.js';
import { RunContext } from '../../src/run/context.js';
import type { RunTarget } from '../../src/run/target.js';
import { parseScenario } from '../../src/scenario/load.js';
import { ClickbenchError } from '../../src/errors.js';

const scenario = (phases: string) => parseScenario(`name: t\nduration: 100s\ntraffic: { base_rate: 10 }\nphases:\n${phases}`, 't.yaml');
const target = (kind: 'sandbox' | 'brokers'): RunTarget => ({
  kind, brokers: ['127.0.0.1:1'], security: {} as RunTarget['security'], profile: 'apache-kafka', profileSource: 'scenario', storage: 'local', remoteStorageEnabled: false, kafkaVersion: null,
  startedByRun: false, defaultZone: 'a', zoneOf: () => 'a', release: async () => {},
});
const context = (phases: string, kind: 'sandbox' | 'brokers' = 'sandbox') => new RunContext(scenario(phases), { target: target(kind), runId: 'r-0000', reportsDir: '/nonexistent' });

describe('phase runners', () => {
  it('every runner the registry names has a module', () => {
    for (const k of PHASE_KINDS) assert.equal(typeof RUNNERS[PHASES[k].runner], 'function', k);
  });

  it('one runner per kind of runner the scenario needs, in order of first appearance; replay and rollback share one', () => {
    const ctx = context('  - { kind: warmup, duration: 10s }\n  - { kind: replay, duration: 10s, lookback: 5s }\n  - { kind: dual-run, duration: 10s }\n  - { kind: rollback, duration: 10s, lookback: 5s }\n  - { kind: fault, duration: 20s, fault: { action: broker-kill, at: 2s, down_for: 5s } }');
    assert.deepEqual([...createRunners(ctx).keys()], ['load', 'replay', 'dual-run', 'fault']);
  });

  it('a runner checks its phases against the target before anything connects (a broker fault on an external cluster needs a command)', () => {
    const phases = '  - { kind: fault, duration: 20s, fault: { action: broker-kill, at: 2s, down_for: 5s } }';
    assert.doesNotThrow(() => createRunners(context(phases, 'sandbox')));
    assert.throws(() => createRunners(context(phases, 'brokers')), (e: unknown) => e instanceof ClickbenchError && /t\.yaml: phases\[0\]\.fault\.command: a broker-kill against an external cluster/.test(e.message));
  });

  it('phase boundaries: each window that begins, and the runner that leaves when the next is another runner\'s', () => {
    const s = scenario('  - { kind: warmup, duration: 10s }\n  - { kind: steady, duration: 10s }\n  - { kind: dual-run, duration: 10s }\n  - { kind: dual-run, duration: 10s }\n  - { kind: replay, duration: 10s, lookback: 5s }').scenario;
    const phases = phaseTimeline(s);
    assert.deepEqual(boundariesPassed(phases, 0, 9_999), []);
    // Several boundaries passed at once (a slow tick): all of them, in order.
    assert.deepEqual(boundariesPassed(phases, 0, 30_000).map((b) => [b.window.name, b.leaving ?? null, b.beginning]), [['steady', null, 'load'], ['dual-run', 'load', 'dual-run'], ['dual-run-2', null, 'dual-run']]);
    assert.deepEqual(boundariesPassed(phases, 3, 45_000).map((b) => [b.window.name, b.leaving ?? null, b.beginning]), [['replay', 'dual-run', 'replay']]);
    assert.deepEqual(boundariesPassed(phases, 4, 51_000).map((b) => [b.window.name, b.leaving ?? null, b.beginning]), [['steady-2', 'replay', 'load']]);
    // The last window never ends by a boundary.
    assert.deepEqual(boundariesPassed(phases, 5, 1e9), []);
  });

  it('the context sends a latency to its phase, to the run only in scored phases, to the per-second e2e, and to every listener', () => {
    const ctx = context('  - { kind: warmup, duration: 10s }\n  - { kind: steady, duration: 10s }');
    ctx.scheduleStart = 1_000_000;
    const heard: string[] = [];
    ctx.listeners.push({ record: (kind, at, ms) => heard.push(`${kind}@${at - ctx.scheduleStart}=${ms}`) });
    ctx.record('e2e', ctx.scheduleStart + 5_000, 40); // warmup
    ctx.record('e2e', ctx.scheduleStart + 15_000, 70); // steady
    ctx.record('produceAck', ctx.scheduleStart + 15_500, 3);
    assert.equal(ctx.latency.phase[0].e2e.totalCount, 1);
    assert.equal(ctx.latency.phase[1].e2e.totalCount, 1);
    assert.equal(ctx.latency.run.e2e.totalCount, 1);
    assert.equal(ctx.latency.run.produceAck.totalCount, 1);
    assert.equal(ctx.latency.bySecond.p99(5), 40);
    assert.equal(ctx.latency.bySecond.p99(15), 70);
    assert.deepEqual(heard, ['e2e@5000=40', 'e2e@15000=70', 'produceAck@15500=3']);
  });

  it('dual-run keeps the main version\'s outputs of its window only (first seen per event)', async () => {
    const ctx = context('  - { kind: steady, duration: 10s }\n  - { kind: dual-run, duration: 10s, version: v2 }');
    ctx.scheduleStart = 1_000_000;
    const d = new DualRunPhases(ctx, ctx.phases.filter((w) => w.kind === 'dual-run'));
    assert.deepEqual(d.extraTopics(), [`${ctx.names.enriched}.v2`, `${ctx.names.dlq}.v2`]);
    d.enriched(1, '{"a":1}', ctx.scheduleStart + 9_999); // before the window
    d.enriched(2, '{"a":2}', ctx.scheduleStart + 10_000);
    d.enriched(2, '{"a":3}', ctx.scheduleStart + 10_000); // a redelivery: the first stays
    d.enriched(3, '{"a":4}', null);
    d.enriched(4, '{"a":5}', ctx.scheduleStart + 20_000); // after it
    await d.contribute();
    const { compatibility, ...counts } = ctx.results.dualRun as Exclude<typeof ctx.results.dualRun, { measured: false }>;
    assert.deepEqual(counts, { measured: true, versions: ['v1', 'v2'], compared: 0, identical: 0, differing: 0, onlyMain: 1, onlyOther: 0, fieldDiffs: {} });
    assert.equal(compatibility?.compatible, false, 'nothing compared: compatibility not shown');
  });

  it('the report says how the dual-run\'s other stage started and whether it enriched its window', () => {
    const base = { startedAtOffsetMs: 60_000, readyAfterMs: 2_400, firstOutputAfterMs: 3_060 };
    assert.equal(dualRunSide('v2', { ...base, finish: { behindAtWindowEnd: 0, waitedMs: 40, caughtUp: true, recordsLeft: 0 } }),
      "v2's stage ran 2.4 s after the phase started it (tables loaded, producer and group joined), its first output read after 3.1 s; it had enriched the window when the phase ended.");
    assert.equal(dualRunSide('v2', { ...base, finish: { behindAtWindowEnd: 4_210, waitedMs: 3_500, caughtUp: true, recordsLeft: 0 } }),
      "v2's stage ran 2.4 s after the phase started it (tables loaded, producer and group joined), its first output read after 3.1 s; when the window ended it was 4,210 records behind, and the next phase began 3.5 s later once it had caught up.");
    assert.equal(dualRunSide('v2', { ...base, readyAfterMs: 14_000, firstOutputAfterMs: null, finish: { behindAtWindowEnd: 15_000, waitedMs: 10_020, caughtUp: false, recordsLeft: 2_500 } }),
      "v2's stage ran 14.0 s after the phase started it (tables loaded, producer and group joined) and wrote nothing its probe read; when the window ended it was 15,000 records behind, and the next phase began 10.0 s later without it catching up (2,500 records left; the wait is capped at 10 s).");
    assert.equal(dualRunSide('v1', { ...base, readyAfterMs: null, firstOutputAfterMs: null, finish: null }), "v1's stage never ran.");
  });

  it('a fault keeps the latencies, retries and failed attempts of its own window', async () => {
    const ctx = context('  - { kind: steady, duration: 10s }\n  - { kind: fault, duration: 20s, fault: { action: broker-kill, at: 2s, down_for: 5s } }');
    ctx.scheduleStart = 1_000_000;
    const f = new FaultPhases(ctx, ctx.phases.filter((w) => w.kind === 'fault'));
    await f.prepare();
    f.record('e2e', ctx.scheduleStart + 13_000, 50); // not injected yet: no window
    f.produceRetried('not leader');
    const [fault] = (f as unknown as { runner: { faults: { injectedAt?: number; state: string; latency: { e2e: { totalCount: number } }; clientRetries: Record<string, number> }[] } }).runner.faults;
    fault.injectedAt = ctx.scheduleStart + 12_000;
    fault.state = 'down';
    f.record('e2e', ctx.scheduleStart + 11_000, 60); // before the injection
    f.record('e2e', ctx.scheduleStart + 13_000, 70);
    f.produceRetried('not leader');
    assert.equal(fault.latency.e2e.totalCount, 1);
    assert.deepEqual(fault.clientRetries, { 'not leader': 1 });
  });

  it('an enricher-kill is restored only while nothing replaced what it killed (a replay that began meanwhile started its own stage)', () => {
    const killedGroup = { name: 'group of generation 0' };
    const replayGroup = { name: 'group of generation 1' };
    const replayProcess = { name: 'process of generation 1' };
    assert.equal(enricherRestore(killedGroup, killedGroup), 'restart-member', 'the group is still the stage: its instance 0 again');
    assert.equal(enricherRestore(killedGroup, replayGroup), 'replaced', 'a replay started a new group: its instance 0 runs already');
    assert.equal(enricherRestore(killedGroup, undefined), 'replaced', 'the stage stopped meanwhile: nothing to restart');
    assert.equal(enricherRestore(undefined, undefined), 'start', 'the only process was killed and nothing runs: a new one');
    assert.equal(enricherRestore(undefined, replayProcess), 'replaced', 'a replay started a process meanwhile: not a second one');
  });
});
