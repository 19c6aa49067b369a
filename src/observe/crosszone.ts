/**
 * Cross-zone bytes, modelled from the live topology and per-partition byte counts.
 *
 *   produce      client → partition leader: crosses when zone(client) ≠ zone(leader)
 *   replication  leader → each follower:     crosses when zone(follower) ≠ zone(leader)
 *   consume      replica → client: with client.rack and RackAwareReplicaSelector the client fetches
 *                from an in-sync replica in its own zone if there is one, else from the leader;
 *                crosses when zone(replica served from) ≠ zone(client)
 *
 * Bytes are records as on the wire (src/kafka/wire.ts: record and batch framing, headers, and the
 * partition's share of the produce request that carried it), as the clients counted them; other protocol traffic
 * (metadata, fetch requests, commits) is not modelled, except what exactly-once transactions add to
 * replication (TRANSACTION_REPLICATION_BYTES). Profiles change what applies (see PROFILE_ASSUMPTIONS).
 */
import { thousands } from '../report/numbers.js';

/** Platform profiles: how storage and networking are read and costed. */
export const PROFILES = ['apache-kafka', 'tiered', 'automq', 'managed'] as const;
export type Profile = (typeof PROFILES)[number];

export interface PartitionPlacement {
  topic: string;
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

export interface ClientFlow {
  client: string;
  zone: string;
  kind: 'produce' | 'consume';
  topic: string;
  /** bytes per partition */
  bytesByPartition: Map<number, number>;
  /**
   * Produce flows: bytes per partition each follower fetches (record batches in fetch responses), when
   * the client counted its batches; otherwise replication counts `bytesByPartition`.
   */
  replicaBytesByPartition?: Map<number, number>;
}

export interface FlowBytes {
  bytes: number;
  crossZoneBytes: number;
}

export interface CrossZoneResult {
  profile: Profile;
  produce: FlowBytes;
  replication: FlowBytes;
  consume: FlowBytes;
  totalBytes: number;
  crossZoneBytes: number;
  /** cross-zone bytes by zone pair "from→to" */
  byZonePair: Record<string, number>;
  costUsd: number;
  pricePerGb: number;
  modelled: true;
  /** The partition layout changed between the two readings (a fault, a move): the figure is the mean of the model on each. */
  layoutChanged?: boolean;
}

/**
 * Replication bytes an exactly-once transaction adds beyond its records, per follower: per transaction,
 * plus per output partition it touched. Each touched partition gets a commit (or abort) marker, a record
 * batch of its own, and every appended batch reaches a follower inside a fetch response's framing; the
 * transaction also writes its state to __transaction_state and its offsets to __consumer_offsets, which
 * are replicated too. Measured, not derived: bench/replication-overhead.ts on the sandbox (Apache Kafka
 * 4.3.1, 2026-12-04), the kernel's counters of the followers' connections over 15 s steps, transactions
 * of one 100-byte record per partition with sendOffsets, as the stage's: beyond the records, per
 * transaction per follower 1 937 B (1 partition), 4 198 B (6), 5 981 B (12); the least-squares line
 * through them is used (errors +8, −7, +2 %). The same runs: 113 B per appended batch per follower.
 */
export const TRANSACTION_REPLICATION_BYTES = { perTransaction: 1_730, perPartition: 365 };

/**
 * Bytes a follower's fetch response carries per appended record batch beyond the batch itself (the
 * partition's fields in the response, the response's and topic's share). Measured with the kernel's
 * counters by bench/replication-overhead.ts on the sandbox (Apache Kafka 4.3.1, 2026-12-04): 113 B per
 * batch per follower at 200–400 batches/s over 12 partitions.
 */
export const REPLICA_FETCH_BYTES_PER_BATCH = 113;

export const CROSS_ZONE_FORMULA = [
  'produce bytes(p) cross zones when zone(producer) ≠ zone(leader(p))',
  `replication bytes(p) × |{f ∈ followers(p) : zone(f) ≠ zone(leader(p))}|, where a follower fetches p's record batches plus ${REPLICA_FETCH_BYTES_PER_BATCH} B of fetch-response framing per batch (the load producer's; measured on the sandbox)`,
  `exactly-once transactions add to replication, per follower: transactions × ${thousands(TRANSACTION_REPLICATION_BYTES.perTransaction)} B + partitions they touched × ${TRANSACTION_REPLICATION_BYTES.perPartition} B (markers, transaction state, offsets, fetch framing: measured on the sandbox), crossing zones as the output topic's followers do`,
  'consume bytes(p) cross zones when zone(consumer) ≠ zone(served(p)), served(p) = an in-sync replica in the consumer\'s zone if any and the probe saw rack-aware fetching work, else leader(p)',
  'cost = cross-zone GB (10^9 bytes) × price per GB',
  'layout: leaders, replicas and ISRs read at each phase boundary; a phase whose layout changed (a fault, a move) is the mean of the model on its start and end layouts; the run is the sum of its phases',
];

export const PROFILE_ASSUMPTIONS: Record<Profile, string[]> = {
  'apache-kafka': ['brokers replicate every partition to its followers over the network (ISR replication)', 'consumers fetch from a same-zone replica when client.rack is set and the brokers use RackAwareReplicaSelector (assumed only when the compatibility probe saw it work; otherwise from the leader)'],
  tiered: ['as apache-kafka for produce, replication and consume', 'uploads to the remote tier go to regional object storage and are not counted as cross-zone'],
  automq: ['shared storage: no broker-to-broker replication traffic (data is made durable in object storage / WAL)', 'zone-aligned produce routing: a producer writes to a broker in its own zone', 'consumers read from a broker in their own zone', 'MODELLED, not measured: no AutoMQ cluster was run'],
  managed: ['as apache-kafka; a managed service may bill cross-zone traffic differently (check its price sheet)'],
};

export function crossZoneBytes(opts: {
  profile: Profile;
  placements: PartitionPlacement[];
  brokerZone: Map<number, string>;
  flows: ClientFlow[];
  pricePerGb: number;
  /** Consumers fetch from an in-sync replica in their own zone (client.rack + RackAwareReplicaSelector): only when the probe saw it work. Default: they fetch from the leader. */
  rackAwareFetch?: boolean;
  /** Exactly-once transactions ended (committed or aborted), the output partitions they touched, and the output topic (whose followers the overhead is spread as). */
  transactions?: { count: number; partitions: number; topic: string };
}): CrossZoneResult {
  const { profile, brokerZone } = opts;
  const place = new Map(opts.placements.map((p) => [`${p.topic}:${p.partition}`, p]));
  const zones = new Set(brokerZone.values());
  const pairs: Record<string, number> = {};
  const add = (from: string | undefined, to: string | undefined, bytes: number, acc: FlowBytes) => {
    acc.bytes += bytes;
    if (from !== undefined && to !== undefined && from !== to && bytes > 0) {
      acc.crossZoneBytes += bytes;
      pairs[`${from}→${to}`] = (pairs[`${from}→${to}`] ?? 0) + bytes;
    }
  };
  const produce: FlowBytes = { bytes: 0, crossZoneBytes: 0 };
  const replication: FlowBytes = { bytes: 0, crossZoneBytes: 0 };
  const consume: FlowBytes = { bytes: 0, crossZoneBytes: 0 };
  for (const f of opts.flows) {
    for (const [partition, bytes] of f.bytesByPartition) {
      const p = place.get(`${f.topic}:${partition}`);
      if (!p) continue;
      const leaderZone = brokerZone.get(p.leader);
      if (f.kind === 'produce') {
        if (profile === 'automq') add(f.zone, zones.has(f.zone) ? f.zone : leaderZone, bytes, produce);
        else add(f.zone, leaderZone, bytes, produce);
        if (profile !== 'automq') {
          const replica = f.replicaBytesByPartition ? f.replicaBytesByPartition.get(partition) ?? 0 : bytes;
          for (const r of p.replicas) if (r !== p.leader) add(leaderZone, brokerZone.get(r), replica, replication);
        }
      } else {
        let served = leaderZone;
        if (profile === 'automq') served = zones.has(f.zone) ? f.zone : leaderZone;
        else if (opts.rackAwareFetch && p.isr.some((r) => brokerZone.get(r) === f.zone)) served = f.zone;
        add(served, f.zone, bytes, consume);
      }
    }
  }
  // Transactions' own replication, spread over the output topic's leader → follower pairs alike.
  const t = opts.transactions;
  if (t && profile !== 'automq' && t.count > 0) {
    const perFollower = Math.max(0, t.count) * TRANSACTION_REPLICATION_BYTES.perTransaction + Math.max(0, t.partitions) * TRANSACTION_REPLICATION_BYTES.perPartition;
    const partitions = opts.placements.filter((p) => p.topic === t.topic);
    const links = partitions.flatMap((p) => p.replicas.filter((r) => r !== p.leader).map((r) => [brokerZone.get(p.leader), brokerZone.get(r)] as const));
    // Followers per partition × per-follower bytes, shared equally by the links: perFollower / partitions each.
    for (const [from, to] of links) add(from, to, perFollower / partitions.length, replication);
  }
  const cross = produce.crossZoneBytes + replication.crossZoneBytes + consume.crossZoneBytes;
  return {
    profile,
    produce,
    replication,
    consume,
    totalBytes: produce.bytes + replication.bytes + consume.bytes,
    crossZoneBytes: cross,
    byZonePair: pairs,
    costUsd: (cross / 1e9) * opts.pricePerGb,
    pricePerGb: opts.pricePerGb,
    modelled: true,
  };
}

/** Client zones (role → zone) that name no broker rack: against such a cluster every byte to or from those clients would count as cross-zone. Empty when the brokers report no racks. */
export function unmatchedClientZones(clientZones: Record<string, string>, brokerRacks: readonly (string | null)[]): string[] {
  const racks = new Set(brokerRacks.filter((r): r is string => r !== null && r !== ''));
  if (racks.size === 0) return [];
  return Object.entries(clientZones).filter(([, z]) => !racks.has(z)).map(([role, z]) => `${role} ${z}`);
}

/** Figures summed (e.g. phases into a run), or scaled by `weight` each (0.5 + 0.5: the mean of the model on two layouts). */
export function sumCrossZone(parts: readonly CrossZoneResult[], weight = 1): CrossZoneResult {
  const flow = (f: (x: CrossZoneResult) => FlowBytes): FlowBytes => ({ bytes: parts.reduce((a, x) => a + f(x).bytes * weight, 0), crossZoneBytes: parts.reduce((a, x) => a + f(x).crossZoneBytes * weight, 0) });
  const pairs: Record<string, number> = {};
  for (const x of parts) for (const [k, v] of Object.entries(x.byZonePair)) pairs[k] = (pairs[k] ?? 0) + v * weight;
  const produce = flow((x) => x.produce);
  const replication = flow((x) => x.replication);
  const consume = flow((x) => x.consume);
  const cross = produce.crossZoneBytes + replication.crossZoneBytes + consume.crossZoneBytes;
  const price = parts[0]?.pricePerGb ?? 0;
  return {
    profile: parts[0]?.profile ?? 'apache-kafka', produce, replication, consume, totalBytes: produce.bytes + replication.bytes + consume.bytes, crossZoneBytes: cross,
    byZonePair: pairs, costUsd: (cross / 1e9) * price, pricePerGb: price, modelled: true,
    ...(parts.some((x) => x.layoutChanged) ? { layoutChanged: true } : {}),
  };
}

/** Whether two readings of the partition layout differ (leader, replicas or ISR of any partition). */
export function layoutDiffers(a: readonly PartitionPlacement[], b: readonly PartitionPlacement[]): boolean {
  const key = (p: PartitionPlacement) => `${p.topic}:${p.partition}:${p.leader}:${[...p.replicas].sort().join(',')}:${[...p.isr].sort().join(',')}`;
  const sa = new Set(a.map(key));
  return a.length !== b.length || b.some((p) => !sa.has(key(p)));
}
