/**
 * Reading the table as its users would: DuckDB queries over the committed Parquet files.
 *
 * Freshness (issue #21): while the sink runs, a query every `intervalMs` asks the table for the events
 * of commits it has not seen yet (`_commit > last`: DuckDB skips the older files by their statistics);
 * each event's freshness is the time that query returned minus the event's intended time — event →
 * visible to a query, measured, not modelled from the commit cadence.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { newHistogram, record, summarize, type LatencySummary } from '../observe/latency.js';
import { readCommits, tableRelation } from './table.js';

export class TableFreshness {
  readonly histogram = newHistogram();
  private db?: DuckDBInstance;
  private con?: DuckDBConnection;
  private lastSeq = 0;
  private timer?: NodeJS.Timeout;
  private running: Promise<void> = Promise.resolve();
  queries = 0;
  /** Longest a query took (ms): a slow query delays what it measures. */
  slowestQueryMs = 0;

  constructor(private readonly dir: string, private readonly o: { intervalMs?: number; onSample?: (intendedMs: number, freshnessMs: number, generation: number) => void } = {}) {}

  async start(): Promise<void> {
    this.db = await DuckDBInstance.create(':memory:');
    this.con = await this.db.connect();
    // Commits made before this reader started (a restarted sink's table) are not fresh: measure from now on.
    this.lastSeq = readCommits(this.dir).at(-1)?.seq ?? 0;
    this.timer = setInterval(() => {
      this.running = this.running.then(() => this.poll()).catch(() => {});
    }, this.o.intervalMs ?? 500);
  }

  /** One query for the commits not seen yet. */
  async poll(): Promise<void> {
    const commits = readCommits(this.dir);
    const newest = commits.at(-1)?.seq ?? 0;
    if (newest <= this.lastSeq) return;
    const rel = tableRelation(this.dir, commits)!;
    const t0 = Date.now();
    const rows = (await this.con!.runAndReadAll(`SELECT intended_time, _generation FROM ${rel} WHERE _commit > ${this.lastSeq} AND _commit <= ${newest}`)).getRows();
    const seenAt = Date.now();
    this.queries++;
    this.slowestQueryMs = Math.max(this.slowestQueryMs, seenAt - t0);
    for (const [intended, generation] of rows) {
      if (intended === null || intended === undefined) continue;
      const ms = Number(intended);
      record(this.histogram, seenAt - ms);
      this.o.onSample?.(ms, seenAt - ms, Number(generation ?? 0));
    }
    this.lastSeq = newest;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
    await this.poll().catch(() => {});
    this.con?.closeSync();
    this.db?.closeSync();
  }

  summary(): LatencySummary | null {
    return summarize(this.histogram);
  }
}

export interface TableCheck {
  rows: number;
  distinctEvents: number;
  /** Event ids present more than once in one generation (duplicates; a replay's rewrite is another generation). */
  duplicateRows: number;
  rowsByGeneration: Record<string, number>;
  files: number;
  bytes: number;
  /** Files smaller than `smallFileBytes`. */
  smallFiles: number;
  /** Per commit where the columns changed: added columns and columns whose type changed. */
  schemaChanges: { seq: number; added: string[]; typeChanged: { column: string; from: string; to: string; compatible: boolean }[] }[];
  /** With rows of more than one enrichment version: per version, the columns only its rows fill (null in every other version's rows). */
  versionOnlyColumns?: Record<string, string[]>;
}

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL\(\d+,\d+\))$/;

/**
 * Whether a query over files of both types still reads the column: numbers widen into each other, and a
 * JSON column (nested, or a file whose rows only ever had null there) reads beside anything. A string
 * becoming a number, or the reverse, does not: that is the incompatible change the report names.
 */
export function compatibleTypes(from: string, to: string): boolean {
  if (from === to || from === 'JSON' || to === 'JSON') return true;
  return NUMERIC.test(from) && NUMERIC.test(to);
}

