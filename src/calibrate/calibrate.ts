/**
 * Calibration: Apache Kafka's own performance tools (org.apache.kafka.tools ProducerPerformance,
 * ConsumerPerformance, EndToEndLatency, from the jars the sandbox assembles) run against the same
 * cluster at the scenario's record size, acks, partitions and replication, on a scratch topic that
 * is removed afterwards. Their figures are the cluster's ceilings; a run's figures are read
 * against them ("clickbench drove X % of the measured produce ceiling").
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Codec } from '../kafka/compression.js';
import { createTopics } from '../drive/topics.js';
import type { Admin } from '../kafka/client.js';
import { PLAINTEXT, type Security } from '../kafka/security.js';
import { waitUntil } from '../sandbox/process.js';
import { openKafkaTools, producerPerformanceArgs, type KafkaTools } from '../kafka/tools.js';

export interface CalibrationSettings {
  brokers: string[];
  /** Payload bytes per record (the scenario's average event size). */
  recordBytes: number;
  acks: 'all' | '1';
  partitions: number;
  replication: number;
  minInsyncReplicas: number;
  /** Records for the produce and read ceilings. */
  records: number;
  /** Records for the latency floor (sent one at a time). */
  latencyRecords: number;
  topicPrefix: string;
  /** The producer's codec (ProducerPerformance's compression.type; default none). */
  compression?: Codec;
  /**
   * Sample events sent as ProducerPerformance's payloads (--payload-file) instead of its random
   * letters, which compress unlike real events: set whenever `compression` is not none.
   */
  payloads?: string[];
  /** How the tools connect (default PLAINTEXT). */
  security?: Security;
  log?: (line: string) => void;
}

export interface Calibration {
  measured: true;
  tool: string;
  kafkaVersion: string;
  settings: { recordBytes: number; acks: string; partitions: number; replication: number; records: number; latencyRecords: number; compression?: Codec; payloads?: string };
  produce: { recordsPerSec: number; mbPerSec: number; avgLatencyMs: number; p99LatencyMs: number; line: string };
  consume: { recordsPerSec: number; mbPerSec: number; fetchRecordsPerSec: number; rebalanceMs: number; line: string };
  latency: { avgMs: number; p50Ms: number; p99Ms: number; p999Ms: number; line: string };
  scratchTopic: string;
  scratchTopicRemoved: boolean;
  durationMs: number;
}

/** `… records sent, 70000.0 records/sec (26.70 MB/sec), 12.3 ms avg latency, 456.0 ms max latency, 1 ms 50th, 2 ms 95th, 3 ms 99th, 4 ms 99.9th.` */
export function parseProducerPerformance(out: string): Calibration['produce'] {
  const line = out.trim().split('\n').filter((l) => /records sent/.test(l)).pop() ?? '';
  const m = /records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency.*?, (\d+) ms 99th/.exec(line);
  if (!m) throw new Error(`unexpected ProducerPerformance output: ${out.trim().split('\n').pop()}`);
  return { recordsPerSec: Number(m[1]), mbPerSec: Number(m[2]), avgLatencyMs: Number(m[3]), p99LatencyMs: Number(m[4]), line };
}

/** CSV: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec */
export function parseConsumerPerformance(out: string): Calibration['consume'] {
  const lines = out.trim().split('\n');
  const h = lines.findIndex((l) => /data\.consumed\.in\.nMsg/.test(l));
  if (h < 0 || !lines[h + 1]) throw new Error(`unexpected ConsumerPerformance output: ${lines.pop()}`);
  const head = lines[h].split(',').map((x) => x.trim());
  const row = lines[h + 1].split(',').map((x) => x.trim());
  const v = (k: string) => Number(row[head.indexOf(k)]);
  return { recordsPerSec: v('nMsg.sec'), mbPerSec: v('MB.sec'), fetchRecordsPerSec: v('fetch.nMsg.sec'), rebalanceMs: v('rebalance.time.ms'), line: lines[h + 1] };
}

/** `Avg latency: 1.2345 ms` and `Percentiles: 50th = 1, 99th = 7, 99.9th = 14` */
export function parseEndToEndLatency(out: string): Calibration['latency'] {
  const avg = /Avg latency: ([\d.]+) ms/.exec(out);
  const p = /Percentiles: 50th = (\d+), 99th = (\d+), 99\.9th = (\d+)/.exec(out);
  if (!avg || !p) throw new Error(`unexpected EndToEndLatency output: ${out.trim().split('\n').pop()}`);
  return { avgMs: Number(avg[1]), p50Ms: Number(p[1]), p99Ms: Number(p[2]), p999Ms: Number(p[3]), line: `${avg[0]}; ${p[0]}` };
}

