/**
 * What a run reads about the cluster and itself at phase boundaries and while it runs: byte counts
 * of every client (for the cross-zone model), log-dir sizes (DescribeLogDirs), the kernel's
 * per-connection counters on the sandbox, clickbench's own cost (requests, broker and own CPU), and
 * the host's CPU (steal).
 */
import { LogDirsProbe } from '../kafka/logdirs.js';
import { socketLabels } from '../kafka/client.js';
import { socketKey } from '../kafka/wire.js';
import { NetLedger } from '../observe/netflows.js';
import { crossZoneBytes, layoutDiffers, REPLICA_FETCH_BYTES_PER_BATCH, sumCrossZone, type ClientFlow, type CrossZoneResult, type PartitionPlacement } from '../observe/crosszone.js';
import { sampleDisk, type DiskSample } from '../observe/samplers.js';
import { hostCpuBetween, readHostCpu, type HostCpu, type HostCpuReading } from '../observe/host.js';
import { copyCounts, phaseCost, readBrokerCpu, requestCounts, selfCpuSeconds, type CostReading, type PhaseCost } from '../observe/cost.js';
import { copyNested, diffFlat, diffNested, mergeFlat, mergeNested, scaleFlat, scaleNested, sumNested } from './byte-maps.js';
import { isMeasured, notMeasured, type NotMeasured, type Results } from './results.js';
import type { RunContext } from './context.js';
import { compressionFactors, type CompressionReading } from './assemble.js';

export interface Snapshot {
  offsetMs: number;
  driverBytes: Map<string, Map<number, number>>;
  /** The driver's record batches: their bytes without request framing, and their count (what followers fetch). */
  driverBatchBytes: Map<string, Map<number, number>>;
  driverBatches: Map<string, Map<number, number>>;
  /** Raw bytes consumed by the main enrichment stages so far (all instances). */
  stageBytes: Map<number, number>;
  probeBytes: Map<string, Map<number, number>>;
  /** Bytes of the produce requests every enrichment stage sent so far (output and DLQ topics; main, retired and side stages). */
  stageOutBytes: Map<string, Map<number, number>>;
  /** Raw bytes consumed by the side run's stage (dual-run) while it runs. */
  sideBytes: Map<number, number>;
  disk?: DiskSample;
  net?: ReturnType<NetLedger['snapshot']>;
  /** clickbench's own cost so far: requests sent, broker and own CPU seconds. */
  cost: CostReading;
  host?: HostCpuReading;
  /** The run topics' leaders, replicas and ISRs at this snapshot (undefined: the metadata request failed). */
  placements?: PartitionPlacement[];
  /** Exactly-once transactions every stage ended so far (committed or aborted), and the output partitions they touched. */
  transactions: { count: number; partitions: number };
  /** What each producer's codec took in and gave back so far. */
  compression: CompressionReading;
}

/** Whether the compatibility probe saw a consumer with client.rack served by a same-zone follower (the cross-zone model assumes it only then). */
export function rackAwareFetchSeen(compat: Results['compatibility']): boolean {
  return !!compat && isMeasured(compat) && compat.capabilities.some((c) => c.id === 'rack-aware-fetch' && c.status === 'yes');
}

export class Observer {
  private logDirs?: LogDirsProbe;
  private topicList: { name: string; partitions: number[] }[] = [];

  constructor(private readonly ctx: RunContext) {}

  /** Opens the log-dir client and, on the sandbox, the kernel-counter ledger (on ctx.ledger). */
  async start(): Promise<void> {
    const ctx = this.ctx;
    const { target, zones } = ctx;
    this.logDirs = new LogDirsProbe(ctx.brokers, 'clickbench-logdirs', target.security);
    this.topicList = (await this.runTopics()).filter((t) => t.name !== ctx.names.history).map((t) => ({ name: t.name, partitions: t.partitions.map((p) => p.partitionId) }));
    const sb = target.sandbox;
    if (sb) {
      ctx.ledger = new NetLedger({
        // A secured sandbox: clients reach the nodes on their SASL_SSL ports (TLS framing counted too), replication stays on PLAINTEXT.
        nodes: () => sb.state.nodes.flatMap((n) => [n.port, ...(n.securePort ? [n.securePort] : [])].map((port) => ({ id: n.id, zone: n.zone, port, pid: n.pid }))),
        labelOf: (port, peer, pid) => (pid === process.pid ? socketLabels.get(socketKey(port, peer)) : pid !== null && ctx.stageProcessPids().includes(pid) ? 'enrichment' : undefined),
        zoneOfLabel: (label) => ({ producer: zones.producer, admin: zones.producer, probe: zones.probe, enrichment: zones.enrichment } as Record<string, string>)[label],
      });
    }
  }

