/**
 * results.json — everything a run measured, with units in the names. The scorecard and the
 * reports are computed from this alone. Versioned: readers check `schema`.
 *
 * Conventions: *Ms durations in milliseconds, *Bytes in bytes, *PerSec per second; offsets are
 * from the start of the schedule. A figure that could not be measured is
 * `{ "measured": false, "reason": "…" }`, never a made-up number.
 */
import type { Codec } from '../kafka/compression.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { redact } from '../kafka/security.js';
import type { SandboxWarmup } from './target.js';
import type { ElasticResult } from '../elastic/elastic.js';
import type { ProbeResult } from '../probe/probe.js';
import type { describeSecurity } from '../kafka/security.js';
import type { CrossZoneResult } from '../observe/crosszone.js';
import type { BadRecordCheck, RetentionCheck } from '../observe/contract.js';
import type { FlowLogWindow } from '../observe/flowlog.js';
import type { AccessCheck } from '../kafka/access.js';
import type { LatencySummary, LatencyTriple } from '../observe/latency.js';
import type { TableCheck } from '../sink/query.js';
import type { DiskSample, LagSample } from '../observe/samplers.js';
import type { EnrichmentCounters } from '../enrich/enricher.js';
import type { PhaseKind } from '../phases/timeline.js';
import type { Calibration } from '../calibrate/calibrate.js';
import type { Bottleneck, HealthSummary, StageBottleneck } from '../observe/health.js';
import type { MeasuredBytes } from '../observe/netflows.js';
import type { Scenario } from '../scenario/schema.js';
import type { PhaseCost } from '../observe/cost.js';
import type { LoadResult, WorkerReport } from '../workers/coordinator.js';
import type { HostCpu } from '../observe/host.js';

/** Where a run's results.json lives. */
export function resultsPath(reportsDir: string, runId: string): string {
  return join(reportsDir, runId, 'results.json');
}

/** Writes results.json (credentials redacted), creating the run's folder; returns the file. */
export function writeResults(results: Results, reportsDir: string): string {
  const dir = join(reportsDir, results.run.id);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'results.json');
  writeFileSync(file, redact(JSON.stringify(results, null, 2) + '\n'));
  return file;
}

export const RESULTS_SCHEMA = 'clickbench/results@2';
/** Schemas `report` and `compare` still read, and what changed meaning since each (compare says so when runs differ). */
export const READABLE_SCHEMAS: Record<string, string[]> = {
  'clickbench/results@1': [
    'latency samples exclude DLQ records and duplicates (schema 2)',
    'the disk projection\'s peak is the schedule\'s busiest second, not the highest acknowledged one (schema 2)',
    'consumers are modelled as fetching from the leader unless the probe saw rack-aware fetching work (schema 2)',
    'bad records are checked one by one in the DLQ; a DLQ count alone no longer earns the event-contract 2 (schema 2)',
    'cloud networking needs measured cross-zone bytes (kernel counters or a flow log) for a 2; modelled bytes alone earn 1 (schema 2)',
  ],
  'clickbench/results@2': [],
};

export type CompressionFigure = { codec: Codec } & (
  | { measured: true; method: string; batches: number; recordBytes: number; compressedBytes: number; /** compressed ÷ record bytes (0.2 = 5× smaller) */ ratio: number }
  | NotMeasured
);

/** The load workers of a `run --workers N` (src/workers/remote-driver.ts): each worker, and the shards that did not finish. */
export interface WorkersResult {
  expected: number;
  workers: WorkerReport[];
  unfinished: LoadResult['unfinished'];
  /** Decoding and merging the workers' per-second reports: µs of this process's CPU per worker-second. */
  mergeCpuUsPerWorkerSecond: number;
  /** CPU seconds the workers used together (those that reported done). */
  cpuSeconds: number;
  /** Accounting for each acknowledged event the workers reported (decoding, latency, partitions): µs of this process's CPU per event. */
  accountingCpuUsPerEvent: number;
}

