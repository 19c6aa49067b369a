/**
 * The one place that knows the Kafka client library (kafkajs). Everything else gets clients
 * from here, so a second library could replace it behind the same functions.
 */
import net from 'node:net';
import tls from 'node:tls';
import './kafkajs-preload.js'; // before kafkajs: fix 10 (src/kafka/kafkajs-fixes.ts)
import kafkajs from 'kafkajs';
import type { Admin, Consumer, Kafka, KafkaConfig, Message, Producer, ProducerConfig, ConsumerConfig, logCreator, SASLOptions } from 'kafkajs';
import { redact, type Security } from './security.js';
import { countRequest } from '../observe/cost.js';
import { installKafkajsFixes, staleCoordinatorError } from './kafkajs-fixes.js';
import { registerCodecs } from './compression.js';
import { socketKey } from './wire.js';

installKafkajsFixes();
registerCodecs();

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
  /** Name of this client's connections (sockets are registered by local port, for per-connection byte counts). */
  label?: string;
  /** TLS / SASL (default PLAINTEXT). */
  security?: Security;
  /**
   * Broker error codes kafkajs only logs at debug level (e.g. why no coordinator was found: an
   * authorization failure hides behind "Failed to find group coordinator"). Turns debug logging on.
   */
  onBrokerError?: (type: string) => void;
  /** Transient broker answers the client retries itself (TRANSIENT_BROKER_ERRORS): counted here, not logged. */
  onTransient?: (line: string) => void;
}

/** kafkajs's `ssl` and `sasl` settings for a connection security. */
export function kafkajsSecurity(sec: Security | undefined): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  if (!sec) return {};
  const out: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  if (sec.tls) out.ssl = { rejectUnauthorized: sec.tls.verify, ...(sec.tls.ca ? { ca: [sec.tls.ca] } : {}) };
  if (sec.sasl) {
    const pw = sec.sasl.password;
    const mechanism = sec.sasl.mechanism.toLowerCase() as 'plain' | 'scram-sha-256' | 'scram-sha-512';
    out.sasl = { mechanism, username: sec.sasl.username, get password() { return pw.reveal(); } } as SASLOptions;
  }
  return out;
}

const SEND_RETRY = 'Failed to send messages: ';
/**
 * Broker answers kafkajs logs as errors although it retries them itself and they pass (a coordinator
 * loading or moving, a leader election, a rebalance, a transaction still writing its markers, a broker
 * that no longer hosts a partition a reassignment moved away while the client's metadata is older): not news
 * for the user's terminal. They are counted (`onTransient`), not printed.
 */
export const TRANSIENT_BROKER_ERRORS = /coordinator is loading|not the correct coordinator|coordinator is not available|no leader for this topic-partition|not the leader for|leader is not available|group is rebalancing|concurrent operation on the same transaction|rebalance in progress|does not host this topic-partition/i;
const quietLogCreator = (sink?: (line: string) => void, onRetry?: (reason: string) => void, onBrokerError?: (type: string) => void, onTransient?: (line: string) => void): logCreator => () => ({ level, log }) => {
  const type = (log.error as unknown as { type?: string } | undefined)?.type;
  if (onBrokerError && typeof type === 'string') onBrokerError(type);
  if (onRetry && typeof log.message === 'string' && log.message.startsWith(SEND_RETRY)) return onRetry(log.message.slice(SEND_RETRY.length));
  if (!sink || level > logLevel.ERROR) return;
  const line = redact(`kafkajs ${log.message}${log.error ? `: ${log.error}` : ''}`);
  if (TRANSIENT_BROKER_ERRORS.test(line)) return onTransient?.(line);
  sink(line);
};

/** Transient broker answers of clients made without their own counter, by kind (numbers masked). */
export const transientAnswers: Record<string, number> = {};
const transientCounter = (line: string) => {
  const kind = line.replace(/\(key: \d+, version: \d+\)/, '').replace(/\d+/g, '#').slice(0, 160);
  transientAnswers[kind] = (transientAnswers[kind] ?? 0) + 1;
};

