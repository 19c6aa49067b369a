/**
 * Elasticity phases on the sandbox, during live load: scale-out (add broker nodes, reassign
 * replicas onto them), replace-broker (stop a node, wipe its data, start it again empty: it
 * rebuilds its replicas from the leaders), scale-in (reassign replicas off nodes, then stop them).
 *
 * Measured per phase: the duration from the request until every new replica is in its ISR; the
 * bytes moved, twice: the moved replicas' sizes on their new brokers (DescribeLogDirs) and the
 * node↔node bytes the new replicas received (kernel TCP counters); how much of the moved
 * partitions' data stayed in the remote tier (tiered storage); the reassignment's own timeline.
 */
import type { NetHealth } from '../observe/netflows.js';
import { existsSync, writeFileSync } from 'node:fs';
import { segmentBytes, withoutRemoteUuid } from '../sandbox/logdirs.js';
import { lastLine, runUserCommand } from '../run/user-command.js';
import { join } from 'node:path';
import { Admin as PlatformaticAdmin } from '@platformatic/kafka';
import type { Admin } from '../kafka/client.js';
import { LogDirsProbe, platformaticSecurity } from '../kafka/logdirs.js';
import type { Security } from '../kafka/security.js';
import type { Sandbox } from '../sandbox/cluster.js';
import { sleep, waitUntil } from '../sandbox/process.js';
import { headroomSchema, type ElasticKind, type Scenario } from '../scenario/schema.js';
import type { PhaseWindow } from '../phases/timeline.js';
import { PipelineLatency, record } from '../observe/latency.js';
import type { LatencyTriple } from '../observe/latency.js';
import { openKafkaTools, type KafkaTools } from '../kafka/tools.js';
import { headroomGain, probeHeadroom, type Headroom, type HeadroomSettings } from './headroom.js';
import { movedReplicas, planScaleIn, planScaleOut, type Assignment } from './plan.js';

export type ElasticSpec = NonNullable<Scenario['phases'][number]['elastic']>;

export interface ElasticResult {
  phase: string;
  action: ElasticKind;
  nodes: number[];
  /** Offsets from the schedule start, ms. */
  requestedAtOffsetMs: number | null;
  /** scale-out: new nodes in the metadata; replace-broker: the emptied node back in the metadata. */
  nodesUsableAtOffsetMs: number | null;
  completedAtOffsetMs: number | null;
  /** From the request (scale-out: from the node start) until every new replica is in its ISR. */
  durationMs: number | null;
  /** From the reassignment request (or the emptied node's start) until the ISRs were whole. */
  moveMs: number | null;
  replicasMoved: number;
  partitionsMoved: number;
  /** Moved replicas' log sizes on their new brokers when complete (DescribeLogDirs). */
  bytesMovedLogDirs: number | null;
  /** Bytes the new replicas' brokers received as followers, kernel counters (sandbox). */
  bytesMovedNetwork: number | null;
  /** (network − log dirs) / log dirs, %. */
  networkVsLogDirsPct: number | null;
  /** Network bytes by "follower←leader" node pair. */
  networkByLink: Record<string, number> | null;
  /**
   * Bytes brokers sent during the move on connections no reading tied to a process (by "?←leader"): a fetcher that
   * opened and closed between two readings is counted to its last byte from its destroy event, which names no
   * owner, so its bytes are here and not in bytesMovedNetwork. Not replication for certain: shown beside it.
   */
  networkUnattributed?: { bytes: number; byLeader: Record<string, number> } | null;
  /** How the kernel counters were read during the move: readings, connections closed between two readings (their last bytes are not counted, so the network figure is a lower bound), readings that printed a connection without its owner. */
  networkCounting?: { samples: number; closedCounted: number; connectionsClosed: number; ownerFilled: number; ownerAwaited: number } | null;
  /** The moved replicas' `.log` segment files on the receiving nodes' disks (sandbox ground truth). */
  groundTruthBytes: number | null;
  /** (log dirs − ground truth) / ground truth, %. */
  logDirsVsGroundTruthPct: number | null;
  /** All replicas of the run's topics at the request (DescribeLogDirs), the volume the move is measured against. */
  retainedBytesAtRequest: number | null;
  bytesMovedPerGbRetained: number | null;
  /** Tiered storage: bytes of the moved partitions in the remote tier at the request (not copied). */
  remoteTierBytes: number | null;
  throttleBytesPerSec: number | null;
  /** scale-out: partitions the new nodes lead once the move is complete (after a preferred-leader election). */
  leadersOnNewNodes: number | null;
  /** scale-out: when the new nodes led their preferred partitions (took writes), from the request. */
  capacityUsableAtOffsetMs: number | null;
  capacityUsableAfterMs: number | null;
  /** scale-out: the sustainable produce rate before and after (step-load probes), null when off. */
  headroom: Headroom | null;
  milestones: { offsetMs: number; what: string }[];
  error: string | null;
  /** Latency of the events intended while replicas moved (request → every new replica in sync), probes excluded. */
  latencyDuringMove?: LatencyTriple | null;
  /** Set when the figures are a profile's model, not a measurement (`report --profile automq`). */
  modelled?: string;
}

