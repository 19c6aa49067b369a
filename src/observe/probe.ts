/**
 * The probe: a consumer (read_committed) on the enriched sink and the DLQ that sees what
 * downstream sees. It measures end-to-end latency (intended send time → seen here) and
 * enrichment latency (raw append → enriched append, broker clocks), counts each event by its
 * sequence and generation (a replay is a new generation, not a duplicate), and checks every
 * record for PII that must not leave the enrichment stage.
 */
import { createConsumer, type Consumer, type Kafka } from '../kafka/client.js';
import type { ConsumerConfig } from 'kafkajs';
import { SeqCounts } from '../drive/driver.js';
import { eventSeqOf } from '../generate/clickstream.js';
import { PREFERRED_REPLICA_TTL_MS } from '../enrich/stage.js';
import { fetchedBytes } from '../kafka/wire.js';
import type { DuplicateExample } from '../run/results.js';

export interface ProbeSample {
  kind: 'enriched' | 'dlq';
  intendedMs: number | null;
  seenMs: number;
  /** Broker append time of the output minus that of the raw record; negative (the two brokers' clocks disagree) is kept as read and counted in stats.negativeEnrichMs. */
  enrichMs: number | null;
  generation: number;
  /** The event was already seen in this generation (a duplicate): not a latency sample. */
  duplicate: boolean;
}

/** The lineage headers every enriched record carries (src/enrich/enricher.ts): the audit trail from sink back to source. */
export const LINEAGE_HEADERS = ['cb-schema-version', 'cb-enrichment-version', 'cb-source-partition', 'cb-source-offset'] as const;

/** How often the probe commits its group's offsets (Kafka's auto.commit.interval.ms default). */
export const PROBE_COMMIT_INTERVAL_MS = 5_000;
const MAX_DUPLICATE_EXAMPLES = 10;
const RECENT_SIGHTINGS = 20_000;

/** The producer of a record's batch, as kafkajs decodes it (a small object per batch, no buffers). */
type BatchContext = { producerId?: string; producerEpoch?: number; inTransaction?: boolean };

/** Where the probe read a record, in words (only for a duplicate). */
function sightingText(topic: string, partition: number, offset: string | number, b: BatchContext | undefined, source?: string): string {
  return `${topic}[${partition}]@${offset}, producer ${b ? `${b.producerId}/${b.producerEpoch}${b.inTransaction ? ' (transactional)' : ''}` : 'not reported'}${source ? `, from raw ${source}` : ''}`;
}

/** The probe's consumer settings (also the latency-floor reader of `npm run bench`, so both measure one path). */
export function probeConsumerConfig(groupId: string, rack?: string): ConsumerConfig {
  return { groupId, rackId: rack, readUncommitted: false, maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 1_000, metadataMaxAge: PREFERRED_REPLICA_TTL_MS };
}

const PII = /@(example\.(com|net|org)|mail\.example|inbox\.example)|\+1-555-\d{3}-\d{4}/;

export class Probe {
  private consumer?: Consumer;
  /** generation → seq counts (enriched + DLQ, by the raw record's position). */
  readonly seen = new Map<number, SeqCounts>();
  readonly bytesByTopic = new Map<string, Map<number, number>>();
  /** "partition:offset" of the raw record → the DLQ reason, for every DLQ record read (any generation). */
  readonly dlqBySource = new Map<string, string>();
  /** The first duplicates read: where they sat, which producer wrote them, the raw record they came from. */
  readonly duplicateExamples: DuplicateExample[] = [];
  private readonly recentKeys = new Float64Array(RECENT_SIGHTINGS).fill(-1);
  private readonly recentOffsets = new Float64Array(RECENT_SIGHTINGS);
  private readonly recentPartitions = new Int32Array(RECENT_SIGHTINGS);
  private readonly recentTopics: string[] = new Array(RECENT_SIGHTINGS);
  private readonly recentBatches: (BatchContext | undefined)[] = new Array(RECENT_SIGHTINGS);
  private recentPos = 0;

