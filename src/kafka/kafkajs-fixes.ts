/**
 * Fixes for kafkajs 2.2.4 (the library is no longer released, so they are applied here, at load):
 * 1. a stopped consumer's fetchers spin; 2. every connection runs a 1 ms timer; 3. each record is
 * encoded through seven zero-filled buffers (src/kafka/record-encoder.ts writes it into one);
 * 5. an OFFSET_OUT_OF_RANGE from a follower resets the group's offset instead of asking the leader;
 * 6. a produce request is copied through six growing buffers and its CRC taken a byte at a time
 * (src/kafka/produce-encoder.ts writes it once); 7. kafkajs's encoders grow into zero-filled buffers;
 * 8. every exactly-once transaction looks up its coordinators six times; 9. CONCURRENT_TRANSACTIONS
 * after a commit costs a metadata refresh and a growing back-off; 10. a send's messages are grouped per
 * partition in quadratic time; 11. requests are framed through two more copies; 12. a send's retries
 * re-send partitions already written (duplicates) and can skip unwritten ones (10–12 installed before
 * kafkajs loads: src/kafka/kafkajs-preload.ts).
 *
 * 1. A stopped consumer's fetchers spin.
 * When the brokers leading a consumer's partitions change (a broker added, a preferred-leader
 * election), kafkajs restarts its per-broker fetchers. If the consumer is stopped at that moment,
 * the new fetchers outlive the stop: each loops on `Runner.fetch`, which returns `[]` at once for a
 * stopped runner, so the loop never leaves the microtask queue. The process sits at 100 % CPU with
 * its timers starved, for good (seen in a scale-out run: stuck after the load ended; the kafkajs
 * issues #1384 and #1387 describe the same tight loop when no broker is left).
 *
 * The fix: a stopped runner's fetch stops the fetch manager (its fetchers leave their loops and the
 * runner's scheduling ends as after a normal stop) and yields to the event loop before returning.
 */
import { createRequire } from 'node:module';
import { recordEncoder } from './record-encoder.js';
import { produceRequestV3, type ProduceArgs, type ProduceRequest } from './produce-encoder.js';
import { withBatchKind } from './compression.js';
import { frameRequest } from './request-framing.js';
import { createSendMessages, type SendDeps } from './send-messages.js';

/*
 * 2. Every broker connection runs a 1 ms timer for as long as it lives (tulios/kafkajs#1751).
 *
 * `RequestQueue.scheduleCheckPendingRequests` computes `throttledUntil - Date.now()` and, when nothing
 * is pending, passes it to setTimeout as it is: with no throttle that is about minus the epoch, which
 * Node turns into 1 ms (Node 24 also prints a TimeoutNegativeWarning into the user's terminal). The
 * timer calls `checkPendingRequests`, which schedules the next one: from its first request until it is
 * destroyed, each connection wakes the event loop ~1 000 times a second to find an empty queue.
 *
 * The fix: a check is scheduled only when a request is pending, when the throttle ends if one is on,
 * else after kafkajs's own 10 ms interval. Nothing pending means nothing to check: a request that
 * cannot go at once is queued by `push`, which schedules the check itself, and a finished request
 * calls `checkPendingRequests` directly.
 */
interface RequestQueueLike {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs's CHECK_PENDING_REQUESTS_INTERVAL (ms): how soon pending requests are looked at again without a throttle. */
export const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;

/** The replacement for `RequestQueue.prototype.scheduleCheckPendingRequests`. */
export function scheduleCheckPendingRequests(this: RequestQueueLike): void {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const throttleLeft = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, throttleLeft > 0 ? throttleLeft : CHECK_PENDING_REQUESTS_INTERVAL_MS);
}

interface RunnerLike {
  running: boolean;
  fetchManager: { stop(): Promise<void> };
  fetch(nodeId: number): Promise<unknown[]>;
}

