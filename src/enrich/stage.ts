/**
 * The enrichment stage on Kafka: lookup tables from the compacted topics (loaded to their end
 * before the first event, then followed), a consumer group on the raw topic, and output to the
 * enriched sink and the DLQ.
 *
 * Delivery `eos`: per fetched batch one transaction holds the outputs and the consumed offsets
 * (consume → produce → offsets), so a crash leaves either all of a batch or none of it.
 * Delivery `alo`: outputs are produced, offsets committed every 2 s (ALO_COMMIT_INTERVAL_MS); a
 * crash replays whatever was produced after the last commit (duplicates downstream).
 */
import { indexedAssigner, type InstanceIndex } from './assigner.js';
import type { Security } from '../kafka/security.js';
import { randomBytes } from 'node:crypto';
import type { EachBatchPayload, Message } from 'kafkajs';
import { createConsumer, createKafka, createProducer, type Consumer, type Kafka, type Producer } from '../kafka/client.js';
import type { EnrichmentConfig } from '../scenario/schema.js';
import { Enricher, type EnrichmentCounters, type EnrichmentVersion } from './enricher.js';
import { LOOKUP_KINDS, LookupTables, type LookupKind } from './tables.js';
import type { TopicNames } from '../drive/topics.js';
import { sleep } from '../sandbox/process.js';
import { ClickbenchError } from '../errors.js';
import { CODEC_TYPE, type Codec } from '../kafka/compression.js';
import { isRetriableError } from '../kafka/client.js';
import { fetchedBytes } from '../kafka/wire.js';
import { ByteArena } from './arena.js';
import type { PackedRecords } from '../kafka/packed.js';
import { BatchedSender, merged, OutputRoute, type ProduceRequest } from './output.js';
import { concurrentRetries } from '../kafka/kafkajs-fixes.js';

/** At-least-once commits consumed offsets this often (Kafka's enable.auto.commit default is 5 s). */
export const ALO_COMMIT_INTERVAL_MS = 2_000;
export { TABLE_STALL_MS, FETCH_MAX_WAIT_MS } from './limits.js';
import { TABLE_STALL_MS, FETCH_MAX_WAIT_MS } from './limits.js';
/** Least time between the starts of two transactions (Kafka Streams' commit.interval.ms default under exactly-once). */
export const EOS_COMMIT_INTERVAL_MS = 100;
/**
 * When the stage is behind, the least time between a transaction's end and the next one's start. A
 * transaction's batches come from one or two of the consumer's per-broker fetchers, and those fetch
 * again only once it commits: without a wait, the next transaction took the other fetchers' batches
 * alone, ~4 of 12 partitions per transaction on the enrichment bench. Transactions cost the brokers
 * far more than their records (markers, transaction-log writes): fewer, fuller ones are cheaper.
 * A live stream (small batches) never waits for this. Measured side by side (6 rounds each of 100 000
 * events behind, 12 partitions; medians): 45 → 37 transactions, broker CPU 44 → 35 µs per event,
 * 16 300 → 18 200 events/s.
 */
export const EOS_BEHIND_LINGER_MS = 40;
/** Partition batches handled at once (they share one transaction with eos). */
export const CONCURRENT_PARTITIONS = 16;
/**
 * With client.rack, kafkajs fetches from the preferred read replica the broker names (KIP-392) and
 * keeps that choice for metadataMaxAge (5 min by default), even when that broker is gone: its
 * offline check looks at the leader's id, not the replica's. A dead same-zone follower then stalls
 * the partition for minutes (seen in the zone-outage test). Keeping the choice 5 s bounds that.
 */
export const PREFERRED_REPLICA_TTL_MS = 5_000;
/**
 * Most bytes fetched per raw partition at once (enriched records are ~2× their raw size; output
 * requests are cut at 512 KB each, under the broker's 1 MB limit). When the stage is behind, one
 * transaction holds up to this much per partition: fewer, larger transactions, and the brokers' cost
 * of a transaction (markers, transaction-log writes, offsets) spread over more records. Measured on the
 * enrichment bench (100 000 events behind, 12 partitions, eos, one sandbox, medians of 3, 2026-12-05):
 * 256 KiB → 22 700 events/s and 23–27 µs of broker CPU per event, 1 MiB → 29 400 and 15–19; 2 MiB
 * 31 100, within the 1 MiB rounds' spread (28 100–31 400). 512 KiB was tried on 2026-12-03 and withdrawn after one suite run had 42 sink
 * duplicates in the leader-kill + enricher-kill test; their cause — a restarted consumer's batch
 * committed by a second transaction while the first still held it, which larger transactions make
 * likelier — was fixed the same day (`pending` below), and the fault tests pass at 1 MiB.
 */
