/**
 * clickbench's client paths against Apache Kafka's own tools, on one sandbox, side by side:
 *
 *   produce        the run's open-loop driver at a rate above what the cluster takes (its sustained
 *                  acknowledged rate) vs ProducerPerformance at the same record size, acks, partitions
 *   latency floor  the driver at a low rate, linger 0 like EndToEndLatency, and a plain consumer on the
 *                  topic (intended send time → acknowledged → seen), p99, median of 3 rounds, vs Kafka's Java
 *                  clients in the same open loop (bench/java/OpenLoopLatency.java) and vs EndToEndLatency (a
 *                  closed loop); and EndToEndLatency's own method with clickbench's clients (one record at a time)
 *   replay         the accounting read-back (a kafkajs consumer from offset 0 to the end) vs
 *                  ConsumerPerformance
 *   memory         RSS of a steady `run` in its own process, early and late (BENCH_LONG=1: at 2 and 20 minutes)
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { calibrate, endToEndLatency, type Calibration } from '../src/calibrate/calibrate.js';
import { openKafkaTools, type KafkaTools } from '../src/kafka/tools.js';
import { PLAINTEXT } from '../src/kafka/security.js';
import type { Admin } from '../src/kafka/client.js';
import { averageEventBytes } from '../src/calibrate/settings.js';
import { driverRetry, OpenLoopDriver } from '../src/drive/driver.js';
import { LeaderMap } from '../src/kafka/leaders.js';
import { createTopics, topicNames, topicSpecs } from '../src/drive/topics.js';
import { ClickstreamGenerator } from '../src/generate/clickstream.js';
import { buildPools } from '../src/generate/pools.js';
import { createConsumer, createKafka, createProducer } from '../src/kafka/client.js';
import type { KafkaMessage } from 'kafkajs';
import { newHistogram, record, summarize } from '../src/observe/latency.js';
import { probeConsumerConfig } from '../src/observe/probe.js';
import { readBackSeqs } from '../src/observe/readback.js';
import type { Sandbox } from '../src/sandbox/cluster.js';
import { sleep } from '../src/sandbox/process.js';
import { parseScenario } from '../src/scenario/load.js';
import type { Scenario } from '../src/scenario/schema.js';
import type { MemoryAtMark } from './memory-run.js';

export interface KafkaBench {
  recordBytes: number;
  calibration: Calibration;
  produce: { clickbenchPerSec: number; ratio: number };
  /** Medians over FLOOR_ROUNDS rounds at linger 0; `defaultLinger` one round at the run's default. */
  /** `reference`: EndToEndLatency run after each floor round (medians of the runs); `ratio`: the floor's p99 over the reference's. */
  latency: { clickbenchP50Ms: number | null; clickbenchP99Ms: number | null; ratio: number | null; reference: { p99Ms: number; p50Ms: number; runs: Calibration['latency'][] };
    /** Kafka's Java clients in the floor's own open loop (bench/java/OpenLoopLatency.java) after each round: medians of the runs; `ratio`: the floor's p99 over theirs; `notMeasured`: why not (no javac). */
    openLoop: { p99Ms: number | null; p50Ms: number | null; ackP99Ms: number | null; runs: OpenLoopRun[]; ratio: number | null; notMeasured?: string }; ackP99Ms: number | null; seenAfterAckP99Ms: number | null; sendLateP99Ms: number | null; sentToAckP99Ms: number | null; waitedShare: number | null; rounds: FloorRound[]; defaultLinger: FloorRound; closedLoop: ClosedLoopRound & { ratio: number | null } };
  replay: { clickbenchPerSec: number; ratio: number };
  /** RSS around each mark (median ±5 s), and after a full collection there (rssMb, heapMb): growth is judged on the latter. */
  memory: { early: MemoryAtMark; late: MemoryAtMark; highestMb: number; growthMb: number };
}

