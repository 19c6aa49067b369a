/** Load workers as local child processes (`clickbench run --workers N`, `clickbench load --spawn`). */
import type { ChildProcess } from 'node:child_process';
import { startCliChild } from '../enrich/child.js';
import type { Security } from '../kafka/security.js';
import { waitUntil } from '../sandbox/process.js';

export class LocalWorkers {
  private readonly children: ChildProcess[] = [];
  /** In their own process group they outlive this process unless told: any exit of it (a second Ctrl-C, an error) stops them. */
  private readonly onExit = () => this.killNow();

  constructor(private readonly o: { brokers: string[]; security?: Security; prefix: string; log?: (line: string) => void }) {
    process.once('exit', this.onExit);
  }

  private running(): ChildProcess[] {
    return this.children.filter((c) => c.exitCode === null && c.signalCode === null);
  }

  /** SIGTERM to every worker still running, at once. */
  killNow(): void {
    for (const c of this.running()) c.kill('SIGTERM');
  }

  /** Start `n` workers and wait until each has joined the run's worker group (at most 60 s each, one clear line if one cannot). */
  async start(n: number): Promise<void> {
    const o = this.o;
    await Promise.all(Array.from({ length: n }, (_, i) => startCliChild({
      args: ['worker', '--prefix', o.prefix, '--brokers', o.brokers.join(',')], security: o.security, ready: /joined \S+ as /, label: `worker ${i + 1}`, log: o.log,
      onSpawn: (c) => void this.children.push(c),
      // A Ctrl-C of the run stops the workers through the control topic (they finish what is in flight and
      // report it), not by the terminal's SIGINT to the whole group; they end with their shard in any case.
      ownGroup: true,
      onJson: () => {},
      onExit: () => {},
      notStarted: { what: `load worker ${i + 1}`, hint: `run one alone to see why: clickbench worker --prefix ${o.prefix} --brokers ${o.brokers.join(',')}` },
    })));
  }

  get pids(): number[] {
    return this.children.map((c) => c.pid!).filter(Boolean);
  }

  /** Workers end by themselves when their shard is done; one still running after `graceMs` gets SIGTERM, then SIGKILL 5 s later. */
  async stop(graceMs = 30_000): Promise<void> {
    await waitUntil(() => this.running().length === 0, graceMs, 100);
    this.killNow();
    await waitUntil(() => this.running().length === 0, 5_000, 100);
    for (const c of this.running()) c.kill('SIGKILL');
    process.off('exit', this.onExit);
  }
}
