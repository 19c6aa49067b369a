/**
 * The scenario format: one zod schema is both the validator and the source of the published
 * JSON Schema (`schema/scenario.schema.json`, `clickbench schema`).
 *
 * Durations are written "90s", "2m", "1h30m" (or seconds as a number) and parsed into
 * milliseconds; every duration field of the parsed Scenario is in ms.
 */
import { CODECS, codecProblem } from '../kafka/compression.js';
// A namespace import: the bundler keeps only what is used (`import { z }` kept zod's 40 locales: 610 → 173 KB).
import * as z from 'zod';
import { DURATION_PATTERN, parseDurationMs, parseSizeBytes, SIZE_PATTERN } from './units.js';
import { SASL_MECHANISMS, SECURITY_PROTOCOLS } from '../kafka/security.js';
import { PHASE_KINDS, PHASES, phaseShapeProblems } from '../phases/registry.js';
import { PROFILES } from '../observe/crosszone.js';

// A scenario is parsed once per process: zod's compiled fast path (generated code) costs more to build than
// it saves on one parse (first parse of the quickstart 29–51 → 21–23 ms, 3 runs each, Node 20).
z.config({ jitless: true });

import { BAD_RECORD_KINDS, EVENT_TYPES, type EventType } from './event-kinds.js';
export { BAD_RECORD_KINDS, DEFAULT_MIX, EVENT_TYPES, type BadRecordKind, type EventType } from './event-kinds.js';

export const SCORECARD_ROWS = ['event_contract', 'enrichment_state', 'broker_storage', 'cloud_networking', 'governance', 'rollback'] as const;

const DURATION_HINT = 'expected a duration such as 90s, 2m, 1h30m or a number of seconds';
/** A duration in the file; milliseconds after parsing. */
/** Largest clients.batch_size: under the brokers' default message.max.bytes (1 048 588) with room for the batch's framing. */
const MAX_BATCH_SIZE = 900 * 1024;

const duration = () =>
  z.union([z.number().nonnegative(), z.string().regex(DURATION_PATTERN, DURATION_HINT)], { error: DURATION_HINT })
    .transform((v) => parseDurationMs(v)!)
    .describe('duration: "90s", "2m", "1h30m", "250ms", or seconds as a number');

const share = () => z.number().min(0).max(1).describe('a fraction between 0 and 1');
const zipfExponent = () => z.number().gt(0).max(3).describe('Zipf exponent s (0 < s ≤ 3): rank k gets weight k^-s');
const count = (max = 100_000_000) => z.number().int().min(1).max(max);

const sandboxTarget = z.strictObject({
  kind: z.literal('sandbox'),
  nodes: count(9).default(3),
  zones: z.array(z.string().min(1)).min(1).default(['a', 'b', 'c']),
  storage: z.enum(['local', 'tiered']).default('local'),
  security: z.enum(['plaintext', 'sasl-ssl']).default('plaintext').describe('sasl-ssl: clients use the sandbox\'s SASL_SSL listener (SCRAM-SHA-512, TLS verified against the CA it made)'),
});
const security = z.strictObject({
  protocol: z.enum(SECURITY_PROTOCOLS).default('PLAINTEXT'),
  sasl_mechanism: z.enum(SASL_MECHANISMS).optional(),
  sasl_username: z.string().min(1).optional(),
  password_file: z.string().min(1).optional().describe('file holding the SASL password (else CLICKBENCH_SASL_PASSWORD); relative to the scenario file'),
  password: z.never({ error: 'passwords are not read from scenario files: use password_file or the CLICKBENCH_SASL_PASSWORD environment variable' }).optional(),
  ca_file: z.string().min(1).optional().describe('PEM CA the brokers\' certificates chain to (default: the system CAs); relative to the scenario file'),
  tls_verify: z.boolean().default(true),
  limited_principal: z.strictObject({
    sasl_username: z.string().min(1),
    password_file: z.string().min(1).optional().describe('file holding its password (else CLICKBENCH_LIMITED_SASL_PASSWORD); relative to the scenario file'),
  }).optional().describe('Governance, access: a principal your ACLs grant no TransactionalId rights; clickbench checks the cluster refuses it a transactional producer id (same protocol, mechanism and CA as above)'),
});
const brokersTarget = z.strictObject({
  kind: z.literal('brokers'),
  brokers: z.string().min(1).describe('bootstrap list host:port,host:port'),
  profile: z.enum(PROFILES).optional().describe('how storage and networking are read and costed; detected from the cluster when absent (remote storage from DescribeConfigs)'),
  security: security.optional(),
  /** broker id → zone, when the cluster's racks do not say. */
  zones: z.record(z.string(), z.string()).optional(),
});

