/** `clickbench calibrate [scenario]`: the cluster's own ceilings, from Apache Kafka's perf tools. */
import { Command } from 'commander';
import type { Calibration } from '../calibrate/calibrate.js';
import { table, type Io } from '../report/io.js';
import { addSecurityOptions, securityInput, type SecurityFlags } from './security-flags.js';

export function printCalibration(io: Io, c: Calibration): void {
  const t = table(io, ['ceiling (Apache Kafka tools)', 'value']);
  t.push(['max produce rate', `${Math.round(c.produce.recordsPerSec).toLocaleString('en-US')} records/s (${c.produce.mbPerSec} MB/s), avg ack ${c.produce.avgLatencyMs} ms, p99 ${c.produce.p99LatencyMs} ms`]);
  t.push(['catch-up read rate', `${Math.round(c.consume.recordsPerSec).toLocaleString('en-US')} records/s overall (${c.consume.mbPerSec} MB/s); fetch only ${Math.round(c.consume.fetchRecordsPerSec).toLocaleString('en-US')}/s after a ${c.consume.rebalanceMs} ms group join`]);
  t.push(['end-to-end latency floor', `p50 ${c.latency.p50Ms} ms, p99 ${c.latency.p99Ms} ms, p99.9 ${c.latency.p999Ms} ms (avg ${c.latency.avgMs.toFixed(2)} ms, one record at a time)`]);
  t.push(['settings', `${c.settings.recordBytes} B records, acks=${c.settings.acks}, ${c.settings.partitions} partitions, RF ${c.settings.replication}, ${c.settings.records.toLocaleString('en-US')} records; Kafka tools ${c.kafkaVersion}`]);
  t.push(['scratch topic', `${c.scratchTopic} ${c.scratchTopicRemoved ? 'removed' : 'NOT removed'}`]);
  io.out(t.toString());
}

export function calibrateCommand(io: Io): Command {
  return addSecurityOptions(new Command('calibrate'))
    .description('measure the cluster\'s ceilings with Apache Kafka\'s own tools (ProducerPerformance, ConsumerPerformance, EndToEndLatency) at the scenario\'s record size, acks, partitions and replication')
    .argument('[scenario]', 'scenario YAML whose settings to calibrate at (default: the built-in defaults)')
    .option('--brokers <list>', 'bootstrap brokers (default: the sandbox)')
    .option('--state-dir <dir>', 'sandbox state directory')
    .option('--records <n>', 'records for the produce and read ceilings', '300000')
    .option('--json', 'print the figures as JSON')
    .action(async (file: string | undefined, o: { brokers?: string; stateDir?: string; records: string; json?: boolean } & SecurityFlags) => {
      const [{ calibrate, sealCalibration }, { createKafka }, { loadScenario }, { scenarioSchema }, { calibrationSettings }, { resolveTarget }, { connectAdmin }] = await Promise.all([
        import('../calibrate/calibrate.js'), import('../kafka/client.js'), import('../scenario/load.js'), import('../scenario/schema.js'), import('../calibrate/settings.js'), import('../run/target.js'), import('../kafka/admin.js'),
      ]);
      const s = file ? loadScenario(file).scenario : scenarioSchema.parse({ name: 'calibrate', duration: 60, traffic: { base_rate: 1000 } });
      const target = await resolveTarget(s, { brokers: o.brokers, stateDir: o.stateDir, log: (l) => io.err(l), security: securityInput(o), scenarioFile: file });
      try {
        const kafka = createKafka({ brokers: target.brokers, clientId: 'clickbench-calibrate', security: target.security });
        const admin = await connectAdmin(kafka, target.brokers.join(','));
        try {
          const t0 = Date.now();
          const c = await sealCalibration(await calibrate(admin, { ...calibrationSettings(s, target.brokers, Math.max(1_000, Number(o.records) || 300_000), (l) => io.err(l)), security: target.security }), admin, t0);
          if (o.json) io.out(JSON.stringify(c, null, 2));
          else printCalibration(io, c);
        } finally {
          await admin.disconnect().catch(() => {});
        }
      } finally {
        await target.release();
      }
    });
}