export interface TableResult extends TableCheck {
  measured: true;
  dir: string;
  cadence: { rows: number; intervalMs: number; bytes: number };
  /** Distinct events the probe read from the enriched topic (any generation): what the table must hold. */
  expectedEvents: number;
  /** Of those, not in the table when the sink stopped. */
  missingEvents: number;
  missingExamples: string[];
  /** Event ids in the table the probe never read from the enriched topic (0 unless the probe missed some). */
  unexpectedEvents: number;
  freshness: {
    method: string;
    /** Over the scored phases (warmup excluded). */
    scored: LatencySummary | null;
    byPhase: { phase: string; freshness: LatencySummary | null }[];
    /** Rows a replay or rollback rewrote (events from before its generation started): history, not fresh data, so left out. */
    rewrittenRowsExcluded: number;
    queries: number;
    slowestQueryMs: number;
  };
  /**
   * The sink processes: their CPU, SIGKILLs by fault phases, re-delivered records the restarts skipped, the
   * slowest table commit (null: not reported) and the times a sink joined its group again (rebalances):
   * what a stalled table's freshness points to.
   */
  sink: { pid: number | undefined; cpuSeconds: number | null; kills: number; restartedSkipped: number; stoppedCleanly: boolean; slowestCommitMs?: number | null; rejoins?: number };
}

export interface NotMeasured {
  measured: false;
  reason: string;
}

export function notMeasured(reason: string): NotMeasured {
  return { measured: false, reason };
}

export function isMeasured<T extends object>(v: T | NotMeasured | undefined | null): v is T {
  return !!v && (v as NotMeasured).measured !== false;
}

export interface ReplayResult {
  measured: true;
  phase: string;
  lookbackMs: number;
  /** records between the reset offsets and the end offsets at the reset */
  replayedRecords: number;
  durationMs: number | null;
  caughtUp: boolean;
  ratePerSec: number | null;
  /** minutes to replay one hour of history at this pace */
  minutesPerHour: number | null;
  liveE2eP99BeforeMs: number | null;
  liveE2eP99DuringMs: number | null;
  /** during / before */
  liveP99Degradation: number | null;
  lagCurve: { offsetMs: number; lag: number }[];
  /** Where the reset put the group: 'lookback' (every partition at now − lookback), or 'committed' on the
   *  partitions where the group was already further behind than the lookback (it stays there: moving it
   *  forward would skip events that were never enriched). */
  resetFrom?: { lookbackPartitions: number; behindPartitions: number; behindRecords: number; note: string };
  /** The consumer group before the reset (nobody in it, its committed offsets and lag) and after the catch-up
   *  (committed past the end at the reset on every partition, the new stage a member). */
  groupState?: {
    group: string;
    before: { state: string; members: number; partitionsCommitted: number; partitions: number; lagRecords: number };
    resetRecordsBack: number;
    after: { state: string; members: number; partitionsPastEnd: number; partitions: number; afterMs: number } | null;
    checked: boolean;
  };
  remoteTier: NotMeasured | { measured: true; remoteBytes: number; note: string };
}

/** A sink partition whose last stable offset is behind its high watermark. */
export interface OpenTransaction {
  topic: string;
  partition: number;
  lastStable: number;
  highWatermark: number;
}

/** One record the probe read twice for the same event in the same generation. */
export interface DuplicateExample {
  seq: number;
  generation: number;
  /** The copy read second (topic[partition]@offset, the writing producer's id/epoch and whether it was
   *  transactional, the raw record it came from), and the first one's place and producer when it was among
   *  the probe's last 20 000 records (else null). */
  copy: string;
  first: string | null;
}

export interface DualRunResult {
  measured: true;
  /** [main, other] */
  versions: string[];
  compared: number;
  identical: number;
  differing: number;
  /** events only one version's output had (still in flight at the end of the phase) */
  onlyMain: number;
  onlyOther: number;
  /** top-level field → events whose value differs between the versions */
  fieldDiffs: Record<string, number>;
  /** The output's schema evolution main → other, judged on every event both enriched (schema 2). */
  compatibility?: { rule: string; compatible: boolean; removed: Record<string, number>; retyped: Record<string, number>; added: Record<string, number> };
  /** How the other version's stage started and ended (absent from older results). */
  side?: DualRunSide;
}

export interface DualRunSide {
  /** When the phase started the other version's stage, from the start of the schedule. */
  startedAtOffsetMs: number;
  /** From then until its stage ran (tables loaded, producer and consumer up); null: it never did. */
  readyAfterMs: number | null;
  /** Until its probe read its first output; null: never. */
  firstOutputAfterMs: number | null;
  /**
   * After the window ended: records of the raw topic's end at that moment it had not committed yet, how
   * long the phase waited for it (at most DUAL_RUN_FINISH_MS, the next phase beginning that much later),
   * whether it caught up, and how many records it had left when stopped. null: no phase followed it (the
   * run's end stopped it, after the drain) or the run was cut short.
   */
  finish: { behindAtWindowEnd: number; waitedMs: number; caughtUp: boolean; recordsLeft: number } | null;
}

