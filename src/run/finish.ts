/**
 * The end of a run: events never seen downstream counted as timed out, then results.json's figures
 * assembled from what was recorded (phases, per-second series, throughput, disk, cross-zone,
 * correctness), the raw topic read back when a phase can lose writes, and the stages' counters
 * summed. Each part that is a pure function of recorded values lives in ./assemble.ts, unit-tested.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ClickbenchError } from '../errors.js';
import { readBackSeqs } from '../observe/readback.js';
import { bottleneck, stageBottleneck } from '../observe/health.js';
import type { HealthSummary } from '../observe/health.js';
import { checkBadRecords } from '../observe/contract.js';
import { readFlowLog } from '../observe/flowlog.js';
import { withFlowLog } from '../score/crosszone-source.js';
import { CROSS_ZONE_FORMULA, PROFILE_ASSUMPTIONS, sumCrossZone, type CrossZoneResult } from '../observe/crosszone.js';
import { record } from '../observe/latency.js';
import { phaseAt } from '../phases/timeline.js';
import { phaseSpec, type PhaseKind } from '../phases/registry.js';
import type { LoadDriver } from '../drive/driver.js';
import type { Probe } from '../observe/probe.js';
import type { StageHandle } from '../enrich/child.js';
import { transientAnswers } from '../kafka/client.js';
import { addCounters, catchUpSeconds, diskResult, rawAccounting, seenInSink } from './assemble.js';
import { withModel } from './byte-maps.js';
import { isMeasured, notMeasured, type PhaseResult, type Results } from './results.js';
import { sandboxLogBytes } from '../sandbox/logdirs.js';
import type { RunContext } from './context.js';
import type { Observer, Snapshot } from './observe.js';
import type { Sampler } from './sampler.js';
import type { OpenTransaction } from './results.js';

/** Acknowledged events with an id that no generation of the probe has seen yet (their sequence numbers). */
export function unseenAcked(driver: LoadDriver, probe: Probe): number[] {
  const sets = [...probe.seen.values()];
  const out: number[] = [];
  for (let seq = 0; seq < driver.seqEnd; seq++) {
    if (driver.ackedSeqs.get(seq) === 0 || driver.partitionOfSeq(seq) < 0) continue;
    if (!sets.some((c) => c.get(seq) > 0)) out.push(seq);
  }
  return out;
}

/**
 * Events acknowledged but never seen downstream: recorded at the time waited for them (a lower bound),
 * so the tail shows them instead of losing them; counted as timed out (and missing). Returns their count.
 */
export function recordTimedOut(ctx: RunContext): TimedOut {
  const waitedUntil = Date.now();
  const timedOut = unseenAcked(ctx.driver, ctx.probe);
  const out: TimedOut = { count: timedOut.length, byPhase: {}, byRawPartition: {} };
  for (const seq of timedOut) {
    const offset = ctx.driver.intendedOffsetOfSeq(seq);
    const p = phaseAt(ctx.phases, offset);
    const e2e = waitedUntil - (ctx.scheduleStart + offset);
    record(ctx.latency.phase[p.index].e2e, e2e);
    if (p.scored) record(ctx.latency.run.e2e, e2e);
    out.byPhase[p.name] = (out.byPhase[p.name] ?? 0) + 1;
    const rp = String(ctx.driver.partitionOfSeq(seq));
    out.byRawPartition[rp] = (out.byRawPartition[rp] ?? 0) + 1;
    out.firstIntendedOffsetMs = Math.min(out.firstIntendedOffsetMs ?? offset, offset);
    out.lastIntendedOffsetMs = Math.max(out.lastIntendedOffsetMs ?? offset, offset);
  }
  return out;
}

/** Acknowledged events the probe never saw: how many, in which phases (by intended time) and raw partitions. */
export interface TimedOut {
  count: number;
  byPhase: Record<string, number>;
  byRawPartition: Record<string, number>;
  firstIntendedOffsetMs?: number;
  lastIntendedOffsetMs?: number;
  /** Sink partitions whose last stable offset was behind the high watermark at the end (or why not read). */
  openTransactions?: OpenTransaction[] | string;
}

export interface Recorded {
  observer: Observer;
  sampler: Sampler;
  /** The snapshot at the start of each phase that ran. */
  phaseStarts: Snapshot[];
  last: Snapshot;
  /** Offset the schedule reached (≤ its duration). */
  endOffset: number;
  health: HealthSummary;
  timedOut: TimedOut;
}

