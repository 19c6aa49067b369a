/** A run's verdict: the readiness rows, the checklist and the gates, from results.json alone. */
import type { Results } from '../run/results.js';
import type { GateResult } from './gates.js';
import { checklist, scorecard, type ChecklistRow, type ScoreRow } from './scorecard.js';

export interface Evaluation {
  rows: ScoreRow[];
  checklist: ChecklistRow[];
  gates: GateResult[];
  /** Every gate passed and the run completed. */
  passed: boolean;
}

export function evaluate(r: Results, gates: GateResult[]): Evaluation {
  return { rows: scorecard(r), checklist: checklist(r), gates, passed: gates.every((g) => g.passed) && r.run.status === 'completed' };
}
