import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { headroomSettings } from '../../src/elastic/elastic.js';
import { headroomGain, judgeStep, nextRate, summarize, type HeadroomProbe, type HeadroomSettings } from '../../src/elastic/headroom.js';
import { movedReplicas, planScaleIn, planScaleOut, type Assignment } from '../../src/elastic/plan.js';

const zone = (b: number) => ({ 1: 'a', 2: 'b', 3: 'c', 4: 'a', 5: 'b' } as Record<number, string>)[b];
/** 6 partitions, RF 3 on brokers 1–3 (every broker holds 6 replicas). */
const three = (): Assignment[] => Array.from({ length: 6 }, (_, p) => ({ topic: 't', partition: p, replicas: [1 + (p % 3), 1 + ((p + 1) % 3), 1 + ((p + 2) % 3)] }));

describe('reassignment plans (pure)', () => {
  it('scale-out 3 → 4: the new broker (zone a) evens out with broker 1 (zone a), every partition keeps one replica per zone', () => {
    const plan = planScaleOut(three(), [1, 2, 3, 4], [4], zone);
    // Broker 1 held 6 zone-a replicas; brokers 1 and 4 end with 3 each, replica order kept.
    assert.deepEqual(plan, [
      { topic: 't', partition: 0, replicas: [4, 2, 3] },
      { topic: 't', partition: 1, replicas: [2, 3, 4] },
      { topic: 't', partition: 2, replicas: [3, 4, 2] },
    ]);
    assert.deepEqual(movedReplicas(three(), plan).map((m) => `${m.broker}:${m.partition}`), ['4:0', '4:1', '4:2']);
  });

  it('scale-out without zones takes from the busiest broker', () => {
    const plan = planScaleOut(three(), [1, 2, 3, 4], [4], () => undefined);
    assert.equal(plan.length, 4);
    for (const a of plan) assert.equal(new Set(a.replicas).size, 3, 'no partition holds a broker twice');
    const load = new Map<number, number>();
    for (const a of [...three().filter((x) => !plan.some((p) => p.partition === x.partition)), ...plan]) for (const r of a.replicas) load.set(r, (load.get(r) ?? 0) + 1);
    assert.deepEqual([...load.entries()].sort((a, b) => a[0] - b[0]), [[1, 5], [2, 5], [3, 4], [4, 4]]);
  });

  it('scale-in 4 → 3: every replica leaves broker 4 for the same zone, and the plan is a no-op without it', () => {
    const after = three().map((a) => ({ ...a, replicas: a.replicas.map((r) => (r === 1 && a.partition % 2 === 0 ? 4 : r)) }));
    const plan = planScaleIn(after, [1, 2, 3, 4], [4], zone);
    assert.deepEqual(plan.map((a) => a.replicas), [[1, 2, 3], [3, 1, 2], [2, 3, 1]]);
    assert.deepEqual(planScaleIn(three(), [1, 2, 3, 4], [4], zone), []);
    assert.throws(() => planScaleIn(three(), [1, 2, 3], [3], zone), /has 3 replicas; only 2 brokers would stay/);
  });
});