export function createKafka(settings: ClientSettings): Kafka {
  const cfg: KafkaConfig = {
    clientId: settings.clientId ?? 'clickbench',
    brokers: settings.brokers,
    connectionTimeout: settings.connectionTimeoutMs ?? 3_000,
    requestTimeout: settings.requestTimeoutMs ?? 30_000,
    retry: { retries: settings.retries ?? 5, initialRetryTime: 200, maxRetryTime: 5_000 },
    logLevel: settings.onBrokerError ? logLevel.DEBUG : logLevel.WARN,
    logCreator: quietLogCreator(settings.log, settings.onRetry, settings.onBrokerError, settings.onTransient ?? transientCounter),
    ...(settings.label ? { socketFactory: labelledSockets(settings.label) } : {}),
    ...kafkajsSecurity(settings.security),
    authenticationTimeout: 5_000,
  };
  return countingRequests(new KafkaCtor(cfg), settings.label ?? 'other');
}

/** Every client made from `kafka` counts its requests under `role` (src/observe/cost.ts). */
function countingRequests(kafka: Kafka, role: string): Kafka {
  const wrap = <C extends { on: (e: never, l: (ev: { payload: { apiName: string } }) => void) => unknown; events: { REQUEST: string } }>(c: C): C => {
    c.on(c.events.REQUEST as never, (ev) => countRequest(role, ev.payload.apiName));
    return c;
  };
  const producer = kafka.producer.bind(kafka);
  const consumer = kafka.consumer.bind(kafka);
  const admin = kafka.admin.bind(kafka);
  kafka.producer = (cfg) => wrap(producer(cfg) as never);
  kafka.consumer = (cfg) => wrap(consumer(cfg) as never);
  kafka.admin = (cfg) => wrap(admin(cfg) as never);
  return kafka;
}

/**
 * `local port>broker port` → label of the client that opened the connection (this process's Kafka
 * connections). Keyed by both ports: Linux gives one ephemeral local port to several connections that go
 * to different destinations, and keyed by the local port alone one client's label overwrote another's —
 * a fresh quickstart counted ~10 MB of the producer's same-zone traffic as the enrichment stage's,
 * cross-zone (the fidelity check read produce −17 %).
 */
export const socketLabels = new Map<string, string>();

/** kafkajs's own socket factory (net/tls connect, keep-alive), registering each socket's local port under `label`. */
function labelledSockets(label: string): NonNullable<KafkaConfig['socketFactory']> {
  return ({ host, port, ssl, onConnect }) => {
    const socket = ssl
      ? tls.connect({ host, port, ...(!net.isIP(host) ? { servername: host } : {}), ...(typeof ssl === 'object' ? ssl : {}) }, onConnect)
      : net.connect({ host, port }, onConnect);
    socket.setKeepAlive(true, 60_000);
    socket.once('connect', () => {
      if (socket.localPort) socketLabels.set(socketKey(socket.localPort, port), label);
    });
    return socket;
  };
}

/** A producer with Kafka's Java-compatible (murmur2) partitioner, stated explicitly. */
export function createProducer(kafka: Kafka, cfg: Omit<ProducerConfig, 'createPartitioner'> = {}): Producer {
  return kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, ...cfg });
}

/**
 * A consumer. `running` (when given) is asked before kafkajs restarts the consumer after a crash:
 * kafkajs schedules that restart on a timer that a disconnect does not always cancel, and a
 * consumer restarted after its owner stopped keeps crashing and restarting against deleted topics.
 */
export function createConsumer(kafka: Kafka, cfg: ConsumerConfig, running?: () => boolean): Consumer {
  return kafka.consumer(running ? { ...cfg, retry: { retries: 5, ...cfg.retry, restartOnFailure: async () => running() } } : cfg);
}

/**
 * Whether kafkajs would call an error retriable (as its consumer decides whether to restart itself):
 * retries exhausted, or the innermost cause marked retriable. Fencing and other protocol errors are not.
 */
export function isRetriableError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  if (e.name === 'KafkaJSNumberOfRetriesExceeded') return true;
  let cause: unknown = e;
  while (cause instanceof Error && (cause as { cause?: unknown }).cause instanceof Error) cause = (cause as { cause?: unknown }).cause;
  return (cause as { retriable?: boolean }).retriable === true;
}