/** The replacement for `Runner.prototype.fetch`, around the original. */
export function stoppedRunnerSafeFetch(original: (this: RunnerLike, nodeId: number) => Promise<unknown[]>, yieldMs = 10) {
  return async function fetch(this: RunnerLike, nodeId: number): Promise<unknown[]> {
    if (this.running) return original.call(this, nodeId);
    void this.fetchManager.stop().catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, yieldMs));
    return [];
  };
}

/*
 * 5. An OFFSET_OUT_OF_RANGE from a follower resets the group's offset instead of asking the leader.
 *
 * A consumer with `rackId` reads from a follower in its zone (KIP-392). A follower that is behind (a new
 * replica still catching up during a reassignment, one back from a restart) answers OFFSET_OUT_OF_RANGE
 * for an offset the leader has. kafkajs means to retry with the leader then, but its check,
 * `typeof preferredReadReplicas[partition] === 'number'`, never holds: the entries are
 * `{ nodeId, expireAt }` objects. So it falls through to the reset: it commits the default offset
 * (the earliest, for clickbench's consumers) for the group and reads the partition again from the start.
 *
 * The fix: when the partition was read from a preferred replica, forget that replica (the next fetch goes
 * to the leader), as kafkajs meant to; only a leader's answer resets the offset.
 */
interface ConsumerGroupLike {
  preferredReadReplicasPerTopicPartition: Record<string, Record<number, unknown> | undefined>;
  logger?: { info: (msg: string, extra?: object) => void };
}

/** The replacement for `ConsumerGroup.prototype.recoverFromOffsetOutOfRange`, around the original. */
export function followerOutOfRangeToLeader(original: (this: ConsumerGroupLike, e: { topic: string; partition: number }) => Promise<void>) {
  return async function recoverFromOffsetOutOfRange(this: ConsumerGroupLike, e: { topic: string; partition: number }): Promise<void> {
    const replicas = this.preferredReadReplicasPerTopicPartition?.[e.topic];
    if (replicas && replicas[e.partition] != null) {
      this.logger?.info('Offset out of range while fetching from follower, retrying with leader', { topic: e.topic, partition: e.partition });
      delete replicas[e.partition];
      return;
    }
    return original.call(this, e);
  };
}

/*
 * 8. Every transaction asks for its coordinators six times.
 *
 * kafkajs's `Cluster.findGroupCoordinator` sends a FindCoordinator request on every call, and its
 * transactional producer calls it before each AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit and
 * EndTxn: six round trips per exactly-once transaction before the requests themselves (bench:cost, the
 * quickstart pipeline at 1 000 events/s: 50.6 FindCoordinator per 1 000 events, 6.4 per transaction).
 * Kafka's Java client keeps its coordinator until a request to it fails.
 *
 * The fix: the answer is kept per client (cluster), per coordinator type and key, for up to
 * COORDINATOR_TTL_MS, and forgotten as soon as a request that goes to a coordinator fails with "not the
 * coordinator", "coordinator not available" or a connection error, or the broker is no longer known.
 * kafkajs retries those requests, and the retry asks again.
 */
export const COORDINATOR_TTL_MS = 60_000;

/** kafkajs's error types that say a broker is not (or no longer) the coordinator asked for. */
const STALE_COORDINATOR = new Set(['NOT_COORDINATOR_FOR_GROUP', 'GROUP_COORDINATOR_NOT_AVAILABLE']);
const CONNECTION_ERRORS = new Set(['KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSRequestTimeoutError']);

/** Whether an error from a coordinator request means the coordinator should be looked up again. */
export function staleCoordinatorError(e: unknown): boolean {
  const err = e as { type?: string; name?: string; code?: string } | null;
  return !!err && (STALE_COORDINATOR.has(err.type ?? '') || CONNECTION_ERRORS.has(err.name ?? '') || err.code === 'ECONNREFUSED');
}

/** The broker requests that go to a group or transaction coordinator. */
export const COORDINATOR_REQUESTS = ['initProducerId', 'addPartitionsToTxn', 'addOffsetsToTxn', 'txnOffsetCommit', 'endTxn', 'joinGroup', 'syncGroup', 'heartbeat', 'leaveGroup', 'offsetCommit', 'offsetFetch', 'describeGroups'] as const;

