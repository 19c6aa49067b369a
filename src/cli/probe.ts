/** `clickbench probe`: the compatibility matrix of a cluster, as a table or JSON. */
import { Command } from 'commander';
import chalk from 'chalk';
import { UsageError } from '../errors.js';
import { resolveSecurity } from '../kafka/security.js';
import type { ProbeResult } from '../probe/probe.js';
import { defaultStateDir } from '../sandbox/defaults.js';
import { table, type Io } from '../report/io.js';
import { addSecurityOptions, securityInput, type SecurityFlags } from './security-flags.js';

export function probeCommand(io: Io): Command {
  return addSecurityOptions(new Command('probe'))
    .description('what the cluster can do for this pipeline, each "yes" exercised on a scratch topic (seconds); default: the running sandbox')
    .option('--brokers <list>', 'bootstrap brokers of any Kafka-compatible cluster (default: the running sandbox)')
    .option('--state-dir <dir>', 'sandbox state directory', defaultStateDir())
    .option('--json', 'print the result as JSON')
    .action(async (o: SecurityFlags & { brokers?: string; stateDir: string; json?: boolean }) => {
      const flags = securityInput(o);
      const [{ parseBrokers }, { probeCluster }, { sandboxEndpoint }, { Sandbox }] = await Promise.all([import('../kafka/client.js'), import('../probe/probe.js'), import('../run/target.js'), import('../sandbox/cluster.js')]);
      let brokers: string[];
      let security;
      let kafkaVersion: string | null = null;
      if (o.brokers) {
        brokers = parseBrokers(o.brokers);
        security = resolveSecurity([flags]);
      } else {
        const sb = Sandbox.load(o.stateDir);
        if (!sb || !(await sb.status()).some((n) => n.alive)) throw new UsageError(`no cluster given and no sandbox running in ${o.stateDir}`, 'pass --brokers host:port,… or start one with `clickbench sandbox up`');
        ({ brokers, security } = sandboxEndpoint(sb, flags, (flags.protocol ?? '').toUpperCase() === 'SASL_SSL'));
        kafkaVersion = sb.state.kafkaVersion;
      }
      const r = await probeCluster({ brokers, security, kafkaVersion, log: (l) => io.err(l) });
      if (o.json) io.out(JSON.stringify(r, null, 2));
      else printProbe(io, r);
    });
}

export function printProbe(io: Io, r: ProbeResult): void {
  io.out(`probe of ${r.bootstrap} (${r.security.protocol}${r.security.saslMechanism ? `, ${r.security.saslMechanism} as ${r.security.saslUsername}` : ''}) in ${(r.durationMs / 1000).toFixed(1)} s`);
  io.out(`Kafka version: ${r.kafkaVersion.value ?? 'not reported'} (${r.kafkaVersion.how}) · profile detected: ${r.detectedProfile} (${r.profileEvidence})`);
  const t = table(io, ['capability', 'result', 'evidence']);
  const colour = (s: string) => (!io.isTTY ? s : s === 'yes' ? chalk.green(s) : s === 'no' ? chalk.red(s) : chalk.yellow(s));
  for (const c of r.capabilities) t.push([c.name, colour(c.status), c.evidence]);
  io.out(t.toString());
}
