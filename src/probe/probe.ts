/**
 * `clickbench probe`: what a cluster can do for this pipeline, found by doing it, in seconds.
 *
 * Every "yes" in the matrix was exercised on a scratch topic (produce, commit a transaction,
 * join a group and commit an offset, look an offset up by time, read log dirs and configs, fetch
 * from a follower in the consumer's rack); a "no" carries the broker's answer; "not checked"
 * says why it could not be tried. The scratch topics and group are deleted at the end.
 */
import { randomBytes } from 'node:crypto';
import { Admin as PlatformaticAdmin } from '@platformatic/kafka';
import '../kafka/kafkajs-preload.js'; // before kafkajs: fix 10 (src/kafka/kafkajs-fixes.ts)
import kafkajs from 'kafkajs';
import { coordinatorRetry, createConsumer, createKafka, createProducer, type Admin, type Kafka } from '../kafka/client.js';
import { describeBrokers, type BrokerFact } from '../kafka/cluster-facts.js';
import { LogDirsProbe, platformaticSecurity } from '../kafka/logdirs.js';
import { checkConnection, type ConnectionCheck } from '../kafka/preflight.js';
import { describeSecurity, redact, securityLine, type Security } from '../kafka/security.js';
import { waitUntil } from '../sandbox/process.js';
import { createTopics, retryUnknownTopic } from '../drive/topics.js';
import type { Profile } from '../observe/crosszone.js';
import { phaseNeeds, type PhaseKind } from '../phases/registry.js';

export const CAPABILITIES = [
  'api-versions', 'racks', 'idempotent-produce', 'transactions', 'consumer-groups', 'timestamp-lookup',
  'log-compaction', 'describe-log-dirs', 'describe-configs', 'remote-storage', 'rack-aware-fetch', 'listener-security', 'table-topic',
] as const;
/** What the pipeline does not need, asked for what it tells about the platform (a "no" is not a lack). */
export const OPTIONAL_CAPABILITIES: readonly CapabilityId[] = ['table-topic'];
/** AutoMQ's topic config that makes a topic also an Iceberg table (Table Topic). */
export const TABLE_TOPIC_CONFIG = 'automq.table.topic.enable';
export type CapabilityId = (typeof CAPABILITIES)[number];
export type CapabilityStatus = 'yes' | 'no' | 'not checked';

export interface Capability {
  id: CapabilityId;
  name: string;
  status: CapabilityStatus;
  evidence: string;
  ms: number;
  /** Not needed by the pipeline: its "no" is information, not a lack (OPTIONAL_CAPABILITIES). */
  optional?: boolean;
}

export interface ProbeResult {
  bootstrap: string;
  security: ReturnType<typeof describeSecurity>;
  connection: ConnectionCheck;
  brokers: { id: number; host: string; port: number; rack: string | null; apis: Record<string, [number, number]> | null }[];
  kafkaVersion: { value: string | null; how: string };
  detectedProfile: Profile;
  profileEvidence: string;
  capabilities: Capability[];
  durationMs: number;
}

const NAMES: Record<CapabilityId, string> = {
  'api-versions': 'API versions per broker',
  racks: 'broker racks',
  'idempotent-produce': 'idempotent produce',
  transactions: 'transactions',
  'consumer-groups': 'consumer groups and offset commit',
  'timestamp-lookup': 'offset lookup by timestamp',
  'log-compaction': 'log compaction',
  'describe-log-dirs': 'DescribeLogDirs',
  'describe-configs': 'DescribeConfigs',
  'remote-storage': 'remote storage (tiered)',
  'rack-aware-fetch': 'rack-aware fetching (client.rack)',
  'listener-security': 'listener security',
  'table-topic': 'table topic (a topic config that makes it an Iceberg table, as AutoMQ\'s Table Topic)',
};