export const FETCH_BYTES_PER_PARTITION = 1024 * 1024;
/** Wait before the stage replaces a consumer that crashed for good. */
export const CONSUMER_RESTART_MS = 2_000;

export interface StageOptions {
  brokers: string[];
  /** TLS / SASL for the stage's clients. */
  security?: Security;
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
  /** Written as header cb-generation: bumped by each replay, so a replayed output is told from a duplicate. */
  generation?: number;
  /** Record-batch codec of the output producer (default none). */
  compression?: Codec;
  /** One of several instances in the group: partitions by instance index (./assigner.ts); the transactional id must be this instance's. */
  instance?: InstanceIndex;
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
  /** CONCURRENT_TRANSACTIONS answers retried: by kafkajs or the stage (counted here), and below kafkajs (kafkajs fix 9). */
  get concurrentTransactionRetries(): number {
    return this.concurrentSeen + (concurrentRetries.get(this.opts.transactionalId) ?? 0) - this.concurrentBase;
  }
  private concurrentSeen = 0;
  private readonly concurrentBase: number;
  groupJoins = 0;
  /** When this stage's consumer first joined its group (ms since the epoch); undefined until it has. */
  firstJoinAt?: number;
  /** Records skipped because this instance had already committed them (stale re-delivery after a rebalance). */
  redeliveredSkipped = 0;
  /** Per raw partition: the outcome (settled either way) of a transaction that still holds its records. */
  private readonly pending = new Map<number, Promise<void>>();
  /** Per raw partition: the next offset this instance committed in a transaction. */
  private readonly committedNext = new Map<number, number>();
  /** Commits that raised an error but had landed (found in the group's committed offsets). */
  commitsConfirmedAfterError = 0;
  /** Times the lookup tables were re-read from the leaders after a stalled rack-aware read. */
  tableFallbacks = 0;
  private readonly producedNext = new Map<number, string>();
  /** Batches waiting for the next transaction; `behind`: the batch was at least half the fetch limit (more records were waiting). */
  private readonly groupCommit: { requests: ProduceRequest[]; behind: boolean; partition: number; nextOffset: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  private committing = false;
  /** At-least-once: the batches kafkajs hands over together, sent together (src/enrich/output.ts). */
  private readonly aloSender: BatchedSender;
  /** Where enriched values are written as soon as they are made (./arena.ts). */
  private readonly arena = new ByteArena();
  private readonly generationHeader: string;
  /** Payload bytes consumed from the raw topic, per partition, and produced (enriched + DLQ). */
  readonly consumedBytes = new Map<number, number>();
  /** Bytes of the produce requests the stage sent, topic → partition → bytes (as on the wire, before compression). */
  get producedBytes(): Map<string, Map<number, number>> {
    return this.route.producedBytes;
  }
  private commitTimer?: NodeJS.Timeout;
  /** The output topics' partitions and leaders, and how requests go to them (src/enrich/output.ts). */
  private readonly route: OutputRoute;
  /** The output producer's record-batch codec (kafkajs's type number). */
  private readonly compression: number;
  private lastTxnAt = 0;
  private lastTxnEnd = 0;
  private lastTxnBehind = false;
  private stopped = false;
  /** New consumer-group members started by the stage after a crash kafkajs would not restart. */
  consumerRestarts = 0;
  /** Transactional producers replaced (an abort that did not reach the coordinator, or a producer that could not begin a transaction). */
  producerReplacements = 0;
  /** Σ over ended transactions (committed or aborted) of the output partitions each touched: each got a marker (the cross-zone model's transaction overhead). */
  txnPartitions = 0;
  private restartTimer?: NodeJS.Timeout;

  constructor(private readonly opts: StageOptions) {
    // CONCURRENT_TRANSACTIONS right after a commit is normal while the markers are written
    // (KAFKA-5477; kafkajs #304): it is retried quickly and counted, not printed.
    this.kafka = createKafka({
      brokers: opts.brokers,
      security: opts.security,
      label: 'enrichment',
      clientId: `clickbench-enrich-${opts.version}`, // OutputRoute counts its length in every produce request
      log: (line) => {
        if (/concurrent operation on the same transaction/.test(line)) this.concurrentSeen++;
        else opts.log?.(line);
      },
      // A produce retried by the client: leaders may be moving, so one partition per request for a while.
      // (CONCURRENT_TRANSACTIONS right after a commit is the transaction's own pace, not a moving leader.)
      onRetry: (reason) => {
        if (/concurrent operation on the same transaction/.test(reason)) this.concurrentSeen++;
        else this.route.beCareful();
      },
    });
    this.concurrentBase = concurrentRetries.get(opts.transactionalId) ?? 0;
    this.enricher = new Enricher(this.tables, opts.version, opts.config);
    this.generationHeader = String(opts.generation ?? 0);
    this.route = new OutputRoute({ output: opts.outputTopic, dlq: opts.names.dlq }, { clientId: `clickbench-enrich-${opts.version}`, transactionalId: opts.delivery === 'eos' ? opts.transactionalId : null });
    this.compression = CODEC_TYPE[opts.compression ?? 'none'];
    this.aloSender = new BatchedSender(this.route, (topicMessages) => this.producer!.sendBatch({ topicMessages, acks: -1, compression: this.compression }));
    for (const k of LOOKUP_KINDS) this.topicOfKind.set(opts.names.lookups[k], k);
  }

  get counters(): EnrichmentCounters {
    return this.enricher.counters;
  }

  private newProducer(): Producer {
    const o = this.opts;
    return o.delivery === 'eos'
      ? createProducer(this.kafka, { transactionalId: o.transactionalId, maxInFlightRequests: 1, idempotent: true, retry: { initialRetryTime: 5, maxRetryTime: 300, retries: 60 } })
      : createProducer(this.kafka, { idempotent: true });
  }

  private async retryConcurrent<T>(fn: () => Promise<T>, attempts = 40): Promise<T> {
    for (let i = 0; ; i++) {
      try {
        return await fn();
      } catch (err) {
        if (i >= attempts || !/concurrent operation on the same transaction/.test((err as Error).message)) throw err;
        this.concurrentSeen++;
        await sleep(Math.min(100, 5 * (i + 1)));
      }
    }
  }

  /**
   * The consumer group member. kafkajs restarts a crashed consumer only for retriable errors; any other
   * crash (a transaction error a broker outage left behind, seen in the zone-outage test) would stop
   * the stage for good while the run went on. Like Kafka Streams' REPLACE_THREAD, the stage starts a
   * new member after CONSUMER_RESTART_MS instead, and counts it (`consumerRestarts`).
   */
  private async startConsumer(): Promise<void> {
    const o = this.opts;
    const consumer = (this.consumer = createConsumer(this.kafka, {
      groupId: o.groupId,
      rackId: o.rack,
      readUncommitted: false,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      metadataMaxAge: PREFERRED_REPLICA_TTL_MS,
      maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
      maxBytesPerPartition: FETCH_BYTES_PER_PARTITION,
      ...(o.instance && o.instance.of > 1 ? { partitionAssigners: [indexedAssigner(o.instance, o.log)] } : {}),
    }, () => !this.stopped));
    consumer.on(consumer.events.CRASH, (e) => {
      const err = e.payload.error as Error & { retriable?: boolean };
      o.log?.(`enrichment consumer crashed${e.payload.restart ? ' (kafkajs restarts it)' : this.stopped ? '' : ` (a new one starts in ${CONSUMER_RESTART_MS / 1000} s)`}: ${err.message}`);
      if (!e.payload.restart && !this.stopped) this.scheduleConsumerRestart();
    });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.groupJoins++;
      this.firstJoinAt ??= Date.now();
    });
    await consumer.connect();
    await consumer.subscribe({ topic: o.names.raw, fromBeginning: true });
    await consumer.run(
      o.delivery === 'eos'
        ? { autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: CONCURRENT_PARTITIONS, eachBatch: (p) => this.eosBatch(p) }
        : { autoCommit: false, eachBatchAutoResolve: true, partitionsConsumedConcurrently: CONCURRENT_PARTITIONS, eachBatch: (p) => this.aloBatch(p) },
    );
  }

  private scheduleConsumerRestart(): void {
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopped) return;
      this.consumerRestarts++;
      void (async () => {
        await this.consumer?.disconnect().catch(() => {});
        if (this.stopped) return;
        await this.startConsumer();
      })().catch((err: Error) => {
        // Not even a new member could join (the brokers still down): try again.
        this.opts.log?.(`enrichment consumer could not be restarted: ${err.message}; trying again in ${CONSUMER_RESTART_MS / 1000} s`);
        if (!this.stopped) this.scheduleConsumerRestart();
      });
    }, CONSUMER_RESTART_MS);
  }

  /** Load the lookup tables to their current end, then start enriching. */
  async start(tablesTimeoutMs = 120_000): Promise<void> {
    await this.startTables(tablesTimeoutMs);
    await this.route.start(this.kafka);
    const o = this.opts;
    this.producer = this.newProducer();
    await this.producer.connect();
    // Fence a predecessor with the same transactional id and let its last transaction complete BEFORE
    // joining the group: kafkajs reads committed offsets without KIP-447's require_stable, so offsets of
    // a transaction still completing would be missed and its records enriched twice.
    if (o.delivery === 'eos') await this.initTransactions(this.producer);
    await this.startConsumer();
    if (o.delivery === 'alo') this.commitTimer = setInterval(() => void this.commitProduced(), ALO_COMMIT_INTERVAL_MS);
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
    const deadline = Date.now() + timeoutMs;
    // First from a replica in the stage's zone (rack-aware fetching); if that makes no progress for
    // TABLE_STALL_MS — seen now and then on this machine, with kafkajs fetching from a follower — once more
    // from the leaders, and say so.
    for (const rack of this.opts.rack ? [this.opts.rack, undefined] : [undefined]) {
      const outcome = await this.loadTables(ends, rack, deadline, rack !== undefined ? TABLE_STALL_MS : Infinity);
      if (outcome === 'loaded') return;
      if (outcome === 'stalled') {
        this.tableFallbacks++;
        this.opts.log?.(`lookup tables: no progress for ${TABLE_STALL_MS / 1000} s fetching from zone ${rack}'s replicas; reading them from the leaders instead`);
        continue;
      }
      break;
    }
    const behind = [...ends].filter(([tp, end]) => (this.tableOffsets.get(tp) ?? 0) < end).map(([tp, end]) => `${tp} at ${this.tableOffsets.get(tp) ?? 0}/${end}`);
    throw new ClickbenchError(`the enrichment stage could not load its lookup tables within ${timeoutMs / 1000} s (behind: ${behind.slice(0, 4).join(', ')}${behind.length > 4 ? ', …' : ''})`);
  }

  /** One consumer reading the tables to `ends`: loaded, stalled (no progress for stallMs), or out of time. */
  private async loadTables(ends: Map<string, number>, rack: string | undefined, deadline: number, stallMs: number): Promise<'loaded' | 'stalled' | 'timeout'> {
    await this.tableConsumer?.disconnect().catch(() => {});
    // A private group that never commits: every instance reads the tables from the start.
    this.tableConsumer = createConsumer(this.kafka, { groupId: `${this.opts.groupId}.tables.${randomBytes(4).toString('hex')}`, ...(rack ? { rackId: rack } : {}), metadataMaxAge: PREFERRED_REPLICA_TTL_MS, maxWaitTimeInMs: FETCH_MAX_WAIT_MS }, () => !this.stopped);
    let tablesCrash: Error | undefined;
    this.tableConsumer.on(this.tableConsumer.events.CRASH, (e) => {
      const err = e.payload.error as Error;
      this.opts.log?.(`lookup-table consumer crashed${e.payload.restart ? ' (restarting)' : ''}: ${err.message}`);
      if (!e.payload.restart) tablesCrash = err;
    });
    await this.tableConsumer.connect();
    for (const topic of this.topicOfKind.keys()) await this.tableConsumer.subscribe({ topic, fromBeginning: true });
    await this.tableConsumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const kind = this.topicOfKind.get(batch.topic)!;
        const key = `${batch.topic}:${batch.partition}`;
        // Arrival = the record's timestamp (when the change reached Kafka), not when this instance read
        // it: a restarted stage re-reads the tables, and that must not make old updates look late.
        // A second consumer (after a stall) skips what the first one applied.
        const from = this.tableOffsets.get(key) ?? 0;
        for (const m of batch.messages) if (Number(m.offset) >= from) this.tables.apply(kind, m.key?.toString() ?? '', m.value === null ? null : m.value.toString(), Number(m.timestamp));
        if (batch.messages.length) this.tableOffsets.set(key, Math.max(from, Number(batch.lastOffset()) + 1));
      },
    });
    const progress = () => [...this.tableOffsets.values()].reduce((a, b) => a + b, 0);
    let last = progress();
    let lastChange = Date.now();
    const done = () => [...ends].every(([tp, end]) => (this.tableOffsets.get(tp) ?? 0) >= end);
    while (!done()) {
      if (tablesCrash) throw new ClickbenchError(`the enrichment stage's lookup-table consumer stopped: ${tablesCrash.message}`);
      if (Date.now() > deadline) return 'timeout';
      const now = progress();
      if (now !== last) {
        last = now;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > stallMs) return 'stalled';
      await new Promise((r) => setTimeout(r, 50));
    }
    return 'loaded';
  }

  private transform(batch: Pick<EachBatchPayload['batch'], 'messages' | 'partition'>): { enriched: PackedRecords[]; dlq: Message[]; inBytes: number } {
    /** Output partition → its runs of packed records (ByteArena.record). */
    const runs = new Map<number, PackedRecords[]>();
    const dlq: Message[] = [];
    // Bytes as on the wire, for the cross-zone flow of this consumer.
    const inBytes = fetchedBytes(batch.messages);
    this.consumedBytes.set(batch.partition, (this.consumedBytes.get(batch.partition) ?? 0) + inBytes);
    for (const m of batch.messages) {
      const out = this.enricher.process({ value: m.value, partition: batch.partition, offset: m.offset, timestampMs: Number(m.timestamp) }, m.key?.toString() ?? null);
      out.headers['cb-generation'] = this.generationHeader;
      // Key, value and headers written into the arena now in their wire form (src/kafka/packed.ts): held until the
      // send as a span, copied as they are into the records, compressed batches' too.
      if (out.kind === 'enriched') {
        const p = this.route.partitionOf(this.opts.outputTopic, out.key);
        let list = runs.get(p);
        if (!list) runs.set(p, (list = []));
        this.arena.record(out.key, out.value, out.headers, list, p);
      } else dlq.push({ key: out.key, value: out.value, headers: out.headers });
    }
    return { enriched: [...runs.values()].flat(), dlq, inBytes };
  }

  private async eosBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    // A transaction may still hold this partition's previous records: handed over by a consumer that
    // crashed since (kafkajs restarted it, or the stage did, from the committed offsets). Wait for that
    // transaction's outcome first: committed, its records are skipped below; aborted, they are redone
    // here. (Without KIP-447's generation check in TxnOffsetCommit, kafkajs cannot fence that old work,
    // and both transactions committed the same records: duplicates seen in the leader-kill test.)
    const before = this.pending.get(batch.partition);
    if (before) await before;
    if (!isRunning() || isStale()) return;
    // After a rebalance kafkajs reads committed offsets without KIP-447's require_stable, so it can
    // get an offset from before our last transaction and hand us records we already committed. Skip them.
    const next = this.committedNext.get(batch.partition) ?? -1;
    if (Number(batch.lastOffset()) < next) {
      this.redeliveredSkipped += batch.messages.length;
      resolveOffset(batch.lastOffset());
      await heartbeat();
      return;
    }
    const fresh = batch.messages.filter((m) => Number(m.offset) >= next);
    this.redeliveredSkipped += batch.messages.length - fresh.length;
    const out = this.transform({ partition: batch.partition, messages: fresh });
    const done = new Promise<void>((resolve, reject) => {
      this.groupCommit.push({ requests: this.route.requests(out), behind: out.inBytes >= FETCH_BYTES_PER_PARTITION / 2, partition: batch.partition, nextOffset: Number(batch.lastOffset()) + 1, resolve, reject });
      this.scheduleCommit();
    });
    const settled = done.then(() => {}, () => {});
    this.pending.set(batch.partition, settled);
    void settled.then(() => {
      if (this.pending.get(batch.partition) === settled) this.pending.delete(batch.partition);
    });
    await done;
    resolveOffset(batch.lastOffset());
    await heartbeat();
  }

  /**
   * Group commit: batches of several partitions, handed over concurrently by kafkajs
   * (partitionsConsumedConcurrently), share one transaction: their outputs and all their
   * offsets commit or abort together. One transaction at a time per producer.
   */
  private scheduleCommit(): void {
    if (this.committing) return;
    this.committing = true;
    setImmediate(() => void this.commitLoop());
  }

  private async commitLoop(): Promise<void> {
    while (this.groupCommit.length > 0) {
      // At most one transaction per EOS_COMMIT_INTERVAL_MS (Kafka Streams' commit.interval.ms under
      // exactly-once): each commit writes a marker into every partition it touched, so back-to-back
      // transactions cost the brokers far more than the records in them. Batches arriving meanwhile join.
      // Behind (the last transaction held a large batch), also EOS_BEHIND_LINGER_MS after the last commit:
      // its batches' fetchers fetch again once it ends, and their batches share the next transaction.
      const wait = Math.max(this.lastTxnAt + EOS_COMMIT_INTERVAL_MS, this.lastTxnBehind ? this.lastTxnEnd + EOS_BEHIND_LINGER_MS : 0) - Date.now();
      if (wait > 0) await sleep(wait);
      this.lastTxnAt = Date.now();
      const items = this.groupCommit.splice(0, this.groupCommit.length);
      const touched = new Set(items.flatMap((it) => it.requests.map((r) => `${r.topic}:${r.messages[0]?.partition}`))).size;
      const txn = await this.producer!.transaction().catch((err: Error) => err);
      if (txn instanceof Error) {
        // A producer that cannot begin a transaction (fenced, or left mid-abort by an outage) stays
        // that way: replace it, so the next batches do not fail the same way forever.
        for (const it of items) it.reject(txn);
        await this.replaceProducer();
        continue;
      }
      try {
        await this.route.send(merged(items), (topicMessages) => txn.sendBatch({ topicMessages, acks: -1, compression: this.compression }));
        // kafkajs does not retry AddOffsetsToTxn on CONCURRENT_TRANSACTIONS (kafkajs #430): retry it here.
        await this.retryConcurrent(() => txn.sendOffsets({
          consumerGroupId: this.opts.groupId,
          topics: [{ topic: this.opts.names.raw, partitions: items.map((it) => ({ partition: it.partition, offset: String(it.nextOffset) })) }],
        }));
        await txn.commit();
        this.lastTxnEnd = Date.now();
        this.lastTxnBehind = items.some((it) => it.behind);
        for (const it of items) this.committedNext.set(it.partition, it.nextOffset);
        this.batches++;
        this.txnPartitions += touched;
        for (const it of items) it.resolve();
      } catch (err) {
        this.route.beCareful();
        // An abort that did not reach the coordinator leaves the broker-side transaction open, and the
        // next one from this producer would commit its records too. A new producer (InitProducerId with
        // the same transactional id) fences the old epoch and completes the old transaction for certain.
        // It may have completed as a COMMIT: a commit whose answer was lost (a coordinator failover)
        // still committed. Only the group's committed offsets tell, so read them before any redelivery.
        // A producer whose error is not retriable (fenced by a newer epoch, seen after outages) fails
        // every later transaction the same way, even when its abort went through: replace it too.
        const abortFailed = await txn.abort().then(() => false, () => true);
        this.txnPartitions += touched;
        const outcomeUnknown = abortFailed || !isRetriableError(err);
        if (outcomeUnknown) await this.replaceProducer();
        const landed = outcomeUnknown ? await this.committedByBroker(items.map((it) => it.partition)) : new Map<number, number>();
        const committed = items.every((it) => (landed.get(it.partition) ?? -1) >= it.nextOffset);
        if (committed) {
          this.commitsConfirmedAfterError++;
          for (const it of items) this.committedNext.set(it.partition, it.nextOffset);
          this.batches++;
          for (const it of items) it.resolve();
        } else {
          this.transactionsAborted++;
          for (const [p, next] of landed) if (next > (this.committedNext.get(p) ?? -1)) this.committedNext.set(p, next);
          for (const it of items) it.reject(err as Error);
        }
      }
    }
    this.committing = false;
  }

  /**
   * kafkajs sends the transactional InitProducerId only at a producer's first transaction (connect does
   * not): begin and abort an empty one (no EndTxn is sent for it) to send it now. The coordinator answers
   * once the previous epoch's open transaction is aborted, or its commit complete.
   */
  private async initTransactions(producer: Producer): Promise<void> {
    const txn = await producer.transaction();
    await txn.abort();
  }

  /**
   * A new transactional producer whose InitProducerId fenced the old one and completed its open
   * transaction. Until that answer, what the old transaction did is unknown: keep trying (brokers may
   * be down), unless the stage stops.
   */
  private async replaceProducer(): Promise<void> {
    await this.producer!.disconnect().catch(() => {});
    this.producerReplacements++;
    for (let attempt = 1; !this.stopped; attempt++) {
      this.producer = this.newProducer();
      try {
        await this.producer.connect();
        await this.initTransactions(this.producer);
        return;
      } catch (err) {
        this.opts.log?.(`enrichment producer could not be initialised (attempt ${attempt}): ${(err as Error).message}`);
        await this.producer.disconnect().catch(() => {});
        await sleep(Math.min(2_000, 250 * attempt));
      }
    }
  }

  /**
   * The group's committed offsets (next offset to read) for raw partitions, as the broker has them.
   * Retried while the group coordinator moves or loads (up to ~30 s): an answer missing here would
   * redo a batch whose transaction may have committed.
   */
  private async committedByBroker(partitions: number[]): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    const admin = this.kafka.admin();
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await admin.connect();
          const res = await admin.fetchOffsets({ groupId: this.opts.groupId, topics: [this.opts.names.raw] });
          for (const p of res[0]?.partitions ?? []) if (partitions.includes(p.partition) && Number(p.offset) >= 0) out.set(p.partition, Number(p.offset));
          return out;
        } catch (err) {
          if (attempt >= 60 || this.stopped) {
            this.opts.log?.(`could not read the group's committed offsets after a failed commit: ${(err as Error).message}`);
            return out;
          }
          await sleep(500);
        }
      }
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }

  private async aloBatch({ batch, heartbeat }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0) return;
    await this.aloSender.send(this.route.requests(this.transform(batch)));
    this.producedNext.set(batch.partition, String(Number(batch.lastOffset()) + 1));
    this.batches++;
    await heartbeat();
  }

  /** At-least-once: commit what was produced, on a timer (like enable.auto.commit): a crash replays the rest. Public for the enrichment bench. */
  async commitProduced(): Promise<void> {
    if (this.producedNext.size === 0 || !this.consumer) return;
    const partitions = [...this.producedNext].map(([partition, offset]) => ({ topic: this.opts.names.raw, partition, offset }));
    this.producedNext.clear();
    await this.consumer.commitOffsets(partitions).catch((err) => this.opts.log?.(`offset commit failed: ${(err as Error).message}`));
  }

  /** Stop consuming and close the clients (committed state stays; in-memory state goes). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.commitTimer) clearInterval(this.commitTimer);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    // The lookup tables' consumer goes while the group member finishes its batches (each waits out its
    // fetch in flight); the producer only after the member, whose last transaction it carries.
    const tables = this.tableConsumer?.disconnect().catch(() => {});
    await this.consumer?.stop().catch(() => {});
    await this.commitProduced();
    await Promise.all([this.consumer?.disconnect().catch(() => {}), tables, this.producer?.disconnect().catch(() => {}), this.route.stop()]);
  }
}

