/**
 * clickbench's own cost on the cluster, measured side by side on one sandbox:
 *
 *   idle         broker CPU seconds per second with nothing running (the floor under every figure)
 *   producer     clickbench's open-loop driver alone at the quickstart's rate and record size vs
 *                Kafka's ProducerPerformance `--throughput` at the same rate, acks and partitions:
 *                broker CPU per 1 000 records (ratio, goal ≤ 1.5×), produce-ack p50/p99, requests
 *   pipeline     the whole quickstart pipeline (driver, enrichment eos, probe, samplers) at 1 000 and
 *                3 000 events/s: broker CPU per 1 000 events, requests per 1 000 events by API, e2e
 *
 * Broker CPU is utime+stime of the node processes from /proc (src/observe/cost.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { averageEventBytes } from '../src/calibrate/settings.js';
import { driverRetry, OpenLoopDriver } from '../src/drive/driver.js';
import { LeaderMap } from '../src/kafka/leaders.js';
import { createTopics, topicNames, topicSpecs } from '../src/drive/topics.js';
import { ClickstreamGenerator } from '../src/generate/clickstream.js';
import { createKafka, createProducer } from '../src/kafka/client.js';
import { openKafkaTools, producerPerformanceArgs } from '../src/kafka/tools.js';
import { PLAINTEXT } from '../src/kafka/security.js';
import { copyCounts, phaseCost, readBrokerCpu, requestCounts, selfCpuSeconds } from '../src/observe/cost.js';
import { PipelineLatency, record } from '../src/observe/latency.js';
import { parseProducerPerformance } from '../src/calibrate/calibrate.js';
import { newRunId, runScenario } from '../src/run/run.js';
import { resolveTarget } from '../src/run/target.js';
import type { Sandbox } from '../src/sandbox/cluster.js';
import { sleep } from '../src/sandbox/process.js';
import { loadScenario, parseScenario } from '../src/scenario/load.js';

export interface CostRow {
  what: string;
  seconds: number;
  records: number;
  brokerCpuSeconds: number;
  brokerCpuPer1000: number;
  clientCpuSeconds?: number;
  requestsPerSec?: number;
  requestsPer1000ByApi?: Record<string, number>;
  /** Requests in the measured window by client role and API. */
  requests?: Record<string, Record<string, number>>;
  p50Ms?: number | null;
  p99Ms?: number | null;
}

const reading = (sb: Sandbox) => ({ brokerCpu: readBrokerCpu(sb.state.nodes), selfCpuSeconds: selfCpuSeconds(), requests: copyCounts(requestCounts), atMs: Date.now() });

export async function idleCost(sb: Sandbox, seconds: number): Promise<CostRow> {
  const a = reading(sb);
  await sleep(seconds * 1000);
  const c = phaseCost(a, reading(sb), 0);
  return { what: 'idle', seconds, records: 0, brokerCpuSeconds: c.brokerCpuSeconds, brokerCpuPer1000: 0 };
}

/** ProducerPerformance at `rate` records/s for `seconds`, on a fresh 12-partition RF 3 topic. */
export async function toolProducerCost(sb: Sandbox, rate: number, seconds: number, recordBytes: number, lingerMs = 5, spread = false): Promise<CostRow> {
  const kafka = createKafka({ brokers: sb.brokers, clientId: 'cost-bench', label: 'bench-admin' });
  const admin = kafka.admin();
  await admin.connect();
  const topic = `cost-bench.pp-${Date.now()}`;
  await createTopics(admin, [{ topic, numPartitions: 12, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }]);
  const tools = await openKafkaTools(PLAINTEXT);
  try {
    // The JVM's own start is not part of the figure: the reading starts when its first records are due.
    const records = rate * seconds;
    const run = tools.run('ProducerPerformance', producerPerformanceArgs({ topic, records, recordBytes, throughput: rate, bootstrap: sb.brokers, acks: 'all', lingerMs, spread }), 600_000);
    await sleep(1_500);
    const a = reading(sb);
    const out = await run;
    const c = phaseCost(a, reading(sb), records);
    const pp = parseProducerPerformance(out);
    const p50 = /(\d+) ms 50th/.exec(pp.line);
    return { what: `ProducerPerformance --throughput ${rate} linger.ms=${lingerMs}${spread ? ', records spread over all partitions' : ''}`, seconds, records, brokerCpuSeconds: c.brokerCpuSeconds, brokerCpuPer1000: c.brokerCpuSecondsPer1000Events ?? 0, p50Ms: p50 ? Number(p50[1]) : null, p99Ms: pp.p99LatencyMs };
  } finally {
    tools.close();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  }
}

