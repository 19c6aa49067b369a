/**
 * Apache Kafka's own command-line tools (org.apache.kafka.tools.*) from the jars the sandbox
 * assembles, run as child JVMs: ProducerPerformance, ConsumerPerformance, EndToEndLatency,
 * LeaderElectionCommand. Secured targets get a client properties file (mode 600, in a private
 * temporary directory removed by close()); the password never reaches argv, a log or a report.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { markOwned, removeOwnedDir } from '../sandbox/owned.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ClickbenchError, ExitCode, UsageError } from '../errors.js';
import { requireJava, resolveKafkaLibs } from '../sandbox/artifacts.js';
import { redact, type Security } from './security.js';

const LOGIN_MODULES = {
  PLAIN: 'org.apache.kafka.common.security.plain.PlainLoginModule',
  'SCRAM-SHA-256': 'org.apache.kafka.common.security.scram.ScramLoginModule',
  'SCRAM-SHA-512': 'org.apache.kafka.common.security.scram.ScramLoginModule',
} as const;

/** A JAAS string literal: backslashes and double quotes escaped. */
const jaasQuoted = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
/** A value in a Java properties file: backslashes escaped (they start escapes there). */
const propValue = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

/**
 * The Java client properties for a connection's security, or undefined for PLAINTEXT. `caPath` is
 * a PEM file holding the CA (Kafka reads PEM trust stores since 2.7); without it the JVM's CAs apply.
 */
export function javaClientProperties(s: Security, caPath?: string): string | undefined {
  if (s.protocol === 'PLAINTEXT') return undefined;
  if (s.tls && !s.tls.verify) {
    throw new UsageError('Kafka\'s Java tools cannot skip certificate verification (--no-tls-verify)', 'give the CA that signed the brokers\' certificates with --ca-file');
  }
  const lines = [`security.protocol=${s.protocol}`];
  if (s.sasl) {
    lines.push(`sasl.mechanism=${s.sasl.mechanism}`);
    lines.push(`sasl.jaas.config=${propValue(`${LOGIN_MODULES[s.sasl.mechanism]} required username=${jaasQuoted(s.sasl.username)} password=${jaasQuoted(s.sasl.password.reveal())};`)}`);
  }
  if (s.tls && caPath) lines.push('ssl.truststore.type=PEM', `ssl.truststore.location=${propValue(caPath)}`);
  return `${lines.join('\n')}\n`;
}

export interface KafkaTools {
  kafkaVersion: string;
  /** A private directory (mode 700) for the tools' input files, removed by close(). */
  dir: string;
  /** Runs org.apache.kafka.tools.<cls> (with `--command-config <file>` for a secured target); resolves to its output (stdout and stderr), throws on a non-zero exit. */
  run(cls: string, args: string[], timeoutMs: number): Promise<string>;
  /** The Kafka jars' folder (for compiling against them). */
  libDir: string;
  /** Runs the main class `cls` with `classDir` before the Kafka jars on its class path (the bench's own Java reference); as run. */
  runMain(classDir: string, cls: string, args: string[], timeoutMs: number): Promise<string>;
  close(): void;
}

export async function openKafkaTools(security: Security, log?: (line: string) => void): Promise<KafkaTools> {
  await requireJava();
  const libs = await resolveKafkaLibs({ log });
  const dir = mkdtempSync(join(tmpdir(), 'cb-kafka-tools-'));
  markOwned(dir, 'scratch folder of Kafka\'s tools');
  chmodSync(dir, 0o700);
  const log4j = join(dir, 'log4j2.properties');
  writeFileSync(log4j, 'rootLogger.level = ERROR\nrootLogger.appenderRef.stderr.ref = STDERR\nappender.stderr.type = Console\nappender.stderr.name = STDERR\nappender.stderr.target = SYSTEM_ERR\nappender.stderr.layout.type = PatternLayout\nappender.stderr.layout.pattern = %m%n\n');
  let caPath: string | undefined;
  if (security.tls?.ca) {
    caPath = join(dir, 'ca.pem');
    writeFileSync(caPath, security.tls.ca);
  }
  const props = javaClientProperties(security, caPath);
  const configArgs: string[] = [];
  if (props) {
    const file = join(dir, 'client.properties');
    writeFileSync(file, props, { mode: 0o600 });
    configArgs.push('--command-config', file);
  }
  return {
    kafkaVersion: libs.kafkaVersion,
    dir,
    libDir: libs.libDir,
    run: (cls, args, timeoutMs) => java(`${libs.libDir}/*`, `org.apache.kafka.tools.${cls}`, [...args, ...configArgs], timeoutMs, cls),
    runMain: (classDir, cls, args, timeoutMs) => java(`${classDir}:${libs.libDir}/*`, cls, args, timeoutMs, cls),
    close: () => removeOwnedDir(dir, 'scratch folder of Kafka\'s tools'),
  };

  /** `name`: what an error calls it (the tool's short name). */
  async function java(classPath: string, mainClass: string, args: string[], timeoutMs: number, name: string): Promise<string> {
    const r = await execa('java', ['-Xmx512m', `-Dlog4j2.configurationFile=${log4j}`, '-cp', classPath, mainClass, ...args], { timeout: timeoutMs, all: true, reject: false });
    const out = redact(String(r.all ?? ''));
    if (r.exitCode !== 0) {
      throw new ClickbenchError(`${name} failed (exit ${r.exitCode}${r.timedOut ? ', timed out' : ''}): ${out.trim().split('\n').slice(-2).join(' ').slice(0, 300)}`, { exitCode: ExitCode.runFailed, hint: 'check that the cluster is reachable from this machine with the same settings' });
    }
    return out;
  }
}

/** ProducerPerformance's arguments: `records` of `recordBytes` at `throughput` records/s (-1: as fast as it can). */
export function producerPerformanceArgs(o: { topic: string; records: number; recordBytes: number; throughput: number; bootstrap: string[]; acks: string; lingerMs?: number; spread?: boolean; compression?: string; payloadFile?: string; warmupRecords?: number }): string[] {
  return [
    '--topic', o.topic, '--num-records', String(o.records), ...(o.warmupRecords ? ['--warmup-records', String(o.warmupRecords)] : []), ...(o.payloadFile ? ['--payload-file', o.payloadFile] : ['--record-size', String(o.recordBytes)]), '--throughput', String(o.throughput),
    '--producer-props', `bootstrap.servers=${o.bootstrap.join(',')}`, `acks=${o.acks}`, `linger.ms=${o.lingerMs ?? 5}`, 'batch.size=65536',
    ...(o.compression && o.compression !== 'none' ? [`compression.type=${o.compression}`] : []),
    // Keyed traffic spreads over every partition; ProducerPerformance sends no keys, so without this its
    // (sticky) partitioner fills one partition at a time and each request carries one partition.
    ...(o.spread ? ['partitioner.class=org.apache.kafka.clients.producer.RoundRobinPartitioner'] : []),
  ];
}
