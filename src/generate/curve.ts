/**
 * The traffic curve: events/s at time t (ms since the run started) = base rate × curve(t) ×
 * (1 + Σ burst extras(t)). A burst holds its full multiplier over [at, at + duration], ramps up
 * linearly over `ramp_up` before, and its extra rate decays after as a power law
 * (1 + Δt / decay)^-1 (half at Δt = decay), the shape attention to a campaign follows.
 */
import type { Burst, Curve, Scenario } from '../scenario/schema.js';

export function curveFactor(curve: Curve, tMs: number, durationMs: number): number {
  switch (curve.kind) {
    case 'constant':
      return 1;
    case 'ramp': {
      const over = curve.over ?? durationMs;
      const f = over <= 0 ? 1 : Math.min(1, tMs / over);
      return curve.from + (curve.to - curve.from) * f;
    }
    case 'diurnal':
      return 1 + curve.amplitude * Math.cos((2 * Math.PI * (tMs + curve.start_at - curve.peak_at)) / curve.period);
  }
}

/** 0..1: how much of the burst's extra rate applies at t. */
export function burstShape(b: Burst, tMs: number): number {
  if (tMs < b.at - b.ramp_up) return 0;
  if (tMs < b.at) return b.ramp_up > 0 ? (tMs - (b.at - b.ramp_up)) / b.ramp_up : 1;
  const end = b.at + b.duration;
  if (tMs <= end) return 1;
  if (b.decay <= 0) return 0;
  return 1 / (1 + (tMs - end) / b.decay);
}

/** Extra multiplier of one burst at t: (multiplier − 1) × shape. */
export function burstExtra(b: Burst, tMs: number): number {
  return (b.multiplier - 1) * burstShape(b, tMs);
}

export interface RateCurve {
  /** Intended events per second at t. */
  rateAt(tMs: number): number;
  /** Expected number of events in [fromMs, toMs) (numeric integral). */
  expectedEvents(fromMs: number, toMs: number): number;
}

export function rateCurve(s: Pick<Scenario, 'traffic' | 'duration'>): RateCurve {
  const { base_rate, curve, bursts } = s.traffic;
  const rateAt = (tMs: number) => {
    let extra = 0;
    for (const b of bursts) extra += burstExtra(b, tMs);
    return base_rate * curveFactor(curve, tMs, s.duration) * (1 + extra);
  };
  return {
    rateAt,
    expectedEvents(fromMs, toMs) {
      const steps = Math.max(1, Math.ceil((toMs - fromMs) / 10));
      const dt = (toMs - fromMs) / steps;
      let sum = 0;
      for (let i = 0; i < steps; i++) sum += rateAt(fromMs + (i + 0.5) * dt) * dt;
      return sum / 1000;
    },
  };
}
