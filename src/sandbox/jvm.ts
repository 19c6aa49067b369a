/** The sandbox nodes' JVM options and broker overrides (pure: the report reads them too). */
import { UsageError } from '../errors.js';

/**
 * The sandbox's JIT setting: C1 only. A sandbox lives minutes; on a 2-core machine the C2 compiler threads
 * of three just-started brokers took 0.5–1.1 cores for their first 2–3 minutes (per-thread CPU from
 * /proc/<pid>/task, README "The sandbox's JVMs"), more than Kafka's own request handling, and every
 * latency of a run paid for it. With C1 only, compiling is done within ~40 s.
 */
export const SANDBOX_JIT_OPTIONS = ['-XX:TieredStopAtLevel=1'];

/**
 * JVM options of the sandbox's nodes beyond heap and GC: SANDBOX_JIT_OPTIONS, then CLICKBENCH_SANDBOX_JVM_OPTS
 * (space-separated; the JVM takes the last of a repeated -XX flag, so `-XX:TieredStopAtLevel=4` there brings C2 back).
 */
export function sandboxJvmOptions(env: NodeJS.ProcessEnv = process.env): string[] {
  return [...SANDBOX_JIT_OPTIONS, ...(env.CLICKBENCH_SANDBOX_JVM_OPTS ?? '').split(/\s+/).filter(Boolean)];
}

/**
 * Broker settings a user changed from the sandbox's own for an experiment: CLICKBENCH_SANDBOX_BROKER_PROPS
 * (`key=value` pairs separated by spaces or commas; a later key wins), recorded in the sandbox state at
 * `start`, applied to every node (added ones too) and shown in every report of a run on it.
 */
export function sandboxBrokerOverrides(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (env.CLICKBENCH_SANDBOX_BROKER_PROPS ?? '').split(/[\s,]+/).filter(Boolean)) {
    const i = pair.indexOf('=');
    if (i <= 0) throw new UsageError(`CLICKBENCH_SANDBOX_BROKER_PROPS: "${pair}" is not key=value`, 'e.g. CLICKBENCH_SANDBOX_BROKER_PROPS="num.io.threads=2 replica.fetch.wait.max.ms=100"');
    out[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return out;
}

/** What the nodes' JIT does, in words, from their JVM options (the last TieredStopAtLevel wins, as in the JVM). */
export function jitNote(jvmOptions: readonly string[]): string {
  const level = jvmOptions.map((o) => /^-XX:TieredStopAtLevel=(\d)$/.exec(o)?.[1]).filter(Boolean).pop();
  if (level === undefined || level === '4') return 'C1 and C2 JIT, the JVM default';
  return level === '0' ? 'interpreter only' : 'C1 JIT only: compiling is done within a minute; CLICKBENCH_SANDBOX_JVM_OPTS=-XX:TieredStopAtLevel=4 for C2';
}
