/**
 * Warming a just-started sandbox. A fresh Kafka JVM compiles its hot code (C2) in its first minutes
 * under load; on a two-core machine three of them doing so beside the load made the quickstart's
 * e2e p99 27.6 s on a sandbox its run had just started, against 0.45–0.7 s once warm. A production
 * cluster is warm, so a run measures a warm sandbox: before its first run, the sandbox carries a
 * pipeline shaped like the measured one (idempotent produce, acks all → a consumer group whose
 * output and offsets commit in transactions → a read_committed reader, rack-aware) on topics of its
 * own, for a stated time. Nothing of it is measured or scored; the report says it happened.
 */
import { randomBytes } from 'node:crypto';
import type { Security } from '../kafka/security.js';
import { createConsumer, createKafka, createProducer } from '../kafka/client.js';
import { createTopics } from '../drive/topics.js';

export interface WarmupResult {
  /** Seconds of warm-up traffic (planned; the run stops early only when told to). */
  seconds: number;
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
  seconds: number;
  /** Records per second offered (default 3 000: the quickstart's burst rate). */
  rate?: number;
  log?: (line: string) => void;
}

export const WARMUP_PREFIX = 'clickbench-warmup';

/** Drive the warm-up pipeline for `seconds`, then delete its topics. */
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
  const r: WarmupResult = { seconds: o.seconds, produced: 0, transformed: 0, read: 0, transactions: 0, finishedAt: '' };
  const producer = createProducer(kafka, { idempotent: true });
  const txnProducer = createProducer(kafka, { transactionalId: `${id}.transform`, idempotent: true, maxInFlightRequests: 1 });
  let stopping = false;
  const transform = createConsumer(kafka, { groupId: `${id}.transform`, rackId: o.zones[1 % o.zones.length], readUncommitted: false }, () => !stopping);
  const reader = createConsumer(kafka, { groupId: `${id}.read`, rackId: o.zones[2 % o.zones.length], readUncommitted: false }, () => !stopping);
  try {
    await Promise.all([producer.connect(), txnProducer.connect(), transform.connect(), reader.connect()]);
    await transform.subscribe({ topic: inTopic, fromBeginning: true });
    await reader.subscribe({ topic: outTopic, fromBeginning: true });
    await transform.run({
      autoCommit: false,
      // One transaction at a time: a transactional producer has one open transaction.
      eachBatch: async ({ batch, isRunning }) => {
        if (!isRunning() || batch.messages.length === 0) return;
        const txn = await txnProducer.transaction();
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
      },
    });
    await reader.run({ autoCommit: false, eachBatch: async ({ batch }) => { r.read += batch.messages.length; } });
    const value = JSON.stringify({ event_type: 'page_view', page: '/warm'.padEnd(400, 'x'), user_agent: 'clickbench-warmup' });
    const start = Date.now();
    const end = start + o.seconds * 1_000;
    let next = 0;
    while (Date.now() < end) {
      const due = Math.floor(((Date.now() - start) / 1_000) * rate);
      if (due <= r.produced) {
        await new Promise((res) => setTimeout(res, 20));
        continue;
      }
      const n = Math.min(due - r.produced, 1_000);
      await producer.send({ topic: inTopic, acks: -1, messages: Array.from({ length: n }, () => ({ key: `k${next++ % 5_000}`, value })) });
      r.produced += n;
    }
  } finally {
    stopping = true;
    await Promise.all([transform.disconnect(), reader.disconnect()].map((p) => p.catch(() => {})));
    await Promise.all([producer.disconnect(), txnProducer.disconnect()].map((p) => p.catch(() => {})));
    await admin.deleteTopics({ topics: [inTopic, outTopic], timeout: 30_000 }).catch((err: Error) => o.log?.(`could not delete the warm-up topics ${id}.*: ${err.message}`));
    await admin.disconnect().catch(() => {});
  }
  r.finishedAt = new Date().toISOString();
  return r;
}
