/** Periodic cluster-side samples during a run: consumer lag and broker disk (DescribeLogDirs). */
import type { Admin, Kafka } from '../kafka/client.js';
import type { LogDirDisk, LogDirsProbe } from '../kafka/logdirs.js';

export interface LagSample {
  offsetMs: number;
  /** end offsets − committed offsets of the enrichment group on the raw topic */
  lag: number;
  endOffset: number;
  /** Per raw partition (index = partition): the group's committed offset (-1: none) and its lag. */
  committed?: number[];
  lagByPartition?: number[];
}

export async function sampleLag(admin: Admin, groupId: string, topic: string): Promise<{ lag: number; endOffset: number; committed: number[]; lagByPartition: number[] }> {
  const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const c = new Map(committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
  let lag = 0;
  let end = 0;
  const byPartition: number[] = [];
  const committedBy: number[] = [];
  for (const p of ends) {
    const l = Number(p.high) - Math.max(0, c.get(p.partition) ?? 0);
    end += Number(p.high);
    lag += l;
    byPartition[p.partition] = l;
    committedBy[p.partition] = c.get(p.partition) ?? -1;
  }
  return { lag, endOffset: end, committed: committedBy, lagByPartition: byPartition };
}

/** One lag reading with its own short-lived admin connection (for tools and tests). */
export async function groupLag(kafka: Kafka, groupId: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await sampleLag(admin, groupId, topic)).lag;
  } finally {
    await admin.disconnect();
  }
}

export interface DiskSample {
  offsetMs: number;
  /** broker id → bytes of the run's topics on that broker (all log dirs) */
  byBroker: Record<string, number>;
  totalBytes: number;
  /** bytes by topic (all brokers, replicas included) */
  byTopic: Record<string, number>;
}

export async function sampleDisk(probe: LogDirsProbe, topics: { name: string; partitions: number[] }[], offsetMs: number): Promise<{ sample: DiskSample; dirs: LogDirDisk[] }> {
  const dirs = await probe.describe(topics);
  const byBroker: Record<string, number> = {};
  const byTopic: Record<string, number> = {};
  let total = 0;
  for (const d of dirs) {
    byBroker[d.broker] = (byBroker[d.broker] ?? 0) + d.sizeBytes;
    total += d.sizeBytes;
    for (const p of d.partitions) byTopic[p.topic] = (byTopic[p.topic] ?? 0) + p.sizeBytes;
  }
  return { sample: { offsetMs, byBroker, totalBytes: total, byTopic }, dirs };
}

/** An input partition the enrichment group did not move on while records waited in it. */
export interface PartitionStall {
  partition: number;
  /** ms after the schedule's start: the first and the last sample that found it at the same committed offset with records waiting (the stall lasted at least toMs − fromMs). */
  fromMs: number;
  toMs: number;
  /** The first sample that found it moved on (null: it had not by the last sample). */
  movedMs: number | null;
  /** Largest lag of the partition within the stall. */
  maxLag: number;
}

/**
 * Stalls of single input partitions, from the lag samples: stretches at least `minMs` long in which a
 * partition's committed offset stayed where it was while it had records to read. One partition (or one
 * broker's partitions) stalling shows here when the total lag only looks like a burst. Longest first.
 */
export function partitionStalls(samples: LagSample[], minMs = 2_000): PartitionStall[] {
  const out: PartitionStall[] = [];
  const open = new Map<number, { fromMs: number; committed: number; maxLag: number; lastMs: number }>();
  const close = (p: number, o: { fromMs: number; maxLag: number; lastMs: number }, movedMs: number | null) => {
    if (o.lastMs - o.fromMs >= minMs) out.push({ partition: p, fromMs: o.fromMs, toMs: o.lastMs, movedMs, maxLag: o.maxLag });
  };
  for (const s of samples) {
    if (!s.committed || !s.lagByPartition) continue;
    for (let p = 0; p < s.committed.length; p++) {
      const c = s.committed[p];
      const lag = s.lagByPartition[p] ?? 0;
      const o = open.get(p);
      if (o && c === o.committed && lag > 0) {
        o.maxLag = Math.max(o.maxLag, lag);
        o.lastMs = s.offsetMs;
        continue;
      }
      if (o) close(p, o, s.offsetMs);
      // A new stretch starts at this sample (whether it moves is seen at the next one).
      if (lag > 0) open.set(p, { fromMs: s.offsetMs, committed: c, maxLag: lag, lastMs: s.offsetMs });
      else open.delete(p);
    }
  }
  for (const [p, o] of open) close(p, o, null);
  return out.sort((a, b) => b.toMs - b.fromMs - (a.toMs - a.fromMs) || a.fromMs - b.fromMs || a.partition - b.partition);
}