const burst = z.strictObject({
  name: z.string().min(1).optional(),
  kind: z.enum(['campaign', 'flash-sale', 'bot']).default('campaign'),
  at: duration().describe('when the burst reaches full strength, from the start of the run'),
  duration: duration().describe('how long it holds its full multiplier'),
  multiplier: z.number().min(1).max(100).describe('rate during the burst = base rate × multiplier'),
  ramp_up: duration().default(0).describe('linear ramp before `at`'),
  decay: duration().default(0).describe('after the window, the extra rate decays as a power law with this half-life'),
  bot_keys: count(1_000).default(5).describe('bot bursts: how many keys (visitors) the extra events concentrate on'),
});

const curve = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('constant') }),
  z.strictObject({ kind: z.literal('ramp'), from: z.number().min(0).max(100).default(0.1), to: z.number().min(0).max(100).default(1), over: duration().optional() }),
  z.strictObject({
    kind: z.literal('diurnal'),
    period: duration().default(86_400_000),
    amplitude: share().default(0.5).describe('trough = 1 − amplitude, peak = 1 + amplitude (× base rate)'),
    peak_at: duration().default(72_000_000).describe('offset into the period where the peak falls (20h by default)'),
    start_at: duration().default(0).describe('offset into the period at which the run starts'),
  }),
]);

const mix = z.strictObject(Object.fromEntries(EVENT_TYPES.map((t) => [t, z.number().min(0).optional()])) as Record<EventType, z.ZodOptional<z.ZodNumber>>);

export const FAULT_ACTIONS = ['broker-kill', 'broker-stop', 'zone-outage', 'enricher-kill', 'sink-kill'] as const;
export type FaultAction = (typeof FAULT_ACTIONS)[number];

const fault = z.strictObject({
  action: z.enum(FAULT_ACTIONS).describe('broker-kill = SIGKILL, broker-stop = SIGTERM (controlled shutdown), zone-outage = every node of a zone, enricher-kill = SIGKILL of the enrichment process, sink-kill = SIGKILL of the table sink (scenarios with a table block); each restarted when the phase ends'),
  node: z.number().int().min(0).optional().describe('broker-kill / broker-stop: the node id'),
  zone: z.string().min(1).optional().describe('zone-outage: the zone; broker-kill / broker-stop: a node of this zone'),
  leader_of: z.enum(['raw', 'enriched', 'dlq']).optional().describe('broker-kill / broker-stop: the node leading most partitions of this run topic (the default: raw)'),
  at: duration().default(0).describe('when the fault starts, from the start of its phase'),
  down_for: duration().default(15_000).describe('how long the node(s) or the enricher stay down before they are restarted'),
  wipe: z.boolean().default(false).describe('sandbox only: remove the run\'s partition directories on the stopped node(s) before the restart (a deliberately lossy disk loss)'),
  command: z.string().min(1).optional().describe('external clusters: the shell command that injects the fault (e.g. a kubectl or cloud CLI call)'),
  restore: z.string().min(1).optional().describe('external clusters: the shell command that undoes it, run after down_for'),
  timeout: duration().default(120_000).describe('limit for command and restore'),
});

/** Phase kinds that take an elastic block (src/phases/registry.ts). */
export type ElasticKind = 'scale-out' | 'replace-broker' | 'scale-in';

export const headroomSchema = z.strictObject({
  start: count(10_000_000).default(2_000).describe('first offered rate, records/s; each step doubles it until one fails'),
  max: count(10_000_000).default(64_000).describe('highest offered rate, records/s'),
  step: duration().default(4_000).describe('how long each rate is offered'),
  p99_limit: duration().default(500).describe('a step fails when its ack p99 is above this'),
  min_achieved: share().default(0.95).describe('a step fails when it achieves less than this share of the offered rate'),
  refine: z.number().int().min(0).max(5).default(2).describe('bisections between the last sustained and the first failed rate'),
});

