/**
 * What one run shares between its parts: the scenario and target, topic names and zones, the
 * Kafka clients, the pipeline under test (producer, driver, enrichment stages, probe), the
 * latency recorders, and the results record being filled. `run` builds it; phase runners
 * (src/phases/) and the observers read and act through it.
 */
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import type { Admin, Kafka, Producer } from '../kafka/client.js';
import { createKafka, createProducer, transientAnswers } from '../kafka/client.js';
import { describeSecurity } from '../kafka/security.js';
import { driverRetry, type LoadDriver } from '../drive/driver.js';
import { topicNames, type TopicNames } from '../drive/topics.js';
import { EnrichmentStage } from '../enrich/stage.js';
import { StageProcess, type StageHandle } from '../enrich/child.js';
import { StageGroup } from '../enrich/group.js';
import { PerSecondLatency, PipelineLatency, RecentLatency, record } from '../observe/latency.js';
import type { Probe } from '../observe/probe.js';
import type { NetLedger } from '../observe/netflows.js';
import type { Profile } from '../observe/crosszone.js';
import type { LoadedScenario } from '../scenario/load.js';
import type { Scenario } from '../scenario/schema.js';
import { phaseAt, phaseTimeline, type PhaseWindow } from '../phases/timeline.js';
import { notMeasured, RESULTS_SCHEMA, type Results } from './results.js';
import { compressionFigure, type CompressionReading } from './assemble.js';
import { codecCounts, subtractCodecCounts, sumCodecCounts, transactionalCodecCounts } from '../kafka/compression.js';
import type { RunTarget } from './target.js';
import { CLICKBENCH_VERSION, dependencyVersion } from '../version.js';
import { ClickbenchError, ExitCode } from '../errors.js';

/**
 * How a user stops a run: `aborted` (first Ctrl-C: finish what is in flight, write the partial
 * report); `restore`, set by the run while it has something broken (a stopped broker), is what a
 * second Ctrl-C runs before quitting.
 */
export interface RunSignal {
  aborted: boolean;
  restore?: () => Promise<void>;
}

export interface RunOptions {
  target: RunTarget;
  runId: string;
  reportsDir: string;
  keepTopics?: boolean;
  /** Progress: called about once a second with a status line. */
  progress?: (line: string, final?: boolean) => void;
  log?: (line: string) => void;
  /** Set to stop the run early (Ctrl-C); a partial report is still written. */
  signal?: RunSignal;
  /** Client zones (client.rack); default: the first zone for all. */
  zones?: { producer?: string; enrichment?: string; probe?: string };
  /** The load from N load workers (`clickbench worker`) instead of this process: started here (`spawn`) or elsewhere. */
  workers?: { count: number; spawn: boolean; joinTimeoutMs?: number };
}