/** results.json's figures from what the run recorded. */
export async function assembleResults(ctx: RunContext, r: Recorded): Promise<void> {
  const { results, s, driver, probe, names, target } = ctx;
  const { observer, phaseStarts, last, endOffset } = r;
  const first = phaseStarts[0];
  const seconds = Math.floor(endOffset / 1000);
  // The model between two snapshots, computed once (it reads the partition layout) and used for both figures.
  const zoneModel = (a: Snapshot, b: Snapshot) => observer.crossZoneBetween(a, b).catch((e: Error) => e);
  const modelled = (m: CrossZoneResult | Error) => (m instanceof Error ? notMeasured(`topology unavailable: ${m.message}`) : m);
  const measuredZone = (a: Snapshot, b: Snapshot, what: string, m: CrossZoneResult | Error) =>
    ctx.ledger && b.net ? withModel(ctx.ledger.summarize(a.net, b.net), m instanceof Error ? undefined : m) : notMeasured(ctx.ledger ? `no counter reading at ${what}` : 'kernel counters are read on the sandbox only (the brokers are not on this machine)');

  // Phases.
  const phaseModels: (CrossZoneResult | Error)[] = [];
  for (let i = 0; i < phaseStarts.length; i++) {
    const w = ctx.phases[i];
    const a = phaseStarts[i];
    const b = i + 1 < phaseStarts.length ? phaseStarts[i + 1] : last;
    let intended = 0;
    let acked = 0;
    for (let sec = Math.floor(w.startMs / 1000); sec < Math.ceil(w.endMs / 1000); sec++) {
      intended += driver.intended.values[sec] ?? 0;
      acked += driver.acked.values[sec] ?? 0;
    }
    const model = await zoneModel(a, b);
    phaseModels.push(model);
    const pr: PhaseResult = {
      name: w.name, kind: w.kind, scored: w.scored, startOffsetMs: w.startMs, endOffsetMs: w.endMs,
      events: { intended, acked },
      achievedRatio: intended > 0 ? acked / intended : null,
      latency: ctx.latency.phase[w.index].summary(),
      disk: a.disk && b.disk ? { startBytes: a.disk.totalBytes, endBytes: b.disk.totalBytes, growthBytes: b.disk.totalBytes - a.disk.totalBytes } : notMeasured('DescribeLogDirs gave no sample at this phase boundary'),
      crossZoneMeasured: measuredZone(a, b, 'this phase boundary', model),
      crossZone: modelled(model),
      lag: { maxRecords: r.sampler.lagMax[w.index], endRecords: r.sampler.lagEnd[w.index] },
      cost: observer.costOf(a, b, acked),
      host: observer.hostOf(a, b),
    };
    results.phases.push(pr);
  }
  results.cost = observer.costOf(first, last, driver.stats.acked);
  results.host = observer.hostOf(first, last);

  // Per-second series.
  const allSeconds = Math.max(driver.intended.values.length, Math.ceil(endOffset / 1000));
  for (let sec = 0; sec < allSeconds; sec++) {
    const lagAt = results.series.lag.filter((l) => Math.floor(l.offsetMs / 1000) === sec).pop();
    results.series.perSecond.push({ second: sec, intended: driver.intended.values[sec] ?? 0, sent: driver.sent.values[sec] ?? 0, acked: driver.acked.values[sec] ?? 0, e2eP99Ms: ctx.latency.bySecond.p99(sec), lag: lagAt?.lag ?? null });
  }
  results.latency = ctx.latency.run.summary();
  const hs = r.health;
  const ceiling = isMeasured(results.calibration) ? results.calibration.produce.recordsPerSec : undefined;
  const peakAcked = Math.max(0, ...driver.acked.values.slice(1, seconds));
  results.client = {
    ...hs,
    bottleneck: bottleneck({ intended: driver.intended.values, acked: driver.acked.values, sent: driver.sent.values, health: hs.samples, generationLagMs: driver.generationLagMs.values, queueDepth: driver.queueDepthMax.values, queueFull: driver.queueFull.values, produceP99Ms: results.latency.produceAck?.p99Ms ?? null, ceilingRecordsPerSec: ceiling }),
    // The verdict reads this process's event loop: a stage run as its own process(es) has its own, not sampled per second.
    stage: ctx.stageAsProcess ? notMeasured('the enrichment stage ran as its own process(es) (a fault phase kills it, or enrichment.instances > 1): their event loops are not sampled per second; their CPU is in `cost`') : stageBottleneck({ lag: results.series.lag, health: hs.samples, phases: results.phases, loadInProcess: !results.workers }),
    calibratedShare: ceiling ? { peakAckedPerSec: peakAcked, ceilingRecordsPerSec: ceiling, share: peakAcked / ceiling } : notMeasured('no calibration in this run (calibrate: true)'),
  };

  // Throughput.
  const st = driver.stats;
  let short = 0;
  for (let sec = 1; sec < seconds; sec++) {
    const want = driver.intended.values[sec] ?? 0;
    if (want > 0 && (driver.acked.values[sec] ?? 0) < want * 0.95) short++;
  }
  // Seconds that acknowledged well over their intended count right after seconds that fell short: the
  // driver catching up (after a slow start or a stall), not traffic the scenario asked for.
  const catchUp = catchUpSeconds(driver.intended.values, driver.acked.values, seconds);
  results.throughput = {
    intendedEvents: st.generated, sentEvents: st.sent, ackedEvents: st.acked, failedEvents: st.failed, achievedRatio: st.generated > 0 ? st.acked / st.generated : 0, shortSeconds: short,
    maxScheduleLagMs: st.maxScheduleLagMs, maxQueueDepth: st.maxQueueDepth, payloadBytes: st.payloadBytes, averageEventBytes: st.acked ? st.payloadBytes / st.acked : 0,
    verdict: [
      isMeasured(results.client) && results.client.bottleneck.side !== 'none' ? results.client.bottleneck.verdict : short > 0 ? `${short} second(s) acknowledged less than 95 % of the intended rate` : 'kept up with the schedule',
      catchUp.length ? `second(s) ${catchUp.slice(0, 6).join(', ')}${catchUp.length > 6 ? ', …' : ''} acknowledged more than intended: the driver catching up with events that were late, not a burst` : '',
      st.maxScheduleLagMs > 1_000 ? `the producer fell behind the schedule by up to ${(st.maxScheduleLagMs / 1000).toFixed(1)} s (max ${st.maxQueueDepth} events queued); latencies include that wait` : '',
    ].filter(Boolean).join('; '),
  };

  // Disk.
  const startDisk = first.disk;
  const endDisk = last.disk;
  if (startDisk && endDisk) {
    const sandbox = target.kind === 'sandbox' ? target.sandbox : undefined;
    // The nodes as they are now (a scale-out added some, a scale-in removed some); history is not part of the figure.
    const groundBytes = sandbox ? sandboxLogBytes(sandbox.state.nodes.map((n) => n.logDir), ctx.runPrefix, [names.history]) : 0;
    const groundTruth = sandbox
      ? { measured: true as const, method: 'sum of the .log segment files of the run\'s topics under the sandbox log dirs', bytes: groundBytes, diffPct: groundBytes > 0 ? ((endDisk.totalBytes - groundBytes) / groundBytes) * 100 : 0 }
      : notMeasured('the cluster\'s log dirs are not on this machine');
    const tiered = s.topics.tiered && target.remoteStorageDir
      ? { measured: true as const, remoteBytes: sandboxLogBytes([target.remoteStorageDir], ctx.runPrefix, [names.history]), localBytes: endDisk.totalBytes }
      : notMeasured(s.topics.tiered ? 'remote tier size is only read on the sandbox (its remote directory)' : 'the run\'s topics are not tiered');
    results.disk = diskResult({
      // The peak is the schedule's busiest second: the highest acknowledged second can be a catch-up flush after a stall or a fault.
      start: startDisk, end: endDisk, ingestedBytes: st.payloadBytes, elapsedMs: endOffset, peakEventsPerSec: Math.max(0, ...driver.intended.values),
      averageEventBytes: results.throughput.averageEventBytes || 0, retentionMs: s.topics.retention, replication: s.topics.replication, groundTruth, tiered,
      phases: results.phases.map((p) => ({ name: p.name, live: phaseSpec(p.kind as PhaseKind).runner === 'load', growthBytes: isMeasured(p.disk) ? p.disk.growthBytes : null, ingestedBytes: p.events.acked * (results.throughput.averageEventBytes || 0) })),
    });
  }
  // The run's model is the sum of its phases' (each on the layouts read at its boundaries), not the final layout's.
  const totalModel = phaseModels.length && phaseModels.every((m) => !(m instanceof Error)) ? sumCrossZone(phaseModels as CrossZoneResult[]) : await zoneModel(first, last);
  const total = modelled(totalModel);
  if ('modelled' in total) {
    results.crossZone = {
      measured: true, total, formula: CROSS_ZONE_FORMULA,
      measuredBytes: measuredZone(first, last, 'the run\'s end', totalModel),
      assumptions: PROFILE_ASSUMPTIONS[ctx.profile], brokerZones: Object.fromEntries([...ctx.brokerZone].map(([k, v]) => [String(k), v])) };
  } else results.crossZone = total;
  if (s.measured_cross_zone) results.crossZoneFile = flowLogOf(results, s.measured_cross_zone);

  // Accounting: every acknowledged event with an id must be in the sink or the DLQ (in some generation).
  const expected = driver.ackedSeqs.size - driver.missingIdAcked;
  const seenUnion = seenInSink(driver.seqEnd, (seq) => driver.ackedSeqs.get(seq) > 0, [...probe.seen.values()]);
  results.correctness = {
    ackedEvents: st.acked, expectedInSink: expected, seenDistinct: seenUnion, missing: Math.max(0, expected - seenUnion),
    duplicates: probe.stats.duplicates, ...(probe.duplicateExamples.length ? { duplicateExamples: probe.duplicateExamples } : {}), piiLeaks: probe.stats.piiLeaks, unpseudonymized: probe.stats.unpseudonymized, checkedWithoutConsent: probe.stats.checkedWithoutConsent,
    badRecordsAcked: st.bad, dlqRecords: probe.stats.dlq, timedOut: r.timedOut.count, ...(r.timedOut.count ? { timedOutWhere: { byPhase: r.timedOut.byPhase, byRawPartition: r.timedOut.byRawPartition, intendedOffsetMs: [r.timedOut.firstIntendedOffsetMs!, r.timedOut.lastIntendedOffsetMs!] as [number, number], ...(r.timedOut.openTransactions !== undefined ? { openTransactions: r.timedOut.openTransactions } : {}) } } : {}),
    badRecords: checkBadRecords(driver.badAcked, probe.dlqBySource),
    lineageMissing: probe.stats.lineageMissing,
  };
  results.latencySamples = {
    dlqRecordsExcluded: probe.stats.dlq, duplicatesExcluded: probe.stats.duplicates, negativeEnrichMs: probe.stats.negativeEnrichMs,
    note: 'latency samples are the first sighting of each enriched event; DLQ records and duplicates are not end-to-end samples. The enrichment time is the output broker\'s append time minus the raw broker\'s: a negative one (their clocks disagree) is recorded as 0 and counted here',
  };
  results.errors.produceErrors = st.errors;
  results.errors.produceFailedEvents = st.failed;
  results.errors.produceRetries = st.retries + Object.values(ctx.produceRetries).reduce((a, b) => a + b, 0);
  results.errors.byCode = { ...driver.errorsByCode, ...Object.fromEntries(Object.entries(ctx.produceRetries).map(([k, v]) => [`client retry: ${k}`, v])) };
}