interface Ctx {
  /** The sandbox (nodes started and stopped by clickbench); undefined on an external cluster (the user's commands). */
  sandbox?: Sandbox;
  /** A broker's zone (the scenario's target.zones on an external cluster). */
  zoneOf: (brokerId: number) => string | undefined;
  admin: Admin;
  brokers: string[];
  security: Security;
  topics: () => string[];
  runPrefix: string;
  remoteStorageDir?: string;
  offsetOf: (ms: number) => number;
  /** Kernel-counter snapshots (undefined when not available). */
  net: () => Promise<Map<string, unknown> | undefined>;
  /** The counters' reading health so far (see NetLedger.health). */
  netHealth?: () => NetHealth | undefined;
  /** Count closing connections to their last byte (socket-destroy events) while on: switched on for a move only. */
  closesCounted?: (on: boolean) => Promise<void> | void;
  replicationInto: (a: Map<string, unknown>, b: Map<string, unknown>, followers: number[]) => { total: number; byLeader: Record<string, number>; unattributed: number; unattributedByLeader: Record<string, number> };
  log: (line: string) => void;
  /** Whether the scenario's load is still being driven. */
  loadRunning: () => boolean;
  /** The raw topic's shape, for the headroom probe's scratch topic. */
  shape: { recordBytes: number; partitions: number; replication: number; minInsyncReplicas: number };
}

/** The headroom probe's settings for a scale-out phase, or null when it is turned off. */
export function headroomSettings(spec: ElasticSpec): HeadroomSettings | null {
  if (spec.headroom === false) return null;
  const h = spec.headroom === true || spec.headroom === undefined ? headroomSchema.parse({}) : spec.headroom;
  return { startRate: h.start, maxRate: Math.max(h.max, h.start), stepMs: h.step, p99LimitMs: h.p99_limit, minAchieved: h.min_achieved, refine: h.refine };
}

/** Bytes under the remote tier directory for the given topic-partitions (dirs named <topic>-<partition>-<uuid>). */
export function remoteBytesOf(dir: string | undefined, parts: { topic: string; partition: number }[]): number | null {
  if (!dir || !existsSync(dir)) return null;
  const wanted = new Set(parts.map((p) => `${p.topic}-${p.partition}`));
  return segmentBytes(dir, (name) => wanted.has(withoutRemoteUuid(name)));
}

/** Sizes of the `.log` segment files of the given partitions under one node's log dir. */
export function logFileBytes(logDir: string, parts: { topic: string; partition: number }[]): number {
  const wanted = new Set(parts.map((p) => `${p.topic}-${p.partition}`));
  return segmentBytes(logDir, (name) => wanted.has(name));
}

