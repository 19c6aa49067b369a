/** `clickbench sandbox up|status|down|fetch`: flags → typed options → the sandbox API. */
// The sandbox code (and kafkajs, execa) loads when a subcommand runs, not for --help.
import { Command, Option } from 'commander';
import { jitNote } from '../sandbox/jvm.js';
import { defaultStateDir, defaultWarmupSeconds } from '../sandbox/defaults.js';
import type { SandboxState, StorageMode } from '../sandbox/cluster.js';
import { parseIntFlag } from './flags.js';
import type { Io } from '../report/io.js';

export function sandboxSummary(s: SandboxState) {
  return {
    bootstrap: s.bootstrap,
    kafkaVersion: s.kafkaVersion,
    storage: s.storage,
    stateDir: s.stateDir,
    jvmOptions: s.jvmOptions ?? [],
    brokerOverrides: s.brokerOverrides ?? {},
    nodes: s.nodes.map((n) => ({ id: n.id, zone: n.zone, port: n.port, pid: n.pid, logDir: n.logDir })),
    ...(s.remoteStorageDir ? { remoteStorageDir: s.remoteStorageDir } : {}),
    ...(s.security ? { security: { protocol: s.security.protocol, bootstrap: s.security.bootstrap, caFile: s.security.caFile, mechanisms: s.security.mechanisms, users: s.security.users, passwordFile: s.security.passwordFile } } : {}),
  };
}

function printSecurity(io: Io, sec: NonNullable<ReturnType<typeof sandboxSummary>['security']>): void {
  io.out(`SASL_SSL bootstrap: ${sec.bootstrap}  (${sec.mechanisms.join(', ')}; users ${sec.users.join(', ')}, the second without transactional-id rights)`);
  io.out(`CA file: ${sec.caFile}`);
  io.out(`password file: ${sec.passwordFile}  (e.g. clickbench run s.yaml --security-protocol SASL_SSL uses all of this)`);
}

