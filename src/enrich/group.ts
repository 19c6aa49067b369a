/**
 * `enrichment.instances: N` (issue #20): N enrichment processes in one consumer group, partition p to
 * instance p mod N (./assigner.ts), seen by the run as one stage: started and stopped together, their
 * counters, consumed bytes, requests, CPU and compression added up. The run's accounting reads them one by
 * one where it needs the processes (pids for the socket ledger, compression, transactions).
 */
import type { CodecCount } from '../kafka/compression.js';
import { sumCodecCounts } from '../kafka/compression.js';
import type { RequestCounts } from '../observe/cost.js';
import { addCounters } from '../run/assemble.js';
import { mergeNested } from '../run/byte-maps.js';
import type { EnrichmentCounters } from './enricher.js';
import { StageProcess, type StageHandle, type StageProcessOptions } from './child.js';

export class StageGroup implements StageHandle {
  readonly members: StageProcess[];

  constructor(private readonly o: Omit<StageProcessOptions, 'instance'>, private readonly instances: number) {
    this.members = Array.from({ length: instances }, (_, index) => this.member(index));
  }

  private member(index: number): StageProcess {
    return new StageProcess({ ...this.o, instance: { index, of: this.instances } });
  }

  /** Fault enricher-kill: SIGKILL of instance `index` (its partitions wait, the others go on); returns the dead process, whose counters still count. */
  async killMember(index: number): Promise<StageProcess> {
    const dead = this.members[index];
    await dead.kill();
    this.members[index] = this.member(index);
    return dead;
  }

  /** After a kill: instance `index` again, its transactional id fencing the dead one's open transaction. */
  async restartMember(index: number): Promise<void> {
    await this.members[index].start();
  }

  async start(): Promise<void> {
    // Together: the group's first rebalance waits for every member it knows of.
    const started = await Promise.allSettled(this.members.map((m) => m.start()));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.stop();
      throw failed.reason;
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.stop()));
  }

  private sum(f: (m: StageProcess) => number): number {
    return this.members.reduce((a, m) => a + f(m), 0);
  }

  get counters(): EnrichmentCounters {
    return this.members.map((m) => m.counters).reduce((a, b) => addCounters(a, b));
  }
  get batches(): number {
    return this.sum((m) => m.batches);
  }
  get transactionsAborted(): number {
    return this.sum((m) => m.transactionsAborted);
  }
  get concurrentTransactionRetries(): number {
    return this.sum((m) => m.concurrentTransactionRetries);
  }
  get groupJoins(): number {
    return this.sum((m) => m.groupJoins);
  }
  get redeliveredSkipped(): number {
    return this.sum((m) => m.redeliveredSkipped);
  }
  get commitsConfirmedAfterError(): number {
    return this.sum((m) => m.commitsConfirmedAfterError);
  }
  get tableFallbacks(): number {
    return this.sum((m) => m.tableFallbacks);
  }
  get consumerRestarts(): number {
    return this.sum((m) => m.consumerRestarts);
  }
  get producerReplacements(): number {
    return this.sum((m) => m.producerReplacements);
  }
  get txnPartitions(): number {
    return this.sum((m) => m.txnPartitions);
  }
  get consumedBytes(): Map<number, number> {
    const out = new Map<number, number>();
    for (const m of this.members) for (const [p, v] of m.consumedBytes) out.set(p, (out.get(p) ?? 0) + v);
    return out;
  }
  get producedBytes(): Map<string, Map<number, number>> {
    const out = new Map<string, Map<number, number>>();
    for (const m of this.members) mergeNested(out, m.producedBytes);
    return out;
  }
  get compressed(): CodecCount | undefined {
    return sumCodecCounts(this.members.map((m) => m.compressed));
  }
  get ownCost(): { requests: RequestCounts; cpuSeconds: number } {
    const requests: RequestCounts = new Map();
    for (const m of this.members) {
      for (const [role, apis] of m.ownCost.requests) {
        const into = requests.get(role) ?? new Map<string, number>();
        for (const [api, n] of apis) into.set(api, (into.get(api) ?? 0) + n);
        requests.set(role, into);
      }
    }
    return { requests, cpuSeconds: this.sum((m) => m.ownCost.cpuSeconds) };
  }
}
