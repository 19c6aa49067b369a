import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/generate/random.js';
import { fitZipfExponent, topKeyShare, ZipfSampler } from '../../src/generate/zipf.js';

function counts(n: number, s: number, samples: number, seed = 1): Float64Array {
  const z = new ZipfSampler(n, s);
  const rng = new Rng(seed);
  const c = new Float64Array(n);
  for (let i = 0; i < samples; i++) c[z.sample(rng) - 1]++;
  return c;
}

function pmf(n: number, s: number): number[] {
  const w = Array.from({ length: n }, (_, i) => (i + 1) ** -s);
  const z = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / z);
}

describe('Zipf sampler (rejection-inversion)', () => {
  for (const s of [0.7, 0.8, 1.0, 1.3]) {
    it(`1 000 000 samples over 100 000 keys fit back to s = ${s} within ±0.05`, () => {
      const fitted = fitZipfExponent(counts(100_000, s, 1_000_000, 7));
      assert.ok(Math.abs(fitted - s) <= 0.05, `fitted ${fitted.toFixed(4)} for configured ${s}`);
    });
  }

  it('matches the exact distribution on a small support (every rank within 4 standard errors)', () => {
    const n = 10;
    const samples = 400_000;
    for (const s of [0.5, 1.0, 2.0]) {
      const c = counts(n, s, samples, 3);
      pmf(n, s).forEach((p, k) => {
        const se = Math.sqrt((p * (1 - p)) / samples);
        assert.ok(Math.abs(c[k] / samples - p) < 4 * se, `s=${s} rank ${k + 1}: ${c[k] / samples} vs ${p}`);
      });
    }
  });

  it('never leaves 1..n, including n = 1', () => {
    const rng = new Rng(9);
    const one = new ZipfSampler(1, 0.9);
    for (let i = 0; i < 1000; i++) assert.equal(one.sample(rng), 1);
    const z = new ZipfSampler(50, 0.1);
    for (let i = 0; i < 100_000; i++) {
      const k = z.sample(rng);
      assert.ok(k >= 1 && k <= 50);
    }
  });

  it('top-1 % and top-20 % shares agree with the published figures for 100 000 products', () => {
    // CLICKSTREAM-FACTS: s = 0.8 → top 1 % ≈ 34 %, top 20 % ≈ 70 %; s = 1.0 → 62 % and 87 %.
    const exact = (s: number, f: number) => pmf(100_000, s).slice(0, 100_000 * f).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(exact(0.8, 0.01) - 0.34) < 0.01);
    assert.ok(Math.abs(exact(1.0, 0.01) - 0.62) < 0.01);
    const c = counts(100_000, 1.0, 1_000_000, 5);
    assert.ok(Math.abs(topKeyShare(c, 100_000, 0.01) - exact(1.0, 0.01)) < 0.01);
    // Counts in any order (by key id, not by rank): the share is of the largest counts.
    assert.equal(topKeyShare([1, 5, 2, 2, 10], 5, 0.2), 0.5);
    assert.equal(topKeyShare([1, 5, 2, 2, 10], 5, 0.4), 0.75);
    // By true rank (sorting noisy tail counts would bias the top-20 % share upwards).
    const byRank = c.slice(0, 20_000).reduce((a, b) => a + b, 0) / 1_000_000;
    assert.ok(Math.abs(byRank - exact(1.0, 0.2)) < 0.005, `top 20 %: ${byRank} vs ${exact(1.0, 0.2)}`);
  });

  it('rejects exponents and sizes it cannot sample', () => {
    assert.throws(() => new ZipfSampler(0, 1), /positive integer/);
    assert.throws(() => new ZipfSampler(10, 0), /exponent/);
  });
});

describe('Rng (sfc32 seeded through splitmix32)', () => {
  it('gives the same numbers as every earlier version: seed 42\'s first words, a bounded int, a negative seed\'s uniform', () => {
    const r = new Rng(42);
    assert.deepEqual(Array.from({ length: 5 }, () => r.nextUint32()), [1028872839, 2516511472, 400437680, 853279530, 1920286840]);
    assert.equal(new Rng(7).int(1000), 195);
    assert.equal(new Rng(-1).next(), 0.3291638479617699);
  });
});
