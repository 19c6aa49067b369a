/**
 * Retained history for elasticity phases: `topics.history` bytes of generated clickstream written
 * in bulk into `<prefix>.clicks.history` before the load, so a scale-out or a broker replacement
 * has retained data to move (a few hundred MB built in seconds rather than hours of traffic).
 * Records are blocks of JSONL events (~48 KiB each), spread evenly over the partitions.
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

export async function writeHistory(producer: Producer, topic: string, partitions: number, bytes: number, gen: ClickstreamGenerator, blockBytes = 48 * 1024): Promise<HistoryFill> {
  const t0 = Date.now();
  let written = 0;
  let records = 0;
  let events = 0;
  // A round: one request per partition, 2 blocks (one ~96 KiB record batch, the size of a busy
  // producer's batches), all partitions in parallel; two rounds in flight. Batches much larger than
  // that would distort the move: a follower's fetch is cut at replica.fetch.max.bytes (1 MiB) in the
  // middle of a batch, which it drops and fetches again (measured: 512 KiB batches cost 1.85× their
  // size on the network when a new replica copies them).
  let previous: Promise<unknown> = Promise.resolve();
  while (written < bytes) {
    const requests: Promise<unknown>[] = [];
    for (let p = 0; p < partitions && written < bytes; p++) {
      const messages: { partition: number; value: string }[] = [];
      for (let b = 0; b < 2 && written < bytes; b++) {
        let block = '';
        while (block.length < blockBytes) {
          block += gen.next().value + '\n';
          events++;
        }
        messages.push({ partition: p, value: block });
        written += block.length;
        records++;
      }
      requests.push(producer.send({ topic, acks: -1, messages }));
    }
    const round = Promise.all(requests);
    round.catch(() => {}); // awaited below; a failure is thrown from there
    await previous;
    previous = round;
  }
  await previous;
  return { topic, records, bytes: written, events, ms: Date.now() - t0 };
}
