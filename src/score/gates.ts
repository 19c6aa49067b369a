/**
 * Gates: k6-style thresholds from the scenario, evaluated on results.json.
 *
 * Grammar of a gate:   <metric key>: "<op> <number>"   with op one of  <=  >=  ==  !=  <  >
 * (matched longest first). A metric that was not measured fails its gate, saying why.
 */
import { isMeasured, type FaultResult, type Results } from '../run/results.js';
import { scorecard } from './scorecard.js';
import type { GATE_METRICS } from '../scenario/schema.js';

export interface GateResult {
  metric: string;
  expression: string;
  value: number | null;
  passed: boolean;
  note?: string;
}

type Metric = (r: Results) => number | null | { notMeasured: string };

const lat = (k: 'e2e' | 'produceAck' | 'enrich', f: 'p50Ms' | 'p90Ms' | 'p99Ms' | 'p999Ms' | 'maxMs'): Metric => (r) => r.latency[k]?.[f] ?? { notMeasured: `no ${k} latency samples` };

export const METRICS: Record<(typeof GATE_METRICS)[number], Metric> = {
  'e2e.p50_ms': lat('e2e', 'p50Ms'), 'e2e.p90_ms': lat('e2e', 'p90Ms'), 'e2e.p99_ms': lat('e2e', 'p99Ms'), 'e2e.p999_ms': lat('e2e', 'p999Ms'), 'e2e.max_ms': lat('e2e', 'maxMs'),
  'produce.p99_ms': lat('produceAck', 'p99Ms'), 'produce.max_ms': lat('produceAck', 'maxMs'),
  'enrich.p99_ms': lat('enrich', 'p99Ms'), 'enrich.max_ms': lat('enrich', 'maxMs'),
  'throughput.achieved_ratio': (r) => r.throughput.achievedRatio,
  'throughput.short_seconds': (r) => r.throughput.shortSeconds,
  'replay.minutes_per_hour': (r) => (isMeasured(r.replay) ? r.replay.minutesPerHour ?? { notMeasured: 'the replay did not catch up' } : { notMeasured: r.replay.reason }),
  'replay.duration_ms': (r) => (isMeasured(r.replay) ? r.replay.durationMs ?? { notMeasured: 'the replay did not catch up' } : { notMeasured: r.replay.reason }),
  'replay.p99_degradation': (r) => (isMeasured(r.replay) ? r.replay.liveP99Degradation ?? { notMeasured: 'no live latency before or during the replay' } : { notMeasured: r.replay.reason }),
  'disk.gb_per_gb': (r) => (isMeasured(r.disk) ? r.disk.bytesPerGbIngested / 1e9 : { notMeasured: r.disk.reason }),
  'cross_zone.gb_per_tb': (r) => (isMeasured(r.crossZone) && r.throughput.payloadBytes > 0 ? (r.crossZone.total.crossZoneBytes / 1e9) / (r.throughput.payloadBytes / 1e12) : { notMeasured: isMeasured(r.crossZone) ? 'nothing was ingested' : r.crossZone.reason }),
  'cross_zone.cost_usd': (r) => (isMeasured(r.crossZone) ? r.crossZone.total.costUsd : { notMeasured: r.crossZone.reason }),
  'lag.max_records': (r) => (r.series.lag.length ? Math.max(...r.series.lag.map((l) => l.lag)) : { notMeasured: 'no lag samples' }),
  'correctness.missing': (r) => r.correctness.missing,
  'correctness.duplicates': (r) => r.correctness.duplicates,
  'correctness.pii_leaks': (r) => r.correctness.piiLeaks,
  'correctness.acked_lost': (r) => (isMeasured(r.accounting) ? r.accounting.ackedLost : { notMeasured: r.accounting?.reason ?? 'no accounting in these results' }),
  'fault.write_unavailable_max_ms': worstFault((f) => (isMeasured(f.writeUnavailability) ? f.writeUnavailability.maxMs : null), 'no broker fault measured write availability'),
  'fault.e2e_p99_ms': worstFault((f) => f.latency.during.e2e?.p99Ms ?? null, 'no end-to-end samples during a fault'),
  'fault.drain_ms': worstFault((f) => f.recovery.lag.drainMs, 'the lag did not drain back to its steady level within the run', true),
  'fault.isr_restore_ms': worstFault((f) => f.recovery.isrRestoreMs, 'the ISR was not whole again within the run', true),
  'scorecard.min_row': (r) => Math.min(...scorecard(r).map((x) => x.score)),
  'scorecard.total': (r) => scorecard(r).reduce((a, x) => a + x.score, 0),
  'table.freshness_p99_ms': (r) => (isMeasured(r.table) ? r.table.freshness.scored?.p99Ms ?? { notMeasured: 'no event reached the table in a scored phase' } : { notMeasured: r.table?.reason ?? 'the scenario has no table block' }),
  'table.missing': (r) => (isMeasured(r.table) ? r.table.missingEvents : { notMeasured: r.table?.reason ?? 'the scenario has no table block' }),
  'table.duplicates': (r) => (isMeasured(r.table) ? r.table.duplicateRows : { notMeasured: r.table?.reason ?? 'the scenario has no table block' }),
};

/** The worst (largest) figure over the run's faults; with `strict`, one fault without the figure makes it not measured. */
function worstFault(f: (x: FaultResult) => number | null, missing: string, strict = false): Metric {
  return (r) => {
    const faults = r.faults ?? [];
    if (faults.length === 0) return { notMeasured: 'the run had no fault phase' };
    const values = faults.map(f);
    if (strict && values.some((v) => v === null)) return { notMeasured: missing };
    const got = values.filter((v): v is number => v !== null);
    return got.length ? Math.max(...got) : { notMeasured: missing };
  };
}

const OPS = ['<=', '>=', '==', '!=', '<', '>'] as const;
type Op = (typeof OPS)[number];

export function parseGate(expression: string): { op: Op; threshold: number } {
  const t = expression.trim();
  const op = OPS.find((o) => t.startsWith(o));
  const rest = op ? t.slice(op.length).trim() : '';
  // Number('') is 0: an operator with no number is refused, not read as "< 0".
  const threshold = rest === '' ? NaN : Number(rest);
  if (!op || !Number.isFinite(threshold)) throw new Error(`gate "${expression}": expected "<op> <number>" with op one of ${OPS.join(' ')}`);
  return { op, threshold };
}

function compare(v: number, op: Op, t: number): boolean {
  switch (op) {
    case '<': return v < t;
    case '<=': return v <= t;
    case '>': return v > t;
    case '>=': return v >= t;
    case '==': return v === t;
    case '!=': return v !== t;
  }
}

export function evaluateGates(r: Results, gates: Record<string, string | undefined> = r.scenario.spec.gates): GateResult[] {
  return Object.entries(gates).filter((e): e is [string, string] => e[1] !== undefined).map(([metric, expression]) => {
    const m = (METRICS as Record<string, Metric | undefined>)[metric];
    if (!m) return { metric, expression, value: null, passed: false, note: `unknown metric (known: ${Object.keys(METRICS).join(', ')})` };
    const { op, threshold } = parseGate(expression);
    const v = m(r);
    if (v === null || typeof v === 'object') return { metric, expression, value: null, passed: false, note: `not measured: ${v === null ? 'no value' : v.notMeasured}` };
    return { metric, expression, value: v, passed: compare(v, op, threshold) };
  });
}
