/**
 * The open-loop driver: sends each generated event when its intended time comes, whatever the
 * cluster's pace. Events queue per topic-partition (Kafka's murmur2 partition); the queues of the
 * partitions one broker leads go out together, as ONE produce request per broker with at most one
 * in flight (kafkajs's idempotent producer holds a per-broker lock anyway), after a linger (the
 * scenario's clients.linger) or as soon as a queue fills: what comes due meanwhile waits for the next
 * request, so if the cluster falls behind, events queue and their latency, measured from the
 * intended time, shows it. Grouping by broker is what keeps clickbench's cost on the cluster near
 * the Java producer's: one request per partition per send made the brokers do several times the
 * work (bench/cost-bench.ts). A failed request is retried whole until the delivery timeout (order
 * kept; the idempotent producer discards a resent batch that had landed). Lookup-table changes
 * (profile / consent) go out with the events.
 */
import type { GeneratedEvent, ClickstreamGenerator } from '../generate/clickstream.js';
import { CAREFUL_MS, type Producer } from '../kafka/client.js';
import { partitionForKey } from '../kafka/murmur2.js';
import { answeredOf } from '../kafka/send-messages.js';
import { addNested, produceRequestShares, recordBytes, RECORD_BATCH_HEADER_BYTES } from '../kafka/wire.js';
import type { TopicNames } from './topics.js';
import type { BadRecordKind } from '../scenario/schema.js';

export interface AckedBatch {
  events: GeneratedEvent[];
  ackMs: number;
  /** When the request that carried them was first sent (its retries included in ackMs − sentMs). */
  sentMs: number;
}

export interface DriverOptions {
  producer: Producer;
  names: TopicNames;
  gen: ClickstreamGenerator;
  /** Epoch ms of schedule offset 0 (the generator's startMs). */
  startMs: number;
  durationMs: number;
  partitions: number;
  lookupPartitions: number;
  /** Most messages per request (default 2 000). */
  maxBatch?: number;
  /** Most key + value bytes per partition in one request (default 512 KiB, half the broker's default message.max.bytes). */
  maxBatchBytes?: number;
  /** Most key + value bytes of due raw events held unsent (default MAX_QUEUED_BYTES). */
  maxQueuedBytes?: number;
  /** How long a partition's first queued event waits for more before its broker's request goes (default 10 ms; Kafka 4's linger.ms default is 5 ms). */
  lingerMs?: number;
  /** The broker leading a partition (src/kafka/leaders.ts); without it every partition is grouped into one request at a time. */
  leaderOf?: (topic: string, partition: number) => number | undefined;
  /** Called after a failed request, so leaders are looked up again before the retry. */
  onLeadersStale?: () => void;
  onAck?: (b: AckedBatch) => void;
  /** Events given up on after retrying this long (default 120 s, as Kafka's delivery.timeout.ms). */
  onError?: (err: Error, events: number) => void;
  /** Each acknowledged raw-topic request: its partition and when (for write availability). */
  onPartitionAck?: (partition: number, ackMs: number) => void;
  /** Every failed produce attempt (after the client's own retries), by error code. */
  onAttemptFailed?: (code: string) => void;
  acks?: -1 | 1;
  /** kafkajs CompressionTypes value of every batch (0: none; src/kafka/compression.ts). */
  compression?: number;
  deliveryTimeoutMs?: number;
  clock?: () => number;
  /** The producer's client id (its length is part of every request). */
  clientId?: string;
  /** Test hook: burn this much CPU per generated event (an artificially slow serializer). */
  costPerEventUs?: number;
}

/** Counts by second of the schedule (index = second since start). */
export class SecondSeries {
  readonly values: number[] = [];
  add(second: number, n = 1): void {
    if (second < 0) return;
    while (this.values.length <= second) this.values.push(0);
    this.values[second] += n;
  }
  /** Keep the largest value seen for the second. */
  max(second: number, v: number): void {
    if (second < 0) return;
    while (this.values.length <= second) this.values.push(0);
    if (v > this.values[second]) this.values[second] = v;
  }
}

/** A growable set of event sequence numbers (one byte each: how many times seen). */
/** `a`, or a copy doubled until `index` fits. */
function grownFor<T extends Uint8Array | Uint16Array | Uint32Array>(a: T, index: number): T {
  if (index < a.length) return a;
  let n = a.length;
  while (n <= index) n *= 2;
  const next = new (a.constructor as new (n: number) => T)(n);
  next.set(a);
  return next;
}

