import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ClickstreamGenerator } from '../../src/generate/clickstream.js';
import { parseScenario } from '../../src/scenario/load.js';
import { topicNames } from '../../src/drive/topics.js';
import type { LoadResult } from '../../src/workers/coordinator.js';
import { isMeasured } from '../../src/run/results.js';
import { exited, readAll, runScenarioFile, spawnCli, testKafka, testSandbox, uniqueName } from '../helpers.js';

const sb = testSandbox();
const kafka = testKafka(sb);

// Bursts, bots, bad records, logins and profile changes: the state the shards must keep alike.
const SCENARIO = `name: workers-test
duration: 10s
seed: 21
traffic:
  base_rate: 600
  bursts:
    - {name: sale, kind: flash-sale, at: 3s, duration: 3s, multiplier: 2}
topics: {partitions: 6, replication: 3, min_insync_replicas: 2}
population: {users: 4000, products: 500, pages: 100, campaigns: 4, bots: 12}
bad_records: {rate: 0.01}
`;

const hash = (v: string) => createHash('sha256').update(v).digest('base64');

/** A run's folder (the scenario file, where load writes its JSON and report), a fresh prefix, and the `load` arguments both tests pass. */
function newRun(name: string) {
  const dir = mkdtempSync(join(tmpdir(), 'cb-workers-'));
  const file = join(dir, 'workers.yaml');
  writeFileSync(file, SCENARIO);
  const prefix = uniqueName(name);
  const json = join(dir, 'load.json');
  return { dir, prefix, json, loadArgs: ['load', file, '--workers', '3', '--brokers', sb.bootstrap, '--prefix', prefix, '--json', json, '--keep', '--reports', join(dir, 'reports')] };
}

/** Ground truth: the single stream (or one shard of it) for the run's seed, id and start, as payload hashes with their intended times. */
function streamOf(r: { startMs: number; runId: string }, shard?: { index: number; of: number }, yaml = SCENARIO): { hash: string; intendedMs: number }[] {
  const g = new ClickstreamGenerator(parseScenario(yaml).scenario, { startMs: r.startMs, idPrefix: r.runId, shard });
  const out: { hash: string; intendedMs: number }[] = [];
  while (!g.done()) {
    const e = g.next();
    out.push({ hash: hash(e.value), intendedMs: e.intendedMs });
  }
  return out;
}

