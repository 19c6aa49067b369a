/**
 * The quickstart exactly as a user first runs it: no sandbox running, `clickbench run
 * scenarios/quickstart.yaml` starts one (local storage, plaintext), warms it (default --warmup) and
 * runs. `npm test` runs this file before the suite's shared sandbox starts (test/run-tests.ts: files
 * named *.fresh.test.js), so nothing else shares the machine's two cores. --keep-sandbox keeps that
 * sandbox up for the checks below (du of its log dirs, its JVM options); `after` stops it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { deleteTopicsWithPrefix } from '../../src/drive/topics.js';
import { isMeasured, type Results } from '../../src/run/results.js';
import { scorecard } from '../../src/score/scorecard.js';
import { stolenPhases } from '../../src/observe/host.js';
import { Sandbox } from '../../src/sandbox/cluster.js';
import { extraSandboxDir, testKafka } from '../helpers.js';

const stateDir = extraSandboxDir('quickstart');
let sb: Sandbox;
const capture = () => {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), isTTY: false }, out, err };
};

/** `du` in bytes of the allocated blocks of the run's partition directories on every node. */
function duOfTopics(prefix: string): number {
  let total = 0;
  for (const n of sb.state.nodes) {
    const dirs = readdirSync(n.logDir).filter((d) => d.startsWith(`${prefix}.`)).map((d) => join(n.logDir, d));
    if (dirs.length) total += execFileSync('du', ['-s', '--block-size=1', '-c', ...dirs], { encoding: 'utf8' }).trim().split('\n').map((l) => Number(l.split('\t')[0])).pop()!;
  }
  return total;
}