const FLOOR_ROUNDS = 3;
/** Records EndToEndLatency sends, one at a time; clickbench's closed-loop round sends as many. */
const LATENCY_RECORDS = 2_000;

export interface FloorRound {
  events: number; p50Ms: number | null; p99Ms: number | null; ackP99Ms: number | null; seenAfterAckP99Ms: number | null;
  /**
   * The time to the ack in two: from the intended time to the send of the request that carried the event, and from
   * that send to its ack (p99s); and the share of events sent more than WAITED_MS after their time (the driver
   * keeps one request in flight per partition and per broker, as kafkajs's idempotent producer allows: an event
   * due while its partition's or its broker's request is out waits for that request's ack).
   */
  sendLateP99Ms?: number | null; sentToAckP99Ms?: number | null; waitedShare?: number;
  /** This process during the round: garbage-collection pauses (count, longest, total) and the longest event-loop delay. */
  process: { gcPauses: number; gcMaxMs: number; gcTotalMs: number; loopDelayMaxMs: number };
}

/**
 * EndToEndLatency's method with clickbench's clients: one record at a time, sent when the reader has seen
 * the one before, each timed from the send to the reader seeing it. A closed loop hides a stall: the
 * records that would have been sent during it are not, so one 200 ms stall is one slow sample. The open
 * loop above sends on schedule whatever happens, and each event a stall delays counts (at 100 events/s,
 * twenty for one 200 ms stall: enough to move a p99 over 2 000 events). Both methods are reported, so a
 * difference between clickbench and Kafka's tool is read on the same method.
 */
export interface ClosedLoopRound {
  records: number; p50Ms: number | null; p99Ms: number | null; maxMs: number | null;
}

const CLOSED_LOOP_TIMEOUT_MS = 30_000;

/** One run of bench/java/OpenLoopLatency.java (milliseconds, from each record's intended send time). */
export interface OpenLoopRun {
  records: number; seen: number; failed: number; p50Ms: number | null; p99Ms: number | null; maxMs: number | null; ackP50Ms: number | null; ackP99Ms: number | null;
}

/** OpenLoopLatency's one JSON line, from its output (the clients' log lines around it). */
export function parseOpenLoop(out: string): OpenLoopRun {
  const line = out.split('\n').reverse().find((l) => l.startsWith('{"records"'));
  if (!line) throw new Error(`unexpected OpenLoopLatency output: ${out.trim().split('\n').pop() ?? ''}`);
  const r = JSON.parse(line) as OpenLoopRun;
  if (r.seen < r.records) throw new Error(`OpenLoopLatency: its reader saw ${r.seen} of ${r.records} records`);
  return r;
}

/**
 * A floor round's topics and reader: the run's probe reader (src/observe/probe.ts), its settings, no
 * OffsetCommit per fetch (kafkajs's autoCommit sends one after every batch and holds the next fetch for
 * it: that alone put ~25 ms on this floor's p99), a batch at a time. `close` removes what it made.
 */
async function floorReader(sb: Pick<Sandbox, 'brokers'>, s: Scenario, prefix: string, onBatch: (messages: KafkaMessage[]) => void) {
  const kafka = createKafka({ brokers: sb.brokers, clientId: prefix });
  const names = topicNames(prefix);
  const admin = kafka.admin();
  await admin.connect();
  await createTopics(admin, topicSpecs(names, s));
  const consumer = createConsumer(kafka, probeConsumerConfig(`${prefix}-reader`));
  await consumer.connect();
  await consumer.subscribe({ topic: names.raw, fromBeginning: true });
  await consumer.run({ autoCommit: false, eachBatch: async ({ batch }) => onBatch(batch.messages) });
  const close = async () => {
    await consumer.disconnect();
    await admin.deleteTopics({ topics: [...Object.values(names.lookups), names.raw, names.enriched, names.dlq] }).catch(() => {});
    await admin.deleteGroups([`${prefix}-reader`]).catch(() => {});
    await admin.disconnect();
  };
  return { kafka, names, close };
}