  async close(): Promise<void> {
    this.ctx.ledger?.stop();
    await this.logDirs?.close();
  }

  private async runTopics() {
    const md = await this.ctx.admin.fetchTopicMetadata({ topics: this.ctx.createdTopics });
    return md.topics;
  }

  /** Sink partitions (enriched, DLQ) whose last stable offset is behind the high watermark: a transaction still open there. */
  async openSinkTransactions(): Promise<{ topic: string; partition: number; lastStable: number; highWatermark: number }[] | string> {
    if (!this.logDirs) return 'no admin client';
    const sink = this.topicList.filter((t) => t.name === this.ctx.names.enriched || t.name === this.ctx.names.dlq);
    return this.logDirs.openTransactions(sink).catch((err: Error) => `ListOffsets failed: ${err.message}`);
  }

  /** A log-dir sample into results.series.disk (undefined when DescribeLogDirs failed; the error is logged once). */
  async diskAt(offsetMs: number): Promise<DiskSample | undefined> {
    if (!this.logDirs) return undefined;
    try {
      const { sample } = await sampleDisk(this.logDirs, this.topicList, offsetMs);
      this.ctx.results.series.disk.push(sample);
      return sample;
    } catch (err) {
      this.ctx.errorLine(`DescribeLogDirs failed: ${(err as Error).message}`);
      return undefined;
    }
  }

  async snapshot(offsetMs: number): Promise<Snapshot> {
    const ctx = this.ctx;
    const ledger = ctx.ledger;
    // The clients' counters first, then the kernel's: reading `ss` takes a process start (hundreds of
    // ms on a busy machine), and counters copied after it held that much more traffic than the kernel's.
    const clients = {
      offsetMs,
      driverBytes: copyNested(ctx.driver.bytesByTopic),
      driverBatchBytes: copyNested(ctx.driver.batchBytesByTopic),
      driverBatches: copyNested(ctx.driver.batchesByTopic),
      stageBytes: mergeFlat(ctx.retiredMainBytes, ctx.stage?.consumedBytes ?? new Map()),
      probeBytes: ctx.sideProbes.reduce((all, p) => mergeNested(all, copyNested(p.bytesByTopic)), copyNested(ctx.probe.bytesByTopic)),
      sideBytes: new Map(ctx.side?.stage.consumedBytes ?? []),
      stageOutBytes: ctx.allStages().reduce((all, st) => mergeNested(all, st.producedBytes), new Map<string, Map<number, number>>()),
      compression: ctx.compression(),
      transactions: ctx.s.enrichment.delivery === 'eos' ? ctx.allStages().reduce((t, st) => ({ count: t.count + st.batches + st.transactionsAborted, partitions: t.partitions + st.txnPartitions }), { count: 0, partitions: 0 }) : { count: 0, partitions: 0 },
    };
    return {
      ...clients,
      net: ledger ? await ledger.sample().then(() => ledger.snapshot()).catch(() => undefined) : undefined,
      disk: await this.diskAt(offsetMs),
      cost: this.ownCost(),
      host: readHostCpu(),
      placements: await this.placements().catch(() => undefined),
    };
  }

  /**
   * clickbench's own cost so far: requests its clients sent and CPU it used, this process's plus every
   * enrichment stage run as a child process (from its last stats line), and the brokers' CPU.
   */
  private ownCost(): Snapshot['cost'] {
    const sb = this.ctx.target.sandbox;
    const requests = copyCounts(requestCounts);
    let cpu = selfCpuSeconds();
    for (const st of this.ctx.allStages()) {
      if (!st.ownCost) continue;
      const c = st.ownCost;
      cpu += c.cpuSeconds;
      mergeNested(requests, c.requests);
    }
    return { atMs: Date.now(), requests, brokerCpu: sb ? readBrokerCpu(sb.state.nodes) : {}, selfCpuSeconds: cpu, loop: performance.eventLoopUtilization() };
  }

