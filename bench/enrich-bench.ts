/**
 * Enrichment throughput on a sandbox, side by side in one run: a plain consume → produce
 * passthrough, the enrichment stage with at-least-once, and with exactly-once. Each round reads
 * the same pre-produced raw topic with a fresh consumer group; its rate is timed between 20 % and 90 % of
 * the events written (see `measured`); the round runs until its group has committed the end of the topic
 * (at-least-once: its produced offsets committed at each check, not on its 2 s timer), and the time from its
 * consumer's join to that end, and the whole round's, are kept beside it. Beside the time,
 * the CPU each round cost: the brokers' (from /proc, their JVMs) and this process's, per event — on a
 * 2-core machine the sum is what bounds the rate. One warm-up round of every mode runs first and is not
 * kept. In a process of its own (`node enrich-bench.js <sandbox state dir> <events> <rounds>`), as `run`
 * starts the stage: in the bench's process the heap of the generator sections before it cost the stage
 * ~52 µs of CPU per event against 37–45 alone.
 * BENCH_ENRICH_CODEC (none, lz4, …; default none) is the codec of every producer of the rounds: the raw topic's
 * fill, the passthrough's, the stage's output.
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
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { sampleLag } from '../src/observe/samplers.js';
import { readBrokerCpu, selfCpuSeconds } from '../src/observe/cost.js';
import { CODEC_TYPE, CODECS, type Codec } from '../src/kafka/compression.js';

/** The codec of every producer of the rounds (the raw topic's fill, the passthrough's, the stage's): BENCH_ENRICH_CODEC, default none. */
const codec = (process.env.BENCH_ENRICH_CODEC ?? 'none') as Codec;
if (!CODECS.includes(codec)) throw new Error(`BENCH_ENRICH_CODEC=${codec}: one of ${CODECS.join(', ')}`);

type Mode = 'passthrough' | 'alo' | 'eos';

/** What a round started: its stop, a step before each check of whether it is done, and when its consumer first joined its group. */
interface Started {
  stop: () => Promise<void>;
  beforeCheck?: () => Promise<void>;
  joinedAt: () => number | undefined;
  /** The transactions (exactly-once) or produce rounds (at-least-once) the stage committed so far. */
  commits?: () => number;
}

/**
 * How busy this process was over a round's join → last commit: the share of the time its event loop was
 * running (not waiting for I/O or timers), and its CPU in cores (every thread: the collector's helpers, libuv's).
 * A stage whose loop is busy ~0.95 of the time is bound by its own thread's CPU, not by waiting on Kafka.
 */
interface Busy {
  loop: number;
  cores: number;
}

/** The window of a round that is timed: from when its outputs passed STEADY_FROM of the events to STEADY_TO. */
const STEADY_FROM = 0.2;
const STEADY_TO = 0.9;

/**
 * One round. Its rate is timed in its steady part: from when its outputs (the output topics' end offsets, read
 * every 20 ms) passed STEADY_FROM of the events until they passed STEADY_TO — the events written in between over
 * that time, both ends read on the same signal. Before 2026-12-07 the time ran from a tenth of the events written
 * until the group had committed the end: a stage reading ahead while a transaction commits (tried on 2026-12-07,
 * README) had up to two transactions' worth of events (20 000–40 000 of 100 000) fetched and enriched when its
 * first outputs were written, work that timing left out, while at its end the pipeline was empty (a deeper
 * read-ahead made exactly-once "faster" than the passthrough by it). Between two points of a full pipeline its
 * depth cancels out. Kept beside it: `joinMs`, from the consumer's first join of its group (kafkajs's GROUP_JOIN) until
 * the group committed the end — what a backlog of this size costs, the pipeline's filling and draining included;
 * `wholeMs`, from the round's start (tables, join). CPU (µs per event): the brokers' and this process's over the
 * whole round. The round ends when its group has committed the raw topic's end.
 */
