/**
 * Headroom: the produce rate the cluster sustains, by a short step-load probe, before a scale-out
 * and again once the new brokers lead partitions, so "add capacity for a burst" has a number.
 *
 * The probe is Apache Kafka's ProducerPerformance (a JVM client that outruns kafkajs on this
 * machine kind, so the cluster rather than the load generator is what gives out), run once per
 * step at a fixed offered rate for a few seconds against a scratch topic shaped like the raw topic
 * (partitions, replication, min ISR, acks=all, the scenario's record size), created fresh for each
 * probe so its replicas spread over the brokers there are at that moment. The scenario's own load
 * keeps running meanwhile: the headroom is what is left above it.
 *
 * Steps double from `start` until one fails (the achieved rate under `min_achieved` × offered, or
 * the ack p99 over `p99_limit`), then bisect between the last passed and the first failed rate
 * `refine` times. A failed step is offered once more before it counts as failed (one JVM start,
 * a cold broker or a neighbour's burst can spoil 4 s); the sustainable rate is the highest passed step.
 */
import { randomBytes } from 'node:crypto';
import { parseProducerPerformance } from '../calibrate/calibrate.js';
import type { Admin } from '../kafka/client.js';
import { producerPerformanceArgs, type KafkaTools } from '../kafka/tools.js';
import { createTopics } from '../drive/topics.js';

export interface HeadroomSettings {
  startRate: number;
  maxRate: number;
  stepMs: number;
  p99LimitMs: number;
  minAchieved: number;
  refine: number;
}

export interface HeadroomStep {
  offeredRate: number;
  achievedRate: number | null;
  ackP99Ms: number | null;
  ackAvgMs: number | null;
  passed: boolean;
  /** Why the step failed (null when it passed). */
  why: string | null;
  /** The step failed once and was offered again (the figures are the second try's). */
  retried: boolean;
  atOffsetMs: number;
}

export interface HeadroomProbe {
  when: 'before' | 'after';
  startedAtOffsetMs: number;
  durationMs: number;
  brokers: number;
  /** Whether the scenario's load was running for the whole probe. */
  underLiveLoad: boolean;
  steps: HeadroomStep[];
  /** Highest passed offered rate (records/s); null when even the lowest step failed. */
  sustainableRate: number | null;
  /** True when every step up to max passed: the sustainable rate is a lower bound. */
  atMax: boolean;
  firstFailedRate: number | null;
  error: string | null;
}

export interface Headroom {
  settings: HeadroomSettings & { recordBytes: number; partitions: number; replication: number; tool: string };
  before: HeadroomProbe | null;
  after: HeadroomProbe | null;
  /** (after − before) / before, %; null with gainNote when the probes cannot be compared. */
  gainPct: number | null;
  gainNote: string | null;
}

/** A step passes when it achieved at least minAchieved × offered with an ack p99 within the limit. */
export function judgeStep(offered: number, achieved: number, p99Ms: number, s: HeadroomSettings): { passed: boolean; why: string | null } {
  if (achieved < s.minAchieved * offered) return { passed: false, why: `achieved ${Math.round(achieved)} of ${offered} records/s (< ${Math.round(s.minAchieved * 100)} %)` };
  if (p99Ms > s.p99LimitMs) return { passed: false, why: `ack p99 ${p99Ms} ms > ${s.p99LimitMs} ms` };
  return { passed: true, why: null };
}

const roundRate = (r: number) => (r >= 1000 ? Math.round(r / 100) * 100 : Math.max(1, Math.round(r / 10) * 10));

/** The next offered rate after these steps, or null when the probe is done. */
export function nextRate(steps: Pick<HeadroomStep, 'offeredRate' | 'passed'>[], s: HeadroomSettings): number | null {
  if (!steps.length) return Math.min(s.startRate, s.maxRate);
  const passed = steps.filter((x) => x.passed).map((x) => x.offeredRate);
  const failed = steps.filter((x) => !x.passed).map((x) => x.offeredRate);
  const lo = passed.length ? Math.max(...passed) : 0;
  if (!failed.length) {
    if (lo >= s.maxRate) return null;
    return Math.min(s.maxRate, lo * 2);
  }
  const hi = Math.min(...failed);
  const firstFail = steps.findIndex((x) => !x.passed);
  const refinements = steps.length - 1 - firstFail;
  if (refinements >= s.refine) return null;
  const mid = roundRate((lo + hi) / 2);
  if (mid <= lo || mid >= hi) return null;
  return mid;
}

export function summarize(steps: HeadroomStep[], s: HeadroomSettings): Pick<HeadroomProbe, 'sustainableRate' | 'atMax' | 'firstFailedRate'> {
  const passed = steps.filter((x) => x.passed).map((x) => x.offeredRate);
  const failed = steps.filter((x) => !x.passed).map((x) => x.offeredRate);
  const sustainableRate = passed.length ? Math.max(...passed) : null;
  return { sustainableRate, atMax: !failed.length && sustainableRate !== null && sustainableRate >= s.maxRate, firstFailedRate: failed.length ? Math.min(...failed) : null };
}