describe('load workers (issue #20): 3 worker processes and a coordinator on the sandbox', () => {
  it('the union of what the workers produced is the single-process stream (ids and payloads); merged figures add up', async () => {
    const { dir, prefix, json, loadArgs } = newRun('cb-test-workers');
    const load = spawnCli([...loadArgs, '--spawn']);
    await exited(load);
    assert.equal(load.exitCode, 0, load.output.join(''));
    const r = JSON.parse(readFileSync(json, 'utf8')) as LoadResult & { runId: string };

    const single = streamOf(r);
    const want = single.map((e) => e.hash);
    const perSecond: number[] = [];
    for (const e of single) {
      const s = Math.floor((e.intendedMs - r.startMs) / 1000);
      perSecond[s] = (perSecond[s] ?? 0) + 1;
    }
    const raw = await readAll(kafka, topicNames(prefix).raw, want.length);
    assert.equal(raw.length, want.length, 'as many records in the raw topic as events in the single stream');
    assert.deepEqual(raw.map((m) => hash(m.value)).sort(), want.sort(), 'the same payloads (event ids included), each once');

    assert.equal(r.workers.length, 3);
    assert.deepEqual(r.workers.map((w) => w.shard), [0, 1, 2]);
    assert.equal(new Set(r.workers.map((w) => w.pid)).size, 3, 'three processes');
    for (const w of r.workers) {
      assert.ok(w.done, `shard ${w.shard} finished`);
      assert.ok(w.acked > want.length / 6, `shard ${w.shard} acknowledged ${w.acked}`);
      assert.ok(Math.abs(w.clockOffsetMs) <= Math.max(5, w.clockRoundTripMs), `one machine: clock offset ${w.clockOffsetMs} ms (round trip ${w.clockRoundTripMs})`);
    }
    // (The merged series run as long as any worker reported a second: acknowledgements come after the last intended second.)
    assert.deepEqual(r.intended.map((n) => n ?? 0).slice(0, perSecond.length), Array.from({ length: perSecond.length }, (_, s) => perSecond[s] ?? 0), 'per-second totals: the single stream\'s');
    assert.ok(r.intended.slice(perSecond.length).every((n) => !n));
    assert.equal(r.acked.reduce((a, b) => a + b, 0), want.length);
    assert.equal(r.mergedCount, r.workers.reduce((a, w) => a + (w.produceAck?.count ?? 0), 0), 'merged histogram = sum of the workers\'');
    assert.equal(r.mergedCount, want.length);
    assert.deepEqual(r.unfinished, []);
    assert.match(load.output.join(''), /## Load from 3 worker\(s\)/);
    assert.match(readFileSync(join(dir, 'reports', prefix, 'load.md'), 'utf8'), /merged from the workers' \(\d+ values = the sum of theirs: \d+\)/);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'reports', prefix, 'load.json'), 'utf8')).workers, r.workers);
  });

  it('a worker killed mid-run: the run completes (exit 3), names the worker, its shard and the events it did not send; nothing else is missing', async () => {
    const { prefix, json, loadArgs } = newRun('cb-test-workers-kill');
    // Workers first (as an orchestrator starts them: before the coordinator made the run's topics), each with
    // its shard fixed as an Indexed Job fixes it (--index i --of 3), then the coordinator.
    const workers = [0, 1, 2].map((i) => spawnCli(['worker', '--prefix', prefix, '--brokers', sb.bootstrap, '--index', String(i), '--of', '3']));
    const load = spawnCli(loadArgs);
    const victim = workers[1];
    await new Promise<void>((resolve) => {
      const look = setInterval(() => {
        if (/shard 1 of 3: schedule starts in/.test(victim.output.join(''))) {
          clearInterval(look);
          resolve();
        }
      }, 50);
    });
    await new Promise((r) => setTimeout(r, 6_000)); // ~4 s into the 10 s schedule
    victim.kill('SIGKILL');
    await exited(load);
    for (const w of workers) await exited(w);
    assert.equal(load.exitCode, 3, load.output.join(''));
    const r = JSON.parse(readFileSync(json, 'utf8')) as LoadResult & { runId: string };
    assert.equal(r.unfinished.length, 1);
    const u = r.unfinished[0];
    assert.equal(u.shard, 1, 'the shard its --index named');
    const w = r.workers.find((x) => x.shard === u.shard)!;
    assert.equal(w.pid, victim.pid, 'the killed process is the one named');
    assert.ok(u.leftGroup);
    assert.ok(u.lastSecond >= 2 && u.lastSecond <= 7, `last second reported ${u.lastSecond}`);
    assert.ok(u.notAcknowledged > 0 && u.notAcknowledged < u.shardEvents, `${u.notAcknowledged} of ${u.shardEvents}`);
    assert.match(load.output.join(''), new RegExp(`did not finish: shard ${u.shard} \\(\\S+:${victim.pid}\\) reported up to second ${u.lastSecond}, ${u.notAcknowledged} of its ${u.shardEvents} events not acknowledged`));
    // The other shards: every event of theirs in the raw topic, once; the rest are the killed shard's own.
    const shardHashes = (index: number) => streamOf(r, { index, of: 3 }).map((e) => e.hash);
    const others = [0, 1, 2].filter((i) => i !== u.shard).flatMap(shardHashes);
    const killed = new Set(shardHashes(u.shard));
    assert.equal(killed.size, u.shardEvents);
    const raw = (await readAll(kafka, topicNames(prefix).raw, others.length)).map((m) => hash(m.value));
    const count = new Map<string, number>();
    for (const h of raw) count.set(h, (count.get(h) ?? 0) + 1);
    assert.deepEqual(others.filter((h) => count.get(h) !== 1), [], 'every event of the other shards once');
    const fromKilled = raw.filter((h) => killed.has(h)).length;
    assert.equal(raw.length, others.length + fromKilled, 'nothing in the raw topic from outside the stream');
    assert.ok(fromKilled >= u.shardEvents - u.notAcknowledged && fromKilled < u.shardEvents, `${fromKilled} of the killed shard's events landed`);
    for (const x of r.workers.filter((x) => x.shard !== u.shard)) assert.ok(x.done);
  });

  // The whole pipeline fed by workers: enrichment, probe, accounting and scorecard as with one process.
  const RUN_SCENARIO = SCENARIO.replace('name: workers-test', 'name: workers-run').replace('duration: 10s', 'duration: 12s');

  it('run --workers 2: the workers produce the single-process stream, and the run accounts for every event as with one process', async () => {
    const run = await runScenarioFile(sb, RUN_SCENARIO, ['--workers', '2', '--keep']);
    assert.equal(run.exitCode, 0, run.output);
    const r = run.results;
    const single = streamOf({ startMs: r.run.scheduleStartMs!, runId: r.topics.prefix }, undefined, RUN_SCENARIO);
    const raw = await readAll(kafka, r.topics.raw, single.length);
    assert.deepEqual(raw.map((m) => hash(m.value)).sort(), single.map((e) => e.hash).sort(), 'the raw topic holds the single stream (same ids and payloads), each event once');
    assert.equal(r.throughput.intendedEvents, single.length);
    assert.equal(r.throughput.ackedEvents, single.length);
    assert.equal(r.series.perSecond.reduce((a, x) => a + x.intended, 0), single.length, 'per-second intended adds up');
    assert.equal(r.latency.produceAck?.count, single.length, 'a produce-ack latency per acknowledged event, reported by the workers');
    const c = r.correctness;
    assert.equal(c.missing, 0);
    assert.equal(c.duplicates, 0);
    assert.ok(c.badRecordsAcked > 0 && isMeasured(c.badRecords) && c.badRecords.found === c.badRecordsAcked, 'each bad record a worker acknowledged found in the DLQ by its raw partition and offset');
    assert.equal(c.seenDistinct, c.expectedInSink);
    assert.ok((r.latency.e2e?.count ?? 0) > single.length * 0.9);
    const w = r.workers!;
    assert.equal(w.workers.length, 2);
    assert.deepEqual(w.workers.map((x) => x.shard), [0, 1]);
    assert.ok(w.workers.every((x) => x.done && x.acked > 0));
    assert.equal(w.workers.reduce((a, x) => a + x.acked, 0), single.length);
    assert.deepEqual(w.unfinished, []);
    assert.match(readFileSync(join(run.runDir, 'scorecard.md'), 'utf8'), /The load came from 2 load worker process\(es\)/);
  });

  it('run --workers 2 --external-workers, one worker killed mid-run: exit 3, the report names it and its shard; nothing else is counted missing', async () => {
    const workers: ReturnType<typeof spawnCli>[] = [];
    const run = await runScenarioFile(sb, RUN_SCENARIO, ['--workers', '2', '--external-workers'], async (child) => {
      // As a user would: start the workers with the command the run prints.
      let cmd: RegExpMatchArray | null = null;
      while (!(cmd = child.output.join('').match(/start each with\s+clickbench worker --prefix (\S+) --brokers (\S+)/)) && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
      assert.ok(cmd, child.output.join(''));
      for (let i = 0; i < 2; i++) workers.push(spawnCli(['worker', '--prefix', cmd[1], '--brokers', cmd[2]]));
      const victim = workers[1];
      while (!/schedule starts in/.test(victim.output.join('')) && victim.exitCode === null) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 6_000)); // ~4 s into the 12 s schedule
      victim.kill('SIGKILL');
    });
    for (const x of workers) await exited(x);
    assert.equal(run.exitCode, 3, run.output);
    const r = run.results;
    assert.equal(r.run.status, 'failed');
    const w = r.workers!;
    assert.equal(w.unfinished.length, 1);
    const u = w.unfinished[0];
    const named = w.workers.find((x) => x.shard === u.shard)!;
    assert.equal(named.pid, workers[1].pid, 'the killed process is the one named');
    assert.ok(u.notAcknowledged > 0 && u.notAcknowledged < u.shardEvents, `${u.notAcknowledged} of ${u.shardEvents}`);
    assert.ok(w.workers.find((x) => x.shard !== u.shard)!.done, 'the other worker finished');
    // Only what was acknowledged is expected downstream: the killed shard's unsent events are not "missing".
    assert.equal(r.correctness.missing, 0);
    assert.equal(r.correctness.duplicates, 0);
    assert.equal(r.throughput.ackedEvents, w.workers.reduce((a, x) => a + x.acked, 0));
    assert.match(run.output, new RegExp(`did not finish: shard ${u.shard} \\(\\S+:${named.pid}\\) reported up to second ${u.lastSecond}, ${u.notAcknowledged} of its ${u.shardEvents} events not acknowledged`));
    assert.match(readFileSync(join(run.runDir, 'scorecard.md'), 'utf8'), new RegExp(`Worker of shard ${u.shard} \\(\\S+:${named.pid}\\) did not finish`));
  });
});
