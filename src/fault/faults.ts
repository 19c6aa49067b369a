/**
 * Fault phases: break something on purpose during live load, put it back, and measure what users
 * felt. Brokers are stopped and started through the sandbox's node API (by pid); an external
 * cluster only through the user's own `command` / `restore`; the enrichment stage is a child
 * process killed with SIGKILL.
 *
 * What is kept per fault: the injection and restore times, per-partition write availability
 * (from the producer's acknowledgements), produce errors and client retries by code, latency
 * during the fault vs before it, and recovery milestones from metadata polls (leaders moved,
 * under-replicated partitions back to 0) and lag samples (drained back to the steady level).
 */
import { removeDirs } from '../sandbox/logdirs.js';
import { runUserCommand } from '../run/user-command.js';
import type { Admin } from '../kafka/client.js';
import type { Sandbox } from '../sandbox/cluster.js';
import type { FaultSpec } from '../scenario/schema.js';
import type { PhaseWindow } from '../phases/timeline.js';
import { PipelineLatency } from '../observe/latency.js';
import { notMeasured, type FaultResult } from '../run/results.js';
import type { LatencyTriple } from '../observe/latency.js';
import type { LagSample } from '../observe/samplers.js';

export interface FaultContext {
  sandbox?: Sandbox;
  admin: Admin;
  /** Topic role → name, for leader_of. */
  topicOf: (role: 'raw' | 'enriched' | 'dlq') => string;
  rawTopic: string;
  runPrefix: string;
  enricher?: { kill: () => Promise<void>; restart: () => Promise<void> };
  /** Enrichment processes in the group (the kill takes instance 0). */
  enricherInstances?: number;
  /** The table sink (scenarios with a table block). */
  sink?: { kill: () => Promise<void>; restart: () => Promise<void> };
  log: (line: string) => void;
  /** Offset of a wall-clock time from the start of the schedule. */
  offsetOf: (epochMs: number) => number;
}

type State = 'pending' | 'injecting' | 'down' | 'restoring' | 'restored' | 'failed';

export interface PartitionMeta {
  topic: string;
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

/** One fault of the scenario as it happens. */
export class ActiveFault {
  state: State = 'pending';
  nodes: number[] = [];
  description = '';
  injectedAt?: number;
  restoredAt?: number;
  leadersBefore = new Map<number, number>();
  /** Raw partition → its in-sync replicas just before the fault. */
  isrBefore = new Map<number, number[]>();
  readonly commands: FaultResult['commands'] = [];
  readonly produceErrors: Record<string, number> = {};
  readonly clientRetries: Record<string, number> = {};
  readonly latency = new PipelineLatency();
  readonly milestones: { offsetMs: number; what: string }[] = [];
  leaderElections = 0;
  underReplicatedMax = 0;
  leadersMovedAt?: number;
  isrRestoredAt?: number;
  error?: string;
  private work?: Promise<void>;

  constructor(readonly spec: FaultSpec, readonly window: PhaseWindow, readonly injectAtOffsetMs: number) {}

  /** Inside the fault's measurement window: from injection until the cluster is whole again. */
  get open(): boolean {
    return this.injectedAt !== undefined && (this.state === 'down' || this.state === 'restoring' || this.state === 'injecting' || (this.state === 'restored' && this.isrRestoredAt === undefined));
  }
  get busy(): Promise<void> {
    return this.work ?? Promise.resolve();
  }
  run(p: Promise<void>): void {
    this.work = p;
  }
}

export class FaultRunner {
  readonly faults: ActiveFault[];
  private polling = false;
  private lastLeaders = new Map<string, number>();

  constructor(private readonly ctx: FaultContext, phases: PhaseWindow[], specs: Map<number, FaultSpec>) {
    this.faults = phases.filter((w) => specs.has(w.index)).map((w) => new ActiveFault(specs.get(w.index)!, w, w.startMs + specs.get(w.index)!.at));
  }

