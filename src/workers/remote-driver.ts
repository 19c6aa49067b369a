/**
 * `clickbench run --workers N`: the load comes from N load workers (`clickbench worker`, here or on other
 * hosts) instead of this process's driver, and the rest of the run — enrichment, probe, observation,
 * accounting, scorecard — stays as it is. The run reads the workers' load through the same figures it
 * reads of its own driver (LoadDriver): each worker reports every acknowledged event (seq, raw partition,
 * intended and acknowledged time) every 250 ms, so the run's accounting is per event, exactly as with one
 * process: an event the probe never saw is named, an event a worker never sent is not counted missing.
 */
import type { Kafka } from '../kafka/client.js';
import { LoadLedger, SecondSeries, type DriverStats, type LoadDriver } from '../drive/driver.js';
import type { Scenario } from '../scenario/schema.js';
import { Coordinator, type LoadResult } from './coordinator.js';
import { unpackAcks, type AcksMessage, type ResultMessage } from './protocol.js';

export interface RemoteDriverOptions {
  kafka: Kafka;
  /** The run's topic prefix (its control and results topics are named from it) and event-id prefix. */
  prefix: string;
  idPrefix: string;
  scenario: Scenario;
  /** The scenario file's text and name (a worker's errors name it). */
  source: string;
  file: string;
  workers: number;
  joinTimeoutMs?: number;
  log?: (line: string) => void;
  /** Each acknowledged event: its intended time and acknowledgement (epoch ms, the run's clock). */
  onAck?: (intendedMs: number, ackMs: number) => void;
  onPartitionAck?: (partition: number, ackMs: number) => void;
  onAttemptFailed?: (code: string) => void;
}

function sumNested(maps: Map<string, Map<number, number>>[]): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>();
  for (const m of maps) for (const [topic, parts] of m) {
    let o = out.get(topic);
    if (!o) out.set(topic, (o = new Map()));
    for (const [p, v] of parts) o.set(p, (o.get(p) ?? 0) + v);
  }
  return out;
}

/** One worker's latest cumulative figures. */
interface WorkerState {
  stats: AcksMessage['stats'];
  queueDepth: number;
  bytes: Map<string, Map<number, number>>;
  batchBytes: Map<string, Map<number, number>>;
  batches: Map<string, Map<number, number>>;
  errorsByCode: Record<string, number>;
}

export class RemoteDriver extends LoadLedger implements LoadDriver {
  private readonly byShard = new Map<number, WorkerState>();
  /** Queue depth per shard per second (summed over shards into queueDepthMax). */
  private readonly queueByShard = new Map<number, SecondSeries>();
  readonly coordinator: Coordinator;
  /** Accounting for the workers' acknowledgements (decoding, latency, partitions): CPU µs of this process, events. */
  readonly accounting = { cpuUs: 0, events: 0 };
  /** The workers' figures merged (set when the run's load ended). */
  load?: LoadResult;

  constructor(private readonly o: RemoteDriverOptions) {
    super();
    this.coordinator = new Coordinator({ kafka: o.kafka, prefix: o.prefix, runId: o.idPrefix, scenario: o.scenario, file: o.file, workers: o.workers, joinTimeoutMs: o.joinTimeoutMs, log: o.log });
    this.coordinator.onResult = (m) => this.received(m);
  }

  /**
   * The control and results topics, the plan, the workers in the group, their clocks: all before the schedule's
   * start. `startWorkers`: start local workers once the topics they wait for exist.
   */
  async prepare(startWorkers?: () => Promise<void>): Promise<void> {
    const o = this.o;
    await this.coordinator.open();
    const started = startWorkers?.();
    // A worker that cannot start says why at once, rather than the join's timeout later.
    let failed: Error | undefined;
    started?.catch((err: Error) => void (failed = err));
    await this.coordinator.join({ runId: o.idPrefix, prefix: o.prefix, scenario: o.source, file: o.file, overrides: {}, resolved: o.scenario, perEventAcks: true }, () => failed);
    await started;
  }

  /** Go at `startMs` (this process's clock: the run's schedule start). */
  start(startMs: number): Promise<void> {
    return this.coordinator.start(startMs);
  }

  private received(m: ResultMessage): void {
    if (m.kind === 'second') {
      this.intended.add(m.second, m.intended);
      this.sent.add(m.second, m.sent);
      this.acked.add(m.second, m.acked);
    } else if (m.kind === 'acks') this.accountAcks(m);
  }

