/**
 * Bounded Zipf on ranks 1..n with exponent s > 0: P(k) ∝ k^-s.
 *
 * Sampling by Hörmann & Derflinger's rejection-inversion ("Rejection-inversion to generate variates
 * from monotone discrete distributions", ACM TOMACS 6(3), 1996): O(1) memory and expected O(1)
 * time for any s, exact distribution. H(x) = (x^(1−s) − 1)/(1 − s), written with expm1/log1p so
 * that s = 1 (H = log x) needs no special case.
 */
import type { Rng } from './random.js';

/** log1p(x)/x, → 1 as x → 0. */
function helper1(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (0.5 - x * (1 / 3 - 0.25 * x));
}
/** expm1(x)/x, → 1 as x → 0. */
function helper2(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x * 0.5 * (1 + x * (1 / 3) * (1 + 0.25 * x));
}

export class ZipfSampler {
  private readonly hIntegralX1: number;
  private readonly hIntegralN: number;
  private readonly sThreshold: number;

  constructor(readonly n: number, readonly exponent: number) {
    if (!(n >= 1) || !Number.isInteger(n)) throw new Error(`Zipf n must be a positive integer, got ${n}`);
    if (!(exponent > 0)) throw new Error(`Zipf exponent must be > 0, got ${exponent}`);
    this.hIntegralX1 = this.hIntegral(1.5) - 1;
    this.hIntegralN = this.hIntegral(n + 0.5);
    this.sThreshold = 2 - this.hIntegralInverse(this.hIntegral(2.5) - this.h(2));
  }

  private h(x: number): number {
    return Math.exp(-this.exponent * Math.log(x));
  }
  private hIntegral(x: number): number {
    const logX = Math.log(x);
    return helper2((1 - this.exponent) * logX) * logX;
  }
  private hIntegralInverse(x: number): number {
    let t = x * (1 - this.exponent);
    if (t < -1) t = -1;
    return Math.exp(helper1(t) * x);
  }

  /** A rank in 1..n. */
  sample(rng: Rng): number {
    for (;;) {
      const u = this.hIntegralN + rng.next() * (this.hIntegralX1 - this.hIntegralN);
      const x = this.hIntegralInverse(u);
      let k = Math.floor(x + 0.5);
      if (k < 1) k = 1;
      else if (k > this.n) k = this.n;
      if (k - x <= this.sThreshold || u >= this.hIntegral(k + 0.5) - this.h(k)) return k;
    }
  }
}

/**
 * Maximum-likelihood Zipf exponent for counts by rank (counts[k-1] = how often rank k was seen),
 * on the support 1..counts.length: solves E_s[log k] = mean observed log k by bisection.
 */
export function fitZipfExponent(counts: ArrayLike<number>): number {
  const n = counts.length;
  let total = 0;
  let sumLog = 0;
  for (let k = 1; k <= n; k++) {
    total += counts[k - 1];
    sumLog += counts[k - 1] * Math.log(k);
  }
  if (total === 0) return NaN;
  const target = sumLog / total;
  const logs = new Float64Array(n);
  for (let k = 1; k <= n; k++) logs[k - 1] = Math.log(k);
  const meanLog = (s: number) => {
    let z = 0;
    let m = 0;
    for (let i = 0; i < n; i++) {
      const w = Math.exp(-s * logs[i]);
      z += w;
      m += w * logs[i];
    }
    return m / z;
  };
  let lo = 0;
  let hi = 6;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (meanLog(mid) > target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Share of all events taken by the most frequent `fraction` of keys (of a population of `population` keys). */
export function topKeyShare(counts: Iterable<number>, population: number, fraction: number): number {
  const sorted = [...counts].sort((a, b) => b - a);
  const total = sorted.reduce((a, b) => a + b, 0);
  const top = Math.max(1, Math.ceil(population * fraction));
  let sum = 0;
  for (let i = 0; i < top && i < sorted.length; i++) sum += sorted[i];
  return total === 0 ? 0 : sum / total;
}
