/**
 * The coordinator of load workers (issue #20): creates the run's topics and its control and results
 * topics, publishes the plan, waits until Kafka's group protocol has given each of the expected workers
 * one control partition (its shard), measures each worker's clock against its own through the cluster
 * (ping → pong round trips), starts them at one schedule time, and merges what they report into one
 * set of per-second counters and one produce-ack histogram. A worker that stops reporting is named with
 * its shard and the seconds it did not report; nothing else is counted missing.
 */
import '../kafka/kafkajs-preload.js';
import { randomBytes } from 'node:crypto';
import { AssignerProtocol } from 'kafkajs';
import hdr from 'hdr-histogram-js';
import type { Admin, Consumer } from 'kafkajs';
import { coordinatorRetry, createConsumer, createProducer, type Kafka, type Producer } from '../kafka/client.js';
import { createTopics, topicNames, topicSpecs, type TopicSpec } from '../drive/topics.js';
import { fillLookups } from '../drive/lookups.js';
import { SecondSeries } from '../drive/driver.js';
import { newHistogram, summarize, type Histogram, type LatencySummary } from '../observe/latency.js';
import { parseScenario } from '../scenario/load.js';
import { ClickstreamGenerator } from '../generate/clickstream.js';
import { ClickbenchError } from '../errors.js';
import type { Scenario } from '../scenario/schema.js';
import { sleep } from '../sandbox/process.js';
import { controlTopic, decode, encode, resultsTopic, workersGroup, type ControlMessage, type DoneMessage, type HelloMessage, type PlanMessage, type ResultMessage } from './protocol.js';

export interface CoordinatorOptions {
  kafka: Kafka;
  /** Topic prefix of the run (its raw and lookup topics, control and results). */
  prefix: string;
  /** Event-id prefix (the single stream's: same seed and run id → same ids). */
  runId: string;
  scenario: string;
  file: string;
  overrides?: Record<string, unknown>;
  workers: number;
  /** How long to wait for the workers to join (default 120 s). */
  joinTimeoutMs?: number;
  /** Extra wait for reports after the schedule's end (default: the scenario's delivery timeout + 30 s). */
  graceMs?: number;
  log?: (line: string) => void;
}

export interface WorkerReport {
  shard: number;
  memberId: string;
  host: string;
  pid: number;
  /** Worker clock − coordinator clock (ms), from the ping with the shortest round trip, ± half of it. */
  clockOffsetMs: number;
  clockRoundTripMs: number;
  done: DoneMessage | null;
  /** Events the worker reported as intended (due), sent and acknowledged. */
  intended: number;
  sent: number;
  acked: number;
  /** Last schedule second it reported (−1: none); for a worker that did not finish, the seconds after it are its gap. */
  lastSecond: number;
  produceAck: LatencySummary | null;
  /** The worker's member left the group before it reported done. */
  leftGroup: boolean;
  /** When its done report arrived, ms after the schedule's start (a worker behind its schedule ends after the schedule does). */
  doneAfterMs: number | null;
}

export interface LoadResult {
  workers: WorkerReport[];
  startMs: number;
  durationMs: number;
  /** Merged over workers, per schedule second. */
  intended: number[];
  sent: number[];
  acked: number[];
  produceAck: LatencySummary | null;
  /** The merged histogram's count equals the sum of the workers' (a check of the merge, shown in the report). */
  mergedCount: number;
  /** Acknowledged events per second from the schedule's start to the last worker's done (all workers done), else null. */
  ackedPerSecond: number | null;
  /** Workers that did not report done: shard, member, last second reported. */
  unfinished: { shard: number; memberId: string; host: string; lastSecond: number; leftGroup: boolean; shardEvents: number; notAcknowledged: number }[];
  /** Decoding and merging the workers' reports: CPU seconds of this process per worker-second reported. */
  mergeCpuUsPerWorkerSecond: number;
}

const PINGS = 3;

interface PerWorker {
  intended: SecondSeries;
  sent: SecondSeries;
  acked: SecondSeries;
  hist: Histogram;
  lastSecond: number;
  done: DoneMessage | null;
  doneAt: number;
}

/**
 * The coordinator's side of the protocol, step by step: `open` (control and results topics, reading
 * the results), `join` (plan, group, clocks), `start`, `waitDone`, `result`, `close`. `clickbench load`
 * runs the steps in a row (coordinate below); `clickbench run --workers` runs them around its pipeline
 * (src/workers/remote-driver.ts), reading the `acks` messages through `onResult`.
 */