  private accountAcks(m: AcksMessage): void {
    const c0 = process.cpuUsage();
    const o = this.o;
    const startMs = this.coordinator.startMs;
    let lastPartition = -2;
    let lastAck = -1;
    this.accounting.events += unpackAcks(m.data, (seq, partition, intendedOffsetMs, ackOffsetMs) => {
      this.ackedSeqs.add(seq);
      if (partition >= 0) this.places.mark(seq, partition, intendedOffsetMs);
      else this.missingIdAcked++;
      o.onAck?.(startMs + intendedOffsetMs, startMs + ackOffsetMs);
      // One produce response acknowledges a partition's batch: the events of a batch come in a row.
      if (partition >= 0 && (partition !== lastPartition || ackOffsetMs !== lastAck)) o.onPartitionAck?.(partition, startMs + ackOffsetMs);
      lastPartition = partition;
      lastAck = ackOffsetMs;
    });
    this.badAcked.push(...m.bad);
    const was = this.byShard.get(m.shard);
    for (const [code, n] of Object.entries(m.errorsByCode)) for (let i = was?.errorsByCode[code] ?? 0; i < n; i++) o.onAttemptFailed?.(code);
    const nested = (k: 2 | 3 | 4) => {
      const out = new Map<string, Map<number, number>>();
      for (const row of m.bytes) {
        let t = out.get(row[0]);
        if (!t) out.set(row[0], (t = new Map()));
        t.set(row[1], row[k]);
      }
      return out;
    };
    this.byShard.set(m.shard, { stats: m.stats, queueDepth: m.queueDepth, bytes: nested(2), batchBytes: nested(3), batches: nested(4), errorsByCode: m.errorsByCode });
    let q = this.queueByShard.get(m.shard);
    if (!q) this.queueByShard.set(m.shard, (q = new SecondSeries()));
    const { from, generationLagMs, queueDepthMax, queueFull } = m.series;
    for (let i = 0; i < generationLagMs.length; i++) this.generationLagMs.max(from + i, generationLagMs[i]);
    for (let i = 0; i < queueFull.length; i++) this.queueFull.max(from + i, queueFull[i]);
    for (let i = 0; i < queueDepthMax.length; i++) {
      q.max(from + i, queueDepthMax[i]);
      let total = 0;
      for (const s of this.queueByShard.values()) total += s.values[from + i] ?? 0;
      this.queueDepthMax.max(from + i, total);
    }
    const c1 = process.cpuUsage(c0);
    this.accounting.cpuUs += c1.user + c1.system;
  }

  private get states(): WorkerState[] {
    return [...this.byShard.values()];
  }

  get stats(): DriverStats {
    const out: DriverStats = { generated: 0, sent: 0, acked: 0, failed: 0, bad: 0, maxQueueDepth: 0, maxScheduleLagMs: 0, errors: 0, retries: 0, payloadBytes: 0 };
    for (const { stats } of this.states) {
      for (const k of ['generated', 'sent', 'acked', 'failed', 'bad', 'errors', 'retries', 'payloadBytes', 'maxQueueDepth'] as const) out[k] += stats[k];
      out.maxScheduleLagMs = Math.max(out.maxScheduleLagMs, stats.maxScheduleLagMs);
    }
    return out;
  }

  get seqEnd(): number {
    return Math.max(0, ...this.states.map((w) => w.stats.drawn));
  }

  get queueDepth(): number {
    return this.states.reduce((a, w) => a + w.queueDepth, 0);
  }

  get bytesByTopic(): Map<string, Map<number, number>> {
    return sumNested(this.states.map((w) => w.bytes));
  }

  get batchBytesByTopic(): Map<string, Map<number, number>> {
    return sumNested(this.states.map((w) => w.batchBytes));
  }

  get batchesByTopic(): Map<string, Map<number, number>> {
    return sumNested(this.states.map((w) => w.batches));
  }

  get errorsByCode(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const w of this.states) for (const [k, v] of Object.entries(w.errorsByCode)) out[k] = (out[k] ?? 0) + v;
    return out;
  }

  /** Until every worker reported done (or left the group, or `shouldStop`: then the workers are told to stop). */
  async run(shouldStop: () => boolean = () => false): Promise<void> {
    await this.coordinator.waitDone(shouldStop);
    this.load = this.coordinator.result();
  }

  abandon(): void {
    void this.coordinator.stop();
  }

  /** The run's own producer is not the one driving: nothing to be careful about. */
  clientRetried(): void {}

  close(): Promise<void> {
    return this.coordinator.close();
  }
}