/**
 * A group-coordinator request retried while the coordinator moves or loads (NOT_COORDINATOR,
 * COORDINATOR_LOAD_IN_PROGRESS, a connection lost): kafkajs's admin retries describeGroups against the
 * coordinator it found first, and fetchOffsets not at all, so one moved coordinator (a broker restarted,
 * the offsets topic's leaders rebalanced) failed the run. Each new attempt looks the coordinator up again
 * (the coordinator cache forgets a stale one: src/kafka/kafkajs-fixes.ts). Other errors go through at once.
 */
export async function coordinatorRetry<T>(fn: () => Promise<T>, attempts = 20): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts || !(isRetriableError(err) || staleCoordinatorError(err))) throw err;
      await new Promise((r) => setTimeout(r, Math.min(1_000, 100 * i)));
    }
  }
}

/** A group's committed offsets on `topic`, partition → offset (−1: none), through coordinatorRetry. */
export async function committedOffsets(admin: Admin, groupId: string, topic: string): Promise<Map<number, number>> {
  const got = await coordinatorRetry(() => admin.fetchOffsets({ groupId, topics: [topic] }));
  return new Map((got[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
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
  await settleLanes([...lanes.values()], (lane, failed) => (async () => {
    for (const r of lane) {
      if (failed()) return;
      await send(r);
    }
  })());
}

/**
 * Run every lane; once one fails, the others start no new request, and the first error is thrown
 * only when every lane has settled. A caller that aborts a transaction on that error must not do it
 * while other requests of the transaction are still in flight: kafkajs then sends their
 * AddPartitionsToTxn in state ABORTING ("Cannot call addPartitionsToTransaction in state ABORTING",
 * seen in the zone-outage test) and the stage's recovery started under a producer still sending.
 */
export async function settleLanes<L>(lanes: L[], run: (lane: L, failed: () => boolean) => Promise<void>): Promise<void> {
  let failure: { err: unknown } | undefined;
  await Promise.all(lanes.map((l) => run(l, () => failure !== undefined).catch((err: unknown) => {
    failure ??= { err };
  })));
  if (failure) throw failure.err;
}

/** After a failed or retried request: one partition per request for this long (see sendByBroker). */
export const CAREFUL_MS = 10_000;

/**
 * Send single-partition requests grouped by the broker leading each partition: per broker one
 * request (per round: a partition with several requests keeps their order across rounds), brokers in
 * parallel. Why not one request for everything: kafkajs retries a multi-broker request while its
 * other brokers' parts may still be in flight and re-sends those with new sequence numbers. Why not
 * one request per partition: kafkajs's idempotent producer sends one request per broker at a time,
 * so per-partition requests queue behind each other and cost the brokers several times the work
 * (bench/cost-bench.ts). `careful` (after a failure, while leaders may be moving): one partition per request.
 */
export async function sendByBroker(
  requests: { topic: string; messages: Message[] }[],
  leaderOf: ((topic: string, partition: number) => number | undefined) | undefined,
  send: (topicMessages: { topic: string; messages: Message[] }[]) => Promise<unknown>,
  careful = false,
): Promise<void> {
  if (careful || !leaderOf) return sendByPartition(requests, (r) => send([r]));
  const byBroker = new Map<number, Map<string, { topic: string; messages: Message[] }[]>>();
  for (const r of requests) {
    const partition = r.messages[0]?.partition ?? 0;
    const broker = leaderOf(r.topic, partition) ?? -1;
    let lanes = byBroker.get(broker);
    if (!lanes) byBroker.set(broker, (lanes = new Map()));
    const key = `${r.topic}:${partition}`;
    let lane = lanes.get(key);
    if (!lane) lanes.set(key, (lane = []));
    lane.push(r);
  }
  await settleLanes([...byBroker.values()], async (lanes, failed) => {
    const rounds = Math.max(...[...lanes.values()].map((l) => l.length));
    for (let i = 0; i < rounds && !failed(); i++) await send([...lanes.values()].flatMap((l) => (l[i] ? [l[i]] : [])));
  });
}