/** Writes the payloads (one per line) into the tools' scratch folder; undefined when there are none. */
function payloadFile(dir: string, payloads: string[] | undefined): string | undefined {
  if (!payloads?.length) return undefined;
  const file = join(dir, 'payloads.txt');
  writeFileSync(file, payloads.join('\n') + '\n');
  return file;
}

export async function calibrate(admin: Admin, c: CalibrationSettings): Promise<Calibration> {
  const t0 = Date.now();
  const tools = await openKafkaTools(c.security ?? PLAINTEXT, c.log);
  const topic = `${c.topicPrefix}.calibrate-${randomBytes(3).toString('hex')}`;
  const java = tools.run;
  const bootstrap = c.brokers.join(',');
  let removed = false;
  try {
    await createTopics(admin, [{ topic, numPartitions: c.partitions, replicationFactor: c.replication, configEntries: [{ name: 'min.insync.replicas', value: String(c.minInsyncReplicas) }] }]);
    c.log?.(`calibrate: ProducerPerformance, ${c.records} records of ${c.recordBytes} B, acks=${c.acks}, ${c.partitions} partitions, RF ${c.replication}`);
    const produce = parseProducerPerformance(await java('ProducerPerformance', producerPerformanceArgs({ topic, records: c.records, recordBytes: c.recordBytes, throughput: -1, bootstrap: c.brokers, acks: c.acks, compression: c.compression, payloadFile: payloadFile(tools.dir, c.payloads) }), 600_000));
    c.log?.(`calibrate: ConsumerPerformance, reading the ${c.records} records back`);
    const consume = parseConsumerPerformance(await java('ConsumerPerformance', [
      '--bootstrap-server', bootstrap, '--topic', topic, '--messages', String(c.records), '--timeout', '60000', '--group', `${topic}.reader`,
    ], 300_000));
    c.log?.(`calibrate: EndToEndLatency, ${c.latencyRecords} records one at a time`);
    const latency = await endToEndLatency(tools, c, topic);
    return {
      measured: true, tool: 'org.apache.kafka.tools (ProducerPerformance, ConsumerPerformance, EndToEndLatency)', kafkaVersion: tools.kafkaVersion,
      settings: { recordBytes: c.recordBytes, acks: c.acks, partitions: c.partitions, replication: c.replication, records: c.records, latencyRecords: c.latencyRecords, compression: c.compression ?? 'none', payloads: c.payloads ? `${c.payloads.length} sample events of the scenario` : 'random letters (--record-size)' },
      produce, consume, latency, scratchTopic: topic, scratchTopicRemoved: false, durationMs: 0,
    } satisfies Calibration;
  } finally {
    let why = '';
    await admin.deleteTopics({ topics: [topic], timeout: 30_000 }).then(() => (removed = true)).catch((e) => (why = `: ${(e as Error).message}`));
    await admin.deleteGroups([`${topic}.reader`]).catch(() => {});
    tools.close();
    c.log?.(`calibrate: scratch topic ${topic} ${removed ? 'removed' : `could NOT be removed${why}`} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
}

/** Kafka's EndToEndLatency on `topic`: latencyRecords records of recordBytes, one at a time, with the settings' acks. */
export async function endToEndLatency(tools: KafkaTools, c: Pick<CalibrationSettings, 'brokers' | 'acks' | 'recordBytes' | 'latencyRecords'>, topic: string): Promise<Calibration['latency']> {
  return parseEndToEndLatency(await tools.run('EndToEndLatency', [
    '--bootstrap-server', c.brokers.join(','), '--topic', topic, '--num-records', String(c.latencyRecords), '--producer-acks', c.acks, '--record-size', String(c.recordBytes),
  ], 300_000));
}

/** Finish a calibration record after its scratch topic is gone (removal happens in `finally`). */
export async function sealCalibration(c: Calibration, admin: Admin, startedMs: number): Promise<Calibration> {
  // The broker answering may not have applied the deletion yet: look again for up to 10 s.
  const removed = await waitUntil(async () => !(await admin.listTopics()).includes(c.scratchTopic), 10_000, 250);
  return { ...c, scratchTopicRemoved: removed, durationMs: Date.now() - startedMs };
}
