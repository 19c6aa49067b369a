/** `clickbench enrich`: the reference enrichment stage as a standalone process. */
import { Command, Option } from 'commander';
import type { StageStats } from '../enrich/child.js';
import type { EnrichmentStage } from '../enrich/stage.js';
import type { RequestCounts } from '../observe/cost.js';
import { UsageError } from '../errors.js';
import { parseIntFlag } from './flags.js';
import { CODECS, totalCodecCount, type Codec } from '../kafka/compression.js';
import type { Io } from '../report/io.js';
import { addSecurityOptions, securityInput, type SecurityFlags } from './security-flags.js';
import { resolveSecurity } from '../kafka/security.js';

export async function resolveBrokers(flag: string | undefined): Promise<string[]> {
  if (flag) return (await import('../kafka/client.js')).parseBrokers(flag);
  const sb = (await import('../sandbox/cluster.js')).Sandbox.load();
  if (sb) return sb.brokers;
  throw new UsageError('no cluster given and no sandbox running', 'pass --brokers host:port,… or start one with `clickbench sandbox up`');
}

export function enrichCommand(io: Io): Command {
  return addSecurityOptions(new Command('enrich'))
    .description('run the reference enrichment stage: <prefix>.clicks.raw → <prefix>.clicks.enriched (+ .dlq) until stopped')
    .option('--brokers <list>', 'bootstrap brokers (default: the running sandbox)')
    .requiredOption('--prefix <prefix>', 'topic prefix of the run')
    .addOption(new Option('--version <v>', 'enrichment version').choices(['v1', 'v2']).default('v1'))
    .addOption(new Option('--delivery <d>', 'exactly-once (transactions) or at-least-once').choices(['eos', 'alo']).default('eos'))
    .option('--scenario <file>', 'take enrichment settings (governance, windows) from this scenario')
    .option('--output <topic>', 'enriched topic (default <prefix>.clicks.enriched)')
    .option('--dlq <topic>', 'dead-letter topic (default <prefix>.clicks.dlq)')
    .option('--instance <id>', 'instance id (keeps the transactional id stable across restarts); with --instances N, its index 0 … N−1', '0')
    .option('--instances <n>', 'N instances share the raw topic\'s partitions in one group, partition p to instance p mod N (exactly-once holds across restarts: a partition never moves to another instance\'s transactional id)', parseIntFlag('--instances'), 1)
    .option('--rack <zone>', 'client.rack of this stage (rack-aware fetching)')
    .option('--stats-every <s>', 'print a JSON stats line every s seconds', '5')
    .addOption(new Option('--compression <codec>', 'record-batch codec of the output (default: the scenario\'s clients.enrichment_compression, else none)').choices([...CODECS]))
    .option('--generation <n>', 'generation header written on outputs (a replay is a new generation)', '0')
    .action(async (o: SecurityFlags & { brokers?: string; prefix: string; version: 'v1' | 'v2'; delivery: 'eos' | 'alo'; scenario?: string; output?: string; dlq?: string; instance: string; instances: number; rack?: string; statsEvery: string; generation: string; compression?: Codec }) => {
      if (o.instances < 1) throw new UsageError(`--instances must be at least 1, got ${o.instances}`);
      if (o.instances > 1 && !(/^\d+$/.test(o.instance) && Number(o.instance) < o.instances)) throw new UsageError(`--instance must be a whole number from 0 to ${o.instances - 1} with --instances ${o.instances}, got "${o.instance}"`);
      const [{ EnrichmentStage }, { topicNames }, { loadScenario }, { defaultEnrichmentConfig }] = await Promise.all([import('../enrich/stage.js'), import('../drive/topics.js'), import('../scenario/load.js'), import('../scenario/schema.js')]);
      const scenario = o.scenario ? loadScenario(o.scenario).scenario : undefined;
      const config = scenario ? scenario.enrichment : defaultEnrichmentConfig();
      const names = { ...topicNames(o.prefix), ...(o.dlq ? { dlq: o.dlq } : {}) };
      const stage = new EnrichmentStage({
        brokers: await resolveBrokers(o.brokers),
        security: resolveSecurity([securityInput(o)]),
        names,
        outputTopic: o.output ?? names.enriched,
        version: o.version,
        delivery: o.delivery,
        config,
        groupId: `${o.prefix}.enrich.${o.version}`,
        transactionalId: `${o.prefix}.enrich.${o.version}.${o.instance}`,
        rack: o.rack,
        ...(o.instances > 1 ? { instance: { index: Number(o.instance), of: o.instances } } : {}),
        generation: Number(o.generation) || 0,
        compression: o.compression ?? (scenario ? scenario.clients.enrichment_compression ?? scenario.clients.compression : 'none'),
        log: (l) => io.err(l),
      });
      await stage.start();
      io.err(`enrichment ${o.version} (${o.delivery}) running on ${names.raw} → ${o.output ?? names.enriched}; stop with Ctrl-C`);
      const { requestCounts } = await import('../observe/cost.js');
      const print = () => io.out(JSON.stringify(stageStats(stage, requestCounts)));
      const timer = setInterval(print, Math.max(0.2, Number(o.statsEvery)) * 1000);
      // A crashed consumer is replaced by the stage itself (consumerRestarts in the stats): run until told to stop.
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      clearInterval(timer);
      await stage.stop();
      print();
    });
}

/** The stats line of `enrich` (one JSON object per line on stdout; `run` reads it from a child stage). */
export function stageStats(stage: EnrichmentStage, requests?: RequestCounts): StageStats {
  const cpu = process.cpuUsage();
  const compressed = totalCodecCount();
  return {
    ...(compressed.batches > 0 ? { compressed } : {}),
    ...(requests ? { requests: Object.fromEntries([...requests].map(([role, apis]) => [role, Object.fromEntries(apis)])) } : {}),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    at: new Date().toISOString(), batches: stage.batches, transactionsAborted: stage.transactionsAborted, concurrentTransactionRetries: stage.concurrentTransactionRetries,
    groupJoins: stage.groupJoins, redeliveredSkipped: stage.redeliveredSkipped, commitsConfirmedAfterError: stage.commitsConfirmedAfterError, tableFallbacks: stage.tableFallbacks, consumerRestarts: stage.consumerRestarts, producerReplacements: stage.producerReplacements, txnPartitions: stage.txnPartitions, consumedBytes: Object.fromEntries(stage.consumedBytes),
    producedBytes: Object.fromEntries([...stage.producedBytes].map(([t, parts]) => [t, Object.fromEntries(parts)])), counters: stage.counters,
  };
}