const elastic = z.strictObject({
  nodes: z.number().int().min(1).max(6).default(1).describe('scale-out / scale-in: how many nodes'),
  node: z.number().int().min(1).optional().describe('replace-broker: the node to replace (default: the one leading fewest raw partitions); scale-in: the first node to remove'),
  zones: z.array(z.string().min(1)).min(1).optional().describe('scale-out: zones of the new nodes (default: the sandbox zones, round robin)'),
  throttle: z.string().regex(SIZE_PATTERN, 'expected a byte rate such as 20MB').transform((v) => parseSizeBytes(v)!).optional().describe('replication throttle per broker while replicas move, bytes/s (leader and follower)'),
  at: duration().default(0).describe('offset into the phase at which the change starts (a scale-out\'s headroom probe runs first, then the nodes are added)'),
  brokers: z.array(z.number().int().min(0)).min(1).optional().describe('external clusters: scale-out — the ids of the brokers that join (started by `command`, or already running and empty); scale-in — the ids to move replicas off'),
  command: z.string().min(1).optional().describe('external clusters: the shell command that starts the new brokers (scale-out), stops them after the move (scale-in), or stops, empties and restarts `node` (replace-broker)'),
  timeout: duration().default(300_000).describe('external clusters: limit for the command and for the brokers to appear in (or leave) the metadata'),
  headroom: z.union([z.boolean(), headroomSchema]).optional().describe('scale-out: the sustainable produce rate before and after, by step-load probes with Kafka\'s ProducerPerformance (on by default for scale-out; false turns it off)'),
});

const phase = z.strictObject({
  kind: z.enum(PHASE_KINDS).describe(`what the phase does (src/phases/registry.ts): ${PHASE_KINDS.map((k) => `${k} — ${PHASES[k].summary}`).join('; ')}`),
  name: z.string().min(1).optional(),
  duration: duration().optional(),
  lookback: duration().optional().describe('replay / rollback: how far back the enrichment group is reset'),
  version: z.enum(['v1', 'v2']).optional(),
  fault: fault.optional().describe('fault phases: what breaks, when, and for how long'),
  elastic: elastic.optional().describe('scale-out / replace-broker / scale-in phases: which nodes, zones, throttle'),
});

/** Metric keys a gate can name (src/score/gates.ts computes each from results.json). */
export const GATE_METRICS = [
  'e2e.p50_ms', 'e2e.p90_ms', 'e2e.p99_ms', 'e2e.p999_ms', 'e2e.max_ms', 'produce.p99_ms', 'produce.max_ms', 'enrich.p99_ms', 'enrich.max_ms',
  'throughput.achieved_ratio', 'throughput.short_seconds', 'replay.minutes_per_hour', 'replay.duration_ms', 'replay.p99_degradation',
  'disk.gb_per_gb', 'cross_zone.gb_per_tb', 'cross_zone.cost_usd', 'lag.max_records',
  'correctness.missing', 'correctness.duplicates', 'correctness.pii_leaks', 'correctness.acked_lost',
  'fault.write_unavailable_max_ms', 'fault.e2e_p99_ms', 'fault.drain_ms', 'fault.isr_restore_ms',
  'scorecard.min_row', 'scorecard.total',
  'table.freshness_p99_ms', 'table.missing', 'table.duplicates',
] as const;

const GATE_EXPR = /^\s*(<=|>=|==|!=|<|>)\s*-?\d+(\.\d+)?\s*$/;