/** The API keys the pipeline uses, by name (ApiVersions lists numbers). */
const KEY_APIS: Record<number, string> = {
  0: 'Produce', 1: 'Fetch', 2: 'ListOffsets', 3: 'Metadata', 8: 'OffsetCommit', 9: 'OffsetFetch', 10: 'FindCoordinator', 11: 'JoinGroup',
  22: 'InitProducerId', 24: 'AddPartitionsToTxn', 25: 'AddOffsetsToTxn', 26: 'EndTxn', 28: 'TxnOffsetCommit', 32: 'DescribeConfigs', 35: 'DescribeLogDirs', 45: 'AlterPartitionReassignments', 60: 'DescribeCluster',
};

export interface ProbeOptions {
  brokers: string[];
  security: Security;
  /** Known from the sandbox's artifacts; an external cluster does not report its version. */
  kafkaVersion?: string | null;
  log?: (line: string) => void;
  /** Per-step time limit. */
  stepTimeoutMs?: number;
  /** A connection check already made (the run's preflight): not made again. */
  connection?: ConnectionCheck;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`${what}: no answer within ${ms / 1000} s`)), ms); })]).finally(() => clearTimeout(timer));
}

const errText = (e: unknown) => redact(`${(e as { type?: string }).type ? `${(e as { type: string }).type}: ` : ''}${(e as Error).message ?? String(e)}`);

/** Infer a Kafka release from ApiVersions only where the protocol says it for sure. */
export function versionFromApis(apis: Record<string, [number, number]> | null): string {
  if (!apis?.Fetch) return 'unknown (ApiVersions not read)';
  // Kafka 4.0 removed Fetch v0–v3 (KIP-896); 3.x brokers still accept v0. (Produce v0–v2 are still
  // advertised by 4.x for old clients' sake, so they say nothing.)
  return apis.Fetch[0] >= 4 ? '≥ 4.0 (inferred: Fetch v0–v3 not accepted, removed in 4.0 by KIP-896)' : '< 4.0 or a compatible implementation (Fetch v0 still accepted)';
}

/** Profile from broker configs: AutoMQ's own settings, else remote storage on or off. */
export function detectProfile(configNames: string[], remoteStorage: boolean | null): { profile: Profile; evidence: string } {
  const automq = configNames.filter((n) => /^(automq|s3)\./.test(n));
  if (automq.length) return { profile: 'automq', evidence: `broker configs ${automq.slice(0, 3).join(', ')} (AutoMQ shared storage)` };
  if (remoteStorage) return { profile: 'tiered', evidence: 'remote.log.storage.system.enable=true (DescribeConfigs)' };
  if (remoteStorage === false) return { profile: 'apache-kafka', evidence: 'remote.log.storage.system.enable=false (DescribeConfigs)' };
  return { profile: 'apache-kafka', evidence: 'broker configs not readable: assumed' };
}

