/**
 * Set an empty consumer group's committed offsets the way Kafka's AdminClient does
 * (alterConsumerGroupOffsets: one OffsetCommit with generation -1 and no member id), through
 * @platformatic/kafka's admin client, kept behind this module as DescribeLogDirs is.
 *
 * kafkajs's `admin.setOffsets` joins the group with a consumer instead: a JoinGroup that waits out the
 * broker's group.initial.rebalance.delay.ms (3 s by default), a SyncGroup, a fetch, then a LeaveGroup.
 * Measured in a quickstart's rollback: 5.1 s of the ~14 s the live pipeline stood still.
 */
import { Admin as PlatformaticAdmin } from '@platformatic/kafka';
import type { Security } from './security.js';
import { platformaticSecurity } from './logdirs.js';
import { sleep } from '../sandbox/process.js';
import { ClickbenchError } from '../errors.js';

export interface GroupOffsetsTarget {
  brokers: string[];
  security?: Security;
}

/**
 * Commit `offsets` (partition → next offset to read) of `topic` for `groupId`. The broker refuses a
 * commit without a member while the group still has members (a stage that just left may take a moment
 * to be gone): retried until `timeoutMs`, then a ClickbenchError naming the group.
 */
export async function setGroupOffsets(target: GroupOffsetsTarget, groupId: string, topic: string, offsets: Map<number, number>, timeoutMs = 30_000): Promise<{ attempts: number }> {
  const admin = new PlatformaticAdmin({ clientId: 'clickbench-group-offsets', bootstrapBrokers: target.brokers, retries: 3, timeout: 15_000, ...platformaticSecurity(target.security) });
  const deadline = Date.now() + timeoutMs;
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.alterConsumerGroupOffsets({
          groupId,
          topics: [{ name: topic, partitionOffsets: [...offsets].map(([partition, offset]) => ({ partition, offset: BigInt(offset) })) }],
        });
        return { attempts: attempt };
      } catch (err) {
        if (Date.now() > deadline) {
          throw new ClickbenchError(`could not set the committed offsets of consumer group ${groupId} on ${topic} within ${timeoutMs / 1000} s: ${describe(err)}`, { hint: `a member may still be in the group: kafka-consumer-groups.sh --describe --group ${groupId}`, cause: err });
        }
        await sleep(Math.min(1_000, 100 * attempt));
      }
    }
  } finally {
    await admin.close().catch(() => {});
  }
}

/** The innermost message of a @platformatic/kafka error (its outer one is often "Received response with error"). */
function describe(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let i = 0; e instanceof Error && i < 5; i++) {
    parts.push(e.message);
    const errors = (e as { errors?: unknown[] }).errors;
    e = Array.isArray(errors) && errors.length ? errors[0] : (e as { cause?: unknown }).cause;
  }
  return parts.join(': ') || String(err);
}