export async function closedLoopRound(sb: Pick<Sandbox, 'brokers'>, s: Scenario, records: number, recordBytes: number, prefix: string): Promise<ClosedLoopRound> {
  let waiting: { key: string; seen: () => void } | undefined;
  const { kafka, names, close } = await floorReader(sb, s, prefix, (messages) => {
    for (const m of messages) if (waiting && m.key?.toString() === waiting.key) waiting.seen();
  });
  await sleep(3_000);
  // The run's producer (as `drive` makes it), one record per request.
  const producer = createProducer(kafka, { idempotent: true, maxInFlightRequests: 5, retry: driverRetry() });
  await producer.connect();
  const value = 'x'.repeat(recordBytes);
  const h = newHistogram();
  try {
    for (let i = 0; i < records; i++) {
      const key = `${prefix}-${i}`;
      let timer: NodeJS.Timeout | undefined;
      const seen = new Promise<void>((resolve, reject) => {
        waiting = { key, seen: resolve };
        timer = setTimeout(() => reject(new Error(`record ${i} not seen within ${CLOSED_LOOP_TIMEOUT_MS / 1000} s`)), CLOSED_LOOP_TIMEOUT_MS);
      });
      const t0 = performance.now();
      await producer.send({ topic: names.raw, acks: -1, messages: [{ key, value }] });
      await seen.finally(() => clearTimeout(timer));
      record(h, performance.now() - t0);
    }
  } finally {
    await producer.disconnect();
    await close();
  }
  const sm = summarize(h);
  return { records: sm?.count ?? 0, p50Ms: sm?.p50Ms ?? null, p99Ms: sm?.p99Ms ?? null, maxMs: sm?.maxMs ?? null };
}

/** The floor rounds' rate (events/s), length (s) and population's users (QUICK's). */
const FLOOR_RATE = 100;
const FLOOR_SECONDS = 20;
const FLOOR_USERS = 20_000;

const QUICK = (rate: number, seconds: number, lingerMs?: number) => parseScenario(`name: bench\nseed: 9\nduration: ${seconds}s\ntopics: { partitions: 12, replication: 3, min_insync_replicas: 2 }\ntraffic: { base_rate: ${rate} }\n${lingerMs === undefined ? '' : `clients: { linger: ${lingerMs}ms }\n`}population: { users: ${FLOOR_USERS}, products: 10000, pages: 1000 }\n`, 'bench.yaml').scenario;

async function drive(sb: Pick<Sandbox, 'brokers'>, s: Scenario, prefix: string, onAck?: (events: { seq: number; intendedMs: number }[], ackMs: number, sentMs: number) => void, onStart?: () => void) {
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
  // The population first, as `run` builds it before its schedule starts (src/run/setup.ts): built after
  // the start time was set, its ~250 ms of work made the first events late and blocked the event loop.
  const pools = buildPools(s);
  // Promote the population before the schedule starts when the process allows a collection (the floor's
  // own process runs with --expose-gc): left young, the first scavenges after the start copied ~70 MB of
  // it, 22–35 ms pauses inside the measured round (node --trace-gc, 2026-12-04).
  (globalThis as { gc?: () => void }).gc?.();
  const start = Date.now() + 200;
  const gen = new ClickstreamGenerator(s, { startMs: start, idPrefix: prefix, pools });
  const driver = new OpenLoopDriver({
    producer, names, gen, startMs: start, durationMs: s.duration, partitions: s.topics.partitions, lookupPartitions: Math.min(6, s.topics.partitions),
    leaderOf: (t, p) => leaders.get(t, p), onLeadersStale: () => void leaders.refresh(), lingerMs: s.clients.linger, acks: s.clients.acks === 'all' ? -1 : 1,
    onAck: onAck ? (b) => onAck(b.events, b.ackMs, b.sentMs) : undefined,
  });
  const t0 = Date.now();
  onStart?.();
  await driver.run();
  const elapsed = (Date.now() - Math.max(t0, start)) / 1000;
  await producer.disconnect();
  return { kafka, admin, names, driver, elapsed };
}