describe('headroom step-load probe (pure)', () => {
  const s: HeadroomSettings = { startRate: 2000, maxRate: 64000, stepMs: 4000, p99LimitMs: 500, minAchieved: 0.95, refine: 2 };
  const step = (offeredRate: number, passed: boolean) => ({ offeredRate, passed });

  it('doubles from the start until a step fails, then bisects `refine` times between the last pass and the first failure', () => {
    assert.equal(nextRate([], s), 2000);
    assert.equal(nextRate([step(2000, true)], s), 4000);
    const run = [step(2000, true), step(4000, true), step(8000, true), step(16000, true), step(32000, false)];
    assert.equal(nextRate(run, s), 24000);
    assert.equal(nextRate([...run, step(24000, true)], s), 28000);
    assert.equal(nextRate([...run, step(24000, false)], s), 20000);
    assert.equal(nextRate([...run, step(24000, true), step(28000, false)], s), null, 'two bisections and done');
    assert.equal(nextRate(run, { ...s, refine: 0 }), null);
  });

  it('stops at max when every step passes, and halves towards 0 when the first step fails', () => {
    const all = [2000, 4000, 8000, 16000, 32000].map((r) => step(r, true));
    assert.equal(nextRate(all, s), 64000);
    assert.equal(nextRate([...all, step(64000, true)], s), null);
    assert.equal(nextRate([step(5000, true)], { ...s, maxRate: 8000 }), 8000, 'the last step is max itself, not past it');
    assert.equal(nextRate([step(2000, false)], s), 1000);
    assert.equal(nextRate([step(2000, false), step(1000, false)], s), 500);
    assert.deepEqual(summarize([step(2000, false), step(1000, false), step(500, false)].map((x) => ({ ...x, achievedRate: 0, ackP99Ms: 0, ackAvgMs: 0, why: 'x', retried: false, atOffsetMs: 0 })), s), { sustainableRate: null, atMax: false, firstFailedRate: 500 });
    assert.deepEqual(summarize([...all, step(64000, true)].map((x) => ({ ...x, achievedRate: 0, ackP99Ms: 0, ackAvgMs: 0, why: null, retried: false, atOffsetMs: 0 })), s), { sustainableRate: 64000, atMax: true, firstFailedRate: null });
  });

  it('a step passes on ≥ 95 % of the offered rate with the ack p99 within the limit', () => {
    assert.deepEqual(judgeStep(10000, 9500, 500, s), { passed: true, why: null });
    assert.deepEqual(judgeStep(10000, 9499, 100, s), { passed: false, why: 'achieved 9499 of 10000 records/s (< 95 %)' });
    assert.deepEqual(judgeStep(10000, 10000, 501, s), { passed: false, why: 'ack p99 501 ms > 500 ms' });
  });

  it('the gain compares like with like, or says why not', () => {
    const probe = (when: 'before' | 'after', sustainableRate: number | null, more: Partial<HeadroomProbe> = {}): HeadroomProbe => ({ when, startedAtOffsetMs: 0, durationMs: 0, brokers: 3, underLiveLoad: true, steps: [], sustainableRate, atMax: false, firstFailedRate: null, error: null, ...more });
    assert.deepEqual(headroomGain(probe('before', 20000), probe('after', 25000)), { gainPct: 25, gainNote: null });
    assert.deepEqual(headroomGain(probe('before', 20000), probe('after', 15000)), { gainPct: -25, gainNote: null });
    assert.match(headroomGain(probe('before', 20000), probe('after', 25000, { underLiveLoad: false })).gainNote!, /one probe ran under the scenario's load/);
    assert.match(headroomGain(probe('before', null), probe('after', 25000)).gainNote!, /sustained none/);
    assert.match(headroomGain(probe('before', 64000, { atMax: true }), probe('after', 64000, { atMax: true })).gainNote!, /raise it/);
    assert.deepEqual(headroomGain(probe('before', 20000), null), { gainPct: null, gainNote: 'no after probe' });
  });

  it('scale-out phases probe by default with the documented settings; false turns it off', () => {
    assert.deepEqual(headroomSettings({ nodes: 1, at: 0, timeout: 300_000 }), { startRate: 2000, maxRate: 64000, stepMs: 4000, p99LimitMs: 500, minAchieved: 0.95, refine: 2 });
    assert.equal(headroomSettings({ nodes: 1, at: 0, timeout: 300_000, headroom: false }), null);
    assert.deepEqual(headroomSettings({ nodes: 1, at: 0, timeout: 300_000, headroom: { start: 5000, max: 1000, step: 2000, p99_limit: 300, min_achieved: 0.9, refine: 1 } }), { startRate: 5000, maxRate: 5000, stepMs: 2000, p99LimitMs: 300, minAchieved: 0.9, refine: 1 });
  });
});