export interface FaultResult {
  phase: string;
  action: string;
  /** What was broken, in words (node, zone, command). */
  target: string;
  nodes: number[];
  wiped: boolean;
  injectedAtOffsetMs: number | null;
  /** When the node(s) / enricher were back (restarted and in the metadata / running). */
  restoredAtOffsetMs: number | null;
  downForMs: number;
  error: string | null;
  /** External clusters: the user's commands and what they printed (tail). */
  commands: { step: 'inject' | 'restore'; command: string; exitCode: number | null; durationMs: number; output: string }[];
  writeUnavailability:
    | NotMeasured
    | {
        measured: true;
        affectedPartitions: number;
        perPartition: { partition: number; leaderBefore: number; isrBefore: number[]; leaderLost: boolean; affected: boolean; firstAckAfterMs: number | null; maxGapMs: number }[];
        maxMs: number;
        p50Ms: number | null;
        p99Ms: number | null;
        method: string;
      };
  /** Failed produce attempts during the fault (after the client's own retries), by error code. */
  produceErrors: Record<string, number>;
  /** The client library's own produce retries during the fault, by reason. */
  clientRetries: Record<string, number>;
  /** during = events intended from the injection until the ISR was whole again. */
  latency: { baselinePhase: string | null; before: LatencyTriple | null; during: LatencyTriple };
  recovery: {
    leaderElections: number;
    underReplicatedMax: number;
    leadersMovedAtOffsetMs: number | null;
    /** From the fault until no partition was led by a stopped node. */
    leadersMovedMs: number | null;
    isrRestoredAtOffsetMs: number | null;
    /** From the restart until no partition was under-replicated. */
    isrRestoreMs: number | null;
    lag: { steadyRecords: number | null; peakRecords: number; peakAtOffsetMs: number | null; thresholdRecords: number | null; drainedAtOffsetMs: number | null; drainMs: number | null };
    milestones: { offsetMs: number; what: string }[];
  };
}

export interface AccountingResult {
  measured: true;
  method: string;
  rawRecordsRead: number;
  /** acknowledged events with an id */
  ackedChecked: number;
  /** acknowledged by the cluster, absent from the raw topic at the end */
  ackedLost: number;
  lostByPartition: Record<string, number>;
  /** acknowledged events found more than once in the raw topic (a producer retry that was not deduplicated) */
  rawDuplicates: number;
  /** acknowledged, not in the enriched sink or the DLQ */
  sinkMissing: number;
  sinkDuplicates: number;
}

/** Kernel-measured bytes (sandbox) beside the cross-zone model; diffPct = (model − measured) / measured. */
export type MeasuredVsModel = MeasuredBytes & {
  model: { crossZoneBytes: number; produce: number; replication: number; consume: number } | null;
  /** crossZone: over the data directions the model covers; allTraffic: against every measured byte (replica fetch requests too). */
  diffPct: { crossZone: number | null; allTraffic: number | null; produce: number | null; replication: number | null; consume: number | null } | null;
};

export interface PhaseResult {
  name: string;
  kind: PhaseKind;
  scored: boolean;
  startOffsetMs: number;
  endOffsetMs: number;
  events: { intended: number; acked: number };
  achievedRatio: number | null;
  latency: LatencyTriple;
  disk: { startBytes: number; endBytes: number; growthBytes: number } | NotMeasured;
  crossZone: CrossZoneResult | NotMeasured;
  crossZoneMeasured?: MeasuredVsModel | NotMeasured;
  lag: { maxRecords: number; endRecords: number } | NotMeasured;
  /** clickbench's own cost on the cluster in the phase (requests sent, broker CPU). */
  cost?: PhaseCost | NotMeasured;
  /** This machine's CPU over the phase: busy, waiting for disk, taken by the hypervisor (steal). */
  host?: HostCpu | NotMeasured;
}

