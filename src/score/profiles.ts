/**
 * Platform profiles: how the same measured traffic and disk are read and costed on
 * apache-kafka (local disks, ISR replication), tiered (local hot tail + one copy in a remote
 * tier), automq (shared object storage, no broker replication, zone-aligned clients) and
 * managed (as apache-kafka, priced by the provider's sheet).
 *
 * Pure functions of results.json. A profile other than the one a run was measured on is a model:
 * `asProfile` re-reads a recorded run under it and marks every figure it changes as modelled.
 */
import type { Profile } from '../observe/crosszone.js';
import { PROFILE_ASSUMPTIONS } from '../observe/crosszone.js';
import { isMeasured, notMeasured, type Results } from '../run/results.js';

export interface StorageLine {
  tier: 'broker disks' | 'remote tier' | 'object storage';
  bytes: number;
  pricePerGbMonth: number;
  usdPerMonth: number;
  basis: string;
}

export interface StorageCost {
  profile: Profile;
  lines: StorageLine[];
  usdPerMonth: number;
  assumptions: string[];
  /** False when the run was not measured on this profile (re-modelled, e.g. AutoMQ). */
  measuredOnProfile: boolean;
}

export const STORAGE_ASSUMPTIONS: Record<Profile, string[]> = {
  'apache-kafka': ['every replica on broker disks: retained bytes = measured broker disk per GB ingested × ingest rate × retention'],
  managed: ['as apache-kafka: every replica on the provider\'s broker storage, at the price given for it'],
  tiered: ['broker disks keep the local hot tail of every replica: the local.retention share of retention (all of it when unset)', 'the remote tier keeps one copy of every segment (retained ÷ RF), at the object-storage price'],
  automq: ['no broker replicas: one copy of the data in object storage (retained ÷ RF); the write-ahead log is not counted', 'MODELLED, not measured: no AutoMQ cluster was run'],
};

const line = (tier: StorageLine['tier'], bytes: number, price: number, basis: string): StorageLine => ({ tier, bytes, pricePerGbMonth: price, usdPerMonth: (bytes / 1e9) * price, basis });

/** Monthly storage cost of a run's projected retained bytes under a profile. */
export function storageCost(profile: Profile, r: Pick<Results, 'disk' | 'topics' | 'scenario' | 'cluster'>, measuredOnProfile: boolean): StorageCost | undefined {
  if (!isMeasured(r.disk)) return undefined;
  const price = r.scenario.spec.price;
  const objectPrice = price.object_storage_per_gb_month ?? 0.023;
  const retained = r.disk.projection.averageRetainedBytes;
  const rf = Math.max(1, r.disk.replicationFactor);
  const lines: StorageLine[] = [];
  if (profile === 'apache-kafka' || profile === 'managed') {
    lines.push(line('broker disks', retained, price.storage_per_gb_month, 'projected from measured disk growth'));
  } else if (profile === 'tiered') {
    const local = r.scenario.spec.topics.local_retention;
    const hot = local === undefined ? 1 : Math.min(1, local / Math.max(1, r.topics.retentionMs));
    lines.push(line('broker disks', retained * hot, price.storage_per_gb_month, `local hot tail: ${(hot * 100).toFixed(1)} % of retention on every replica`));
    lines.push(line('remote tier', retained / rf, objectPrice, `one copy (retained ÷ RF ${rf})`));
  } else {
    lines.push(line('object storage', retained / rf, objectPrice, `one copy (retained ÷ RF ${rf}), modelled`));
  }
  return {
    profile,
    lines,
    usdPerMonth: lines.reduce((a, l) => a + l.usdPerMonth, 0),
    assumptions: STORAGE_ASSUMPTIONS[profile],
    measuredOnProfile: measuredOnProfile && profile !== 'automq',
  };
}

/** The cross-zone totals of one phase or run, re-read under AutoMQ's assumptions. */
function automqCrossZone<T extends { produce: { bytes: number; crossZoneBytes: number }; replication: { bytes: number; crossZoneBytes: number }; consume: { bytes: number; crossZoneBytes: number }; totalBytes: number; crossZoneBytes: number; costUsd: number; pricePerGb: number; byZonePair: Record<string, number>; profile: Profile }>(x: T): T {
  // Shared storage: no replication traffic; clients write to and read from a broker in their own zone.
  return {
    ...x,
    profile: 'automq',
    produce: { bytes: x.produce.bytes, crossZoneBytes: 0 },
    replication: { bytes: 0, crossZoneBytes: 0 },
    consume: { bytes: x.consume.bytes, crossZoneBytes: 0 },
    totalBytes: x.produce.bytes + x.consume.bytes,
    crossZoneBytes: 0,
    byZonePair: {},
    costUsd: 0,
  };
}

/**
 * A recorded run re-read under another profile. Only AutoMQ changes the traffic model (the others
 * share Apache Kafka's replication); storage is re-costed for every profile. Figures that depend on
 * the profile lose their "measured" ground truth and say so.
 */
export function asProfile(r: Results, profile: Profile): Results {
  const from = r.cluster.profile as Profile;
  if (profile === from) return r;
  const out: Results = structuredClone(r);
  out.cluster.profile = profile;
  out.cluster.profileSource = `modelled: a run measured on ${from} (${r.cluster.target}), re-read under ${profile}'s assumptions — not measured on ${profile}`;
  if (profile === 'automq') {
    if (isMeasured(out.crossZone)) {
      out.crossZone = {
        ...out.crossZone,
        total: automqCrossZone(out.crossZone.total),
        assumptions: PROFILE_ASSUMPTIONS.automq,
        measuredBytes: notMeasured(`the kernel counters measured ${from}'s traffic (replication included); AutoMQ's is modelled only`),
      };
    }
    for (const p of out.phases) {
      if (isMeasured(p.crossZone)) p.crossZone = automqCrossZone(p.crossZone);
      if (p.crossZoneMeasured && isMeasured(p.crossZoneMeasured)) p.crossZoneMeasured = notMeasured(`measured on ${from}; AutoMQ is modelled only`);
    }
    if (out.crossZoneFile && isMeasured(out.crossZoneFile)) out.crossZoneFile = notMeasured(`the flow log was measured on ${from}; AutoMQ is modelled only`);
    // Shared storage: a partition changes brokers by metadata; no retained byte is copied.
    out.elasticity = out.elasticity?.map((m) => ({
      ...m, durationMs: null, moveMs: null, completedAtOffsetMs: null, nodesUsableAtOffsetMs: null, bytesMovedLogDirs: 0, bytesMovedNetwork: null, networkVsLogDirsPct: null, networkByLink: null,
      groundTruthBytes: null, logDirsVsGroundTruthPct: null, bytesMovedPerGbRetained: 0, remoteTierBytes: null, leadersOnNewNodes: null, capacityUsableAtOffsetMs: null, capacityUsableAfterMs: null, headroom: null, milestones: [],
      modelled: `modelled, not measured: on AutoMQ's shared storage the ${m.replicasMoved} replica move(s) measured on ${from} (${m.bytesMovedLogDirs !== null ? `${(m.bytesMovedLogDirs / 1e6).toFixed(1)} MB` : 'bytes not measured'} there) copy no retained bytes — partitions change brokers by metadata; duration and headroom need a real AutoMQ cluster`,
    }));
  } else if (isMeasured(out.crossZone)) {
    out.crossZone = { ...out.crossZone, assumptions: PROFILE_ASSUMPTIONS[profile] };
  }
  return out;
}
