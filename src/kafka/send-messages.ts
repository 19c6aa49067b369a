/**
 * 12. kafkajs's send retries re-send partitions that were already written, and can skip ones that were not.
 *
 * kafkajs's `sendMessages` (the body of `producer.send`/`sendBatch` and of a transaction's) groups a send's
 * partitions by leader, one produce request per broker, and on a retriable failure refreshes the metadata
 * and tries again. What it remembers between tries is *which brokers answered*, not which partitions:
 * - a partition written by broker 1 whose leadership moved to broker 3 (a failover, seen in the zone-outage
 *   test) is sent again with the next sequence numbers, so the broker appends it a second time: a duplicate,
 *   inside a transaction too, where it commits with the rest (the likely cause of 13 events enriched twice
 *   in one CI run's zone-outage test, with no transaction failed or aborted);
 * - a partition whose broker failed and whose new leader had already answered is not sent again at all;
 * - the tries run `Promise.all`: on the first failure the retry starts while other brokers' requests are
 *   still in flight, and sends those brokers' partitions again with new sequence numbers.
 *
 * The replacement keeps each partition's answer: a try sends only partitions not answered yet, grouped by
 * their current leaders, and waits for every request of a try before the next. A failed request gives its
 * sequence numbers back (as kafkajs does), so a partition sent again carries the same ones and a broker that
 * did write it the first time recognises the copy (the idempotent producer's deduplication). When the send
 * fails for good, the error carries the partitions that were written (`answeredOf`), so a caller that
 * retries it can leave those out. Everything else is kafkajs's: the metadata refreshes, which errors are
 * retried, the transaction's AddPartitionsToTxn under the broker lock, the answer's format.
 */

export interface PartitionAnswer {
  topicName: string;
  partition: number;
  errorCode?: number;
  baseOffset?: string;
  [k: string]: unknown;
}

interface BrokerLike {
  nodeId: number;
  produce(a: Record<string, unknown>): Promise<unknown>;
}

interface ClusterLike {
  refreshMetadataIfNecessary(): Promise<void>;
  refreshMetadata(): Promise<void>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  findTopicPartitionMetadata(topic: string): unknown[];
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(a: { nodeId: string | number }): Promise<BrokerLike>;
  removeBroker(a: { host: string; port: number }): void;
  isConnected(): boolean;
  connect(): Promise<void>;
}

interface EosManagerLike {
  acquireBrokerLock(b: BrokerLike): Promise<void>;
  releaseBrokerLock(b: BrokerLike): void;
  isTransactional(): boolean;
  addPartitionsToTransaction(topicData: TopicData[]): Promise<void>;
  getSequence(topic: string, partition: number): number;
  updateSequence(topic: string, partition: number, increment: number): void;
  getTransactionalId(): string;
  getProducerId(): number;
  getProducerEpoch(): number;
}

interface LoggerLike {
  debug(m: string, extra?: object): void;
  error(m: string, extra?: object): void;
}

type Retrier = <T>(fn: (bail: (e: Error) => void, retryCount: number, retryTime: number) => Promise<T>) => Promise<T>;

interface TopicData {
  topic: string;
  partitions: { partition: number; messages: unknown[]; firstSequence?: number }[];
}

export interface SendDeps {
  KafkaJSMetadataNotLoaded: new (message: string) => Error;
  staleMetadata: (e: unknown) => boolean;
  responseSerializer: (response: unknown) => PartitionAnswer[];
  groupMessagesPerPartition: (a: { topic: string; partitionMetadata: unknown[]; messages: unknown[]; partitioner: unknown }) => Record<number, unknown[]>;
}

const ANSWERED = Symbol('clickbench.answered');

/** `err`, saying that the send wrote these partitions before it failed (read back by answeredOf). */
export function markAnswered<E>(err: E, answers: PartitionAnswer[]): E {
  if (err && typeof err === 'object') Object.defineProperty(err, ANSWERED, { value: answers, enumerable: false, configurable: true });
  return err;
}

/** The partitions a failed send did write (their answers), as the replacement attaches them to its error. */
export function answeredOf(err: unknown): PartitionAnswer[] {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const got = (e as { [ANSWERED]?: PartitionAnswer[] })[ANSWERED];
    if (got) return got;
    e = (e as { cause?: unknown }).cause;
  }
  return [];
}

