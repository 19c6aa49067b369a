/**
 * Elasticity phases on a sandbox of their own (3 nodes, tiered storage available; nodes are added
 * and disks emptied, so the suite's sandbox stays as it is): a scale-out from 3 to 4 nodes on
 * local and on tiered topics, and a broker replacement with an emptied disk.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import '../../src/kafka/kafkajs-preload.js'; // before kafkajs: fix 10 (src/kafka/kafkajs-fixes.ts)
import { Kafka, logLevel } from 'kafkajs';
import { main } from '../../src/cli/main.js';
import { isMeasured, type Results } from '../../src/run/results.js';
import { Sandbox } from '../../src/sandbox/cluster.js';
import { checklist } from '../../src/score/scorecard.js';
import { collectingIo, extraSandboxDir } from '../helpers.js';
let sb: Sandbox;

async function run(name: string, topics: string, phases: string, delivery = 'alo', target = ''): Promise<{ r: Results; out: string[]; md: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'cb-elastic-'));
  const file = join(dir, `${name}.yaml`);
  const total = [...phases.matchAll(/duration: (\d+)s/g)].reduce((a, m) => a + Number(m[1]), 0);
  writeFileSync(file, `name: ${name}\nseed: 3\nduration: ${total}s\n${target}topics: { partitions: 6, replication: 3, min_insync_replicas: 2, retention: 1d, ${topics} }\ntraffic: { base_rate: 300 }\npopulation: { users: 3000, products: 1000, pages: 200, campaigns: 4, bots: 5 }\nenrichment: { delivery: ${delivery} }\nclients: { producer_zone: a, enrichment_zone: b, probe_zone: c }\nphases:\n${phases}\n`);
  const out: string[] = [];
  const io = collectingIo(out);
  await main(['run', file, '--state-dir', sb.state.stateDir, '--reports', join(dir, 'reports')], io);
  const runDir = readdirSync(join(dir, 'reports'))[0];
  return {
    r: JSON.parse(readFileSync(join(dir, 'reports', runDir, 'results.json'), 'utf8')) as Results,
    out,
    md: readFileSync(join(dir, 'reports', runDir, 'scorecard.md'), 'utf8'),
  };
}

/** Retained history of the scale-out topics: what a moved replica has to copy (local) or mostly leaves in the remote tier (tiered). */
const HISTORY_MB = 100;

const scaleOutPhases = (headroom: string) => `  - { kind: warmup, duration: 3s }
  - { kind: steady, duration: 7s }
  - { kind: scale-out, duration: ${headroom === 'false' ? 30 : 85}s, elastic: { nodes: 1, zones: [a], at: 5s, headroom: ${headroom} } }
  - { kind: steady, name: after, duration: ${headroom === 'false' ? 5 : 40}s }`;
// The after-probe starts once the new node leads partitions and may offer a step twice; 25 s of load after
// the move was not always enough on a slow host (the probe ran past the load's end, so its gain was null).
// The probes stop at 32 000 records/s: a 64 000 step (three times as many records, offered twice when it
// fails) made the after-probe outlast even 40 s more of load once in CI; the sandbox sustains 25–35 000.

async function nodesRunning(ids: number[]): Promise<void> {
  const st = await Sandbox.load(sb.state.stateDir)!.status();
  assert.deepEqual(st.map((n) => [n.id, n.alive]), ids.map((id) => [id, true]), 'every node of the sandbox is running');
}