interface BrokerLike {
  nodeId: number | null;
}
interface ClusterLike {
  findBroker(a: { nodeId: number }): Promise<BrokerLike>;
}
type FindCoordinator = (this: ClusterLike, a: { groupId: string; coordinatorType?: number }) => Promise<BrokerLike>;

/** Coordinator answers per cluster, and the failures that void them. */
export class CoordinatorCache {
  private readonly byCluster = new WeakMap<object, Map<string, { nodeId: number; at: number; seq: number }>>();
  /** Per broker id: the sequence number of its last coordinator failure (answers from before it are void). */
  private readonly failedAt = new Map<number, number>();
  private seq = 0;
  lookups = 0;
  hits = 0;

  constructor(private readonly ttlMs = COORDINATOR_TTL_MS, private readonly now: () => number = Date.now) {}

  /** The replacement for `Cluster.prototype.findGroupCoordinator`, around the original. */
  find(original: FindCoordinator): FindCoordinator {
    const cache = this;
    return async function findGroupCoordinator(this: ClusterLike, a) {
      let answers = cache.byCluster.get(this);
      if (!answers) cache.byCluster.set(this, (answers = new Map()));
      const key = `${a.coordinatorType ?? 0}:${a.groupId}`;
      const hit = answers.get(key);
      if (hit && cache.now() - hit.at < cache.ttlMs && (cache.failedAt.get(hit.nodeId) ?? -1) < hit.seq) {
        try {
          const broker = await this.findBroker({ nodeId: hit.nodeId });
          cache.hits++;
          return broker;
        } catch {
          answers.delete(key);
        }
      }
      cache.lookups++;
      const seq = ++cache.seq;
      const broker = await original.call(this, a);
      if (typeof broker?.nodeId === 'number') answers.set(key, { nodeId: broker.nodeId, at: cache.now(), seq });
      return broker;
    };
  }

  /** A coordinator request on `broker` failed with `err`: void what was kept for it when the error says so. */
  failed(broker: BrokerLike, err: unknown): void {
    if (typeof broker.nodeId === 'number' && staleCoordinatorError(err)) this.failedAt.set(broker.nodeId, ++this.seq);
  }

  /** The replacement for a broker's coordinator request, around the original. */
  watch<A extends unknown[], R>(original: (this: BrokerLike, ...a: A) => Promise<R>): (this: BrokerLike, ...a: A) => Promise<R> {
    const cache = this;
    return async function coordinatorRequest(this: BrokerLike, ...a: A): Promise<R> {
      try {
        return await original.apply(this, a);
      } catch (err) {
        cache.failed(this, err);
        throw err;
      }
    };
  }
}

/*
 * 9. CONCURRENT_TRANSACTIONS right after a commit costs a metadata refresh and a growing back-off.
 *
 * After EndTxn the coordinator still writes the commit markers; until they are written, the next
 * transaction's AddPartitionsToTxn (and AddOffsetsToTxn) is refused with CONCURRENT_TRANSACTIONS. kafkajs
 * takes that as a retriable send failure: it refreshes the metadata and retries the whole send after its
 * exponential back-off. With the enrichment bench's back-to-back transactions that was ~2 Metadata
 * requests per transaction (99 in 54). Kafka's Java producer retries these two requests after a short
 * fixed back-off instead (KAFKA-5477).
 *
 * The fix: those two requests are sent again after CONCURRENT_RETRY_MS, up to CONCURRENT_RETRY_LIMIT
 * times, before kafkajs sees the error; the retries are counted per transactional id.
 */
export const CONCURRENT_RETRY_MS = 5;
export const CONCURRENT_RETRY_LIMIT = 200;
/** Per transactional id: CONCURRENT_TRANSACTIONS answers retried by fix 9. */
export const concurrentRetries = new Map<string, number>();

