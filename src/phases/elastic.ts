/**
 * Scale-out, replace-broker and scale-in phases, run by src/elastic/elastic.ts's ElasticRunner: the
 * change starts at its moment in the phase (tick), latency is kept for the events intended while
 * replicas move, a move still running when the load ends finishes (bounded) before the read-back,
 * and each change's figures go to results.elasticity.
 */
import type { RunContext, LatencyKind } from '../run/context.js';
import { ElasticRunner } from '../elastic/elastic.js';
import { averageEventBytes } from '../calibrate/settings.js';
import { NetLedger } from '../observe/netflows.js';
import { elasticProblems, type ElasticKind } from '../scenario/schema.js';
import { ClickbenchError, ExitCode } from '../errors.js';
import type { PhaseRunnerModule } from './runner.js';
import type { PhaseWindow } from './timeline.js';

export class ElasticPhases implements PhaseRunnerModule {
  readonly checksEveryAck = true;
  private runner?: ElasticRunner;

  constructor(private readonly ctx: RunContext, windows: PhaseWindow[]) {
    for (const w of windows) {
      if (!w.elastic) continue;
      const problem = elasticProblems(w.kind as ElasticKind, w.elastic, ctx.target.kind)[0];
      if (problem) throw new ClickbenchError(`${ctx.loaded.file}: phases[${w.index}].elastic${problem.field ? `.${problem.field}` : ''}: ${problem.message}`, { exitCode: ExitCode.usage, hint: 'fix the elastic block, or run the scenario on the sandbox' });
    }
  }

  async prepare(): Promise<void> {
    const ctx = this.ctx;
    const { s, target } = ctx;
    this.runner = new ElasticRunner({
      sandbox: target.sandbox, zoneOf: target.zoneOf, admin: ctx.admin, brokers: ctx.brokers, security: target.security, topics: () => ctx.createdTopics, runPrefix: ctx.runPrefix, remoteStorageDir: target.remoteStorageDir, offsetOf: (ms) => ctx.offsetOf(ms), log: ctx.log,
      net: async () => {
        const ledger = ctx.ledger;
        return ledger ? ledger.sample().then(() => ledger.settle()).then(() => ledger.snapshot() as Map<string, unknown>).catch(() => undefined) : undefined;
      },
      netHealth: () => ctx.ledger?.health(),
      closesCounted: (on) => (on ? ctx.ledger?.listen() : ctx.ledger?.stop()),
      replicationInto: (a, b, f) => NetLedger.replicationInto(a as never, b as never, f),
      loadRunning: () => ctx.loadRunning,
      shape: { recordBytes: averageEventBytes(s), partitions: s.topics.partitions, replication: s.topics.replication, minInsyncReplicas: s.topics.min_insync_replicas },
    }, ctx.phases);
  }

  record(kind: LatencyKind, intendedMs: number, ms: number): void {
    this.runner?.record(kind, intendedMs, ms);
  }

  tick(offsetMs: number): void {
    this.runner?.tick(offsetMs);
  }

  status(): string {
    return this.runner?.status() ?? '';
  }

  /** A reassignment still running finishes before the read-back (bounded). */
  async afterLoad(): Promise<void> {
    if (!this.runner) return;
    await this.runner.finish(this.ctx.signal.aborted ? 5_000 : 5 * 60_000);
    this.ctx.results.elasticity = this.runner.results;
  }

  /** The move windows' latency again, now that the probe has seen their events. */
  async contribute(): Promise<void> {
    this.runner?.sealLatency();
  }
}