export class ElasticRunner {
  readonly results: ElasticResult[] = [];
  private readonly started = new Set<number>();
  /** Changes run one after another: a later phase's change waits for the one still in flight (the last one settles after all). */
  private chain: Promise<void> = Promise.resolve();
  private inFlight: string | null = null;
  /** Per phase: the move's wall-clock window (request → in sync) and the latency recorded in it. */
  private readonly moveWindows = new Map<string, { from?: number; to?: number; latency: PipelineLatency }>();

  constructor(private readonly ctx: Ctx, private readonly phases: PhaseWindow[]) {
    for (const p of phases) {
      if (!p.elastic) continue;
      this.results.push({
        phase: p.name, action: p.kind as ElasticKind, nodes: [], requestedAtOffsetMs: null, nodesUsableAtOffsetMs: null, completedAtOffsetMs: null, durationMs: null, moveMs: null,
        replicasMoved: 0, partitionsMoved: 0, bytesMovedLogDirs: null, bytesMovedNetwork: null, networkVsLogDirsPct: null, networkByLink: null, groundTruthBytes: null, logDirsVsGroundTruthPct: null, retainedBytesAtRequest: null, bytesMovedPerGbRetained: null,
        remoteTierBytes: null, throttleBytesPerSec: p.elastic.throttle ?? null, leadersOnNewNodes: null, capacityUsableAtOffsetMs: null, capacityUsableAfterMs: null, headroom: null, milestones: [], error: null,
      });
    }
  }

  /** Each move's latency summary into its result (called when the load ends and again before the report). */
  sealLatency(): void {
    for (const r of this.results) {
      const w = this.moveWindows.get(r.phase);
      r.latencyDuringMove = w?.from !== undefined ? w.latency.summary() : null;
    }
  }

  /** Records a latency into every move in progress at `intendedMs` (called per event: allocates nothing). */
  record(kind: 'produceAck' | 'enrich' | 'e2e', intendedMs: number, ms: number): void {
    for (const w of this.moveWindows.values()) if (w.from !== undefined && intendedMs >= w.from && (w.to === undefined || intendedMs < w.to)) record(w.latency[kind], ms);
  }

  get active(): boolean {
    return this.results.some((r) => r.requestedAtOffsetMs !== null && r.completedAtOffsetMs === null && r.error === null);
  }

  status(): string {
    const r = this.results.find((x) => x.requestedAtOffsetMs !== null && x.completedAtOffsetMs === null && x.error === null);
    return r ? ` · ${r.action} in progress` : '';
  }

  /** Start each phase's change when its time comes (called often). */
  tick(offsetMs: number): void {
    for (const p of this.phases) {
      if (!p.elastic || this.started.has(p.index) || offsetMs < p.startMs + p.elastic.at) continue;
      this.started.add(p.index);
      const r = this.results.find((x) => x.phase === p.name)!;
      const waitingFor = this.inFlight;
      const due = Date.now();
      if (waitingFor) this.mark(r, `due now; waits for ${waitingFor}'s change to complete first (changes run one at a time)`);
      const job = this.chain.then(async () => {
        if (waitingFor) this.mark(r, `started ${((Date.now() - due) / 1000).toFixed(1)} s after its time, once ${waitingFor}'s change was complete`);
        this.inFlight = p.name;
        try {
          await this.execute(p, r);
        } catch (err) {
          r.error = (err as Error).message;
          this.ctx.log(`${p.name}: ${r.error}`);
        } finally {
          this.inFlight = null;
        }
      });
      this.chain = job;
    }
  }

  /** Wait for changes in flight (up to timeoutMs). */
  async finish(timeoutMs: number): Promise<void> {
    // The timer is cleared: a pending one would keep the process alive after the run (up to timeoutMs).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.chain, new Promise((done) => (timer = setTimeout(done, timeoutMs)))]);
    clearTimeout(timer);
    this.sealLatency();
    for (const r of this.results) if (r.requestedAtOffsetMs !== null && r.completedAtOffsetMs === null && !r.error) r.error = `not complete within ${Math.round(timeoutMs / 1000)} s after the load ended`;
  }