export const scenarioSchema = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().min(1).regex(/^[A-Za-z0-9._-]+$/, 'expected letters, digits, ".", "_" or "-"'),
  description: z.string().optional(),
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(1),
  duration: duration().refine((ms) => ms > 0, 'must be longer than 0'),
  start_time: z.string().datetime({ offset: true }).optional().describe('wall-clock time the generator\'s clock starts at (default: now for run, 2026-01-01T00:00:00Z for generate)'),
  target: z.discriminatedUnion('kind', [sandboxTarget, brokersTarget]).default({ kind: 'sandbox', nodes: 3, zones: ['a', 'b', 'c'], storage: 'local', security: 'plaintext' }),
  topics: z.strictObject({
    prefix: z.string().regex(/^[A-Za-z0-9._-]+$/, 'expected letters, digits, ".", "_" or "-"').optional(),
    partitions: count(10_000).default(12),
    replication: count(10).default(3),
    min_insync_replicas: count(10).default(2),
    retention: duration().default(7 * 86_400_000),
    tiered: z.boolean().default(false),
    unclean_leader_election: z.boolean().default(false).describe('unclean.leader.election.enable on the run\'s topics (true trades acknowledged writes for availability)'),
    local_retention: duration().optional().describe('tiered topics: how long segments stay on broker disk'),
    history: z.string().regex(SIZE_PATTERN, 'expected a size such as 500MB').transform((v) => parseSizeBytes(v)!).optional().describe('retained history written (bulk, generated events) into <prefix>.clicks.history before the load, so elasticity phases have retained data to move'),
  }).prefault({}),
  traffic: z.strictObject({
    base_rate: z.number().gt(0).max(10_000_000).describe('events per second before curve and bursts'),
    curve: curve.default({ kind: 'constant' }),
    bursts: z.array(burst).default([]),
    arrivals: z.enum(['poisson', 'uniform']).default('poisson').describe('when events arrive: poisson (independent clicks, exponential gaps, deterministic by seed; queues form as they do in production) or uniform (evenly spaced, 1000/rate ms apart: kinder to queues than real traffic)'),
  }),
  population: z.strictObject({
    users: count().default(100_000),
    user_zipf: zipfExponent().default(0.7),
    anonymous_share: share().default(0.4).describe('share of visitors not logged in when the run starts'),
    products: count().default(50_000),
    product_zipf: zipfExponent().default(0.8),
    pages: count().default(2_000),
    page_zipf: zipfExponent().default(0.9),
    campaigns: count(100_000).default(20),
    bots: count(100_000).default(50),
    bot_share: share().default(0.3).describe('share of events from bots (Imperva: 30–37 % bad bots, 2022–2024)'),
    consent: z.strictObject({
      analytics: share().default(0.8),
      marketing: share().default(0.5),
      personalization: share().default(0.6),
    }).prefault({}),
  }).prefault({}),
  events: z.strictObject({
    mix: mix.optional(),
    session_gap: duration().default(30 * 60_000),
    late_profile_updates: z.strictObject({
      share: share().default(0.08),
      median_delay: duration().default(5_000),
      sigma: z.number().min(0).max(5).default(1).describe('log-normal sigma of the delay'),
    }).prefault({}),
  }).prefault({}),
  bad_records: z.strictObject({
    rate: share().default(0.002),
    kinds: z.array(z.enum(BAD_RECORD_KINDS)).min(1).default([...BAD_RECORD_KINDS]),
    oversized_bytes: count(10_000_000).default(20_000),
  }).prefault({}),
  enrichment: z.strictObject({
    version: z.enum(['v1', 'v2']).default('v1'),
    delivery: z.enum(['eos', 'alo']).default('eos'),
    instances: z.number().int().min(1).max(16).default(1).describe('enrichment processes sharing the raw topic in one consumer group, partition p to instance p mod N, each with its own transactional id (exactly-once holds across restarts: a partition never moves to another instance); more than 1 runs them as child processes, and an enricher-kill fault kills instance 0'),
    max_event_bytes: count(10_000_000).default(16_384),
    attribution_window: duration().default(7 * 86_400_000).describe('last campaign touch counts for this long'),
    session_gap: duration().default(30 * 60_000).describe('server-side sessions end after this much inactivity'),
    governance: z.strictObject({
      pii_fields: z.array(z.string()).default(['email', 'phone', 'first_name', 'last_name']).describe('profile fields that never leave the stage'),
      pseudonymize_without: z.enum(['analytics', 'marketing', 'personalization']).default('analytics').describe('without this consent, identifiers are salted hashes and the IP is truncated'),
      pseudonymized_fields: z.array(z.enum(['user_id', 'anonymous_id', 'session_id', 'person_id'])).default(['user_id', 'anonymous_id', 'session_id', 'person_id']),
      ip_truncate_to: z.number().int().min(0).max(32).default(24).describe('prefix length kept of an IPv4 address without that consent'),
      personalization_fields: z.array(z.string()).default(['segment', 'tier']).describe('profile fields dropped without personalization consent'),
      salt: z.string().min(8).default('clickbench-default-salt').describe('salt of the pseudonymizing hash (set your own)'),
    }).prefault({}),
  }).prefault({}),
  clients: z.strictObject({
    producer_zone: z.string().min(1).optional().describe('zone (client.rack) of the producer; default: the first broker zone'),
    enrichment_zone: z.string().min(1).optional(),
    probe_zone: z.string().min(1).optional().describe('zone of the downstream consumer that measures end-to-end latency'),
    outside_broker_zones: z.boolean().default(false).describe('the clients run outside every broker zone (another region, on premises): a client zone that names no broker rack is then expected, not an error, and its bytes count as cross-zone'),
    acks: z.enum(['all', '1']).default('all').describe('producer acks: all (idempotent) or 1 (leader only, not idempotent)'),
    delivery_timeout: duration().default(120_000).describe('how long the producer keeps retrying a failed send (Kafka\'s delivery.timeout.ms default: 2 min)'),
    compression: z.enum(CODECS).default('lz4').describe('record-batch codec of the load producer: lz4 (the default: what production clickstream producers usually run), none (to compare), gzip, snappy or zstd (zstd needs Node 22.15+); the brokers store and replicate the compressed batches as they are (topic compression.type stays "producer")'),
    enrichment_compression: z.enum(CODECS).optional().describe('codec of the enrichment stage\'s output producer (default: the same as compression)'),
    batch_size: z.union([z.number().int().positive(), z.string().regex(SIZE_PATTERN, 'expected a size such as 64KiB')], { error: 'expected a size such as 64KiB' })
      .transform((v) => parseSizeBytes(v)!)
      .pipe(z.number().min(1024, 'at least 1KiB').max(MAX_BATCH_SIZE, 'at most 900KiB: the brokers refuse a record batch over message.max.bytes (1 MB by default)'))
      .default(512 * 1024)
      .describe('most bytes of keys and values the load producer puts in one partition\'s record batch, before compression (batch.size; a batch goes when it is full or has lingered); default 512KiB'),
    linger: duration().default(10).describe('how long the producer waits for more events before a broker\'s request goes (linger.ms; default 10ms: Kafka 4 defaults to 5ms, high-rate producers often run 10ms or more; each request costs the brokers CPU, see README)'),
  }).prefault({}),
  table: z.strictObject({
    commit_rows: count(10_000_000).default(50_000).describe('the sink commits a Parquet file once it holds this many rows'),
    commit_interval: duration().refine((ms) => ms >= 200, 'at least 200ms').default(5_000).describe('… or once its oldest row waited this long (the bound on the table\'s freshness beside the query cadence)'),
    commit_size: z.string().regex(SIZE_PATTERN, 'expected a size such as 64MB').transform((v) => parseSizeBytes(v)!).default(64 * 2 ** 20).describe('… or once its rows hold this many bytes of events'),
    dir: z.string().min(1).optional().describe('the table\'s folder, relative to the scenario file (default: <reports>/<run id>/table); a folder holding another run\'s table is refused, never emptied'),
  }).optional().describe('the lakehouse path: a table sink (its own process) commits the enriched topic as Parquet files with exactly-once commit records; the run measures the table\'s freshness by DuckDB queries, per phase, and checks every enriched event is in the table once'),
  phases: z.array(phase).default([]),
  calibrate: z.boolean().default(false).describe('before the load: measure the cluster\'s ceilings with Apache Kafka\'s own tools (clickbench calibrate) and report the run against them'),
  gates: z.partialRecord(z.enum(GATE_METRICS), z.string().regex(GATE_EXPR, 'expected a comparison such as "< 250" or ">= 1"')).default({}),
  owners: z.partialRecord(z.enum(SCORECARD_ROWS), z.string().min(1)).default({}),
  measured_cross_zone: z.string().min(1).optional().describe('a per-zone byte export from the cloud provider\'s flow logs or billing data (CSV or JSON: start,end,src_zone,dst_zone,bytes), relative to this file: measured cross-zone bytes per phase where clickbench cannot read kernel counters; read at the end of the run (or later: clickbench report --cross-zone-file)'),
  budgets: z.strictObject({
    e2e_p99_ms: z.number().positive().optional().describe('the end-to-end p99 the pipeline must hold, bursts included (ms): a burst over it is not elasticity; unset, the e2e.p99_ms gate\'s upper bound is the budget'),
    replay_minutes_per_hour: z.number().positive().optional().describe('how long replaying one hour of history may take (minutes): a replay or rollback slower than that fails the storage model; unset, a replay must catch up within its phase'),
    cost_per_month: z.number().positive().optional().describe('USD per month the cluster may cost at this run\'s steady rate (storage + compute + steady cross-zone + endpoint traffic, as priced): over it, the cost model is "no"'),
  }).prefault({}).describe('the checklist\'s budgets: its signals are judged against them, never "yes" by default'),
  price: z.strictObject({
    cross_zone_per_gb: z.number().min(0).default(0.02).describe('USD per GB crossing zones (each direction)'),
    storage_per_gb_month: z.number().min(0).default(0.08).describe('USD per GB-month of broker disk (block storage)'),
    object_storage_per_gb_month: z.number().min(0).default(0.023).describe('USD per GB-month of object storage (a remote tier, AutoMQ\'s shared storage)'),
    broker_per_hour: z.number().min(0).optional().describe('USD per broker instance-hour (compute): the cost model prices the cluster\'s brokers around the clock with it; unset, compute is listed as not priced'),
    endpoint_per_gb: z.number().min(0).optional().describe('USD per GB the clients exchange with the brokers through a private endpoint or NAT gateway (PrivateLink, NAT): 0 says they connect directly; unset on an external cluster, endpoint traffic is listed as not named'),
  }).prefault({}),
}).superRefine((s, ctx) => {
  for (const key of ['compression', 'enrichment_compression'] as const) {
    const codec = s.clients[key];
    const problem = codec ? codecProblem(codec) : undefined;
    if (problem) ctx.addIssue({ code: 'custom', path: ['clients', key], message: problem });
  }
  s.traffic.bursts.forEach((b, i) => {
    if (b.at - b.ramp_up < 0) ctx.addIssue({ code: 'custom', path: ['traffic', 'bursts', i, 'ramp_up'], message: `the ramp starts before the run (at ${b.at / 1000} s − ramp ${b.ramp_up / 1000} s)` });
    if (b.at + b.duration > s.duration) {
      ctx.addIssue({ code: 'custom', path: ['traffic', 'bursts', i, 'at'], message: `burst ends at ${(b.at + b.duration) / 1000} s, after the scenario's ${s.duration / 1000} s duration (expected at + duration ≤ duration)` });
    }
  });
  if (s.topics.min_insync_replicas > s.topics.replication) {
    ctx.addIssue({ code: 'custom', path: ['topics', 'min_insync_replicas'], message: `${s.topics.min_insync_replicas} is more than the replication factor ${s.topics.replication} (no write could succeed)` });
  }
  if (s.target.kind === 'sandbox' && s.topics.replication > s.target.nodes) {
    ctx.addIssue({ code: 'custom', path: ['topics', 'replication'], message: `replication ${s.topics.replication} needs at least that many brokers; the sandbox has ${s.target.nodes}` });
  }
  const phaseTotal = s.phases.reduce((a, p) => a + (p.duration ?? 0), 0);
  if (phaseTotal > s.duration) {
    ctx.addIssue({ code: 'custom', path: ['phases'], message: `the phases last ${phaseTotal / 1000} s, longer than the scenario's ${s.duration / 1000} s duration` });
  }
  s.phases.forEach((p, i) => {
    for (const problem of phaseShapeProblems(p)) ctx.addIssue({ code: 'custom', path: ['phases', i, ...problem.path], message: problem.message });
    const isElastic = PHASES[p.kind].block === 'elastic';
    if (p.elastic?.headroom && p.kind !== 'scale-out') ctx.addIssue({ code: 'custom', path: ['phases', i, 'elastic', 'headroom'], message: `headroom probes belong to scale-out phases (this phase is ${p.kind})` });
    if (isElastic) for (const problem of elasticProblems(p.kind as ElasticKind, p.elastic, s.target.kind)) ctx.addIssue({ code: 'custom', path: ['phases', i, 'elastic', ...(problem.field ? [problem.field] : [])], message: problem.message });
    if (!p.fault || p.kind !== 'fault') return;
    if (p.fault.action === 'sink-kill' && !s.table) ctx.addIssue({ code: 'custom', path: ['phases', i, 'fault', 'action'], message: 'a sink-kill needs a table sink: add a table block to the scenario' });
    for (const problem of faultProblems(p.fault, s.target.kind)) ctx.addIssue({ code: 'custom', path: ['phases', i, 'fault', problem.field], message: problem.message });
  });
  const m = s.events.mix;
  if (m && Object.values(m).reduce((a: number, b) => a + (b ?? 0), 0) <= 0) {
    ctx.addIssue({ code: 'custom', path: ['events', 'mix'], message: 'the weights add up to 0 (expected at least one positive weight)' });
  }
});

