/**
 * The lakehouse table inside `run` (issue #21): when the scenario has a `table` block, the table sink runs
 * as its own process (`clickbench sink`, as a team would deploy it beside the enrichment stage), and this
 * process measures what a table's users see: each event's freshness (intended time → first DuckDB query
 * over the committed files that returns it), per phase; then, once everything enriched is in the topic,
 * the table checked by queries — every enriched event in the table once (by event id, within a
 * generation), rows per generation, files and small files, the schema history.
 */
import type { ChildProcess } from 'node:child_process';
import { isAbsolute, join, resolve, dirname } from 'node:path';
import { existsSync } from 'node:fs';
import type { Histogram } from 'hdr-histogram-js';
import { waitUntil } from '../sandbox/process.js';
import { newHistogram, record, summarize } from '../observe/latency.js';
import { phaseAt } from '../phases/timeline.js';
import { startCliChild } from '../enrich/child.js';
import type { TableCheck, TableFreshness } from '../sink/query.js';
import type { RunContext } from './context.js';
import type { NotMeasured, TableResult } from './results.js';

/** The sink process's stats line (`clickbench sink --stats-every`). */
interface SinkStats {
  files: number;
  rowsCommitted: number;
  rowsRead?: number;
  skippedBelowCommit: number;
  slowestCommitMs?: number;
  rejoins?: number;
  cpuSeconds?: number;
  table?: TableCheck;
}

export class TableRun {
  private child?: ChildProcess;
  private last?: SinkStats;
  private final?: SinkStats;
  private exited = false;
  private freshness?: TableFreshness;
  private readonly byPhase: Histogram[];
  private readonly scored = newHistogram();
  /** Seqs of enriched events the probe read (a bitmap: one byte per event of the run). */
  private seen = new Uint8Array(1 << 16);
  private seenDistinct = 0;
  /** Rows of a replay's generation with events from before it started: not measured for freshness. */
  private rewritten = 0;
  /** Sink processes killed by a fault phase (each restarted from the table's last commit record). */
  private kills = 0;
  /** Re-delivered records the restarted sinks skipped (below their last commit record). */
  private skippedAfterRestart = 0;
  private skippedBase = 0;
  /** CPU seconds, group rejoins and the slowest commit of the sink processes before the current one. */
  private cpuBase = 0;
  private rejoinsBase = 0;
  private slowestBase = 0;
  readonly dir: string;

  constructor(private readonly ctx: RunContext) {
    const t = ctx.s.table!;
    this.dir = t.dir ? (isAbsolute(t.dir) ? t.dir : resolve(dirname(ctx.loaded.file), t.dir)) : join(ctx.opts.reportsDir, ctx.opts.runId, 'table');
    this.byPhase = ctx.phases.map(() => newHistogram());
  }

  /** Starts the sink process and the freshness queries; throws one clear line when the sink does not come up. */
  async start(): Promise<void> {
    const { ctx } = this;
    await this.spawnSink();
    const { TableFreshness } = await import('../sink/query.js');
    this.freshness = new TableFreshness(this.dir, {
      onSample: (intendedMs, ms, generation) => {
        // Live rows only, as the stream's e2e: a replay's rewrite of history is not fresh data (its rows count in rowsByGeneration).
        if (generation > 0 && ctx.offsetOf(intendedMs) < (ctx.generationStart[generation] ?? 0)) {
          this.rewritten++;
          return;
        }
        const p = phaseAt(ctx.phases, ctx.offsetOf(intendedMs));
        record(this.byPhase[p.index], ms);
        if (p.scored) record(this.scored, ms);
      },
    });
    await this.freshness.start();
  }

  /** Fault sink-kill: SIGKILL, mid-commit if one is under way. */
  async kill(): Promise<void> {
    if (!this.child || this.exited) return;
    this.kills++;
    this.child.kill('SIGKILL');
    await waitUntil(() => this.exited, 10_000, 20);
  }

  /** After a kill: a new sink process, which continues the table from its last commit record. */
  async restart(): Promise<void> {
    await this.spawnSink();
  }

  private async spawnSink(): Promise<void> {
    const { ctx } = this;
    this.exited = false;
    // A restarted sink's counters start at 0: what the killed one did is kept in the bases.
    this.cpuBase += this.last?.cpuSeconds ?? 0;
    this.rejoinsBase += this.last?.rejoins ?? 0;
    this.slowestBase = Math.max(this.slowestBase, this.last?.slowestCommitMs ?? 0);
    this.skippedBase = this.skippedAfterRestart;
    this.last = undefined;
    const t = ctx.s.table!;
    const args = ['sink', '--brokers', ctx.brokers.join(','), '--prefix', ctx.runPrefix, '--dir', this.dir, '--rows', String(t.commit_rows), '--seconds', String(t.commit_interval / 1000),
      '--mb', String(t.commit_size / 2 ** 20), '--stats-every', '1', '--no-freshness'];
    let child: ChildProcess | undefined;
    await startCliChild({
      args, security: ctx.target.security, ready: /table sink running/, label: 'table sink', log: ctx.log,
      onSpawn: (c) => void (child = this.child = c),
      onJson: (v) => {
        const stats = v as SinkStats;
        if (stats.table) this.final = stats;
        this.last = stats;
        if (this.kills > 0) this.skippedAfterRestart = this.skippedBase + stats.skippedBelowCommit;
      },
      onExit: () => {
        if (this.child === child) this.exited = true;
      },
      notStarted: { what: 'the table sink', hint: `run it alone to see why: clickbench sink --prefix ${ctx.runPrefix} --dir ${this.dir} (it takes the same --brokers and security flags as run)` },
    });
  }

