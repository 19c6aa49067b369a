/**
 * Enrichment instances in one consumer group (issue #20): partitions assigned by instance index.
 *
 * Exactly-once across instances needs a partition's transactions to stay with one transactional id: when a
 * partition moves to another instance while the first still has a transaction open on it, the second reads
 * the group's committed offset before that transaction's offsets are visible and enriches the same records
 * again (Kafka's answer, KIP-447 — the producer fenced by the group's generation, offsets fetched as
 * "stable" — is not in kafkajs). So every member says which instance it is (`index` of `of`), and the group's
 * leader gives partition p to the member with index p mod N, and to no other: a rebalance (an instance
 * restarted, a member replaced) never moves a partition to another transactional id, and the restarted
 * instance's transactional id fences its predecessor, as for a single stage. The price: while an instance is
 * down its partitions wait for it (their lag shows it), as with Kafka Streams' static membership.
 */
import '../kafka/kafkajs-preload.js'; // before kafkajs: fix 10 (src/kafka/kafkajs-fixes.ts)
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

export const INDEXED_ASSIGNER = 'clickbench-indexed';

export interface InstanceIndex {
  index: number;
  of: number;
}

/** Which member gets which partitions: partition p to the member whose index is p mod N (the first such member, by id). */
export function assignByIndex(members: { memberId: string; instance: InstanceIndex | null }[], partitions: Record<string, number[]>): { assignment: Map<string, Record<string, number[]>>; unowned: number; conflicts: string[] } {
  const assignment = new Map<string, Record<string, number[]>>(members.map((m) => [m.memberId, {}]));
  const byIndex = new Map<number, string>();
  const conflicts: string[] = [];
  for (const m of [...members].sort((a, b) => a.memberId.localeCompare(b.memberId))) {
    if (!m.instance) continue;
    const other = byIndex.get(m.instance.index);
    if (other !== undefined) conflicts.push(`${m.memberId} says it is instance ${m.instance.index} of ${m.instance.of}, as ${other} does: it gets no partition`);
    else byIndex.set(m.instance.index, m.memberId);
  }
  const of = Math.max(1, ...members.map((m) => m.instance?.of ?? 1));
  let unowned = 0;
  for (const [topic, ps] of Object.entries(partitions)) {
    for (const p of ps) {
      const owner = byIndex.get(p % of);
      if (owner === undefined) {
        unowned++;
        continue;
      }
      const a = assignment.get(owner)!;
      (a[topic] ??= []).push(p);
    }
  }
  return { assignment, unowned, conflicts };
}

/** The partitions a member's assignment (DescribeGroups' memberAssignment) gives it, by topic. */
export function assignedPartitions(memberAssignment: Buffer): Record<string, number[]> {
  return memberAssignment.length ? AssignerProtocol.MemberAssignment.decode(memberAssignment)?.assignment ?? {} : {};
}

/** A kafkajs partition assigner for instance `index` of `of` (every member of the group must use it). */
export function indexedAssigner(self: InstanceIndex, log?: (line: string) => void): PartitionAssigner {
  return ({ cluster }) => ({
    name: INDEXED_ASSIGNER,
    version: 1,
    protocol: ({ topics }) => ({
      name: INDEXED_ASSIGNER,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.from(JSON.stringify(self)) }),
    }),
    assign: async ({ members, topics }) => {
      const decoded = members.map((m) => {
        let instance: InstanceIndex | null = null;
        try {
          const md = AssignerProtocol.MemberMetadata.decode(m.memberMetadata);
          instance = md?.userData?.length ? (JSON.parse(md.userData.toString()) as InstanceIndex) : null;
        } catch {
          instance = null;
        }
        return { memberId: m.memberId, instance };
      });
      const partitions: Record<string, number[]> = {};
      for (const topic of topics) partitions[topic] = cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId).sort((a, b) => a - b);
      const { assignment, unowned, conflicts } = assignByIndex(decoded, partitions);
      for (const c of conflicts) log?.(`enrichment group: ${c}`);
      if (unowned > 0) log?.(`enrichment group: ${unowned} partition(s) wait for their instance (${decoded.filter((d) => d.instance).length} of ${self.of} present)`);
      return [...assignment].map(([memberId, a]) => ({ memberId, memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: a, userData: Buffer.alloc(0) }) }));
    },
  });
}
