/**
 * The lakehouse path (issue #21): enriched events as a query-ready table of Parquet files.
 *
 * The sink consumes the enriched topic (read_committed: only what the stage's transactions committed)
 * and commits the rows it buffered as one Parquet file when a cadence is reached (rows, bytes or
 * seconds). DuckDB (@duckdb/node-api, in-process, no server) writes the file; then a commit record,
 * written atomically (a temporary file renamed), names the file and carries every source partition's
 * next offset. The table is what the commit records name, in their order: a file written but never
 * committed (a crash in between) is not part of it. On start the sink reads the last commit record and
 * skips every record below its offsets, so a restart neither loses nor duplicates rows: exactly-once by
 * offsets in the commit, as Kafka's object-store sink connectors do it. The group's offsets are
 * committed after each commit record too, for lag only; the commit record is what counts.
 *
 * Every row keeps its event's JSON fields (top-level fields typed as DuckDB infers them over the whole
 * file; nested objects and lists as JSON) plus `_partition`, `_offset`
 * (its place in the enriched topic), `_generation` (a replay's rewritten rows are told apart),
 * `_enrichment_version` and `_commit` (the commit's sequence number).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { createConsumer, createKafka, type Consumer, type Kafka } from '../kafka/client.js';
import type { Security } from '../kafka/security.js';

export interface CommitRecord {
  seq: number;
  /** The topic the rows came from (absent in records written before it was kept). */
  topic?: string;
  /** Data file, relative to the table directory. */
  file: string;
  rows: number;
  /** Bytes of the Parquet file. */
  bytes: number;
  /** Source partition → next offset to read (everything below is in this or an earlier commit). */
  offsets: Record<string, number>;
  committedAtMs: number;
  /** Columns of this file as DuckDB typed them (name → type). */
  columns: Record<string, string>;
}

export interface TableCadence {
  rows: number;
  bytes: number;
  seconds: number;
}

export const DEFAULT_CADENCE: TableCadence = { rows: 50_000, bytes: 64 * 2 ** 20, seconds: 5 };

export interface TableSinkOptions {
  brokers: string[];
  security?: Security;
  topic: string;
  groupId: string;
  dir: string;
  cadence?: Partial<TableCadence>;
  log?: (line: string) => void;
  onCommit?: (c: CommitRecord) => void;
}

const COMMITS = '_commits';
const DATA = 'data';
const pad = (n: number) => String(n).padStart(8, '0');

/** The table's commit records, in order (a torn or foreign file in the folder is ignored). */
export function readCommits(dir: string): CommitRecord[] {
  const d = join(dir, COMMITS);
  if (!existsSync(d)) return [];
  return readdirSync(d).filter((f) => /^\d{8}\.json$/.test(f)).sort().map((f) => JSON.parse(readFileSync(join(d, f), 'utf8')) as CommitRecord);
}

/** SQL string literal. */
const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** The table as a DuckDB relation: the committed files, columns united by name (files of older shapes read null for newer columns). */
export function tableRelation(dir: string, commits = readCommits(dir)): string | null {
  if (commits.length === 0) return null;
  return `read_parquet([${commits.map((c) => lit(join(dir, c.file))).join(', ')}], union_by_name = true)`;
}

