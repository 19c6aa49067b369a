/**
 * Enrichment throughput on a sandbox, side by side in one run: a plain consume → produce
 * passthrough, the enrichment stage with at-least-once, and with exactly-once. Each round reads
 * the same pre-produced raw topic with a fresh consumer group; the time runs from the stage
 * being ready (tables loaded) until its group has committed the end of the topic.
 */
import type { Sandbox } from '../src/sandbox/cluster.js';
import { createConsumer, createKafka, createProducer, type Kafka } from '../src/kafka/client.js';
import { ClickstreamGenerator, DEFAULT_START_MS } from '../src/generate/clickstream.js';
import { fillLookups } from '../src/drive/lookups.js';
import { createTopics, topicNames, topicSpecs, type TopicNames } from '../src/drive/topics.js';
import { EnrichmentStage, FETCH_BYTES_PER_PARTITION } from '../src/enrich/stage.js';
import { parseScenario } from '../src/scenario/load.js';
import { sleep, waitUntil } from '../src/sandbox/process.js';
import { groupLag } from '../src/observe/samplers.js';

const scenario = parseScenario(`name: bench
duration: 1h
traffic: {base_rate: 1000}
topics: {partitions: 12, replication: 3, min_insync_replicas: 2}
population: {users: 20000, products: 10000}
`).scenario;

async function prepare(kafka: Kafka, prefix: string, events: number): Promise<TopicNames> {
  const names = topicNames(prefix);
  const admin = kafka.admin();
  await admin.connect();
  await createTopics(admin, [...topicSpecs(names, scenario), ...topicSpecs(topicNames(`${prefix}-pass`), scenario).slice(1, 2)]);
  await admin.disconnect();
  const gen = new ClickstreamGenerator(scenario, { startMs: DEFAULT_START_MS, idPrefix: prefix });
  const producer = createProducer(kafka, { idempotent: true });
  await producer.connect();
  await fillLookups(producer, names, gen);
  for (let sent = 0; sent < events; ) {
    const batch = [];
    for (let i = 0; i < 5_000 && sent < events; i++, sent++) {
      const e = gen.next();
      batch.push({ key: e.key, value: e.value });
    }
    await producer.send({ topic: names.raw, acks: -1, messages: batch });
  }
  await producer.disconnect();
  return names;
}

async function passthrough(kafka: Kafka, names: TopicNames, groupId: string, out: string): Promise<number> {
  const producer = createProducer(kafka, { idempotent: true });
  await producer.connect();
  // The same fetch size as the stage: the comparison is of the work per record, not of batch sizes.
  const consumer = createConsumer(kafka, { groupId, maxBytesPerPartition: FETCH_BYTES_PER_PARTITION });
  await consumer.connect();
  await consumer.subscribe({ topic: names.raw, fromBeginning: true });
  const t0 = Date.now();
  await consumer.run({
    partitionsConsumedConcurrently: 16,
    autoCommitInterval: 2_000,
    eachBatch: async ({ batch }) => {
      await producer.send({ topic: out, acks: -1, messages: batch.messages.map((m) => ({ key: m.key, value: m.value, partition: batch.partition })) });
    },
  });
  await waitUntil(async () => (await groupLag(kafka, groupId, names.raw)) === 0, 600_000, 250);
  const ms = Date.now() - t0;
  await consumer.disconnect();
  await producer.disconnect();
  return ms;
}

async function stage(kafka: Kafka, brokers: string[], names: TopicNames, groupId: string, delivery: 'eos' | 'alo', out: string): Promise<number> {
  const s = new EnrichmentStage({ brokers, names, outputTopic: out, version: 'v1', delivery, config: scenario.enrichment, groupId, transactionalId: `${groupId}.0` });
  await s.start();
  const t0 = Date.now();
  await waitUntil(async () => (await groupLag(kafka, groupId, names.raw)) === 0, 600_000, 250);
  const ms = Date.now() - t0;
  await s.stop();
  return ms;
}

export async function enrichmentBench(sb: Sandbox, events: number, rounds: number) {
  const kafka = createKafka({ brokers: sb.brokers, clientId: 'clickbench-bench' });
  const prefix = `cb-bench-${Date.now().toString(36)}`;
  const names = await prepare(kafka, prefix, events);
  const passOut = topicNames(`${prefix}-pass`).enriched;
  const times: Record<'passthrough' | 'alo' | 'eos', number[]> = { passthrough: [], alo: [], eos: [] };
  for (let r = 0; r < rounds; r++) {
    times.passthrough.push(await passthrough(kafka, names, `${prefix}.pass.${r}`, passOut));
    await sleep(500);
    times.alo.push(await stage(kafka, sb.brokers, names, `${prefix}.alo.${r}`, 'alo', names.enriched));
    await sleep(500);
    times.eos.push(await stage(kafka, sb.brokers, names, `${prefix}.eos.${r}`, 'eos', names.enriched));
    await sleep(500);
  }
  return { events, rounds, times };
}
