/** `clickbench worker` and `clickbench load`: load from many processes or hosts, coordinated through Kafka (issue #20). */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { ClickbenchError, ExitCode, UsageError } from '../errors.js';
import { parseIntFlag } from './flags.js';
import type { Io } from '../report/io.js';
import { resolveBrokers } from './enrich.js';
import { addSecurityOptions, securityInput, type SecurityFlags } from './security-flags.js';
import { resolveSecurity } from '../kafka/security.js';
import type { LoadResult } from '../workers/coordinator.js';
import { loadSummary } from '../report/workers.js';

export function workerCommand(io: Io): Command {
  return addSecurityOptions(new Command('worker'))
    .description('a load worker: joins the run <prefix> started by `clickbench load` or `clickbench run --workers N --external-workers`, drives the shard Kafka\'s group protocol gives it, reports to the run\'s results topic, exits when its shard is done')
    .option('--brokers <list>', 'bootstrap brokers (default: the running sandbox)')
    .requiredOption('--prefix <prefix>', 'the run\'s topic prefix (printed by `clickbench load` and `clickbench run --workers`)')
    .option('--wait <s>', 'how long to wait for the coordinator\'s start (seconds)', '600')
    .option('--index <i>', 'this worker\'s shard, 0 … N−1 (e.g. a Kubernetes Indexed Job\'s JOB_COMPLETION_INDEX), with --of N; without it the group\'s assignment decides')
    .option('--of <n>', 'how many workers the run has (with --index)')
    .action(async (o: SecurityFlags & { brokers?: string; prefix: string; wait: string; index?: string; of?: string }) => {
      const { runWorker } = await import('../workers/worker.js');
      let index: { index: number; of: number } | undefined;
      if (o.index !== undefined || o.of !== undefined) {
        if (!/^\d+$/.test(o.index ?? '') || !/^\d+$/.test(o.of ?? '') || Number(o.index) >= Number(o.of)) throw new UsageError(`--index and --of go together, as whole numbers with 0 ≤ index < of; got --index ${o.index ?? '(none)'} --of ${o.of ?? '(none)'}`);
        index = { index: Number(o.index), of: Number(o.of) };
      }
      const out = await runWorker({ brokers: await resolveBrokers(o.brokers), security: resolveSecurity([securityInput(o)]), prefix: o.prefix, index, waitMs: Number(o.wait) * 1000, log: (l) => io.err(l) });
      io.out(JSON.stringify(out));
    });
}

export function parseWorkers(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 256) throw new UsageError(`--workers must be a whole number from 1 to 256, got "${v}"`);
  return Number(v);
}

export function loadCommand(io: Io): Command {
  return addSecurityOptions(new Command('load'))
    .description('offer a scenario\'s traffic from N load workers (`clickbench worker`, on any hosts; --spawn starts them here) and merge their produce figures: events/s, per-second totals, produce-ack latency')
    .argument('<file>', 'scenario YAML')
    .requiredOption('--workers <n>', 'how many workers to wait for', parseWorkers)
    .option('--spawn', 'start the workers as local processes')
    .option('--brokers <list>', 'bootstrap brokers (default: the running sandbox)')
    .option('--prefix <prefix>', 'topic prefix of the run (default cb-load-<random>)')
    .option('--seed <n>', 'override the scenario seed', parseIntFlag('--seed'))
    .option('--join-timeout <s>', 'how long to wait for the workers to join (seconds)', '120')
    .option('--json <file>', 'also write the merged result as JSON here')
    .option('--reports <dir>', 'where the report goes (<dir>/<prefix>/load.md and load.json)', 'reports')
    .option('--keep', 'keep the run\'s topics (<prefix>.*) afterwards; by default they are deleted')
    .action(async (file: string, o: SecurityFlags & { workers: number; spawn?: boolean; brokers?: string; prefix?: string; seed?: number; joinTimeout: string; json?: string; keep?: boolean; reports: string }) => {
      const [{ coordinate }, { createKafka }, { loadScenario }] = await Promise.all([import('../workers/coordinator.js'), import('../kafka/client.js'), import('../scenario/load.js')]);
      const overrides: Record<string, unknown> = o.seed !== undefined ? { seed: o.seed } : {};
      loadScenario(file, overrides); // one clear line for a bad scenario, before anything starts
      const brokers = await resolveBrokers(o.brokers);
      const security = resolveSecurity([securityInput(o)]);
      const runId = randomBytes(4).toString('hex');
      const prefix = o.prefix ?? `cb-load-${runId}`;
      const kafka = createKafka({ brokers, security, clientId: 'clickbench-load', log: (l) => io.err(l) });
      io.err(`run ${prefix}: start workers with  clickbench worker --prefix ${prefix} --brokers ${brokers.join(',')}`);
      const { LocalWorkers } = await import('../workers/local.js');
      const local = o.spawn ? new LocalWorkers({ brokers, security, prefix, log: (l) => io.err(`  ${l}`) }) : undefined;
      // The workers wait for the run's control topic, which the coordinator creates: they start alongside it.
      local?.start(o.workers).catch((err: Error) => io.err(err.message));
      // The workers run in their own process group: a Ctrl-C here stops them too.
      const onSigint = () => {
        local?.killNow();
        process.exit(ExitCode.interrupted);
      };
      process.once('SIGINT', onSigint);
      let result: LoadResult;
      let failed = false;
      try {
        result = await coordinate({ kafka, prefix, runId, scenario: readFileSync(file, 'utf8'), file, overrides, workers: o.workers, joinTimeoutMs: Number(o.joinTimeout) * 1000, log: (l) => io.err(l) });
      } catch (err) {
        failed = true;
        throw err;
      } finally {
        // Workers end when their shard is done; a worker still running after 30 s more (at once when the run failed) is stopped.
        await local?.stop(failed ? 0 : 30_000);
        process.off('SIGINT', onSigint);
        if (!o.keep) {
          const { deleteTopicsWithPrefix } = await import('../drive/topics.js');
          const admin = kafka.admin();
          await admin.connect().then(() => deleteTopicsWithPrefix(admin, prefix)).catch((err: Error) => io.err(`could not delete the run's topics ${prefix}.*: ${err.message}`)).finally(() => admin.disconnect());
        }
      }
      const summary = loadSummary(result, prefix);
      for (const line of summary) io.out(line);
      const json = JSON.stringify({ schema: 'clickbench/load@1', prefix, runId, scenario: file, workersExpected: o.workers, ...result }, null, 2) + '\n';
      const dir = join(o.reports, prefix);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'load.md'), summary.join('\n') + '\n');
      writeFileSync(join(dir, 'load.json'), json);
      io.err(`report: ${join(dir, 'load.md')}`);
      if (o.json) writeFileSync(o.json, json);
      if (result.unfinished.length) throw new ClickbenchError(`${result.unfinished.length} of ${o.workers} worker(s) did not finish: ${result.unfinished.map((u) => `shard ${u.shard} (${u.host}) reported up to second ${u.lastSecond}, ${u.notAcknowledged} of its ${u.shardEvents} events not acknowledged`).join('; ')}`, { exitCode: ExitCode.runFailed });
    });
}

