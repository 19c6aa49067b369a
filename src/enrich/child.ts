/**
 * The enrichment stage as a child process (`clickbench enrich`), for runs that kill it on purpose
 * (fault `enricher-kill`): a SIGKILL mid-transaction is only real for a real process. It reads the
 * child's stats lines, so the run sees the same counters as from an in-process stage (as of the
 * last line before a kill: up to `statsEveryMs` old).
 */
import type { Codec, CodecCount } from '../kafka/compression.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../version.js';
import type { EnrichmentCounters, EnrichmentVersion } from './enricher.js';
import { waitUntil } from '../sandbox/process.js';
import { ClickbenchError, ExitCode } from '../errors.js';
import { securityArgs, type Security } from '../kafka/security.js';
import type { RequestCounts } from '../observe/cost.js';
import type { InstanceIndex } from './assigner.js';

export interface StageStats {
  at: string;
  batches: number;
  transactionsAborted: number;
  concurrentTransactionRetries: number;
  groupJoins: number;
  redeliveredSkipped: number;
  commitsConfirmedAfterError?: number;
  tableFallbacks?: number;
  consumerRestarts?: number;
  producerReplacements?: number;
  /** Σ over ended transactions (committed or aborted) of the output partitions each touched (absent from older versions). */
  txnPartitions?: number;
  consumedBytes: Record<string, number>;
  /** Bytes of the produce requests the stage sent, topic → partition → bytes (absent from older versions). */
  producedBytes?: Record<string, Record<string, number>>;
  counters: EnrichmentCounters;
  /** Kafka requests the process's clients sent, role → API → count (absent from older versions). */
  requests?: Record<string, Record<string, number>>;
  /** CPU seconds (user + system) the process used so far. */
  cpuSeconds?: number;
  /** What the process's output producer fed its codec and got out of it (absent: nothing compressed). */
  compressed?: CodecCount;
}

/** What `run` uses of a stage, in process or not. */
export interface StageHandle {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly counters: EnrichmentCounters;
  readonly batches: number;
  readonly transactionsAborted: number;
  readonly concurrentTransactionRetries: number;
  readonly groupJoins: number;
  readonly redeliveredSkipped: number;
  readonly commitsConfirmedAfterError: number;
  readonly tableFallbacks: number;
  readonly consumerRestarts: number;
  readonly producerReplacements: number;
  /** Σ over ended transactions of the output partitions each touched (each got a marker). */
  readonly txnPartitions: number;
  readonly consumedBytes: Map<number, number>;
  /** Bytes of the produce requests it sent (output and DLQ), topic → partition → bytes, before compression. */
  readonly producedBytes: Map<string, Map<number, number>>;
  /** A stage in its own process: the requests and CPU it spent, which this process's own counters do not see. */
  readonly ownCost?: { requests: RequestCounts; cpuSeconds: number };
  /** A stage in its own process: what its producer compressed (in this process, `codecCounts` holds it). */
  readonly compressed?: CodecCount;
}

export interface StageProcessOptions {
  brokers: string[];
  security?: Security;
  prefix: string;
  version: EnrichmentVersion;
  delivery: 'eos' | 'alo';
  scenarioFile: string;
  rack?: string;
  generation: number;
  /** Codec of the stage's output (the scenario's clients.enrichment_compression or compression). */
  compression?: Codec;
  log?: (line: string) => void;
  statsEveryMs?: number;
  /** One of several instances in the group (`--instance i --instances N`); default the only one, instance 0. */
  instance?: InstanceIndex;
  /** Output and DLQ topics (default: the prefix's enriched and DLQ topics). */
  output?: string;
  /** The process ended by itself after it started (not by kill or stop): a crash the run must not carry on past. */
  onCrash?: (message: string) => void;
  dlq?: string;
}

/** The child is the CLI itself (`clickbench enrich …`), started with the same Node. */
const BIN = join(PACKAGE_ROOT, 'bin', 'clickbench.js');

/**
 * `clickbench <args>` as a child process of this one (the enrichment stage, the table sink): security flags in
 * argv, the password only in the child's environment; its stdout's JSON lines go to `onJson`, its other lines
 * and its stderr's to `log` (prefixed with `label`). Resolves once a stderr line matches `ready`; if the child
 * ends first or 60 s pass, it is SIGKILLed and one line says why (the child's last stderr line), exit 3.
 * `onExit` hears the end: exit code, signal, the last stderr line, whether it had been ready.
 */
export async function startCliChild(o: {
  args: string[]; security?: Security; ready: RegExp; label: string; log?: (line: string) => void; onJson: (v: unknown) => void;
  onExit: (code: number | null, signal: NodeJS.Signals | null, lastLine: string, running: boolean) => void;
  notStarted: { what: string; hint: string };
  /** Called right after the spawn (the pid is known before the child is ready). */
  onSpawn?: (child: ChildProcess) => void;
  /** In a process group of its own: a Ctrl-C in the terminal reaches only this process, which stops the child its own way. */
  ownGroup?: boolean;
}): Promise<ChildProcess> {
  const sec = o.security ? securityArgs(o.security) : { args: [], env: {} };
  const child = spawn(process.execPath, [BIN, ...o.args, ...sec.args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...sec.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' }, detached: o.ownGroup === true });
  o.onSpawn?.(child);
  let running = false;
  let exited = false;
  let lastLine = '';
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        o.onJson(JSON.parse(line));
      } catch {
        o.log?.(`${o.label}: ${line}`);
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n').filter((l) => l.trim())) {
      if (o.ready.test(line)) running = true;
      else {
        lastLine = line.trim().replace(/^clickbench: /, '');
        o.log?.(`${o.label}: ${line}`);
      }
    }
  });
  child.on('exit', (code, sig) => {
    exited = true;
    o.onExit(code, sig, lastLine, running);
  });
  const ok = await waitUntil(() => running || exited, 60_000, 50);
  if (!running) {
    child.kill('SIGKILL');
    throw new ClickbenchError(`${o.notStarted.what} did not start${ok ? '' : ' within 60 s'}${lastLine ? `: ${lastLine}` : ''}`, { exitCode: ExitCode.runFailed, hint: o.notStarted.hint });
  }
  return child;
}

