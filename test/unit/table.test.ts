import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TableSink } from '../../src/sink/table.js';
import { compatibleTypes } from '../../src/sink/query.js';
import { tableSection } from '../../src/report/markdown.js';
import { METRICS } from '../../src/score/gates.js';
import type { Results, TableResult } from '../../src/run/results.js';

describe('table schema history (issue #21)', () => {
  it('numbers widen, JSON reads beside anything, a string turned number (or back) is incompatible', async () => {
    assert.equal(compatibleTypes('BIGINT', 'DOUBLE'), true);
    assert.equal(compatibleTypes('DOUBLE', 'BIGINT'), true);
    assert.equal(compatibleTypes('JSON', 'VARCHAR'), true);
    assert.equal(compatibleTypes('VARCHAR', 'JSON'), true);
    assert.equal(compatibleTypes('VARCHAR', 'VARCHAR'), true);
    assert.equal(compatibleTypes('VARCHAR', 'BIGINT'), false);
    assert.equal(compatibleTypes('BIGINT', 'VARCHAR'), false);
    assert.equal(compatibleTypes('BOOLEAN', 'BIGINT'), false);
  });
});

describe('the table in results: report section, gates (issue #21)', () => {
  const lat = (p50Ms: number, p99Ms: number, count: number) => ({ count, p50Ms, p90Ms: p99Ms, p99Ms, p999Ms: p99Ms, maxMs: p99Ms + 1, meanMs: p50Ms });
  const table = (over: Partial<TableResult> = {}): TableResult => ({
    measured: true, rows: 150, distinctEvents: 100, duplicateRows: 0, rowsByGeneration: { '0': 100, '1': 50 }, files: 12, bytes: 3 * 2 ** 20, smallFiles: 11,
    schemaChanges: [{ seq: 3, added: ['query'], typeChanged: [{ column: 'price', from: 'BIGINT', to: 'VARCHAR', compatible: false }] }],
    versionOnlyColumns: { v2: ['risk_level'], v1: [] },
    dir: '/t', cadence: { rows: 50_000, intervalMs: 2_000, bytes: 64 * 2 ** 20 }, expectedEvents: 100, missingEvents: 0, missingExamples: [], unexpectedEvents: 0,
    freshness: { method: 'measured: m', scored: lat(1900, 3200, 90), byPhase: [{ phase: 'steady', freshness: lat(1900, 3200, 90) }, { phase: 'rollback', freshness: null }], rewrittenRowsExcluded: 40, queries: 30, slowestQueryMs: 12 },
    sink: { pid: 7, cpuSeconds: 2.5, kills: 1, restartedSkipped: 120, stoppedCleanly: true },
    ...over,
  });
  const withTable = (t: Results['table']) => ({ table: t }) as unknown as Results;

  it('the section: freshness per phase, exactly-once, generations, files, columns by version, an incompatible type change named', () => {
    const md = tableSection(table(), 'apache-kafka', { steady: lat(210, 450, 90) }).join('\n');
    assert.match(md, /\| steady \| 1900 \/ 3200 \/ 3201 \(90 events\) \| 210 \/ 450 \|/);
    assert.match(md, /\| rollback \| no event reached the table \| – \|/);
    assert.match(md, /100 events read from the enriched topic; \*\*0 not in the table\*\*, \*\*0 duplicate rows\*\*/);
    assert.match(md, /live 100, generation 1 50/);
    assert.match(md, /12 \(3\.0 MiB\); 11 under 1 MiB/);
    assert.match(md, /v2 only: risk_level; v1 only: none/);
    assert.match(md, /commit 3: added query; price BIGINT → VARCHAR \(\*\*incompatible\*\*\)/);
    assert.match(md, /40 rows a replay or rollback rewrote/);
    assert.match(md, /2\.5 CPU-s; killed 1 time by a fault phase and restarted from its last commit record \(120 re-delivered records skipped below it\); stopped cleanly/);
    assert.doesNotMatch(md, /Table Topic/, 'the Table Topic model is for the automq profile only');
    assert.match(tableSection(table(), 'automq').join('\n'), /\*\*Modelled for AutoMQ Table Topic\*\*.*2\.5 CPU-s and wrote 12 files.*60 s by default; this run's sink committed every 2 s and measured p99 3200 ms/);
    assert.deepEqual(tableSection({ measured: false, reason: 'the run failed' }, 'automq'), ['## Lakehouse table', '', 'Not measured — the run failed.']);
  });

  it('gates on the table: missing, duplicates, freshness p99; not measured without a table', () => {
    assert.equal(METRICS['table.missing'](withTable(table({ missingEvents: 3 }))), 3);
    assert.equal(METRICS['table.duplicates'](withTable(table({ duplicateRows: 2 }))), 2);
    assert.equal(METRICS['table.freshness_p99_ms'](withTable(table())), 3200);
    assert.deepEqual(METRICS['table.freshness_p99_ms'](withTable(table({ freshness: { ...table().freshness, scored: null } }))), { notMeasured: 'no event reached the table in a scored phase' });
    assert.deepEqual(METRICS['table.missing'](withTable(undefined)), { notMeasured: 'the scenario has no table block' });
    assert.deepEqual(METRICS['table.duplicates'](withTable({ measured: false, reason: 'the sink did not start' })), { notMeasured: 'the sink did not start' });
  });
});

describe('the table sink refuses another topic\'s table (issue #21)', () => {
  it('a folder whose last commit record came from another topic is refused before anything connects, and left as it is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-table-unit-'));
    mkdirSync(join(dir, '_commits'), { recursive: true });
    const record = JSON.stringify({ seq: 1, topic: 'cb-old-1a2b.clicks.enriched', file: 'data/part-00000001.parquet', rows: 5, bytes: 10, offsets: { 0: 5 }, committedAtMs: 0, columns: {} });
    writeFileSync(join(dir, '_commits', '00000001.json'), record);
    const sink = new TableSink({ brokers: ['127.0.0.1:1'], topic: 'cb-new-3c4d.clicks.enriched', groupId: 'g', dir });
    await assert.rejects(sink.start(), /holds a table of cb-old-1a2b\.clicks\.enriched \(1 commits\), not of cb-new-3c4d\.clicks\.enriched: name another folder/);
    assert.equal(readFileSync(join(dir, '_commits', '00000001.json'), 'utf8'), record);
  });
});