async function measured(sb: Sandbox, kafka: Kafka, events: number, groupId: string, raw: string, outputs: string[], start: () => Promise<Started>): Promise<{ ms: number; joinMs: number; wholeMs: number; commits?: number; brokerUs?: number; clientUs: number; joinBusy: Busy }> {
  const brokers = () => {
    const r = readBrokerCpu(sb.state.nodes);
    return Object.keys(r).length === sb.state.nodes.length ? Object.values(r).reduce((a, b) => a + b, 0) : undefined;
  };
  const admin = kafka.admin();
  await admin.connect();
  try {
    const written = async () => {
      let n = 0;
      for (const t of outputs) for (const p of await admin.fetchTopicOffsets(t)) n += Number(p.high);
      return n;
    };
    const base = await written();
    const b0 = brokers();
    const c0 = selfCpuSeconds();
    const round = await start();
    const t0 = Date.now();
    // This process's thread and CPU from the consumer's join (looked for every 5 ms) to the round's end.
    let atJoin: { elu: EventLoopUtilization; cpu: number; at: number } | undefined;
    const lookForJoin = setInterval(() => {
      if (round.joinedAt() !== undefined) {
        atJoin = { elu: performance.eventLoopUtilization(), cpu: selfCpuSeconds(), at: performance.now() };
        clearInterval(lookForJoin);
      }
    }, 5);
    let ms: number;
    let joinMs: number;
    let wholeMs: number;
    let cpu: number;
    let commits: number | undefined;
    let joinBusy: Busy;
    try {
      const crossing = async (share: number) => {
        let n = 0;
        await waitUntil(async () => (n = (await written()) - base) >= events * share, 600_000, 20);
        return { at: Date.now(), n };
      };
      const a = await crossing(STEADY_FROM);
      if (a.n > (STEADY_FROM + STEADY_TO) / 2 * events) throw new Error(`${groupId}: ${a.n} of ${events} events written at the steady window's first reading`);
      const b = await crossing(STEADY_TO);
      ms = ((b.at - a.at) / (b.n - a.n)) * events;
      await waitUntil(async () => {
        await round.beforeCheck?.();
        return (await sampleLag(admin, groupId, raw)).lag === 0;
      }, 600_000, 50);
      const end = Date.now();
      if (!atJoin) throw new Error(`${groupId}: the round ended before its consumer's join was seen`);
      joinBusy = { loop: performance.eventLoopUtilization(atJoin.elu).utilization, cores: ((selfCpuSeconds() - atJoin.cpu) * 1000) / (performance.now() - atJoin.at) };
      const joined = round.joinedAt();
      if (joined === undefined) throw new Error(`${groupId}: the round ended without its consumer having joined its group`);
      joinMs = end - joined;
      wholeMs = end - t0;
      cpu = selfCpuSeconds() - c0;
      commits = round.commits?.();
    } finally {
      clearInterval(lookForJoin);
      await round.stop();
    }
    const b1 = brokers();
    return { ms, joinMs, wholeMs, commits, joinBusy, brokerUs: b0 !== undefined && b1 !== undefined ? ((b1 - b0) / events) * 1e6 : undefined, clientUs: (cpu / events) * 1e6 };
  } finally {
    await admin.disconnect();
  }
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
    await producer.send({ topic: names.raw, acks: -1, compression: CODEC_TYPE[codec], messages: batch });
  }
  await producer.disconnect();
  return names;
}

/**
 * A plain consume → produce from `raw` to `out` in group `groupId`, running until stopped (returns its stop).
 */
async function startPassthrough(kafka: Kafka, raw: string, groupId: string, out: string): Promise<Started> {
  const producer = createProducer(kafka, { idempotent: true });
  await producer.connect();
  // The same fetch size as the stage: the comparison is of the work per record, not of batch sizes.
  const consumer = createConsumer(kafka, { groupId, maxBytesPerPartition: FETCH_BYTES_PER_PARTITION });
  let joinedAt: number | undefined;
  consumer.on(consumer.events.GROUP_JOIN, () => (joinedAt ??= Date.now()));
  await consumer.connect();
  await consumer.subscribe({ topic: raw, fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: 16,
    autoCommitInterval: 2_000,
    eachBatch: async ({ batch }) => {
      // Cut as the stage cuts its output (one partition per request, ≤ 512 KB): a whole 1 MiB fetch re-sent
      // as one record batch can pass the broker's 1 MB limit (message.max.bytes) and be refused.
      const requests: { topic: string; messages: Message[] }[] = [];
      cutRequests(out, batch.messages.map((m) => ({ key: m.key, value: m.value, partition: batch.partition })), requests);
      for (const r of requests) await producer.send({ ...r, acks: -1, compression: CODEC_TYPE[codec] });
    },
  });
  return {
    stop: async () => {
      await consumer.disconnect();
      await producer.disconnect();
    },
    joinedAt: () => joinedAt,
  };
}

