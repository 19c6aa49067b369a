/**
 * The one place that knows the Kafka client library (kafkajs). Everything else gets clients
 * from here, so a second library could replace it behind the same functions.
 */
import kafkajs from 'kafkajs';
import type { Admin, Consumer, Kafka, KafkaConfig, Producer, ProducerConfig, ConsumerConfig, logCreator } from 'kafkajs';

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
}

const quietLogCreator = (sink?: (line: string) => void): logCreator => () => ({ level, log }) => {
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
    logCreator: quietLogCreator(settings.log),
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
