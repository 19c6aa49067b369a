/**
 * Warming a just-started sandbox. A fresh Kafka JVM compiles its hot code (C2) in its first minutes
 * under load; on a two-core machine three of them doing so beside the load made the quickstart's
 * e2e p99 27.6 s on a sandbox its run had just started, against 0.45–0.7 s once warm. A production
 * cluster is warm, so a run measures a warm sandbox: before its first run, the sandbox carries a
 * pipeline shaped like the measured one (idempotent produce, acks all → a consumer group whose
 * output and offsets commit in transactions → a read_committed reader, rack-aware) on topics of its
 * own, until the brokers' CPU per 1 000 records stops falling (JIT done, see `warmedUp`) or a
 * time limit. Nothing of it is measured or scored; the report says it happened and shows that curve.
 */
import { randomBytes } from 'node:crypto';
import type { Security } from '../kafka/security.js';
import { createConsumer, createKafka, createProducer } from '../kafka/client.js';
import { createTopics } from '../drive/topics.js';
import { FETCH_MAX_WAIT_MS } from '../enrich/limits.js';

export interface WarmupResult {
  /** Seconds of warm-up traffic carried. */
  seconds: number;
  /** The most it could have taken. */
  maxSeconds: number;
  /** Broker CPU seconds per 1 000 records offered, per WARMUP_WINDOW_MS window (empty when the broker CPU is unreadable). */
  cpuPer1000ByWindow: number[];
  /** Cores the brokers used together, per window: near the machine's core count, the curve shows saturation, not compiling. */
  brokerCoresByWindow: number[];
  /** Why it ended: the curve flattened, or the time limit. */
  ended: 'flat' | 'time limit';
  /** Records produced, transformed in transactions, and read back read_committed. */
  produced: number;
  transformed: number;
  read: number;
  transactions: number;
  finishedAt: string;
}

export interface WarmupOptions {
  brokers: string[];
  security?: Security;
  /** Zones of the nodes: the transform and the reader fetch rack-aware like the run's clients. */
  zones: string[];
  replication: number;
  /** At most this long (a flat CPU curve ends it earlier, never before WARMUP_MIN_WINDOWS windows). */
  maxSeconds: number;
  /** CPU seconds the brokers have used so far (all together); undefined: not readable (time limit only). */
  brokerCpuSeconds?: () => number | undefined;
  /** Records per second offered (default 3 000: the quickstart's burst rate). */
  rate?: number;
  log?: (line: string) => void;
}

export const WARMUP_PREFIX = 'clickbench-warmup';
export const WARMUP_WINDOW_MS = 10_000;
export const WARMUP_MIN_WINDOWS = 3;
/** A window within this fraction of the one before (and of the best so far) counts as flat. */
export const WARMUP_FLAT_RATIO = 0.1;
/** Concurrent transactions of the warm-up's transform (one transactional producer each). */
const TRANSFORM_LANES = 4;

/**
 * Whether the brokers look warm: at least WARMUP_MIN_WINDOWS windows, and the last two windows'
 * CPU per 1 000 records within WARMUP_FLAT_RATIO of each other and of the lowest seen (compiling
 * makes it fall window after window, then it flattens).
 */
export function warmedUp(cpuPer1000ByWindow: number[]): boolean {
  const w = cpuPer1000ByWindow;
  if (w.length < WARMUP_MIN_WINDOWS) return false;
  const [a, b] = w.slice(-2);
  const best = Math.min(...w);
  return Math.abs(b - a) <= WARMUP_FLAT_RATIO * a && b <= best * (1 + WARMUP_FLAT_RATIO);
}

