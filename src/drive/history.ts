/**
 * Retained history for elasticity phases: `topics.history` bytes of generated clickstream written
 * in bulk into `<prefix>.clicks.history` before the load, so a scale-out or a broker replacement
 * has retained data to move (a few hundred MB built in seconds rather than hours of traffic).
 * Records are blocks of JSONL events (~64 KiB each), keyed round-robin over the partitions.
 */
import type { Producer } from '../kafka/client.js';
import type { ClickstreamGenerator } from '../generate/clickstream.js';

export interface HistoryFill {
  topic: string;
  records: number;
  bytes: number;
  events: number;
  ms: number;
}

export async function writeHistory(producer: Producer, topic: string, partitions: number, bytes: number, gen: ClickstreamGenerator, blockBytes = 64 * 1024): Promise<HistoryFill> {
  const t0 = Date.now();
  let written = 0;
  let records = 0;
  let events = 0;
  const inFlight: Promise<unknown>[] = [];
  while (written < bytes) {
    // One request per partition per round, 16 blocks each, 4 rounds in flight.
    const round: { partition: number; value: string }[] = [];
    for (let p = 0; p < partitions && written < bytes; p++) {
      for (let b = 0; b < 16 && written < bytes; b++) {
        let block = '';
        while (block.length < blockBytes) {
          block += gen.next().value + '\n';
          events++;
        }
        round.push({ partition: p, value: block });
        written += block.length;
        records++;
      }
    }
    const byPartition = new Map<number, { value: string; partition: number }[]>();
    for (const r of round) (byPartition.get(r.partition) ?? byPartition.set(r.partition, []).get(r.partition)!).push(r);
    inFlight.push(producer.sendBatch({ acks: -1, topicMessages: [...byPartition.values()].map((messages) => ({ topic, messages })) }));
    if (inFlight.length >= 4) await inFlight.shift();
  }
  await Promise.all(inFlight);
  return { topic, records, bytes: written, events, ms: Date.now() - t0 };
}