/** The replacement for `Broker.prototype.addPartitionsToTxn` / `addOffsetsToTxn`, around the original. */
export function retryConcurrentTransactions<A extends { transactionalId?: string }, R>(original: (this: unknown, a: A) => Promise<R>, waitMs = CONCURRENT_RETRY_MS, limit = CONCURRENT_RETRY_LIMIT) {
  return async function concurrentRetrying(this: unknown, a: A): Promise<R> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await original.call(this, a);
      } catch (err) {
        if ((err as { type?: string }).type !== 'CONCURRENT_TRANSACTIONS' || attempt >= limit) throw err;
        const id = a?.transactionalId ?? '';
        concurrentRetries.set(id, (concurrentRetries.get(id) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, waitMs));
      }
    }
  };
}

/** The process's coordinator cache. */
export const coordinatorCache = new CoordinatorCache();

interface EncoderLike {
  buf: Buffer;
  offset: number;
  ensureAvailable(length: number): void;
}

/** The replacement for `Encoder.prototype.ensureAvailable`: the same growth, into a buffer that is not zero-filled first. */
export function growUnzeroed(nextPowerOfTwo: (n: number) => number) {
  return function ensureAvailable(this: EncoderLike, length: number): void {
    if (this.offset + length <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(nextPowerOfTwo(this.offset + length));
    this.buf.copy(grown, 0, 0, this.offset);
    this.buf = grown;
  };
}

/*
 * 10. A send's messages are grouped per partition in quadratic time.
 *
 * kafkajs's `groupMessagesPerPartition` adds each message with `[...current, message]`: a copy of the
 * partition's list so far per message. A 512 KB request of the stage (~650 enriched records, one
 * partition) made ~210 000 copies; it was ~2 µs of the stage's ~31 µs of CPU per event (V8 profiler,
 * enrichment bench). The replacement groups in one pass, into the same object (partition → messages in
 * order; the unit test compares the two). kafkajs's sendMessages takes the function when it loads, so it
 * is put in the module cache before kafkajs is first imported (src/kafka/kafkajs-preload.ts).
 */
interface GroupArgs<M> {
  topic: string;
  partitionMetadata: unknown[];
  messages: M[];
  partitioner: (a: { topic: string; partitionMetadata: unknown[]; message: M }) => number;
}

export function groupMessagesPerPartition<M>({ topic, partitionMetadata, messages, partitioner }: GroupArgs<M>): Record<number, M[]> {
  const result: Record<number, M[]> = {};
  if (partitionMetadata.length === 0) return result;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (result[partition] ??= []).push(message);
  }
  return result;
}

const GROUP_MODULE = 'kafkajs/src/producer/groupMessagesPerPartition';
const SEND_MODULE = 'kafkajs/src/producer/sendMessages';
const CONNECTION_MODULE = 'kafkajs/src/network/connection';
const FRAMING_MODULE = 'kafkajs/src/protocol/request';

/** Fix 12 as installed (kafkajs's messageProducer takes it when it loads). */
let sendReplacement: unknown;

