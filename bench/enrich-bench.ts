/**
 * Enrichment throughput on a sandbox, side by side in one run: a plain consume → produce
 * passthrough, the enrichment stage with at-least-once, and with exactly-once. Each round reads
 * the same pre-produced raw topic with a fresh consumer group; the time runs from the stage
 * being ready (tables loaded) until its group has committed the end of the topic (at-least-once: its
 * produced offsets committed at each check, not on its 2 s timer). Beside the time,
 * the CPU each round cost: the brokers' (from /proc, their JVMs) and this process's, per event — on a
 * 2-core machine the sum is what bounds the rate. In a process of its own (`node enrich-bench.js
 * <sandbox state dir> <events> <rounds>`), as `run` starts the stage: in the bench's process the heap of
 * the generator sections before it cost the stage ~52 µs of CPU per event against 37–45 alone.
 */
import { Sandbox } from '../src/sandbox/cluster.js';
import { createConsumer, createKafka, createProducer, type Kafka } from '../src/kafka/client.js';
import { ClickstreamGenerator, DEFAULT_START_MS } from '../src/generate/clickstream.js';
import { fillLookups } from '../src/drive/lookups.js';
import { createTopics, deleteTopicsWithPrefix, topicNames, topicSpecs, type TopicNames } from '../src/drive/topics.js';
import { EnrichmentStage, FETCH_BYTES_PER_PARTITION } from '../src/enrich/stage.js';
import { cutRequests } from '../src/enrich/requests.js';
import type { Message } from 'kafkajs';
import { parseScenario } from '../src/scenario/load.js';
import { sleep, waitUntil } from '../src/sandbox/process.js';
import { groupLag } from '../src/observe/samplers.js';
import { readBrokerCpu, selfCpuSeconds } from '../src/observe/cost.js';

type Mode = 'passthrough' | 'alo' | 'eos';

/** One round's time (ms) and CPU (µs per event: the brokers', this process's). */
async function measured(sb: Sandbox, events: number, round: () => Promise<number>): Promise<{ ms: number; brokerUs?: number; clientUs: number }> {
  const brokers = () => {
    const r = readBrokerCpu(sb.state.nodes);
    return Object.keys(r).length === sb.state.nodes.length ? Object.values(r).reduce((a, b) => a + b, 0) : undefined;
  };
  const b0 = brokers();
  const c0 = selfCpuSeconds();
  const ms = await round();
  const b1 = brokers();
  return { ms, brokerUs: b0 !== undefined && b1 !== undefined ? ((b1 - b0) / events) * 1e6 : undefined, clientUs: ((selfCpuSeconds() - c0) / events) * 1e6 };
}

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
      // Cut as the stage cuts its output (one partition per request, ≤ 512 KB): a whole 1 MiB fetch re-sent
      // as one record batch can pass the broker's 1 MB limit (message.max.bytes) and be refused.
      const requests: { topic: string; messages: Message[] }[] = [];
      cutRequests(out, batch.messages.map((m) => ({ key: m.key, value: m.value, partition: batch.partition })), requests);
      for (const r of requests) await producer.send({ ...r, acks: -1 });
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
  // At-least-once commits what it produced every ALO_COMMIT_INTERVAL_MS (2 s): waiting for that timer, a round's
  // time was its work plus 0–2 s of the timer's phase (rounds of the same code read ~4.1 or ~6.3 s). Committed
  // before each check here, the time is when everything was produced and acknowledged, as the passthrough's
  // (kafkajs commits after each of its batches) and exactly-once's (offsets in each transaction).
  await waitUntil(async () => {
    if (delivery === 'alo') await s.commitProduced();
    return (await groupLag(kafka, groupId, names.raw)) === 0;
  }, 600_000, 250);
  const ms = Date.now() - t0;
  await s.stop();
  return ms;
}

/**
 * The bench's topics and groups, removed when the rounds end: left on the sandbox (16 topics after two
 * benches), they made the brokers' work on every later topic slower, and the latency floor measured after
 * this section read p99 71–427 ms against 21–28 ms with them removed (same sandbox, 2026-12-04).
 */
async function removeBenchTopics(kafka: Kafka, prefix: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await deleteTopicsWithPrefix(admin, prefix);
    await deleteTopicsWithPrefix(admin, `${prefix}-pass`);
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(`${prefix}.`));
    if (groups.length) await admin.deleteGroups(groups).catch(() => {});
  } finally {
    await admin.disconnect();
  }
}

/** The rounds' modes, each round in this order (BENCH_ENRICH_MODES=eos,passthrough for some of them). */
const modes = (process.env.BENCH_ENRICH_MODES ?? 'passthrough,alo,eos').split(',') as Mode[];

export async function enrichmentBench(sb: Sandbox, events: number, rounds: number) {
  const kafka = createKafka({ brokers: sb.brokers, clientId: 'clickbench-bench' });
  const prefix = `cb-bench-${Date.now().toString(36)}`;
  const names = await prepare(kafka, prefix, events);
  const passOut = topicNames(`${prefix}-pass`).enriched;
  const times: Record<Mode, number[]> = { passthrough: [], alo: [], eos: [] };
  const brokerUs: Record<Mode, number[]> = { passthrough: [], alo: [], eos: [] };
  const clientUs: Record<Mode, number[]> = { passthrough: [], alo: [], eos: [] };
  const run = async (mode: Mode, round: () => Promise<number>) => {
    const m = await measured(sb, events, round);
    times[mode].push(m.ms);
    if (m.brokerUs !== undefined) brokerUs[mode].push(m.brokerUs);
    clientUs[mode].push(m.clientUs);
    await sleep(500);
  };
  try {
    for (let r = 0; r < rounds; r++) {
      if (modes.includes('passthrough')) await run('passthrough', () => passthrough(kafka, names, `${prefix}.pass.${r}`, passOut));
      if (modes.includes('alo')) await run('alo', () => stage(kafka, sb.brokers, names, `${prefix}.alo.${r}`, 'alo', names.enriched));
      if (modes.includes('eos')) await run('eos', () => stage(kafka, sb.brokers, names, `${prefix}.eos.${r}`, 'eos', names.enriched));
    }
  } finally {
    await removeBenchTopics(kafka, prefix);
  }
  return { events, rounds, times, brokerUs, clientUs };
}

/** `node enrich-bench.js <sandbox state dir> <events> <rounds>`: the rounds, one JSON line on stdout. */
if (process.argv[1]?.endsWith('enrich-bench.js')) {
  const sb = Sandbox.load(process.argv[2]);
  if (!sb) throw new Error(`no sandbox in ${process.argv[2]}`);
  void enrichmentBench(sb, Number(process.argv[3]), Number(process.argv[4])).then(
    (r) => {
      process.stdout.write(`${JSON.stringify({ enrichment: r })}\n`);
      process.exit(0);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