export function newRunId(name: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${name}-${stamp}-${randomBytes(2).toString('hex')}`;
}

export type LatencyKind = 'produceAck' | 'enrich' | 'e2e';

/** What the load reports while it runs, to whichever phase runner wants it (all optional). */
export interface RunListener {
  /** A latency of an event intended at `intendedMs` (live traffic only). */
  record?(kind: LatencyKind, intendedMs: number, ms: number): void;
  /** The producer client retried a request (kind: the reason, digits masked). */
  produceRetried?(kind: string): void;
  /** A produce attempt failed with this error code. */
  attemptFailed?(code: string): void;
  /** A partition of the raw topic acknowledged a write at `ackMs`. */
  partitionAcked?(partition: number, ackMs: number): void;
  /** The main probe read an enriched output of event `seq` (any generation). */
  enriched?(seq: number, value: string, intendedMs: number | null): void;
}

/** A second enrichment version run beside the main one (dual-run). */
export interface SideRun {
  stage: StageHandle;
  probe?: Probe;
  version: 'v1' | 'v2';
}

export class RunContext {
  readonly s: Scenario;
  readonly startedAt = new Date();
  readonly target: RunTarget;
  readonly brokers: string[];
  readonly bootstrap: string;
  readonly runPrefix: string;
  readonly names: TopicNames;
  readonly phases: PhaseWindow[];
  /** The table sink's process (scenarios with a table block), for fault sink-kill. */
  tableSink?: { kill: () => Promise<void>; restart: () => Promise<void> };
  readonly zones: { producer: string; enrichment: string; probe: string };
  readonly signal: RunSignal;
  readonly log: (line: string) => void;
  readonly errors: string[] = [];
  /** The same client error repeats while a broker is down: the first of each kind is printed and kept, the rest counted. */
  readonly repeated: Record<string, number> = {};
  readonly transientAtStart = { ...transientAnswers };
  readonly produceRetries: Record<string, number> = {};
  readonly kafka: Kafka;
  readonly producerKafka: Kafka;
  readonly probeKafka: Kafka;
  admin!: Admin;
  readonly producer: Producer;
  producerConnected = false;
  readonly results: Results;
  profile: Profile;
  brokerZone = new Map<number, string>();
  /** Topics the run created (history included). */
  createdTopics: string[] = [];
  /** With an enricher-kill fault the stages run as child processes (a SIGKILL is only real for a process). */
  readonly stageAsProcess: boolean;
  stage?: StageHandle;
  /** Stages replaced by a replay, killed or stopped: their counters still count. */
  readonly retired: StageHandle[] = [];
  /** Raw bytes the retired main stages consumed (the cross-zone flow of the enrichment consumer). */
  readonly retiredMainBytes = new Map<number, number>();
  side?: SideRun;
  /** Every side run's probe, stopped or not (the bytes it read still count). */
  readonly sideProbes: Probe[] = [];
  probe!: Probe;
  driver!: LoadDriver;
  mainVersion: 'v1' | 'v2';
  groupId: string;
  /** Enrichment generation: 0, then one more per replay or rollback. */
  generation = 0;
  /** Schedule offset from which generation g's outputs are live (earlier ones are replayed history). */
  readonly generationStart: number[] = [0];
  /** Wall-clock ms at which the schedule starts (offset 0). */
  scheduleStart = 0;
  loadRunning = true;
  /** Sandbox: the kernel's per-connection counters (undefined elsewhere). */
  ledger?: NetLedger;
  readonly listeners: RunListener[] = [];
  readonly latency: { run: PipelineLatency; phase: PipelineLatency[]; bySecond: PerSecondLatency; recent: RecentLatency };

  constructor(readonly loaded: LoadedScenario, readonly opts: RunOptions) {
    const s = (this.s = loaded.scenario);
    const target = (this.target = opts.target);
    this.log = opts.log ?? (() => {});
    this.signal = opts.signal ?? { aborted: false };
    this.brokers = target.brokers;
    this.bootstrap = this.brokers.join(',');
    this.runPrefix = `${s.topics.prefix ?? `cb-${s.name}`}-${opts.runId.slice(-4)}`;
    this.names = topicNames(this.runPrefix);
    this.phases = phaseTimeline(s);
    this.profile = target.profile;
    this.zones = {
      producer: opts.zones?.producer ?? target.defaultZone,
      enrichment: opts.zones?.enrichment ?? target.defaultZone,
      probe: opts.zones?.probe ?? target.defaultZone,
    };
    this.mainVersion = s.enrichment.version;
    this.groupId = this.groupOf(this.mainVersion);
    this.stageAsProcess = this.phases.some((w) => w.fault?.action === 'enricher-kill') || s.enrichment.instances > 1;
    this.latency = { run: new PipelineLatency(), phase: this.phases.map(() => new PipelineLatency()), bySecond: new PerSecondLatency(), recent: new RecentLatency() };
    const errorLine = this.errorLine;
    // One client per role, each with its connections labelled (cross-zone bytes measured per client).
    const client = (role: string, label: string, extra: { onRetry?: (reason: string) => void } = {}) =>
      createKafka({ brokers: this.brokers, clientId: `clickbench-run-${opts.runId}${role}`, log: errorLine, connectionTimeoutMs: 3_000, retries: 5, label, security: target.security, ...extra });
    this.kafka = client('', 'admin');
    this.producerKafka = client('-producer', 'producer', { onRetry: (reason) => this.produceRetried(reason) });
    this.probeKafka = client('-probe', 'probe');
    // acks=all: idempotent (the default); acks=1 cannot be (Kafka requires acks=all for idempotence).
    this.producer = createProducer(this.producerKafka, { idempotent: s.clients.acks === 'all', maxInFlightRequests: 5, retry: driverRetry() });
    this.results = this.emptyResults();
  }

  /** A client error line: printed and kept once per kind (digits masked), counted after that. */
  readonly errorLine = (l: string): void => {
    const kind = l.replace(/\d+/g, '#').slice(0, 160);
    this.repeated[kind] = (this.repeated[kind] ?? 0) + 1;
    if (this.repeated[kind] > 1) return;
    if (this.errors.length < 50) this.errors.push(l);
    this.log(l);
  };

  private produceRetried(reason: string): void {
    const kind = reason.replace(/\d+/g, '#').slice(0, 120);
    this.produceRetries[kind] = (this.produceRetries[kind] ?? 0) + 1;
    for (const l of this.listeners) l.produceRetried?.(kind);
    this.driver?.clientRetried();
  }

  groupOf(version: string): string {
    return `${this.runPrefix}.enrich.${version}`;
  }

  /** What ended the run early (an enrichment process that crashed for good): the run stops its load and fails with it (exit 3). */
  fatal?: ClickbenchError;

  /** Stop the run: its load ends, what was measured is kept, and the run fails with `message` (exit 3). */
  fail(message: string): void {
    if (this.fatal) return;
    this.fatal = new ClickbenchError(message, { exitCode: ExitCode.runFailed, hint: 'the partial report holds what was measured until then; see the lines above for the cause' });
    this.errorLine(`${message}: stopping the run`);
  }

  /** Offset of a wall-clock time from the start of the schedule. */
  offsetOf(epochMs: number): number {
    return epochMs - this.scheduleStart;
  }

  /** An enrichment stage of `version` at `generation`, writing `outputTopic` (a side run's topic uses its own DLQ). */
  stageFor(generation: number, version: 'v1' | 'v2' = this.mainVersion, outputTopic = this.names.enriched): StageHandle {
    const main = outputTopic === this.names.enriched;
    const { s, target } = this;
    const dlq = main ? this.names.dlq : `${this.names.dlq}.${version}`;
    if (this.stageAsProcess) {
      const o = { brokers: this.brokers, security: target.security, prefix: this.runPrefix, version, delivery: s.enrichment.delivery, scenarioFile: this.loaded.file, rack: this.zones.enrichment, generation, compression: s.clients.enrichment_compression ?? s.clients.compression, log: this.errorLine, onCrash: (m: string) => this.fail(m), ...(main ? {} : { output: outputTopic, dlq }) };
      // enrichment.instances: the main pipeline's stage as N processes in one group (a dual-run's side stage stays one).
      return main && s.enrichment.instances > 1 ? new StageGroup(o, s.enrichment.instances) : new StageProcess(o);
    }
    return new EnrichmentStage({
      brokers: this.brokers, security: target.security, names: { ...this.names, dlq }, outputTopic, version, delivery: s.enrichment.delivery, config: s.enrichment,
      groupId: this.groupOf(version), transactionalId: `${this.groupOf(version)}.0`, rack: this.zones.enrichment, generation, compression: s.clients.enrichment_compression ?? s.clients.compression, log: this.errorLine,
    });
  }

  /** The main stage leaves (stopped or killed by the caller): its counters and consumed bytes still count. */
  retireMain(st: StageHandle): void {
    this.retired.push(st);
    for (const [p, v] of st.consumedBytes) this.retiredMainBytes.set(p, (this.retiredMainBytes.get(p) ?? 0) + v);
    if (this.stage === st) this.stage = undefined;
  }

  /** Stops the side run (dual-run), if any; its counters still count. */
  async stopSide(): Promise<void> {
    const side = this.side;
    if (!side) return;
    this.side = undefined;
    // Retired before it stops, so a snapshot taken meanwhile still counts it (once).
    this.retired.push(side.stage);
    await this.countingCloses(async () => {
      await side.stage.stop();
      await side.probe?.stop();
    });
  }

  /**
   * `stop` closes clients (a stage, a probe): on the sandbox the kernel-counter ledger listens to the
   * closing sockets' final counters meanwhile. Without it a connection's bytes since the ledger's last
   * reading (up to a second of the stage's traffic, and its last commit) left the measured side of
   * the cross-zone comparison while the model kept them. Already listening (a replica move): as is.
   */
  async countingCloses(stop: () => Promise<void>): Promise<void> {
    const ledger = this.ledger;
    if (!ledger || ledger.health().destroyEvents === 'listening') return stop();
    await ledger.listen().catch(() => {});
    try {
      await stop();
    } finally {
      await ledger.sample().then(() => ledger.settle()).catch(() => {});
      ledger.stop();
    }
  }

  /** One latency sample of live traffic, into its phase, the run (scored phases), and every listener. */
  record(kind: LatencyKind, intendedMs: number, ms: number): void {
    const offset = intendedMs - this.scheduleStart;
    const p = phaseAt(this.phases, offset);
    record(this.latency.phase[p.index][kind], ms);
    if (p.scored) record(this.latency.run[kind], ms);
    for (const l of this.listeners) l.record?.(kind, intendedMs, ms);
    if (kind === 'e2e') {
      this.latency.bySecond.recordAt(Math.floor(offset / 1000), ms);
      this.latency.recent.add(ms);
    }
  }

  /** Every stage the run started, still running or not. */
  allStages(): StageHandle[] {
    // A group of instances counts as its processes (pids, compression, transactions are per process).
    return [...this.retired, ...(this.stage ? [this.stage] : []), ...(this.side ? [this.side.stage] : [])].flatMap((x) => (x instanceof StageGroup ? x.members : [x]));
  }

  /**
   * The compression the load producer and the enrichment output achieved so far. A stage in its own
   * process reports its codec's counts on its stats line; one inside this process shares this
   * process's counts, which tell it apart from the producer only when the two use different codecs.
   * `shared`: the two were counted together (the producer's figure holds both).
   */
  compression(): CompressionReading {
    const { compression, enrichment_compression } = this.s.clients;
    const enrichmentCodec = enrichment_compression ?? compression;
    const stages = this.allStages();
    const inProcess = stages.some((x) => !(x instanceof StageProcess));
    const sameCodec = inProcess && enrichmentCodec === compression && compression !== 'none';
    // In one process with one codec, an exactly-once stage's batches are told apart as the transactional ones.
    const eos = this.s.enrichment.delivery === 'eos';
    const shared = sameCodec && !eos;
    const own = sameCodec && eos ? subtractCodecCounts(codecCounts.get(compression), transactionalCodecCounts.get(compression)) : codecCounts.get(compression);
    const producer = compressionFigure(compression, own, shared ? 'the load producer and the in-process enrichment stage' : 'the load producer');
    const enrichment = shared
      ? { codec: enrichmentCodec, ...notMeasured('the at-least-once enrichment stage ran inside the run process with the producer\'s codec: its bytes are counted with the producer\'s') }
      : compressionFigure(enrichmentCodec, !inProcess ? sumCodecCounts(stages.map((x) => x.compressed)) : sameCodec ? transactionalCodecCounts.get(enrichmentCodec) : codecCounts.get(enrichmentCodec), 'the enrichment output producer');
    return { producer, enrichment, shared };
  }

  /** Pids of the enrichment stages running as child processes (their sockets are the enrichment client's). */
  stageProcessPids(): number[] {
    return this.allStages().flatMap((x) => (x instanceof StageProcess && x.pid() ? [x.pid()!] : []));
  }

  private emptyResults(): Results {
    const { s, target, opts, names, zones } = this;
    return {
      schema: RESULTS_SCHEMA,
      run: { id: opts.runId, status: 'failed', startedAt: this.startedAt.toISOString(), endedAt: '', durationMs: 0, clickbenchVersion: CLICKBENCH_VERSION, node: process.version, host: { cpus: cpus().length, memoryBytes: totalmem() } },
      scenario: { name: s.name, file: this.loaded.file, hash: this.loaded.hash, seed: s.seed, durationMs: s.duration, baseRatePerSec: s.traffic.base_rate, spec: s },
      cluster: { target: target.kind, bootstrap: this.bootstrap, kafkaVersion: target.kafkaVersion, profile: this.profile, storage: target.storage, remoteStorageEnabled: target.remoteStorageEnabled, brokers: [], startedByRun: target.startedByRun, warmup: target.warmup, ...(target.jvmOptions ? { jvmOptions: target.jvmOptions } : {}), ...(target.brokerOverrides ? { brokerOverrides: target.brokerOverrides } : {}), security: describeSecurity(target.security), profileSource: target.profileSource },
      clients: { library: `kafkajs ${dependencyVersion('kafkajs')} (DescribeLogDirs: @platformatic/kafka ${dependencyVersion('@platformatic/kafka')})`, producerZone: zones.producer, enrichmentZone: zones.enrichment, probeZone: zones.probe },
      topics: { prefix: this.runPrefix, raw: names.raw, enriched: names.enriched, dlq: names.dlq, lookups: Object.values(names.lookups), partitions: s.topics.partitions, replication: s.topics.replication, minInsyncReplicas: s.topics.min_insync_replicas, retentionMs: s.topics.retention, tiered: s.topics.tiered, deleted: false },
      phases: [],
      series: { perSecond: [], disk: [], lag: [] },
      latency: { produceAck: null, enrich: null, e2e: null },
      throughput: { intendedEvents: 0, sentEvents: 0, ackedEvents: 0, failedEvents: 0, achievedRatio: 0, shortSeconds: 0, maxScheduleLagMs: 0, maxQueueDepth: 0, payloadBytes: 0, averageEventBytes: 0, verdict: 'not run' },
      replay: notMeasured('the scenario has no replay phase'),
      rollback: notMeasured('the scenario has no rollback phase'),
      dualRun: notMeasured('the scenario has no dual-run phase'),
      faults: [],
      elasticity: [],
      accounting: notMeasured('the raw topic is read back in runs with fault phases only'),
      calibration: notMeasured('the scenario does not ask for calibrate: true (or run `clickbench calibrate`)'),
      client: notMeasured('the run ended before the load started'),
      disk: notMeasured('the run ended before the first disk sample'),
      crossZone: notMeasured('the run ended before traffic was measured'),
      enrichment: { version: s.enrichment.version, delivery: s.enrichment.delivery, ...(s.enrichment.instances > 1 ? { instances: s.enrichment.instances } : {}), counters: null, batches: 0, transactionsAborted: 0, concurrentTransactionRetries: 0, groupJoins: 0, redeliveredSkipped: 0, commitsConfirmedAfterError: 0, tableFallbacks: 0, consumerRestarts: 0, producerReplacements: 0, lookupFill: null },
      correctness: { ackedEvents: 0, expectedInSink: 0, seenDistinct: 0, missing: 0, duplicates: 0, piiLeaks: 0, unpseudonymized: 0, checkedWithoutConsent: 0, badRecordsAcked: 0, dlqRecords: 0 },
      errors: { produceErrors: 0, produceFailedEvents: 0, produceRetries: 0, byCode: {}, messages: this.errors, repeated: {} },
    };
  }
}