  /** The newest earlier sighting of `key` among the recent records, in words (null: no longer kept). */
  private recentSighting(key: number): string | null {
    for (let i = 1; i <= RECENT_SIGHTINGS; i++) {
      const at = (this.recentPos - i + RECENT_SIGHTINGS) % RECENT_SIGHTINGS;
      if (this.recentKeys[at] === key) return sightingText(this.recentTopics[at], this.recentPartitions[at], this.recentOffsets[at], this.recentBatches[at]);
    }
    return null;
  }
  stats = { enriched: 0, dlq: 0, duplicates: 0, piiLeaks: 0, unpseudonymized: 0, checkedWithoutConsent: 0, unparsable: 0, redelivered: 0, negativeEnrichMs: 0, lineageMissing: 0 };
  /** topic:partition → next offset not yet seen: the probe's own group re-reads after a rebalance (its
   *  coordinator moved, a broker died) are re-deliveries to the probe, not duplicates in the sink. */
  private readonly nextOffset = new Map<string, number>();
  lastSeenMs = 0;
  private stopped = false;
  private commitTimer?: NodeJS.Timeout;
  private readonly committed = new Map<string, number>();
  /** How event ids of this run start (`<prefix>-`), built once: accept() runs for every record. */
  private get sourceKey(): string {
    return (this.sourceKeyValue ??= `${this.o.idPrefix}-`);
  }
  private sourceKeyValue?: string;

  constructor(private readonly o: { kafka: Kafka; groupId: string; enrichedTopic: string; dlqTopic: string; rack?: string; idPrefix: string; onSample: (s: ProbeSample) => void; onEnriched?: (seq: number, value: string, intendedMs: number | null) => void }) {}

