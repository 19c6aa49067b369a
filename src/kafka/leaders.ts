/**
 * Which broker leads each partition, as the cluster's metadata said at most `maxAgeMs` ago: the
 * driver groups its per-partition batches by leader into one produce request per broker (as Kafka's
 * Java producer drains its accumulator per node). Refreshed in the background when stale and at
 * once after a failed request; unknown partitions map to undefined (their batches still go out,
 * grouped together, and the client library finds their leaders itself).
 */
import type { Admin } from './client.js';

export class LeaderMap {
  private readonly leaders = new Map<string, number>();
  private refreshedAt = 0;
  private pending?: Promise<void>;

  constructor(private readonly admin: Pick<Admin, 'fetchTopicMetadata'>, private readonly topics: () => string[], private readonly maxAgeMs = 5_000, private readonly clock: () => number = Date.now) {}

  /** The leader of a partition (undefined: not known yet); starts a refresh when the map is stale. */
  get(topic: string, partition: number): number | undefined {
    if (this.clock() - this.refreshedAt > this.maxAgeMs) void this.refresh();
    return this.leaders.get(`${topic}:${partition}`);
  }

  /** Read the metadata again (one request at a time; a failed read keeps the old map). */
  refresh(): Promise<void> {
    this.pending ??= (async () => {
      try {
        const md = await this.admin.fetchTopicMetadata({ topics: this.topics() });
        for (const t of md.topics) for (const p of t.partitions) this.leaders.set(`${t.name}:${p.partitionId}`, p.leader);
      } catch {
        // kept: the next call after maxAgeMs tries again
      } finally {
        this.refreshedAt = this.clock();
        this.pending = undefined;
      }
    })();
    return this.pending;
  }
}