  /** The probe read an enriched record of event `seq` (any generation). */
  enriched(seq: number): void {
    if (seq < 0) return;
    if (seq >= this.seen.length) {
      const grown = new Uint8Array(Math.max(seq + 1, this.seen.length * 2));
      grown.set(this.seen);
      this.seen = grown;
    }
    if (this.seen[seq] === 0) {
      this.seen[seq] = 1;
      this.seenDistinct++;
    }
  }

  /**
   * Once the enriched topic is complete (the stages stopped): waits until the sink read the `enrichedRecords`
   * records the probe read (at most a commit interval and 20 s), stops it (it commits what it holds), and
   * checks the table against the events the probe read.
   */
  async finish(enrichedRecords: number): Promise<TableResult | NotMeasured> {
    const { ctx } = this;
    const t = ctx.s.table!;
    const read = () => this.last?.rowsRead ?? this.last?.rowsCommitted ?? 0;
    await waitUntil(() => this.exited || read() >= enrichedRecords, t.commit_interval + 20_000, 200);
    const stoppedCleanly = await this.stopSink();
    await this.freshness?.stop();
    if (!existsSync(this.dir)) return { measured: false, reason: `the table's folder ${this.dir} was never written` };
    const { checkTable, tableEventIds } = await import('../sink/query.js');
    const check = this.final?.table ?? (await checkTable(this.dir));
    const prefix = `${ctx.runPrefix}-`;
    const inTable = new Uint8Array(this.seen.length);
    let unexpected = 0;
    for (const id of new Set(await tableEventIds(this.dir))) {
      const seq = id.startsWith(prefix) ? parseInt(id.slice(prefix.length), 36) : NaN;
      if (Number.isFinite(seq) && seq < this.seen.length && this.seen[seq] === 1) inTable[seq] = 1;
      else unexpected++;
    }
    const missingExamples: string[] = [];
    let missing = 0;
    for (let seq = 0; seq < this.seen.length; seq++) {
      if (this.seen[seq] === 1 && inTable[seq] === 0) {
        missing++;
        if (missingExamples.length < 10) missingExamples.push(`${prefix}${seq.toString(36)}`);
      }
    }
    const f = this.freshness;
    const lastStats = this.final ?? this.last;
    return {
      measured: true,
      ...check,
      dir: this.dir,
      cadence: { rows: t.commit_rows, intervalMs: t.commit_interval, bytes: t.commit_size },
      expectedEvents: this.seenDistinct,
      missingEvents: missing,
      missingExamples,
      unexpectedEvents: unexpected,
      freshness: {
        method: 'measured: a DuckDB query every 0.5 s over the commits not seen yet; an event\'s freshness is when the query that first returned it ended, minus its intended time',
        scored: summarize(this.scored),
        byPhase: ctx.phases.map((p, i) => ({ phase: p.name, freshness: summarize(this.byPhase[i]) })),
        rewrittenRowsExcluded: this.rewritten,
        queries: f?.queries ?? 0,
        slowestQueryMs: f?.slowestQueryMs ?? 0,
      },
      sink: {
        pid: this.child?.pid, cpuSeconds: lastStats?.cpuSeconds !== undefined ? this.cpuBase + lastStats.cpuSeconds : null, kills: this.kills, restartedSkipped: this.skippedAfterRestart, stoppedCleanly,
        slowestCommitMs: lastStats?.slowestCommitMs !== undefined ? Math.max(this.slowestBase, lastStats.slowestCommitMs) : null, rejoins: this.rejoinsBase + (lastStats?.rejoins ?? 0),
      },
    };
  }

  /** SIGTERM (the sink commits what it holds and prints the table's check), SIGKILL after 30 s. True when it ended by itself on the SIGTERM. */
  async stopSink(): Promise<boolean> {
    if (!this.child || this.exited) return this.final !== undefined;
    this.child.kill('SIGTERM');
    if (await waitUntil(() => this.exited, 30_000, 50)) return true;
    this.child.kill('SIGKILL');
    await waitUntil(() => this.exited, 5_000, 50);
    return false;
  }

  /** Teardown: nothing left running (the freshness reader closed, the sink stopped). */
  async close(): Promise<void> {
    await this.stopSink();
    await this.freshness?.stop().catch(() => {});
  }
}
