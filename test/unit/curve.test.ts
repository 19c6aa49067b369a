import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { burstShape, curveFactor, rateCurve } from '../../src/generate/curve.js';
import { parseScenario } from '../../src/scenario/load.js';

const burst = { kind: 'campaign' as const, at: 10_000, duration: 5_000, multiplier: 4, ramp_up: 2_000, decay: 3_000, bot_keys: 5 };

describe('traffic curve', () => {
  it('shapes a burst: linear ramp, plateau, power-law decay with the given half-life', () => {
    const cases: [number, number][] = [[7_999, 0], [8_000, 0], [9_000, 0.5], [10_000, 1], [15_000, 1], [18_000, 0.5], [24_000, 0.25]];
    for (const [t, want] of cases) assert.equal(burstShape(burst, t), want, `t=${t}`);
    assert.equal(burstShape({ ...burst, ramp_up: 0, decay: 0 }, 15_001), 0);
  });

  it('computes constant, ramp and diurnal factors', () => {
    assert.equal(curveFactor({ kind: 'constant' }, 123, 1000), 1);
    assert.ok(Math.abs(curveFactor({ kind: 'ramp', from: 0.2, to: 1, over: 10_000 }, 5_000, 60_000) - 0.6) < 1e-12);
    assert.equal(curveFactor({ kind: 'ramp', from: 0.2, to: 1, over: 10_000 }, 50_000, 60_000), 1);
    const diurnal = { kind: 'diurnal' as const, period: 86_400_000, amplitude: 0.5, peak_at: 72_000_000, start_at: 72_000_000 };
    assert.equal(curveFactor(diurnal, 0, 1), 1.5);
    assert.ok(Math.abs(curveFactor(diurnal, 43_200_000, 1) - 0.5) < 1e-12);
  });

  it('rate = base × curve × (1 + Σ extras), and its integral counts expected events', () => {
    const { scenario } = parseScenario('name: c\nduration: 30s\ntraffic:\n  base_rate: 200\n  bursts:\n    - {at: 10s, duration: 5s, multiplier: 4}\n    - {at: 12s, duration: 2s, multiplier: 2}\n');
    const c = rateCurve(scenario);
    assert.equal(c.rateAt(5_000), 200);
    assert.equal(c.rateAt(11_000), 800);
    assert.equal(c.rateAt(13_000), 1000);
    assert.ok(Math.abs(c.expectedEvents(0, 10_000) - 2000) < 1e-6);
    assert.ok(Math.abs(c.expectedEvents(10_000, 12_000) - 1600) < 1e-6);
  });
});
