/**
 * Exactly-once with the next batches read while a transaction commits (./stage.ts): per raw partition, the
 * next offset after the records already handed to a transaction — queued, in flight or committed. A
 * fetched batch is admitted against it: what it repeats is left out (a consumer restarted, or a rebalance
 * read committed offsets from before a transaction still completing), and a batch that starts beyond it
 * is not taken at once (fetched before the stage rewound the partition: the records between would be
 * skipped). When a transaction fails, its records and those queued after them are dropped and the
 * partitions rewound to their first dropped offset, from where the consumer reads them again.
 */
export type Admission =
  /** Take the batch's records from offset `from` on (those before it are held already). */
  | { take: true; from: number }
  /** Do not take it: read the partition again from `reread` (the batch starts beyond what was taken). */
  | { take: false; reread: number };

export class TakenOffsets {
  private readonly next = new Map<number, number>();
  /** Per partition, the start of the last batch turned away for starting beyond `next`. */
  private readonly turnedAway = new Map<number, number>();
  /** Batches that started beyond what was taken and were taken anyway (the second time they came). */
  gapsAccepted = 0;

  /**
   * A batch of `partition` fetched from offset `fetchedOffset`. One that starts beyond what was taken
   * is turned away once (a batch fetched before a rewind is never fetched again); the same start a second
   * time is taken: the consumer moved past records nobody gets (kafkajs resolves a batch of only control
   * records or aborted ones itself; retention removed the rest).
   */
  admit(partition: number, fetchedOffset: number): Admission {
    const next = this.next.get(partition);
    if (next === undefined || fetchedOffset <= next) {
      this.turnedAway.delete(partition);
      return { take: true, from: next ?? fetchedOffset };
    }
    if (this.turnedAway.get(partition) === fetchedOffset) {
      this.turnedAway.delete(partition);
      this.gapsAccepted++;
      return { take: true, from: fetchedOffset };
    }
    this.turnedAway.set(partition, fetchedOffset);
    return { take: false, reread: next };
  }

  /** Records up to `nextOffset` (exclusive) handed to a transaction. */
  take(partition: number, nextOffset: number): void {
    this.next.set(partition, Math.max(this.next.get(partition) ?? nextOffset, nextOffset));
  }

  /** The next offset not yet handed to a transaction (undefined before the first batch). */
  nextOf(partition: number): number | undefined {
    return this.next.get(partition);
  }

  /**
   * Records from these offsets on were dropped (their transaction failed, or they queued behind it): each
   * partition goes back to the least of its dropped items' first offsets. Returns where to read again.
   */
  rewind(dropped: { partition: number; first: number }[]): Map<number, number> {
    const to = new Map<number, number>();
    for (const d of dropped) to.set(d.partition, Math.min(to.get(d.partition) ?? d.first, d.first));
    for (const [p, offset] of to) {
      this.next.set(p, offset);
      this.turnedAway.delete(p);
    }
    return to;
  }
}

/** The offsets a transaction commits: per raw partition, the next offset after its last item (a partition's batches may queue twice in one transaction). */
export function lastPerPartition(items: { partition: number; nextOffset: number }[]): { partition: number; offset: string }[] {
  const next = new Map<number, number>();
  for (const it of items) next.set(it.partition, Math.max(next.get(it.partition) ?? -1, it.nextOffset));
  return [...next].map(([partition, offset]) => ({ partition, offset: String(offset) }));
}