export interface Results {
  schema: string;
  run: {
    id: string;
    status: 'completed' | 'interrupted' | 'failed';
    error?: string;
    startedAt: string;
    /** Wall-clock time (epoch ms) of the schedule's offset 0: phase windows in wall-clock time (e.g. to read a flow log). Schema 2. */
    scheduleStartMs?: number;
    endedAt: string;
    durationMs: number;
    clickbenchVersion: string;
    node: string;
    host: { cpus: number; memoryBytes: number };
  };
  scenario: { name: string; file: string; hash: string; seed: number; durationMs: number; baseRatePerSec: number; spec: Scenario };
  cluster: {
    target: 'sandbox' | 'brokers';
    bootstrap: string;
    kafkaVersion: string | null;
    profile: string;
    storage: 'local' | 'tiered';
    remoteStorageEnabled: boolean;
    brokers: { id: number; rack: string | null }[];
    startedByRun: boolean;
    /** The sandbox's JVM warm-up before the run (sandbox targets only; never measured or scored). */
    warmup?: SandboxWarmup;
    /** JVM options the sandbox's nodes run with (sandbox targets only): the JIT setting weighs on every figure. */
    jvmOptions?: string[];
    /** Broker settings the sandbox changed from Apache Kafka's defaults, beyond sizing (sandbox targets only). */
    brokerOverrides?: Record<string, string>;
    /** How clients connected (never the password). */
    security?: ReturnType<typeof describeSecurity>;
    /** Where the profile came from and why. */
    profileSource?: string;
  };
  /** What the cluster can do for this pipeline (clickbench probe), found before the load. */
  compatibility?: ProbeResult | NotMeasured;
  clients: { library: string; producerZone: string; enrichmentZone: string; probeZone: string };
  topics: {
    prefix: string; raw: string; enriched: string; dlq: string; lookups: string[]; partitions: number; replication: number; minInsyncReplicas: number; retentionMs: number; tiered: boolean; deleted: boolean;
    /** Retained history written before the load (topics.history), not part of the disk-per-GB figures. */
    history?: { topic: string; bytes: number; records: number; events: number; writeMs: number };
  };
  phases: PhaseResult[];
  /** clickbench's own cost on the cluster over the whole schedule. */
  cost?: PhaseCost | NotMeasured;
  /** This machine's CPU over the whole schedule (see PhaseResult.host). */
  host?: HostCpu | NotMeasured;
  series: {
    perSecond: { second: number; intended: number; sent: number; acked: number; e2eP99Ms: number | null; lag: number | null }[];
    disk: DiskSample[];
    lag: LagSample[];
  };
  /** Over scored phases (warmup excluded). */
  latency: LatencyTriple;
  /** What the latency figures leave out or clamp (absent in older results). */
  latencySamples?: { dlqRecordsExcluded: number; duplicatesExcluded: number; negativeEnrichMs: number; note: string };
  throughput: {
    intendedEvents: number;
    sentEvents: number;
    ackedEvents: number;
    failedEvents: number;
    achievedRatio: number;
    /** seconds whose acked count fell more than 5 % short of the intended (after the first) */
    shortSeconds: number;
    maxScheduleLagMs: number;
    maxQueueDepth: number;
    payloadBytes: number;
    averageEventBytes: number;
    verdict: string;
  };
  replay: ReplayResult | NotMeasured;
  /** A rollback is measured like a replay: the older version's group reset to a timestamp, caught up as a new generation. */
  rollback: (ReplayResult & { toVersion: string }) | NotMeasured;
  dualRun: DualRunResult | NotMeasured;
  faults: FaultResult[];
  /** scale-out / replace-broker / scale-in phases: duration and bytes moved (absent in older results). */
  elasticity?: ElasticResult[];
  /** The cluster's ceilings from Apache Kafka's tools, when the scenario asks for `calibrate: true`. */
  calibration: Calibration | NotMeasured;
  /** The load generator's own health, and which side limited the run; `stage`: which side limited the enrichment when its lag grew (absent from older results). */
  client: (HealthSummary & { bottleneck: Bottleneck; stage?: StageBottleneck | NotMeasured; calibratedShare: { peakAckedPerSec: number; ceilingRecordsPerSec: number; share: number } | NotMeasured }) | NotMeasured;
  /** Every acknowledged event looked up in the raw topic and the sink (runs with fault phases). */
  accounting: AccountingResult | NotMeasured;
  /** The lakehouse table (scenarios with a `table` block): freshness by queries, the table checked against what was enriched. */
  table?: TableResult | NotMeasured;
  /** `run --workers N`: the load workers that drove the schedule (absent: this process drove it). */
  workers?: WorkersResult;
  disk:
    | NotMeasured
    | {
        measured: true;
        startBytes: number;
        endBytes: number;
        growthBytes: number;
        ingestedPayloadBytes: number;
        /** broker disk bytes per GB (10^9 B) of payload ingested, replication and all topics of the run included */
        bytesPerGbIngested: number;
        replicationFactor: number;
        byBroker: Record<string, { startBytes: number; endBytes: number }>;
        projection: {
          retentionMs: number; averageIngestBytesPerSec: number; peakIngestBytesPerSec: number; averageRetainedBytes: number; peakRetainedBytes: number; formula: string;
          /** Disk bytes per payload byte the projection used, what it was measured over, and the one-off writes kept out of it (schema 2). */
          bytesPerPayloadByte?: number; basis?: string; oneOffBytes?: number; oneOffByPhase?: Record<string, number>;
        };
        tiered: NotMeasured | { measured: true; remoteBytes: number; localBytes: number };
        groundTruth: NotMeasured | { measured: true; method: string; bytes: number; diffPct: number };
      };
  /** Governance, access: a limited principal refused what it is not granted (schema 2). */
  accessCheck?: AccessCheck | NotMeasured;
  /** The sink topic's retention and deletion settings as the cluster reports them, against the scenario's policy (schema 2). */
  retentionCheck?: RetentionCheck | NotMeasured;
  /** Cross-zone bytes measured outside clickbench (a flow-log or billing export the scenario or `report --cross-zone-file` named), per phase. */
  crossZoneFile?: NotMeasured | { measured: true; file: string; method: string; rows: number; phases: Record<string, FlowLogWindow>; total: FlowLogWindow };
  /** The topology model (modelled, whatever `measured` says: that flag means the model could be computed); measured figures are crossZoneMeasured per phase and crossZoneFile. */
  crossZone:
    | NotMeasured
    | { measured: true; total: CrossZoneResult; measuredBytes?: MeasuredVsModel | NotMeasured; formula: string[]; assumptions: string[]; brokerZones: Record<string, string> };
  /**
   * Record-batch compression of the load producer and of the enrichment output, measured as the bytes
   * each producer fed its codec (the records of a batch) and the bytes it got back. Optional: results
   * written before clickbench compressed have none.
   */
  compression?: { producer: CompressionFigure; enrichment: CompressionFigure };
  enrichment: {
    version: string;
    delivery: string;
    /** Enrichment processes in the main group (enrichment.instances; absent: one). */
    instances?: number;
    counters: EnrichmentCounters | null;
    batches: number;
    transactionsAborted: number;
    concurrentTransactionRetries: number;
    groupJoins: number;
    redeliveredSkipped: number;
    /** EOS commits that raised an error but had landed (read back from the group's offsets instead of redone). */
    commitsConfirmedAfterError?: number;
    /** Lookup-table loads that stalled on a rack-local replica and were redone from the leaders. */
    tableFallbacks?: number;
    /** Consumer-group members the stage started anew after a crash kafkajs would not restart (else the stage stopped for good). */
    consumerRestarts?: number;
    /** Transactional producers the stage replaced (one that could not begin a transaction, or an abort that did not arrive). */
    producerReplacements?: number;
    lookupFill: { profiles: number; catalog: number; campaigns: number; consent: number; bytes: number } | null;
  };
  correctness: {
    ackedEvents: number;
    /** acked events that should reach the sink or the DLQ with their id (bad records with no id excluded) */
    expectedInSink: number;
    seenDistinct: number;
    missing: number;
    duplicates: number;
    /** The first duplicates the probe read, where they sat and which producer wrote them (schema 2). */
    duplicateExamples?: DuplicateExample[];
    piiLeaks: number;
    unpseudonymized: number;
    checkedWithoutConsent: number;
    badRecordsAcked: number;
    dlqRecords: number;
    /** Acknowledged events the probe had not seen when the drain ended: in `missing`, and recorded in the
     *  e2e histograms at the time waited (a lower bound), so they do not vanish from the tail. */
    timedOut?: number;
    /** Where the timed-out events were: per phase (by intended time), per raw partition, first and last intended offset (schema 2). */
    timedOutWhere?: {
      byPhase: Record<string, number>; byRawPartition: Record<string, number>; intendedOffsetMs: [number, number];
      /** Sink partitions whose last stable offset was still behind the high watermark after the stages stopped
       *  (a transaction left open: read_committed readers cannot pass it), or why that was not read. */
      openTransactions?: OpenTransaction[] | string;
    };
    /** Every acknowledged bad record looked up in the DLQ by its raw position (schema 4; absent in older results). */
    badRecords?: BadRecordCheck | NotMeasured;
    /** Enriched records the probe read without every lineage header (schema 2). */
    lineageMissing?: number;
  };
  errors: {
    produceErrors: number; produceFailedEvents: number; produceRetries: number; byCode: Record<string, number>; messages: string[]; repeated: Record<string, number>;
    /** Broker answers the clients retried on their own and got past (coordinator loading, leader moved, …), by kind: counted, not printed. */
    transient?: Record<string, number>;
  };
}