export class SeqCounts {
  private data = new Uint8Array(1 << 16);
  size = 0;
  add(seq: number): number {
    this.data = grownFor(this.data, seq);
    const c = this.data[seq];
    if (c === 0) this.size++;
    if (c < 255) this.data[seq] = c + 1;
    return c + 1;
  }
  get(seq: number): number {
    return seq < this.data.length ? this.data[seq] : 0;
  }
}

/** Where each acknowledged event with an id went: seq → raw partition and intended time (ms after the schedule's start). */
export class SeqPlaces {
  /** seq → intended time (ms after the schedule's start) of acknowledged events. */
  private intended = new Uint32Array(1 << 16);
  /** seq → raw partition + 1 of acknowledged events that carry an id (0: not acknowledged, or no id). */
  private partition = new Uint16Array(1 << 16);

  mark(seq: number, partition: number, intendedOffsetMs: number): void {
    this.partition = grownFor(this.partition, seq);
    this.partition[seq] = partition + 1;
    this.intended = grownFor(this.intended, seq);
    this.intended[seq] = Math.max(0, intendedOffsetMs);
  }

  /** The intended time (ms after the schedule's start) of an acknowledged event with an id. */
  intendedOffsetOf(seq: number): number {
    return seq < this.intended.length ? this.intended[seq] : 0;
  }

  /** The raw partition an acknowledged event went to; -1 when not acknowledged or it carries no id. */
  partitionOf(seq: number): number {
    return (seq < this.partition.length ? this.partition[seq] : 0) - 1;
  }
}

export interface DriverStats {
  generated: number; sent: number; acked: number; failed: number; bad: number; maxQueueDepth: number; maxScheduleLagMs: number; errors: number; retries: number; payloadBytes: number;
}

/**
 * What `run` reads of the load it drove: the open-loop driver in this process, or the load workers'
 * reports merged (src/workers/remote-driver.ts). Sequence numbers are the single stream's.
 */
export interface LoadDriver {
  readonly intended: SecondSeries;
  readonly sent: SecondSeries;
  readonly acked: SecondSeries;
  readonly generationLagMs: SecondSeries;
  readonly queueDepthMax: SecondSeries;
  readonly queueFull: SecondSeries;
  readonly bytesByTopic: Map<string, Map<number, number>>;
  readonly batchBytesByTopic: Map<string, Map<number, number>>;
  readonly batchesByTopic: Map<string, Map<number, number>>;
  readonly ackedSeqs: SeqCounts;
  readonly missingIdAcked: number;
  readonly badAcked: AckedBadRecord[];
  readonly stats: DriverStats;
  readonly errorsByCode: Record<string, number>;
  /** Raw events due and not sent yet. */
  readonly queueDepth: number;
  /** One past the highest sequence number of the single stream drawn so far (the bound of loops over seqs). */
  readonly seqEnd: number;
  run(shouldStop?: () => boolean): Promise<void>;
  abandon(): void;
  clientRetried(): void;
  partitionOfSeq(seq: number): number;
  intendedOffsetOfSeq(seq: number): number;
}

/** An injected bad record the cluster acknowledged, and where it landed. */
export interface AckedBadRecord {
  seq: number;
  kind: BadRecordKind;
  partition: number;
  /** Its offset in the raw topic (null: the produce response gave no base offset). */
  offset: string | null;
}

/** The base offset the produce response gave a lane's batch (kafkajs: one entry per topic-partition). */
function baseOffsetOf(meta: unknown, l: { topic: string; partition: number }): bigint | null {
  if (!Array.isArray(meta)) return null;
  const m = meta.find((x: { topicName?: string; partition?: number }) => x?.topicName === l.topic && x?.partition === l.partition) as { baseOffset?: string } | undefined;
  return m?.baseOffset !== undefined && /^\d+$/.test(m.baseOffset) ? BigInt(m.baseOffset) : null;
}

type LaneMessage = { key: string; value: string; partition: number; event?: GeneratedEvent };
interface Lane {
  topic: string;
  partition: number;
  queue: LaneMessage[];
  /** Key + value bytes queued. */
  bytes: number;
  /** When the oldest queued message was queued (the linger runs from it). */
  since: number;
  busy: boolean;
}
/** One partition's share of a request. */
interface LaneBatch {
  lane: Lane;
  batch: LaneMessage[];
}

