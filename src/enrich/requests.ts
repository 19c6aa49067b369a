/**
 * The enrichment stage's output as produce requests: one partition each (so one broker), under the
 * broker's 1 MB batch limit, and several batches' requests merged when they share a transaction.
 */
import type { Message } from 'kafkajs';
import { PackedRecords, packedRunEnd, RECORD_FRAMING_MAX } from '../kafka/packed.js';

/** Most payload bytes (+200 per record) in one produce request: the broker refuses record batches over 1 MB. */
const REQUEST_BYTES = 512 * 1024;

/**
 * One partition's messages, in order, as requests of at most REQUEST_BYTES. A run of packed records
 * (src/kafka/packed.ts) stays whole, counted by the most bytes its records take.
 */
export function cutRequests(topic: string, list: Message[], into: { topic: string; messages: Message[] }[]): void {
  let chunk: Message[] = [];
  let bytes = 0;
  for (let i = 0; i < list.length; ) {
    const m = list[i];
    const runEnd = packedRunEnd(list, i);
    const size = runEnd === undefined ? (m.value as string | Buffer).length + 200 : (m as PackedRecords).maxBytes();
    if (bytes + size > REQUEST_BYTES && chunk.length > 0) {
      into.push({ topic, messages: chunk });
      chunk = [];
      bytes = 0;
    }
    const end = runEnd ?? i + 1;
    for (; i < end; i++) chunk.push(list[i]);
    bytes += size;
  }
  if (chunk.length) into.push({ topic, messages: chunk });
}

/**
 * A partition's records into runs of packed records (src/kafka/packed.ts) of at most REQUEST_BYTES each (as
 * maxBytes counts): the run to add the next record, of a `body` bytes long body, to (a new one when the last is full).
 */
export function packedRun(runs: PackedRecords[], partition: number, body: number): PackedRecords {
  let run = runs[runs.length - 1];
  if (!run || (run.count > 0 && run.maxBytes() + body + RECORD_FRAMING_MAX > REQUEST_BYTES)) runs.push((run = new PackedRecords(partition)));
  return run;
}

/**
 * The requests of several batches that share a transaction, as one set: each partition's messages
 * together, in the batches' order, cut again at REQUEST_BYTES. Sent apart, every batch added a request
 * per output partition, and sendByBroker one round per batch (a transaction of 4 batches: 4 rounds of
 * produce requests waiting for acks=all, one after the other).
 */
export function mergeRequests(requests: { topic: string; messages: Message[] }[]): { topic: string; messages: Message[] }[] {
  const byPartition = new Map<string, { topic: string; messages: Message[] }>();
  for (const r of requests) {
    const key = `${r.topic}:${r.messages[0]?.partition}`;
    const into = byPartition.get(key);
    if (into) for (const m of r.messages) into.messages.push(m);
    else byPartition.set(key, { topic: r.topic, messages: r.messages.slice() });
  }
  const out: { topic: string; messages: Message[] }[] = [];
  for (const { topic, messages } of byPartition.values()) cutRequests(topic, messages, out);
  return out;
}
