/**
 * A fix for a kafkajs 2.2.4 hang (the library is no longer released, so it is fixed here, at load).
 *
 * When the brokers leading a consumer's partitions change (a broker added, a preferred-leader
 * election), kafkajs restarts its per-broker fetchers. If the consumer is stopped at that moment,
 * the new fetchers outlive the stop: each loops on `Runner.fetch`, which returns `[]` at once for a
 * stopped runner, so the loop never leaves the microtask queue. The process sits at 100 % CPU with
 * its timers starved, for good (seen in a scale-out run: stuck after the load ended; the kafkajs
 * issues #1384 and #1387 describe the same tight loop when no broker is left).
 *
 * The fix: a stopped runner's fetch stops the fetch manager (its fetchers leave their loops and the
 * runner's scheduling ends as after a normal stop) and yields to the event loop before returning.
 */
import { createRequire } from 'node:module';

interface RunnerLike {
  running: boolean;
  fetchManager: { stop(): Promise<void> };
  fetch(nodeId: number): Promise<unknown[]>;
}

/** The replacement for `Runner.prototype.fetch`, around the original. */
export function stoppedRunnerSafeFetch(original: (this: RunnerLike, nodeId: number) => Promise<unknown[]>, yieldMs = 10) {
  return async function fetch(this: RunnerLike, nodeId: number): Promise<unknown[]> {
    if (this.running) return original.call(this, nodeId);
    void this.fetchManager.stop().catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, yieldMs));
    return [];
  };
}

let installed = false;

/** Installs the fix once, on the module instance kafkajs's consumers use; throws when kafkajs no longer has the method. */
export function installKafkajsFixes(): void {
  if (installed) return;
  const require = createRequire(import.meta.url);
  const Runner = require('kafkajs/src/consumer/runner') as { prototype: RunnerLike };
  const version = (require('kafkajs/package.json') as { version: string }).version;
  if (typeof Runner?.prototype?.fetch !== 'function') throw new Error(`kafkajs ${version}: consumer Runner.fetch not found; the stopped-consumer fix cannot be installed`);
  Runner.prototype.fetch = stoppedRunnerSafeFetch(Runner.prototype.fetch);
  installed = true;
}