/** An event sent later than this after its intended time waited (an idle lane's go within ~1–3 ms here: timer and loop). */
const WAITED_MS = 3;

/** One latency-floor round: the run's driver at `s`'s rate, a plain kafkajs consumer on the raw topic. */
export async function floorRound(sb: Pick<Sandbox, 'brokers'>, s: Scenario, prefix: string): Promise<FloorRound> {
  const e2e = newHistogram();
  const ack = newHistogram();
  const afterAck = newHistogram();
  // Keyed by intended time: at 100 events/s two events rarely share a millisecond, and one that does is left out.
  const ackedAt = new Map<number, number>();
  const { close } = await floorReader(sb, s, prefix, (messages) => {
    const now = Date.now();
    for (const message of messages) {
      const m = /"intended_time":(\d+)/.exec(message.value?.toString() ?? '');
      if (!m) continue;
      const intended = Number(m[1]);
      record(e2e, now - intended);
      const a = ackedAt.get(intended);
      if (a !== undefined) record(afterAck, Math.max(0, now - a));
    }
  });
  await sleep(3_000);
  // Where a tail can come from on this side: the process's own pauses while the round runs.
  const gc = { pauses: 0, maxMs: 0, totalMs: 0 };
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.pauses++;
      gc.totalMs += e.duration;
      gc.maxMs = Math.max(gc.maxMs, e.duration);
    }
  });
  const loop = monitorEventLoopDelay({ resolution: 10 });
  // From the schedule's start (building the population before it blocks the loop for ~0.2 s, before any event is due).
  const sendLate = newHistogram();
  const sentToAck = newHistogram();
  let waited = 0;
  const floor = await drive(sb, s, prefix, (events, ackMs, sentMs) => {
    record(sentToAck, ackMs - sentMs);
    for (const e of events) {
      record(ack, ackMs - e.intendedMs);
      record(sendLate, Math.max(0, sentMs - e.intendedMs));
      if (sentMs - e.intendedMs > WAITED_MS) waited++;
      ackedAt.set(e.intendedMs, ackMs);
    }
  }, () => {
    gcObserver.observe({ entryTypes: ['gc'] });
    loop.enable();
  });
  await sleep(2_000);
  gcObserver.disconnect();
  loop.disable();
  await floor.admin.disconnect();
  await close();
  const [se, sa, sf] = [summarize(e2e), summarize(ack), summarize(afterAck)];
  return {
    events: se?.count ?? 0, p50Ms: se?.p50Ms ?? null, p99Ms: se?.p99Ms ?? null, ackP99Ms: sa?.p99Ms ?? null, seenAfterAckP99Ms: sf?.p99Ms ?? null,
    sendLateP99Ms: summarize(sendLate)?.p99Ms ?? null, sentToAckP99Ms: summarize(sentToAck)?.p99Ms ?? null, waitedShare: sa ? waited / sa.count : 0,
    process: { gcPauses: gc.pauses, gcMaxMs: Math.round(gc.maxMs), gcTotalMs: Math.round(gc.totalMs), loopDelayMaxMs: Math.round(loop.max / 1e6) },
  };
}

