import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { isMeasured, type Results } from '../../src/run/results.js';
import { checklist } from '../../src/score/scorecard.js';
import { Sandbox } from '../../src/sandbox/cluster.js';
import { collectingIo, sleep, testSandbox, waitUntil } from '../helpers.js';

const sb = testSandbox();

/** A short fault scenario on the suite's sandbox (3 nodes, zones a/b/c). */
function scenario(name: string, o: { replication?: number; minIsr?: number; delivery?: 'eos' | 'alo'; phases: string; gates?: string }): string {
  return `name: ${name}
seed: 5
duration: ${o.phases.match(/duration: (\d+)s/g)!.reduce((a, m) => a + Number(m.slice(10, -1)), 0)}s
topics: { partitions: 6, replication: ${o.replication ?? 3}, min_insync_replicas: ${o.minIsr ?? 2}, retention: 1d }
traffic: { base_rate: 600 }
population: { users: 5000, products: 2000, pages: 300, campaigns: 5, bots: 10 }
enrichment: { delivery: ${o.delivery ?? 'eos'} }
clients: { producer_zone: a, enrichment_zone: b, probe_zone: c }
phases:
${o.phases}
${o.gates ? `gates:\n${o.gates}\n` : ''}`;
}

async function run(yaml: string): Promise<{ r: Results; code: number; out: string[]; md: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'cb-fault-'));
  const file = join(dir, 'scenario.yaml');
  writeFileSync(file, yaml);
  const out: string[] = [];
  const io = collectingIo(out);
  const code = await main(['run', file, '--state-dir', sb.state.stateDir, '--reports', join(dir, 'reports')], io);
  const runDir = readdirSync(join(dir, 'reports'))[0];
  const r = JSON.parse(readFileSync(join(dir, 'reports', runDir, 'results.json'), 'utf8')) as Results;
  const md = readFileSync(join(dir, 'reports', runDir, 'scorecard.md'), 'utf8');
  return { r, code, out, md };
}

async function allNodesUp(): Promise<void> {
  // The run restarted nodes and recorded their new pids: read the state again.
  const st = await Sandbox.load(sb.state.stateDir)!.status();
  assert.ok(st.every((n) => n.alive), `every sandbox node is running again: ${JSON.stringify(st.map((n) => [n.id, n.alive]))}`);
}

