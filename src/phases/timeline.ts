/** The phase timeline of a run, from the scenario: consecutive windows of the schedule. */
import type { Scenario } from '../scenario/schema.js';
import { PHASES, type PhaseKind } from './registry.js';

export type { PhaseKind };

export interface PhaseWindow {
  index: number;
  name: string;
  kind: PhaseKind;
  /** Offsets from the start of the schedule, ms. */
  startMs: number;
  endMs: number;
  /** Replay / rollback: how far back the enrichment group is reset, ms. */
  lookbackMs?: number;
  /** dual-run: the version run beside the main one; rollback: the version rolled back to. */
  version?: string;
  /** Counts toward the run's headline latency: steady and burst (warmup warms up; a replay has its own figures). */
  scored: boolean;
  /** fault phases: what breaks. */
  fault?: Scenario['phases'][number]['fault'];
  /** scale-out / replace-broker / scale-in phases: the change. */
  elastic?: Scenario['phases'][number]['elastic'];
}


export function phaseTimeline(s: Pick<Scenario, 'phases' | 'duration' | 'traffic'>): PhaseWindow[] {
  const out: PhaseWindow[] = [];
  let t = 0;
  const names = new Map<string, number>();
  const nameFor = (base: string) => {
    const n = (names.get(base) ?? 0) + 1;
    names.set(base, n);
    return n === 1 ? base : `${base}-${n}`;
  };
  for (const p of s.phases) {
    const duration = p.duration ?? Math.max(0, s.duration - t);
    if (duration <= 0) continue;
    out.push({ index: out.length, name: p.name ?? nameFor(p.kind), kind: p.kind, startMs: t, endMs: Math.min(s.duration, t + duration), lookbackMs: p.lookback, version: p.version, scored: PHASES[p.kind].scored, ...(p.fault ? { fault: p.fault } : {}), ...(PHASES[p.kind].block === 'elastic' ? { elastic: p.elastic ?? { nodes: 1, at: 0, timeout: 300_000 } } : {}) });
    t += duration;
    if (t >= s.duration) break;
  }
  if (t < s.duration) out.push({ index: out.length, name: out.length === 0 ? 'steady' : nameFor('steady'), kind: 'steady', startMs: t, endMs: s.duration, scored: true });
  return out;
}

export function phaseAt(phases: PhaseWindow[], offsetMs: number): PhaseWindow {
  for (const p of phases) if (offsetMs < p.endMs) return p;
  return phases[phases.length - 1];
}