export async function kafkaBench(sb: Sandbox, log: (l: string) => void): Promise<KafkaBench> {
  const s0 = QUICK(1000, 10);
  const recordBytes = averageEventBytes(s0);
  const kafka = createKafka({ brokers: sb.brokers, clientId: 'bench-calibrate' });
  const admin = kafka.admin();
  await admin.connect();
  log('ProducerPerformance / ConsumerPerformance / EndToEndLatency …');
  const calibration = await calibrate(admin, {
    brokers: sb.brokers, recordBytes, acks: 'all', partitions: 12, replication: 3, minInsyncReplicas: 2, records: 300_000, latencyRecords: LATENCY_RECORDS, topicPrefix: 'bench', log,
  });
  await admin.disconnect();

  // Latency floor, right after the calibration, as EndToEndLatency ran right after ProducerPerformance:
  // run after the produce section below (~2 million records offered), its first round read 162–172 ms
  // in two benches where the later rounds read 19–56, and on a sandbox without that load before it
  // 16–21. 100 events/s; a reader with the probe's settings measures intended time → seen. EndToEndLatency's
  // producer does not linger (linger.ms 0) and waits for each record before the next: the driver runs
  // with linger 0 too, so the ratio compares paths, not settings (the run's default linger, 10 ms, is
  // reported beside it). Each event's time splits into intended → acknowledged (the producer side) and
  // acknowledged → seen (the consumer side), so a tail says on which side it is. Median of the rounds.
  // The rounds alternate with EndToEndLatency, each on a scratch topic of its own made as the calibration's: the
  // ratio is of medians measured side by side. (Until 2026-12-07 the reference was the calibration's one run,
  // taken before the rounds, on the topic ProducerPerformance had just filled; it is still printed beside.)
  log(`clickbench latency floor at 100 events/s for 20 s, linger 0, ${FLOOR_ROUNDS} rounds in processes of their own, each followed by EndToEndLatency and by Kafka's Java clients in the same open loop; then one round at the run's default linger (10 ms) and EndToEndLatency's method with clickbench's clients …`);
  const floors: FloorRound[] = [];
  const referenceRuns: Calibration['latency'][] = [];
  const openRuns: OpenLoopRun[] = [];
  let openNotMeasured: string | undefined;
  const tools = await openKafkaTools(PLAINTEXT, log);
  const eelAdmin = kafka.admin();
  await eelAdmin.connect();
  try {
    // Without a Java compiler (a JRE only) the floor is still measured; the Java reference says why it is not.
    const classDir = await compileOpenLoop(tools).catch((err: Error) => {
      openNotMeasured = err.message;
      log(`the Java open-loop reference is not measured: ${err.message}`);
      return undefined;
    });
    for (let r = 0; r < FLOOR_ROUNDS; r++) {
      floors.push(...floorProcess(sb.brokers, r, 1, recordBytes, 0).floors);
      referenceRuns.push(await scratchEndToEndLatency(tools, eelAdmin, sb.brokers, recordBytes, r));
      if (classDir) openRuns.push(await scratchOpenLoop(tools, classDir, eelAdmin, sb.brokers, recordBytes, r));
    }
  } finally {
    tools.close();
    await eelAdmin.disconnect();
  }
  const { defaultLinger, closedLoop } = floorProcess(sb.brokers, FLOOR_ROUNDS, 0, recordBytes, LATENCY_RECORDS);
  if (!defaultLinger || !closedLoop) throw new Error('the latency-floor process measured neither the default linger\'s round nor the closed loop');
  const referenceP99 = middle(referenceRuns.map((x) => x.p99Ms))!;
  const openP99 = middle(openRuns.map((x) => x.p99Ms));

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

  const mid = (f: (x: FloorRound) => number | null) => middle(floors.map(f));
  const floorP99 = mid((x) => x.p99Ms);

  // Memory: a steady run of the whole pipeline, in a process of its own (bench/memory-run.ts).
  const long = process.env.BENCH_LONG === '1';
  const [early, late] = long ? [120, 1_200] : [30, 150];
  log(`memory: a steady run of ${late} s in its own process (RSS at ${early} s and ${late} s, medians of ±5 s${long ? '' : '; BENCH_LONG=1 for 2 and 20 minutes'}) …`);
  const child = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(new URL('./memory-run.js', import.meta.url)), sb.state.stateDir, String(early), String(late)], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  const line = child.stdout.split('\n').reverse().find((l) => l.startsWith('{"samples"'));
  if (child.status !== 0 || !line) throw new Error(`the memory run exited ${child.status}: ${child.stderr.split('\n').slice(-5).join(' ')}`);
  const { early: e, late: l, highestMb } = JSON.parse(line) as { early: MemoryAtMark; late: MemoryAtMark; highestMb: number };

  return {
    recordBytes, calibration,
    produce: { clickbenchPerSec, ratio: clickbenchPerSec / calibration.produce.recordsPerSec },
    latency: {
      clickbenchP50Ms: mid((x) => x.p50Ms), clickbenchP99Ms: floorP99, ratio: floorP99 !== null ? floorP99 / Math.max(1, referenceP99) : null,
      reference: { p99Ms: referenceP99, p50Ms: middle(referenceRuns.map((x) => x.p50Ms))!, runs: referenceRuns },
      openLoop: {
        p99Ms: openP99, p50Ms: middle(openRuns.map((x) => x.p50Ms)), ackP99Ms: middle(openRuns.map((x) => x.ackP99Ms)), runs: openRuns,
        ratio: floorP99 !== null && openP99 !== null ? floorP99 / Math.max(1, openP99) : null, notMeasured: openNotMeasured,
      },
      ackP99Ms: mid((x) => x.ackP99Ms), seenAfterAckP99Ms: mid((x) => x.seenAfterAckP99Ms),
      sendLateP99Ms: mid((x) => x.sendLateP99Ms ?? null), sentToAckP99Ms: mid((x) => x.sentToAckP99Ms ?? null), waitedShare: mid((x) => x.waitedShare ?? null), rounds: floors, defaultLinger,
      closedLoop: { ...closedLoop, ratio: closedLoop.p99Ms !== null ? closedLoop.p99Ms / Math.max(1, referenceP99) : null },
    },
    replay: { clickbenchPerSec: replayPerSec, ratio: replayPerSec / calibration.consume.recordsPerSec },
    memory: { early: e, late: l, highestMb, growthMb: (l.afterGc?.rssMb ?? l.rssMb) - (e.afterGc?.rssMb ?? e.rssMb) },
  };
}

