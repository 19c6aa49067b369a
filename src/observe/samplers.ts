/** Periodic cluster-side samples during a run: consumer lag and broker disk (DescribeLogDirs). */
import type { Admin, Kafka } from '../kafka/client.js';
import type { LogDirDisk, LogDirsProbe } from '../kafka/logdirs.js';

export interface LagSample {
  offsetMs: number;
  /** end offsets − committed offsets of the enrichment group on the raw topic */
  lag: number;
  endOffset: number;
}

export async function sampleLag(admin: Admin, groupId: string, topic: string): Promise<{ lag: number; endOffset: number }> {
  const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const c = new Map(committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
  let lag = 0;
  let end = 0;
  for (const p of ends) {
    end += Number(p.high);
    lag += Number(p.high) - Math.max(0, c.get(p.partition) ?? 0);
  }
  return { lag, endOffset: end };
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