/** Gain between two probes, or why there is none. */
export function headroomGain(before: HeadroomProbe | null, after: HeadroomProbe | null): { gainPct: number | null; gainNote: string | null } {
  if (!before || !after) return { gainPct: null, gainNote: `no ${before ? 'after' : 'before'} probe` };
  if (before.error || after.error) return { gainPct: null, gainNote: `a probe failed: ${before.error ?? after.error}` };
  if (before.underLiveLoad !== after.underLiveLoad) return { gainPct: null, gainNote: 'one probe ran under the scenario\'s load and the other did not (lengthen the phase so both do)' };
  if (before.sustainableRate === null || after.sustainableRate === null) return { gainPct: null, gainNote: 'a probe sustained none of its steps (lower headroom.start)' };
  if (before.atMax && after.atMax) return { gainPct: null, gainNote: 'both probes sustained headroom.max: raise it to find the limit' };
  return { gainPct: ((after.sustainableRate - before.sustainableRate) / before.sustainableRate) * 100, gainNote: before.atMax ? 'the before probe reached headroom.max (a lower bound)' : null };
}

export interface ProbeContext {
  admin: Admin;
  tools: KafkaTools;
  bootstrap: string[];
  topicPrefix: string;
  recordBytes: number;
  partitions: number;
  replication: number;
  minInsyncReplicas: number;
  settings: HeadroomSettings;
  offsetOf: (ms: number) => number;
  loadRunning: () => boolean;
  brokerCount: () => Promise<number>;
  log: (line: string) => void;
}

async function runStep(c: ProbeContext, topic: string, rate: number): Promise<HeadroomStep> {
  const at = Date.now();
  // One more second of records, sent first and left out of the figures (--warmup-records): a fresh JVM's
  // connections, metadata and TLS/SASL handshakes would otherwise count against the rate offered (on a
  // busy 2-core sandbox they cost a 4 s step of 250 records/s a third of its rate).
  const warmupRecords = Math.max(1, Math.round(rate));
  const records = Math.max(1, Math.round((rate * c.settings.stepMs) / 1000)) + warmupRecords;
  try {
    const out = await c.tools.run('ProducerPerformance', producerPerformanceArgs({ topic, records, recordBytes: c.recordBytes, throughput: rate, bootstrap: c.bootstrap, acks: 'all', warmupRecords }), c.settings.stepMs * 3 + 20_000);
    const p = parseProducerPerformance(out);
    return { offeredRate: rate, achievedRate: p.recordsPerSec, ackP99Ms: p.p99LatencyMs, ackAvgMs: p.avgLatencyMs, ...judgeStep(rate, p.recordsPerSec, p.p99LatencyMs, c.settings), retried: false, atOffsetMs: c.offsetOf(at) };
  } catch (err) {
    return { offeredRate: rate, achievedRate: null, ackP99Ms: null, ackAvgMs: null, passed: false, why: (err as Error).message.slice(0, 200), retried: false, atOffsetMs: c.offsetOf(at) };
  }
}

/** One step-load probe on a fresh scratch topic (removed afterwards). */
export async function probeHeadroom(c: ProbeContext, when: 'before' | 'after'): Promise<HeadroomProbe> {
  const t0 = Date.now();
  const probe: HeadroomProbe = { when, startedAtOffsetMs: c.offsetOf(t0), durationMs: 0, brokers: await c.brokerCount(), underLiveLoad: c.loadRunning(), steps: [], sustainableRate: null, atMax: false, firstFailedRate: null, error: null };
  const topic = `${c.topicPrefix}.headroom-${when}-${randomBytes(3).toString('hex')}`;
  try {
    await createTopics(c.admin, [{ topic, numPartitions: c.partitions, replicationFactor: c.replication, configEntries: [{ name: 'min.insync.replicas', value: String(c.minInsyncReplicas) }] }]);
    for (let rate = nextRate([], c.settings); rate !== null; rate = nextRate(probe.steps, c.settings)) {
      let step = await runStep(c, topic, rate);
      if (!step.passed) {
        c.log(`headroom ${when}: ${rate} records/s not sustained (${step.why}); offering it once more`);
        step = { ...(await runStep(c, topic, rate)), retried: true };
      }
      probe.steps.push(step);
      c.log(`headroom ${when}: ${rate} records/s offered → ${step.achievedRate === null ? 'no result' : `${Math.round(step.achievedRate)}/s${step.achievedRate > 1.1 * rate ? ' (above the offered rate: after its warm-up records the tool caught up with its schedule)' : ''}, ack p99 ${step.ackP99Ms} ms`} ${step.passed ? 'sustained' : `NOT sustained (${step.why})`}`);
    }
    Object.assign(probe, summarize(probe.steps, c.settings));
  } catch (err) {
    probe.error = (err as Error).message;
  } finally {
    await c.admin.deleteTopics({ topics: [topic], timeout: 30_000 }).catch(() => {});
    probe.underLiveLoad &&= c.loadRunning();
    probe.durationMs = Date.now() - t0;
  }
  return probe;
}
