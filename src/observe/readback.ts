/**
 * Read a topic back from the beginning to its current end and collect the event sequence numbers
 * it holds (from the event id, `<idPrefix>-<seq base 36>`, near the start of each value). The
 * ground truth for "was an acknowledged event lost?".
 */
import { randomBytes } from 'node:crypto';
import { createConsumer, type Admin, type Kafka } from '../kafka/client.js';
import { SeqCounts } from '../drive/driver.js';
import { eventSeqOf } from '../generate/clickstream.js';
import { sleep } from '../sandbox/process.js';

export interface Readback {
  seqs: SeqCounts;
  /** seq → partition it was found in */
  records: number;
  complete: boolean;
  /** Why the read may have missed records (a partition without a leader or without its log). */
  problem?: string;
}

export async function readBackSeqs(kafka: Kafka, admin: Admin, topic: string, idPrefix: string, timeoutMs = 180_000): Promise<Readback> {
  // A partition that lost its log (or has no leader) makes ListOffsets fail for the whole topic:
  // retry a while, then read what can be read until it goes quiet, and say so.
  let offsets: Awaited<ReturnType<Admin['fetchTopicOffsets']>> | undefined;
  let problem: string | undefined;
  for (let attempt = 0; attempt < 10 && !offsets; attempt++) {
    try {
      offsets = await admin.fetchTopicOffsets(topic);
    } catch (err) {
      problem = `end offsets unavailable (${(err as Error).message}); read until quiet`;
      await sleep(2_000);
    }
  }
  if (offsets) problem = undefined;
  const ends = new Map((offsets ?? []).map((p) => [p.partition, { low: Number(p.low), high: Number(p.high) }]));
  const next = new Map<number, number>();
  for (const [p, e] of ends) next.set(p, e.low);
  const done = () => [...ends].every(([p, e]) => (next.get(p) ?? 0) >= e.high);
  const seqs = new SeqCounts();
  let records = 0;
  const key = `${idPrefix}-`;
  const groupId = `${idPrefix}.readback.${randomBytes(3).toString('hex')}`;
  if (offsets && done()) return { seqs, records, complete: true };
  let lastRecordAt = Date.now();
  let reading = true;
  const consumer = createConsumer(kafka, { groupId, readUncommitted: true, maxBytesPerPartition: 4 * 1024 * 1024, maxWaitTimeInMs: 200 }, () => reading);
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const from = next.get(batch.partition) ?? 0;
        for (const m of batch.messages) {
          if (Number(m.offset) < from) continue; // a re-delivery to this reader, not a second copy in the topic
          const seq = eventSeqOf(m.value?.toString() ?? '', key);
          if (Number.isFinite(seq)) seqs.add(seq);
          records++;
        }
        if (batch.messages.length) lastRecordAt = Date.now();
        const last = batch.messages[batch.messages.length - 1];
        if (last) next.set(batch.partition, Number(last.offset) + 1);
      },
    });
    const deadline = Date.now() + timeoutMs;
    const started = Date.now();
    if (offsets) while (!done() && Date.now() < deadline) await sleep(100);
    else while (Date.now() < deadline && (Date.now() - started < 10_000 || Date.now() - lastRecordAt < 5_000)) await sleep(200);
    return { seqs, records, complete: offsets ? done() : false, problem };
  } finally {
    reading = false;
    await consumer.disconnect().catch(() => {});
    await admin.deleteGroups([groupId]).catch(() => {});
  }
}