export class Coordinator {
  readonly log: (line: string) => void;
  readonly admin: Admin;
  readonly producer: Producer;
  private readonly results: Consumer;
  private readonly hellos = new Map<string, HelloMessage>();
  private readonly pongs = new Map<string, { offset: number; rtt: number }>();
  private readonly pongIds = new Map<number, Set<string>>();
  private readonly perWorker = new Map<number, PerWorker>();
  private readonly merged = { intended: new SecondSeries(), sent: new SecondSeries(), acked: new SecondSeries(), hist: newHistogram() };
  private readonly left = new Map<string, number>();
  private shardOf = new Map<string, number>();
  private mergeCpuUs = 0;
  private workerSeconds = 0;
  private stopSent = false;
  /** The last offset of the results topic (one partition) taken. */
  private readUpTo = -1;
  startMs = 0;
  /** Every result message, after the coordinator's own handling (the run's per-event accounting). */
  onResult?: (m: ResultMessage, recvAt: number) => void;

  constructor(private readonly o: Omit<CoordinatorOptions, 'scenario'> & { scenario: Scenario }) {
    this.log = o.log ?? (() => {});
    if (o.workers < 1 || (o.workers > o.scenario.population.users && o.workers > o.scenario.population.bots)) {
      throw new ClickbenchError(`${o.workers} workers: each worker's shard needs visitors (the scenario has ${o.scenario.population.users} users)`);
    }
    this.admin = o.kafka.admin();
    this.producer = createProducer(o.kafka, { idempotent: true });
    this.results = createConsumer(o.kafka, { groupId: `${o.prefix}.coordinator.${randomBytes(3).toString('hex')}`, maxWaitTimeInMs: 100 });
  }

  /** Members (worker ids) and the shard each runs. */
  get shards(): ReadonlyMap<string, number> {
    return this.shardOf;
  }