export type FaultSpec = z.output<typeof fault>;

/** What is wrong with an elasticity phase for a target kind (also checked by `run` when --brokers overrides the target). */
export function elasticProblems(kind: ElasticKind, e: z.output<typeof elastic> | undefined, targetKind: 'sandbox' | 'brokers'): { field?: string; message: string }[] {
  if (targetKind === 'sandbox') {
    if (e?.brokers || e?.command) return [{ field: e.brokers ? 'brokers' : 'command', message: 'brokers and command are for external clusters; on the sandbox clickbench starts and stops the nodes itself' }];
    return [];
  }
  if (kind === 'scale-out' && !e?.brokers) return [{ field: 'brokers', message: 'a scale-out on an external cluster needs the ids of the brokers that join, e.g. brokers: [4] (and a command that starts them, unless they already run)' }];
  if (kind === 'scale-in' && !e?.brokers) return [{ field: 'brokers', message: 'a scale-in on an external cluster needs the ids of the brokers to empty, e.g. brokers: [4] (and a command that stops them afterwards, if wanted)' }];
  if (kind === 'replace-broker' && (!e?.command || e.node === undefined)) return [{ field: e?.command ? 'node' : 'command', message: 'a broker replacement on an external cluster needs the node and the command that stops it, empties its disk and starts it again' }];
  return [];
}

