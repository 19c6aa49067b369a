/**
 * The open-loop driver: sends each generated event when its intended time comes, whatever the
 * cluster's pace. It never waits for acknowledgements before sending what is due (up to
 * `maxInFlight` requests); if it falls behind, events queue and their latency, measured from
 * the intended time, shows it. Lookup-table changes (profile / consent) go out with the events.
 */
import type { GeneratedEvent, ClickstreamGenerator } from '../generate/clickstream.js';
import type { Producer } from '../kafka/client.js';
import { partitionForKey } from '../kafka/murmur2.js';
import { sendByPartition } from '../kafka/client.js';
import type { TopicNames } from './topics.js';

export interface AckedBatch {
  events: GeneratedEvent[];
  sentMs: number;
  ackMs: number;
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
  maxInFlight?: number;
  maxBatch?: number;
  onAck?: (b: AckedBatch) => void;
  onError?: (err: Error, events: number) => void;
  clock?: () => number;
}

/** Counts by second of the schedule (index = second since start). */
export class SecondSeries {
  readonly values: number[] = [];
  add(second: number, n = 1): void {
    if (second < 0) return;
    while (this.values.length <= second) this.values.push(0);
    this.values[second] += n;
  }
}

/** A growable set of event sequence numbers (one byte each: how many times seen). */
export class SeqCounts {
  private data = new Uint8Array(1 << 16);
  size = 0;
  add(seq: number): number {
    if (seq >= this.data.length) {
      let n = this.data.length;
      while (n <= seq) n *= 2;
      const next = new Uint8Array(n);
      next.set(this.data);
      this.data = next;
    }
    const c = this.data[seq];
    if (c === 0) this.size++;
    if (c < 255) this.data[seq] = c + 1;
    return c + 1;
  }
  get(seq: number): number {
    return seq < this.data.length ? this.data[seq] : 0;
  }
}

export class OpenLoopDriver {
  readonly intended = new SecondSeries();
  readonly sent = new SecondSeries();
  readonly acked = new SecondSeries();
  /** topic → partition → payload bytes produced (key + value). */
  readonly bytesByTopic = new Map<string, Map<number, number>>();
  readonly ackedSeqs = new SeqCounts();
  /** Acknowledged bad records that carry no event id (missing_field): accounted for by the DLQ count, not by id. */
  missingIdAcked = 0;
  stats = { generated: 0, sent: 0, acked: 0, failed: 0, bad: 0, mirrors: 0, maxQueueDepth: 0, maxScheduleLagMs: 0, requests: 0, errors: 0, payloadBytes: 0 };
  private queue: GeneratedEvent[] = [];
  private inFlight = 0;
  private readonly pending = new Set<Promise<void>>();
  private readonly clock: () => number;

  constructor(private readonly o: DriverOptions) {
    this.clock = o.clock ?? Date.now;
  }

  get queueDepth(): number {
    return this.queue.length;
  }

  private countBytes(topic: string, partition: number, bytes: number): void {
    let m = this.bytesByTopic.get(topic);
    if (!m) this.bytesByTopic.set(topic, (m = new Map()));
    m.set(partition, (m.get(partition) ?? 0) + bytes);
  }

  /** Run the schedule to its end (or until `shouldStop`), then wait for outstanding acknowledgements. */
  async run(shouldStop: () => boolean = () => false): Promise<void> {
    const { gen, startMs } = this.o;
    const maxInFlight = this.o.maxInFlight ?? 8;
    const maxBatch = this.o.maxBatch ?? 2_000;
    const endMs = startMs + this.o.durationMs;
    while (!shouldStop()) {
      const now = this.clock();
      while (this.queue.length < 100_000 && startMs + gen.nextOffsetMs <= now && startMs + gen.nextOffsetMs < endMs) {
        const e = gen.next();
        this.stats.generated++;
        this.intended.add(Math.floor((e.intendedMs - startMs) / 1000));
        this.queue.push(e);
      }
      if (this.queue.length > this.stats.maxQueueDepth) this.stats.maxQueueDepth = this.queue.length;
      while (this.inFlight < maxInFlight && this.queue.length > 0) {
        const batch = this.queue.length <= maxBatch ? this.queue : this.queue.slice(0, maxBatch);
        this.queue = this.queue.length <= maxBatch ? [] : this.queue.slice(maxBatch);
        this.send(batch);
      }
      const scheduleDone = startMs + gen.nextOffsetMs >= endMs;
      if (scheduleDone && this.queue.length === 0) break;
      const wait = Math.max(0, Math.min(5, startMs + gen.nextOffsetMs - this.clock()));
      await new Promise((r) => setTimeout(r, wait));
    }
    await Promise.allSettled([...this.pending]);
  }

  private send(events: GeneratedEvent[]): void {
    const { names, startMs } = this.o;
    const sentMs = this.clock();
    const raw: { key: string; value: string }[] = [];
    const lookups = new Map<string, { key: string; value: string }[]>();
    for (const e of events) {
      raw.push({ key: e.key, value: e.value });
      const lag = sentMs - e.intendedMs;
      if (lag > this.stats.maxScheduleLagMs) this.stats.maxScheduleLagMs = lag;
      if (e.mirror) {
        const topic = names.lookups[e.mirror.kind];
        let list = lookups.get(topic);
        if (!list) lookups.set(topic, (list = []));
        list.push({ key: e.mirror.key, value: e.mirror.value });
      }
    }
    const requests = [...groupByPartition(names.raw, raw, this.o.partitions), ...[...lookups].flatMap(([topic, messages]) => groupByPartition(topic, messages, this.o.lookupPartitions))];
    this.inFlight++;
    this.stats.requests++;
    this.sent.add(Math.floor((sentMs - startMs) / 1000), events.length);
    this.stats.sent += events.length;
    const producer = this.o.producer;
    const p = sendByPartition(requests, (r) => producer.send({ topic: r.topic, messages: r.messages, acks: -1 })).then(
      () => {
        const ackMs = this.clock();
        this.stats.acked += events.length;
        this.acked.add(Math.floor((ackMs - startMs) / 1000), events.length);
        // Bytes per partition from the requests (partition computed once, when grouping), not per event again.
        for (const r of requests) {
          let bytes = 0;
          for (const m of r.messages) bytes += m.key.length + m.value.length;
          this.countBytes(r.topic, r.messages[0].partition, bytes);
          if (r.topic === names.raw) this.stats.payloadBytes += bytes;
        }
        for (const e of events) {
          this.ackedSeqs.add(e.seq);
          if (e.bad) this.stats.bad++;
          if (e.bad === 'missing_field') this.missingIdAcked++;
          if (e.mirror) this.stats.mirrors++;
        }
        this.o.onAck?.({ events, sentMs, ackMs });
      },
      (err: Error) => {
        this.stats.failed += events.length;
        this.stats.errors++;
        this.o.onError?.(err, events.length);
      },
    ).finally(() => {
      this.inFlight--;
      this.pending.delete(p);
    });
    this.pending.add(p);
  }
}

/** One single-partition request per partition (explicit partition = Kafka's murmur2 choice). */
function groupByPartition(topic: string, messages: { key: string; value: string }[], partitions: number): { topic: string; messages: { key: string; value: string; partition: number }[] }[] {
  const by = new Map<number, { key: string; value: string; partition: number }[]>();
  for (const m of messages) {
    const p = partitionForKey(m.key, partitions);
    let list = by.get(p);
    if (!list) by.set(p, (list = []));
    list.push({ key: m.key, value: m.value, partition: p });
  }
  return [...by.values()].map((list) => ({ topic, messages: list }));
}
