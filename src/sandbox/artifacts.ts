/**
 * Where the sandbox's Apache Kafka jars come from: an official distribution named by KAFKA_HOME,
 * or the jar cache filled from Maven Central by the pom shipped in `sandbox/pom.xml`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { isLegacyJarDir, markOwned, removeOwnedDir } from './owned.js';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ClickbenchError } from '../errors.js';
import { PACKAGE_ROOT } from '../version.js';

export const sandboxPomPath = join(PACKAGE_ROOT, 'sandbox', 'pom.xml');

/** The Kafka release pinned in the shipped pom (the one place that names it). */
export function pinnedKafkaVersion(): string {
  const pom = readFileSync(sandboxPomPath, 'utf8');
  const m = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom);
  if (!m) throw new ClickbenchError(`cannot read kafka.version from ${sandboxPomPath}`);
  return m[1];
}

export function cacheRoot(): string {
  if (process.env.CLICKBENCH_CACHE_DIR) return process.env.CLICKBENCH_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'clickbench');
}

export interface KafkaLibs {
  /** Directory holding every jar the JVMs need (classpath `<dir>/*`). */
  libDir: string;
  kafkaVersion: string;
  source: 'KAFKA_HOME' | 'maven-cache';
  /** Whether LocalTieredStorage (kafka-storage test jar) is on the classpath. */
  hasLocalTieredStorage: boolean;
}

function kafkaVersionOf(libDir: string): string | undefined {
  for (const f of readdirSync(libDir)) {
    const m = /^kafka-clients-(.+)\.jar$/.exec(f);
    if (m) return m[1];
  }
  return undefined;
}

function hasTieredJar(libDir: string): boolean {
  return readdirSync(libDir).some((f) => /^kafka-storage-.+-test\.jar$/.test(f));
}

export async function requireJava(): Promise<void> {
  try {
    await execa('java', ['-version'], { timeout: 20_000 });
  } catch {
    throw new ClickbenchError('Java was not found on PATH (the sandbox runs Apache Kafka on the JVM)', {
      hint: 'install a JDK 17 or newer, e.g. `apt-get install openjdk-17-jre-headless`',
    });
  }
}

/**
 * Resolve the jars, fetching them from Maven Central into the cache the first time.
 * The second call needs no network.
 */
export async function resolveKafkaLibs(opts: { log?: (line: string) => void } = {}): Promise<KafkaLibs> {
  const home = process.env.KAFKA_HOME;
  if (home) {
    const libDir = join(home, 'libs');
    const version = existsSync(libDir) ? kafkaVersionOf(libDir) : undefined;
    if (!version) {
      throw new ClickbenchError(`KAFKA_HOME=${home} is not an Apache Kafka distribution (no libs/kafka-clients-*.jar)`, {
        hint: 'point KAFKA_HOME at an unpacked kafka_2.13-<version> directory, or unset it to use Maven Central',
      });
    }
    return { libDir, kafkaVersion: version, source: 'KAFKA_HOME', hasLocalTieredStorage: hasTieredJar(libDir) };
  }
  const version = pinnedKafkaVersion();
  const libDir = join(cacheRoot(), `kafka-${version}`, 'libs');
  if (!(existsSync(libDir) && kafkaVersionOf(libDir) === version)) {
    await fetchFromMaven(libDir, opts.log);
  }
  return { libDir, kafkaVersion: version, source: 'maven-cache', hasLocalTieredStorage: hasTieredJar(libDir) };
}

async function fetchFromMaven(libDir: string, log?: (line: string) => void): Promise<void> {
  try {
    await execa('mvn', ['-v'], { timeout: 60_000 });
  } catch {
    throw new ClickbenchError('Apache Maven (mvn) was not found, and no Kafka jars are cached', {
      hint: 'install Maven (`apt-get install maven`), or set KAFKA_HOME to an Apache Kafka distribution',
    });
  }
  const tmp = `${libDir}.partial-${process.pid}`;
  removeOwnedDir(tmp, 'partial Kafka jar download', isLegacyJarDir);
  mkdirSync(tmp, { recursive: true });
  markOwned(tmp, 'Kafka jars fetched from Maven Central');
  log?.(`fetching Apache Kafka jars from Maven Central into ${libDir} …`);
  try {
    await execa('mvn', ['-q', '-B', '-f', sandboxPomPath, 'dependency:copy-dependencies', `-DoutputDirectory=${tmp}`], {
      timeout: 10 * 60_000,
      all: true,
    });
  } catch (err) {
    removeOwnedDir(tmp, 'partial Kafka jar download', isLegacyJarDir);
    const out = String((err as { all?: string }).all ?? '').split('\n').filter((l) => /ERROR/.test(l)).slice(0, 2).join(' ');
    throw new ClickbenchError(`could not fetch the Kafka jars from Maven Central, and none are cached${out ? ` (${out.trim().slice(0, 300)})` : ''}`, {
      hint: 'check that Maven Central is reachable (mvn settings, proxy), or set KAFKA_HOME to an Apache Kafka distribution',
      cause: err,
    });
  }
  removeOwnedDir(libDir, 'Kafka jar cache', isLegacyJarDir);
  renameSync(tmp, libDir);
}