/** The median of the figures (the lower middle of an even count), or null without any. */
function middle(xs: (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null).sort((a, b) => a - b);
  return v.length ? v[(v.length - 1) >> 1] : null;
}

/** EndToEndLatency as the calibration runs it, on a scratch topic of its own. */
export async function scratchEndToEndLatency(tools: KafkaTools, admin: Admin, brokers: string[], recordBytes: number, run: number): Promise<Calibration['latency']> {
  return onScratchTopic(admin, `bench.floor-reference-${run}`, (topic) => endToEndLatency(tools, { brokers, acks: 'all', recordBytes, latencyRecords: LATENCY_RECORDS }, topic));
}

/** `measure` on a scratch topic of its own, named from `name`, made as the calibration's (12 partitions, RF 3, min ISR 2) and removed after. */
async function onScratchTopic<T>(admin: Admin, name: string, measure: (topic: string) => Promise<T>): Promise<T> {
  const topic = `${name}-${Date.now().toString(36)}`;
  await createTopics(admin, [{ topic, numPartitions: 12, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }]);
  try {
    return await measure(topic);
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  }
}

/** bench/java/OpenLoopLatency.java compiled against the Kafka jars into the tools' scratch folder; returns the classes' folder. */
export async function compileOpenLoop(tools: KafkaTools): Promise<string> {
  const classDir = join(tools.dir, 'open-loop');
  const source = fileURLToPath(new URL('../../bench/java/OpenLoopLatency.java', import.meta.url));
  const r = await execa('javac', ['-cp', `${tools.libDir}/*`, '-d', classDir, source], { all: true, reject: false, timeout: 120_000 });
  if (r.exitCode === undefined) throw new Error(`javac could not run (${r.shortMessage?.split('\n')[0] ?? 'not found'}); install a JDK (the sandbox needs only a JRE)`);
  if (r.exitCode !== 0) throw new Error(`javac of ${source} failed (exit ${r.exitCode}): ${String(r.all ?? '').trim().split('\n').slice(-3).join(' ')}`);
  return classDir;
}