export async function probeCluster(o: ProbeOptions): Promise<ProbeResult> {
  const t0 = Date.now();
  const log = o.log ?? (() => {});
  const stepMs = o.stepTimeoutMs ?? 15_000;
  const connection = o.connection ?? (await checkConnection(o.brokers, o.security));
  const caps = new Map<CapabilityId, Capability>();
  const set = (id: CapabilityId, status: CapabilityStatus, evidence: string, since: number) => caps.set(id, { id, name: NAMES[id], status, evidence, ms: Date.now() - since, ...(OPTIONAL_CAPABILITIES.includes(id) ? { optional: true } : {}) });
  const tag = randomBytes(4).toString('hex');
  const topic = `clickbench-probe-${tag}`;
  const compactTopic = `${topic}-compact`;
  const tableTopic = `${topic}-table`;
  const groupId = `clickbench-probe-${tag}`;
  // Broker error codes behind kafkajs's generic errors (an authorization failure at FindCoordinator).
  const brokerErrors = new Set<string>();
  const kafka: Kafka = createKafka({ brokers: o.brokers, clientId: 'clickbench-probe', retries: 2, security: o.security, connectionTimeoutMs: 3_000, onBrokerError: (t) => brokerErrors.add(t) });
  const withCodes = (e: unknown) => {
    const codes = [...brokerErrors].filter((c) => /AUTHORIZATION|NOT_SUPPORTED|UNSUPPORTED|INVALID/.test(c));
    brokerErrors.clear();
    return `${errText(e)}${codes.length ? ` (broker answered ${codes.join(', ')})` : ''}`;
  };
  const admin: Admin = kafka.admin();
  const created: string[] = [];
  let brokers: BrokerFact[] = [];
  const perBroker: ProbeResult['brokers'] = [];
  let remoteStorage: boolean | null = null;
  let configNames: string[] = [];
  try {
    await admin.connect();
    let t = Date.now();
    set('listener-security', 'yes', `${securityLine(o.security)}${connection.tls ? `; ${connection.tls.protocol} ${connection.tls.cipher}, certificate issued by ${connection.tls.issuer}` : ''}; metadata read over it`, t);

    // Brokers, racks (broker.rack through DescribeConfigs), and every broker's ApiVersions.
    t = Date.now();
    try {
      brokers = await withTimeout(describeBrokers(admin), stepMs, 'DescribeConfigs broker.rack');
      const racks = new Set(brokers.map((b) => b.rack).filter((r): r is string => r !== null));
      set('racks', racks.size ? 'yes' : 'no', racks.size ? `${brokers.map((b) => `${b.nodeId}:${b.rack ?? '–'}`).join(' ')} (${racks.size} rack(s))` : 'no broker has broker.rack set: zones cannot be read from the cluster', t);
    } catch (e) {
      const md = await admin.describeCluster();
      brokers = md.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: null }));
      set('racks', 'no', `broker.rack not readable: ${errText(e)}`, t);
    }
    t = Date.now();
    for (const b of brokers) {
      const pa = new PlatformaticAdmin({ clientId: 'clickbench-probe', bootstrapBrokers: [`${b.host}:${b.port}`], retries: 0, timeout: 5_000, ...platformaticSecurity(o.security) });
      try {
        const list = await withTimeout(pa.listApis(), stepMs, `ApiVersions from broker ${b.nodeId}`);
        const apis: Record<string, [number, number]> = {};
        for (const a of list) if (KEY_APIS[a.apiKey]) apis[KEY_APIS[a.apiKey]] = [a.minVersion, a.maxVersion];
        perBroker.push({ id: b.nodeId, host: b.host, port: b.port, rack: b.rack, apis });
      } catch {
        perBroker.push({ id: b.nodeId, host: b.host, port: b.port, rack: b.rack, apis: null });
      } finally {
        await pa.close().catch(() => {});
      }
    }
    const read = perBroker.filter((b) => b.apis);
    const first = read[0]?.apis ?? null;
    const missing = first ? Object.values(KEY_APIS).filter((n) => !first[n]) : [];
    set('api-versions', read.length === perBroker.length && read.length > 0 ? 'yes' : 'no',
      read.length ? `${read.length}/${perBroker.length} brokers answered; ${['Produce', 'Fetch', 'ListOffsets', 'EndTxn', 'DescribeLogDirs'].map((n) => `${n} ${first?.[n] ? `v${first[n][0]}–${first[n][1]}` : 'absent'}`).join(', ')}${missing.length ? `; absent: ${missing.join(', ')}` : ''}` : 'no broker answered ApiVersions', t);
    const kafkaVersion = o.kafkaVersion ? { value: o.kafkaVersion, how: 'the sandbox\'s Apache Kafka artifacts' } : { value: null, how: versionFromApis(first) };

    // Broker configs: remote storage, replica selector, platform-specific settings.
    t = Date.now();
    let selector = '';
    try {
      const res = await withTimeout(admin.describeConfigs({ includeSynonyms: false, resources: [{ type: kafkajs.ConfigResourceTypes.BROKER, name: String(brokers[0].nodeId) }] }), stepMs, 'DescribeConfigs');
      const entries = res.resources[0]?.configEntries ?? [];
      configNames = entries.map((e) => e.configName);
      const get = (n: string) => entries.find((e) => e.configName === n)?.configValue;
      remoteStorage = get('remote.log.storage.system.enable') === 'true';
      selector = get('replica.selector.class') ?? '';
      set('describe-configs', 'yes', `${entries.length} configs of broker ${brokers[0].nodeId} read`, t);
      set('remote-storage', remoteStorage ? 'yes' : 'no', `remote.log.storage.system.enable=${get('remote.log.storage.system.enable') ?? 'absent'}${remoteStorage ? `, manager ${get('remote.log.storage.manager.class.name') ?? '?'}` : ''}`, t);
    } catch (e) {
      set('describe-configs', 'no', errText(e), t);
      set('remote-storage', 'not checked', 'broker configs could not be read', t);
    }

    // Scratch topics.
    const rf = Math.min(3, brokers.length);
    await withTimeout(createTopics(admin, [{ topic, numPartitions: 1, replicationFactor: rf, configEntries: [] }]), stepMs, 'CreateTopics');
    created.push(topic);
    t = Date.now();
    try {
      await withTimeout(createTopics(admin, [{ topic: compactTopic, numPartitions: 1, replicationFactor: rf, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }]), stepMs, 'CreateTopics (compacted)');
      created.push(compactTopic);
      // A broker that has not applied the new topic yet answers UNKNOWN_TOPIC_OR_PARTITION for a moment.
      const cfg = await retryUnknownTopic(() => admin.describeConfigs({ includeSynonyms: false, resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: compactTopic, configNames: ['cleanup.policy'] }] }), stepMs);
      const policy = cfg.resources[0]?.configEntries[0]?.configValue;
      set('log-compaction', policy === 'compact' ? 'yes' : 'no', `a topic with cleanup.policy=compact was created and reads back ${policy ?? 'nothing'} (the cleaner itself is not awaited)`, t);
    } catch (e) {
      set('log-compaction', 'no', errText(e), t);
    }
    // Table topic (issue #21): does the cluster accept the config that turns a topic into a table? Apache
    // Kafka refuses a config it does not know; the answer is the evidence either way.
    t = Date.now();
    try {
      await withTimeout(createTopics(admin, [{ topic: tableTopic, numPartitions: 1, replicationFactor: rf, configEntries: [{ name: TABLE_TOPIC_CONFIG, value: 'true' }] }]), stepMs, 'CreateTopics (table topic)');
      created.push(tableTopic);
      const cfg = await retryUnknownTopic(() => admin.describeConfigs({ includeSynonyms: false, resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: tableTopic, configNames: [TABLE_TOPIC_CONFIG] }] }), stepMs);
      const value = cfg.resources[0]?.configEntries.find((c) => c.configName === TABLE_TOPIC_CONFIG)?.configValue;
      set('table-topic', value === 'true' ? 'yes' : 'no', `a topic with ${TABLE_TOPIC_CONFIG}=true was created and reads back ${value ?? 'nothing'}${value === 'true' ? ' (the table itself is not queried)' : ''}`, t);
    } catch (e) {
      set('table-topic', 'no', `${TABLE_TOPIC_CONFIG}=true refused: ${errText(e)}`, t);
    }

    // Idempotent produce, with explicit timestamps for the lookup below.
    t = Date.now();
    const base = Date.now() - 60_000;
    const stamps = [base, base + 10_000, base + 20_000];
    let produced: number[] = [];
    brokerErrors.clear();
    const producer = createProducer(kafka, { idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    try {
      await producer.connect();
      const r = await withTimeout(producer.send({ topic, acks: -1, messages: stamps.map((ts, i) => ({ key: `k${i}`, value: `v${i}`, partition: 0, timestamp: String(ts) })) }), stepMs, 'idempotent produce');
      const baseOffset = Number(r[0].baseOffset);
      produced = stamps.map((_, i) => baseOffset + i);
      set('idempotent-produce', 'yes', `3 records acknowledged (acks=all, producer id assigned) at offsets ${produced[0]}–${produced[2]}`, t);
    } catch (e) {
      set('idempotent-produce', 'no', withCodes(e), t);
    } finally {
      await producer.disconnect().catch(() => {});
    }

    // Transactions: a real begin / send / commit.
    t = Date.now();
    brokerErrors.clear();
    const txProducer = createProducer(kafka, { transactionalId: `clickbench-probe-${tag}`, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry: { retries: 1 } });
    try {
      await withTimeout(txProducer.connect(), stepMs, 'transactional producer connect');
      const tx = await withTimeout(txProducer.transaction(), stepMs, 'InitProducerId / begin');
      try {
        await withTimeout(tx.send({ topic, messages: [{ key: 'tx', value: 'committed', partition: 0 }] }), stepMs, 'transactional send');
        await withTimeout(tx.commit(), stepMs, 'EndTxn commit');
      } catch (e) {
        await tx.abort().catch(() => {});
        throw e;
      }
      set('transactions', 'yes', 'InitProducerId, a transactional send and EndTxn(commit) on the scratch topic succeeded', t);
    } catch (e) {
      set('transactions', 'no', withCodes(e), t);
    } finally {
      await txProducer.disconnect().catch(() => {});
    }

    // Offsets by timestamp: the second record's time must find the second record.
    t = Date.now();
    if (produced.length) {
      try {
        const seek = await withTimeout(admin.fetchTopicOffsetsByTimestamp(topic, stamps[1]), stepMs, 'ListOffsets by time');
        const got = Number(seek.find((x) => x.partition === 0)?.offset);
        set('timestamp-lookup', got === produced[1] ? 'yes' : 'no', `ListOffsets(time of the 2nd record) returned offset ${got}, expected ${produced[1]}`, t);
      } catch (e) {
        set('timestamp-lookup', 'no', errText(e), t);
      }
    } else set('timestamp-lookup', 'not checked', 'nothing could be produced to look up', t);

    // Consumer group, offset commit, and where the fetches went (rack-aware fetching).
    t = Date.now();
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    const p0 = md.topics[0].partitions.find((p) => p.partitionId === 0)!;
    const rackOf = new Map(brokers.map((b) => [b.nodeId, b.rack]));
    const leaderRack = rackOf.get(p0.leader) ?? null;
    const follower = p0.isr.find((id) => id !== p0.leader && rackOf.get(id) && rackOf.get(id) !== leaderRack);
    const followerRack = follower !== undefined ? rackOf.get(follower)! : undefined;
    const addr = (id: number) => { const b = brokers.find((x) => x.nodeId === id)!; return `${b.host}:${b.port}`; };
    const fetchedFrom = new Map<string, number>();
    const consumer = createConsumer(kafka, { groupId, maxWaitTimeInMs: 200, ...(followerRack ? { rackId: followerRack } : {}), retry: { retries: 2 } });
    consumer.on(consumer.events.REQUEST, (e) => {
      if (e.payload.apiName === 'Fetch') fetchedFrom.set(e.payload.broker, (fetchedFrom.get(e.payload.broker) ?? 0) + 1);
    });
    let lastOffset = -1;
    let seen = 0;
    brokerErrors.clear();
    try {
      await withTimeout(consumer.connect(), stepMs, 'consumer connect');
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ autoCommit: false, eachMessage: async ({ message }) => { seen++; lastOffset = Math.max(lastOffset, Number(message.offset)); } });
      const expected = produced.length + (caps.get('transactions')?.status === 'yes' ? 1 : 0);
      await waitUntil(() => seen >= expected, stepMs, 50);
      if (seen < expected) throw new Error(`read ${seen} of ${expected} records within ${stepMs / 1000} s`);
      // The leader names the preferred read replica in its first Fetch answer; later fetches go there.
      if (follower !== undefined) await waitUntil(() => (fetchedFrom.get(addr(follower)) ?? 0) > 0, 3_000, 50);
      await consumer.commitOffsets([{ topic, partition: 0, offset: String(lastOffset + 1) }]);
      const committed = await coordinatorRetry(() => admin.fetchOffsets({ groupId, topics: [topic] }));
      const off = Number(committed[0]?.partitions.find((p) => p.partition === 0)?.offset);
      set('consumer-groups', off === lastOffset + 1 ? 'yes' : 'no', `group joined, ${seen} record(s) read (read_committed), offset ${lastOffset + 1} committed and read back as ${off}`, t);
    } catch (e) {
      set('consumer-groups', 'no', withCodes(e), t);
    } finally {
      await consumer.disconnect().catch(() => {});
    }
    const fetchList = [...fetchedFrom].map(([b, n]) => `${n}× ${b}`).join(', ') || 'none';
    if (follower === undefined) {
      set('rack-aware-fetch', 'not checked', `no in-sync follower of the scratch partition is in another rack than its leader (${brokers.length} broker(s), racks ${[...new Set(rackOf.values())].join('/') || 'none'})`, t);
    } else if ((fetchedFrom.get(addr(follower)) ?? 0) > 0) {
      set('rack-aware-fetch', 'yes', `consumer with client.rack=${followerRack} was sent from leader ${p0.leader} (rack ${leaderRack}) to follower ${follower} (rack ${followerRack}); Fetch requests: ${fetchList}`, t);
    } else {
      set('rack-aware-fetch', 'no', `consumer with client.rack=${followerRack} fetched only from ${fetchList}, not from follower ${follower}${selector ? '' : ' (replica.selector.class not set)'}`, t);
    }

    // DescribeLogDirs.
    t = Date.now();
    const ld = new LogDirsProbe(o.brokers, 'clickbench-probe', o.security);
    try {
      const dirs = await withTimeout(ld.describe([{ name: topic, partitions: [0] }]), stepMs, 'DescribeLogDirs');
      const bytes = dirs.reduce((a, d) => a + d.sizeBytes, 0);
      const holders = new Set(dirs.filter((d) => d.partitions.length).map((d) => d.broker));
      set('describe-log-dirs', bytes > 0 ? 'yes' : 'no', `${bytes} B of the scratch partition on ${holders.size} broker(s), ${dirs.length} log dir(s) reported`, t);
    } catch (e) {
      set('describe-log-dirs', 'no', errText(e), t);
    } finally {
      await ld.close().catch(() => {});
    }

    const prof = detectProfile(configNames, remoteStorage);
    return {
      bootstrap: o.brokers.join(','),
      security: describeSecurity(o.security),
      connection,
      brokers: perBroker,
      kafkaVersion,
      detectedProfile: prof.profile,
      profileEvidence: prof.evidence,
      capabilities: CAPABILITIES.map((id) => caps.get(id) ?? { id, name: NAMES[id], status: 'not checked' as const, evidence: 'the probe stopped before this step', ms: 0, ...(OPTIONAL_CAPABILITIES.includes(id) ? { optional: true } : {}) }),
      durationMs: Date.now() - t0,
    };
  } finally {
    if (created.length) await admin.deleteTopics({ topics: created, timeout: 10_000 }).catch((e) => log(`probe: could not delete ${created.join(', ')}: ${errText(e)}`));
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}

