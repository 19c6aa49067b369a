/**
 * Load workers (issue #20), coordinated through the cluster under test: no cluster manager of our own.
 *
 *   control topic  `<prefix>.control`, one partition per worker. Workers join the consumer group
 *                  `<prefix>.workers` on it; Kafka's group protocol gives each member a partition, and the
 *                  partition a member holds when the coordinator starts the run is its shard. The
 *                  coordinator writes the plan, a clock ping and the start to every partition.
 *   results topic  `<prefix>.results`: each worker's hello, pong, per-second counters and encoded HDR
 *                  histograms (deltas since its last report, so late acknowledgements add up), and done.
 *
 * Worker i of N generates exactly the events of the single-process stream whose visitor is in shard i
 * (src/generate/clickstream.ts): the union over workers is the single stream for the same seed.
 */

export const controlTopic = (prefix: string) => `${prefix}.control`;
export const resultsTopic = (prefix: string) => `${prefix}.results`;
export const workersGroup = (prefix: string) => `${prefix}.workers`;

/** The run plan: everything a worker needs besides the brokers. */
export interface PlanMessage {
  kind: 'plan';
  runId: string;
  /** Prefix of the run's topics (raw, lookups: the worker produces into them). */
  prefix: string;
  /** The scenario file's text and name (errors name it), and overrides applied on top (seed). */
  scenario: string;
  file: string;
  overrides: Record<string, unknown>;
  workers: number;
}

/** A clock probe: a worker answers with a pong carrying its own clock. */
export interface PingMessage {
  kind: 'ping';
  id: number;
  /** Coordinator clock when written. */
  at: number;
}

/** Go: by member id, the shard and the clock correction (worker clock − coordinator clock) it runs with. */
export interface StartMessage {
  kind: 'start';
  /** Schedule offset 0, coordinator clock (the events' intended times: the single stream's). */
  startMs: number;
  shards: Record<string, { index: number; clockOffsetMs: number }>;
}

export type ControlMessage = PlanMessage | PingMessage | StartMessage;

export interface HelloMessage {
  kind: 'hello';
  memberId: string;
  host: string;
  pid: number;
  /** Control partitions the group gave this member (as of this join). */
  partitions: number[];
  /** The shard this worker was started for (`--index i --of N`), instead of the partition the group gives it. */
  index?: number;
  of?: number;
}

export interface PongMessage {
  kind: 'pong';
  memberId: string;
  pingId: number;
  pingAt: number;
  /** Worker clock when it read the ping. */
  at: number;
}

/** Counters of one schedule second added since the worker's last report, and the produce-ack latencies recorded since. */
export interface SecondMessage {
  kind: 'second';
  shard: number;
  second: number;
  intended: number;
  sent: number;
  acked: number;
  /** HdrHistogram (ms, intended time → ack) of the events of this second acknowledged since the last report, compressed base64. */
  ackHistogram: string | null;
}

export interface DoneMessage {
  kind: 'done';
  shard: number;
  memberId: string;
  generated: number;
  acked: number;
  failed: number;
  /** Events of the single stream this worker drew and left to other shards. */
  skipped: number;
  /** CPU seconds of the worker process over its schedule. */
  cpuSeconds: number;
}

export type ResultMessage = HelloMessage | PongMessage | SecondMessage | DoneMessage;

export function encode(m: ControlMessage | ResultMessage): string {
  return JSON.stringify(m);
}

export function decode<T extends { kind: string }>(value: Buffer | null): T | null {
  if (!value) return null;
  try {
    const m = JSON.parse(value.toString()) as T;
    return typeof m?.kind === 'string' ? m : null;
  } catch {
    return null;
  }
}
