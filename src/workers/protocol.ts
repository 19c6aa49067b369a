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

import type { Scenario } from '../scenario/schema.js';
import type { AckedBadRecord, DriverStats } from '../drive/driver.js';

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
  /** The scenario as the coordinator resolved it (`clickbench run`): used instead of parsing `scenario` again. */
  resolved?: Scenario;
  /** Report every acknowledged event (`acks` messages), for a coordinator that accounts for each one (`clickbench run`). */
  perEventAcks?: boolean;
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

/** Stop driving now (the run was interrupted or failed): what is not delivered yet counts as failed. */
export interface StopMessage {
  kind: 'stop';
}

export type ControlMessage = PlanMessage | PingMessage | StartMessage | StopMessage;

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

/**
 * What `clickbench run` accounts for per event, since the worker's last `acks` message: every acknowledged
 * event (packed, see packAcks), the bad records acknowledged, and the worker's cumulative driver figures.
 */
export interface AcksMessage {
  kind: 'acks';
  shard: number;
  /** base64 of the packed acknowledgements (packAcks). */
  data: string;
  bad: AckedBadRecord[];
  /** The driver's counters so far, and how many events of the single stream it drew (its own and other shards'). */
  stats: DriverStats & { drawn: number };
  queueDepth: number;
  /** Cumulative produce bytes: [topic, partition, wire bytes, batch bytes, batches]. */
  bytes: [string, number, number, number, number][];
  errorsByCode: Record<string, number>;
  /** Per-second maxima from second `from` on: generation lag (ms), queue depth, queue full (0/1). */
  series: { from: number; generationLagMs: number[]; queueDepthMax: number[]; queueFull: number[] };
}

export type ResultMessage = HelloMessage | PongMessage | SecondMessage | DoneMessage | AcksMessage;

/** One acknowledged event: its seq, raw partition (−1: it carries no id), intended and acknowledged time (ms after the schedule's start). */
export interface PackedAck {
  seq: number;
  partition: number;
  intendedOffsetMs: number;
  ackOffsetMs: number;
}

const ACK_BYTES = 4 + 2 + 8 + 8;

/** Acknowledgements as bytes: 22 per event (seq u32, partition i16, intended and ack offsets f64). */
export class AckPacker {
  private buf = Buffer.alloc(ACK_BYTES * 1024);
  private used = 0;

  add(seq: number, partition: number, intendedOffsetMs: number, ackOffsetMs: number): void {
    if (this.used + ACK_BYTES > this.buf.length) {
      const next = Buffer.alloc(this.buf.length * 2);
      this.buf.copy(next, 0, 0, this.used);
      this.buf = next;
    }
    const b = this.buf;
    let o = this.used;
    o = b.writeUInt32LE(seq, o);
    o = b.writeInt16LE(partition, o);
    o = b.writeDoubleLE(intendedOffsetMs, o);
    this.used = b.writeDoubleLE(ackOffsetMs, o);
  }

  get count(): number {
    return this.used / ACK_BYTES;
  }

  /** The packed acknowledgements so far, as base64; the packer starts empty again. */
  take(): string {
    const out = this.buf.toString('base64', 0, this.used);
    this.used = 0;
    return out;
  }
}

export function unpackAcks(data: string, each: (seq: number, partition: number, intendedOffsetMs: number, ackOffsetMs: number) => void): number {
  const b = Buffer.from(data, 'base64');
  let n = 0;
  for (let o = 0; o + ACK_BYTES <= b.length; o += ACK_BYTES, n++) each(b.readUInt32LE(o), b.readInt16LE(o + 4), b.readDoubleLE(o + 6), b.readDoubleLE(o + 14));
  return n;
}

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
