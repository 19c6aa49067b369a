/**
 * The one place that knows the Kafka client library (kafkajs). Everything else gets clients
 * from here, so a second library could replace it behind the same functions.
 */
import kafkajs from 'kafkajs';
import type { Admin, Consumer, Kafka, KafkaConfig, Message, Producer, ProducerConfig, ConsumerConfig, logCreator } from 'kafkajs';

const { Kafka: KafkaCtor, logLevel, Partitioners } = kafkajs;
export { logLevel };
export type { Admin, Consumer, Kafka, Producer };

export interface ClientSettings {
  brokers: string[];
  clientId?: string;
  /** Error lines from the client library go here (default: dropped). */
  log?: (line: string) => void;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  retries?: number;
  /** The client's own produce retries (kafkajs logs each one): counted by the caller instead of printed. */
  onRetry?: (reason: string) => void;
}

const SEND_RETRY = 'Failed to send messages: ';
const quietLogCreator = (sink?: (line: string) => void, onRetry?: (reason: string) => void): logCreator => () => ({ level, log }) => {
  if (onRetry && typeof log.message === 'string' && log.message.startsWith(SEND_RETRY)) return onRetry(log.message.slice(SEND_RETRY.length));
  if (!sink || level > logLevel.ERROR) return;
  sink(`kafkajs ${log.message}${log.error ? `: ${log.error}` : ''}`);
};

export function createKafka(settings: ClientSettings): Kafka {
  const cfg: KafkaConfig = {
    clientId: settings.clientId ?? 'clickbench',
    brokers: settings.brokers,
    connectionTimeout: settings.connectionTimeoutMs ?? 3_000,
    requestTimeout: settings.requestTimeoutMs ?? 30_000,
    retry: { retries: settings.retries ?? 5, initialRetryTime: 200, maxRetryTime: 5_000 },
    logLevel: logLevel.WARN,
    logCreator: quietLogCreator(settings.log, settings.onRetry),
  };
  return new KafkaCtor(cfg);
}

/** A producer with Kafka's Java-compatible (murmur2) partitioner, stated explicitly. */
export function createProducer(kafka: Kafka, cfg: Omit<ProducerConfig, 'createPartitioner'> = {}): Producer {
  return kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, ...cfg });
}

export function createConsumer(kafka: Kafka, cfg: ConsumerConfig): Consumer {
  return kafka.consumer(cfg);
}

export function parseBrokers(list: string): string[] {
  return list.split(',').map((s) => s.trim()).filter(Boolean);
}

/**
 * Send single-partition requests: in parallel across partitions, in order within a partition.
 * Why: when one kafkajs request spans several brokers and half of it fails, kafkajs retries the
 * whole request, re-sending the half that succeeded with new sequence numbers (duplicates, even
 * inside a transaction). A request that touches one partition can only repeat itself, which the
 * idempotent producer deduplicates. Messages must carry their `partition`.
 */
export async function sendByPartition(requests: { topic: string; messages: Message[] }[], send: (r: { topic: string; messages: Message[] }) => Promise<unknown>): Promise<void> {
  const lanes = new Map<string, { topic: string; messages: Message[] }[]>();
  for (const r of requests) {
    const key = `${r.topic}:${r.messages[0]?.partition}`;
    let lane = lanes.get(key);
    if (!lane) lanes.set(key, (lane = []));
    lane.push(r);
  }
  await Promise.all([...lanes.values()].map(async (lane) => {
    for (const r of lane) await send(r);
  }));
}