  /** Create the control and results topics (besides `extraTopics`), and read the results from their start. */
  async open(extraTopics: TopicSpec[] = []): Promise<void> {
    const o = this.o;
    await this.admin.connect();
    const rf = Math.min(3, o.scenario.topics.replication);
    await createTopics(this.admin, [
      ...extraTopics,
      { topic: controlTopic(o.prefix), numPartitions: o.workers, replicationFactor: rf, configEntries: [] },
      { topic: resultsTopic(o.prefix), numPartitions: 1, replicationFactor: rf, configEntries: [] },
    ]);
    await this.producer.connect();
    await this.results.connect();
    await this.results.subscribe({ topic: resultsTopic(o.prefix), fromBeginning: true });
    // Each result message is taken once: a consumer that rejoins its group (a busy machine, a coordinator
    // moving) reads again from the start (no committed offsets), and counts added twice would be wrong.
    await this.results.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        const offset = Number(message.offset);
        if (offset <= this.readUpTo) return;
        this.readUpTo = offset;
        this.received(message.value);
      },
    });
  }

  private received(value: Buffer | null): void {
    const recvAt = Date.now();
    const m = decode<ResultMessage>(value);
    if (!m) return;
    if (m.kind === 'hello') this.hellos.set(m.memberId, m);
    else if (m.kind === 'pong') {
      const rtt = recvAt - m.pingAt;
      const offset = Math.round(m.at - (m.pingAt + recvAt) / 2);
      const best = this.pongs.get(m.memberId);
      if (!best || rtt < best.rtt) this.pongs.set(m.memberId, { offset, rtt });
      let ids = this.pongIds.get(m.pingId);
      if (!ids) this.pongIds.set(m.pingId, (ids = new Set()));
      ids.add(m.memberId);
    } else if (m.kind === 'second') {
      const c0 = process.cpuUsage();
      const w = this.perWorker.get(m.shard);
      if (!w) return;
      const merged = this.merged;
      for (const [series, n] of [[w.intended, m.intended], [w.sent, m.sent], [w.acked, m.acked], [merged.intended, m.intended], [merged.sent, m.sent], [merged.acked, m.acked]] as const) series.add(m.second, n);
      if (m.ackHistogram) {
        const h = hdr.decodeFromCompressedBase64(m.ackHistogram, 32, false);
        w.hist.add(h);
        merged.hist.add(h);
        h.destroy();
      }
      w.lastSecond = Math.max(w.lastSecond, m.second);
      this.workerSeconds++;
      const c1 = process.cpuUsage(c0);
      this.mergeCpuUs += c1.user + c1.system;
    } else if (m.kind === 'done') {
      const w = this.perWorker.get(m.shard);
      if (w) {
        w.done = m;
        w.doneAt = recvAt;
      }
    }
    this.onResult?.(m, recvAt);
  }

  private broadcast(m: ControlMessage) {
    return this.producer.send({ topic: controlTopic(this.o.prefix), acks: -1, messages: Array.from({ length: this.o.workers }, (_, partition) => ({ partition, value: encode(m) })) });
  }

  /** Publish the plan, wait until the group gave each expected worker its shard, measure their clocks. `failed`: a reason to stop waiting. */
  async join(plan: Omit<PlanMessage, 'kind' | 'workers'>, failed: () => Error | undefined = () => undefined): Promise<void> {
    const o = this.o;
    const { admin, hellos } = this;
    await this.broadcast({ kind: 'plan', ...plan, workers: o.workers });
    this.log(`waiting for ${o.workers} worker(s) to join ${workersGroup(o.prefix)}`);
    // Kafka's group protocol assigns the control partitions: wait until the group is stable with one per member.
    const joinBy = Date.now() + (o.joinTimeoutMs ?? 120_000);
    let shardOf = new Map<string, number>();
    for (;;) {
      const g = (await coordinatorRetry(() => admin.describeGroups([workersGroup(o.prefix)]))).groups[0];
      shardOf = new Map();
      // Workers started with an explicit --index (an Indexed Job) claim their shard; the others get the partition the group gave them.
      const explicit = (g?.members ?? []).some((m) => hellos.get(m.memberId)?.index !== undefined);
      for (const member of g?.members ?? []) {
        const claimed = hellos.get(member.memberId)?.index;
        if (explicit) {
          if (claimed !== undefined && claimed < o.workers) shardOf.set(member.memberId, claimed);
          continue;
        }
        const a = member.memberAssignment.length ? AssignerProtocol.MemberAssignment.decode(member.memberAssignment) : null;
        const parts = a?.assignment[controlTopic(o.prefix)] ?? [];
        if (parts.length === 1) shardOf.set(member.memberId, parts[0]);
      }
      const complete = g?.state === 'Stable' && g.members.length === o.workers && shardOf.size === o.workers && new Set(shardOf.values()).size === o.workers;
      if (complete && [...shardOf.keys()].every((id) => hellos.has(id))) break;
      const f = failed();
      if (f) throw f;
      const bad = [...hellos.values()].find((h) => h.index !== undefined && (h.of !== o.workers || h.index >= o.workers));
      if (bad) throw new ClickbenchError(`a worker (${bad.host}:${bad.pid}) was started as --index ${bad.index} --of ${bad.of}, but this run has ${o.workers} workers`, { hint: `start workers with --of ${o.workers} and indexes 0 … ${o.workers - 1}, or without --index` });
      if (Date.now() > joinBy) {
        throw new ClickbenchError(`${g?.members.length ?? 0} of ${o.workers} workers joined ${workersGroup(o.prefix)} within ${Math.round((o.joinTimeoutMs ?? 120_000) / 1000)} s`, { hint: `start them with: clickbench worker --prefix ${o.prefix} --brokers …` });
      }
      await sleep(250);
    }
    this.shardOf = shardOf;
    this.log(`${o.workers} worker(s) joined: ${[...shardOf].map(([id, s]) => `shard ${s} ${hellos.get(id)!.host}:${hellos.get(id)!.pid}`).join(', ')}`);
    // Clocks: a few pings through the control topic, answered on the results topic.
    for (let id = 1; id <= PINGS; id++) {
      await this.broadcast({ kind: 'ping', id, at: Date.now() });
      const by = Date.now() + 10_000;
      while ((this.pongIds.get(id)?.size ?? 0) < o.workers && Date.now() < by) await sleep(10);
    }
  }

  /** Go: every worker paces the schedule from `startMs` (this process's clock), corrected by its measured offset. */
  async start(startMs: number): Promise<void> {
    this.startMs = startMs;
    const shards: Record<string, { index: number; clockOffsetMs: number }> = {};
    for (const [id, index] of this.shardOf) {
      shards[id] = { index, clockOffsetMs: this.pongs.get(id)?.offset ?? 0 };
      this.perWorker.set(index, { intended: new SecondSeries(), sent: new SecondSeries(), acked: new SecondSeries(), hist: newHistogram(), lastSecond: -1, done: null, doneAt: 0 });
    }
    await this.broadcast({ kind: 'start', startMs, shards });
    this.log(`started ${this.o.workers} worker(s); schedule of ${this.o.scenario.duration / 1000} s`);
  }

  /** Tell every worker to stop driving (once). */
  async stop(): Promise<void> {
    if (this.stopSent) return;
    this.stopSent = true;
    await this.broadcast({ kind: 'stop' }).catch((err: Error) => this.log(`could not tell the workers to stop: ${err.message}`));
  }

  /**
   * Until every worker is done, or has left the group (its session ended: killed, or its host gone) after
   * the schedule's end, or the grace after the end has passed. `shouldStop` true: the workers are told to
   * stop, and given 15 s more to report.
   */
  async waitDone(shouldStop: () => boolean = () => false): Promise<void> {
    const { o, perWorker, left, shardOf } = this;
    const startMs = this.startMs;
    let until = startMs + o.scenario.duration + (o.graceMs ?? o.scenario.clients.delivery_timeout + 30_000);
    let lookedAt = 0;
    while (Date.now() < until && [...shardOf].some(([id, shard]) => !perWorker.get(shard)!.done && !(left.has(id) && (Date.now() > startMs + o.scenario.duration || this.stopSent)))) {
      if (!this.stopSent && shouldStop()) {
        await this.stop();
        until = Math.min(until, Date.now() + 15_000);
      }
      if (Date.now() - lookedAt > 1_000) {
        lookedAt = Date.now();
        const g = await this.admin.describeGroups([workersGroup(o.prefix)]).catch(() => null);
        const present = new Set(g?.groups[0]?.members.map((m) => m.memberId) ?? []);
        if (g) for (const id of shardOf.keys()) if (!present.has(id) && !perWorker.get(shardOf.get(id)!)!.done && !left.has(id)) {
          left.set(id, Date.now());
          this.log(`worker of shard ${shardOf.get(id)} (${this.hellos.get(id)!.host}:${this.hellos.get(id)!.pid}) left the group without finishing`);
        }
      }
      await sleep(100);
    }
  }

  /** What the workers reported, merged; an unfinished worker's shard is counted from the single stream. */
  result(): LoadResult {
    const { o, perWorker, hellos, pongs, left, merged, startMs } = this;
    // What an unfinished worker's shard should have sent: its events of the single stream over the schedule.
    const shardEvents = (index: number) => {
      const g = new ClickstreamGenerator(o.scenario, { startMs, idPrefix: o.runId, shard: { index, of: o.workers } });
      let n = 0;
      while (!g.done()) {
        g.next();
        n++;
      }
      return n;
    };
    const workers: WorkerReport[] = [...this.shardOf].map(([memberId, shard]) => {
      const w = perWorker.get(shard)!;
      const h = hellos.get(memberId)!;
      const sum = (s: SecondSeries) => s.values.reduce((a, b) => a + b, 0);
      return {
        shard, memberId, host: h.host, pid: h.pid,
        clockOffsetMs: pongs.get(memberId)?.offset ?? 0, clockRoundTripMs: pongs.get(memberId)?.rtt ?? -1,
        done: w.done, intended: sum(w.intended), sent: sum(w.sent), acked: sum(w.acked), lastSecond: w.lastSecond, produceAck: summarize(w.hist),
        leftGroup: left.has(memberId),
        doneAfterMs: w.done ? w.doneAt - startMs : null,
      };
    }).sort((a, b) => a.shard - b.shard);
    return {
      workers,
      startMs,
      durationMs: o.scenario.duration,
      intended: merged.intended.values,
      sent: merged.sent.values,
      acked: merged.acked.values,
      produceAck: summarize(merged.hist),
      mergedCount: merged.hist.totalCount,
      ackedPerSecond: workers.every((w) => w.doneAfterMs !== null) ? merged.acked.values.reduce((a, b) => a + b, 0) / (Math.max(...workers.map((w) => w.doneAfterMs!)) / 1000) : null,
      unfinished: workers.filter((w) => !w.done).map((w) => {
        const expected = shardEvents(w.shard);
        return { shard: w.shard, memberId: w.memberId, host: `${w.host}:${w.pid}`, lastSecond: w.lastSecond, leftGroup: w.leftGroup, shardEvents: expected, notAcknowledged: expected - w.acked };
      }),
      mergeCpuUsPerWorkerSecond: this.workerSeconds ? this.mergeCpuUs / this.workerSeconds : 0,
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.results.disconnect().catch(() => {}), this.producer.disconnect().catch(() => {}), this.admin.disconnect().catch(() => {})]);
  }
}

export async function coordinate(o: CoordinatorOptions): Promise<LoadResult> {
  const overrides = o.overrides ?? {};
  const { scenario } = parseScenario(o.scenario, o.file, overrides);
  const c = new Coordinator({ ...o, scenario });
  const names = topicNames(o.prefix);
  try {
    await c.open(topicSpecs(names, scenario));
    // The lookup tables as `run` fills them (profiles, catalog, campaigns, consent), so a pipeline downstream
    // (`clickbench enrich`, `clickbench sink`) joins what the workers' events refer to.
    await fillLookups(c.producer, names, new ClickstreamGenerator(scenario, { startMs: Date.now(), idPrefix: o.runId }));
    await c.join({ runId: o.runId, prefix: o.prefix, scenario: o.scenario, file: o.file, overrides });
    await c.start(Date.now() + 2_000);
    await c.waitDone();
    return c.result();
  } finally {
    await c.close();
  }
}