  private async placements(): Promise<PartitionPlacement[]> {
    return (await this.runTopics()).flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr })));
  }

  /**
   * The cross-zone model over the bytes every client moved between two snapshots, on the partition
   * layout read at them: when it changed in between (a fault, a move), the mean of the model on each.
   */
  async crossZoneBetween(a: Snapshot, b: Snapshot): Promise<CrossZoneResult> {
    const { zones, names, profile, brokerZone, s } = this.ctx;
    // The clients count record bytes before compression; the brokers store, replicate and serve the
    // compressed batches. Each producer's bytes are scaled by what its codec did between the two snapshots.
    // The enrichment output is what the stages counted as they sent it. It was the probes' reads: those
    // come later than the writes and are not the same bytes (the rollback phase's model ran 3–57 % over
    // the kernel's counters in fresh quickstarts, and a whole run up to 5.9 % over).
    const producedRaw = diffNested(a.driverBytes, b.driverBytes);
    const stageOutRaw = diffNested(a.stageOutBytes, b.stageOutBytes);
    const probed = diffNested(a.probeBytes, b.probeBytes);
    const { producer: fp, enrichment: fe } = compressionFactors(a.compression, b.compression, { producer: sumNested(producedRaw), enrichment: sumNested(stageOutRaw) });
    const produced = scaleNested(producedRaw, fp);
    const stageOut = scaleNested(stageOutRaw, fe);
    // What followers fetch of the driver's partitions: its record batches (compressed as the codec did,
    // framing kept) inside fetch responses, REPLICA_FETCH_BYTES_PER_BATCH of framing each.
    const batchRaw = diffNested(a.driverBatchBytes, b.driverBatchBytes);
    const batches = diffNested(a.driverBatches, b.driverBatches);
    const fb = compressionFactors(a.compression, b.compression, { producer: sumNested(batchRaw), enrichment: sumNested(stageOutRaw) }).producer;
    const flows: ClientFlow[] = [];
    for (const [topic, parts] of produced) {
      const replica = new Map([...(batchRaw.get(topic) ?? [])].map(([p, bytes]) => [p, bytes * fb + (batches.get(topic)?.get(p) ?? 0) * REPLICA_FETCH_BYTES_PER_BATCH]));
      flows.push({ client: 'producer', zone: zones.producer, kind: 'produce', topic, bytesByPartition: parts, replicaBytesByPartition: replica });
      if (topic !== names.raw) flows.push({ client: 'enrichment tables', zone: zones.enrichment, kind: 'consume', topic, bytesByPartition: parts });
    }
    flows.push({ client: 'enrichment', zone: zones.enrichment, kind: 'consume', topic: names.raw, bytesByPartition: scaleFlat(diffFlat(a.stageBytes, b.stageBytes), fp) });
    if (b.sideBytes.size > 0) flows.push({ client: 'enrichment (dual-run)', zone: zones.enrichment, kind: 'consume', topic: names.raw, bytesByPartition: scaleFlat(diffFlat(a.sideBytes, b.sideBytes), fp) });
    for (const [topic, parts] of stageOut) flows.push({ client: 'enrichment', zone: zones.enrichment, kind: 'produce', topic, bytesByPartition: parts });
    for (const [topic, parts] of scaleNested(probed, fe)) flows.push({ client: 'probe', zone: zones.probe, kind: 'consume', topic, bytesByPartition: parts });
    const transactions = { count: b.transactions.count - a.transactions.count, partitions: b.transactions.partitions - a.transactions.partitions, topic: names.enriched };
    const model = (placements: PartitionPlacement[]) => crossZoneBytes({ profile, placements, brokerZone, flows, pricePerGb: s.price.cross_zone_per_gb, rackAwareFetch: rackAwareFetchSeen(this.ctx.results.compatibility), transactions });
    const first = a.placements ?? b.placements ?? (await this.placements());
    const last = b.placements ?? first;
    if (!layoutDiffers(first, last)) return model(first);
    return { ...sumCrossZone([model(first), model(last)], 0.5), layoutChanged: true };
  }

  costOf(a: Snapshot, b: Snapshot, acked: number): PhaseCost | NotMeasured {
    const c = phaseCost(a.cost, b.cost, acked);
    if (!this.ctx.target.sandbox) return { ...c, brokerCpuSeconds: 0, brokerCpuByBroker: {}, brokerCpuSecondsPer1000Events: null, method: `${c.method}; broker CPU not measured: the brokers are not processes on this machine` } as PhaseCost;
    return c;
  }

  hostOf(a: Snapshot, b: Snapshot): HostCpu | NotMeasured {
    const h = a.host && b.host ? hostCpuBetween(a.host, b.host) : null;
    return h ?? notMeasured(a.host ? 'no time passed between the readings' : '/proc/stat is not readable here (not Linux)');
  }
}
