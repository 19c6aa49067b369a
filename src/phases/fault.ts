/**
 * Fault phases, run by src/fault/faults.ts's FaultRunner: injected and restored on the schedule
 * (tick), recovery polled once a second (sample); every write, retry and failed attempt inside a
 * fault's window is kept for it; after the load anything still down comes back and the cluster gets
 * a bounded while to heal; each fault's figures go to results.faults.
 */
import type { RunContext, LatencyKind } from '../run/context.js';
import type { StageProcess } from '../enrich/child.js';
import { StageGroup } from '../enrich/group.js';
import { AckTimeline, FaultRunner, faultResult } from '../fault/faults.js';
import { faultProblems, type FaultSpec } from '../scenario/schema.js';
import { ClickbenchError, ExitCode } from '../errors.js';
import { record } from '../observe/latency.js';
import { inFaultWindow } from '../run/byte-maps.js';
import { sleep } from '../sandbox/process.js';
import type { PhaseRunnerModule } from './runner.js';
import type { PhaseWindow } from './timeline.js';

/**
 * What restoring an enricher-kill does, from the group the kill took instance 0 of (undefined when the stage
 * was one process) and the run's stage now: restart that member while its group is still the stage; start a
 * new process while none runs; else nothing, because a replay or rollback replaced what was killed (starting
 * it again beside the replacement ran two processes with one transactional id, each fencing the other).
 */
export function enricherRestore<G>(killedIn: G | undefined, current: unknown): 'restart-member' | 'replaced' | 'start' {
  if (killedIn !== undefined) return current === killedIn ? 'restart-member' : 'replaced';
  return current ? 'replaced' : 'start';
}

export class FaultPhases implements PhaseRunnerModule {
  readonly checksEveryAck = true;
  private readonly specs = new Map<number, FaultSpec>();
  private readonly acks = new AckTimeline();
  private runner?: FaultRunner;
  private lastPoll = 0;
  private underReplicated = 0;

  /** Checked against the actual target (--brokers may have replaced the scenario's). */
  constructor(private readonly ctx: RunContext, windows: PhaseWindow[]) {
    for (const w of windows) {
      if (!w.fault) continue;
      const problem = faultProblems(w.fault, ctx.target.kind)[0];
      if (problem) throw new ClickbenchError(`${ctx.loaded.file}: phases[${w.index}].fault.${problem.field}: ${problem.message}`, { exitCode: ExitCode.usage, hint: 'fix the fault block, or run the scenario on the sandbox' });
      this.specs.set(w.index, w.fault);
    }
  }

  async prepare(): Promise<void> {
    const ctx = this.ctx;
    const { names } = ctx;
    /** The group whose instance 0 an enricher-kill took down (enrichment.instances > 1). */
    let killedIn: StageGroup | undefined;
    this.runner = new FaultRunner({
      sandbox: ctx.target.sandbox, admin: ctx.admin, runPrefix: ctx.runPrefix, rawTopic: names.raw, log: ctx.log, offsetOf: (ms) => ctx.offsetOf(ms),
      topicOf: (role) => (role === 'raw' ? names.raw : role === 'enriched' ? names.enriched : names.dlq),
      enricher: {
        // With enrichment.instances > 1, instance 0 is killed and restarted; the others go on.
        kill: async () => {
          const st = ctx.stage;
          if (st instanceof StageGroup) {
            ctx.retireMain(await st.killMember(0));
            killedIn = st;
          } else {
            await (st as StageProcess).kill();
            ctx.retireMain(st!);
            killedIn = undefined;
          }
        },
        // Only what the kill took down, and only while nothing replaced it: a replay or rollback that began
        // meanwhile started a new stage (every instance of a new group), and starting instance 0 again beside
        // it ran two processes with one transactional id, each fencing the other (seen in the suite: a
        // restore 6 s after a replay's start, 439 events never enriched, the first process left running).
        restart: async () => {
          const group = killedIn;
          killedIn = undefined;
          switch (enricherRestore(group, ctx.stage)) {
            case 'restart-member':
              await group!.restartMember(0);
              return;
            case 'replaced':
              ctx.log('fault: a replay or rollback replaced the enrichment stage while the killed process was down: nothing to restart');
              return;
            case 'start': {
              const st = ctx.stageFor(ctx.generation);
              await st.start();
              ctx.stage = st;
            }
          }
        },
      },
      enricherInstances: ctx.s.enrichment.instances,
      sink: ctx.tableSink,
    }, ctx.phases, this.specs);
    // A second Ctrl-C quits at once, but first puts back what a fault stopped (src/cli/run.ts).
    const runner = this.runner;
    ctx.signal.restore = () => runner.restoreAll();
  }

  private get faults() {
    return this.runner?.faults ?? [];
  }

  record(kind: LatencyKind, intendedMs: number, ms: number): void {
    for (const f of this.faults) if (inFaultWindow(f, intendedMs)) record(f.latency[kind], ms);
  }

  produceRetried(kind: string): void {
    for (const f of this.faults) if (f.open) f.clientRetries[kind] = (f.clientRetries[kind] ?? 0) + 1;
  }

  attemptFailed(code: string): void {
    for (const f of this.faults) if (f.open) f.produceErrors[code] = (f.produceErrors[code] ?? 0) + 1;
  }

  partitionAcked(partition: number, ackMs: number): void {
    this.acks.ack(partition, ackMs);
  }

  tick(offsetMs: number): void {
    this.runner?.tick(offsetMs);
  }

  async sample(): Promise<void> {
    if (!this.runner || Date.now() - this.lastPoll < 1_000) return;
    this.lastPoll = Date.now();
    const polled = await this.runner.poll();
    if (polled) this.underReplicated = polled.underReplicated;
  }

  status(): string {
    return this.runner ? `${this.runner.status()}${this.underReplicated ? ` · ${this.underReplicated} under-replicated` : ''}` : '';
  }

  /** Anything still down comes back now; then the cluster gets a moment to heal (ISR whole). */
  async afterLoad(): Promise<void> {
    const runner = this.runner;
    if (!runner) return;
    await runner.restoreAll();
    const healDeadline = Date.now() + (this.ctx.signal.aborted ? 5_000 : 60_000);
    while (runner.faults.some((f) => f.open) && Date.now() < healDeadline) {
      await runner.poll();
      await sleep(500);
    }
  }

  async contribute(): Promise<void> {
    const { results, s } = this.ctx;
    for (const f of this.faults) {
      const before = results.phases.slice(0, f.window.index).reverse().find((p) => p.scored);
      results.faults.push(faultResult(f, {
        offsetOf: (ms) => this.ctx.offsetOf(ms), acks: this.acks, partitions: s.topics.partitions, endMs: Date.now(), lag: results.series.lag,
        baseline: before ? { name: before.name, startMs: before.startOffsetMs, endMs: before.endOffsetMs, latency: before.latency } : undefined,
      }));
    }
  }

  async teardown(): Promise<void> {
    await this.runner?.restoreAll().catch(() => {});
  }
}