/** Fix 10, into the module cache; throws when kafkajs's producer was loaded before it. Idempotent. */
export function installBeforeKafkajs(): void {
  const require = createRequire(import.meta.url);
  const groupPath = require.resolve(GROUP_MODULE);
  if (require.cache[groupPath]?.exports === groupMessagesPerPartition) return;
  if (require.cache[require.resolve(SEND_MODULE)] || require.cache[require.resolve(CONNECTION_MODULE)]) throw new Error('kafkajs was loaded before src/kafka/kafkajs-preload.ts: import it before kafkajs in every module that imports kafkajs');
  require(groupPath);
  require.cache[groupPath]!.exports = groupMessagesPerPartition;
  // 11. Requests framed once at their exact size (src/kafka/request-framing.ts); connection.js takes the framing when it loads.
  const framingPath = require.resolve(FRAMING_MODULE);
  const original = require(framingPath) as Parameters<typeof frameRequest>[0];
  if (typeof original !== 'function') throw new Error(`kafkajs: request framing not found at ${framingPath}`);
  require.cache[framingPath]!.exports = frameRequest(original);
  // 12. A send's retries keep each partition's answer (src/kafka/send-messages.ts); messageProducer.js takes it when it loads.
  const sendPath = require.resolve(SEND_MODULE);
  if (typeof require(sendPath) !== 'function') throw new Error(`kafkajs: sendMessages not found at ${sendPath}`);
  const errors = require('kafkajs/src/errors') as { KafkaJSMetadataNotLoaded?: SendDeps['KafkaJSMetadataNotLoaded'] };
  const protocolErrors = require('kafkajs/src/protocol/error') as { staleMetadata?: SendDeps['staleMetadata'] };
  const responseSerializer = require('kafkajs/src/producer/responseSerializer') as SendDeps['responseSerializer'];
  if (typeof errors.KafkaJSMetadataNotLoaded !== 'function' || typeof protocolErrors.staleMetadata !== 'function' || typeof responseSerializer !== 'function') throw new Error('kafkajs: the modules its sendMessages uses are not where they were');
  require.cache[sendPath]!.exports = sendReplacement = createSendMessages({ KafkaJSMetadataNotLoaded: errors.KafkaJSMetadataNotLoaded, staleMetadata: protocolErrors.staleMetadata, responseSerializer, groupMessagesPerPartition: groupMessagesPerPartition as SendDeps['groupMessagesPerPartition'] });
}

let installed = false;