  private mark(r: ElasticResult, what: string, at = Date.now()): void {
    r.milestones.push({ offsetMs: this.ctx.offsetOf(at), what });
    this.ctx.log(`${r.phase}: ${what}`);
  }

  private async assignments(allTopics = false): Promise<Assignment[]> {
    const topics = allTopics ? await this.ctx.admin.listTopics() : this.ctx.topics();
    const md = await this.ctx.admin.fetchTopicMetadata({ topics });
    return md.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionId, replicas: [...p.replicas] })));
  }

  private async diskOf(parts: { topic: string; partition: number }[]): Promise<{ total: number; sizeOn: (broker: number, topic: string, partition: number) => number }> {
    const probe = new LogDirsProbe(this.ctx.brokers, 'clickbench-elastic', this.ctx.security);
    try {
      const byTopic = new Map<string, Set<number>>();
      for (const p of parts) (byTopic.get(p.topic) ?? byTopic.set(p.topic, new Set()).get(p.topic)!).add(p.partition);
      const dirs = await probe.describe([...byTopic].map(([name, ps]) => ({ name, partitions: [...ps] })));
      const size = new Map<string, number>();
      let total = 0;
      for (const d of dirs) for (const p of d.partitions) {
        size.set(`${d.broker}:${p.topic}:${p.partition}`, (size.get(`${d.broker}:${p.topic}:${p.partition}`) ?? 0) + p.sizeBytes);
        total += p.sizeBytes;
      }
      return { total, sizeOn: (b, t, p) => size.get(`${b}:${t}:${p}`) ?? 0 };
    } finally {
      await probe.close().catch(() => {});
    }
  }

  /**
   * Until every listed replica is in its partition's ISR and no reassignment is pending. The kernel
   * counters are read every 100 ms meanwhile: a fetcher connection closed when leaders move would
   * otherwise take the bytes since the last reading with it.
   */
  private async waitInSync(replicas: { broker: number; topic: string; partition: number }[], deadline: number): Promise<boolean> {
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        await this.ctx.net().catch(() => undefined);
        await sleep(100);
      }
    })();
    try {
      return await this.pollInSync(replicas, deadline);
    } finally {
      sampling = false;
      await sampler;
    }
  }

  private async pollInSync(replicas: { broker: number; topic: string; partition: number }[], deadline: number): Promise<boolean> {
    while (Date.now() < deadline) {
      const pending = await this.ctx.admin.listPartitionReassignments({}).then((x) => x.topics.length).catch(() => 1);
      if (pending === 0) {
        const md = await this.ctx.admin.fetchTopicMetadata({ topics: [...new Set(replicas.map((r) => r.topic))] }).catch(() => undefined);
        const isr = new Map(md?.topics.flatMap((t) => t.partitions.map((p) => [`${t.name}:${p.partitionId}`, p.isr] as const)) ?? []);
        if (md && replicas.every((r) => isr.get(`${r.topic}:${r.partition}`)?.includes(r.broker))) return true;
      }
      await sleep(250);
    }
    return false;
  }

  private async liveBrokers(): Promise<number[]> {
    return (await this.ctx.admin.describeCluster()).brokers.map((b) => b.nodeId);
  }

  /** Until the brokers are all in (present) or all out of (absent) the cluster's live brokers. */
  private async waitBrokers(ids: number[], present: boolean, timeoutMs: number): Promise<void> {
    let live: number[] | undefined;
    const ok = await waitUntil(async () => {
      live = await this.liveBrokers().catch(() => undefined);
      return live !== undefined && ids.every((id) => live!.includes(id) === present);
    }, timeoutMs, 500);
    if (!ok) throw new Error(`broker(s) ${ids.join(', ')} ${present ? 'not in' : 'still in'} the cluster's metadata ${timeoutMs / 1000} s after the command (live: ${live?.join(', ') ?? 'unknown'})`);
  }

  /** A user-supplied command (external clusters): its exit code, duration and last output line go to the timeline. */
  private async command(r: ElasticResult, step: string, command: string, timeoutMs: number): Promise<void> {
    this.mark(r, `running the ${step} command`);
    const run = await runUserCommand(`the ${step}`, command, timeoutMs, () => {});
    const last = lastLine(run.output);
    this.mark(r, `the ${step} command finished in ${(run.durationMs / 1000).toFixed(1)} s${last ? `: ${last}` : ''}`);
  }

  private async setThrottle(bytesPerSec: number | null, brokerIds: number[]): Promise<void> {
    const pa = new PlatformaticAdmin({ clientId: 'clickbench-elastic', bootstrapBrokers: this.ctx.brokers, retries: 2, ...platformaticSecurity(this.ctx.security) });
    try {
      // SET (0) while replicas move, DELETE (1) afterwards; broker resources are type 4, topics 2.
      const configs = (names: string[], value: string) => names.map((name) => (bytesPerSec === null ? { name, configOperation: 1 as const } : { name, configOperation: 0 as const, value }));
      await pa.incrementalAlterConfigs({
        resources: [
          ...brokerIds.map((id) => ({ resourceType: 4 as const, resourceName: String(id), configs: configs(['leader.replication.throttled.rate', 'follower.replication.throttled.rate'], String(bytesPerSec)) })),
          ...this.ctx.topics().map((t) => ({ resourceType: 2 as const, resourceName: t, configs: configs(['leader.replication.throttled.replicas', 'follower.replication.throttled.replicas'], '*') })),
        ],
      });
    } finally {
      await pa.close().catch(() => {});
    }
  }

  private async execute(p: PhaseWindow, r: ElasticResult): Promise<void> {
    const hs = p.kind === 'scale-out' ? headroomSettings(p.elastic!) : null;
    const tools = p.kind === 'scale-out' ? await openKafkaTools(this.ctx.security, this.ctx.log) : undefined;
    try {
      if (hs && tools) {
        r.headroom = { settings: { ...hs, ...this.ctx.shape, tool: `ProducerPerformance (Apache Kafka ${tools.kafkaVersion}), acks=all` }, before: null, after: null, gainPct: null, gainNote: null };
        this.mark(r, 'headroom probe before the scale-out');
        r.headroom.before = await this.probe(tools, hs, 'before');
      }
      const plan = await this.move(p, r);
      if (p.kind !== 'scale-out' || !tools) return;
      await this.leadNewNodes(r, plan, tools);
      if (hs && r.headroom) {
        this.mark(r, 'headroom probe after the scale-out');
        r.headroom.after = await this.probe(tools, hs, 'after');
        Object.assign(r.headroom, headroomGain(r.headroom.before, r.headroom.after));
        this.mark(r, `headroom: ${r.headroom.before?.sustainableRate ?? '–'} → ${r.headroom.after?.sustainableRate ?? '–'} records/s sustained${r.headroom.gainPct === null ? ` (${r.headroom.gainNote})` : ` (${r.headroom.gainPct >= 0 ? '+' : ''}${r.headroom.gainPct.toFixed(0)} %)`}`);
      }
    } finally {
      tools?.close();
    }
  }

  private probe(tools: KafkaTools, settings: HeadroomSettings, when: 'before' | 'after') {
    return probeHeadroom({
      admin: this.ctx.admin, tools, bootstrap: this.ctx.brokers, topicPrefix: this.ctx.runPrefix, ...this.ctx.shape, settings,
      offsetOf: this.ctx.offsetOf, loadRunning: this.ctx.loadRunning, log: this.ctx.log,
      brokerCount: () => this.ctx.admin.describeCluster().then((c) => c.brokers.length),
    }, when);
  }

  /**
   * After a scale-out's move: the new nodes take writes only where they lead. Where a new node is
   * a moved partition's preferred replica but not its leader, a preferred-leader election (Kafka's
   * LeaderElectionCommand) hands it over; the capacity counts as usable once they all lead.
   */
  private async leadNewNodes(r: ElasticResult, plan: Assignment[], tools: KafkaTools): Promise<void> {
    const key = (t: string, p: number) => `${t}:${p}`;
    const leaders = async () => {
      const md = await this.ctx.admin.fetchTopicMetadata({ topics: this.ctx.topics() });
      return new Map(md.topics.flatMap((t) => t.partitions.map((p) => [key(t.name, p.partitionId), p.leader] as const)));
    };
    const preferred = plan.filter((a) => r.nodes.includes(a.replicas[0]));
    let led = await leaders();
    const notLeading = () => preferred.filter((a) => led.get(key(a.topic, a.partition)) !== a.replicas[0]);
    const notYet = notLeading();
    if (notYet.length) {
      const file = join(tools.dir, 'election.json');
      writeFileSync(file, JSON.stringify({ partitions: notYet.map((a) => ({ topic: a.topic, partition: a.partition })) }));
      this.mark(r, `preferred-leader election for ${notYet.length} partition(s) whose preferred replica is a new node`);
      await tools.run('LeaderElectionCommand', ['--bootstrap-server', this.ctx.brokers.join(','), '--election-type', 'PREFERRED', '--path-to-json-file', file], 60_000)
        .catch((e) => this.mark(r, `the election failed: ${(e as Error).message}`));
    }
    const allLead = await waitUntil(async () => {
      if (notLeading().length) led = await leaders().catch(() => led);
      return notLeading().length === 0;
    }, 60_000, 250);
    r.leadersOnNewNodes = [...led.values()].filter((l) => r.nodes.includes(l)).length;
    if (!allLead) {
      this.mark(r, `the new node(s) did not lead all of their ${preferred.length} preferred partitions within 60 s`);
      return;
    }
    if (r.leadersOnNewNodes === 0) {
      this.mark(r, 'the new node(s) lead no partition of the run\'s topics: they hold follower replicas only');
      return;
    }
    r.capacityUsableAtOffsetMs = this.ctx.offsetOf(Date.now());
    r.capacityUsableAfterMs = r.capacityUsableAtOffsetMs - r.requestedAtOffsetMs!;
    this.mark(r, `the new node(s) lead ${r.leadersOnNewNodes} partition(s) of the run's topics: new capacity usable ${(r.capacityUsableAfterMs / 1000).toFixed(1)} s after the request`);
  }

  /** The node change and the replica move; resolves to the reassignment plan (empty for a replacement). */
  private async move(p: PhaseWindow, r: ElasticResult): Promise<Assignment[]> {
    const sb = this.ctx.sandbox;
    const spec = p.elastic!;
    const t0 = Date.now();
    r.requestedAtOffsetMs = this.ctx.offsetOf(t0);
    const window = { from: t0, to: undefined as number | undefined, latency: new PipelineLatency() };
    this.moveWindows.set(r.phase, window);
    const deadline = t0 + 10 * 60_000;
    // A replaced disk rebuilds every replica the node held (internal topics too); a reassignment moves the run's.
    const before = await this.assignments(p.kind === 'replace-broker');
    const allParts = before.map((a) => ({ topic: a.topic, partition: a.partition }));
    const zoneOf = (id: number) => (sb ? sb.state.nodes.find((n) => n.id === id)?.zone : this.ctx.zoneOf(id));
    const disk0 = await this.diskOf(allParts).catch(() => undefined);
    r.retainedBytesAtRequest = disk0?.total ?? null;
    let moved: { broker: number; topic: string; partition: number }[] = [];
    let plan: Assignment[] = [];
    let net0: Map<string, unknown> | undefined;
    let health0: NetHealth | undefined;
    let moveStart = 0;
    if (p.kind === 'replace-broker') {
      const id = spec.node ?? Math.max(...sb!.state.nodes.filter((n) => n.role !== 'broker').map((n) => n.id));
      r.nodes = [id];
      moved = before.filter((a) => a.replicas.includes(id)).map((a) => ({ broker: id, topic: a.topic, partition: a.partition }));
      if (sb) {
        this.mark(r, `stopping node ${id} (controlled shutdown) to replace its disk`);
        await sb.stopNode(id, 'SIGTERM');
        const wiped = sb.wipeData(id);
        this.mark(r, `node ${id}: ${wiped} partition directories removed (an empty disk); starting it again`);
        await this.ctx.closesCounted?.(true);
        net0 = await this.ctx.net();
        health0 = this.ctx.netHealth?.();
        moveStart = Date.now();
        await sb.startNode(id);
      } else {
        moveStart = Date.now();
        await this.command(r, 'replacement', spec.command!, spec.timeout);
        await this.waitBrokers([id], true, spec.timeout);
      }
      r.nodesUsableAtOffsetMs = this.ctx.offsetOf(Date.now());
      this.mark(r, `node ${id} back in the metadata, rebuilding ${moved.length} replicas`);
    } else {
      let brokerIds = sb ? sb.state.nodes.map((n) => n.id) : await this.liveBrokers();
      if (p.kind === 'scale-out') {
        if (sb) {
          const zones = spec.zones ?? [...new Set(sb.state.nodes.filter((n) => n.role !== 'broker').map((n) => n.zone))];
          const newZones = Array.from({ length: spec.nodes }, (_, i) => zones[i % zones.length]);
          this.mark(r, `starting ${spec.nodes} broker node(s) in zone(s) ${newZones.join(', ')}`);
          r.nodes = await sb.addNodes(newZones);
        } else {
          r.nodes = spec.brokers!;
          if (spec.command) await this.command(r, 'scale-out', spec.command, spec.timeout);
          await this.waitBrokers(r.nodes, true, spec.timeout);
          brokerIds = await this.liveBrokers();
        }
        r.nodesUsableAtOffsetMs = this.ctx.offsetOf(Date.now());
        this.mark(r, `node(s) ${r.nodes.join(', ')} in the metadata`);
        plan = planScaleOut(before, [...new Set([...brokerIds, ...r.nodes])], r.nodes, zoneOf);
      } else if (sb) {
        const removable = sb.state.nodes.filter((n) => n.role === 'broker').map((n) => n.id).sort((a, b) => b - a);
        r.nodes = spec.node !== undefined ? [spec.node] : removable.slice(0, spec.nodes);
        if (r.nodes.length < spec.nodes || r.nodes.some((id) => !removable.includes(id))) throw new Error(`scale-in removes nodes a scale-out added (${removable.join(', ') || 'none here'}); the sandbox's controllers stay`);
        plan = planScaleIn(before, brokerIds, r.nodes, zoneOf);
      } else {
        r.nodes = spec.brokers!;
        plan = planScaleIn(before, brokerIds, r.nodes, zoneOf);
      }
      moved = movedReplicas(before, plan);
      r.partitionsMoved = plan.length;
      const throttled = sb ? sb.state.nodes.map((n) => n.id) : await this.liveBrokers();
      if (spec.throttle) {
        await this.setThrottle(spec.throttle, throttled);
        this.mark(r, `replication throttled to ${(spec.throttle / 1e6).toFixed(1)} MB/s per broker`);
      }
      await this.ctx.closesCounted?.(true);
      net0 = await this.ctx.net();
      health0 = this.ctx.netHealth?.();
      moveStart = Date.now();
      if (plan.length) {
        await this.ctx.admin.alterPartitionReassignments({ topics: [...new Set(plan.map((a) => a.topic))].map((topic) => ({ topic, partitionAssignment: plan.filter((a) => a.topic === topic).map((a) => ({ partition: a.partition, replicas: a.replicas })) })) });
      }
      this.mark(r, `reassignment of ${plan.length} partitions requested (${moved.length} new replicas)`);
    }
    r.replicasMoved = moved.length;
    r.partitionsMoved ||= new Set(moved.map((m) => `${m.topic}:${m.partition}`)).size;
    r.remoteTierBytes = remoteBytesOf(this.ctx.remoteStorageDir, moved);
    const ok = await this.waitInSync(moved, deadline);
    const doneAt = Date.now();
    window.to = doneAt;
    if (spec.throttle) await this.setThrottle(null, sb ? sb.state.nodes.map((n) => n.id) : await this.liveBrokers().catch(() => [])).catch((e) => this.ctx.log(`removing the throttle failed: ${(e as Error).message}`));
    if (!ok) await this.ctx.closesCounted?.(false);
    if (!ok) throw new Error(`the moved replicas were not all in sync within ${(deadline - t0) / 60_000} min`);
    r.completedAtOffsetMs = this.ctx.offsetOf(doneAt);
    r.durationMs = doneAt - t0;
    r.moveMs = doneAt - moveStart;
    this.mark(r, `every new replica in its ISR after ${((doneAt - moveStart) / 1000).toFixed(1)} s`, doneAt);
    const net1 = await this.ctx.net();
    await this.ctx.closesCounted?.(false);
    const disk1 = await this.diskOf(moved).catch(() => undefined);
    r.bytesMovedLogDirs = disk1 ? moved.reduce((a, m) => a + disk1.sizeOn(m.broker, m.topic, m.partition), 0) : null;
    const receivers = [...new Set(moved.map((m) => m.broker))];
    r.groundTruthBytes = sb ? receivers.reduce((a, id) => a + logFileBytes(sb.node(id).logDir, moved.filter((m) => m.broker === id)), 0) : null;
    if (r.bytesMovedLogDirs !== null && r.groundTruthBytes) r.logDirsVsGroundTruthPct = ((r.bytesMovedLogDirs - r.groundTruthBytes) / r.groundTruthBytes) * 100;
    const got = net0 && net1 ? this.ctx.replicationInto(net0, net1, receivers) : undefined;
    r.bytesMovedNetwork = got ? got.total : null;
    r.networkByLink = got?.byLeader ?? null;
    r.networkUnattributed = got ? { bytes: got.unattributed, byLeader: got.unattributedByLeader } : null;
    const health1 = this.ctx.netHealth?.();
    r.networkCounting = health0 && health1 ? { samples: health1.samples - health0.samples, closedCounted: health1.closedCounted - health0.closedCounted, connectionsClosed: Math.max(0, health1.connectionsClosed - health0.connectionsClosed), ownerFilled: health1.ownerFilled - health0.ownerFilled, ownerAwaited: health1.ownerAwaited - health0.ownerAwaited } : null;
    if (r.bytesMovedLogDirs && r.bytesMovedNetwork !== null) r.networkVsLogDirsPct = ((r.bytesMovedNetwork - r.bytesMovedLogDirs) / r.bytesMovedLogDirs) * 100;
    if (r.bytesMovedLogDirs !== null && r.retainedBytesAtRequest) r.bytesMovedPerGbRetained = (r.bytesMovedLogDirs / r.retainedBytesAtRequest) * 1e9;
    if (p.kind === 'scale-in' && sb) {
      for (const id of r.nodes) await sb.removeNode(id);
      this.mark(r, `node(s) ${r.nodes.join(', ')} stopped and removed`);
    } else if (p.kind === 'scale-in' && spec.command) {
      await this.command(r, 'scale-in', spec.command, spec.timeout);
      await this.waitBrokers(r.nodes, false, spec.timeout);
    }
    return plan;
  }
}