/** Drive the warm-up pipeline until the brokers look warm (or maxSeconds), then delete its topics. */
export async function warmCluster(o: WarmupOptions): Promise<WarmupResult> {
  const rate = o.rate ?? 3_000;
  const id = `${WARMUP_PREFIX}-${randomBytes(3).toString('hex')}`;
  const [inTopic, outTopic] = [`${id}.in`, `${id}.out`];
  const kafka = createKafka({ brokers: o.brokers, security: o.security, clientId: 'clickbench-warmup', label: 'warmup', log: o.log });
  const admin = kafka.admin();
  await admin.connect();
  const minIsr = String(Math.min(2, o.replication));
  await createTopics(admin, [inTopic, outTopic].map((topic) => ({
    topic, numPartitions: 12, replicationFactor: o.replication,
    configEntries: [{ name: 'min.insync.replicas', value: minIsr }, { name: 'message.timestamp.type', value: 'LogAppendTime' }],
  })));
  const r: WarmupResult = { seconds: 0, maxSeconds: o.maxSeconds, cpuPer1000ByWindow: [], brokerCoresByWindow: [], ended: 'time limit', produced: 0, transformed: 0, read: 0, transactions: 0, finishedAt: '' };
  const producer = createProducer(kafka, { idempotent: true });
  // Several transactional producers, one transaction each at a time: the transform's partitions run concurrently.
  const lanes = Array.from({ length: TRANSFORM_LANES }, (_, i) => ({ producer: createProducer(kafka, { transactionalId: `${id}.transform.${i}`, idempotent: true, maxInFlightRequests: 1 }), busy: Promise.resolve() }));
  let stopping = false;
  const transform = createConsumer(kafka, { groupId: `${id}.transform`, rackId: o.zones[1 % o.zones.length], readUncommitted: false, maxWaitTimeInMs: FETCH_MAX_WAIT_MS }, () => !stopping);
  const reader = createConsumer(kafka, { groupId: `${id}.read`, rackId: o.zones[2 % o.zones.length], readUncommitted: false, maxWaitTimeInMs: FETCH_MAX_WAIT_MS }, () => !stopping);
  const inLane = <T>(lane: (typeof lanes)[number], f: () => Promise<T>): Promise<T> => {
    const p = lane.busy.then(f);
    lane.busy = p.then(() => {}, () => {});
    return p;
  };
  try {
    await Promise.all([producer.connect(), transform.connect(), reader.connect(), ...lanes.map((l) => l.producer.connect())]);
    await transform.subscribe({ topic: inTopic, fromBeginning: true });
    await reader.subscribe({ topic: outTopic, fromBeginning: true });
    await transform.run({
      autoCommit: false,
      partitionsConsumedConcurrently: TRANSFORM_LANES,
      eachBatch: async ({ batch, isRunning }) => {
        if (!isRunning() || batch.messages.length === 0) return;
        const lane = lanes[batch.partition % TRANSFORM_LANES];
        await inLane(lane, async () => {
          const txn = await lane.producer.transaction();
          try {
            await txn.send({ topic: outTopic, acks: -1, messages: batch.messages.map((m) => ({ key: m.key, value: m.value, partition: batch.partition })) });
            await txn.sendOffsets({ consumerGroupId: `${id}.transform`, topics: [{ topic: inTopic, partitions: [{ partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) }] }] });
            await txn.commit();
            r.transformed += batch.messages.length;
            r.transactions++;
          } catch (err) {
            await txn.abort().catch(() => {});
            throw err;
          }
        });
      },
    });
    await reader.run({ autoCommit: false, eachBatch: async ({ batch }) => { r.read += batch.messages.length; } });
    const value = JSON.stringify({ event_type: 'page_view', page: '/warm'.padEnd(400, 'x'), user_agent: 'clickbench-warmup' });
    const start = Date.now();
    const end = start + o.maxSeconds * 1_000;
    let next = 0;
    let window = { at: start, produced: 0, cpu: o.brokerCpuSeconds?.() };
    while (Date.now() < end) {
      if (Date.now() - window.at >= WARMUP_WINDOW_MS) {
        const cpu = o.brokerCpuSeconds?.();
        if (cpu !== undefined && window.cpu !== undefined && r.produced > window.produced) {
          r.cpuPer1000ByWindow.push(Math.round(((cpu - window.cpu) / (r.produced - window.produced)) * 1_000 * 1_000) / 1_000);
          r.brokerCoresByWindow.push(Math.round(((cpu - window.cpu) / ((Date.now() - window.at) / 1_000)) * 100) / 100);
          if (warmedUp(r.cpuPer1000ByWindow)) {
            r.ended = 'flat';
            break;
          }
        }
        window = { at: Date.now(), produced: r.produced, cpu };
      }
      const due = Math.floor(((Date.now() - start) / 1_000) * rate);
      if (due <= r.produced) {
        await new Promise((res) => setTimeout(res, 20));
        continue;
      }
      const n = Math.min(due - r.produced, 1_000);
      await producer.send({ topic: inTopic, acks: -1, messages: Array.from({ length: n }, () => ({ key: `k${next++ % 5_000}`, value })) });
      r.produced += n;
    }
    r.seconds = Math.round((Date.now() - start) / 1_000);
  } finally {
    stopping = true;
    await Promise.all([transform.disconnect(), reader.disconnect()].map((p) => p.catch(() => {})));
    await Promise.all([producer, ...lanes.map((l) => l.producer)].map((p) => p.disconnect().catch(() => {})));
    await admin.deleteTopics({ topics: [inTopic, outTopic], timeout: 30_000 }).catch((err: Error) => o.log?.(`could not delete the warm-up topics ${id}.*: ${err.message}`));
    await admin.disconnect().catch(() => {});
  }
  r.finishedAt = new Date().toISOString();
  return r;
}
