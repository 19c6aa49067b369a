/**
 * `clickbench run`: set up the run's topics, fill the lookups, start the enrichment stage and the
 * probe, drive the open-loop schedule through its phases, observe, account for every event, tear
 * down, and hand back results (written as results.json even when the run fails or is stopped).
 */
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { ClickstreamGenerator } from '../generate/clickstream.js';
import { createKafka, createProducer } from '../kafka/client.js';
import { describeBrokers } from '../kafka/cluster-facts.js';
import { LogDirsProbe } from '../kafka/logdirs.js';
import { EnrichmentStage } from '../enrich/stage.js';
import { StageProcess, type StageHandle } from '../enrich/child.js';
import { AckTimeline, FaultRunner, faultResult } from '../fault/faults.js';
import { readBackSeqs } from '../observe/readback.js';
import { calibrate as runCalibration, sealCalibration } from '../calibrate/calibrate.js';
import { averageEventBytes, calibrationSettings } from '../calibrate/settings.js';
import { connectAdmin } from '../kafka/admin.js';
import { LeaderMap } from '../kafka/leaders.js';
import { driverRetry } from '../drive/driver.js';
import { bottleneck, ClientHealth } from '../observe/health.js';
import { NetLedger } from '../observe/netflows.js';
import { describeSecurity } from '../kafka/security.js';
import { checkConnection } from '../kafka/preflight.js';
import { ElasticRunner } from '../elastic/elastic.js';
import { writeHistory } from '../drive/history.js';
import { probeCluster, requirements, unmet } from '../probe/probe.js';
import { socketLabels, transientAnswers } from '../kafka/client.js';
import { elasticProblems, faultProblems, type ElasticKind, type FaultSpec } from '../scenario/schema.js';
import { fillLookups } from '../drive/lookups.js';
import { OpenLoopDriver } from '../drive/driver.js';
import { createTopics, deleteTopicsWithPrefix, enrichedTopicFor, topicNames, topicSpecs } from '../drive/topics.js';
import { crossZoneBytes, CROSS_ZONE_FORMULA, PROFILE_ASSUMPTIONS, type ClientFlow, type CrossZoneResult, type PartitionPlacement, type Profile } from '../observe/crosszone.js';
import { PerSecondLatency, PipelineLatency, RecentLatency, record } from '../observe/latency.js';
import { Probe } from '../observe/probe.js';
import { sampleDisk, sampleLag, type DiskSample, type LagSample } from '../observe/samplers.js';
import { ClickbenchError, ExitCode } from '../errors.js';
import type { LoadedScenario } from '../scenario/load.js';
import { sleep } from '../sandbox/process.js';
import { phaseAt, phaseTimeline, type PhaseWindow } from './phases.js';
import { PHASES, type PhaseRunner } from '../phases/registry.js';
import { isMeasured, notMeasured, writeResults, RESULTS_SCHEMA, type NotMeasured, type PhaseResult, type Results } from './results.js';
import type { RunTarget } from './target.js';
import { sandboxLogBytes } from './target.js';
import { copyNested, diffFlat, diffNested, inFaultWindow, mergeFlat, mergeNested, withModel } from './byte-maps.js';
import { addCounters, catchUpSeconds, diffDualRun, diskResult, rawAccounting, seenInSink, replayResetOffsets, replayResult, type ReplayRecord } from './assemble.js';
import { CLICKBENCH_VERSION, dependencyVersion } from '../version.js';
import { hostCpuBetween, readHostCpu, type HostCpu, type HostCpuReading } from '../observe/host.js';
import { copyCounts, phaseCost, readBrokerCpu, requestCounts, selfCpuSeconds, type CpuReading, type PhaseCost, type RequestCounts } from '../observe/cost.js';


export interface RunOptions {
  target: RunTarget;
  runId: string;
  reportsDir: string;
  keepTopics?: boolean;
  /** Progress: called about once a second with a status line. */
  progress?: (line: string, final?: boolean) => void;
  log?: (line: string) => void;
  /** Set to stop the run early (Ctrl-C); a partial report is still written. */
  signal?: { aborted: boolean };
  /** Client zones (client.rack); default: the first zone for all. */
  zones?: { producer?: string; enrichment?: string; probe?: string };
}