/** clickbench's driver alone (raw topic and lookup mirrors, acks=all, idempotent) at `rate` events/s. */
export async function driverCost(sb: Sandbox, rate: number, seconds: number): Promise<CostRow> {
  const s = parseScenario(`name: cost\nseed: 9\nduration: ${seconds}s\ntopics: { partitions: 12, replication: 3, min_insync_replicas: 2 }\ntraffic: { base_rate: ${rate} }\npopulation: { users: 20000, products: 10000, pages: 1000 }\n`, 'cost.yaml').scenario;
  const prefix = `cost-bench-driver-${Date.now()}`;
  const kafka = createKafka({ brokers: sb.brokers, clientId: `${prefix}-producer`, label: 'producer' });
  const admin = kafka.admin();
  await admin.connect();
  const names = topicNames(prefix);
  await createTopics(admin, topicSpecs(names, s));
  const producer = createProducer(kafka, { idempotent: true, maxInFlightRequests: 5, retry: driverRetry() });
  await producer.connect();
  const leaders = new LeaderMap(admin, () => [names.raw, ...Object.values(names.lookups)]);
  await leaders.refresh();
  const lat = new PipelineLatency();
  const start = Date.now() + 200;
  const gen = new ClickstreamGenerator(s, { startMs: start, idPrefix: prefix });
  const driver = new OpenLoopDriver({
    producer, names, gen, startMs: start, durationMs: s.duration, partitions: 12, lookupPartitions: 6, leaderOf: (t, p) => leaders.get(t, p), onLeadersStale: () => void leaders.refresh(),
    onAck: (b) => { for (const e of b.events) record(lat.produceAck, b.ackMs - e.intendedMs); },
  });
  const a = reading(sb);
  await driver.run();
  const c = phaseCost(a, reading(sb), driver.stats.acked);
  await producer.disconnect();
  await admin.deleteTopics({ topics: [...Object.values(names.lookups), names.raw, names.enriched, names.dlq] }).catch(() => {});
  await admin.disconnect();
  const l = lat.summary().produceAck;
  return { what: `clickbench driver at ${rate} events/s`, seconds, records: driver.stats.acked, brokerCpuSeconds: c.brokerCpuSeconds, brokerCpuPer1000: c.brokerCpuSecondsPer1000Events ?? 0, clientCpuSeconds: c.clickbenchCpuSeconds, requestsPerSec: c.requestsPerSec, requestsPer1000ByApi: c.requestsPer1000EventsByApi, p50Ms: l?.p50Ms ?? null, p99Ms: l?.p99Ms ?? null };
}

/** The quickstart's pipeline (no burst, dual-run or rollback) at `rate` events/s: steady phase cost and e2e. */
export async function pipelineCost(sb: Sandbox, rate: number, seconds: number): Promise<CostRow> {
  const base = loadScenario('scenarios/quickstart.yaml');
  const text = base.source
    .replace(/^duration: .*$/m, `duration: ${seconds + 10}s`)
    .replace(/base_rate: \d+/, `base_rate: ${rate}`)
    .replace(/^ {2}bursts:[\s\S]*?(?=^population:)/m, '  bursts: []\n\n')
    .replace(/^phases:[\s\S]*?(?=^gates:)/m, `phases:\n  - { kind: warmup, duration: 10s }\n  - { kind: steady, duration: ${seconds}s }\n\n`);
  const loaded = parseScenario(text, 'quickstart-cost.yaml');
  const target = await resolveTarget(loaded.scenario, { stateDir: sb.state.stateDir });
  const r = await runScenario(loaded, { target, runId: newRunId(`cost-${rate}`), reportsDir: mkdtempSync(join(tmpdir(), 'cost-bench-')) });
  const steady = r.phases.find((p) => p.kind === 'steady');
  const c = steady?.cost && steady.cost.measured ? steady.cost : undefined;
  return {
    what: `quickstart pipeline at ${rate} events/s (steady)`, seconds, records: steady?.events.acked ?? 0,
    brokerCpuSeconds: c?.brokerCpuSeconds ?? NaN, brokerCpuPer1000: c?.brokerCpuSecondsPer1000Events ?? NaN, clientCpuSeconds: c?.clickbenchCpuSeconds,
    requestsPerSec: c?.requestsPerSec, requestsPer1000ByApi: c?.requestsPer1000EventsByApi, requests: c?.requests,
    p50Ms: steady?.latency.e2e?.p50Ms ?? null, p99Ms: steady?.latency.e2e?.p99Ms ?? null,
  };
}

export function costRecordBytes(): number {
  return Math.round(averageEventBytes(loadScenario('scenarios/quickstart.yaml').scenario));
}