describe('elasticity phases on the sandbox', () => {
  before(async () => {
    sb = await Sandbox.start({ nodes: 3, zones: ['a', 'b', 'c'], storage: 'tiered', stateDir: extraSandboxDir('cb-elastic-sb') });
  });
  after(async () => {
    await Sandbox.load(sb.state.stateDir)?.stop({ wipe: true });
  });

  it('scale-out 3 → 4, local vs tiered topics: replicas in sync, bytes moved agree with the new node\'s .log files, tiered moves clearly less', async () => {
    const local = await run('scale-local', `history: ${HISTORY_MB}MB`, scaleOutPhases('{ start: 8000, max: 32000, step: 2s, refine: 0 }'));
    await nodesRunning([1, 2, 3, 4]);
    const tiered = await run('scale-tiered', `history: ${HISTORY_MB}MB, tiered: true, local_retention: 3s`, scaleOutPhases('false'));
    await nodesRunning([1, 2, 3, 4, 5]);
    const [lo] = local.r.elasticity!;
    const [to] = tiered.r.elasticity!;
    console.log(`# scale-out local: ${lo.replicasMoved} replicas, ${(lo.bytesMovedLogDirs! / 1e6).toFixed(1)} MB (network ${(lo.bytesMovedNetwork! / 1e6).toFixed(1)} MB ${JSON.stringify(lo.networkByLink)}, truth ${(lo.groundTruthBytes! / 1e6).toFixed(1)} MB) in ${lo.moveMs} ms; tiered: ${to.replicasMoved} replicas, ${(to.bytesMovedLogDirs! / 1e6).toFixed(1)} MB (network ${(to.bytesMovedNetwork! / 1e6).toFixed(1)} MB, truth ${(to.groundTruthBytes! / 1e6).toFixed(1)} MB) in ${to.moveMs} ms, ${(to.remoteTierBytes! / 1e6).toFixed(1)} MB left in the remote tier; counting ${JSON.stringify([lo.networkCounting, to.networkCounting])} ${JSON.stringify(to.networkByLink)}`);
    for (const [{ r, out }, id] of [[local, 4], [tiered, 5]] as const) {
      assert.equal(r.run.status, 'completed', out.join('\n'));
      const [o] = r.elasticity!;
      assert.equal(o.error, null, out.join('\n'));
      assert.equal(o.action, 'scale-out');
      assert.deepEqual(o.nodes, [id], 'a new node id each time (KRaft keeps a removed node registered)');
      assert.ok(o.replicasMoved > 0 && o.completedAtOffsetMs !== null && o.moveMs! > 0);
      assert.ok(Math.abs(o.logDirsVsGroundTruthPct!) < 5, `DescribeLogDirs vs the new node's .log files: ${o.logDirsVsGroundTruthPct} %`);
      // The network carries the moved data plus live writes, framing and re-fetched partial batches. Live
      // writes into the new node during the move (up to ~0.5 MB/s at this load) are a large share of a
      // small tiered move (4–6 MB), so the band allows them by the move's length, not only by a percentage.
      // A fetcher that opened and closed between two readings of the counters is counted from its destroy event,
      // which names no owner: its bytes are reported beside the replication figure as unattributed (seen once: a
      // whole leader's 1.3 MB of a 2.8 MB tiered move there), so the lower bound takes them in; the upper bound
      // holds for the replication figure alone.
      const extra = o.bytesMovedNetwork! - o.bytesMovedLogDirs!;
      const unattributed = o.networkUnattributed!.bytes;
      assert.ok(unattributed >= 0);
      const withUnattributed = ((o.bytesMovedNetwork! + unattributed - o.bytesMovedLogDirs!) / o.bytesMovedLogDirs!) * 100;
      assert.ok(withUnattributed > -10 && extra < 0.25 * o.bytesMovedLogDirs! + 0.5e6 * (o.moveMs! / 1000), `network vs log dirs: ${o.networkVsLogDirsPct} %, ${withUnattributed.toFixed(1)} % with ${(unattributed / 1e6).toFixed(2)} MB unattributed ${JSON.stringify(o.networkUnattributed!.byLeader)} (${(extra / 1e6).toFixed(1)} MB more in ${o.moveMs} ms)`);
      assert.ok(isMeasured(r.accounting) && r.accounting.ackedLost === 0, 'nothing acknowledged was lost');
      // The run's disk figures count the new node too (its DescribeLogDirs answer), and agree with the files
      // on every node's disk, the moved replicas' old folders (-delete, removed 60 s later) left out.
      assert.ok(isMeasured(r.disk) && String(id) in r.disk.byBroker, `disk per broker: ${isMeasured(r.disk) ? Object.keys(r.disk.byBroker) : r.disk.reason}`);
      assert.ok(isMeasured(r.disk.groundTruth) && Math.abs(r.disk.groundTruth.diffPct) < 5, `DescribeLogDirs vs the files: ${JSON.stringify(r.disk.groundTruth)}`);
      // Elasticity is headroom added: judged where the headroom was probed (the local run), not measured without it (the tiered run).
      const elasticity = checklist(r).find((c) => c.item === 'Elasticity')!;
      if (o.headroom?.after?.sustainableRate != null) assert.notEqual(elasticity.healthy, 'not measured', elasticity.evidence.join('\n'));
      else {
        assert.equal(elasticity.healthy, 'not measured', elasticity.evidence.join('\n'));
        assert.match(elasticity.evidence.join('\n'), /no headroom was measured around the move/);
      }
    }
    // Headroom (local run): a step-load probe before and after, both under the live load; the new node leads partitions.
    const h = lo.headroom!;
    console.log(`# headroom: before ${JSON.stringify(h.before?.steps.map((x) => [x.offeredRate, Math.round(x.achievedRate ?? 0), x.ackP99Ms, x.passed]))}, after ${JSON.stringify(h.after?.steps.map((x) => [x.offeredRate, Math.round(x.achievedRate ?? 0), x.ackP99Ms, x.passed]))}; gain ${h.gainPct} (${h.gainNote}); usable after ${lo.capacityUsableAfterMs} ms, ${lo.leadersOnNewNodes} leaders on node 4; move-window latency ${JSON.stringify(lo.latencyDuringMove)}`);
    for (const probe of [h.before!, h.after!]) {
      assert.equal(probe.error, null);
      assert.ok(probe.underLiveLoad, `${probe.when} probe ran under the scenario's load`);
      assert.equal(probe.steps[0].offeredRate, 8000);
      for (let i = 1; i < probe.steps.length; i++) assert.equal(probe.steps[i].offeredRate, Math.min(32000, probe.steps[i - 1].offeredRate * 2), 'steps double until one fails (refine 0)');
      assert.ok(probe.steps.every((x) => x.achievedRate! > 0 && x.ackP99Ms! >= 0), 'every step has ProducerPerformance figures');
      assert.equal(probe.sustainableRate, Math.max(0, ...probe.steps.filter((x) => x.passed).map((x) => x.offeredRate)) || null);
    }
    assert.deepEqual([h.before!.brokers, h.after!.brokers], [3, 4]);
    assert.ok(h.before!.startedAtOffsetMs < lo.requestedAtOffsetMs! && h.after!.startedAtOffsetMs >= lo.completedAtOffsetMs!, 'before the request, after the move');
    assert.ok(lo.leadersOnNewNodes! > 0 && lo.capacityUsableAfterMs! >= lo.durationMs! - 5, 'the new node leads partitions once its replicas are in sync');
    assert.ok(lo.latencyDuringMove?.produceAck && lo.latencyDuringMove.produceAck.count > 0, 'latency while replicas moved');
    assert.match(local.md, /Headroom gained by scale-out: .*\n\n\| probe \| at \| brokers \|/);
    assert.match(local.md, /New capacity usable \d+\.\d s after the scale-out request: the new node\(s\) led \d+ partition/);
    assert.match(tiered.md, /Headroom gained by scale-out: not measured \(headroom: false in the scenario\)/);
    assert.ok(lo.bytesMovedLogDirs! > 0.5 * (HISTORY_MB * 1e6 * 3 / 6) * 0.5, `local moved ${lo.bytesMovedLogDirs} B: most of the moved partitions' history`);
    assert.ok(to.bytesMovedLogDirs! < 0.5 * lo.bytesMovedLogDirs!, `tiered moved ${to.bytesMovedLogDirs} B vs local ${lo.bytesMovedLogDirs} B`);
    assert.ok(to.remoteTierBytes! > 0, 'the moved partitions had data in the remote tier');
    assert.match(local.md, /## Elasticity and data movement/);
    assert.match(tiered.md, /\| scale-out \| scale-out 5 \| \d+ \(\d+ partitions\) \|/);
  });

  it('broker replacement with an emptied disk rebuilds every replica; nothing acknowledged is lost', async () => {
    const { r, out, md } = await run('replace', 'history: 100MB', `  - { kind: warmup, duration: 3s }
  - { kind: steady, duration: 7s }
  - { kind: replace-broker, duration: 30s, elastic: { node: 3, at: 2s } }
  - { kind: steady, name: after, duration: 5s }`, 'eos');
    await nodesRunning([1, 2, 3, 4, 5]);
    assert.equal(r.run.status, 'completed', out.join('\n'));
    const [x] = r.elasticity!;
    console.log(`# replace node 3: ${x.replicasMoved} replicas rebuilt, ${(x.bytesMovedLogDirs! / 1e6).toFixed(1)} MB (network ${(x.bytesMovedNetwork! / 1e6).toFixed(1)} MB) in ${x.moveMs} ms; accounting ${JSON.stringify(r.accounting)}`);
    assert.equal(x.error, null, out.join('\n'));
    assert.equal(x.action, 'replace-broker');
    assert.deepEqual(x.nodes, [3]);
    assert.ok(x.durationMs! > 0 && x.completedAtOffsetMs !== null);
    assert.ok(x.replicasMoved > 0 && x.bytesMovedLogDirs! > 20e6, `node 3 rebuilt its replicas, history included: ${x.replicasMoved} replicas, ${x.bytesMovedLogDirs} B`);
    assert.ok(Math.abs(x.logDirsVsGroundTruthPct!) < 5, `${x.logDirsVsGroundTruthPct} %`);
    assert.ok(isMeasured(r.accounting));
    assert.equal(r.accounting.ackedLost, 0);
    assert.equal(r.accounting.sinkMissing, 0);
    assert.match(md, /Timeline of replace-broker: .* stopping node 3 .* partition directories removed .* every new replica in its ISR/);
  });

  it('external cluster: the user\'s command starts a broker, clickbench waits for it and moves replicas through the admin API', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-elastic-ext-'));
    const script = join(dir, 'add-broker.mjs');
    writeFileSync(script, `const { Sandbox } = await import(${JSON.stringify(new URL('../../src/sandbox/cluster.js', import.meta.url).href)});\nconst ids = await Sandbox.load(${JSON.stringify(sb.state.stateDir)}).addNodes(['a']);\nconsole.log('started broker ' + ids.join(','));\n`);
    const live = Sandbox.load(sb.state.stateDir)!;
    const bootstrap = live.state.nodes.filter((n) => n.role !== 'broker').map((n) => `127.0.0.1:${n.port}`).join(',');
    const zones = Object.fromEntries([...live.state.nodes.map((n) => [String(n.id), n.zone]), ['6', 'a']]);
    const { r, out, md } = await run('external', 'history: 60MB', `  - { kind: warmup, duration: 3s }
  - { kind: steady, duration: 5s }
  - { kind: scale-out, duration: 30s, elastic: { brokers: [6], command: 'node ${script}', at: 2s, headroom: false } }
  - { kind: scale-in, duration: 20s, elastic: { brokers: [6] } }
  - { kind: steady, name: after, duration: 3s }`, 'alo', `target: { kind: brokers, brokers: '${bootstrap}', zones: ${JSON.stringify(zones)} }\n`);
    await nodesRunning([1, 2, 3, 4, 5, 6]);
    assert.equal(r.run.status, 'completed', out.join('\n'));
    assert.equal(r.cluster.target, 'brokers');
    const [x] = r.elasticity!;
    console.log(`# external scale-out: ${x.replicasMoved} replicas, ${(x.bytesMovedLogDirs! / 1e6).toFixed(1)} MB in ${x.moveMs} ms; ${x.milestones.map((m) => m.what).join(' → ')}`);
    assert.equal(x.error, null, out.join('\n'));
    assert.deepEqual(x.nodes, [6]);
    assert.ok(x.replicasMoved > 0 && x.bytesMovedLogDirs! > 0 && x.completedAtOffsetMs !== null);
    assert.equal(x.groundTruthBytes, null, 'no access to an external cluster\'s disks');
    assert.ok(x.milestones.some((m) => /the scale-out command finished in [\d.]+ s: started broker 6/.test(m.what)), JSON.stringify(x.milestones));
    // Scale-in through the admin API: node 6 gives its replicas back (to the brokers that gave them up) and keeps running, empty.
    const y = r.elasticity![1];
    console.log(`# external scale-in: ${y.replicasMoved} replicas in ${y.moveMs} ms; ${y.error ?? 'ok'}`);
    assert.equal(y.action, 'scale-in');
    assert.equal(y.error, null, out.join('\n'));
    assert.equal(y.replicasMoved, x.replicasMoved, 'every replica node 6 received moves off it again');
    const admin = new Kafka({ brokers: bootstrap.split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const md6 = await admin.fetchTopicMetadata({ topics: (await admin.listTopics()).filter((t) => t.startsWith(r.topics.prefix)) });
      assert.equal(md6.topics.flatMap((t) => t.partitions).filter((p) => p.replicas.includes(6)).length, 0, 'node 6 holds no replica of the run\'s topics');
    } finally {
      await admin.disconnect();
    }
    assert.ok(isMeasured(r.accounting) && r.accounting.ackedLost === 0);
    assert.match(md, /\| scale-out \| scale-out 6 \|/);
  });
});