export function sandboxCommand(io: Io): Command {
  const cmd = new Command('sandbox').description('a real local Apache Kafka cluster (KRaft nodes on 127.0.0.1, one per zone)');
  const stateDirOpt = () => new Option('--state-dir <dir>', 'where node data, logs and state live').default(defaultStateDir());

  cmd.command('up')
    .description('assemble Apache Kafka from Maven Central (cached) and start the nodes; returns when usable')
    .option('--nodes <n>', 'number of KRaft nodes', parseIntFlag('--nodes'), 3)
    .option('--zones <list>', 'comma-separated zone names, one broker.rack per node (round robin)', 'a,b,c')
    .addOption(new Option('--storage <mode>', 'local disks, or tiered storage (LocalTieredStorage)').choices(['local', 'tiered']).default('local'))
    .option('--heap-mb <mb>', 'JVM heap per node', parseIntFlag('--heap-mb'), 512)
    .addOption(new Option('--security <mode>', 'sasl-ssl adds a SASL_SSL listener (SCRAM-SHA-512/256 and PLAIN users, TLS signed by a CA made at start) beside PLAINTEXT').choices(['plaintext', 'sasl-ssl']).default('plaintext'))
    .addOption(stateDirOpt())
    .option('--json', 'print the cluster as JSON')
    .option('--warmup <seconds>', 'at most this many seconds of unmeasured pipeline traffic that warm the JVMs before returning (ends once the brokers\' CPU per record is flat); 0: none (a run warms a cold sandbox itself) (default: $CLICKBENCH_WARMUP_SECONDS, else 120)', parseIntFlag('--warmup'), defaultWarmupSeconds())
    .action(async (o: { nodes: number; zones: string; storage: StorageMode; heapMb: number; stateDir: string; json?: boolean; security: 'plaintext' | 'sasl-ssl'; warmup: number }) => {
      const t0 = Date.now();
      const { Sandbox } = await import('../sandbox/cluster.js');
      const sb = await Sandbox.start({
        nodes: o.nodes,
        zones: o.zones.split(',').map((z) => z.trim()).filter(Boolean),
        storage: o.storage,
        heapMb: o.heapMb,
        stateDir: o.stateDir,
        security: o.security,
        log: (l) => io.err(l),
      });
      if (o.warmup > 0) {
        io.err(`warming the JVMs: pipeline traffic on clickbench-warmup-* topics until the brokers' CPU per record stops falling, at most ${o.warmup} s (so the first run measures a warm cluster; --warmup 0 skips it)`);
        await sb.warmUp(o.warmup, (l) => io.err(l)).catch((err: Error) => io.err(`warm-up failed: ${err.message} (a run warms the sandbox itself)`));
      }
      const summary = sandboxSummary(sb.state);
      if (o.json) io.out(JSON.stringify(summary, null, 2));
      else {
        io.out(`sandbox up in ${((Date.now() - t0) / 1000).toFixed(1)} s: Apache Kafka ${summary.kafkaVersion}, ${summary.nodes.length} node(s), ${summary.storage} storage`);
        io.out(`JVM options: ${summary.jvmOptions.join(' ') || '(none)'}  (${jitNote(summary.jvmOptions)})`);
        io.out(`broker overrides (CLICKBENCH_SANDBOX_BROKER_PROPS): ${Object.entries(summary.brokerOverrides).map(([k, v]) => `${k}=${v}`).join(' ') || 'none'}`);
        io.out(`bootstrap: ${summary.bootstrap}`);
        for (const n of summary.nodes) io.out(`  node ${n.id}  zone ${n.zone}  port ${n.port}  pid ${n.pid}  ${n.logDir}`);
        if (summary.remoteStorageDir) io.out(`remote tier: ${summary.remoteStorageDir}`);
        if (summary.security) printSecurity(io, summary.security);
        io.out(`state: ${summary.stateDir}  (stop with: clickbench sandbox down)`);
      }
    });

  cmd.command('status')
    .description('show the nodes of the sandbox and whether they run')
    .addOption(stateDirOpt())
    .option('--json', 'print as JSON')
    .action(async (o: { stateDir: string; json?: boolean }) => {
      const { Sandbox } = await import('../sandbox/cluster.js');
      const sb = Sandbox.load(o.stateDir);
      if (!sb) {
        if (o.json) io.out(JSON.stringify({ running: false, stateDir: o.stateDir }));
        else io.out(`no sandbox in ${o.stateDir} (start one with: clickbench sandbox up)`);
        return;
      }
      const nodes = await sb.status();
      const running = nodes.some((n) => n.alive);
      if (o.json) io.out(JSON.stringify({ running, ...sandboxSummary(sb.state), nodes }, null, 2));
      else {
        io.out(`sandbox ${running ? 'running' : 'stopped'}: Apache Kafka ${sb.state.kafkaVersion}, ${sb.state.storage} storage, bootstrap ${sb.bootstrap}`);
        if (sb.state.security) printSecurity(io, sandboxSummary(sb.state).security!);
        for (const n of nodes) {
          const rss = n.rssBytes ? `  rss ${(n.rssBytes / 2 ** 20).toFixed(0)} MiB` : '';
          io.out(`  node ${n.id}  zone ${n.zone}  port ${n.port}  ${n.alive ? `pid ${n.pid}${n.listening ? '' : ' (not listening yet)'}` : 'stopped'}${rss}`);
        }
      }
    });

  cmd.command('down')
    .description('stop the sandbox nodes by pid; keeps data unless --wipe')
    .addOption(stateDirOpt())
    .option('--wipe', 'also delete node data, logs and state')
    .action(async (o: { stateDir: string; wipe?: boolean }) => {
      const { Sandbox } = await import('../sandbox/cluster.js');
      const sb = Sandbox.load(o.stateDir, (l) => io.err(l));
      if (!sb) {
        io.out(`no sandbox in ${o.stateDir}; nothing to stop`);
        return;
      }
      await sb.stop({ wipe: o.wipe });
      io.out(`sandbox stopped${o.wipe ? ' and wiped' : ` (data kept in ${o.stateDir})`}`);
    });

  cmd.command('fetch')
    .description('download the Apache Kafka jars into the cache (what `up` does on first use)')
    .action(async () => {
      const { resolveKafkaLibs } = await import('../sandbox/artifacts.js');
      const libs = await resolveKafkaLibs({ log: (l) => io.err(l) });
      io.out(`Apache Kafka ${libs.kafkaVersion} jars ready in ${libs.libDir} (${libs.source})`);
    });
  return cmd;
}