describe('fault phases on the sandbox', () => {
  it('leader kill during a burst and an enricher kill (RF 3, min ISR 2, acks all, eos): nothing acknowledged is lost or enriched twice', async () => {
    // The recovery phase leaves room for a slow restart: a SIGKILLed node took 5–45 s to rejoin on a
    // loaded two-core machine, and the Recovery row needs the lag drained within the run.
    const { r, out, md } = await run(scenario('fault-leader', {
      phases: `  - { kind: warmup, duration: 5s }
  - { kind: steady, duration: 10s }
  - { kind: fault, name: leader-kill, duration: 25s, fault: { action: broker-kill, leader_of: raw, at: 2s, down_for: 12s } }
  - { kind: fault, name: enricher-kill, duration: 15s, fault: { action: enricher-kill, at: 3s, down_for: 3s } }
  - { kind: steady, name: recovery, duration: 30s }`,
    }));
    await allNodesUp();
    assert.equal(r.run.status, 'completed', out.join('\n'));
    const [broker, enricher] = r.faults;
    console.log(`# leader kill: writes unavailable max ${isMeasured(broker.writeUnavailability) ? broker.writeUnavailability.maxMs : '–'} ms, ISR whole ${broker.recovery.isrRestoreMs} ms after restart, lag drained ${broker.recovery.lag.drainMs} ms; EOS commits that failed but had landed: ${r.enrichment.commitsConfirmedAfterError}, aborted ${r.enrichment.transactionsAborted}; accounting ${JSON.stringify(r.accounting)}`);
    assert.equal(broker.action, 'broker-kill');
    assert.equal(broker.error, null, out.join('\n'));
    assert.equal(broker.nodes.length, 1);
    assert.ok(isMeasured(broker.writeUnavailability), 'write availability measured');
    assert.ok(broker.writeUnavailability.maxMs > 0, 'the kill stalled some writes');
    assert.ok(broker.writeUnavailability.perPartition.some((p) => p.leaderLost), 'the killed node led raw partitions');
    assert.notEqual(broker.recovery.isrRestoreMs, null, 'the restarted node rejoined every ISR');
    assert.ok(broker.recovery.leaderElections > 0, 'leaders moved');
    assert.ok(broker.latency.during.produceAck && broker.latency.during.produceAck.maxMs >= broker.writeUnavailability.maxMs * 0.5, 'the stall shows in produce latency (from intended time)');
    assert.equal(enricher.action, 'enricher-kill');
    assert.notEqual(enricher.restoredAtOffsetMs, null, 'the enrichment process was restarted');
    assert.ok(isMeasured(r.accounting));
    assert.equal(r.accounting.ackedLost, 0);
    // Nothing written twice: not by the driver around the leader change (kafkajs re-sent partitions already
    // written before fix 12), not by the stage (exactly-once from raw to sink).
    assert.equal(r.accounting.rawDuplicates, 0, `the driver wrote events twice: ${JSON.stringify(r.accounting)}`);
    assert.equal(r.accounting.sinkDuplicates, 0, `the stage added duplicates: ${JSON.stringify(r.accounting)} ${JSON.stringify(r.correctness.duplicateExamples ?? [])}`);
    assert.equal(r.accounting.sinkMissing, 0);
    assert.equal(r.throughput.failedEvents, 0, 'no event was given up on');
    assert.ok(r.accounting.ackedChecked > 20_000);
    assert.equal(checklist(r).find((c) => c.item === 'Recovery')!.healthy, 'yes');
    assert.match(md, /## Faults and recovery/);
    assert.match(md, /\*\*0 lost\*\*/);
    // The stage ran as a child process: its requests and CPU still count in clickbench's cost.
    assert.ok(isMeasured(r.cost!), 'cost measured');
    const stageRequests = r.cost.requests.enrichment ?? {};
    assert.ok((stageRequests.Fetch ?? 0) > 0 && (stageRequests.EndTxn ?? 0) > 0, `the child stage's requests are counted: ${JSON.stringify(r.cost.requests)}`);
  });

  it('zone outage of one of three zones: producing continues and is accounted for', async () => {
    const { r, out } = await run(scenario('fault-zone', {
      phases: `  - { kind: steady, duration: 10s }
  - { kind: fault, name: zone-b-down, duration: 20s, fault: { action: zone-outage, zone: b, at: 2s, down_for: 10s } }
  - { kind: steady, name: recovery, duration: 10s }`,
    }));
    await allNodesUp();
    assert.equal(r.run.status, 'completed', out.join('\n'));
    const f = r.faults[0];
    assert.deepEqual(f.nodes, sb.state.nodes.filter((n) => n.zone === 'b').map((n) => n.id));
    assert.ok(isMeasured(f.writeUnavailability) && f.writeUnavailability.affectedPartitions > 0);
    assert.equal(r.throughput.ackedEvents, r.throughput.intendedEvents, 'every event was acknowledged (two zones keep min ISR 2)');
    assert.equal(r.throughput.failedEvents, 0);
    // On failure: the accounting and what the run said about its clients (why the stage fell behind).
    const said = out.filter((l) => /crash|restart|could not|abort|lag|fault/i.test(l)).slice(-30).join('\n');
    assert.ok(isMeasured(r.accounting) && r.accounting.ackedLost === 0 && r.accounting.sinkMissing === 0 && r.accounting.rawDuplicates === 0 && r.accounting.sinkDuplicates === 0, `${JSON.stringify(r.accounting)} ${JSON.stringify(r.correctness.duplicateExamples ?? [])}\nenrichment ${JSON.stringify({ ...r.enrichment, counters: undefined })}\n${said}`);
    assert.notEqual(f.recovery.isrRestoreMs, null);
  });

  it('an enrichment process that crashes by itself stops the run: one error line, exit 3, the partial report kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-crash-'));
    const file = join(dir, 'scenario.yaml');
    // The stage runs as its own process in runs with an enricher-kill fault; this one's comes too late to matter.
    writeFileSync(file, scenario('stage-crash', {
      phases: `  - { kind: steady, duration: 20s }
  - { kind: fault, name: late-kill, duration: 15s, fault: { action: enricher-kill, at: 10s, down_for: 3s } }`,
    }));
    const out: string[] = [];
    const running = main(['run', file, '--state-dir', sb.state.stateDir, '--reports', join(dir, 'reports')], collectingIo(out));
    assert.ok(await waitUntil(() => out.some((l) => /running 35 s of traffic/.test(l)), 90_000, 100), out.join('\n'));
    await sleep(4_000);
    const stages = childrenOf(process.pid, ' enrich ');
    assert.equal(stages.length, 1, `one enrichment process (${stages.join(', ')})`);
    process.kill(stages[0], 'SIGKILL'); // from outside: a crash, not the run's own fault
    const t0 = Date.now();
    const code = await running;
    assert.equal(code, 3, out.join('\n'));
    assert.ok(Date.now() - t0 < 45_000, 'the run stopped instead of carrying on to its end');
    assert.ok(out.some((l) => new RegExp(`^clickbench: the enrichment process \\(pid ${stages[0]}\\) ended by itself \\(signal SIGKILL\\)`).test(l)), out.join('\n'));
    const runDir = readdirSync(join(dir, 'reports'))[0];
    const r = JSON.parse(readFileSync(join(dir, 'reports', runDir, 'results.json'), 'utf8')) as Results;
    assert.equal(r.run.status, 'failed');
    assert.match(r.run.error ?? '', /ended by itself/);
    assert.ok(r.throughput.ackedEvents > 1_000, `what was measured before the crash is in the partial results (${r.throughput.ackedEvents} acknowledged)`);
    assert.ok(r.phases.length > 0 && r.latency.produceAck !== null, 'phases and latency assembled');
    assert.ok(existsSync(join(dir, 'reports', runDir, 'scorecard.md')));
    assert.equal(r.topics.deleted, true);
  });

  it('enricher kill with at-least-once reports the duplicates it causes', async () => {
    const { r, out } = await run(scenario('fault-alo', {
      delivery: 'alo',
      phases: `  - { kind: steady, duration: 10s }
  - { kind: fault, name: enricher-kill, duration: 15s, fault: { action: enricher-kill, at: 3s, down_for: 3s } }
  - { kind: steady, name: recovery, duration: 5s }`,
    }));
    assert.equal(r.run.status, 'completed', out.join('\n'));
    assert.ok(isMeasured(r.accounting));
    console.log(`# at-least-once enricher kill: ${r.accounting.sinkDuplicates} duplicates in the sink`);
    assert.ok(r.accounting.sinkDuplicates > 0, 'the replayed, uncommitted work shows as duplicates');
    assert.equal(r.accounting.sinkDuplicates, r.correctness.duplicates);
    assert.equal(r.accounting.ackedLost, 0);
    assert.equal(r.accounting.sinkMissing, 0);
  });

  it('a deliberately lossy setup (RF 1, leader killed, its partition directories wiped) reports acked_lost > 0', async () => {
    const { r, out, code } = await run(scenario('fault-lossy', {
      replication: 1, minIsr: 1,
      phases: `  - { kind: steady, duration: 10s }
  - { kind: fault, name: disk-loss, duration: 15s, fault: { action: broker-kill, leader_of: raw, at: 2s, down_for: 4s, wipe: true } }
  - { kind: steady, name: after, duration: 5s }`,
      gates: '  correctness.acked_lost: "== 0"',
    }));
    await allNodesUp();
    assert.ok(isMeasured(r.accounting), `${r.accounting && 'reason' in r.accounting ? r.accounting.reason : ''}\n${out.join('\n')}`);
    console.log(`# lossy: ${r.accounting.ackedLost} of ${r.accounting.ackedChecked} acknowledged events lost (by partition ${JSON.stringify(r.accounting.lostByPartition)})`);
    assert.ok(r.accounting.ackedLost > 0, 'the wiped partitions\' acknowledged events are reported lost');
    assert.equal(checklist(r).find((c) => c.item === 'Recovery')!.healthy, 'no');
    assert.equal(code, 1, 'the acked_lost gate fails the run');
    assert.match(out.join('\n'), /correctness\.acked_lost.*FAIL/);
  });

  it('refuses a broker fault against an external cluster without a command, before any load (exit 2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-fault-ext-'));
    const file = join(dir, 's.yaml');
    writeFileSync(file, `name: ext\nduration: 20s\ntarget: { kind: brokers, brokers: "${sb.brokers.join(',')}" }\ntraffic: { base_rate: 10 }\nphases:\n  - { kind: fault, duration: 10s, fault: { action: broker-kill, node: 1 } }\n`);
    const out: string[] = [];
    const io = collectingIo(out);
    assert.equal(await main(['validate', file], io), 2);
    assert.match(out.join('\n'), /fault\.command: a broker-kill against an external cluster needs fault\.command/);
    // The same fault in a sandbox scenario, pointed at --brokers: refused at run start.
    writeFileSync(file, `name: ext\nduration: 20s\ntraffic: { base_rate: 10 }\nphases:\n  - { kind: fault, duration: 10s, fault: { action: broker-kill, node: 1 } }\n`);
    out.length = 0;
    assert.equal(await main(['run', file, '--brokers', sb.brokers.join(','), '--reports', join(dir, 'reports')], io), 2);
    assert.match(out.join('\n'), /needs fault\.command/);
  });
});

/** Pids of processes whose parent is `ppid` and whose command line contains `text`. */
function childrenOf(ppid: number, text: string): number[] {
  const found: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const parent = /PPid:\s+(\d+)/.exec(readFileSync(`/proc/${d}/status`, 'utf8'))?.[1];
      if (Number(parent) === ppid && readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ').includes(text)) found.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}