  async start(): Promise<void> {
    this.consumer = createConsumer(this.o.kafka, probeConsumerConfig(this.o.groupId, this.o.rack), () => !this.stopped);
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.o.enrichedTopic, this.o.dlqTopic], fromBeginning: true });
    // Offsets committed every 5 s, as Kafka's auto.commit.interval.ms: kafkajs's autoCommit commits after
    // every batch whatever its interval says (one OffsetCommit per fetch, most of the probe's cost on the
    // cluster). A re-read after a rebalance is recognised by the offset guard in accept().
    this.commitTimer = setInterval(() => void this.commit(), PROBE_COMMIT_INTERVAL_MS);
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        const now = Date.now();
        // Bytes as on the wire (re-reads included: they crossed the network too).
        const bytes = fetchedBytes(batch.messages);
        for (const m of batch.messages) this.accept(batch.topic, batch.partition, m, now);
        let m = this.bytesByTopic.get(batch.topic);
        if (!m) this.bytesByTopic.set(batch.topic, (m = new Map()));
        m.set(batch.partition, (m.get(batch.partition) ?? 0) + bytes);
        if (batch.messages.length) this.lastSeenMs = now;
        await heartbeat();
      },
    });
  }

  /**
   * One record as the probe reads it (pure but for the callbacks): a re-read of an offset already seen
   * is a re-delivery to the probe, not a duplicate; an event sequence seen twice in one generation is a
   * duplicate in the sink (a replay's generation is new, so its re-enriched events are not).
   */
  accept(topic: string, partition: number, m: { offset: string; value: Buffer | null; headers?: Record<string, unknown>; timestamp: string }, now: number): ProbeSample | 'redelivered' {
    const tp = `${topic}:${partition}`;
    if (Number(m.offset) < (this.nextOffset.get(tp) ?? 0)) {
      this.stats.redelivered++;
      return 'redelivered';
    }
    this.nextOffset.set(tp, Number(m.offset) + 1);
    const kind = topic === this.o.dlqTopic ? 'dlq' : 'enriched';
    const value = m.value?.toString() ?? '';
    const h = m.headers ?? {};
    const header = (k: string) => (h[k] === undefined ? undefined : String(h[k]));
    const intended = header('cb-intended-ms');
    const rawAppend = header('cb-raw-append-ms');
    const generation = Number(header('cb-generation') ?? 0);
    const sample: ProbeSample = {
      kind,
      intendedMs: intended ? Number(intended) : null,
      seenMs: now,
      enrichMs: rawAppend ? Number(m.timestamp) - Number(rawAppend) : null,
      generation,
      duplicate: false,
    };
    if (sample.enrichMs !== null && sample.enrichMs < 0) this.stats.negativeEnrichMs++;
    if (kind === 'enriched') {
      this.stats.enriched++;
      // Audit: every enriched record says where it came from and which code made it.
      if (LINEAGE_HEADERS.some((k) => h[k] === undefined)) this.stats.lineageMissing++;
      if (PII.test(value)) this.stats.piiLeaks++;
      // Every 10th record: no raw identifier or full IP for a person without analytics consent.
      if (this.stats.enriched % 10 === 0) this.checkPseudonymized(value);
    } else {
      this.stats.dlq++;
      // Where the DLQ'd record came from: the event contract looks every injected bad record up by its raw position.
      const sp = header('cb-source-partition');
      const so = header('cb-source-offset');
      if (sp !== undefined && so !== undefined) this.dlqBySource.set(`${sp}:${so}`, header('cb-dlq-reason') ?? '');
    }
    // The event's sequence number from its id (first field of both raw and enriched JSON).
    const seq = eventSeqOf(value, this.sourceKey);
    if (Number.isFinite(seq)) {
      let counts = this.seen.get(generation);
      if (!counts) this.seen.set(generation, (counts = new SeqCounts()));
      const key = seq * 16 + (generation & 15);
      if (counts.add(seq) > 1) {
        this.stats.duplicates++;
        sample.duplicate = true;
        const batch = (m as { batchContext?: BatchContext }).batchContext;
        if (this.duplicateExamples.length < MAX_DUPLICATE_EXAMPLES) this.duplicateExamples.push({ seq, generation, copy: sightingText(topic, partition, m.offset, batch, `${header('cb-source-partition') ?? '?'}:${header('cb-source-offset') ?? '?'}`), first: this.recentSighting(key) });
      }
      // The last RECENT_SIGHTINGS records, so a duplicate can name its first copy (an aborted transaction
      // read as committed, a redo): numbers and the batch's producer in a ring, searched only for a
      // duplicate. No buffer is kept (kafkajs's values and headers are slices of whole fetch responses).
      // (A Map kept per record cost 1.2 µs beside the probe's 0.7 µs per record; evicting its oldest key, 11 µs.)
      const at = this.recentPos;
      this.recentKeys[at] = key;
      this.recentOffsets[at] = Number(m.offset);
      this.recentPartitions[at] = partition;
      this.recentTopics[at] = topic;
      this.recentBatches[at] = (m as { batchContext?: BatchContext }).batchContext;
      this.recentPos = (at + 1) % RECENT_SIGHTINGS;
      if (kind === 'enriched') this.o.onEnriched?.(seq, value, sample.intendedMs);
    } else this.stats.unparsable++;
    this.o.onSample(sample);
    return sample;
  }

  private checkPseudonymized(value: string): void {
    try {
      const o = JSON.parse(value);
      if (o.consent?.analytics !== false) return;
      this.stats.checkedWithoutConsent++;
      const raw = (v: unknown) => typeof v === 'string' && !v.startsWith('h_');
      if (raw(o.anonymous_id) || raw(o.user_id) || (typeof o.ip === 'string' && !o.ip.endsWith('.0'))) this.stats.unpseudonymized++;
    } catch {
      this.stats.unparsable++;
    }
  }

  /** Commit the next offset of every partition seen since the last commit. */
  private async commit(): Promise<void> {
    const offsets: { topic: string; partition: number; offset: string }[] = [];
    for (const [tp, next] of this.nextOffset) {
      if (this.committed.get(tp) === next) continue;
      const i = tp.lastIndexOf(':');
      offsets.push({ topic: tp.slice(0, i), partition: Number(tp.slice(i + 1)), offset: String(next) });
    }
    if (offsets.length === 0 || !this.consumer) return;
    try {
      await this.consumer.commitOffsets(offsets);
      for (const o of offsets) this.committed.set(`${o.topic}:${o.partition}`, Number(o.offset));
    } catch {
      // A rebalance in progress: the next round commits (the offset guard absorbs the re-read).
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.commitTimer) clearInterval(this.commitTimer);
    // A last commit, bounded (a group in a rebalance would hold it): the offset guard covers a re-read.
    await Promise.race([this.commit(), new Promise((r) => setTimeout(r, 5_000).unref())]);
    await this.consumer?.disconnect().catch(() => {});
  }
}
