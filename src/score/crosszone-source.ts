/**
 * Where each cross-zone figure comes from. A phase's figure is
 *   measured — kernel TCP counters per connection (the sandbox: every byte on loopback attributed to a flow), or
 *   measured — a flow-log / billing export the scenario or `report --cross-zone-file` named (covering ≥ 95 % of the phase), or
 *   modelled — the topology model only (leaders, replicas, racks × the bytes the clients counted).
 * Only measured figures earn the cloud-networking row its 2.
 */
import { flowLogWindow, FLOW_LOG_MIN_COVERAGE, type FlowLogRow } from '../observe/flowlog.js';
import { isMeasured, type PhaseResult, type Results } from '../run/results.js';

export type CrossZoneSource = 'kernel counters' | 'flow log' | 'modelled' | 'none';

export interface PhaseCrossZone {
  source: CrossZoneSource;
  /** Cross-zone bytes by that source (null: none). */
  crossZoneBytes: number | null;
  /** Why the figure is not measured (when it is not). */
  note?: string;
}

/** The traffic kinds whose cross-zone bytes the cloud-networking row asks for, and the phase kinds that carry each. */
export const TRAFFIC_KINDS: readonly { label: string; kinds: readonly string[] }[] = [
  { label: 'normal', kinds: ['steady'] },
  { label: 'burst', kinds: ['burst'] },
  { label: 'dual-run', kinds: ['dual-run'] },
  { label: 'replay', kinds: ['replay', 'rollback'] },
];

/** Each phase of the given kinds with its figure, split by source: measured (kernel counters or a flow log) and modelled. */
export function trafficFigures(r: Results, kinds: readonly string[]) {
  const figures = r.phases.filter((p) => kinds.includes(p.kind)).map((p) => ({ p, f: phaseCrossZone(r, p) }));
  return {
    figures,
    measured: figures.filter(({ f }) => f.source === 'kernel counters' || f.source === 'flow log'),
    modelled: figures.filter(({ f }) => f.source === 'modelled'),
  };
}

/**
 * Endpoint traffic (a private endpoint or NAT gateway between the clients and the brokers, priced per
 * GB): named when the scenario prices it (0 = the clients connect directly) or the target is the
 * sandbox (loopback, no endpoint). Its bytes are those the clients counted (produce + consume), over the run.
 */
export function endpointTraffic(r: Results): { named: boolean; text: string; bytes: number | null; usd: number | null } {
  const price = r.scenario.spec.price?.endpoint_per_gb;
  if (r.cluster.target === 'sandbox') return { named: true, text: 'not applicable: the sandbox\'s clients reach the brokers directly on loopback', bytes: null, usd: null };
  if (price === undefined) return { named: false, text: 'not named: the scenario does not say whether the clients reach the brokers through a private endpoint or NAT gateway', bytes: null, usd: null };
  if (price === 0) return { named: true, text: 'none: price.endpoint_per_gb is 0 (the clients connect to the brokers directly)', bytes: 0, usd: 0 };
  if (!isMeasured(r.crossZone)) return { named: true, text: `priced at $${price}/GB, but the clients' bytes were not counted (${r.crossZone.reason})`, bytes: null, usd: null };
  const t = r.crossZone.total;
  const bytes = t.produce.bytes + t.consume.bytes;
  return { named: true, text: `${(bytes / 1e6).toFixed(1)} MB between the clients and the brokers (produce ${(t.produce.bytes / 1e6).toFixed(1)}, consume ${(t.consume.bytes / 1e6).toFixed(1)} MB, counted by the clients) × $${price}/GB`, bytes, usd: (bytes / 1e9) * price };
}

export function phaseCrossZone(r: Results, p: PhaseResult): PhaseCrossZone {
  if (p.crossZoneMeasured && isMeasured(p.crossZoneMeasured)) return { source: 'kernel counters', crossZoneBytes: p.crossZoneMeasured.crossZone.bytes };
  const file = r.crossZoneFile && isMeasured(r.crossZoneFile) ? r.crossZoneFile : undefined;
  const w = file?.phases[p.name];
  if (w && w.coverage >= FLOW_LOG_MIN_COVERAGE) return { source: 'flow log', crossZoneBytes: w.crossZoneBytes };
  const why = [
    p.crossZoneMeasured?.measured === false ? p.crossZoneMeasured.reason : 'no kernel counters in these results',
    w ? `the flow log covers ${(w.coverage * 100).toFixed(0)} % of the phase (needs ${FLOW_LOG_MIN_COVERAGE * 100} %)` : r.crossZoneFile?.measured === false ? `flow log: ${r.crossZoneFile.reason}` : 'no flow log named (measured_cross_zone)',
  ].join('; ');
  if (isMeasured(p.crossZone)) return { source: 'modelled', crossZoneBytes: p.crossZone.crossZoneBytes, note: why };
  return { source: 'none', crossZoneBytes: null, note: why };
}

/** The results with a flow log's bytes per phase (pure: the rows are read by the caller). */
export function withFlowLog(r: Results, rows: readonly FlowLogRow[], file: string): Results {
  const t0 = r.run.scheduleStartMs;
  if (t0 === undefined) return { ...r, crossZoneFile: { measured: false, reason: 'these results do not say when the schedule started (written before schema 2), so the flow log cannot be aligned with the phases' } };
  const phases = Object.fromEntries(r.phases.map((p) => [p.name, flowLogWindow(rows, t0 + p.startOffsetMs, t0 + p.endOffsetMs)]));
  const end = Math.max(0, ...r.phases.map((p) => p.endOffsetMs));
  return {
    ...r,
    crossZoneFile: {
      measured: true, file, rows: rows.length, phases, total: flowLogWindow(rows, t0, t0 + end),
      method: `rows of ${file} (bytes per zone pair and interval) summed per phase, each pro-rated by its overlap with the phase's wall-clock window; a phase counts as measured when the rows cover ≥ ${FLOW_LOG_MIN_COVERAGE * 100} % of it`,
    },
  };
}
