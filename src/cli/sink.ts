/** `clickbench sink`: the lakehouse table sink (issue #21) as a standalone process. */
import { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { Io } from '../report/io.js';
import { resolveBrokers } from './enrich.js';
import { addSecurityOptions, securityInput, type SecurityFlags } from './security-flags.js';
import { resolveSecurity } from '../kafka/security.js';

const positive = (flag: string) => (v: string) => {
  if (!/^\d+(\.\d+)?$/.test(v) || Number(v) <= 0) throw new UsageError(`${flag} must be a positive number, got "${v}"`);
  return Number(v);
};

export function sinkCommand(io: Io): Command {
  return addSecurityOptions(new Command('sink'))
    .description('the table sink: <prefix>.clicks.enriched → Parquet files in --dir with exactly-once commit records; measures table freshness by querying the table (DuckDB) while it runs; until stopped')
    .option('--brokers <list>', 'bootstrap brokers (default: the running sandbox)')
    .requiredOption('--prefix <prefix>', 'topic prefix of the run')
    .requiredOption('--dir <dir>', 'the table\'s folder (created; a restart continues the table in it)')
    .option('--topic <topic>', 'topic to read (default <prefix>.clicks.enriched)')
    .option('--rows <n>', 'commit a file every n rows at most', positive('--rows'), 50_000)
    .option('--seconds <s>', 'commit a file at least every s seconds', positive('--seconds'), 5)
    .option('--mb <n>', 'commit a file every n MB of events at most', positive('--mb'), 64)
    .option('--stats-every <s>', 'print a JSON stats line every s seconds', positive('--stats-every'), 5)
    .option('--no-freshness', 'do not query the table for freshness (`run` measures it itself)')
    .action(async (o: SecurityFlags & { brokers?: string; prefix: string; dir: string; topic?: string; rows: number; seconds: number; mb: number; statsEvery: number; freshness: boolean }) => {
      const [{ TableSink }, { TableFreshness, checkTable }, { selfCpuSeconds }] = await Promise.all([import('../sink/table.js'), import('../sink/query.js'), import('../observe/cost.js')]);
      const topic = o.topic ?? `${o.prefix}.clicks.enriched`;
      const sink = new TableSink({
        brokers: await resolveBrokers(o.brokers), security: resolveSecurity([securityInput(o)]), topic, groupId: `${o.prefix}.table-sink`, dir: o.dir,
        cadence: { rows: o.rows, seconds: o.seconds, bytes: o.mb * 2 ** 20 }, log: (l) => io.err(l),
      });
      const freshness = o.freshness ? new TableFreshness(o.dir) : undefined;
      await sink.start();
      await freshness?.start();
      io.err(`table sink running: ${topic} → ${o.dir}; stop with Ctrl-C`);
      const stats = () => ({
        at: new Date().toISOString(), files: sink.files, rowsCommitted: sink.rowsCommitted, rowsRead: sink.rowsCommitted + sink.rowsBuffered, skippedBelowCommit: sink.skipped, slowestCommitMs: sink.slowestCommitMs, rejoins: sink.rejoins, cpuSeconds: selfCpuSeconds(),
        ...(freshness ? { freshness: freshness.summary(), queries: freshness.queries, slowestQueryMs: freshness.slowestQueryMs } : {}),
      });
      const timer = setInterval(() => io.out(JSON.stringify(stats())), o.statsEvery * 1000);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      clearInterval(timer);
      await sink.stop();
      await freshness?.stop();
      io.out(JSON.stringify({ ...stats(), table: await checkTable(o.dir) }));
    });
}