export class TableSink {
  private readonly kafka: Kafka;
  private consumer?: Consumer;
  private db?: DuckDBInstance;
  private con?: DuckDBConnection;
  private readonly cadence: TableCadence;
  private buffer: string[] = [];
  private bufferBytes = 0;
  private bufferSince = 0;
  /** Next offset per partition: committed (in the log) and buffered (read, not yet committed). */
  private readonly committed = new Map<number, number>();
  private readonly read = new Map<number, number>();
  private seq = 0;
  private committing: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** Records below a commit record's offsets, skipped (re-delivered after a restart). */
  skipped = 0;
  /** Longest table commit (Parquet file + commit record), ms: a slow commit holds rows back from the table. */
  slowestCommitMs = 0;
  /** Times the consumer joined its group after the first join (rebalances: a member lost or added, a session expired). */
  rejoins = 0;
  private joins = 0;
  /** The group's offsets (lag only): the newest to send, and whether a send is under way. */
  private groupOffsetsDue?: Map<number, number>;
  private groupOffsetsSending = false;
  private groupOffsetsFailing = false;
  private groupOffsetsSent: Promise<void> = Promise.resolve();
  /** A commit is queued behind the one under way (it takes everything buffered when it starts). */
  private commitQueued = false;
  rowsCommitted = 0;
  files = 0;
  /** Rows read and not committed yet. */
  get rowsBuffered(): number {
    return this.buffer.length;
  }

  constructor(private readonly o: TableSinkOptions) {
    this.kafka = createKafka({ brokers: o.brokers, security: o.security, clientId: 'clickbench-table-sink', log: o.log });
    this.cadence = { ...DEFAULT_CADENCE, ...o.cadence };
  }

