/**
 * `clickbench worker`: a load worker any orchestrator can start (a Kubernetes Indexed Job, a systemd
 * unit, ssh, or the coordinator's own child processes). It joins the run's worker group on the control
 * topic, says hello, answers clock pings, and when the coordinator's start names it, drives its shard of
 * the scenario's schedule open-loop into the run's topics, reporting per-second counters and produce-ack
 * histograms to the results topic. Protocol: src/workers/protocol.ts.
 */
import { hostname } from 'node:os';
import { createConsumer, createKafka, createProducer, type Kafka, type Producer } from '../kafka/client.js';
import type { Security } from '../kafka/security.js';
import { ClickstreamGenerator } from '../generate/clickstream.js';
import { driverRetry, OpenLoopDriver } from '../drive/driver.js';
import { topicNames } from '../drive/topics.js';
import { LeaderMap } from '../kafka/leaders.js';
import { CODEC_TYPE } from '../kafka/compression.js';
import { newHistogram, record, type Histogram } from '../observe/latency.js';
import { selfCpuSeconds } from '../observe/cost.js';
import { parseScenario } from '../scenario/load.js';
import { AckPacker, controlTopic, decode, encode, resultsTopic, workersGroup, type AcksMessage, type ControlMessage, type PlanMessage, type ResultMessage, type StartMessage } from './protocol.js';
import hdr from 'hdr-histogram-js';
import { ClickbenchError } from '../errors.js';

export interface WorkerOptions {
  brokers: string[];
  security?: Security;
  /** The run's prefix (its control and results topics are named from it). */
  prefix: string;
  /** This worker's shard, fixed by its orchestrator (a Kubernetes Indexed Job's completion index), instead of the group's assignment. */
  index?: { index: number; of: number };
  /** How long to wait for the coordinator's start (default 10 min). */
  waitMs?: number;
  log?: (line: string) => void;
}

export interface WorkerOutcome {
  shard: number;
  of: number;
  generated: number;
  acked: number;
  failed: number;
}

/** Per-second counters as last reported, and the latencies recorded since, by schedule second. */
class Reporter {
  private reported = { intended: [] as number[], sent: [] as number[], acked: [] as number[] };
  private readonly fresh = new Map<number, Histogram>();

  constructor(private readonly driver: OpenLoopDriver, private readonly shard: number) {}

  ack(second: number, latencyMs: number): void {
    let h = this.fresh.get(second);
    if (!h) this.fresh.set(second, (h = newHistogram()));
    record(h, latencyMs);
  }

  /** Messages for every second whose counters or latencies changed since the last call. */
  deltas(): ResultMessage[] {
    const d = this.driver;
    const out: ResultMessage[] = [];
    const n = Math.max(d.intended.values.length, d.sent.values.length, d.acked.values.length);
    for (let s = 0; s < n; s++) {
      const delta = (now: number[], was: number[]) => (now[s] ?? 0) - (was[s] ?? 0);
      const intended = delta(d.intended.values, this.reported.intended);
      const sent = delta(d.sent.values, this.reported.sent);
      const acked = delta(d.acked.values, this.reported.acked);
      const h = this.fresh.get(s);
      if (intended === 0 && sent === 0 && acked === 0 && !h) continue;
      out.push({ kind: 'second', shard: this.shard, second: s, intended, sent, acked, ackHistogram: h ? hdr.encodeIntoCompressedBase64(h) : null });
    }
    this.reported = { intended: d.intended.values.slice(), sent: d.sent.values.slice(), acked: d.acked.values.slice() };
    this.fresh.clear();
    return out;
  }
}

/** The driver's figures `clickbench run` accounts with: acknowledgements since the last message, the rest cumulative. */
class AckReporter {
  private badSent = 0;
  private seriesFrom = 0;

  constructor(private readonly driver: OpenLoopDriver, private readonly acks: AckPacker, private readonly shard: number, private readonly gen: ClickstreamGenerator) {}

