/**
 * The enrichment stage's output side: its records as produce requests per partition, sent per broker
 * (one partition per request for a while after a failure: the careful mode), and at-least-once's sender,
 * which sends together the batches kafkajs hands over together.
 */
import type { Message } from 'kafkajs';
import type { Kafka } from '../kafka/client.js';
import { CAREFUL_MS, sendByBroker } from '../kafka/client.js';
import { LeaderMap } from '../kafka/leaders.js';
import { partitionForKey } from '../kafka/murmur2.js';
import { cutRequests, mergeRequests } from './requests.js';
import { PackedRecords, packedRunEnd } from '../kafka/packed.js';
import { addNested, produceRequestShares, recordBytes, RECORD_BATCH_HEADER_BYTES } from '../kafka/wire.js';

export type ProduceRequest = { topic: string; messages: Message[] };
type SendFn = (topicMessages: ProduceRequest[]) => Promise<unknown>;

/** The requests of batches sent together (one batch's as they are). */
export function merged(items: { requests: ProduceRequest[] }[]): ProduceRequest[] {
  return items.length === 1 ? items[0].requests : mergeRequests(items.flatMap((it) => it.requests));
}

function lengthOf(v: string | Buffer): number {
  return typeof v === 'string' ? Buffer.byteLength(v) : v.length;
}

/** Where the output topics' partitions are, and how requests go to them. */
export class OutputRoute {
  private readonly partitionCount = new Map<string, number>();
  private leaders?: LeaderMap;
  private admin?: ReturnType<Kafka['admin']>;
  private carefulUntil = 0;
  /**
   * Bytes of the produce requests handed to the client, topic → partition → bytes, as
   * src/kafka/wire.ts counts them (records before compression, batch header, the partition's share of
   * its request's framing): the stage's output flow in the cross-zone model. Counted when sent, so an
   * attempt that failed or a transaction that aborted counts too: the network carried it.
   */
  readonly producedBytes = new Map<string, Map<number, number>>();

  /** `client`: the producer's client id and transactional id (their lengths are part of every request's framing). */
  constructor(private readonly topics: { output: string; dlq: string }, private readonly client: { clientId: string; transactionalId: string | null } = { clientId: '', transactionalId: null }) {}

  /** Reads the output topics' partitions and leaders. */
  async start(kafka: Kafka): Promise<void> {
    const admin = (this.admin = kafka.admin());
    await admin.connect();
    const md = await admin.fetchTopicMetadata({ topics: [this.topics.output, this.topics.dlq] });
    for (const t of md.topics) this.partitionCount.set(t.name, t.partitions.length);
    this.leaders = new LeaderMap(admin, () => [this.topics.output, this.topics.dlq]);
    await this.leaders.refresh();
  }

  /**
   * Output as produce requests that each touch ONE partition (so one broker) and stay under ~512 KB
   * (the broker refuses record batches over 1 MB). One partition per request matters: when a
   * multi-broker request half succeeds, kafkajs's retry re-sends the half that succeeded with new
   * sequence numbers, which would put duplicates inside the transaction.
   */
  requests(out: { enriched: PackedRecords[]; dlq: Message[] }): ProduceRequest[] {
    const requests: ProduceRequest[] = [];
    // The enriched records come as runs of one partition each, already cut (ByteArena.record).
    for (const run of out.enriched) if (run.count > 0) requests.push({ topic: this.topics.output, messages: run.slots() });
    const byPartition = new Map<number, Message[]>();
    for (const m of out.dlq) {
      const p = this.partitionOf(this.topics.dlq, m.key == null ? null : String(m.key));
      m.partition = p;
      let list = byPartition.get(p);
      if (!list) byPartition.set(p, (list = []));
      list.push(m);
    }
    for (const list of byPartition.values()) cutRequests(this.topics.dlq, list, requests);
    return requests;
  }

  /** The partition of `topic` a record with this key goes to (Kafka's murmur2 partition; no key: 0). */
  partitionOf(topic: string, key: string | null): number {
    return key != null ? partitionForKey(key, this.partitionCount.get(topic) ?? 1) : 0;
  }

  /** After a failed or retried produce: leaders may be moving, so one partition per request for a while. */
  beCareful(): void {
    this.carefulUntil = Date.now() + CAREFUL_MS;
    void this.leaders?.refresh();
  }

  /** Output requests grouped per broker (one partition per request for a while after a failure). */
  send(requests: ProduceRequest[], send: SendFn): Promise<void> {
    const counted: SendFn = (topicMessages) => {
      this.count(topicMessages);
      return send(topicMessages);
    };
    return sendByBroker(requests, this.leaders ? (t, p) => this.leaders!.get(t, p) : undefined, counted, Date.now() < this.carefulUntil);
  }

  /** One produce request's bytes (its requests are one partition each) into producedBytes. */
  private count(topicMessages: ProduceRequest[]): void {
    const shares = produceRequestShares(this.client.clientId, this.client.transactionalId, topicMessages.map((r) => r.topic));
    topicMessages.forEach((r, i) => {
      let bytes = RECORD_BATCH_HEADER_BYTES + shares[i];
      for (let j = 0; j < r.messages.length; ) {
        const m = r.messages[j];
        const runEnd = packedRunEnd(r.messages, j);
        if (runEnd !== undefined) {
          bytes += (m as PackedRecords).wireBytes(j);
          j = runEnd;
          continue;
        }
        bytes += recordBytes(m.key == null ? -1 : lengthOf(m.key), m.value == null ? 0 : lengthOf(m.value), m.headers as Record<string, unknown> | undefined, j);
        j++;
      }
      addNested(this.producedBytes, r.topic, r.messages[0]?.partition ?? 0, bytes);
    });
  }

  async stop(): Promise<void> {
    await this.admin?.disconnect().catch(() => {});
  }
}

/**
 * At-least-once output: the batches kafkajs hands over concurrently are sent together, as exactly-once
 * merges a transaction's batches (one request per broker per round). Sent one batch at a time, each
 * batch's requests queued behind the others' (one request in flight per broker with the idempotent
 * producer): the brokers' CPU per event ~30 µs, ~23 merged (enrichment bench, warm rounds). A failed send
 * fails every batch in it; kafkajs hands them over again (duplicates downstream, as at-least-once allows).
 */
export class BatchedSender {
  private readonly queue: { requests: ProduceRequest[]; resolve: () => void; reject: (e: Error) => void }[] = [];
  private sending = false;

  constructor(private readonly route: OutputRoute, private readonly sendFn: SendFn) {}

  /** Resolves once the batch's requests are acknowledged. */
  send(requests: ProduceRequest[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ requests, resolve, reject });
      if (!this.sending) {
        this.sending = true;
        setImmediate(() => void this.loop());
      }
    });
  }

  private async loop(): Promise<void> {
    while (this.queue.length > 0) {
      const items = this.queue.splice(0, this.queue.length);
      try {
        await this.route.send(merged(items), this.sendFn);
        for (const it of items) it.resolve();
      } catch (err) {
        this.route.beCareful();
        for (const it of items) it.reject(err as Error);
      }
    }
    this.sending = false;
  }
}