/** What a scenario needs from the cluster, by capability, with the reason. */
export function requirements(s: { enrichment: { delivery: 'eos' | 'alo' }; clients: { acks: 'all' | '1' }; phases: { kind: PhaseKind }[] }): { id: CapabilityId; why: string; fix: string }[] {
  const need: { id: CapabilityId; why: string; fix: string }[] = [
    { id: 'consumer-groups', why: 'the enrichment stage and the probe consume in groups', fix: 'grant the user Read on groups' },
    { id: 'log-compaction', why: 'the lookup tables are compacted topics', fix: 'allow cleanup.policy=compact' },
  ];
  if (s.clients.acks === 'all') need.push({ id: 'idempotent-produce', why: 'clients.acks: all uses the idempotent producer', fix: 'grant IdempotentWrite / Write, or set clients.acks: "1"' });
  if (s.enrichment.delivery === 'eos') need.push({ id: 'transactions', why: 'enrichment.delivery: eos', fix: 'use enrichment.delivery: alo, or grant the user Write on its transactional ids' });
  for (const n of phaseNeeds(s.phases.map((p) => p.kind))) need.push({ id: n.capability as CapabilityId, why: n.why, fix: n.fix });
  return need;
}

/** The first requirement the probe found missing, or undefined. */
export function unmet(p: ProbeResult, need: ReturnType<typeof requirements>): { id: CapabilityId; why: string; fix: string; evidence: string } | undefined {
  for (const n of need) {
    const c = p.capabilities.find((x) => x.id === n.id);
    if (c && c.status === 'no') return { ...n, evidence: c.evidence };
  }
  return undefined;
}