  private milestone(f: ActiveFault, what: string, at = Date.now()): void {
    f.milestones.push({ offsetMs: this.ctx.offsetOf(at), what });
    this.ctx.log(`fault ${f.window.name}: ${what}`);
  }

  /** Called often by the run: starts injections and restores when their time comes. */
  tick(offsetMs: number): void {
    for (const f of this.faults) {
      if (f.state === 'pending' && offsetMs >= f.injectAtOffsetMs) {
        f.state = 'injecting';
        f.run(this.inject(f).catch((e) => this.failed(f, e)));
      } else if (f.state === 'down' && f.injectedAt !== undefined && Date.now() >= f.injectedAt + f.spec.down_for) {
        f.state = 'restoring';
        f.run(this.restore(f).catch((e) => this.failed(f, e)));
      }
    }
  }

  private failed(f: ActiveFault, e: unknown): void {
    f.error = (e as Error).message;
    this.ctx.log(`fault ${f.window.name}: ${f.error}`);
    if (f.state === 'injecting') f.state = 'failed';
    else if (f.state === 'restoring') f.state = 'failed';
  }

  /** Which nodes a broker fault acts on, from the sandbox and the current leaders. */
  async chooseNodes(f: ActiveFault, meta: PartitionMeta[]): Promise<number[]> {
    const s = f.spec;
    const sb = this.ctx.sandbox!;
    if (s.action === 'zone-outage') {
      const nodes = sb.state.nodes.filter((n) => n.zone === s.zone).map((n) => n.id);
      if (nodes.length === 0) throw new Error(`the sandbox has no node in zone ${s.zone} (zones: ${[...new Set(sb.state.nodes.map((n) => n.zone))].join(', ')})`);
      f.description = `zone ${s.zone} (nodes ${nodes.join(', ')})`;
      return nodes;
    }
    if (s.node !== undefined) {
      sb.node(s.node);
      f.description = `node ${s.node}`;
      return [s.node];
    }
    if (s.zone !== undefined) {
      const n = sb.state.nodes.find((x) => x.zone === s.zone);
      if (!n) throw new Error(`the sandbox has no node in zone ${s.zone}`);
      f.description = `node ${n.id} (zone ${s.zone})`;
      return [n.id];
    }
    const topic = this.ctx.topicOf(s.leader_of ?? 'raw');
    const led = new Map<number, number>();
    for (const p of meta) if (p.topic === topic && p.leader >= 0) led.set(p.leader, (led.get(p.leader) ?? 0) + 1);
    const [best] = [...led].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    if (!best) throw new Error(`no partition of ${topic} has a leader`);
    f.description = `node ${best[0]}, leader of ${best[1]} of ${meta.filter((p) => p.topic === topic).length} ${s.leader_of ?? 'raw'} partitions`;
    return [best[0]];
  }

  private async inject(f: ActiveFault): Promise<void> {
    const s = f.spec;
    const meta = await this.metadata().catch(() => [] as PartitionMeta[]);
    for (const p of meta) {
      if (p.topic !== this.ctx.rawTopic) continue;
      f.leadersBefore.set(p.partition, p.leader);
      f.isrBefore.set(p.partition, p.isr);
    }
    if (s.action === 'enricher-kill') {
      if (!this.ctx.enricher) throw new Error('no enrichment process to kill');
      f.description = this.ctx.enricherInstances && this.ctx.enricherInstances > 1 ? `enrichment instance 0 of ${this.ctx.enricherInstances} (SIGKILL)` : 'the enrichment process (SIGKILL)';
      f.injectedAt = Date.now();
      await this.ctx.enricher.kill();
    } else if (s.action === 'sink-kill') {
      if (!this.ctx.sink) throw new Error('no table sink to kill');
      f.description = 'the table sink process (SIGKILL)';
      f.injectedAt = Date.now();
      await this.ctx.sink.kill();
    } else if (s.command) {
      f.description = s.command;
      f.injectedAt = Date.now();
      await this.command(f, 'inject', s.command);
    } else {
      f.nodes = await this.chooseNodes(f, meta);
      const signal = s.action === 'broker-stop' ? 'SIGTERM' : 'SIGKILL';
      f.injectedAt = Date.now();
      await Promise.all(f.nodes.map((id) => this.ctx.sandbox!.stopNode(id, signal)));
      if (s.wipe) {
        for (const id of f.nodes) {
          const removed = wipeRunPartitions(this.ctx.sandbox!.node(id).logDir, this.ctx.runPrefix);
          this.milestone(f, `removed ${removed} partition director${removed === 1 ? 'y' : 'ies'} of the run on node ${id} (deliberate data loss)`);
        }
      }
    }
    f.state = 'down';
    this.milestone(f, `${s.action}: ${f.description}`, f.injectedAt);
  }

