/**
 * Broker disk per log dir from the DescribeLogDirs admin API (API key 35). kafkajs lacks this
 * call, so this one request goes through @platformatic/kafka's admin client (a maintained
 * client that implements it), kept behind this module.
 */
import { Admin as PlatformaticAdmin, type BaseOptions, type ListedOffsetsTopic } from '@platformatic/kafka';
import type { Security } from './security.js';

/** @platformatic/kafka's TLS / SASL options for a connection security. */
export function platformaticSecurity(sec: Security | undefined): Pick<BaseOptions, 'tls' | 'sasl'> {
  if (!sec) return {};
  return {
    ...(sec.tls ? { tls: { rejectUnauthorized: sec.tls.verify, ...(sec.tls.ca ? { ca: [sec.tls.ca] } : {}) } } : {}),
    ...(sec.sasl ? { sasl: { mechanism: sec.sasl.mechanism, username: sec.sasl.username, password: sec.sasl.password.reveal() } } : {}),
  };
}

export interface PartitionDisk {
  topic: string;
  partition: number;
  sizeBytes: number;
}

export interface LogDirDisk {
  broker: number;
  logDir: string;
  /** Bytes of the listed partitions' log segments in this dir. */
  sizeBytes: number;
  partitions: PartitionDisk[];
  /** Volume size and free space where the broker reports them (-1 otherwise). */
  volumeTotalBytes: number;
  volumeUsableBytes: number;
}

/** How long the list of brokers DescribeLogDirs goes to is trusted. */
const BROKER_LIST_TTL_MS = 5_000;

export class LogDirsProbe {
  private readonly admin: PlatformaticAdmin;
  private brokersReadAt = 0;
  constructor(brokers: string[], clientId = 'clickbench-logdirs', security?: Security) {
    this.admin = new PlatformaticAdmin({ clientId, bootstrapBrokers: brokers, retries: 2, timeout: 15_000, ...platformaticSecurity(security) });
  }

  /** Disk used by the given topics' partitions, per broker and log dir. */
  async describe(topics: { name: string; partitions: number[] }[]): Promise<LogDirDisk[]> {
    // The client asks the brokers of its cached metadata, and with no topic named it never refreshes
    // them: a broker added by a scale-out was left out of every later figure (readiness.yaml: -12.7 %
    // against the files on disk). Forget the brokers every BROKER_LIST_TTL_MS, as a producer would.
    if (Date.now() - this.brokersReadAt > BROKER_LIST_TTL_MS) {
      this.admin.clearMetadata();
      this.brokersReadAt = Date.now();
    }
    const res = await this.admin.describeLogDirs({ topics });
    const out: LogDirDisk[] = [];
    for (const b of res) {
      for (const r of b.results) {
        const partitions: PartitionDisk[] = [];
        for (const t of r.topics) for (const p of t.partitions) partitions.push({ topic: t.name, partition: p.partitionIndex, sizeBytes: Number(p.partitionSize) });
        out.push({
          broker: b.broker,
          logDir: r.logDir,
          sizeBytes: partitions.reduce((a, p) => a + p.sizeBytes, 0),
          partitions,
          volumeTotalBytes: Number(r.totalBytes ?? -1n),
          volumeUsableBytes: Number(r.usableBytes ?? -1n),
        });
      }
    }
    return out.sort((a, b) => a.broker - b.broker || a.logDir.localeCompare(b.logDir));
  }

  /**
   * Partitions whose last stable offset (ListOffsets, read_committed) is behind their high watermark
   * (read_uncommitted): records past it belong to a transaction still open, which read_committed
   * consumers cannot read past until it commits or aborts (or, for a hanging one, ever).
   */
  async openTransactions(topics: { name: string; partitions: number[] }[]): Promise<{ topic: string; partition: number; lastStable: number; highWatermark: number }[]> {
    const ask = (isolationLevel: 0 | 1): Promise<ListedOffsetsTopic[]> => this.admin.listOffsets({ topics: topics.map((t) => ({ name: t.name, partitions: t.partitions.map((partitionIndex) => ({ partitionIndex, timestamp: -1n })) })), isolationLevel }) as Promise<ListedOffsetsTopic[]>;
    const stable = await ask(1);
    const high = await ask(0);
    const highOf = new Map(high.flatMap((t) => t.partitions.map((p) => [`${t.name}:${p.partitionIndex}`, Number(p.offset)] as const)));
    const out: { topic: string; partition: number; lastStable: number; highWatermark: number }[] = [];
    for (const t of stable) {
      for (const p of t.partitions) {
        const hw = highOf.get(`${t.name}:${p.partitionIndex}`);
        if (hw !== undefined && Number(p.offset) < hw) out.push({ topic: t.name, partition: p.partitionIndex, lastStable: Number(p.offset), highWatermark: hw });
      }
    }
    return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  }

  async close(): Promise<void> {
    await this.admin.close();
  }
}