  message(): AcksMessage {
    const d = this.driver;
    const bytes: AcksMessage['bytes'] = [];
    for (const [topic, m] of d.bytesByTopic) for (const [p, b] of m) bytes.push([topic, p, b, d.batchBytesByTopic.get(topic)?.get(p) ?? 0, d.batchesByTopic.get(topic)?.get(p) ?? 0]);
    const from = this.seriesFrom;
    const upTo = Math.max(d.generationLagMs.values.length, d.queueDepthMax.values.length, d.queueFull.values.length);
    // The last second may still grow: sent again next time.
    this.seriesFrom = Math.max(0, upTo - 1);
    const bad = d.badAcked.slice(this.badSent);
    this.badSent = d.badAcked.length;
    return {
      kind: 'acks', shard: this.shard, data: this.acks.take(), bad,
      stats: { ...d.stats, drawn: d.stats.generated + this.gen.skipped }, queueDepth: d.queueDepth, bytes, errorsByCode: { ...d.errorsByCode },
      series: { from, generationLagMs: d.generationLagMs.values.slice(from), queueDepthMax: d.queueDepthMax.values.slice(from), queueFull: d.queueFull.values.slice(from) },
    };
  }
}

export async function runWorker(o: WorkerOptions): Promise<WorkerOutcome> {
  const log = o.log ?? (() => {});
  const kafka: Kafka = createKafka({ brokers: o.brokers, security: o.security, clientId: `clickbench-worker-${process.pid}`, log });
  const results: Producer = createProducer(kafka, { idempotent: true });
  await results.connect();
  const publish = async (messages: ResultMessage[]): Promise<void> => {
    if (messages.length) await results.send({ topic: resultsTopic(o.prefix), acks: -1, messages: messages.map((m) => ({ key: 'memberId' in m ? m.memberId : String((m as { shard: number }).shard), value: encode(m) })) });
  };

  let memberId = '';
  let plan: PlanMessage | undefined;
  let start: StartMessage | undefined;
  let stopAsked = false;
  const answered = new Set<number>();
  // A worker may start before the coordinator made the run's topics: wait for the control topic (never auto-create it).
  const admin = kafka.admin();
  await admin.connect();
  const waitBy = Date.now() + (o.waitMs ?? 600_000);
  for (;;) {
    const topics = new Set(await admin.listTopics());
    if (topics.has(controlTopic(o.prefix)) && topics.has(resultsTopic(o.prefix))) break;
    if (Date.now() > waitBy) {
      await Promise.all([results.disconnect().catch(() => {}), admin.disconnect().catch(() => {})]);
      throw new ClickbenchError(`run ${o.prefix} not found: no topic ${controlTopic(o.prefix)} within ${Math.round((o.waitMs ?? 600_000) / 1000)} s (start the coordinator with clickbench load)`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const consumer = createConsumer(kafka, { groupId: workersGroup(o.prefix), sessionTimeout: 10_000, heartbeatInterval: 1_000, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
  /** Set once the worker closes its clients: a rejoin then (another worker left the group) announces nothing. */
  let leaving = false;
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    if (leaving) return;
    memberId = e.payload.memberId;
    const partitions = (e.payload.memberAssignment[controlTopic(o.prefix)] ?? []).slice().sort((a, b) => a - b);
    log(`joined ${workersGroup(o.prefix)} as ${memberId}: control partition(s) ${partitions.join(', ') || 'none'}`);
    void publish([{ kind: 'hello', memberId, host: hostname(), pid: process.pid, partitions, ...(o.index ? { index: o.index.index, of: o.index.of } : {}) }]).catch((err: Error) => log(`hello not sent: ${err.message}`));
  });
  await consumer.connect();
  await consumer.subscribe({ topic: controlTopic(o.prefix), fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ message }) => {
      const m = decode<ControlMessage>(message.value);
      if (!m) return;
      if (m.kind === 'plan') plan = m;
      else if (m.kind === 'ping' && !answered.has(m.id) && memberId) {
        answered.add(m.id);
        await publish([{ kind: 'pong', memberId, pingId: m.id, pingAt: m.at, at: Date.now() }]);
      } else if (m.kind === 'start' && memberId && m.shards[memberId]) start = m;
      else if (m.kind === 'stop') stopAsked = true;
    },
  });

  const deadline = Date.now() + (o.waitMs ?? 600_000);
  while (!(plan && start) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (!plan || !start) {
    leaving = true;
    await Promise.all([consumer.disconnect().catch(() => {}), results.disconnect().catch(() => {}), admin.disconnect().catch(() => {})]);
    throw new ClickbenchError(`no start for this worker from the coordinator within ${Math.round((o.waitMs ?? 600_000) / 1000)} s (control topic ${controlTopic(o.prefix)})`);
  }
  const { index, clockOffsetMs } = start.shards[memberId];
  const of = plan.workers;
  const scenario = plan.resolved ?? parseScenario(plan.scenario, plan.file, plan.overrides).scenario;
  const names = topicNames(plan.prefix);
  // The coordinator's clock: this worker's, corrected by the offset the pings measured.
  const clock = () => Date.now() - clockOffsetMs;
  const gen = new ClickstreamGenerator(scenario, { startMs: start.startMs, idPrefix: plan.runId, shard: { index, of } });
  const leaders = new LeaderMap(admin, () => [names.raw, ...Object.values(names.lookups)]);
  await leaders.refresh();
  // As the run's own driver: idempotent with acks=all, and kafkajs retrying once (the driver retries the rest).
  const producer = createProducer(kafka, { idempotent: scenario.clients.acks === 'all', maxInFlightRequests: 1, retry: driverRetry() });
  await producer.connect();
  log(`shard ${index} of ${of}: schedule starts in ${Math.max(0, start.startMs - clock())} ms, clock offset ${clockOffsetMs} ms`);
  const startMs = start.startMs;
  let reporter: Reporter | undefined;
  // For `clickbench run`: every acknowledged event, packed (its seq, raw partition, intended and ack time).
  const acks = plan.perEventAcks ? new AckPacker() : undefined;
  const driver = new OpenLoopDriver({
    producer, names, gen, startMs, durationMs: scenario.duration, partitions: scenario.topics.partitions, lookupPartitions: Math.min(6, scenario.topics.partitions),
    leaderOf: (t, p) => leaders.get(t, p), onLeadersStale: () => void leaders.refresh(),
    onAck: ({ events, ackMs }) => {
      for (const e of events) {
        reporter!.ack(Math.floor((e.intendedMs - startMs) / 1000), ackMs - e.intendedMs);
        acks?.add(e.seq, driver.partitionOfSeq(e.seq), e.intendedMs - startMs, ackMs - startMs);
      }
    },
    acks: scenario.clients.acks === 'all' ? -1 : 1,
    compression: CODEC_TYPE[scenario.clients.compression],
    clientId: `clickbench-worker-${index}`,
    deliveryTimeoutMs: scenario.clients.delivery_timeout,
    lingerMs: scenario.clients.linger,
    maxBatchBytes: scenario.clients.batch_size,
    clock,
    onError: (err, n) => log(`produce failed for ${n} events: ${err.message}`),
  });
  reporter = new Reporter(driver, index);
  const accounts = acks ? new AckReporter(driver, acks, index, gen) : undefined;
  const cpu0 = selfCpuSeconds();
  let reporting = Promise.resolve();
  let ticks = 0;
  // Per-second figures every second; for a run accounting for each event, those and the acknowledgements every 250 ms,
  // read in one go, so both tell the same story up to the moment a worker dies.
  const tick = setInterval(() => {
    const second = ++ticks % 4 === 0 || accounts !== undefined;
    if (!second && !accounts) return;
    reporting = reporting.then(() => publish([...(accounts ? [accounts.message()] : []), ...(second ? reporter!.deltas() : [])])).catch((err: Error) => log(`results not sent: ${err.message}`));
  }, 250);
  try {
    await driver.run(() => {
      if (stopAsked) driver.abandon();
      return stopAsked;
    });
  } finally {
    clearInterval(tick);
  }
  await reporting;
  await publish([...(accounts ? [accounts.message()] : []), ...reporter.deltas()]);
  const st = driver.stats;
  await publish([{ kind: 'done', shard: index, memberId, generated: st.generated, acked: st.acked, failed: st.failed, skipped: gen.skipped, cpuSeconds: selfCpuSeconds() - cpu0 }]);
  leaving = true;
  await Promise.all([producer.disconnect(), admin.disconnect(), consumer.disconnect().catch(() => {}), results.disconnect()]);
  return { shard: index, of, generated: st.generated, acked: st.acked, failed: st.failed };
}