  async start(): Promise<void> {
    mkdirSync(join(this.o.dir, COMMITS), { recursive: true });
    mkdirSync(join(this.o.dir, DATA), { recursive: true });
    const commits = readCommits(this.o.dir);
    const last = commits.at(-1);
    // A commit record's offsets are per partition of one topic: another topic's table cannot be continued.
    if (last?.topic !== undefined && last.topic !== this.o.topic) {
      throw new Error(`${this.o.dir} holds a table of ${last.topic} (${commits.length} commits), not of ${this.o.topic}: name another folder (the table is left as it is)`);
    }
    if (last) {
      this.seq = last.seq;
      for (const [p, next] of Object.entries(last.offsets)) this.committed.set(Number(p), next);
      this.rowsCommitted = commits.reduce((a, c) => a + c.rows, 0);
      this.files = commits.length;
    }
    // Files a crash left uncommitted are not part of the table: remove them. Only names this sink writes
    // (part-<8 digits>.parquet, .part-<8 digits>.ndjson): anything else in the folder is left alone.
    const named = new Set(commits.map((c) => c.file));
    for (const f of readdirSync(join(this.o.dir, DATA))) if (/^part-\d{8}\.parquet$/.test(f) && !named.has(`${DATA}/${f}`)) rmSync(join(this.o.dir, DATA, f), { force: true });
    for (const f of readdirSync(this.o.dir)) if (/^\.part-\d{8}\.ndjson$/.test(f)) rmSync(join(this.o.dir, f), { force: true });
    this.db = await DuckDBInstance.create(':memory:');
    this.con = await this.db.connect();
    const consumer = (this.consumer = createConsumer(this.kafka, { groupId: this.o.groupId, readUncommitted: false, maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 1_000 }, () => !this.stopped));
    // What stalls a table shows here: a rebalance (a session that expired, a member lost) and a consumer that crashed.
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      if (this.joins++ > 0) {
        this.rejoins++;
        this.o.log?.(`joined its group again (a rebalance) after ${e.payload.duration} ms; records it already holds or committed are skipped when re-delivered`);
      }
    });
    consumer.on(consumer.events.CRASH, (e) => this.o.log?.(`the consumer crashed (${e.payload.error.message})${e.payload.restart ? '; kafkajs restarts it' : ''}`));
    await consumer.connect();
    await consumer.subscribe({ topic: this.o.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        const p = batch.partition;
        const from = Math.max(this.committed.get(p) ?? 0, this.read.get(p) ?? 0);
        for (const m of batch.messages) {
          const offset = Number(m.offset);
          if (offset < from) {
            this.skipped++;
            continue;
          }
          const value = m.value?.toString() ?? '';
          if (!value.startsWith('{')) continue;
          const h = m.headers ?? {};
          const header = (k: string) => (h[k] === undefined ? null : String(h[k]));
          const generation = Number(header('cb-generation') ?? 0);
          const version = header('cb-enrichment-version');
          this.buffer.push(`"_partition":${p},"_offset":${offset},"_generation":${generation},"_enrichment_version":${JSON.stringify(version)},${value.slice(1)}`);
          this.bufferBytes += value.length;
          if (this.buffer.length === 1) this.bufferSince = Date.now();
          this.read.set(p, offset + 1);
        }
        // The timer commits on the time cadence; a batch that fills the buffer to the row or byte cadence
        // commits (and waits: memory stays bounded). The commit is DuckDB and a file rename only: the group's
        // offsets are sent beside it, so a coordinator that answers slowly never holds this batch (and the
        // heartbeats behind it) back.
        if (this.full()) await this.commit().catch((err: Error) => this.o.log?.(`table commit failed: ${err.message}`));
        await heartbeat();
      },
    });
    this.timer = setInterval(() => {
      if (this.due()) void this.commit().catch((err: Error) => this.o.log?.(`table commit failed: ${err.message}`));
    }, 200);
  }

  private full(): boolean {
    return this.buffer.length >= this.cadence.rows || this.bufferBytes >= this.cadence.bytes;
  }

  private due(): boolean {
    if (this.buffer.length === 0) return false;
    return this.full() || Date.now() - this.bufferSince >= this.cadence.seconds * 1000;
  }

  /** Write what is buffered as one Parquet file, then its commit record (one commit at a time). */
  commit(): Promise<void> {
    // One queued commit at most (it takes everything buffered when it starts): a slow commit does not pile
    // up timer commits behind it that would each write a tiny file. A failed commit does not stop later ones.
    if (this.commitQueued) return this.committing;
    this.commitQueued = true;
    this.committing = this.committing.catch(() => {}).then(() => {
      this.commitQueued = false;
      return this.doCommit();
    });
    return this.committing;
  }

  private async doCommit(): Promise<void> {
    if (this.buffer.length === 0) return;
    const started = Date.now();
    const rows = this.buffer;
    const rowBytes = this.bufferBytes;
    const since = this.bufferSince;
    const offsets = new Map(this.read);
    this.buffer = [];
    this.bufferBytes = 0;
    const seq = this.seq + 1;
    const file = `${DATA}/part-${pad(seq)}.parquet`;
    const tmpJson = join(this.o.dir, `.part-${pad(seq)}.ndjson`);
    const head = `{"_commit":${seq},`;
    const target = join(this.o.dir, file);
    let committed = false;
    try {
      writeFileSync(tmpJson, head + rows.join(`\n${head}`) + '\n');
      // Top-level fields typed as DuckDB infers them over the whole file; nested objects and lists stored as
      // JSON, so a file's shape does not hang on which fields its rows happened to carry (a struct's field
      // order followed the rows: `profile` read as five different structs in one test run).
      // The JSON is read once, into a temporary table (typed, then written): reading it for its types and again
      // for the file cost ~145 ms a 2 000-row commit against ~85 ms (medians of 3 here, idle machine).
      const source = `read_json(${lit(tmpJson)}, format = 'newline_delimited', maximum_object_size = 67108864, sample_size = -1, maximum_depth = 2)`;
      await this.con!.run(`CREATE OR REPLACE TEMP TABLE commit_rows AS SELECT * FROM ${source}`);
      const inferred = (await this.con!.runAndReadAll('DESCRIBE commit_rows')).getRowObjects();
      const select = inferred.map((r) => {
        const name = `"${String(r.column_name).replace(/"/g, '""')}"`;
        return /^(STRUCT|MAP)\(|\[\]$/.test(String(r.column_type)) ? `to_json(${name}) AS ${name}` : name;
      }).join(', ');
      await this.con!.run(`COPY (SELECT ${select} FROM commit_rows) TO ${lit(target)} (FORMAT parquet)`);
      await this.con!.run('DROP TABLE commit_rows');
      const described = await this.con!.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${lit(target)})`);
      const columns: Record<string, string> = {};
      for (const r of described.getRowObjects()) columns[String(r.column_name)] = String(r.column_type);
      const bytes = (await this.con!.runAndReadAll(`SELECT sum(total_compressed_size)::BIGINT AS b FROM parquet_metadata(${lit(target)})`)).getRowObjects()[0]?.b;
      const all: Record<string, number> = {};
      for (const [p, n] of this.committed) all[p] = n;
      for (const [p, n] of offsets) all[p] = n;
      const record: CommitRecord = { seq, topic: this.o.topic, file, rows: rows.length, bytes: Number(bytes ?? 0), offsets: all, committedAtMs: Date.now(), columns };
      const tmp = join(this.o.dir, COMMITS, `.${pad(seq)}.json`);
      writeFileSync(tmp, JSON.stringify(record));
      renameSync(tmp, join(this.o.dir, COMMITS, `${pad(seq)}.json`)); // the commit point
      committed = true;
      this.seq = seq;
      for (const [p, n] of offsets) this.committed.set(p, n);
      this.rowsCommitted += rows.length;
      this.files++;
      this.o.onCommit?.(record);
      const took = Date.now() - started;
      if (took > this.slowestCommitMs) this.slowestCommitMs = took;
      if (took >= 2_000) this.o.log?.(`table commit ${seq} (${rows.length} rows) took ${(took / 1000).toFixed(1)} s`);
      // The group's offsets follow (lag, tools); a restart goes by the commit records.
      this.sendGroupOffsets(offsets);
    } finally {
      rmSync(tmpJson, { force: true });
      // Not committed: the rows go back in front of the buffer, for the next commit (their offsets are in
      // `read` already: dropping them would leave them out of the table for good).
      if (!committed) {
        this.buffer = rows.concat(this.buffer);
        this.bufferBytes += rowBytes;
        this.bufferSince = since;
      }
    }
  }

  /**
   * The group's offsets after a commit record, not awaited by the commit: kafkajs retries a refused offset
   * commit for ~10 s (a rebalance under way, a coordinator moving), and a table commit that waited for it
   * held every later commit back and, inside a batch, the heartbeats too. One send at a time; a commit made
   * meanwhile sends its newer offsets next.
   */
  private sendGroupOffsets(offsets: Map<number, number>): void {
    const due = (this.groupOffsetsDue ??= new Map());
    for (const [p, n] of offsets) due.set(p, n);
    this.flushGroupOffsets();
  }

  private flushGroupOffsets(): void {
    if (this.groupOffsetsSending || !this.consumer || !this.groupOffsetsDue) return;
    const send = this.groupOffsetsDue;
    this.groupOffsetsDue = undefined;
    this.groupOffsetsSending = true;
    this.groupOffsetsSent = this.consumer
      .commitOffsets([...send].map(([partition, next]) => ({ topic: this.o.topic, partition, offset: String(next) })))
      .then(() => {
        if (this.groupOffsetsFailing) this.o.log?.('the group\'s offsets are committed again');
        this.groupOffsetsFailing = false;
      })
      .catch((err: Error) => {
        if (!this.groupOffsetsFailing && !this.stopped) this.o.log?.(`the group's offsets were not committed (${err.message}); they only show lag: the table goes by its commit records`);
        this.groupOffsetsFailing = true;
      })
      .finally(() => {
        this.groupOffsetsSending = false;
        this.flushGroupOffsets();
      });
  }

  /** Commit what is buffered, stop consuming, close. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.consumer?.stop().catch(() => {});
    await this.commit().catch((err: Error) => this.o.log?.(`last table commit failed: ${err.message}`));
    while (this.groupOffsetsSending) await this.groupOffsetsSent;
    await this.consumer?.disconnect().catch(() => {});
    this.con?.closeSync();
    this.db?.closeSync();
  }
}