/**
 * Kafka's Java clients in the floor round's open loop, on a scratch topic made as the calibration's: the same rate,
 * duration, record size and Poisson arrivals, keys over as many users as the round's population with its skew. Removed after.
 */
export async function scratchOpenLoop(tools: KafkaTools, classDir: string, admin: Admin, brokers: string[], recordBytes: number, run: number): Promise<OpenLoopRun> {
  const args = (topic: string) => [brokers.join(','), topic, String(FLOOR_RATE), String(FLOOR_SECONDS), String(recordBytes), String(9 + run), 'poisson', String(FLOOR_USERS), String(QUICK(FLOOR_RATE, FLOOR_SECONDS).population.user_zipf)];
  return onScratchTopic(admin, `bench.floor-open-loop-${run}`, async (topic) => parseOpenLoop(await tools.runMain(classDir, 'OpenLoopLatency', args(topic), 300_000)));
}

/** What a floor process measured (the last two only when asked for). */
interface FloorOutput {
  floors: FloorRound[];
  defaultLinger?: FloorRound;
  closedLoop?: ClosedLoopRound;
}

/**
 * Floor rounds in a process of their own, as a user's `run` is (in the bench's process the heap of the sections
 * before showed as 30–50 ms collector pauses in the floor's tail), like EndToEndLatency in its JVM: `rounds` rounds
 * at linger 0 from round number `first` (their topics' prefix), then, when `closedLoopRecords` > 0, one round at
 * the run's default linger and EndToEndLatency's method with clickbench's clients.
 */
function floorProcess(brokers: string[], first: number, rounds: number, recordBytes: number, closedLoopRecords: number): FloorOutput {
  const child = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), 'floor', brokers.join(','), String(first), String(rounds), String(recordBytes), String(closedLoopRecords)], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  const line = child.stdout.split('\n').reverse().find((l) => l.startsWith('{"floors"'));
  if (child.status !== 0 || !line) throw new Error(`the latency-floor process exited ${child.status}: ${child.stderr.split('\n').slice(-5).join(' ')}`);
  return JSON.parse(line) as FloorOutput;
}

/** `node kafka-bench.js floor <brokers> <first round> <rounds> <record bytes> <closed-loop records>`: see floorProcess; one JSON line on stdout. */
async function floorMain(brokers: string[], first: number, rounds: number, recordBytes: number, closedLoopRecords: number): Promise<void> {
  const floors: FloorRound[] = [];
  for (let r = first; r < first + rounds; r++) floors.push(await floorRound({ brokers }, QUICK(FLOOR_RATE, FLOOR_SECONDS, 0), `bench-floor${r}`));
  const extras = closedLoopRecords > 0 ? {
    defaultLinger: await floorRound({ brokers }, QUICK(FLOOR_RATE, FLOOR_SECONDS), 'bench-floor-l10'),
    closedLoop: await closedLoopRound({ brokers }, QUICK(FLOOR_RATE, FLOOR_SECONDS, 0), closedLoopRecords, recordBytes, 'bench-floor-closed'),
  } : {};
  process.stdout.write(`${JSON.stringify({ floors, ...extras })}\n`);
  process.exit(0);
}

if (process.argv[1]?.endsWith('kafka-bench.js') && process.argv[2] === 'floor') {
  void floorMain(process.argv[3].split(','), Number(process.argv[4]), Number(process.argv[5]), Number(process.argv[6] ?? 500), Number(process.argv[7] ?? 0)).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
