/**
 * The enrichment stage on Kafka: lookup tables from the compacted topics (loaded to their end
 * before the first event, then followed), a consumer group on the raw topic, and output to the
 * enriched sink and the DLQ.
 *
 * Delivery `eos`: per fetched batch one transaction holds the outputs and the consumed offsets
 * (consume → produce → offsets), so a crash leaves either all of a batch or none of it.
 * Delivery `alo`: outputs are produced, offsets committed every 2 s; a crash replays whatever
 * was produced after the last commit (duplicates downstream).
 */
import { randomBytes } from 'node:crypto';
import type { EachBatchPayload, Message } from 'kafkajs';
import { createConsumer, createKafka, createProducer, type Consumer, type Kafka, type Producer } from '../kafka/client.js';
import type { EnrichmentConfig } from '../scenario/schema.js';
import { Enricher, type EnrichmentCounters, type EnrichmentVersion } from './enricher.js';
import { LOOKUP_KINDS, LookupTables, type LookupKind } from './tables.js';
import type { TopicNames } from '../drive/topics.js';
import { waitUntil } from '../sandbox/process.js';
import { ClickbenchError } from '../errors.js';

export interface StageOptions {
  brokers: string[];
  names: TopicNames;
  /** Where enriched records go (the main sink, or a version's own topic in a dual-run). */
  outputTopic: string;
  version: EnrichmentVersion;
  delivery: 'eos' | 'alo';
  config: EnrichmentConfig;
  /** Consumer group on the raw topic; fixed so a restart resumes and a rollback can reset it. */
  groupId: string;
  /** Stable per instance, so a restarted instance fences its predecessor's open transaction. */
  transactionalId: string;
  /** Zone of this client (`client.rack`, for rack-aware fetching). */
  rack?: string;
  log?: (line: string) => void;
}

export class EnrichmentStage {
  readonly tables = new LookupTables();
  readonly enricher: Enricher;
  private readonly kafka: Kafka;
  private tableConsumer?: Consumer;
  private consumer?: Consumer;
  private producer?: Producer;
  private readonly topicOfKind = new Map<string, LookupKind>();
  private readonly tableOffsets = new Map<string, number>();
  batches = 0;
  transactionsAborted = 0;

  constructor(private readonly opts: StageOptions) {
    this.kafka = createKafka({ brokers: opts.brokers, clientId: `clickbench-enrich-${opts.version}`, log: opts.log });
    this.enricher = new Enricher(this.tables, opts.version, opts.config);
    for (const k of LOOKUP_KINDS) this.topicOfKind.set(opts.names.lookups[k], k);
  }

  get counters(): EnrichmentCounters {
    return this.enricher.counters;
  }

  /** Load the lookup tables to their current end, then start enriching. */
  async start(tablesTimeoutMs = 60_000): Promise<void> {
    await this.startTables(tablesTimeoutMs);
    const o = this.opts;
    this.producer = o.delivery === 'eos'
      ? createProducer(this.kafka, { transactionalId: o.transactionalId, maxInFlightRequests: 1, idempotent: true })
      : createProducer(this.kafka, { idempotent: true });
    await this.producer.connect();
    this.consumer = createConsumer(this.kafka, {
      groupId: o.groupId,
      rackId: o.rack,
      readUncommitted: false,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      maxBytesPerPartition: 1024 * 1024,
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: o.names.raw, fromBeginning: true });
    await this.consumer.run(
      o.delivery === 'eos'
        ? { autoCommit: false, eachBatchAutoResolve: false, eachBatch: (p) => this.eosBatch(p) }
        : { autoCommit: true, autoCommitInterval: 2_000, eachBatchAutoResolve: true, eachBatch: (p) => this.aloBatch(p) },
    );
  }

  private async startTables(timeoutMs: number): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    const ends = new Map<string, number>();
    try {
      for (const topic of this.topicOfKind.keys()) {
        for (const p of await admin.fetchTopicOffsets(topic)) if (Number(p.high) > 0) ends.set(`${topic}:${p.partition}`, Number(p.high));
      }
    } finally {
      await admin.disconnect();
    }
    // A private group that never commits: every instance reads the tables from the start.
    this.tableConsumer = createConsumer(this.kafka, { groupId: `${this.opts.groupId}.tables.${randomBytes(4).toString('hex')}`, rackId: this.opts.rack });
    await this.tableConsumer.connect();
    for (const topic of this.topicOfKind.keys()) await this.tableConsumer.subscribe({ topic, fromBeginning: true });
    await this.tableConsumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const kind = this.topicOfKind.get(batch.topic)!;
        const now = Date.now();
        for (const m of batch.messages) this.tables.apply(kind, m.key?.toString() ?? '', m.value === null ? null : m.value.toString(), now);
        if (batch.messages.length) this.tableOffsets.set(`${batch.topic}:${batch.partition}`, Number(batch.lastOffset()) + 1);
      },
    });
    const loaded = await waitUntil(() => [...ends].every(([tp, end]) => (this.tableOffsets.get(tp) ?? 0) >= end), timeoutMs, 50);
    if (!loaded) throw new ClickbenchError(`the enrichment stage could not load its lookup tables within ${timeoutMs / 1000} s`);
  }

  private transform(batch: EachBatchPayload['batch']): { enriched: Message[]; dlq: Message[] } {
    const enriched: Message[] = [];
    const dlq: Message[] = [];
    for (const m of batch.messages) {
      const out = this.enricher.process({ value: m.value, partition: batch.partition, offset: m.offset, timestampMs: Number(m.timestamp) }, m.key?.toString() ?? null);
      (out.kind === 'enriched' ? enriched : dlq).push({ key: out.key, value: out.value, headers: out.headers });
    }
    return { enriched, dlq };
  }

  private topicMessages(out: { enriched: Message[]; dlq: Message[] }) {
    const tm = [];
    if (out.enriched.length) tm.push({ topic: this.opts.outputTopic, messages: out.enriched });
    if (out.dlq.length) tm.push({ topic: this.opts.names.dlq, messages: out.dlq });
    return tm;
  }

  private async eosBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const out = this.transform(batch);
    const txn = await this.producer!.transaction();
    try {
      const tm = this.topicMessages(out);
      if (tm.length) await txn.sendBatch({ topicMessages: tm, acks: -1 });
      await txn.sendOffsets({
        consumerGroupId: this.opts.groupId,
        topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) }] }],
      });
      await txn.commit();
    } catch (err) {
      this.transactionsAborted++;
      await txn.abort().catch(() => {});
      throw err;
    }
    resolveOffset(batch.lastOffset());
    this.batches++;
    await heartbeat();
  }

  private async aloBatch({ batch, heartbeat }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0) return;
    const tm = this.topicMessages(this.transform(batch));
    if (tm.length) await this.producer!.sendBatch({ topicMessages: tm, acks: -1 });
    this.batches++;
    await heartbeat();
  }

  /** Stop consuming and close the clients (committed state stays; in-memory state goes). */
  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => {});
    await this.tableConsumer?.disconnect().catch(() => {});
    await this.producer?.disconnect().catch(() => {});
  }
}