/** Installs the fixes once, on the module instances kafkajs's clients use; throws when kafkajs no longer has a method. */
export function installKafkajsFixes(): void {
  if (installed) return;
  const require = createRequire(import.meta.url);
  const version = (require('kafkajs/package.json') as { version: string }).version;
  // 10. Put in place before kafkajs loaded (src/kafka/kafkajs-preload.ts), or kafkajs took its own.
  if (require.cache[require.resolve(GROUP_MODULE)]?.exports !== groupMessagesPerPartition) throw new Error(`kafkajs ${version}: loaded before src/kafka/kafkajs-preload.ts; its per-partition grouping fix is not in place`);
  if (!sendReplacement || require.cache[require.resolve(SEND_MODULE)]?.exports !== sendReplacement) throw new Error(`kafkajs ${version}: loaded before src/kafka/kafkajs-preload.ts; its send-retry fix is not in place`);
  const Runner = require('kafkajs/src/consumer/runner') as { prototype: RunnerLike };
  if (typeof Runner?.prototype?.fetch !== 'function') throw new Error(`kafkajs ${version}: consumer Runner.fetch not found; the stopped-consumer fix cannot be installed`);
  const RequestQueue = require('kafkajs/src/network/requestQueue') as { prototype: RequestQueueLike };
  if (typeof RequestQueue?.prototype?.scheduleCheckPendingRequests !== 'function') throw new Error(`kafkajs ${version}: RequestQueue.scheduleCheckPendingRequests not found; the request-queue timer fix cannot be installed`);
  // 3. Records encoded into one exactly-sized buffer each (src/kafka/record-encoder.ts). kafkajs's produce
  // request takes its record encoder from the module cache when it is first loaded, on the first produce.
  const recordPath = require.resolve('kafkajs/src/protocol/recordBatch/record/v0');
  const producePath = require.resolve('kafkajs/src/protocol/requests/produce/v3/request');
  if (require.cache[producePath]) throw new Error(`kafkajs ${version}: its produce request was loaded before clickbench's fixes; the record encoder cannot be installed`);
  const original = require(recordPath) as Parameters<typeof recordEncoder>[0];
  if (typeof original !== 'function') throw new Error(`kafkajs ${version}: record encoder not found at ${recordPath}`);
  require.cache[recordPath]!.exports = recordEncoder(original);
  // 4. Not a fix: each record batch says whether it is transactional while its codec runs (compression
  // counted per producer kind in one process, src/kafka/compression.ts). The produce request takes
  // RecordBatch from this module's exports when it loads.
  const batchModule = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (args: { transactional?: boolean }) => Promise<unknown> };
  if (typeof batchModule?.RecordBatch !== 'function') throw new Error(`kafkajs ${version}: RecordBatch not found; compression cannot be counted per producer`);
  const recordBatch = batchModule.RecordBatch;
  batchModule.RecordBatch = (args) => withBatchKind(!!args.transactional, () => recordBatch(args));
  // 6. Produce requests written into one exactly-sized buffer (src/kafka/produce-encoder.ts). Loaded now,
  // after the record encoder and RecordBatch above (the original takes both when it loads), and put in
  // its place for versions 4 to 7, which load it on the first produce.
  const produceV3 = require(producePath) as (a: ProduceArgs) => ProduceRequest;
  if (typeof produceV3 !== 'function') throw new Error(`kafkajs ${version}: produce request v3 not found at ${producePath}`);
  require.cache[producePath]!.exports = produceRequestV3(produceV3);
  // 7. kafkajs's Encoder grows into zero-filled buffers (Buffer.alloc) of the next power of two and
  // copies what it holds: a 1 MB produce request is framed through two more 2 MB zero-fills. Nothing
  // reads past what an Encoder wrote (its `buffer` ends at `offset`), so the growth need not be zeroed.
  const EncoderClass = require('kafkajs/src/protocol/encoder') as { prototype: EncoderLike; nextPowerOfTwo(n: number): number };
  if (typeof EncoderClass?.prototype?.ensureAvailable !== 'function' || typeof EncoderClass.nextPowerOfTwo !== 'function') throw new Error(`kafkajs ${version}: Encoder.ensureAvailable not found; the encoder fix cannot be installed`);
  EncoderClass.prototype.ensureAvailable = growUnzeroed(EncoderClass.nextPowerOfTwo);
  // 8. Coordinators kept until a request to them fails.
  const Cluster = require('kafkajs/src/cluster') as { prototype: { findGroupCoordinator: FindCoordinator } };
  const Broker = require('kafkajs/src/broker') as { prototype: Record<string, unknown> };
  if (typeof Cluster?.prototype?.findGroupCoordinator !== 'function') throw new Error(`kafkajs ${version}: Cluster.findGroupCoordinator not found; the coordinator cache cannot be installed`);
  for (const m of COORDINATOR_REQUESTS) if (typeof Broker?.prototype?.[m] !== 'function') throw new Error(`kafkajs ${version}: Broker.${m} not found; the coordinator cache cannot be installed`);
  Cluster.prototype.findGroupCoordinator = coordinatorCache.find(Cluster.prototype.findGroupCoordinator);
  for (const m of COORDINATOR_REQUESTS) Broker.prototype[m] = coordinatorCache.watch(Broker.prototype[m] as (this: BrokerLike) => Promise<unknown>);
  // 9. CONCURRENT_TRANSACTIONS retried at once, below kafkajs's send retries.
  for (const m of ['addPartitionsToTxn', 'addOffsetsToTxn']) Broker.prototype[m] = retryConcurrentTransactions(Broker.prototype[m] as (a: { transactionalId?: string }) => Promise<unknown>);
  const ConsumerGroup = require('kafkajs/src/consumer/consumerGroup') as { prototype: { recoverFromOffsetOutOfRange: Parameters<typeof followerOutOfRangeToLeader>[0] } };
  if (typeof ConsumerGroup?.prototype?.recoverFromOffsetOutOfRange !== 'function') throw new Error(`kafkajs ${version}: ConsumerGroup.recoverFromOffsetOutOfRange not found; the follower fix cannot be installed`);
  ConsumerGroup.prototype.recoverFromOffsetOutOfRange = followerOutOfRangeToLeader(ConsumerGroup.prototype.recoverFromOffsetOutOfRange);
  Runner.prototype.fetch = stoppedRunnerSafeFetch(Runner.prototype.fetch);
  RequestQueue.prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
  installed = true;
}