  private async restore(f: ActiveFault): Promise<void> {
    const s = f.spec;
    if (s.action === 'enricher-kill') await this.ctx.enricher!.restart();
    else if (s.action === 'sink-kill') await this.ctx.sink!.restart();
    else if (s.command) {
      if (s.restore) await this.command(f, 'restore', s.restore);
    } else await Promise.all(f.nodes.map((id) => this.ctx.sandbox!.startNode(id)));
    f.restoredAt = Date.now();
    f.state = 'restored';
    this.milestone(f, s.action === 'enricher-kill' ? 'enrichment process restarted' : s.action === 'sink-kill' ? 'table sink restarted (it continues from its last commit record)' : s.command ? (s.restore ? 'restore command done' : 'no restore command') : `node${f.nodes.length > 1 ? 's' : ''} ${f.nodes.join(', ')} restarted and back in the metadata`);
  }

  private async command(f: ActiveFault, step: 'inject' | 'restore', command: string): Promise<void> {
    await runUserCommand(step, command, f.spec.timeout, (run) => f.commands.push(run));
  }

  async metadata(): Promise<PartitionMeta[]> {
    const admin = this.ctx.admin;
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${this.ctx.runPrefix}.`));
    const md = await admin.fetchTopicMetadata({ topics });
    return md.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr })));
  }

  /** A metadata poll (once a second during the run): leader changes and under-replicated partitions. */
  async poll(): Promise<{ underReplicated: number } | undefined> {
    if (this.polling) return undefined;
    this.polling = true;
    try {
      const meta = await this.metadata();
      const now = Date.now();
      let urp = 0;
      let elections = 0;
      let onDown = 0;
      const open = this.faults.filter((f) => f.open);
      const down = new Set(open.filter((f) => f.state !== 'restored').flatMap((f) => f.nodes));
      for (const p of meta) {
        const key = `${p.topic}:${p.partition}`;
        const before = this.lastLeaders.get(key);
        if (p.leader >= 0 && before !== undefined && before !== p.leader) elections++;
        if (p.leader >= 0) this.lastLeaders.set(key, p.leader);
        if (p.isr.length < p.replicas.length) urp++;
        if (p.leader < 0 || down.has(p.leader)) onDown++;
      }
      for (const f of open) {
        f.leaderElections += elections;
        f.underReplicatedMax = Math.max(f.underReplicatedMax, urp);
        if (f.leadersMovedAt === undefined && f.nodes.length > 0 && f.state === 'down' && onDown === 0) {
          f.leadersMovedAt = now;
          this.milestone(f, 'every partition has a live leader again', now);
        }
        if (f.state === 'restored' && f.isrRestoredAt === undefined && urp === 0) {
          f.isrRestoredAt = now;
          this.milestone(f, f.nodes.length ? 'no under-replicated partitions: the restarted node(s) are back in every ISR' : 'no under-replicated partitions', now);
        }
      }
      return { underReplicated: urp };
    } catch {
      return undefined;
    } finally {
      this.polling = false;
    }
  }

  /** Put back whatever is still broken (end of run, Ctrl-C, failure): restart stopped nodes / the enricher. */
  async restoreAll(): Promise<void> {
    for (const f of this.faults) {
      await f.busy.catch(() => {});
      if (f.state === 'down' || (f.state === 'failed' && f.injectedAt !== undefined && f.restoredAt === undefined)) {
        this.ctx.log(`fault ${f.window.name}: restoring now (the run is ending)`);
        f.state = 'restoring';
        await this.restore(f).catch((e) => this.failed(f, e));
      }
    }
  }

  /** A short status for the progress line. */
  status(): string {
    const f = this.faults.find((x) => x.state === 'down' || x.state === 'restoring' || x.state === 'injecting');
    if (!f) {
      const healing = this.faults.find((x) => x.open);
      return healing ? ` · after ${healing.spec.action}: waiting for the ISR` : '';
    }
    const since = f.injectedAt ? ((Date.now() - f.injectedAt) / 1000).toFixed(0) : '0';
    return ` · FAULT ${f.spec.action} ${f.description} for ${since} s${f.state === 'restoring' ? ' (restoring)' : ''}`;
  }
}

/** Remove the partition directories of the run's topics from a (stopped) node's log dir; returns how many. */
export function wipeRunPartitions(logDir: string, runPrefix: string): number {
  return removeDirs(logDir, (name) => name.startsWith(`${runPrefix}.`));
}

/** Acknowledgement times per raw partition, for write availability around faults. */
export class AckTimeline {
  private readonly times = new Map<number, number[]>();
  ack(partition: number, atMs: number): void {
    let t = this.times.get(partition);
    if (!t) this.times.set(partition, (t = []));
    t.push(atMs);
  }
  /** Per partition: the first acknowledgement at or after `fromMs`, and the longest silence in [fromMs, toMs]. */
  around(partition: number, fromMs: number, toMs: number): { firstAckAfterMs: number | null; maxGapMs: number } {
    const t = [...(this.times.get(partition) ?? [])].sort((a, b) => a - b);
    const first = t.find((x) => x >= fromMs);
    let prev = fromMs;
    let gap = 0;
    for (const x of t) {
      if (x < fromMs) continue;
      if (x > toMs) break;
      gap = Math.max(gap, x - prev);
      prev = x;
    }
    gap = Math.max(gap, Math.min(toMs, first ?? toMs) - fromMs);
    return { firstAckAfterMs: first === undefined ? null : first - fromMs, maxGapMs: gap };
  }
}

export function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/**
 * The lag the pipeline returned to: p90 of the lag samples of the phase before the fault; drained
 * once a sample after the peak is at most max(1.5 × that, that + 100 records).
 */
export function drainAfter(lag: LagSample[], baseline: { startMs: number; endMs: number } | undefined, injectedOffsetMs: number): FaultResult['recovery']['lag'] {
  const before = baseline ? lag.filter((l) => l.offsetMs >= baseline.startMs && l.offsetMs < baseline.endMs).map((l) => l.lag).sort((a, b) => a - b) : [];
  const steady = quantile(before, 0.9);
  const after = lag.filter((l) => l.offsetMs >= injectedOffsetMs);
  let peak = -1;
  let peakAt: number | null = null;
  after.forEach((l, i) => {
    if (l.lag > peak) {
      peak = l.lag;
      peakAt = i;
    }
  });
  if (steady === null || peakAt === null) {
    return { steadyRecords: steady, peakRecords: Math.max(0, peak), peakAtOffsetMs: peakAt === null ? null : after[peakAt].offsetMs, thresholdRecords: null, drainedAtOffsetMs: null, drainMs: null };
  }
  const threshold = Math.max(1.5 * steady, steady + 100);
  const drained = after.slice(peakAt).find((l) => l.lag <= threshold);
  return {
    steadyRecords: steady, peakRecords: peak, peakAtOffsetMs: after[peakAt].offsetMs, thresholdRecords: threshold,
    drainedAtOffsetMs: drained?.offsetMs ?? null, drainMs: drained ? drained.offsetMs - injectedOffsetMs : null,
  };
}

/** The results.json entry of one fault. */
export function faultResult(f: ActiveFault, o: { offsetOf: (ms: number) => number; acks: AckTimeline; partitions: number; endMs: number; lag: LagSample[]; baseline?: { name: string; startMs: number; endMs: number; latency: LatencyTriple } }): FaultResult {
  const injected = f.injectedAt;
  const off = (ms: number | undefined) => (ms === undefined ? null : o.offsetOf(ms));
  let availability: FaultResult['writeUnavailability'];
  if (injected === undefined) availability = notMeasured(f.error ? `the fault was not injected: ${f.error}` : 'the run ended before the fault');
  else if (f.spec.action === 'enricher-kill' || f.spec.action === 'sink-kill') availability = notMeasured(`an ${f.spec.action} leaves the brokers up: producing is not affected`);
  else {
    const until = Math.max(f.isrRestoredAt ?? f.restoredAt ?? o.endMs, injected + 1);
    // Affected: partitions with a stopped node as leader (a new leader must be elected) or in the ISR
    // (acks=all waits for it until the controller fences it and the ISR shrinks). Without known
    // nodes (external commands): partitions that went more than a second without an acknowledgement.
    const perPartition = Array.from({ length: o.partitions }, (_, p) => {
      const leaderBefore = f.leadersBefore.get(p) ?? -1;
      const isr = f.isrBefore.get(p) ?? [];
      const around = o.acks.around(p, injected, until);
      const affected = f.nodes.length ? f.nodes.includes(leaderBefore) || isr.some((n) => f.nodes.includes(n)) : around.maxGapMs > 1_000;
      return { partition: p, leaderBefore, isrBefore: isr, leaderLost: f.nodes.includes(leaderBefore), affected, ...around };
    });
    const hit = perPartition.filter((p) => p.affected);
    const gaps = hit.map((p) => p.firstAckAfterMs ?? until - injected).sort((a, b) => a - b);
    availability = {
      measured: true, affectedPartitions: hit.length, perPartition,
      maxMs: gaps.length ? gaps[gaps.length - 1] : 0, p50Ms: quantile(gaps, 0.5), p99Ms: quantile(gaps, 0.99),
      method: 'per partition of the raw topic: from the fault to the first produce acknowledged after it; affected = a stopped node was its leader (leaderLost) or in its ISR (acks=all waits for it until it is fenced); maxGapMs = longest time without an acknowledgement until the ISR was whole again',
    };
  }
  const during = f.latency.summary();
  return {
    phase: f.window.name, action: f.spec.action, target: f.description || '—', nodes: f.nodes, wiped: f.spec.wipe,
    injectedAtOffsetMs: off(injected), restoredAtOffsetMs: off(f.restoredAt), downForMs: f.spec.down_for, error: f.error ?? null,
    commands: f.commands,
    writeUnavailability: availability,
    produceErrors: f.produceErrors, clientRetries: f.clientRetries,
    latency: { baselinePhase: o.baseline?.name ?? null, before: o.baseline?.latency ?? null, during },
    recovery: {
      leaderElections: f.leaderElections, underReplicatedMax: f.underReplicatedMax,
      leadersMovedAtOffsetMs: off(f.leadersMovedAt), leadersMovedMs: f.leadersMovedAt && injected ? f.leadersMovedAt - injected : null,
      isrRestoredAtOffsetMs: off(f.isrRestoredAt), isrRestoreMs: f.isrRestoredAt && f.restoredAt ? f.isrRestoredAt - f.restoredAt : null,
      lag: injected === undefined ? drainAfter([], undefined, 0) : drainAfter(o.lag, o.baseline, o.offsetOf(injected)),
      milestones: f.milestones,
    },
  };
}