export class StageProcess implements StageHandle {
  private child?: ChildProcess;
  private last?: StageStats;
  private exited = false;
  private stopping = false;
  killed = false;
  readonly pid = () => this.child?.pid;

  constructor(private readonly o: StageProcessOptions) {}

  async start(): Promise<void> {
    const o = this.o;
    const args = ['enrich', '--brokers', o.brokers.join(','), '--prefix', o.prefix, '--version', o.version, '--delivery', o.delivery, '--scenario', o.scenarioFile,
      '--instance', String(o.instance?.index ?? 0), ...(o.instance && o.instance.of > 1 ? ['--instances', String(o.instance.of)] : []), '--generation', String(o.generation), '--stats-every', String((o.statsEveryMs ?? 500) / 1000), ...(o.rack ? ['--rack', o.rack] : []), ...(o.compression ? ['--compression', o.compression] : []), ...(o.output ? ['--output', o.output] : []), ...(o.dlq ? ['--dlq', o.dlq] : [])];
    this.child = await startCliChild({
      args, security: o.security, ready: /running on/, label: 'enrichment process', log: o.log, onSpawn: (c) => void (this.child = c),
      onJson: (v) => void (this.last = v as StageStats),
      onExit: (code, sig, lastLine, running) => {
        this.exited = true;
        if (running && !this.killed && !this.stopping) o.onCrash?.(`the enrichment process (pid ${this.child?.pid}) ended by itself (${sig ? `signal ${sig}` : `exit ${code}`})${lastLine ? `: ${lastLine.slice(0, 300)}` : ''}`);
      },
      notStarted: { what: 'the enrichment process', hint: 'run it alone to see why: clickbench enrich --help (it takes the same --brokers and security flags as run)' },
    });
  }

  /** SIGKILL: a crash, mid-transaction if one is open. */
  async kill(): Promise<void> {
    if (!this.child || this.exited) return;
    this.killed = true;
    this.child.kill('SIGKILL');
    await waitUntil(() => this.exited, 10_000, 20);
  }

  async stop(): Promise<void> {
    if (!this.child || this.exited) return;
    this.stopping = true;
    this.child.kill('SIGTERM');
    if (!(await waitUntil(() => this.exited, 30_000, 50))) await this.kill();
  }

  get counters(): EnrichmentCounters {
    return this.last?.counters ?? emptyCounters();
  }
  get batches(): number {
    return this.last?.batches ?? 0;
  }
  get transactionsAborted(): number {
    return this.last?.transactionsAborted ?? 0;
  }
  get concurrentTransactionRetries(): number {
    return this.last?.concurrentTransactionRetries ?? 0;
  }
  get groupJoins(): number {
    return this.last?.groupJoins ?? 0;
  }
  get tableFallbacks(): number {
    return this.last?.tableFallbacks ?? 0;
  }
  get consumerRestarts(): number {
    return this.last?.consumerRestarts ?? 0;
  }
  get producerReplacements(): number {
    return this.last?.producerReplacements ?? 0;
  }
  get txnPartitions(): number {
    return this.last?.txnPartitions ?? 0;
  }
  get commitsConfirmedAfterError(): number {
    return this.last?.commitsConfirmedAfterError ?? 0;
  }
  get redeliveredSkipped(): number {
    return this.last?.redeliveredSkipped ?? 0;
  }
  get consumedBytes(): Map<number, number> {
    return new Map(Object.entries(this.last?.consumedBytes ?? {}).map(([k, v]) => [Number(k), v]));
  }
  get producedBytes(): Map<string, Map<number, number>> {
    return new Map(Object.entries(this.last?.producedBytes ?? {}).map(([t, parts]) => [t, new Map(Object.entries(parts).map(([p, v]) => [Number(p), v]))]));
  }
  get compressed(): CodecCount | undefined {
    return this.last?.compressed;
  }
  get ownCost(): { requests: RequestCounts; cpuSeconds: number } {
    return {
      requests: new Map(Object.entries(this.last?.requests ?? {}).map(([role, apis]) => [role, new Map(Object.entries(apis))])),
      cpuSeconds: this.last?.cpuSeconds ?? 0,
    };
  }
}

function emptyCounters(): EnrichmentCounters {
  return {
    processed: 0, enriched: 0, dlq: {} as EnrichmentCounters['dlq'], masked: { pseudonymized: 0, ipTruncated: 0, personalizationDropped: 0, piiFieldsWithheld: 0 },
    lateProfile: { events: 0, updates: 0, maxLatenessMs: 0, totalLatenessMs: 0 }, profileAsOf: { joins: 0, earlierVersion: 0 }, profileMisses: 0, catalogMisses: 0, attributed: 0, merges: 0, risk: { flagged: 0, bySignal: {} },
  };
}