export function newRunId(name: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${name}-${stamp}-${randomBytes(2).toString('hex')}`;
}

interface Snapshot {
  offsetMs: number;
  driverBytes: Map<string, Map<number, number>>;
  /** Raw bytes consumed by the main enrichment stages so far (all instances). */
  stageBytes: Map<number, number>;
  probeBytes: Map<string, Map<number, number>>;
  dualBytes: Map<number, number>;
  disk?: DiskSample;
  net?: ReturnType<NetLedger['snapshot']>;
  /** clickbench's own cost so far: requests sent, broker and own CPU seconds. */
  cost: { atMs: number; requests: RequestCounts; brokerCpu: CpuReading; selfCpuSeconds: number };
  host?: HostCpuReading;
}


export async function runScenario(loaded: LoadedScenario, opts: RunOptions): Promise<Results> {
  const s = loaded.scenario;
  const log = opts.log ?? (() => {});
  const signal = opts.signal ?? { aborted: false };
  const startedAt = new Date();
  const target = opts.target;
  const brokersList = target.brokers;
  const bootstrap = brokersList.join(',');
  const runPrefix = `${s.topics.prefix ?? `cb-${s.name}`}-${opts.runId.slice(-4)}`;
  const names = topicNames(runPrefix);
  const phases = phaseTimeline(s);
  // Fault phases: checked against the actual target (--brokers may have replaced the scenario's).
  const faultSpecs = new Map<number, FaultSpec>();
  for (const w of phases) {
    const spec = w.fault;
    if (w.kind !== 'fault' || !spec) continue;
    const problem = faultProblems(spec, opts.target.kind)[0];
    if (problem) throw new ClickbenchError(`${loaded.file}: phases[${w.index}].fault.${problem.field}: ${problem.message}`, { exitCode: ExitCode.usage, hint: 'fix the fault block, or run the scenario on the sandbox' });
    faultSpecs.set(w.index, spec);
  }
  for (const w of phases) {
    if (!w.elastic) continue;
    const problem = elasticProblems(w.kind as ElasticKind, w.elastic, opts.target.kind)[0];
    if (problem) throw new ClickbenchError(`${loaded.file}: phases[${w.index}].elastic${problem.field ? `.${problem.field}` : ''}: ${problem.message}`, { exitCode: ExitCode.usage, hint: 'fix the elastic block, or run the scenario on the sandbox' });
  }
  const enricherKill = [...faultSpecs.values()].some((f) => f.action === 'enricher-kill');
  let profile: Profile = target.profile;
  const zones = {
    producer: opts.zones?.producer ?? target.defaultZone,
    enrichment: opts.zones?.enrichment ?? target.defaultZone,
    probe: opts.zones?.probe ?? target.defaultZone,
  };
  const errors: string[] = [];
  const transientAtStart = { ...transientAnswers };
  // The same client error repeats while a broker is down: print and keep the first of each kind, count the rest.
  const repeated: Record<string, number> = {};
  const errorLine = (l: string) => {
    const kind = l.replace(/\d+/g, '#').slice(0, 160);
    repeated[kind] = (repeated[kind] ?? 0) + 1;
    if (repeated[kind] > 1) return;
    if (errors.length < 50) errors.push(l);
    log(l);
  };
  let faultRunner: FaultRunner | undefined;
  let elasticRunner: ElasticRunner | undefined;
  let loadRunning = true;
  let health: ClientHealth | undefined;
  const produceRetries: Record<string, number> = {};
  const onRetry = (reason: string) => {
    const kind = reason.replace(/\d+/g, '#').slice(0, 120);
    produceRetries[kind] = (produceRetries[kind] ?? 0) + 1;
    for (const f of faultRunner?.faults ?? []) if (f.open) f.clientRetries[kind] = (f.clientRetries[kind] ?? 0) + 1;
    driver?.clientRetried();
  };
  // One client per role, each with its connections labelled (cross-zone bytes measured per client).
  const kafka = createKafka({ brokers: brokersList, clientId: `clickbench-run-${opts.runId}`, log: errorLine, connectionTimeoutMs: 3_000, retries: 5, label: 'admin', security: target.security });
  const producerKafka = createKafka({ brokers: brokersList, clientId: `clickbench-run-${opts.runId}-producer`, log: errorLine, connectionTimeoutMs: 3_000, retries: 5, onRetry, label: 'producer', security: target.security });
  const probeKafka = createKafka({ brokers: brokersList, clientId: `clickbench-run-${opts.runId}-probe`, log: errorLine, connectionTimeoutMs: 3_000, retries: 5, label: 'probe', security: target.security });
  // One clear line (exit 3) for a wrong listener, an untrusted certificate or a refused password.
  const connection = await checkConnection(brokersList, target.security);
  const admin = await connectAdmin(kafka, bootstrap);

  const results: Results = {
    schema: RESULTS_SCHEMA,
    run: { id: opts.runId, status: 'failed', startedAt: startedAt.toISOString(), endedAt: '', durationMs: 0, clickbenchVersion: CLICKBENCH_VERSION, node: process.version, host: { cpus: cpus().length, memoryBytes: totalmem() } },
    scenario: { name: s.name, file: loaded.file, hash: loaded.hash, seed: s.seed, durationMs: s.duration, baseRatePerSec: s.traffic.base_rate, spec: s },
    cluster: { target: target.kind, bootstrap, kafkaVersion: target.kafkaVersion, profile, storage: target.storage, remoteStorageEnabled: target.remoteStorageEnabled, brokers: [], startedByRun: target.startedByRun, warmup: target.warmup, ...(target.jvmOptions ? { jvmOptions: target.jvmOptions } : {}), ...(target.brokerOverrides ? { brokerOverrides: target.brokerOverrides } : {}), security: describeSecurity(target.security), profileSource: target.profileSource },
    clients: { library: `kafkajs ${dependencyVersion('kafkajs')} (DescribeLogDirs: @platformatic/kafka ${dependencyVersion('@platformatic/kafka')})`, producerZone: zones.producer, enrichmentZone: zones.enrichment, probeZone: zones.probe },
    topics: { prefix: runPrefix, raw: names.raw, enriched: names.enriched, dlq: names.dlq, lookups: Object.values(names.lookups), partitions: s.topics.partitions, replication: s.topics.replication, minInsyncReplicas: s.topics.min_insync_replicas, retentionMs: s.topics.retention, tiered: s.topics.tiered, deleted: false },
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
    enrichment: { version: s.enrichment.version, delivery: s.enrichment.delivery, counters: null, batches: 0, transactionsAborted: 0, concurrentTransactionRetries: 0, groupJoins: 0, redeliveredSkipped: 0, commitsConfirmedAfterError: 0, tableFallbacks: 0, consumerRestarts: 0, producerReplacements: 0, lookupFill: null },
    correctness: { ackedEvents: 0, expectedInSink: 0, seenDistinct: 0, missing: 0, duplicates: 0, piiLeaks: 0, unpseudonymized: 0, checkedWithoutConsent: 0, badRecordsAcked: 0, dlqRecords: 0 },
    errors: { produceErrors: 0, produceFailedEvents: 0, produceRetries: 0, byCode: {}, messages: errors, repeated: {} },
  };

  let stage: StageHandle | undefined;
  /** Stages replaced by a replay or killed: their counters still count. */
  const retired: StageHandle[] = [];
  /** Raw bytes the retired main stages consumed (the cross-zone flow of the enrichment consumer). */
  const retiredMainBytes = new Map<number, number>();
  const retireMain = (st: StageHandle) => {
    retired.push(st);
    for (const [p, v] of st.consumedBytes) retiredMainBytes.set(p, (retiredMainBytes.get(p) ?? 0) + v);
  };
  let probe: Probe | undefined;
  let logDirs: LogDirsProbe | undefined;
  let driver: OpenLoopDriver | undefined;
  // acks=all: idempotent (the default); acks=1 cannot be (Kafka requires acks=all for idempotence).
  const producer = createProducer(producerKafka, { ...(s.clients.acks === 'all' ? { idempotent: true } : { idempotent: false }), maxInFlightRequests: 5, retry: driverRetry() });
  let producerConnected = false;
  let mainVersion = s.enrichment.version;
  const groupOf = (version: string) => `${runPrefix}.enrich.${version}`;
  let groupId = groupOf(mainVersion);
  const dualVersion = (s.phases.find((p) => p.kind === 'dual-run')?.version ?? (mainVersion === 'v1' ? 'v2' : 'v1')) as 'v1' | 'v2';
  const dualTopic = enrichedTopicFor(names, dualVersion, mainVersion);
  const dualNames = { ...names, dlq: `${names.dlq}.${dualVersion}` };
  // With an enricher-kill fault the main stage runs as a child process (a SIGKILL is only real for a process).
  const stageFor = (generation: number, version: 'v1' | 'v2' = mainVersion, outputTopic = names.enriched): StageHandle =>
    enricherKill && outputTopic === names.enriched
      ? new StageProcess({ brokers: brokersList, security: target.security, prefix: runPrefix, version, delivery: s.enrichment.delivery, scenarioFile: loaded.file, rack: zones.enrichment, generation, log: errorLine })
      : new EnrichmentStage({
      brokers: brokersList, security: target.security, names: outputTopic === names.enriched ? names : dualNames, outputTopic, version, delivery: s.enrichment.delivery, config: s.enrichment,
      groupId: groupOf(version), transactionalId: `${groupOf(version)}.0`, rack: zones.enrichment, generation, log: errorLine,
    });
  let dualStage: StageHandle | undefined;
  let dualProbe: Probe | undefined;
  try {
    const facts = await describeBrokers(admin);
    results.cluster.brokers = facts.map((b) => ({ id: b.nodeId, rack: b.rack }));
    const brokerZone = new Map(facts.map((b) => [b.nodeId, b.rack ?? target.zoneOf(b.nodeId) ?? 'unknown']));
    // What the cluster can do, exercised before any load; a scenario needing what it lacks stops here.
    try {
      log('probing the cluster (transactions, groups, offsets by time, log dirs, configs, rack-aware fetch)');
      results.compatibility = await probeCluster({ brokers: brokersList, security: target.security, kafkaVersion: target.kafkaVersion, connection, log: errorLine });
    } catch (err) {
      if (err instanceof ClickbenchError) throw err;
      results.compatibility = notMeasured(`the probe failed: ${(err as Error).message}`);
    }
    const compat = results.compatibility;
    if (isMeasured(compat)) {
      if (target.profileSource === 'detect') {
        // A tiered cluster costs like apache-kafka for topics that do not use the remote tier.
        const untiered = compat.detectedProfile === 'tiered' && !s.topics.tiered;
        profile = untiered ? 'apache-kafka' : compat.detectedProfile;
        results.cluster.profile = profile;
        results.cluster.profileSource = `detected: ${compat.profileEvidence}${untiered ? ', but this scenario\'s topics are not tiered' : ''}`;
      }
      if (target.kind === 'brokers' && compat.capabilities.find((c) => c.id === 'remote-storage')?.status === 'yes') results.cluster.remoteStorageEnabled = target.remoteStorageEnabled = true;
      const missing = unmet(compat, requirements(s));
      if (missing) {
        throw new ClickbenchError(`the cluster cannot run this scenario: it needs ${missing.id} (${missing.why}), and the probe found none: ${missing.evidence}`, { exitCode: ExitCode.runFailed, hint: missing.fix });
      }
    }
    if (s.topics.replication > facts.length) {
      throw new ClickbenchError(`the scenario asks for replication ${s.topics.replication} but the cluster has ${facts.length} broker(s)`, { exitCode: ExitCode.usage, hint: 'lower topics.replication or add brokers' });
    }
    if (s.topics.tiered && !target.remoteStorageEnabled) {
      throw new ClickbenchError('the scenario asks for tiered topics but the cluster has no remote storage enabled', { exitCode: ExitCode.usage, hint: 'run on `clickbench sandbox up --storage tiered`, or set topics.tiered: false' });
    }

    if (s.calibrate && target.security.tls && !target.security.tls.verify) {
      results.calibration = notMeasured('Kafka\'s Java tools cannot skip certificate verification (--no-tls-verify); give the CA with --ca-file to calibrate');
    } else if (s.calibrate) {
      const t0 = Date.now();
      const c = await runCalibration(admin, { ...calibrationSettings(s, brokersList, 200_000, log), security: target.security });
      results.calibration = await sealCalibration(c, admin, t0);
    }

    // Setup.
    log(`creating topics ${runPrefix}.* (${s.topics.partitions} partitions, RF ${s.topics.replication})`);
    const hasDualRun = phases.some((p) => p.kind === 'dual-run');
    const specs = topicSpecs(names, s, hasDualRun ? [dualTopic, dualNames.dlq] : []);
    await createTopics(admin, specs);
    const createdTopics = specs.map((t) => t.topic);
    await producer.connect();
    producerConnected = true;
    const tablesGen = new ClickstreamGenerator(s, { startMs: 0, idPrefix: runPrefix });
    if (s.topics.history) {
      log(`writing ${(s.topics.history / 1e6).toFixed(0)} MB of retained history into ${names.history}`);
      const h = await writeHistory(producer, names.history, s.topics.partitions, s.topics.history, new ClickstreamGenerator(s, { startMs: 0, idPrefix: `${runPrefix}-history` }));
      results.topics.history = { topic: h.topic, bytes: h.bytes, records: h.records, events: h.events, writeMs: h.ms };
      log(`history: ${(h.bytes / 1e6).toFixed(0)} MB (${h.events} events in ${h.records} records) in ${(h.ms / 1000).toFixed(1)} s`);
    }
    log(`filling lookup tables (${s.population.users} profiles, ${s.population.products} products)`);
    results.enrichment.lookupFill = await fillLookups(producer, names, tablesGen);
    stage = stageFor(0);
    await stage.start();

    const runLatency = new PipelineLatency();
    const phaseLatency = phases.map(() => new PipelineLatency());
    const e2eBySecond = new PerSecondLatency();
    /** e2e of the events seen since the last progress line (the live line's "last second"). */
    const recentE2e = new RecentLatency();
    // The schedule starts now: events carry wall-clock intended times from here (same seed, same pools → same stream).
    const scheduleStart = Date.now() + 500;
    const gen = new ClickstreamGenerator(s, { startMs: scheduleStart, idPrefix: runPrefix, pools: tablesGen.pools });
    const offsetOf = (intendedMs: number) => intendedMs - scheduleStart;
    type ReplayState = ReplayRecord & { generation: number; group: string };
    const replays: ReplayState[] = [];
    const activeReplay = () => replays.find((x) => x.caughtUpAt === undefined);
    /** Schedule offset from which generation g's outputs are live (earlier ones are replayed history). */
    const generationStart: number[] = [0];
    let generation = 0;
    // Dual-run: each event's output from both versions, for the field-by-field diff.
    // The window is known up front, so the main version's outputs are captured from its first event on.
    const dualWindow = phases.find((p) => p.kind === 'dual-run');
    const dual = { startOffset: dualWindow?.startMs ?? -1, endOffset: dualWindow?.endMs ?? Infinity, v1: new Map<number, string>(), v2: new Map<number, string>() };

    probe = new Probe({
      kafka: probeKafka, groupId: `${runPrefix}.probe`, enrichedTopic: names.enriched, dlqTopic: names.dlq, rack: zones.probe, idPrefix: runPrefix,
      onEnriched: (seq, value, intendedMs) => {
        if (dual.startOffset >= 0 && intendedMs !== null && intendedMs - scheduleStart >= dual.startOffset && intendedMs - scheduleStart < dual.endOffset && !dual.v1.has(seq)) dual.v1.set(seq, value);
      },
      onSample: (sample) => {
        if (sample.intendedMs === null) return;
        const offset = offsetOf(sample.intendedMs);
        // Live latency only: a replay's re-enriched history is not live traffic.
        if (sample.generation > 0 && offset < (generationStart[sample.generation] ?? 0)) return;
        const p = phaseAt(phases, offset);
        const e2e = sample.seenMs - sample.intendedMs;
        record(phaseLatency[p.index].e2e, e2e);
        for (const f of faultRunner?.faults ?? []) if (inFaultWindow(f, sample.intendedMs)) record(f.latency.e2e, e2e);
        elasticRunner?.record('e2e', sample.intendedMs, e2e);
        if (p.scored) record(runLatency.e2e, e2e);
        e2eBySecond.recordAt(Math.floor(offset / 1000), e2e);
        recentE2e.add(e2e);
        if (sample.enrichMs !== null) {
          record(phaseLatency[p.index].enrich, sample.enrichMs);
          if (p.scored) record(runLatency.enrich, sample.enrichMs);
          for (const f of faultRunner?.faults ?? []) if (inFaultWindow(f, sample.intendedMs)) record(f.latency.enrich, sample.enrichMs);
          elasticRunner?.record('enrich', sample.intendedMs, sample.enrichMs);
        }
      },
    });
    await probe.start();

    if (phases.some((p) => p.elastic)) {
      elasticRunner = new ElasticRunner({
        sandbox: target.sandbox, zoneOf: target.zoneOf, admin, brokers: brokersList, security: target.security, topics: () => createdTopics, runPrefix, remoteStorageDir: target.remoteStorageDir, offsetOf, log,
        net: async () => (ledger ? ledger.sample().then(() => ledger.snapshot() as Map<string, unknown>).catch(() => undefined) : undefined),
        replicationInto: (a, b, f) => NetLedger.replicationInto(a as never, b as never, f),
        loadRunning: () => loadRunning,
        shape: { recordBytes: averageEventBytes(s), partitions: s.topics.partitions, replication: s.topics.replication, minInsyncReplicas: s.topics.min_insync_replicas },
      }, phases);
    }
    const ackTimeline = faultSpecs.size ? new AckTimeline() : undefined;
    if (faultSpecs.size) {
      faultRunner = new FaultRunner({
        sandbox: target.sandbox, admin, runPrefix, rawTopic: names.raw, log, offsetOf,
        topicOf: (role) => (role === 'raw' ? names.raw : role === 'enriched' ? names.enriched : names.dlq),
        enricher: {
          kill: async () => {
            const st = stage as StageProcess;
            await st.kill();
            retireMain(st);
            stage = undefined;
          },
          restart: async () => {
            const st = stageFor(generation);
            await st.start();
            stage = st;
          },
        },
      }, phases, faultSpecs);
    }
    const leaders = new LeaderMap(admin, () => [names.raw, ...Object.values(names.lookups)]);
    await leaders.refresh();
    driver = new OpenLoopDriver({
      leaderOf: (topic, partition) => leaders.get(topic, partition), onLeadersStale: () => void leaders.refresh(),
      producer, names, gen, startMs: scheduleStart, durationMs: s.duration, partitions: s.topics.partitions, lookupPartitions: Math.min(6, s.topics.partitions),
      onAck: ({ events, ackMs }) => {
        const open = faultRunner?.faults.filter((f) => f.injectedAt !== undefined) ?? [];
        for (const e of events) {
          const p = phaseAt(phases, e.intendedMs - scheduleStart);
          const ms = ackMs - e.intendedMs;
          record(phaseLatency[p.index].produceAck, ms);
          if (p.scored) record(runLatency.produceAck, ms);
          for (const f of open) if (inFaultWindow(f, e.intendedMs)) record(f.latency.produceAck, ms);
          elasticRunner?.record('produceAck', e.intendedMs, ms);
        }
      },
      onPartitionAck: (partition, ackMs) => ackTimeline?.ack(partition, ackMs),
      onAttemptFailed: (code) => {
        for (const f of faultRunner?.faults ?? []) if (f.open) f.produceErrors[code] = (f.produceErrors[code] ?? 0) + 1;
      },
      acks: s.clients.acks === 'all' ? -1 : 1,
      clientId: `clickbench-run-${opts.runId}-producer`,
      costPerEventUs: Number(process.env.CLICKBENCH_TEST_SLOW_SERIALIZER_US) || undefined,
      deliveryTimeoutMs: s.clients.delivery_timeout,
      lingerMs: s.clients.linger,
      onError: (err, n) => errorLine(`produce failed for ${n} events after retrying for up to ${s.clients.delivery_timeout / 1000} s: ${err.message}`),
    });

    logDirs = new LogDirsProbe(brokersList, 'clickbench-logdirs', target.security);
    const runTopics = async () => {
      const md = await admin.fetchTopicMetadata({ topics: createdTopics });
      return md.topics;
    };
    const topicList = (await runTopics()).filter((t) => t.name !== names.history).map((t) => ({ name: t.name, partitions: t.partitions.map((p) => p.partitionId) }));
    const diskAt = async (offsetMs: number) => {
      try {
        const { sample } = await sampleDisk(logDirs!, topicList, offsetMs);
        results.series.disk.push(sample);
        return sample;
      } catch (err) {
        errorLine(`DescribeLogDirs failed: ${(err as Error).message}`);
        return undefined;
      }
    };
    // Sandbox: the kernel's per-connection counters measure what the cross-zone model predicts.
    const sb = target.sandbox;
    const ledger = sb
      ? new NetLedger({
          // A secured sandbox: clients reach the nodes on their SASL_SSL ports (TLS framing counted too), replication stays on PLAINTEXT.
          nodes: () => sb.state.nodes.flatMap((n) => [n.port, ...(n.securePort ? [n.securePort] : [])].map((port) => ({ id: n.id, zone: n.zone, port, pid: n.pid }))),
          labelOf: (port, pid) => (pid === process.pid ? socketLabels.get(port) : pid !== null && stageProcessPids().includes(pid) ? 'enrichment' : undefined),
          zoneOfLabel: (label) => ({ producer: zones.producer, admin: zones.producer, probe: zones.probe, enrichment: zones.enrichment } as Record<string, string>)[label],
        })
      : undefined;
    const stageProcessPids = () => [stage, ...retired].flatMap((x) => (x instanceof StageProcess && x.pid() ? [x.pid()!] : []));
    const snapshot = async (offsetMs: number): Promise<Snapshot> => ({
      net: ledger ? await ledger.sample().then(() => ledger.snapshot()).catch(() => undefined) : undefined,
      offsetMs,
      driverBytes: copyNested(driver!.bytesByTopic),
      stageBytes: mergeFlat(retiredMainBytes, stage?.consumedBytes ?? new Map()),
      probeBytes: mergeNested(copyNested(probe!.bytesByTopic), dualProbe ? copyNested(dualProbe.bytesByTopic) : new Map()),
      dualBytes: new Map(dualStage?.consumedBytes ?? []),
      disk: await diskAt(offsetMs),
      cost: { atMs: Date.now(), requests: copyCounts(requestCounts), brokerCpu: sb ? readBrokerCpu(sb.state.nodes) : {}, selfCpuSeconds: selfCpuSeconds() },
      host: readHostCpu(),
    });
    const placements = async (): Promise<PartitionPlacement[]> =>
      (await runTopics()).flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr })));
    const crossZoneBetween = async (a: Snapshot, b: Snapshot): Promise<CrossZoneResult> => {
      const produced = diffNested(a.driverBytes, b.driverBytes);
      const probed = diffNested(a.probeBytes, b.probeBytes);
      const flows: ClientFlow[] = [];
      for (const [topic, parts] of produced) {
        flows.push({ client: 'producer', zone: zones.producer, kind: 'produce', topic, bytesByPartition: parts });
        if (topic !== names.raw) flows.push({ client: 'enrichment tables', zone: zones.enrichment, kind: 'consume', topic, bytesByPartition: parts });
      }
      flows.push({ client: 'enrichment', zone: zones.enrichment, kind: 'consume', topic: names.raw, bytesByPartition: diffFlat(a.stageBytes, b.stageBytes) });
      if (b.dualBytes.size > 0) flows.push({ client: 'enrichment (dual-run)', zone: zones.enrichment, kind: 'consume', topic: names.raw, bytesByPartition: diffFlat(a.dualBytes, b.dualBytes) });
      for (const [topic, parts] of probed) {
        flows.push({ client: 'enrichment', zone: zones.enrichment, kind: 'produce', topic, bytesByPartition: parts });
        flows.push({ client: 'probe', zone: zones.probe, kind: 'consume', topic, bytesByPartition: parts });
      }
      return crossZoneBytes({ profile, placements: await placements(), brokerZone, flows, pricePerGb: s.price.cross_zone_per_gb });
    };

    const costOf = (a: Snapshot, b: Snapshot, acked: number): PhaseCost | NotMeasured => {
      const c = phaseCost(a.cost, b.cost, acked);
      if (!sb) return { ...c, brokerCpuSeconds: 0, brokerCpuByBroker: {}, brokerCpuSecondsPer1000Events: null, method: `${c.method}; broker CPU not measured: the brokers are not processes on this machine` } as PhaseCost;
      return c;
    };
    const hostOf = (a: Snapshot, b: Snapshot): HostCpu | NotMeasured => {
      const h = a.host && b.host ? hostCpuBetween(a.host, b.host) : null;
      return h ?? notMeasured(a.host ? 'no time passed between the readings' : '/proc/stat is not readable here (not Linux)');
    };
    const first = await snapshot(0);
    const phaseStarts: Snapshot[] = [first];
    const lagMax = phases.map(() => 0);
    const lagEnd = phases.map(() => 0);
    let currentPhase = 0;
    let lastProgress = 0;
    let sampling = false;
    let finished = false;
    let lastPoll = 0;
    let lastNet = 0;
    let lastLag = 0;
    let underReplicated = 0;

    /** Replay (same version) or rollback (to `w.version`, v1 by default): reset that version's group to `lookback` ago and catch up as a new generation. */
    const beginReplay = async (w: PhaseWindow) => {
      const lookback = w.lookbackMs ?? 60_000;
      const version = w.kind === 'rollback' ? ((w.version ?? 'v1') as 'v1' | 'v2') : mainVersion;
      if (w.kind === 'rollback' && dualStage) {
        await dualStage.stop();
        retired.push(dualStage);
        dualStage = undefined;
      }
      log(`${w.kind}: resetting ${groupOf(version)} to ${lookback / 1000} s ago${w.kind === 'rollback' ? ` (${mainVersion === version ? 'v2' : mainVersion} → ${version})` : ''} and catching up while live traffic continues`);
      await stage!.stop();
      retireMain(stage!);
      stage = undefined;
      const ts = Date.now() - lookback;
      const byTime = await admin.fetchTopicOffsetsByTimestamp(names.raw, ts);
      const ends = await admin.fetchTopicOffsets(names.raw);
      const committed = await admin.fetchOffsets({ groupId: groupOf(version), topics: [names.raw] });
      const reset = replayResetOffsets(
        new Map(byTime.map((p) => [p.partition, Number(p.offset)])),
        new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)])),
      );
      const resetOffsets = reset.offsets;
      const endAtReset = new Map(ends.map((p) => [p.partition, Number(p.high)]));
      if (reset.behindPartitions > 0) log(`${w.kind}: the group was already more than ${lookback / 1000} s behind on ${reset.behindPartitions} partition(s) (${reset.behindRecords} records): it restarts from its committed offsets there, so nothing is skipped`);
      mainVersion = version;
      groupId = groupOf(version);
      await admin.setOffsets({ groupId, topic: names.raw, partitions: [...resetOffsets].map(([partition, offset]) => ({ partition, offset: String(offset) })) });
      generation++;
      generationStart[generation] = w.startMs;
      replays.push({ window: w, startedAt: Date.now(), resetOffsets, endAtReset, lagCurve: [], generation, group: groupId, reset });
      stage = stageFor(generation, version);
      await stage.start();
    };

    /** Dual-run: the other version beside the main one, from now on, into its own topic. */
    const beginDualRun = async (w: PhaseWindow) => {
      log(`dual-run: ${dualVersion} beside ${mainVersion}, writing ${dualTopic}`);
      // The other version starts at the live end of the raw topic, as a new deployment would, with
      // empty in-memory state (sessions, touches, velocity); its own output and DLQ topics.
      const group = groupOf(dualVersion);
      const now = await admin.fetchTopicOffsets(names.raw);
      await admin.setOffsets({ groupId: group, topic: names.raw, partitions: now.map((p) => ({ partition: p.partition, offset: p.high })) });
      dualStage = stageFor(0, dualVersion, dualTopic);
      await dualStage.start();
      dualProbe = new Probe({
        kafka: probeKafka, groupId: `${runPrefix}.probe.${dualVersion}`, enrichedTopic: dualTopic, dlqTopic: dualNames.dlq, rack: zones.probe, idPrefix: runPrefix,
        onEnriched: (seq, value, intendedMs) => {
          const offset = intendedMs === null ? -1 : intendedMs - scheduleStart;
          if (offset >= dual.startOffset && offset < dual.endOffset && !dual.v2.has(seq)) dual.v2.set(seq, value);
        },
        onSample: () => {},
      });
      await dualProbe.start();
    };
    const endDualRun = async () => {
      if (!dualStage) return;
      await dualStage.stop();
      retired.push(dualStage);
      dualStage = undefined;
      await dualProbe?.stop();
    };

    const sampleLoop = async () => {
      if (sampling) return;
      sampling = true;
      try {
        const offset = Date.now() - scheduleStart;
        // Lag once a second (each reading is a ListOffsets and an OffsetFetch round), every tick while a
        // replay catches up (its duration is read from these).
        const lagDue = activeReplay() !== undefined || Date.now() - lastLag >= 1_000;
        if (lagDue) lastLag = Date.now();
        const l = lagDue ? await sampleLag(admin, groupId, names.raw).catch(() => undefined) : undefined;
        if (l) {
          const sample: LagSample = { offsetMs: offset, lag: l.lag, endOffset: l.endOffset };
          results.series.lag.push(sample);
          const p = phaseAt(phases, Math.max(0, offset));
          lagMax[p.index] = Math.max(lagMax[p.index], l.lag);
          lagEnd[p.index] = l.lag;
          const rp = activeReplay();
          if (rp) {
            rp.lagCurve.push({ offsetMs: offset, lag: l.lag });
            const committed = await admin.fetchOffsets({ groupId: rp.group, topics: [names.raw] }).catch(() => undefined);
            const c = new Map(committed?.[0]?.partitions.map((x) => [x.partition, Number(x.offset)]) ?? []);
            if ([...rp.endAtReset].every(([p2, end]) => (c.get(p2) ?? 0) >= end)) rp.caughtUpAt = Date.now();
          }
        }
        if (results.series.disk.length === 0 || offset - results.series.disk[results.series.disk.length - 1].offsetMs >= 5_000) await diskAt(offset);
        if (ledger && Date.now() - lastNet >= 1_000) {
          lastNet = Date.now();
          await ledger.sample().catch(() => {});
        }
        if (faultRunner && Date.now() - lastPoll >= 1_000) {
          lastPoll = Date.now();
          const polled = await faultRunner.poll();
          if (polled) underReplicated = polled.underReplicated;
        }
        const sec = Math.floor(offset / 1000) - 1;
        if (opts.progress && Date.now() - lastProgress >= 1_000 && !finished) {
          lastProgress = Date.now();
          const p = phaseAt(phases, Math.max(0, offset));
          const target = driver!.intended.values[sec] ?? 0;
          const acked = driver!.acked.values[sec] ?? 0;
          const p99 = recentE2e.takeP99();
          const lagNow = l?.lag ?? results.series.lag[results.series.lag.length - 1]?.lag;
          opts.progress(`${p.name} ${(Math.min(offset, s.duration) / 1000).toFixed(0)}/${s.duration / 1000}s · ${acked}/${target} ev/s · e2e p99 ${p99 ?? '–'} ms · lag ${lagNow ?? '?'}${activeReplay() ? ' · replaying' : ''}${dualStage ? ` · dual-run ${dualVersion}` : ''}${driver!.queueDepth > 1000 ? ` · behind by ${driver!.queueDepth} events` : ''}${elasticRunner ? elasticRunner.status() : ''}${faultRunner ? `${faultRunner.status()}${underReplicated ? ` · ${underReplicated} under-replicated` : ''}` : ''}`);
        }
      } finally {
        sampling = false;
      }
    };

    // How each phase starts, by the part of `run` that carries it out (src/phases/registry.ts). Load phases
    // only change the curve the driver already follows; fault and elastic runners act on their own
    // phase windows from tick(). Leaving a dual-run phase stops the other version.
    const beginPhase: Record<PhaseRunner, (w: PhaseWindow) => Promise<void>> = {
      load: async () => {},
      replay: beginReplay,
      'dual-run': async (w) => (dualStage ? undefined : beginDualRun(w)),
      fault: async () => {},
      elastic: async () => {},
    };

    const ticker = setInterval(() => void sampleLoop().catch((e) => errorLine(String(e))), 250);
    const phaseWatcher = (async () => {
      while (!finished && !signal.aborted) {
        const offset = Date.now() - scheduleStart;
        while (currentPhase < phases.length - 1 && offset >= phases[currentPhase].endMs) {
          currentPhase++;
          phaseStarts[currentPhase] = await snapshot(phases[currentPhase].startMs);
          const runner = PHASES[phases[currentPhase].kind].runner;
          if (runner !== 'dual-run') await endDualRun();
          await beginPhase[runner](phases[currentPhase]);
        }
        faultRunner?.tick(offset);
        elasticRunner?.tick(offset);
        await sleep(50);
      }
    })();

    health = new ClientHealth({ secondOf: (ms) => Math.floor((ms - scheduleStart) / 1000), queueDepth: () => driver!.queueDepth });
    health.start();
    log(`running ${s.duration / 1000} s of traffic (${phases.map((p) => p.name).join(' → ')})`);
    await driver.run(() => {
      if (signal.aborted) driver!.abandon();
      return signal.aborted;
    });
    loadRunning = false;
    if (elasticRunner) {
      // A reassignment still running finishes before the read-back (bounded).
      await elasticRunner.finish(signal.aborted ? 5_000 : 5 * 60_000);
      results.elasticity = elasticRunner.results;
    }
    if (faultRunner) {
      // Anything still down comes back now; then give the cluster a moment to heal (ISR whole).
      await faultRunner.restoreAll();
      const healDeadline = Date.now() + (signal.aborted ? 5_000 : 60_000);
      while (faultRunner.faults.some((f) => f.open) && Date.now() < healDeadline) {
        await faultRunner.poll();
        await sleep(500);
      }
    }
    // Drain: wait until the probe saw every acknowledged event, or it stops arriving.
    // (Also after Ctrl-C, for a shorter while: what was acknowledged is still accounted for.)
    // Counted as the union over generations (a replay re-sees events; summing generations ended the drain early).
    // At most 30 s (10 s after Ctrl-C), as before: a rollback's stage may still be loading its tables, so
    // no early stop on a quiet probe (10 s of quiet ended it during such a load); what is still unseen
    // then counts as timed out below.
    const drainStart = Date.now();
    const drainCap = signal.aborted ? 10_000 : 30_000;
    while (Date.now() - drainStart < drainCap) {
      if (unseenAcked(driver, probe).length === 0) break;
      await sleep(500);
    }
    finished = true;
    clearInterval(ticker);
    await phaseWatcher;
    while (sampling) await sleep(20);
    const endOffset = Math.min(Date.now() - scheduleStart, s.duration);
    // The run is over: stop the stages (a replay may still be re-writing history) so the final
    // disk sample and byte counts hold everything written, then let the probe read the rest.
    if (stage) {
      await stage.stop();
      retireMain(stage);
    }
    if (dualStage) {
      await dualStage.stop();
      retired.push(dualStage);
    }
    stage = undefined;
    dualStage = undefined;
    await dualProbe?.stop();
    const quietSince = Date.now();
    while (Date.now() - Math.max(probe.lastSeenMs, quietSince) < 1_000 && Date.now() - quietSince < 15_000) await sleep(100);
    const last = await snapshot(endOffset);
    // Events acknowledged but never seen downstream: recorded at the time waited for them (a lower bound),
    // so the tail shows them instead of losing them; counted as timed out (and missing).
    const waitedUntil = Date.now();
    const timedOut = unseenAcked(driver, probe);
    for (const seq of timedOut) {
      const offset = driver.intendedOffsetOfSeq(seq);
      const p = phaseAt(phases, offset);
      const e2e = waitedUntil - (scheduleStart + offset);
      record(phaseLatency[p.index].e2e, e2e);
      if (p.scored) record(runLatency.e2e, e2e);
    }

    // Phases.
    const ranPhases = phases.slice(0, currentPhase + 1);
    for (const w of ranPhases) {
      const a = phaseStarts[w.index];
      const b = w.index + 1 < ranPhases.length ? phaseStarts[w.index + 1] : last;
      const firstSec = Math.floor(w.startMs / 1000);
      const lastSec = Math.ceil(w.endMs / 1000);
      let intended = 0;
      let acked = 0;
      for (let sec = firstSec; sec < lastSec; sec++) {
        intended += driver.intended.values[sec] ?? 0;
        acked += driver.acked.values[sec] ?? 0;
      }
      const pr: PhaseResult = {
        name: w.name, kind: w.kind, scored: w.scored, startOffsetMs: w.startMs, endOffsetMs: w.endMs,
        events: { intended, acked },
        achievedRatio: intended > 0 ? acked / intended : null,
        latency: phaseLatency[w.index].summary(),
        disk: a.disk && b.disk ? { startBytes: a.disk.totalBytes, endBytes: b.disk.totalBytes, growthBytes: b.disk.totalBytes - a.disk.totalBytes } : notMeasured('DescribeLogDirs gave no sample at this phase boundary'),
        crossZoneMeasured: ledger && b.net ? withModel(ledger.summarize(a.net, b.net), await crossZoneBetween(a, b).catch(() => undefined)) : notMeasured(ledger ? 'no counter reading at this phase boundary' : 'kernel counters are read on the sandbox only (the brokers are not on this machine)'),
        crossZone: await crossZoneBetween(a, b).catch((e) => notMeasured(`topology unavailable: ${(e as Error).message}`)),
        lag: { maxRecords: lagMax[w.index], endRecords: lagEnd[w.index] },
        cost: costOf(a, b, acked),
        host: hostOf(a, b),
      };
      results.phases.push(pr);
    }

    results.cost = costOf(first, last, driver.stats.acked);
    results.host = hostOf(first, last);

    // Per-second series.
    const seconds = Math.max(driver.intended.values.length, Math.ceil(endOffset / 1000));
    for (let sec = 0; sec < seconds; sec++) {
      const lagAt = results.series.lag.filter((l) => Math.floor(l.offsetMs / 1000) === sec).pop();
      results.series.perSecond.push({ second: sec, intended: driver.intended.values[sec] ?? 0, sent: driver.sent.values[sec] ?? 0, acked: driver.acked.values[sec] ?? 0, e2eP99Ms: e2eBySecond.p99(sec), lag: lagAt?.lag ?? null });
    }
    results.latency = runLatency.summary();
    const hs = health.stop();
    health = undefined;
    const ceiling = isMeasured(results.calibration) ? results.calibration.produce.recordsPerSec : undefined;
    const peakAcked = Math.max(0, ...driver.acked.values.slice(1, Math.floor(endOffset / 1000)));
    results.client = {
      ...hs,
      bottleneck: bottleneck({ intended: driver.intended.values, acked: driver.acked.values, sent: driver.sent.values, health: hs.samples, generationLagMs: driver.generationLagMs.values, queueDepth: driver.queueDepthMax.values, produceP99Ms: results.latency.produceAck?.p99Ms ?? null, ceilingRecordsPerSec: ceiling }),
      calibratedShare: ceiling ? { peakAckedPerSec: peakAcked, ceilingRecordsPerSec: ceiling, share: peakAcked / ceiling } : notMeasured('no calibration in this run (calibrate: true)'),
    };

    // Throughput.
    const st = driver.stats;
    let short = 0;
    for (let sec = 1; sec < Math.floor(endOffset / 1000); sec++) {
      const want = driver.intended.values[sec] ?? 0;
      if (want > 0 && (driver.acked.values[sec] ?? 0) < want * 0.95) short++;
    }
    const achievedRatio = st.generated > 0 ? st.acked / st.generated : 0;
    // Seconds that acknowledged well over their intended count right after seconds that fell short: the
    // driver catching up (after a slow start or a stall), not traffic the scenario asked for.
    const catchUp = catchUpSeconds(driver.intended.values, driver.acked.values, Math.floor(endOffset / 1000));
    results.throughput = {
      intendedEvents: st.generated, sentEvents: st.sent, ackedEvents: st.acked, failedEvents: st.failed, achievedRatio, shortSeconds: short,
      maxScheduleLagMs: st.maxScheduleLagMs, maxQueueDepth: st.maxQueueDepth, payloadBytes: st.payloadBytes, averageEventBytes: st.acked ? st.payloadBytes / st.acked : 0,
      verdict: [
        isMeasured(results.client) && results.client.bottleneck.side !== 'none' ? results.client.bottleneck.verdict : short > 0 ? `${short} second(s) acknowledged less than 95 % of the intended rate` : 'kept up with the schedule',
        catchUp.length ? `second(s) ${catchUp.slice(0, 6).join(', ')}${catchUp.length > 6 ? ', …' : ''} acknowledged more than intended: the driver catching up with events that were late, not a burst` : '',
        st.maxScheduleLagMs > 1_000 ? `the producer fell behind the schedule by up to ${(st.maxScheduleLagMs / 1000).toFixed(1)} s (max ${st.maxQueueDepth} events queued); latencies include that wait` : '',
      ].filter(Boolean).join('; '),
    };

    // Replay.
    const replayRun = replays.find((x) => x.window.kind === 'replay');
    if (replayRun) results.replay = replayResult(replayRun, results.phases, s.topics.tiered);
    const rollbackRun = replays.find((x) => x.window.kind === 'rollback');
    if (rollbackRun) results.rollback = { ...replayResult(rollbackRun, results.phases, s.topics.tiered), toVersion: (rollbackRun.window.version ?? 'v1') as string };
    if (dual.startOffset >= 0) results.dualRun = diffDualRun(dual.v1, dual.v2, dualVersion, s.enrichment.version);

    // Disk.
    const startDisk = first.disk;
    const endDisk = last.disk;
    if (startDisk && endDisk) {
      const groundTruth = target.kind === 'sandbox' && target.sandbox
        ? (() => {
            // The nodes as they are now (a scale-out added some, a scale-in removed some); history is not part of the figure.
            const bytes = sandboxLogBytes(target.sandbox!.state.nodes.map((n) => n.logDir), runPrefix, [names.history]);
            return { measured: true as const, method: 'sum of the .log segment files of the run\'s topics under the sandbox log dirs', bytes, diffPct: bytes > 0 ? ((endDisk.totalBytes - bytes) / bytes) * 100 : 0 };
          })()
        : notMeasured('the cluster\'s log dirs are not on this machine');
      const tiered = s.topics.tiered && target.remoteStorageDir
        ? { measured: true as const, remoteBytes: sandboxLogBytes([target.remoteStorageDir], runPrefix, [names.history]), localBytes: endDisk.totalBytes }
        : notMeasured(s.topics.tiered ? 'remote tier size is only read on the sandbox (its remote directory)' : 'the run\'s topics are not tiered');
      results.disk = diskResult({
        start: startDisk, end: endDisk, ingestedBytes: st.payloadBytes, elapsedMs: endOffset, peakEventsPerSec: Math.max(0, ...driver.acked.values),
        averageEventBytes: results.throughput.averageEventBytes || 0, retentionMs: s.topics.retention, replication: s.topics.replication, groundTruth, tiered,
      });
    }
    const total = await crossZoneBetween(first, last).catch((e) => notMeasured(`topology unavailable: ${(e as Error).message}`));
    if ('modelled' in total) {
      results.crossZone = {
        measured: true, total, formula: CROSS_ZONE_FORMULA,
        measuredBytes: ledger && last.net ? withModel(ledger.summarize(first.net, last.net), total) : notMeasured(ledger ? 'no counter reading at the run\'s end' : 'kernel counters are read on the sandbox only (the brokers are not on this machine)'),
        assumptions: PROFILE_ASSUMPTIONS[profile], brokerZones: Object.fromEntries([...brokerZone].map(([k, v]) => [String(k), v])) };
    } else results.crossZone = total;

    // Accounting: every acknowledged event with an id must be in the sink or the DLQ (in some generation).
    const expected = driver.ackedSeqs.size - driver.missingIdAcked;
    const seenUnion = seenInSink(st.generated, (seq) => driver!.ackedSeqs.get(seq) > 0, [...probe.seen.values()]);
    results.correctness = {
      ackedEvents: st.acked, expectedInSink: expected, seenDistinct: seenUnion, missing: Math.max(0, expected - seenUnion),
      duplicates: probe.stats.duplicates, piiLeaks: probe.stats.piiLeaks, unpseudonymized: probe.stats.unpseudonymized, checkedWithoutConsent: probe.stats.checkedWithoutConsent,
      badRecordsAcked: st.bad, dlqRecords: probe.stats.dlq, timedOut: timedOut.length,
    };
    results.errors.produceErrors = st.errors;
    results.errors.produceFailedEvents = st.failed;
    results.errors.produceRetries = st.retries + Object.values(produceRetries).reduce((a, b) => a + b, 0);
    results.errors.byCode = { ...driver.errorsByCode, ...Object.fromEntries(Object.entries(produceRetries).map(([k, v]) => [`client retry: ${k}`, v])) };

    elasticRunner?.sealLatency(); // again, now that the probe consumer has seen the events of the move windows
    // Faults and the full accounting: every acknowledged id looked up in the raw topic too.
    if (faultRunner) {
      for (const f of faultRunner.faults) {
        const idx = f.window.index;
        const before = results.phases.slice(0, idx).reverse().find((p) => p.scored);
        results.faults.push(faultResult(f, {
          offsetOf, acks: ackTimeline!, partitions: s.topics.partitions, endMs: Date.now(), lag: results.series.lag,
          baseline: before ? { name: before.name, startMs: before.startOffsetMs, endMs: before.endOffsetMs, latency: before.latency } : undefined,
        }));
      }
    }
    if (faultRunner || elasticRunner) {
      log('accounting: reading the raw topic back to check every acknowledged event');
      const back = await readBackSeqs(kafka, admin, names.raw, runPrefix);
      const { checked, lost, rawDuplicates, lostByPartition } = rawAccounting(st.generated, (seq) => driver!.ackedSeqs.get(seq) > 0, (seq) => driver!.partitionOfSeq(seq), back.seqs);
      results.accounting = {
        measured: true,
        method: `every event id the producer saw acknowledged (${checked}) looked up in the raw topic read back from its start (${back.records} records${back.complete ? '' : `, INCOMPLETE: ${back.problem ?? 'the read timed out'}`}) and in the enriched sink + DLQ as the probe saw them (read_committed)`,
        rawRecordsRead: back.records, ackedChecked: checked, ackedLost: lost, lostByPartition, rawDuplicates,
        sinkMissing: results.correctness.missing, sinkDuplicates: results.correctness.duplicates,
      };
    }
    results.run.status = signal.aborted ? 'interrupted' : 'completed';
  } catch (err) {
    await faultRunner?.restoreAll().catch(() => {});
    results.run.status = signal.aborted ? 'interrupted' : 'failed';
    results.run.error = (err as Error).message;
    throw err;
  } finally {
    const all = [...retired, ...(stage ? [stage] : []), ...(dualStage ? [dualStage] : [])];
    if (all.length) {
      results.enrichment.counters = all.map((x) => x.counters).reduce((a, b) => addCounters(a, b));
      const sum = (f: (x: StageHandle) => number) => all.reduce((a, x) => a + f(x), 0);
      results.enrichment.batches = sum((x) => x.batches);
      results.enrichment.transactionsAborted = sum((x) => x.transactionsAborted);
      results.enrichment.concurrentTransactionRetries = sum((x) => x.concurrentTransactionRetries);
      results.enrichment.groupJoins = sum((x) => x.groupJoins);
      results.enrichment.redeliveredSkipped = sum((x) => x.redeliveredSkipped);
      results.enrichment.commitsConfirmedAfterError = sum((x) => x.commitsConfirmedAfterError);
      results.enrichment.tableFallbacks = sum((x) => x.tableFallbacks);
      results.enrichment.consumerRestarts = sum((x) => x.consumerRestarts);
      results.enrichment.producerReplacements = sum((x) => x.producerReplacements);
    }
    health?.stop();
    await faultRunner?.restoreAll().catch(() => {});
    results.errors.repeated = Object.fromEntries(Object.entries(repeated).filter(([, n]) => n > 1));
    results.errors.transient = Object.fromEntries(Object.entries(transientAnswers).map(([k, n]) => [k, n - (transientAtStart[k] ?? 0)]).filter(([, n]) => (n as number) > 0));
    // Teardown never hangs the run: each step gets a bound, and a step that overruns is named in the results.
    const step = (what: string, p: Promise<unknown> | undefined) => boundedStep(what, p, TEARDOWN_STEP_MS, (l) => errorLine(l));
    await step('stopping the enrichment stage', stage?.stop());
    await step('stopping the dual-run stage', dualStage?.stop());
    await step('stopping the dual-run probe', dualProbe?.stop());
    await step('stopping the probe', probe?.stop());
    await step('closing the log-dir client', logDirs?.close());
    if (producerConnected) await step('disconnecting the producer', producer.disconnect());
    if (!opts.keepTopics) {
      const deleted = await Promise.race([deleteTopicsWithPrefix(admin, runPrefix).catch(() => []), sleep(TEARDOWN_STEP_MS).then(() => [] as string[])]);
      results.topics.deleted = deleted.length > 0;
    }
    await step('disconnecting the admin client', admin.disconnect());
    const ended = new Date();
    results.run.endedAt = ended.toISOString();
    results.run.durationMs = ended.getTime() - startedAt.getTime();
    writeResults(results, opts.reportsDir);
  }
  return results;
}

/** Longest a teardown step (stopping a stage, a probe, a client) may take before the run moves on. */
export const TEARDOWN_STEP_MS = 30_000;

/** Await `p` for at most `ms`; an overrun is logged (one line naming the step), an error ignored as before (teardown is best effort). */
export async function boundedStep(what: string, p: Promise<unknown> | undefined, ms: number, log: (line: string) => void): Promise<void> {
  if (!p) return;
  let timer: NodeJS.Timeout | undefined;
  const overrun = new Promise<'overrun'>((r) => { timer = setTimeout(() => r('overrun'), ms); });
  const outcome = await Promise.race([p.then(() => 'done' as const, (e: Error) => e), overrun]);
  clearTimeout(timer);
  if (outcome === 'overrun') log(`teardown: ${what} did not finish within ${ms / 1000} s; moving on`);
}


/** Acknowledged events with an id that no generation of the probe has seen yet (their sequence numbers). */
function unseenAcked(driver: OpenLoopDriver, probe: Probe): number[] {
  const sets = [...probe.seen.values()];
  const out: number[] = [];
  for (let seq = 0; seq < driver.stats.generated; seq++) {
    if (driver.ackedSeqs.get(seq) === 0 || driver.partitionOfSeq(seq) < 0) continue;
    if (!sets.some((c) => c.get(seq) > 0)) out.push(seq);
  }
  return out;
}