describe('the quickstart from nothing, as a new user runs it', () => {
  const reports = mkdtempSync(join(tmpdir(), 'cb-run-'));
  let r: Results;
  let code: number;
  let out: string[];

  before(async () => {
    assert.equal(Sandbox.load(stateDir), undefined, 'no sandbox before the run: it starts its own, as for a new user');
    const c = capture();
    // As a user types it (plus where to put the sandbox and reports, and keeping both for the checks).
    code = await main(['run', 'scenarios/quickstart.yaml', '--state-dir', stateDir, '--reports', reports, '--keep', '--keep-sandbox'], c.io);
    out = [...c.out, ...c.err];
    const runDir = readdirSync(reports)[0];
    r = JSON.parse(readFileSync(join(reports, runDir, 'results.json'), 'utf8'));
    sb = Sandbox.load(stateDir)!;
  });
  after(async () => {
    await Sandbox.load(stateDir)?.stop({ wipe: true });
  });

  it('runs the quickstart end to end and writes a complete results.json and scorecard', () => {
    assert.equal(r.run.status, 'completed', out.join('\n'));
    // Every gate must pass and the run exit 0 (issue #16). One exception, itself measured: when the
    // hypervisor took >= 10 % of this machine's CPU in a phase (CPU steal, /proc/stat; seen at 15-35 % on
    // this machine kind while quickstarts measured e2e p99 7-20 s), the pipeline runs that much slower: the
    // e2e gate may fail, a rollback may not catch up within the run and events may time out (counted as
    // missing, the correctness gate fails). Then the report and the console must say why, and nothing
    // may be duplicated or leak; the scorecard gate passes regardless.
    const gateLines = out.join('\n').split('\n').filter((l) => /│ (e2e|correctness|scorecard)\.[a-z_0-9]+ +│/.test(l));
    const failed = gateLines.filter((l) => /FAIL/.test(l)).map((l) => /│ ([a-z_0-9.]+)/.exec(l)![1]);
    const stolen = stolenPhases(r.phases);
    console.log(`# quickstart gates: ${gateLines.length} read, failed: ${failed.join(', ') || 'none'} (exit ${code}); CPU stolen by the hypervisor per phase: ${r.phases.map((p) => `${p.name} ${p.host && isMeasured(p.host) ? p.host.stealPercent : '–'} %`).join(', ')}; warm-up ${JSON.stringify(r.cluster.warmup)}`);
    assert.equal(gateLines.length, 3, out.join('\n'));
    assert.ok(isMeasured(r.host) && r.phases.every((p) => p.host && isMeasured(p.host)), 'this machine\'s CPU measured over the run and per phase');
    if (stolen.length === 0) {
      assert.equal(code, 0, `the quickstart must pass its gates on a machine whose CPU was not taken by the hypervisor:\n${out.join('\n')}`);
    } else {
      assert.deepEqual(failed.filter((g) => g !== 'e2e.p99_ms' && g !== 'correctness.missing'), [], out.join('\n'));
      assert.equal(code, failed.length ? 1 : 0, out.join('\n'));
      assert.ok(out.some((l) => l.includes('warning: the hypervisor took')), 'the console says the host took CPU');
    }
    assert.equal(r.cluster.warmup?.by, 'this run', 'the run warmed the nodes it started');
    assert.equal(r.cluster.startedByRun, true);
    assert.deepEqual(r.phases.map((p) => p.name), ['warmup', 'steady', 'burst', 'dual-run', 'rollback']);
    assert.ok(isMeasured(r.rollback) && r.rollback.replayedRecords > 15_000, 'the rollback replayed');
    if (stolen.length === 0) assert.ok(r.rollback.caughtUp, 'the rollback replay caught up');
    assert.ok(r.rollback.resetFrom && r.rollback.resetFrom.lookbackPartitions + r.rollback.resetFrom.behindPartitions === 12, 'where the rollback started is recorded per partition');
    // clickbench's own cost on the cluster, per phase: broker CPU from /proc and requests by client role.
    for (const p of r.phases) {
      assert.ok(p.cost && isMeasured(p.cost), `${p.name} cost measured`);
      assert.ok(p.cost.brokerCpuSeconds > 0 && Object.keys(p.cost.brokerCpuByBroker).length === 3, `${p.name} broker CPU ${JSON.stringify(p.cost.brokerCpuByBroker)}`);
      assert.ok((p.cost.requests.producer?.Produce ?? 0) > 0 && (p.cost.requests.enrichment?.EndTxn ?? 0) > 0 && (p.cost.requests.probe?.Fetch ?? 0) > 0, JSON.stringify(p.cost.requests));
    }
    console.log(`# quickstart: e2e p50/p99 ${r.latency.e2e?.p50Ms}/${r.latency.e2e?.p99Ms} ms, steady broker CPU ${r.phases[1].cost && isMeasured(r.phases[1].cost) ? r.phases[1].cost.brokerCpuSecondsPer1000Events : '–'} s per 1 000 events`);
    assert.ok(isMeasured(r.dualRun) && r.dualRun.side, 'the dual-run reports how its other stage started');
    const side = r.dualRun.side;
    console.log(`# dual-run: ${r.dualRun.compared} compared, ${r.dualRun.onlyMain} only v1's; side ${JSON.stringify(side)}`);
    assert.ok(side.readyAfterMs !== null && side.finish, `the side stage ran and the phase after it waited for it: ${JSON.stringify(side)}`);
    assert.ok(r.dualRun.compared > 5_000, `the dual-run compared both outputs (${r.dualRun.compared}; side ${JSON.stringify(side)})`);
    assert.ok(r.dualRun.fieldDiffs.risk > 0, 'v2 differs from v1 in its risk rules');
    // Whatever state or table timing changes, the event itself must come out the same from both versions.
    for (const f of ['event_type', 'event_time', 'intended_time', 'url', 'product', 'schema_version', 'event_id']) assert.equal(r.dualRun.fieldDiffs[f] ?? 0, 0, `${f} differs between versions`);
    assert.equal(r.throughput.intendedEvents, r.throughput.ackedEvents, 'every intended event was acknowledged');
    assert.ok(r.throughput.ackedEvents > 100_000);
    for (const k of ['produceAck', 'enrich', 'e2e'] as const) assert.ok(r.latency[k] && r.latency[k]!.count > 1000, `${k} latency`);
    assert.ok(isMeasured(r.disk) && isMeasured(r.crossZone));
    if (stolen.length === 0) assert.equal(r.correctness.missing, 0);
    else assert.equal(r.correctness.missing, r.correctness.timedOut ?? 0, 'what is missing timed out');
    assert.equal(r.correctness.duplicates, 0);
    assert.equal(r.correctness.piiLeaks, 0);
    assert.equal(r.cluster.kafkaVersion, sb.state.kafkaVersion);
    assert.deepEqual(r.cluster.brokers.map((b) => b.rack), ['a', 'b', 'c']);
    const md = readFileSync(join(reports, r.run.id, 'scorecard.md'), 'utf8');
    assert.deepEqual(r.cluster.jvmOptions, sb.state.jvmOptions, 'the JVM options the nodes run with');
    assert.ok(r.cluster.jvmOptions!.includes('-XX:TieredStopAtLevel=1'));
    assert.equal(md.includes('**Warning: the hypervisor took'), stolenPhases(r.phases).length > 0, 'the report warns exactly when a phase lost >= 10 % to steal');
    assert.match(md, /stolen by the hypervisor [0-9.]+ %/);
    // Which side limited the enrichment when its lag grew, from this process's event loop (the stage runs in it here).
    assert.ok(isMeasured(r.client) && r.client.stage && isMeasured(r.client.stage), 'the enrichment stage verdict');
    console.log(`# quickstart enrichment stage: ${r.client.stage.verdict}; clickbench's loop busy per phase ${r.phases.map((p) => (p.cost && isMeasured(p.cost) ? p.cost.clickbenchLoopBusy : '–')).join(', ')}`);
    assert.match(md, /\nEnrichment stage: \*\*/);
    assert.match(md, /clickbench's own event loop \(the load generator and the probe, and the enrichment stage in the same process\), share of each phase it was running code .*: warmup [01]\.\d\d, steady [01]\.\d\d, burst /);
    assert.deepEqual(r.cluster.brokerOverrides, sb.state.brokerOverrides ?? {}, 'broker overrides recorded as the sandbox has them');
    assert.match(md, /Sandbox broker overrides \(CLICKBENCH_SANDBOX_BROKER_PROPS\): /);
    assert.match(md, /Sandbox JVM options: `-XX:TieredStopAtLevel=1` \(C1 JIT only: /);
    for (const row of scorecard(r)) {
      assert.ok(row.evidence.length > 0, `${row.id} has evidence`);
      assert.ok(md.includes(`| ${row.title} | **${row.score}** |`), `${row.title} row in the markdown`);
    }
  });

  it('shows the burst in the achieved-rate series and the per-second latency series', () => {
    const sec = (from: number, to: number) => r.series.perSecond.filter((p) => p.second >= from && p.second < to);
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const steady = avg(sec(15, 35).map((p) => p.acked));
    const burst = avg(sec(42, 58).map((p) => p.acked));
    assert.ok(Math.abs(steady - 1000) < 100, `steady ${steady}/s`);
    assert.ok(burst > 2.5 * steady, `burst ${burst}/s vs steady ${steady}/s`);
    assert.ok(sec(42, 58).every((p) => p.e2eP99Ms !== null), 'a p99 for every burst second');
    // Poisson arrivals (the default): a second's count at 3 000/s has a standard deviation of ~55; each
    // second within 5 of them, their mean within 2 %.
    assert.ok(sec(42, 58).every((p) => Math.abs(p.intended - 3000) <= 275), `intended per second: ${sec(42, 58).map((p) => p.intended).join(', ')}`);
    assert.ok(Math.abs(avg(sec(42, 58).map((p) => p.intended)) - 3000) <= 60, 'the burst\'s mean intended rate');
  });

  it('reports broker-disk growth that agrees with du of the sandbox log dirs within 5 %', async () => {
    assert.ok(isMeasured(r.disk));
    const du = duOfTopics(r.topics.prefix);
    const diff = Math.abs(r.disk.endBytes - du) / du;
    console.log(`# disk: DescribeLogDirs ${r.disk.endBytes} B, du ${du} B (${(diff * 100).toFixed(2)} %), growth ${r.disk.growthBytes} B for ${r.disk.ingestedPayloadBytes} B ingested`);
    assert.ok(diff < 0.05, `DescribeLogDirs ${r.disk.endBytes} vs du ${du}`);
    assert.ok(isMeasured(r.disk.groundTruth) && Math.abs(r.disk.groundTruth.diffPct) < 2);
    const admin = testKafka(sb).admin();
    await admin.connect();
    const deleted = await deleteTopicsWithPrefix(admin, r.topics.prefix);
    await admin.disconnect();
    assert.equal(deleted.length, 9, 'the run created 9 topics (2 for the dual-run), all with its prefix');
  });

  it('models cross-zone bytes within 5 % of the kernel\'s TCP counters (fidelity)', () => {
    assert.ok(isMeasured(r.crossZone));
    const m = r.crossZone.measuredBytes;
    assert.ok(m && isMeasured(m), `measured: ${m && !isMeasured(m) ? m.reason : 'missing'}`);
    console.log(`# cross-zone: model ${m.model!.crossZoneBytes} B vs measured ${m.crossZone.clientToBroker + m.crossZone.replication + m.crossZone.brokerToClient} B in the data directions (${m.diffPct!.crossZone!.toFixed(2)} %); produce ${m.diffPct!.produce!.toFixed(2)} %, replication ${m.diffPct!.replication!.toFixed(2)} %; replica fetch requests ${m.crossZone.replicationRequests} B not modelled`);
    assert.ok(Math.abs(m.diffPct!.crossZone!) < 5, `cross-zone model off by ${m.diffPct!.crossZone} %`);
    assert.ok(Math.abs(m.diffPct!.produce!) < 5 && Math.abs(m.diffPct!.replication!) < 5, JSON.stringify(m.diffPct));
    // Rack-aware reads: no cross-zone consume in the model, and the report does not call the brokers' other answers "-100 %".
    if (m.model!.consume === 0) {
      const md = readFileSync(join(reports, r.run.id, 'scorecard.md'), 'utf8');
      assert.match(md, /\| consume: replicas → clients \| 0\.00 MB \| [0-9.]+ MB \| none modelled \(rack-aware reads\); measured: every broker answer sent across zones, not only records \|/);
    }
    // Every client's connections were told apart (no bytes of the run left unattributed).
    for (const c of ['producer', 'enrichment', 'probe']) assert.ok(m.byClient[c] && m.byClient[c].sentBytes + m.byClient[c].receivedBytes > 1e6, `${c} connections measured`);
    // Per phase too.
    for (const p of r.phases) assert.ok(p.crossZoneMeasured && isMeasured(p.crossZoneMeasured), `${p.name} measured`);
  });

  it('fails within seconds with one clear line and exit 3 when the cluster is unreachable', async () => {
    const c = capture();
    const t0 = Date.now();
    const exit = await main(['run', 'scenarios/quickstart.yaml', '--brokers', '127.0.0.1:1', '--reports', reports], c.io);
    const took = Date.now() - t0;
    assert.equal(exit, 3);
    assert.ok(took < 15_000, `took ${took} ms`);
    const lines = c.err.filter((l) => l.startsWith('clickbench:'));
    assert.equal(lines.length, 1, c.err.join('\n'));
    assert.match(lines[0], /^clickbench: cannot reach the Kafka cluster at 127\.0\.0\.1:1: .* — check --brokers/);
    assert.ok(!existsSync(join(reports, 'nothing')));
  });
});
