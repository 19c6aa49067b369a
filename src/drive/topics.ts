/** Topic names of a run (all carry the run's prefix) and their creation with the scenario's settings. */
import { ClickbenchError, ExitCode } from '../errors.js';
import type { Admin } from '../kafka/client.js';
import type { Scenario } from '../scenario/schema.js';
import type { LookupKind } from '../enrich/tables.js';

export interface TopicNames {
  raw: string;
  enriched: string;
  dlq: string;
  /** Retained history for elasticity phases (topics.history). */
  history: string;
  lookups: Record<LookupKind, string>;
}

export function topicNames(prefix: string): TopicNames {
  return {
    raw: `${prefix}.clicks.raw`,
    enriched: `${prefix}.clicks.enriched`,
    dlq: `${prefix}.clicks.dlq`,
    history: `${prefix}.clicks.history`,
    lookups: { profiles: `${prefix}.profiles`, catalog: `${prefix}.catalog`, campaigns: `${prefix}.campaigns`, consent: `${prefix}.consent` },
  };
}

/** Output topic of an enrichment version: v1 writes the main sink; others (dual-run) their own. */
export function enrichedTopicFor(names: TopicNames, version: string, primaryVersion: string): string {
  return version === primaryVersion ? names.enriched : `${names.enriched}.${version}`;
}

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  replicationFactor: number;
  configEntries: { name: string; value: string }[];
}

export function topicSpecs(names: TopicNames, s: Pick<Scenario, 'topics'>, extraOutputs: string[] = []): TopicSpec[] {
  const t = s.topics;
  const common = [
    { name: 'min.insync.replicas', value: String(t.min_insync_replicas) },
    { name: 'retention.ms', value: String(t.retention) },
    ...(t.unclean_leader_election ? [{ name: 'unclean.leader.election.enable', value: 'true' }] : []),
  ];
  const tiered = t.tiered
    ? [{ name: 'remote.storage.enable', value: 'true' }, ...(t.local_retention !== undefined ? [{ name: 'local.retention.ms', value: String(t.local_retention) }] : [])]
    : [];
  // Broker append time on the stream topics: enrichment latency = enriched append − raw append, both broker clocks.
  const stream = (topic: string): TopicSpec => ({
    topic, numPartitions: t.partitions, replicationFactor: t.replication,
    configEntries: [...common, ...tiered, { name: 'message.timestamp.type', value: 'LogAppendTime' }],
  });
  const lookup = (topic: string): TopicSpec => ({
    topic, numPartitions: Math.min(6, t.partitions), replicationFactor: t.replication,
    configEntries: [{ name: 'min.insync.replicas', value: String(t.min_insync_replicas) }, { name: 'cleanup.policy', value: 'compact' }],
  });
  // History rolls 4 MiB segments, so a tiered topic can move most of it to the remote tier during a run.
  const history = t.history ? [{ ...stream(names.history), configEntries: [...stream(names.history).configEntries, { name: 'segment.bytes', value: String(4 * 2 ** 20) }] }] : [];
  return [stream(names.raw), stream(names.enriched), stream(names.dlq), ...extraOutputs.map(stream), ...Object.values(names.lookups).map(lookup), ...history];
}

export async function createTopics(admin: Admin, specs: TopicSpec[], timeoutMs = 30_000): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.topic));
  if (!missing.length) return [];
  try {
    await admin.createTopics({ waitForLeaders: true, topics: missing });
  } catch (err) {
    // kafkajs waits for leaders but gives up when the broker it asks has not applied the new
    // topics' metadata yet (UNKNOWN_TOPIC_OR_PARTITION, common right after a node joined or
    // left): the topics exist; wait for their leaders here instead.
    if ((err as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw topicsRefused(missing, err);
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const md = await retryUnknownTopic(() => admin.fetchTopicMetadata({ topics: missing.map((s) => s.topic) }), Math.max(0, deadline - Date.now()));
    if (md.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) break;
    if (Date.now() > deadline) {
      throw new ClickbenchError(`topics ${missing.map((s) => s.topic).join(', ')} have no leaders ${timeoutMs / 1000} s after they were created`, {
        exitCode: ExitCode.runFailed, hint: 'check that enough brokers are up for the replication factor (clickbench sandbox status, or the cluster\'s own tools)',
      });
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return missing.map((s) => s.topic);
}

/** `f` again while a broker that has not applied a new topic yet answers UNKNOWN_TOPIC_OR_PARTITION (up to timeoutMs). */
export async function retryUnknownTopic<T>(f: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await f();
    } catch (e) {
      if ((e as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION' || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Delete every topic whose name starts with `<prefix>.` (what a run created). */
export async function deleteTopicsWithPrefix(admin: Admin, prefix: string): Promise<string[]> {
  const mine = (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`));
  if (mine.length) await admin.deleteTopics({ topics: mine, timeout: 30_000 });
  return mine;
}

/** The cluster refused to create the run's topics: one line with the broker's reason and what to check. */
export function topicsRefused(specs: TopicSpec[], err: unknown): ClickbenchError {
  const e = err as Error & { type?: string; errors?: { type?: string; message?: string; topic?: string }[] };
  const reason = e.errors?.map((x) => `${x.topic ?? ''} ${x.type ?? x.message ?? ''}`.trim()).join('; ') || e.type || e.message;
  const rf = Math.max(...specs.map((s) => s.replicationFactor));
  const hint = /AUTHORIZ/.test(reason)
    ? 'the principal needs CREATE on the cluster or on the topic prefix (or create the topics yourself and run with --keep)'
    : /REPLICATION|INVALID_REPLICATION/.test(reason)
      ? `the scenario asks for replication ${rf}: it cannot exceed the number of live brokers (topics.replication)`
      : /PARTITIONS|POLICY/.test(reason)
        ? 'the cluster\'s limits or topic policy refused the scenario\'s topics: lower topics.partitions or ask the cluster\'s owners'
        : 'check the cluster\'s logs and the scenario\'s topics block';
  return new ClickbenchError(`the cluster refused to create ${specs.map((s) => s.topic).join(', ')}: ${reason}`, { exitCode: ExitCode.runFailed, hint, cause: err });
}
