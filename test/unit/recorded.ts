/** Recorded results and the pieces tests add to them (a fault, a scale-out), shared by the scoring tests. */
import { readFileSync } from 'node:fs';
import type { FaultResult, Results } from '../../src/run/results.js';
import type { Headroom, HeadroomProbe } from '../../src/elastic/headroom.js';
import { checkBadRecords, retentionCheck } from '../../src/observe/contract.js';
import type { FlowLogRow } from '../../src/observe/flowlog.js';
import { withFlowLog } from '../../src/score/crosszone-source.js';
import type { CapabilityId, CapabilityStatus, ProbeResult } from '../../src/probe/probe.js';
import { describeSecurity } from '../../src/kafka/security.js';

/** A results.json recorded from a real 25 s sandbox run (warmup, steady, burst, replay; owners set; schema 1). */
export const recorded = (): Results => JSON.parse(readFileSync('test/fixtures/results-recorded.json', 'utf8'));

export const faultResult = (over: Partial<FaultResult> = {}): FaultResult => ({
  phase: 'leader-kill', action: 'broker-kill', target: 'node 1', nodes: [1], wiped: false, injectedAtOffsetMs: 20_000, restoredAtOffsetMs: 35_000, downForMs: 15_000, error: null, commands: [],
  writeUnavailability: { measured: true, affectedPartitions: 12, perPartition: [], maxMs: 9_800, p50Ms: 8_900, p99Ms: 9_800, method: 'm' },
  produceErrors: {}, clientRetries: {},
  latency: { baselinePhase: 'steady', before: { produceAck: null, enrich: null, e2e: null }, during: { produceAck: null, enrich: null, e2e: null } },
  recovery: { leaderElections: 4, underReplicatedMax: 12, leadersMovedAtOffsetMs: 29_600, leadersMovedMs: 9_600, isrRestoredAtOffsetMs: 36_000, isrRestoreMs: 1_000, lag: { steadyRecords: 300, peakRecords: 9_000, peakAtOffsetMs: 30_000, thresholdRecords: 450, drainedAtOffsetMs: 50_000, drainMs: 30_000 }, milestones: [] },
  ...over,
});

export const accountingResult = (ackedLost: number, sinkDuplicates = 0) => ({ measured: true as const, method: 'm', rawRecordsRead: 10, ackedChecked: 10, ackedLost, lostByPartition: {}, rawDuplicates: 0, sinkMissing: 0, sinkDuplicates });

const probe = (when: 'before' | 'after', rate: number | null): HeadroomProbe => ({ when, startedAtOffsetMs: when === 'before' ? 30_000 : 60_000, durationMs: 12_000, brokers: when === 'before' ? 3 : 4, underLiveLoad: true, steps: [], sustainableRate: rate, atMax: false, firstFailedRate: rate === null ? null : rate * 2, error: null });

export const headroomResult = (before: number | null, after: number | null): Headroom => ({
  settings: { startRate: 5_000, maxRate: 80_000, stepMs: 3_000, p99LimitMs: 500, minAchieved: 0.95, refine: 1, recordBytes: 600, partitions: 12, replication: 3, tool: 'ProducerPerformance' },
  before: probe('before', before), after: probe('after', after),
  gainPct: before && after ? ((after - before) / before) * 100 : null, gainNote: before && after ? null : 'a probe found no sustainable rate',
});

export type ElasticMove = NonNullable<Results['elasticity']>[number];
export const scaleOut = (over: Partial<ElasticMove> = {}): ElasticMove => ({
  phase: 'add-broker', action: 'scale-out' as const, nodes: [4], requestedAtOffsetMs: 40_000, nodesUsableAtOffsetMs: 49_000, completedAtOffsetMs: 55_000, durationMs: 15_000, moveMs: 6_000,
  replicasMoved: 24, partitionsMoved: 24, bytesMovedLogDirs: 84_200_000, bytesMovedNetwork: 87_800_000, networkVsLogDirsPct: 4.3, networkByLink: null, groundTruthBytes: 84_200_000, logDirsVsGroundTruthPct: 0,
  retainedBytesAtRequest: 450_000_000, bytesMovedPerGbRetained: 187_000_000, remoteTierBytes: null, throttleBytesPerSec: null, leadersOnNewNodes: 8, capacityUsableAtOffsetMs: 56_000, capacityUsableAfterMs: 16_000,
  headroom: null, milestones: [{ offsetMs: 40_000, what: 'starting 1 broker node(s) in zone(s) a' }], error: null,
  ...over,
});

