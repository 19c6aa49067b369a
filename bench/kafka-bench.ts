/**
 * clickbench's client paths against Apache Kafka's own tools, on one sandbox, side by side:
 *
 *   produce        the run's open-loop driver at a rate above what the cluster takes (its sustained
 *                  acknowledged rate) vs ProducerPerformance at the same record size, acks, partitions
 *   latency floor  the driver at a low rate and a plain consumer on the topic (intended send time →
 *                  seen), p99, vs EndToEndLatency
 *   replay         the accounting read-back (a kafkajs consumer from offset 0 to the end) vs
 *                  ConsumerPerformance
 *   memory         RSS of a steady `run` early and late (BENCH_LONG=1: at 2 and 20 minutes)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calibrate, type Calibration } from '../src/calibrate/calibrate.js';
import { averageEventBytes } from '../src/calibrate/settings.js';
import { driverRetry, OpenLoopDriver } from '../src/drive/driver.js';
import { LeaderMap } from '../src/kafka/leaders.js';
import { createTopics, topicNames, topicSpecs } from '../src/drive/topics.js';
import { ClickstreamGenerator } from '../src/generate/clickstream.js';
import { createConsumer, createKafka, createProducer } from '../src/kafka/client.js';
import { PipelineLatency, record } from '../src/observe/latency.js';
import { readBackSeqs } from '../src/observe/readback.js';
import { newRunId, runScenario } from '../src/run/run.js';
import { resolveTarget } from '../src/run/target.js';
import type { Sandbox } from '../src/sandbox/cluster.js';
import { sleep } from '../src/sandbox/process.js';
import { parseScenario } from '../src/scenario/load.js';
import type { Scenario } from '../src/scenario/schema.js';

export interface KafkaBench {
  recordBytes: number;
  calibration: Calibration;
  produce: { clickbenchPerSec: number; ratio: number };
  latency: { clickbenchP50Ms: number | null; clickbenchP99Ms: number | null; ratio: number | null };
  replay: { clickbenchPerSec: number; ratio: number };
  memory: { early: { atS: number; rssMb: number }; late: { atS: number; rssMb: number }; growthMb: number };
}

const QUICK = (rate: number, seconds: number) => parseScenario(`name: bench\nseed: 9\nduration: ${seconds}s\ntopics: { partitions: 12, replication: 3, min_insync_replicas: 2 }\ntraffic: { base_rate: ${rate} }\npopulation: { users: 20000, products: 10000, pages: 1000 }\n`, 'bench.yaml').scenario;

async function drive(sb: Sandbox, s: Scenario, prefix: string, onAck?: (events: { seq: number; intendedMs: number }[], ackMs: number) => void) {
  const kafka = createKafka({ brokers: sb.brokers, clientId: `${prefix}-producer` });
  const admin = kafka.admin();
  await admin.connect();
  const names = topicNames(prefix);
  await createTopics(admin, topicSpecs(names, s));
  // The producer and driver as `run` makes them (src/run/context.ts, src/run/run.ts): requests grouped
  // per leader, the run's retries and linger. Without the leaders the driver sends one request at a time.
  const producer = createProducer(kafka, { idempotent: true, maxInFlightRequests: 5, retry: driverRetry() });
  await producer.connect();
  const leaders = new LeaderMap(admin, () => [names.raw, ...Object.values(names.lookups)]);
  await leaders.refresh();
  const start = Date.now() + 200;
  const gen = new ClickstreamGenerator(s, { startMs: start, idPrefix: prefix });
  const driver = new OpenLoopDriver({
    producer, names, gen, startMs: start, durationMs: s.duration, partitions: s.topics.partitions, lookupPartitions: Math.min(6, s.topics.partitions),
    leaderOf: (t, p) => leaders.get(t, p), onLeadersStale: () => void leaders.refresh(), lingerMs: s.clients.linger, acks: s.clients.acks === 'all' ? -1 : 1,
    onAck: onAck ? (b) => onAck(b.events, b.ackMs) : undefined,
  });
  const t0 = Date.now();
  await driver.run();
  const elapsed = (Date.now() - Math.max(t0, start)) / 1000;
  await producer.disconnect();
  return { kafka, admin, names, driver, elapsed };
}

export async function kafkaBench(sb: Sandbox, log: (l: string) => void): Promise<KafkaBench> {
  const s0 = QUICK(1000, 10);
  const recordBytes = averageEventBytes(s0);
  const kafka = createKafka({ brokers: sb.brokers, clientId: 'bench-calibrate' });
  const admin = kafka.admin();
  await admin.connect();
  log('ProducerPerformance / ConsumerPerformance / EndToEndLatency …');
  const calibration = await calibrate(admin, {
    brokers: sb.brokers, recordBytes, acks: 'all', partitions: 12, replication: 3, minInsyncReplicas: 2, records: 300_000, latencyRecords: 2_000, topicPrefix: 'bench', log,
  });
  await admin.disconnect();

  // Produce: far above what the cluster takes, so the acknowledged rate is the sustained ceiling.
  log('clickbench driver at 200 000 events/s for 10 s …');
  const p = await drive(sb, QUICK(200_000, 10), 'bench-produce');
  const clickbenchPerSec = p.driver.stats.acked / p.elapsed;

  // Replay: the accounting read-back over what was just written.
  log('clickbench read-back of the topic …');
  const t0 = Date.now();
  const back = await readBackSeqs(p.kafka, p.admin, p.names.raw, 'bench-produce');
  const replayPerSec = back.records / ((Date.now() - t0) / 1000);
  await p.admin.deleteTopics({ topics: [...Object.values(p.names.lookups), p.names.raw, p.names.enriched, p.names.dlq] }).catch(() => {});
  await p.admin.disconnect();

  // Latency floor: 100 events/s, a plain consumer measures intended time → seen.
  log('clickbench latency floor at 100 events/s for 20 s …');
  const lat = new PipelineLatency();
  const lkafka = createKafka({ brokers: sb.brokers, clientId: 'bench-floor' });
  const ls = QUICK(100, 20);
  const lnames = topicNames('bench-floor');
  const ladmin = lkafka.admin();
  await ladmin.connect();
  await createTopics(ladmin, topicSpecs(lnames, ls));
  const consumer = createConsumer(lkafka, { groupId: 'bench-floor-reader', maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic: lnames.raw, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const m = /"intended_time":(\d+)/.exec(message.value?.toString() ?? '');
      if (m) record(lat.e2e, Date.now() - Number(m[1]));
    },
  });
  await sleep(3_000);
  const floor = await drive(sb, ls, 'bench-floor');
  await sleep(2_000);
  await consumer.disconnect();
  await floor.admin.disconnect();
  await ladmin.deleteTopics({ topics: [...Object.values(lnames.lookups), lnames.raw, lnames.enriched, lnames.dlq] }).catch(() => {});
  await ladmin.disconnect();
  const e2e = lat.summary().e2e;

  // Memory: a steady run of the whole pipeline.
  const long = process.env.BENCH_LONG === '1';
  const [early, late] = long ? [120, 1_200] : [30, 150];
  log(`memory: a steady run of ${late} s (RSS at ${early} s and ${late} s${long ? '' : '; BENCH_LONG=1 for 2 and 20 minutes'}) …`);
  const ms = parseScenario(`name: bench-memory\nseed: 4\nduration: ${late + 2}s\ntopics: { partitions: 12, replication: 3, min_insync_replicas: 2 }\ntraffic: { base_rate: 1000 }\npopulation: { users: 20000, products: 10000, pages: 1000 }\n`, 'memory.yaml');
  const target = await resolveTarget(ms.scenario, { stateDir: sb.state.stateDir });
  const rss: { atS: number; rssMb: number }[] = [];
  const t = Date.now();
  const sampler = setInterval(() => {
    const at = (Date.now() - t) / 1000;
    for (const mark of [early, late]) if (at >= mark && !rss.some((x) => x.atS === mark)) rss.push({ atS: mark, rssMb: process.memoryUsage().rss / 2 ** 20 });
  }, 500);
  await runScenario(ms, { target, runId: newRunId('bench-memory'), reportsDir: mkdtempSync(join(tmpdir(), 'bench-memory-')) });
  clearInterval(sampler);
  const e = rss.find((x) => x.atS === early) ?? { atS: early, rssMb: NaN };
  const l = rss.find((x) => x.atS === late) ?? { atS: late, rssMb: NaN };

  return {
    recordBytes, calibration,
    produce: { clickbenchPerSec, ratio: clickbenchPerSec / calibration.produce.recordsPerSec },
    latency: { clickbenchP50Ms: e2e?.p50Ms ?? null, clickbenchP99Ms: e2e?.p99Ms ?? null, ratio: e2e ? e2e.p99Ms / Math.max(1, calibration.latency.p99Ms) : null },
    replay: { clickbenchPerSec: replayPerSec, ratio: replayPerSec / calibration.consume.recordsPerSec },
    memory: { early: e, late: l, growthMb: l.rssMb - e.rssMb },
  };
}