/** The table as a whole, by queries: rows, duplicates, generations, files, schema history. */
export async function checkTable(dir: string, smallFileBytes = 1024 * 1024): Promise<TableCheck> {
  const commits = readCommits(dir);
  const schemaChanges: TableCheck['schemaChanges'] = [];
  let columns: Record<string, string> = {};
  for (const c of commits) {
    const added = Object.keys(c.columns).filter((k) => !(k in columns));
    const typeChanged = Object.keys(c.columns).filter((k) => k in columns && columns[k] !== c.columns[k]).map((k) => ({ column: k, from: columns[k], to: c.columns[k], compatible: compatibleTypes(columns[k], c.columns[k]) }));
    if (c.seq > 1 && (added.length || typeChanged.length)) schemaChanges.push({ seq: c.seq, added, typeChanged });
    columns = { ...columns, ...c.columns };
  }
  const base = { files: commits.length, bytes: commits.reduce((a, c) => a + c.bytes, 0), smallFiles: commits.filter((c) => c.bytes < smallFileBytes).length, schemaChanges };
  const rel = tableRelation(dir, commits);
  if (!rel) return { rows: 0, distinctEvents: 0, duplicateRows: 0, rowsByGeneration: {}, ...base };
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  try {
    const one = async (sql: string) => (await con.runAndReadAll(sql)).getRowObjects()[0];
    const totals = await one(`SELECT count(*)::BIGINT AS rows, count(DISTINCT event_id)::BIGINT AS events FROM ${rel}`);
    const dups = await one(`SELECT coalesce(sum(n - 1), 0)::BIGINT AS d FROM (SELECT count(*) AS n FROM ${rel} GROUP BY event_id, _generation HAVING count(*) > 1)`);
    const gens = (await con.runAndReadAll(`SELECT _generation AS g, count(*)::BIGINT AS n FROM ${rel} GROUP BY 1 ORDER BY 1`)).getRowObjects();
    return {
      ...(await versionOnly(con, rel)),
      rows: Number(totals.rows),
      distinctEvents: Number(totals.events),
      duplicateRows: Number(dups.d),
      rowsByGeneration: Object.fromEntries(gens.map((g) => [String(g.g), Number(g.n)])),
      ...base,
    };
  } finally {
    con.closeSync();
    db.closeSync();
  }
}

/** Per enrichment version, the columns only its rows fill: one query counting each column's values by version. */
async function versionOnly(con: DuckDBConnection, rel: string): Promise<Pick<TableCheck, 'versionOnlyColumns'>> {
  const columns = (await con.runAndReadAll(`DESCRIBE SELECT * FROM ${rel}`)).getRowObjects().map((r) => String(r.column_name)).filter((c) => !c.startsWith('_'));
  const quoted = (c: string) => `"${c.replace(/"/g, '""')}"`;
  const rows = (await con.runAndReadAll(`SELECT _enrichment_version AS v, ${columns.map((c, i) => `count(${quoted(c)})::BIGINT AS c${i}`).join(', ')} FROM ${rel} GROUP BY 1`)).getRowObjects();
  if (rows.length < 2) return {};
  const filled = (r: Record<string, unknown>, i: number) => Number(r[`c${i}`]) > 0;
  const out: Record<string, string[]> = {};
  for (const r of rows) out[String(r.v)] = columns.filter((_, i) => filled(r, i) && rows.every((o) => o === r || !filled(o, i)));
  return { versionOnlyColumns: out };
}

/** Event ids in the table (for checks against what was acknowledged). */
export async function tableEventIds(dir: string): Promise<string[]> {
  const rel = tableRelation(dir);
  if (!rel) return [];
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  try {
    return (await con.runAndReadAll(`SELECT event_id FROM ${rel}`)).getRows().map((r) => String(r[0]));
  } finally {
    con.closeSync();
    db.closeSync();
  }
}