async function stage(brokers: string[], names: TopicNames, groupId: string, delivery: 'eos' | 'alo', out: string): Promise<Started> {
  const s = new EnrichmentStage({ brokers, names, outputTopic: out, version: 'v1', delivery, config: scenario.enrichment, compression: codec, groupId, transactionalId: `${groupId}.0` });
  await s.start();
  // At-least-once commits what it produced every ALO_COMMIT_INTERVAL_MS (2 s): waiting for that timer, a round's
  // time was its work plus 0–2 s of the timer's phase (rounds of the same code read ~4.1 or ~6.3 s). Committed
  // before each check here, the time is when everything was produced and acknowledged, as the passthrough's
  // (kafkajs commits as it goes) and exactly-once's (offsets in each transaction).
  return { stop: () => s.stop(), joinedAt: () => s.firstJoinAt, commits: () => s.batches, ...(delivery === 'alo' ? { beforeCheck: async () => void (await s.commitProduced()) } : {}) };
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

/** The rounds' modes, each round in the order given (BENCH_ENRICH_MODES=eos,passthrough for some of them). */
const modes = (process.env.BENCH_ENRICH_MODES ?? 'passthrough,alo,eos').split(',') as Mode[];
/**
 * Rounds of every mode run first and not kept (BENCH_ENRICH_WARMUP_ROUNDS, default 1). In a fresh process the first
 * rounds ran slower than the later ones, every mode alike: the passthrough alone, five rounds in one process (a warm
 * sandbox, 2026-12-07), 68 700, 72 700, 78 000, 93 200 and 85 200 events/s, this process's CPU per event 9.7 → 6.2 µs
 * as V8 compiled kafkajs's and clickbench's paths, the brokers' 19.6 → 15.7.
 */
const warmupRounds = Number(process.env.BENCH_ENRICH_WARMUP_ROUNDS ?? 1);

/** A mode's CPU per event: the brokers' and this process's (µs). */
export interface CpuPerEvent {
  brokerUs: number;
  clientUs: number;
}

/**
 * The highest rate of `mode` over the passthrough's that the machine's CPU allows, when the passthrough keeps the
 * cores busy (on this 2-core machine its rounds do: host CPU ~90 %, the brokers and this process together ~2 cores):
 * the cores that run the passthrough at its CPU per event run `mode` at most at the passthrough's rate times the
 * passthrough's CPU per event over the mode's. A stage below it waits (on Kafka, on its own thread); one at it can
 * only gain by costing less per event.
 */
export function cpuCeiling(passthrough: CpuPerEvent, mode: CpuPerEvent): number {
  return (passthrough.brokerUs + passthrough.clientUs) / (mode.brokerUs + mode.clientUs);
}

/**
 * Per round, a mode's rate over the passthrough's from their times (`pass[r] / mode[r]`: each round runs its modes
 * back to back, so the pair shares the machine's state of the moment), and the median of those ratios.
 */
export function roundRatios(pass: number[], mode: number[]): { ratios: number[]; median: number } {
  const ratios = Array.from({ length: Math.min(pass.length, mode.length) }, (_, r) => pass[r] / mode[r]);
  return { ratios, median: median(ratios) };
}

/** The median (the mean of the middle two for an even count; NaN for none). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export async function enrichmentBench(sb: Sandbox, events: number, rounds: number) {
  const kafka = createKafka({ brokers: sb.brokers, clientId: 'clickbench-bench' });
  const prefix = `cb-bench-${Date.now().toString(36)}`;
  const names = await prepare(kafka, prefix, events);
  const passOut = topicNames(`${prefix}-pass`).enriched;
  const empty = (): Record<Mode, number[]> => ({ passthrough: [], alo: [], eos: [] });
  const times = empty();
  const joinTimes = empty();
  const wholeTimes = empty();
  const brokerUs = empty();
  const clientUs = empty();
  /** Per round, the stage's transactions (exactly-once) or produce rounds (at-least-once). */
  const commits = empty();
  /** Per round, this process's event loop busy share and CPU cores from the join to the last commit. */
  const joinBusy = { passthrough: [] as Busy[], alo: [] as Busy[], eos: [] as Busy[] };
  const run = async (mode: Mode, groupId: string, outputs: string[], start: () => Promise<Started>, keep: boolean) => {
    const m = await measured(sb, kafka, events, groupId, names.raw, outputs, start);
    await sleep(500);
    if (!keep) return;
    times[mode].push(m.ms);
    joinTimes[mode].push(m.joinMs);
    wholeTimes[mode].push(m.wholeMs);
    if (m.brokerUs !== undefined) brokerUs[mode].push(m.brokerUs);
    clientUs[mode].push(m.clientUs);
    if (m.commits !== undefined) commits[mode].push(m.commits);
    joinBusy[mode].push(m.joinBusy);
  };
  const stageOut = [names.enriched, names.dlq];
  try {
    for (let r = -warmupRounds; r < rounds; r++) {
      for (const mode of modes) {
        const g = `${prefix}.${mode}.${r < 0 ? `warmup${-r}` : r}`;
        if (mode === 'passthrough') await run(mode, g, [passOut], () => startPassthrough(kafka, names.raw, g, passOut), r >= 0);
        else await run(mode, g, stageOut, () => stage(sb.brokers, names, g, mode, names.enriched), r >= 0);
      }
    }
  } finally {
    await removeBenchTopics(kafka, prefix);
  }
  return { codec, events, rounds, warmupRounds, times, joinTimes, wholeTimes, brokerUs, clientUs, commits, joinBusy };
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
