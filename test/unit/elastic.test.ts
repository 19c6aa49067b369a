import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
