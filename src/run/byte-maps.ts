/** Byte counts by topic and partition (what the driver, stages and probe moved), and how two readings differ or add up. */
import type { CrossZoneResult } from '../observe/crosszone.js';
import type { MeasuredBytes } from '../observe/netflows.js';
import type { MeasuredVsModel } from './results.js';

export const copyNested = (m: Map<string, Map<number, number>>) => new Map([...m].map(([k, v]) => [k, new Map(v)]));
export function diffNested(a: Map<string, Map<number, number>>, b: Map<string, Map<number, number>>): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>();
  for (const [topic, parts] of b) {
    const d = new Map<number, number>();
    for (const [p, v] of parts) d.set(p, v - (a.get(topic)?.get(p) ?? 0));
    out.set(topic, d);
  }
  return out;
}
/** Adds b's counts into a (by outer key, then inner key: topic → partition, or role → API) and returns a. */
export function mergeNested<K>(a: Map<string, Map<K, number>>, b: Map<string, Map<K, number>>): Map<string, Map<K, number>> {
  for (const [topic, parts] of b) {
    const into = a.get(topic) ?? new Map<K, number>();
    for (const [p, v] of parts) into.set(p, (into.get(p) ?? 0) + v);
    a.set(topic, into);
  }
  return a;
}
/** All counts added up. */
export function sumNested(m: Map<string, Map<number, number>>): number {
  let t = 0;
  for (const parts of m.values()) for (const v of parts.values()) t += v;
  return t;
}
/** Every count × f (a producer's compression ratio); the same maps when f is 1. */
export function scaleFlat(m: Map<number, number>, f: number): Map<number, number> {
  return f === 1 ? m : new Map([...m].map(([p, v]) => [p, v * f]));
}
export function scaleNested(m: Map<string, Map<number, number>>, f: number): Map<string, Map<number, number>> {
  return f === 1 ? m : new Map([...m].map(([t, parts]) => [t, scaleFlat(parts, f)]));
}
export function mergeFlat(a: Map<number, number>, b: Map<number, number>): Map<number, number> {
  const out = new Map(a);
  for (const [p, v] of b) out.set(p, (out.get(p) ?? 0) + v);
  return out;
}
/** Measured bytes beside the model's, per flow, with the model's difference in % of the measurement. */
export function withModel(m: MeasuredBytes, model: CrossZoneResult | undefined): MeasuredVsModel {
  const pct = (modelled: number, measured: number) => (measured > 0 ? ((modelled - measured) / measured) * 100 : null);
  if (!model) return { ...m, model: null, diffPct: null };
  return {
    ...m,
    model: { crossZoneBytes: model.crossZoneBytes, produce: model.produce.crossZoneBytes, replication: model.replication.crossZoneBytes, consume: model.consume.crossZoneBytes },
    diffPct: {
      // The model covers the data directions (records out, replicated, fetched); request traffic is measured only.
      crossZone: pct(model.crossZoneBytes, m.crossZone.clientToBroker + m.crossZone.replication + m.crossZone.brokerToClient),
      allTraffic: pct(model.crossZoneBytes, m.crossZone.bytes),
      produce: pct(model.produce.crossZoneBytes, m.crossZone.clientToBroker),
      replication: pct(model.replication.crossZoneBytes, m.crossZone.replication),
      consume: pct(model.consume.crossZoneBytes, m.crossZone.brokerToClient),
    },
  };
}

/** An event intended between a fault's injection and the cluster being whole again. */
export function inFaultWindow(f: { injectedAt?: number; isrRestoredAt?: number }, intendedMs: number): boolean {
  return f.injectedAt !== undefined && intendedMs >= f.injectedAt && (f.isrRestoredAt === undefined || intendedMs < f.isrRestoredAt);
}
export function diffFlat(a: Map<number, number>, b: Map<number, number>): Map<number, number> {
  const d = new Map<number, number>();
  for (const [p, v] of b) d.set(p, v - (a.get(p) ?? 0));
  return d;
}