/**
 * The recorded run with every piece of evidence the readiness definitions ask for, as a schema-2 run
 * of scenarios/readiness.yaml would record it: bad records found by position, a compatible dual-run, a
 * rollback with its reset position and the group checked before and after, profiles joined as of event
 * time, a flow log covering every phase, the sink's retention read back,
 * the limited principal refused, lineage on every record, a completed scale-out and a broker recovery.
 */
export function complete(): Results {
  const r = recorded();
  const kinds = r.scenario.spec.bad_records.kinds;
  const bad = Array.from({ length: r.correctness.badRecordsAcked }, (_, i) => ({ seq: i, kind: kinds[i % kinds.length], partition: i % 6, offset: String(500 + i) }));
  r.correctness.badRecords = checkBadRecords(bad, new Map(bad.map((b) => [`${b.partition}:${b.offset}`, b.kind as string])));
  r.correctness.lineageMissing = 0;
  r.phases.push({ ...r.phases[2], name: 'dual', kind: 'dual-run', startOffsetMs: 25_000, endOffsetMs: 30_000 });
  r.phases.push({ ...r.phases[3], name: 'rollback', kind: 'rollback', startOffsetMs: 30_000, endOffsetMs: 36_000 });
  if (r.replay.measured) {
    r.rollback = {
      ...r.replay, phase: 'rollback', toVersion: 'v1', resetFrom: { lookbackPartitions: 6, behindPartitions: 0, behindRecords: 0, note: 'every partition reset to 10 s before the phase began' },
      groupState: { group: 'cb-enrich-v1', before: { state: 'Empty', members: 0, partitionsCommitted: 6, partitions: 6, lagRecords: 1_200 }, resetRecordsBack: 9_000, after: { state: 'Stable', members: 1, partitionsPastEnd: 6, partitions: 6, afterMs: 4_000 }, checked: true },
    };
  }
  // A replay re-enriched events of people whose profile changed later: they joined the version valid at their event time.
  r.enrichment.counters!.profileAsOf = { joins: 20_000, earlierVersion: 37 };
  r.dualRun = {
    measured: true, versions: ['v1', 'v2'], compared: 900, identical: 850, differing: 50, onlyMain: 3, onlyOther: 1, fieldDiffs: { segment: 50 },
    compatibility: { rule: 'v2 may add fields to v1\'s output but not drop one or change its JSON type', compatible: true, removed: {}, retyped: {}, added: { score: 900 } },
  };
  r.retentionCheck = retentionCheck(r.topics.enriched, r.topics.retentionMs, { 'retention.ms': String(r.topics.retentionMs), 'cleanup.policy': 'delete' });
  r.accessCheck = { measured: true, principal: 'User:clickbench-limited', action: 'InitProducerId with a transactional id (exactly-once) without TransactionalId ACLs', refused: true, answer: 'refused: TRANSACTIONAL_ID_AUTHORIZATION_FAILED', method: 'm' };
  r.elasticity = [scaleOut({ headroom: headroomResult(20_000, 26_000) })];
  r.faults = [faultResult()];
  r.accounting = accountingResult(0);
  r.run.scheduleStartMs = 1_000_000;
  r.scenario.spec.price = { ...r.scenario.spec.price, broker_per_hour: 0.192 };
  const rows: FlowLogRow[] = [{ startMs: 1_000_000, endMs: 1_036_000, srcZone: 'a', dstZone: 'b', bytes: 36_000_000 }];
  return withFlowLog(r, rows, 'flows.csv');
}

/** The probe's capability ids (src/probe/probe.ts CAPABILITIES; listed here so the scoring tests do not load the Kafka clients). */
const CAPABILITIES: CapabilityId[] = [
  'api-versions', 'racks', 'idempotent-produce', 'transactions', 'consumer-groups', 'timestamp-lookup',
  'log-compaction', 'describe-log-dirs', 'describe-configs', 'remote-storage', 'rack-aware-fetch', 'listener-security',
];

/** A compatibility probe's result: every capability 'yes' unless named otherwise. */
export function probeResult(status: Partial<Record<CapabilityId, CapabilityStatus>> = {}): ProbeResult {
  return {
    bootstrap: '127.0.0.1:9092', security: describeSecurity({ protocol: 'PLAINTEXT' } as never), connection: { ok: true } as never, brokers: [], kafkaVersion: { value: '4.1.1', how: 'm' }, detectedProfile: 'apache-kafka', profileEvidence: 'm', durationMs: 1_000,
    capabilities: CAPABILITIES.map((id) => ({ id, name: id, status: status[id] ?? 'yes', evidence: status[id] === 'no' ? `${id}: UNSUPPORTED_VERSION` : 'exercised', ms: 1 })),
  };
}