/**
 * The most key + value bytes of due events the driver holds unsent: Kafka's buffer.memory default (32 MiB).
 * Past it the driver stops generating until requests complete (the Java producer's send() blocks), and
 * the events come out late, measured from their intended time. The cap was 200 000 events (~100 MB of
 * strings): a queue that size lives long enough to be promoted, and the collector's work on it cost
 * the driver's ceiling ~20 % (bench/: 66 000 → 78 000 events/s with the values flattened).
 */
export const MAX_QUEUED_BYTES = 32 * 2 ** 20;

/** The longest the driver sleeps between looks at its schedule and lanes. */
const MAX_IDLE_MS = 50;

/**
 * What every LoadDriver keeps the same way, whoever drove the load: the per-second series, the acknowledged
 * sequence numbers and where each went, the acknowledged bad records.
 */
export abstract class LoadLedger {
  readonly intended = new SecondSeries();
  readonly sent = new SecondSeries();
  readonly acked = new SecondSeries();
  /** Per intended second: how late the driver generated its events (ms after their intended time). A
   *  busy client generates late; a slow cluster does not (its events wait in the queue instead). */
  readonly generationLagMs = new SecondSeries();
  /** Per second: the most events queued (due, not yet sent). */
  readonly queueDepthMax = new SecondSeries();
  /** Per second: 1 when events were due but not generated because the queue held maxQueuedBytes (their
   *  lateness then comes from the cluster not taking them, not from this process). */
  readonly queueFull = new SecondSeries();
  readonly ackedSeqs = new SeqCounts();
  /** Acknowledged bad records that carry no event id (missing_field): accounted for by the DLQ count, not by id. */
  missingIdAcked = 0;
  /** Every acknowledged bad record and where it landed (raw partition and offset, from the produce response; null when the
   *  response gave none): the event contract looks each one up in the DLQ (src/observe/contract.ts). */
  readonly badAcked: AckedBadRecord[] = [];
  protected readonly places = new SeqPlaces();

  /** The intended time (ms after the schedule's start) of an acknowledged event with an id. */
  intendedOffsetOfSeq(seq: number): number {
    return this.places.intendedOffsetOf(seq);
  }

  /** The raw partition an acknowledged event went to; -1 when not acknowledged or it carries no id. */
  partitionOfSeq(seq: number): number {
    return this.places.partitionOf(seq);
  }
}

export class OpenLoopDriver extends LoadLedger implements LoadDriver {
  /** topic → partition → bytes produced as on the wire (records, batch header, its share of the request; src/kafka/wire.ts). */
  readonly bytesByTopic = new Map<string, Map<number, number>>();
  /** Per topic and partition: the acknowledged record batches' bytes (header and records, no request framing: what a follower fetches) and their count. */
  readonly batchBytesByTopic = new Map<string, Map<number, number>>();
  readonly batchesByTopic = new Map<string, Map<number, number>>();
  stats: DriverStats = { generated: 0, sent: 0, acked: 0, failed: 0, bad: 0, maxQueueDepth: 0, maxScheduleLagMs: 0, errors: 0, retries: 0, payloadBytes: 0 };
  /** Failed produce attempts (after the client's own retries) by error code. */
  readonly errorsByCode: Record<string, number> = {};
  private stopped = false;
  /** Until when requests carry one partition each (after a failure). */
  private carefulUntil = 0;
  /** Brokers with a request in flight (-1: partitions whose leader is not known). */
  private readonly brokersBusy = new Set<number>();
  /** One lane per topic-partition: its queued messages and at most one request in flight. */
  private readonly lanes = new Map<string, Lane>();
  private queued = 0;
  /** Key + value bytes of the raw events queued. */
  private queuedBytes = 0;
  private readonly pending = new Set<Promise<void>>();
  private readonly clock: () => number;
  /** Ends the run loop's sleep early (a request completed). */
  private wake?: () => void;

  constructor(private readonly o: DriverOptions) {
    super();
    this.clock = o.clock ?? Date.now;
  }

  get seqEnd(): number {
    return this.stats.generated;
  }

  /** Raw events generated (due) and not yet sent. */
  get queueDepth(): number {
    return this.queued;
  }

  private countBytes(topic: string, partition: number, bytes: number, framing: number): void {
    addNested(this.bytesByTopic, topic, partition, bytes);
    addNested(this.batchBytesByTopic, topic, partition, bytes - framing);
    addNested(this.batchesByTopic, topic, partition, 1);
  }

  private lane(topic: string, partition: number): Lane {
    const key = `${topic}:${partition}`;
    let l = this.lanes.get(key);
    if (!l) this.lanes.set(key, (l = { topic, partition, queue: [], bytes: 0, since: 0, busy: false }));
    return l;
  }