/** The scenario's flow-log export, per phase; a file not there yet (flow logs arrive minutes later) is not an error: `report --cross-zone-file` adds it. */
function flowLogOf(results: Results, named: string): Results['crossZoneFile'] {
  const file = resolve(dirname(results.scenario.file), named);
  if (!existsSync(file)) return notMeasured(`${file} does not exist (yet): add it when the export is ready with clickbench report <run> --cross-zone-file ${named}`);
  try {
    return withFlowLog(results, readFlowLog(file), file).crossZoneFile;
  } catch (err) {
    return notMeasured(`${(err as Error).message}${err instanceof ClickbenchError && err.hint ? ` (${err.hint})` : ''}`);
  }
}

/** Every acknowledged id looked up in the raw topic read back from its start (runs whose phases can lose writes). */
export async function accountRaw(ctx: RunContext): Promise<void> {
  const { results, driver, names } = ctx;
  ctx.log('accounting: reading the raw topic back to check every acknowledged event');
  const back = await readBackSeqs(ctx.kafka, ctx.admin, names.raw, ctx.runPrefix);
  const { checked, lost, rawDuplicates, lostByPartition } = rawAccounting(driver.seqEnd, (seq) => driver.ackedSeqs.get(seq) > 0, (seq) => driver.partitionOfSeq(seq), back.seqs);
  results.accounting = {
    measured: true,
    method: `every event id the producer saw acknowledged (${checked}) looked up in the raw topic read back from its start (${back.records} records${back.complete ? '' : `, INCOMPLETE: ${back.problem ?? 'the read timed out'}`}) and in the enriched sink + DLQ as the probe saw them (read_committed)`,
    rawRecordsRead: back.records, ackedChecked: checked, ackedLost: lost, lostByPartition, rawDuplicates,
    sinkMissing: results.correctness.missing, sinkDuplicates: results.correctness.duplicates,
  };
}

/** The counters of every enrichment stage the run started (replaced, killed and side runs included), and the client errors' tallies. */
export function sumCounters(ctx: RunContext): void {
  const { results } = ctx;
  const all: StageHandle[] = ctx.allStages();
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
  const { producer, enrichment } = ctx.compression();
  results.compression = { producer, enrichment };
  results.errors.repeated = Object.fromEntries(Object.entries(ctx.repeated).filter(([, n]) => n > 1));
  results.errors.transient = Object.fromEntries(Object.entries(transientAnswers).map(([k, n]) => [k, n - (ctx.transientAtStart[k] ?? 0)]).filter(([, n]) => (n as number) > 0));
}