/** The replacement for kafkajs's `producer/sendMessages` module (its export: the factory). */
export function createSendMessages(deps: SendDeps) {
  return function sendMessagesPerPartition({ logger, cluster, partitioner, eosManager, retrier }: { logger: LoggerLike; cluster: ClusterLike; partitioner: unknown; eosManager: EosManagerLike; retrier: Retrier }) {
    return async ({ acks, timeout, compression, topicMessages }: { acks: number; timeout?: number; compression?: number; topicMessages: { topic: string; messages: unknown[] }[] }): Promise<PartitionAnswer[]> => {
      /** "topic\0partition" → its answer (empty with acks 0). */
      const answered = new Map<string, PartitionAnswer[]>();
      /** topic → partition → messages, fixed at the first grouping: a message goes to one partition only. */
      const grouped = new Map<string, Record<number, unknown[]>>();
      const key = (topic: string, partition: number | string) => `${topic}\0${partition}`;

      const sendUnanswered = async (): Promise<void> => {
        await cluster.refreshMetadataIfNecessary();
        const perBroker = new Map<string, TopicData[]>();
        const unknown: string[] = [];
        for (const { topic, messages } of topicMessages) {
          const partitionMetadata = cluster.findTopicPartitionMetadata(topic);
          if (partitionMetadata.length === 0) {
            logger.debug('Producing to topic without metadata', { topic });
            throw new deps.KafkaJSMetadataNotLoaded('Producing to topic without metadata');
          }
          let byPartition = grouped.get(topic);
          if (!byPartition) grouped.set(topic, (byPartition = deps.groupMessagesPerPartition({ topic, partitionMetadata, messages, partitioner })));
          const open = Object.keys(byPartition).map(Number).filter((p) => !answered.has(key(topic, p)));
          if (open.length === 0) continue;
          const leaders = cluster.findLeaderForPartitions(topic, open);
          const led = new Set(Object.values(leaders).flat());
          // kafkajs leaves out a partition its metadata does not know: here that is a retriable miss, not a silent drop.
          // (The others are sent first; this try then fails and the next one asks the refreshed metadata.)
          for (const p of open) if (!led.has(p)) unknown.push(`${topic} partition ${p}`);
          for (const [nodeId, partitions] of Object.entries(leaders)) {
            let list = perBroker.get(nodeId);
            if (!list) perBroker.set(nodeId, (list = []));
            list.push({ topic, partitions: partitions.map((partition) => ({ partition, messages: byPartition![partition] })) });
          }
        }
        const tries = await Promise.allSettled([...perBroker].map(async ([nodeId, topicData]) => {
          const broker = await cluster.findBroker({ nodeId });
          await eosManager.acquireBrokerLock(broker);
          try {
            if (eosManager.isTransactional()) await eosManager.addPartitionsToTransaction(topicData);
            for (const { topic, partitions } of topicData) {
              for (const entry of partitions) {
                entry.firstSequence = eosManager.getSequence(topic, entry.partition);
                eosManager.updateSequence(topic, entry.partition, entry.messages.length);
              }
            }
            let response: unknown;
            try {
              response = await broker.produce({
                transactionalId: eosManager.isTransactional() ? eosManager.getTransactionalId() : undefined,
                producerId: eosManager.getProducerId(),
                producerEpoch: eosManager.getProducerEpoch(),
                acks,
                timeout,
                compression,
                topicData,
              });
            } catch (e) {
              // Not written (or not known to be): the same sequence numbers go with the next try.
              for (const { topic, partitions } of topicData) for (const entry of partitions) eosManager.updateSequence(topic, entry.partition, -entry.messages.length);
              throw e;
            }
            for (const { topic, partitions } of topicData) for (const { partition } of partitions) answered.set(key(topic, partition), []);
            if (acks !== 0) for (const a of deps.responseSerializer(response)) answered.get(key(a.topicName, a.partition))?.push(a);
          } finally {
            eosManager.releaseBrokerLock(broker);
          }
        }));
        const failed = tries.find((t): t is PromiseRejectedResult => t.status === 'rejected');
        if (failed) throw failed.reason;
        if (unknown.length) throw new deps.KafkaJSMetadataNotLoaded(`no leader known for ${unknown.join(', ')}`);
      };

      const all = (): PartitionAnswer[] => [...answered.values()].flat();
      try {
        return await retrier(async (bail, retryCount, retryTime) => {
          await cluster.addMultipleTargetTopics(topicMessages.map(({ topic }) => topic));
          try {
            await sendUnanswered();
            return all();
          } catch (err) {
            const e = err as Error & { host?: string; port?: number; type?: string; retriable?: boolean };
            if (e.name === 'KafkaJSConnectionClosedError' && e.host && e.port) cluster.removeBroker({ host: e.host, port: e.port });
            if (!cluster.isConnected()) {
              logger.debug(`Cluster has disconnected, reconnecting: ${e.message}`, { retryCount, retryTime });
              await cluster.connect();
              await cluster.refreshMetadata();
              throw e;
            }
            if (deps.staleMetadata(e) || e.name === 'KafkaJSMetadataNotLoaded' || e.name === 'KafkaJSConnectionError' || e.name === 'KafkaJSConnectionClosedError' || (e.name === 'KafkaJSProtocolError' && e.retriable)) {
              logger.error(`Failed to send messages: ${e.message}`, { retryCount, retryTime });
              await cluster.refreshMetadata();
              throw e;
            }
            logger.error(`${e.message}`, { retryCount, retryTime });
            if (e.retriable) throw e;
            bail(e);
            return all();
          }
        });
      } catch (err) {
        throw answered.size > 0 ? markAnswered(err, all()) : err;
      }
    };
  };
}
