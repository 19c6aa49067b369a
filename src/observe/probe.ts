/**
 * The probe: a consumer (read_committed) on the enriched sink and the DLQ that sees what
 * downstream sees. It measures end-to-end latency (intended send time → seen here) and
 * enrichment latency (raw append → enriched append, broker clocks), counts each event by its
 * sequence and generation (a replay is a new generation, not a duplicate), and checks every
 * record for PII that must not leave the enrichment stage.
 */
import { createConsumer, type Consumer, type Kafka } from '../kafka/client.js';
import { SeqCounts } from '../drive/driver.js';
import { eventSeqOf } from '../generate/clickstream.js';
import { PREFERRED_REPLICA_TTL_MS } from '../enrich/stage.js';
import { fetchedBytes } from '../kafka/wire.js';

export interface ProbeSample {
  kind: 'enriched' | 'dlq';
  intendedMs: number | null;
  seenMs: number;
  enrichMs: number | null;
  generation: number;
}

const PII = /@(example\.(com|net|org)|mail\.example|inbox\.example)|\+1-555-\d{3}-\d{4}/;

export class Probe {
  private consumer?: Consumer;
  /** generation → seq counts (enriched + DLQ, by the raw record's position). */
  readonly seen = new Map<number, SeqCounts>();
  readonly bytesByTopic = new Map<string, Map<number, number>>();
  stats = { enriched: 0, dlq: 0, duplicates: 0, piiLeaks: 0, unpseudonymized: 0, checkedWithoutConsent: 0, unparsable: 0, redelivered: 0 };
  /** topic:partition → next offset not yet seen: the probe's own group re-reads after a rebalance (its
   *  coordinator moved, a broker died) are re-deliveries to the probe, not duplicates in the sink. */
  private readonly nextOffset = new Map<string, number>();
  lastSeenMs = 0;
  private stopped = false;

  constructor(private readonly o: { kafka: Kafka; groupId: string; enrichedTopic: string; dlqTopic: string; rack?: string; idPrefix: string; onSample: (s: ProbeSample) => void; onEnriched?: (seq: number, value: string, intendedMs: number | null) => void }) {}

  async start(): Promise<void> {
    this.consumer = createConsumer(this.o.kafka, { groupId: this.o.groupId, rackId: this.o.rack, readUncommitted: false, maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 1_000, metadataMaxAge: PREFERRED_REPLICA_TTL_MS }, () => !this.stopped);
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.o.enrichedTopic, this.o.dlqTopic], fromBeginning: true });
    const sourceKey = `${this.o.idPrefix}-`;
    await this.consumer.run({
      autoCommit: true,
      eachBatch: async ({ batch, heartbeat }) => {
        const now = Date.now();
        const kind = batch.topic === this.o.dlqTopic ? 'dlq' : 'enriched';
        // Bytes as on the wire (re-reads included: they crossed the network too).
        const bytes = fetchedBytes(batch.messages);
        const tp = `${batch.topic}:${batch.partition}`;
        const from = this.nextOffset.get(tp) ?? 0;
        for (const m of batch.messages) {
          if (Number(m.offset) < from) {
            this.stats.redelivered++;
            continue;
          }
          this.nextOffset.set(tp, Number(m.offset) + 1);
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
          };
          if (kind === 'enriched') {
            this.stats.enriched++;
            if (PII.test(value)) this.stats.piiLeaks++;
            // Every 10th record: no raw identifier or full IP for a person without analytics consent.
            if (this.stats.enriched % 10 === 0) this.checkPseudonymized(value);
          } else this.stats.dlq++;
          // The event's sequence number from its id (first field of both raw and enriched JSON).
          const seq = eventSeqOf(value, sourceKey);
          if (Number.isFinite(seq)) {
            let counts = this.seen.get(generation);
            if (!counts) this.seen.set(generation, (counts = new SeqCounts()));
            if (counts.add(seq) > 1) this.stats.duplicates++;
            if (kind === 'enriched') this.o.onEnriched?.(seq, value, sample.intendedMs);
          } else this.stats.unparsable++;
          this.o.onSample(sample);
        }
        let m = this.bytesByTopic.get(batch.topic);
        if (!m) this.bytesByTopic.set(batch.topic, (m = new Map()));
        m.set(batch.partition, (m.get(batch.partition) ?? 0) + bytes);
        if (batch.messages.length) this.lastSeenMs = now;
        await heartbeat();
      },
    });
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

  /** Distinct events seen in a generation. */
  distinct(generation = 0): number {
    return this.seen.get(generation)?.size ?? 0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer?.disconnect().catch(() => {});
  }
}
