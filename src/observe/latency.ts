/**
 * Latency recording with HdrHistogram (hdr-histogram-js): values in whole ms, 3 significant
 * digits, up to one hour. Every latency here is measured from an event's *intended* send time
 * (open-loop), so a stall in the producer shows in full instead of being hidden.
 */
import hdr from 'hdr-histogram-js';

export type Histogram = ReturnType<typeof hdr.build>;

export function newHistogram(): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000, numberOfSignificantValueDigits: 3, useWebAssembly: false });
}

export function record(h: Histogram, ms: number): void {
  h.recordValue(ms <= 0 ? 0 : ms > 3_600_000 ? 3_600_000 : Math.round(ms));
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  meanMs: number;
}

/** The pipeline's three latencies of one phase or a whole run (null: nothing recorded). */
export interface LatencyTriple {
  produceAck: LatencySummary | null;
  enrich: LatencySummary | null;
  e2e: LatencySummary | null;
}

export function summarize(h: Histogram): LatencySummary | null {
  if (h.totalCount === 0) return null;
  return {
    count: h.totalCount,
    p50Ms: h.getValueAtPercentile(50),
    p90Ms: h.getValueAtPercentile(90),
    p99Ms: h.getValueAtPercentile(99),
    p999Ms: h.getValueAtPercentile(99.9),
    maxMs: h.maxValue,
    meanMs: Math.round(h.mean * 10) / 10,
  };
}

/** The three latencies of the pipeline, for one phase or the whole run. */
export class PipelineLatency {
  /** Intended send time → producer acknowledgement (acks=all). */
  readonly produceAck = newHistogram();
  /** Raw append → enriched append (both broker LogAppendTime). */
  readonly enrich = newHistogram();
  /** Intended send time → enriched record seen by the probe consumer. */
  readonly e2e = newHistogram();

  summary(): LatencyTriple {
    return { produceAck: summarize(this.produceAck), enrich: summarize(this.enrich), e2e: summarize(this.e2e) };
  }
}

/**
 * One histogram per second of the run (by intended time), for p99-over-time charts. Packed
 * storage and 2 significant digits: a full 3-digit histogram is ~50 KB, which over a 20-minute
 * run was most of the process's memory growth (bench: RSS early vs late); packed ones hold only
 * the buckets a second used.
 */
export class PerSecondLatency {
  private readonly seconds: Histogram[] = [];
  recordAt(second: number, ms: number): void {
    if (second < 0) return;
    let h = this.seconds[second];
    if (!h) this.seconds[second] = h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000, numberOfSignificantValueDigits: 2, bitBucketSize: 'packed', useWebAssembly: false });
    record(h, ms);
  }
  p99(second: number): number | null {
    const h = this.seconds[second];
    return h && h.totalCount > 0 ? h.getValueAtPercentile(99) : null;
  }
  get length(): number {
    return this.seconds.length;
  }
}

/** Latencies seen since the last reading, for a live "last second" p99 (exact: values kept and sorted, a second's worth). */
export class RecentLatency {
  private values: number[] = [];
  add(ms: number): void {
    if (this.values.length < 200_000) this.values.push(ms);
  }
  /** p99 (nearest rank) of the values added since the previous call, then forget them; null when none. */
  takeP99(): number | null {
    const v = this.values;
    this.values = [];
    if (v.length === 0) return null;
    v.sort((a, b) => a - b);
    return Math.round(v[Math.min(v.length - 1, Math.ceil(0.99 * v.length) - 1)]);
  }
}
