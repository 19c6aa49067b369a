import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseScenario } from '../../src/scenario/load.js';
import { topicNames } from '../../src/drive/topics.js';
import { readCommits } from '../../src/sink/table.js';
import { tableEventIds, type TableCheck } from '../../src/sink/query.js';
import type { LatencySummary } from '../../src/observe/latency.js';
import { isMeasured } from '../../src/run/results.js';
import { evaluateGates } from '../../src/score/gates.js';
import { exited, groupLag, produceGenerated, readAll, runScenarioFile, spawnCli, testKafka, testSandbox, uniqueName, waitUntil } from '../helpers.js';

const sb = testSandbox();
const kafka = testKafka(sb);
const EVENTS = 20_000;

// A schedule of 20 000 events/s: the events' intended times are within a second of when the test produces them.
const scenario = parseScenario(`name: table-test
duration: 60s
traffic: {base_rate: 20000, arrivals: uniform}
topics: {partitions: 6, replication: 3, min_insync_replicas: 2}
population: {users: 3000, products: 800, pages: 200, campaigns: 6, bots: 10, anonymous_share: 0.5}
bad_records: {rate: 0.01}
`).scenario;

describe('table sink (issue #21) on the sandbox', () => {
  it('enriched events as Parquet: a sink SIGKILLed mid-way and restarted leaves every enriched event in the table once; freshness measured by querying', async (t) => {
    const prefix = uniqueName('cb-test-table');
    const names = topicNames(prefix);
    const dir = join(mkdtempSync(join(tmpdir(), 'cb-table-')), 'table');
    const sinkArgs = ['sink', '--brokers', sb.bootstrap, '--prefix', prefix, '--dir', dir, '--rows', '2000', '--seconds', '1', '--stats-every', '1'];
    // The stage and the sink start once the topics and lookups exist, and see the events arrive.
    let stage!: ReturnType<typeof spawnCli>;
    let first!: ReturnType<typeof spawnCli>;
    await produceGenerated(kafka, prefix, scenario, EVENTS, {
      startMs: Date.now(),
      ready: () => {
        stage = spawnCli(['enrich', '--brokers', sb.bootstrap, '--prefix', prefix, '--delivery', 'eos']);
        first = spawnCli(sinkArgs);
      },
    });
    const committedRows = () => readCommits(dir).reduce((a, c) => a + c.rows, 0);
    assert.ok(await waitUntil(async () => committedRows() > EVENTS * 0.3, 120_000, 50), `the sink committed before the kill:\n${first.output.join('')}`);
    first.kill('SIGKILL');
    await exited(first);
    const atKill = committedRows();
    const second = spawnCli(sinkArgs);
    // A commit that fails (its data folder briefly a file: the Parquet write is refused) loses nothing: its
    // rows go back to the buffer and a later commit carries them.
    assert.ok(await waitUntil(async () => /table sink running/.test(second.output.join('')), 60_000, 100), second.output.join(''));
    renameSync(join(dir, 'data'), join(dir, 'data.away'));
    writeFileSync(join(dir, 'data'), 'not a folder');
    const failedBefore = await waitUntil(async () => /table commit failed/.test(second.output.join('')), 30_000, 50);
    rmSync(join(dir, 'data'));
    renameSync(join(dir, 'data.away'), join(dir, 'data'));
    assert.ok(failedBefore, `a commit failed while the data folder was a file:\n${second.output.join('')}`);
    assert.ok(await waitUntil(async () => (await groupLag(kafka, `${prefix}.enrich.v1`, names.raw)) === 0, 120_000, 250), `the stage caught up:\n${stage.output.join('')}`);
    const enriched = await readAll(kafka, names.enriched, 1);
    const want = enriched.map((r) => (JSON.parse(r.value) as { event_id: string }).event_id);
    assert.ok(want.length > EVENTS * 0.9, `${want.length} enriched events`);
    assert.ok(await waitUntil(async () => committedRows() >= want.length, 120_000, 200), `the restarted sink caught up: ${committedRows()} of ${want.length} rows\n${second.output.join('')}`);
    second.kill('SIGTERM');
    stage.kill('SIGTERM');
    await Promise.all([exited(second), exited(stage)]);
    assert.ok(atKill < want.length, 'the kill left work for the restarted sink');
    const last = JSON.parse(second.output.join('').trim().split('\n').filter((l) => l.startsWith('{')).at(-1)!) as { table: TableCheck; freshness: LatencySummary | null; skippedBelowCommit: number; queries: number };
    t.diagnostic(`killed at ${atKill} committed rows; restarted sink: ${JSON.stringify(last)}`);
    // Exactly once in the table: the enriched topic's events, each once.
    const got = await tableEventIds(dir);
    assert.equal(got.length, want.length);
    assert.deepEqual(got.sort(), want.sort());
    assert.equal(last.table.rows, want.length);
    assert.equal(last.table.duplicateRows, 0);
    assert.deepEqual(last.table.schemaChanges.flatMap((c) => c.typeChanged.filter((x) => !x.compatible)), [], 'one enrichment version: no incompatible type change');
    assert.deepEqual(last.table.rowsByGeneration, { '0': want.length });
    assert.equal(last.table.files, readCommits(dir).length);
    assert.ok(last.table.files >= 3 && last.table.smallFiles === last.table.files, `${last.table.files} files, all under 1 MiB`);
    // Measured by the restarted sink's queries, for the commits it made.
    assert.ok(last.queries > 0 && last.freshness && last.freshness.count > 0 && last.freshness.count === want.length - atKill, JSON.stringify(last));
    assert.ok(last.freshness!.p50Ms > 0 && last.freshness!.p99Ms < 120_000, JSON.stringify(last.freshness));
  });

  it('run with a table block: a v2 pipeline, its sink SIGKILLed and restarted, rolled back to v1 into one table — every enriched event in it once per generation, both shapes, freshness per phase measured by queries, gates on the table', async (t) => {
    const { exitCode, output, work, runDir, results: r } = await runScenarioFile(sb, `name: lake-test
seed: 11
duration: 44s
topics: {prefix: cb-test-lake, partitions: 6, replication: 3, min_insync_replicas: 2}
traffic: {base_rate: 400}
population: {users: 3000, products: 800, pages: 200, campaigns: 6, bots: 10}
enrichment: {version: v2}
table: {commit_interval: 1s, dir: table}
phases:
  - {kind: warmup, duration: 4s}
  - {kind: steady, duration: 14s}
  - {kind: fault, duration: 8s, fault: {action: sink-kill}}
  - {kind: rollback, duration: 18s, lookback: 10s, version: v1}
gates:
  table.missing: "== 0"
  table.duplicates: "== 0"
`);
    assert.equal(exitCode, 0, output);
    const tb = r.table;
    assert.ok(isMeasured(tb), JSON.stringify(tb));
    t.diagnostic(JSON.stringify({ ...tb, schemaChanges: tb.schemaChanges.length }));
    // The table against the acknowledgements: every good acknowledged event was enriched, and is in the table.
    const ids = new Set(await tableEventIds(join(work, 'table')));
    assert.equal(tb.dir, join(work, 'table'), 'dir is relative to the scenario file');
    assert.equal(ids.size, tb.expectedEvents);
    assert.ok(tb.expectedEvents >= r.correctness.ackedEvents - r.correctness.badRecordsAcked && tb.expectedEvents <= r.correctness.ackedEvents, `${tb.expectedEvents} events in the table, ${r.correctness.ackedEvents} acknowledged, ${r.correctness.badRecordsAcked} of them bad records`);
    assert.equal(tb.missingEvents, 0);
    assert.equal(tb.unexpectedEvents, 0);
    assert.equal(tb.duplicateRows, 0);
    // The rollback rewrote history into the table as generation 1, in v1's shape beside v2's.
    assert.ok(tb.rowsByGeneration['0'] > 0 && tb.rowsByGeneration['1'] > 0, JSON.stringify(tb.rowsByGeneration));
    assert.equal(tb.rows, Object.values(tb.rowsByGeneration).reduce((a, b) => a + b, 0));
    assert.deepEqual(tb.versionOnlyColumns, { v2: ['risk_level'], v1: [] });
    // Freshness of live rows, per phase; the rewritten rows left out and counted.
    const steady = tb.freshness.byPhase.find((p) => p.phase === 'steady')!.freshness;
    // (Its tail holds the rows the sink had buffered when it was killed: they reached the table after the restart.)
    // (When it fails: what the sink said — slow commits, rejoins, offsets refused — and its stats.)
    const sinkSaid = () => `${JSON.stringify(steady)}; sink ${JSON.stringify(tb.sink)}\n${output.split('\n').filter((l) => /table sink|kafkajs|rebalanc/i.test(l)).slice(0, 40).join('\n')}`;
    assert.ok(steady && steady.count > 3_000 && steady.p50Ms > 0 && steady.p50Ms < 5_000, sinkSaid());
    assert.ok(tb.freshness.rewrittenRowsExcluded > 0);
    assert.ok(tb.sink.stoppedCleanly);
    assert.ok(typeof tb.sink.slowestCommitMs === 'number' && tb.sink.slowestCommitMs > 0 && tb.sink.slowestCommitMs < 10_000, sinkSaid());
    // The sink SIGKILLed by the fault phase and restarted: it went on from its last commit record.
    assert.equal(tb.sink.kills, 1);
    const kill = r.faults.find((f) => f.action === 'sink-kill');
    assert.ok(kill && kill.injectedAtOffsetMs !== null && kill.restoredAtOffsetMs !== null, JSON.stringify(kill));
    // The outage shows in the table's freshness: the fault window's events waited for the restarted sink.
    const during = tb.freshness.byPhase.find((p) => p.phase.startsWith('fault'))?.freshness;
    assert.ok(during && during.p50Ms > steady.p50Ms + 3_000, `fault window ${JSON.stringify(during)} against steady ${JSON.stringify(steady)}`);
    assert.deepEqual(evaluateGates(r).map((g) => [g.metric, g.value, g.passed]), [['table.missing', 0, true], ['table.duplicates', 0, true]]);
    assert.match(readFileSync(join(runDir, 'scorecard.md'), 'utf8'), /## Lakehouse table[\s\S]*v2 only: risk_level/);
  });
});