/** What is wrong with a fault for a target kind (also checked by `run` when --brokers overrides the target). */
export function faultProblems(f: FaultSpec, targetKind: 'sandbox' | 'brokers'): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  const selectors = [f.node !== undefined, f.zone !== undefined, f.leader_of !== undefined].filter(Boolean).length;
  if (f.action === 'zone-outage' && f.zone === undefined && !f.command) out.push({ field: 'zone', message: 'a zone-outage needs the zone to take down, e.g. zone: b' });
  if ((f.action === 'broker-kill' || f.action === 'broker-stop') && selectors > 1) out.push({ field: 'node', message: 'name the node one way: node, zone or leader_of' });
  if (f.action === 'enricher-kill' && (f.node !== undefined || f.zone !== undefined || f.leader_of !== undefined)) out.push({ field: 'action', message: 'an enricher-kill takes no node, zone or leader_of (it kills the enrichment process)' });
  if (f.action === 'sink-kill' && (f.node !== undefined || f.zone !== undefined || f.leader_of !== undefined || f.command)) out.push({ field: 'action', message: 'a sink-kill takes no node, zone, leader_of or command (it kills the table sink clickbench started)' });
  if (f.restore && !f.command) out.push({ field: 'restore', message: 'a restore command needs the command that injects the fault' });
  if (targetKind === 'brokers' && f.action !== 'enricher-kill' && f.action !== 'sink-kill' && !f.command) {
    out.push({ field: 'command', message: `a ${f.action} against an external cluster needs fault.command (and fault.restore), e.g. a kubectl or cloud CLI call; clickbench only stops sandbox nodes itself` });
  }
  if (targetKind === 'brokers' && f.wipe) out.push({ field: 'wipe', message: 'wipe removes partition directories and works on the sandbox only' });
  return out;
}

export type Scenario = z.output<typeof scenarioSchema>;
export type ScenarioInput = z.input<typeof scenarioSchema>;
export type EnrichmentConfig = Scenario['enrichment'];
export type Burst = Scenario['traffic']['bursts'][number];
export type Curve = Scenario['traffic']['curve'];

/** The JSON Schema of the file format, from the same zod source as the validator. */
export function scenarioJsonSchema(): object {
  const schema = z.toJSONSchema(scenarioSchema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  return { $id: 'https://clickbench.dev/scenario.schema.json', title: 'clickbench scenario', ...schema };
}

/** The enrichment settings a scenario gets when it says nothing (for the standalone stage). */
export function defaultEnrichmentConfig(): EnrichmentConfig {
  return scenarioSchema.shape.enrichment.parse({});
}
