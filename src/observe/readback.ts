/**
 * Read a topic back from the beginning to its current end and collect the event sequence numbers
 * it holds (from the event id, `<idPrefix>-<seq base 36>`, near the start of each value). The
 * ground truth for "was an acknowledged event lost?".
 */
import { randomBytes } from 'node:crypto';
import { createConsumer, type Admin, type Kafka } from '../kafka/client.js';
import { SeqCounts } from '../drive/driver.js';
import { sleep } from '../sandbox/process.js';

export interface Readback {
  seqs: SeqCounts;
  /** seq → partition it was found in */
  records: number;
  complete: boolean;
}

export async function readBackSeqs(kafka: Kafka, admin: Admin, topic: string, idPrefix: string, timeoutMs = 180_000): Promise<Readback> {
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, { low: Number(p.low), high: Number(p.high) }]));
  const next = new Map<number, number>();
  for (const [p, e] of ends) next.set(p, e.low);
  const done = () => [...ends].every(([p, e]) => (next.get(p) ?? 0) >= e.high);
  const seqs = new SeqCounts();
  let records = 0;
  const key = `${idPrefix}-`;
  const groupId = `${idPrefix}.readback.${randomBytes(3).toString('hex')}`;
  if (done()) return { seqs, records, complete: true };
  const consumer = createConsumer(kafka, { groupId, readUncommitted: true, maxBytesPerPartition: 4 * 1024 * 1024, maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const from = next.get(batch.partition) ?? 0;
        for (const m of batch.messages) {
          if (Number(m.offset) < from) continue; // a re-delivery to this reader, not a second copy in the topic
          const value = m.value?.toString() ?? '';
          const at = value.indexOf(key);
          if (at >= 0 && at < 40) {
            const seq = parseInt(value.slice(at + key.length, value.indexOf('"', at)), 36);
            if (Number.isFinite(seq)) seqs.add(seq);
          }
          records++;
        }
        const last = batch.messages[batch.messages.length - 1];
        if (last) next.set(batch.partition, Number(last.offset) + 1);
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (!done() && Date.now() < deadline) await sleep(100);
    return { seqs, records, complete: done() };
  } finally {
    await consumer.disconnect().catch(() => {});
    await admin.deleteGroups([groupId]).catch(() => {});
  }
}
