/** The settings a calibration runs at, taken from a scenario (record size from its own generator). */
import { ClickstreamGenerator } from '../generate/clickstream.js';
import type { Scenario } from '../scenario/schema.js';

/** The scenario's average raw event size (a sample of its own generator), the record size to calibrate at. */
export function averageEventBytes(s: Scenario, sample = 5_000): number {
  const gen = new ClickstreamGenerator(s, { startMs: 0, idPrefix: 'calibrate' });
  let bytes = 0;
  for (let i = 0; i < sample; i++) {
    const e = gen.next();
    bytes += e.value.length + e.key.length;
  }
  return Math.round(bytes / sample);
}

/** The scenario's first `n` events as they go on the wire (ProducerPerformance's payload file under compression). */
export function samplePayloads(s: Scenario, n = 2_000): string[] {
  const gen = new ClickstreamGenerator(s, { startMs: 0, idPrefix: 'calibrate' });
  return Array.from({ length: n }, () => gen.next().value);
}

export function calibrationSettings(s: Scenario, brokers: string[], records: number, log?: (l: string) => void) {
  return {
    compression: s.clients.compression,
    payloads: s.clients.compression === 'none' ? undefined : samplePayloads(s),
    brokers, recordBytes: averageEventBytes(s), acks: s.clients.acks, partitions: s.topics.partitions, replication: s.topics.replication,
    minInsyncReplicas: s.topics.min_insync_replicas, records, latencyRecords: Math.max(500, Math.min(5_000, Math.round(records / 40))), topicPrefix: `${s.topics.prefix ?? `cb-${s.name}`}`, log,
  };
}