  private enqueue(l: Lane, m: LaneMessage, now: number): void {
    if (l.queue.length === 0) l.since = now;
    l.queue.push(m);
    l.bytes += m.key.length + m.value.length;
  }

  /**
   * Run the schedule to its end (or until `shouldStop`), then wait for outstanding acknowledgements.
   * Events go into per-partition lanes (Kafka's murmur2 partition), each with one request in flight
   * at a time, as the Java producer's accumulator batches per partition: a partition whose leader
   * is gone holds up only itself, and its retries keep its order.
   */
  async run(shouldStop: () => boolean = () => false): Promise<void> {
    const { gen, startMs, names } = this.o;
    const maxBatch = this.o.maxBatch ?? 2_000;
    const maxBatchBytes = this.o.maxBatchBytes ?? 512 * 1024;
    const lingerMs = this.o.lingerMs ?? 10;
    const maxQueuedBytes = this.o.maxQueuedBytes ?? MAX_QUEUED_BYTES;
    const endMs = startMs + this.o.durationMs;
    while (!shouldStop()) {
      const now = this.clock();
      // Generate what is due, but hand the lanes a batch at least every 20 ms: a client slower than
      // the schedule would otherwise only ever generate and never send.
      let budget = 0;
      const second = Math.floor((now - startMs) / 1000);
      if (this.queuedBytes >= maxQueuedBytes && startMs + gen.nextOffsetMs <= now) this.queueFull.max(second, 1);
      while (this.queuedBytes < maxQueuedBytes && startMs + gen.nextOffsetMs <= now && startMs + gen.nextOffsetMs < endMs && ((++budget & 255) !== 0 || this.clock() - now < 20)) {
        const e = gen.next();
        // Flatten the value (a template literal is a rope of ~20 pieces until something reads it): a
        // queued event then holds one ~0.5 KB string, not a tree of them, and the garbage collector
        // traces one object. The encoder would flatten it at send anyway. Measured at the driver's
        // ceiling (200 000 events/s offered, the old 200 000-event queue): 35 000 → 66 000 events/s
        // acknowledged; the collector had been 43 % of the process's CPU profile.
        e.value.charCodeAt(0);
        if (this.o.costPerEventUs) burn(this.o.costPerEventUs);
        this.stats.generated++;
        const intendedSecond = Math.floor((e.intendedMs - startMs) / 1000);
        this.intended.add(intendedSecond);
        this.generationLagMs.max(intendedSecond, now - e.intendedMs);
        const p = partitionForKey(e.key, this.o.partitions);
        this.enqueue(this.lane(names.raw, p), { key: e.key, value: e.value, partition: p, event: e }, now);
        this.queued++;
        this.queuedBytes += e.key.length + e.value.length;
        if (e.mirror) {
          const lp = partitionForKey(e.mirror.key, this.o.lookupPartitions);
          this.enqueue(this.lane(names.lookups[e.mirror.kind], lp), { key: e.mirror.key, value: e.mirror.value, partition: lp }, now);
        }
      }
      if (this.queued > this.stats.maxQueueDepth) this.stats.maxQueueDepth = this.queued;
      this.queueDepthMax.max(second, this.queued);
      const scheduleDone = startMs + gen.nextOffsetMs >= endMs;
      // Lanes with something queued, by the broker leading them; a broker with a request in flight waits.
      let idle = true;
      // The soonest a lingering lane becomes ready (ms from now).
      let lingerLeft = Infinity;
      const byBroker = new Map<number, { lanes: Lane[]; ready: boolean }>();
      for (const l of this.lanes.values()) {
        if (l.busy) idle = false;
        if (l.busy || l.queue.length === 0) continue;
        idle = false;
        const broker = this.o.leaderOf?.(l.topic, l.partition) ?? -1;
        if (this.brokersBusy.has(broker)) continue;
        if (now < this.carefulUntil) {
          // One partition per request (and one at a time per broker) until things are calm again.
          const p = this.deliver(broker, [{ lane: l, batch: this.take(l, maxBatch, maxBatchBytes) }]).finally(() => this.pending.delete(p));
          this.pending.add(p);
          continue;
        }
        let g = byBroker.get(broker);
        if (!g) byBroker.set(broker, (g = { lanes: [], ready: scheduleDone }));
        g.lanes.push(l);
        if (now - l.since >= lingerMs || l.queue.length >= maxBatch || l.bytes >= maxBatchBytes) g.ready = true;
        else lingerLeft = Math.min(lingerLeft, lingerMs - (now - l.since));
      }
      for (const [broker, g] of byBroker) {
        if (!g.ready) continue;
        // Per partition up to maxBatch messages and maxBatchBytes (the broker refuses record batches
        // over message.max.bytes, 1 MiB by default; a lane's backlog after an outage would exceed it).
        const parts: LaneBatch[] = g.lanes.map((l) => ({ lane: l, batch: this.take(l, maxBatch, maxBatchBytes) }));
        const p = this.deliver(broker, parts).finally(() => this.pending.delete(p));
        this.pending.add(p);
      }
      if (scheduleDone && idle) break;
      // Sleep until the next event is due, a lingering lane is ready or a request completes (its
      // broker's queued lanes go at once, as the Java producer's sender wakes on a response), at
      // most MAX_IDLE_MS. Polling at the linger instead kept events behind a busy broker waiting up
      // to a linger more, and at linger 0 it spun.
      const wait = Math.max(0, Math.min(MAX_IDLE_MS, lingerLeft, scheduleDone ? Infinity : startMs + gen.nextOffsetMs - this.clock()));
      await new Promise<void>((r) => {
        const timer = setTimeout(() => r(), wait);
        this.wake = () => {
          clearTimeout(timer);
          r();
        };
      });
      this.wake = undefined;
    }
    // Stopped early: what is still queued was never sent.
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** The first messages of a lane's queue, up to `maxBatch` and `maxBatchBytes` (at least one). */
  private take(l: Lane, maxBatch: number, maxBatchBytes: number): LaneMessage[] {
    let n = 0;
    let bytes = 0;
    while (n < l.queue.length && n < maxBatch && (n === 0 || bytes + l.queue[n].value.length + l.queue[n].key.length <= maxBatchBytes)) {
      bytes += l.queue[n].value.length + l.queue[n].key.length;
      n++;
    }
    const batch = n === l.queue.length ? l.queue : l.queue.slice(0, n);
    l.queue = n === l.queue.length ? [] : l.queue.slice(n);
    l.bytes -= bytes;
    if (l.queue.length > 0) l.since = this.clock();
    return batch;
  }

  /** Send one broker's request (each partition's batch), retrying it whole until the delivery timeout, so every lane keeps its order. */
  private async deliver(broker: number, parts: LaneBatch[]): Promise<void> {
    const { names, startMs } = this.o;
    this.brokersBusy.add(broker);
    for (const { lane } of parts) lane.busy = true;
    const sentMs = this.clock();
    for (const { lane, batch } of parts) {
      if (lane.topic !== names.raw) continue;
      this.queued -= batch.length;
      for (let i = 0; i < batch.length; i++) this.queuedBytes -= batch[i].key.length + batch[i].value.length;
      this.sent.add(Math.floor((sentMs - startMs) / 1000), batch.length);
      this.stats.sent += batch.length;
      const lag = sentMs - batch[0].event!.intendedMs;
      if (lag > this.stats.maxScheduleLagMs) this.stats.maxScheduleLagMs = lag;
    }
    const timeout = this.o.deliveryTimeoutMs ?? 120_000;
    let backoff = 250;
    /** The partitions not written yet: a send that failed as a whole may have written some (kafkajs fix 12 says which). */
    let rest = parts;
    try {
      for (;;) {
        try {
          // kafkajs encodes key, value, partition, headers and timestamp; the `event` riding along is not sent.
          const meta = await this.o.producer.sendBatch({ topicMessages: rest.map((x) => ({ topic: x.lane.topic, messages: x.batch })), acks: this.o.acks ?? -1, compression: this.o.compression ?? 0 });
          this.written(meta, rest, sentMs);
          return;
        } catch (err) {
          this.failedAttempt(err as Error);
          this.o.onLeadersStale?.();
          const answers = answeredOf(err);
          if (answers.length) {
            const answered = (x: LaneBatch) => answers.some((a) => a.topicName === x.lane.topic && a.partition === x.lane.partition);
            this.written(answers, rest.filter(answered), sentMs);
            rest = rest.filter((x) => !answered(x));
            if (rest.length === 0) return;
          }
          if (this.stopped || this.clock() - sentMs + backoff >= timeout) {
            for (const x of rest) {
              if (x.lane.topic !== names.raw) continue;
              this.stats.failed += x.batch.length;
              this.o.onError?.(err as Error, x.batch.length);
            }
            return;
          }
          this.stats.retries++;
          await new Promise((res) => setTimeout(res, backoff));
          backoff = Math.min(2_000, backoff * 2);
        }
      }
    } finally {
      this.brokersBusy.delete(broker);
      for (const { lane } of parts) lane.busy = false;
      this.wake?.();
    }
  }

  /** `of` acknowledged, with the produce answers `meta` (each partition's base offset). */
  private written(meta: unknown, of: LaneBatch[], sentMs: number): void {
    const ackMs = this.clock();
    const framing = produceRequestShares(this.o.clientId ?? '', null, of.map((x) => x.lane.topic));
    of.forEach((x, i) => this.delivered(x.lane, x.batch, ackMs, sentMs, framing[i], baseOffsetOf(meta, x.lane)));
  }

  /** The client retried a request on its own (kafkajs logs it): be careful for a while. */
  clientRetried(): void {
    this.carefulUntil = this.clock() + CAREFUL_MS;
  }

  private failedAttempt(err: Error): void {
    this.carefulUntil = this.clock() + CAREFUL_MS;
    const code = errorCode(err);
    this.errorsByCode[code] = (this.errorsByCode[code] ?? 0) + 1;
    this.stats.errors++;
    this.o.onAttemptFailed?.(code);
  }

  /** `framing`: this partition's share of its produce request's framing (produceRequestShares). */
  private delivered(l: Lane, batch: LaneMessage[], ackMs: number, sentMs: number, framing: number, baseOffset: bigint | null = null): void {
    const { names, startMs } = this.o;
    let bytes = 0;
    let wire = RECORD_BATCH_HEADER_BYTES + framing;
    for (let i = 0; i < batch.length; i++) {
      const m = batch[i];
      bytes += m.key.length + m.value.length;
      wire += recordBytes(m.key.length, m.value.length, undefined, i);
    }
    this.countBytes(l.topic, l.partition, wire, framing);
    if (l.topic !== names.raw) return;
    const events = batch.map((m) => m.event!);
    this.stats.payloadBytes += bytes;
    this.stats.acked += events.length;
    this.acked.add(Math.floor((ackMs - startMs) / 1000), events.length);
    for (let i = 0; i < events.length; i++) {
      const e = events[i];
      this.ackedSeqs.add(e.seq);
      if (e.bad !== 'missing_field') this.places.mark(e.seq, l.partition, e.intendedMs - startMs);
      if (e.bad) {
        this.stats.bad++;
        // One partition's records are one batch: the i-th sits at the base offset + i.
        this.badAcked.push({ seq: e.seq, kind: e.bad, partition: l.partition, offset: baseOffset === null ? null : String(baseOffset + BigInt(i)) });
      }
      if (e.bad === 'missing_field') this.missingIdAcked++;
    }
    this.o.onPartitionAck?.(l.partition, ackMs);
    this.o.onAck?.({ events, ackMs, sentMs });
  }

  /** Stop retrying: what has not been delivered yet counts as failed. */
  abandon(): void {
    this.stopped = true;
  }
}

/**
 * The driver's producer lets kafkajs retry once (the least its idempotent producer allows); the driver
 * retries the rest itself. Why so few: kafkajs 2.2.4 sends one request per broker and, when one of
 * them fails, retries while the others may still be in flight, re-sending those with new sequence
 * numbers (duplicates). A request the driver builds goes to ONE broker as far as the driver's
 * metadata knows, so kafkajs splits it only after leaders moved; and after any failure the driver
 * sends one partition per request for a while (CAREFUL_MS), as a request for one partition cannot split.
 */
export function driverRetry(): { retries: number; initialRetryTime: number; maxRetryTime: number } {
  return { retries: 1, initialRetryTime: 100, maxRetryTime: 1_000 };
}

function burn(us: number): void {
  const until = process.hrtime.bigint() + BigInt(Math.round(us * 1_000));
  while (process.hrtime.bigint() < until) {
    // busy: a stand-in for an expensive serializer
  }
}

/** A short, stable name for a produce error: the Kafka error type, else the client error's name and system code. */
export function errorCode(err: Error): string {
  let e: (Error & { type?: string; code?: string; cause?: unknown; originalError?: unknown }) | undefined = err;
  for (let depth = 0; e && depth < 5; depth++) {
    if (e.type) return e.type;
    const inner = (e.cause ?? e.originalError) as typeof e | undefined;
    if (!inner) break;
    e = inner;
  }
  const sys = /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH)\b/.exec(e?.message ?? '')?.[1];
  return sys ? `${e?.name ?? 'Error'} ${sys}` : (e?.name ?? 'Error');
}

