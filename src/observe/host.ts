/**
 * The machine clickbench runs on: how much of its CPU was busy, waiting for disk, or taken by the
 * hypervisor ("steal") over a phase, from the aggregate `cpu` line of /proc/stat. On a shared virtual
 * machine, steal is CPU time this machine's vCPUs wanted and did not get: every process here (the
 * sandbox's brokers, the driver, the enrichment stage) ran slower by that much, and the latency
 * figures include the wait. A report that does not say so blames the cluster for the host.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks by state since boot, all cores together (USER_HZ units). */
export interface HostCpuReading {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

/** Parses the aggregate `cpu ` line of /proc/stat; undefined if it is not there. */
export function parseProcStat(text: string): HostCpuReading | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 8 || f.slice(0, 8).some((x) => !Number.isFinite(x))) return undefined;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
  return { user, nice, system, idle, iowait, irq, softirq, steal };
}

/** This machine's CPU ticks now; undefined where /proc/stat cannot be read (not Linux). */
export function readHostCpu(): HostCpuReading | undefined {
  try {
    return parseProcStat(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return undefined;
  }
}

export interface HostCpu {
  measured: true;
  /** Percent of all CPU time of the machine (every core, steal included) between the two readings. */
  busyPercent: number;
  iowaitPercent: number;
  stealPercent: number;
  method: string;
}

/** At or above this share of stolen CPU in a phase, the report warns that its figures include the host's wait. */
export const STEAL_WARN_PERCENT = 10;

export const HOST_CPU_METHOD = 'aggregate cpu line of /proc/stat at the phase boundaries; percent of all CPU time of this machine (every core); busy = user+nice+system+irq+softirq, steal = time the hypervisor ran something else while this machine\'s vCPUs wanted to run';

/** Shares of this machine's CPU time between two readings (null when no time passed). */
export function hostCpuBetween(a: HostCpuReading, b: HostCpuReading): HostCpu | null {
  const d = (k: keyof HostCpuReading) => Math.max(0, b[k] - a[k]);
  const busy = d('user') + d('nice') + d('system') + d('irq') + d('softirq');
  const total = busy + d('idle') + d('iowait') + d('steal');
  if (total <= 0) return null;
  const pct = (x: number) => Math.round((x / total) * 1000) / 10;
  return { measured: true, busyPercent: pct(busy), iowaitPercent: pct(d('iowait')), stealPercent: pct(d('steal')), method: HOST_CPU_METHOD };
}

/** Phases whose stolen share reached STEAL_WARN_PERCENT, worst first. */
export function stolenPhases(phases: { name: string; host?: HostCpu | { measured: false } }[]): { name: string; stealPercent: number }[] {
  return phases
    .flatMap((p) => (p.host && p.host.measured && p.host.stealPercent >= STEAL_WARN_PERCENT ? [{ name: p.name, stealPercent: p.host.stealPercent }] : []))
    .sort((x, y) => y.stealPercent - x.stealPercent);
}

/** One sentence for the report and the console when the hypervisor took a notable share of the CPU; undefined otherwise. */
export function stealWarning(phases: { name: string; host?: HostCpu | { measured: false } }[]): string | undefined {
  const hit = stolenPhases(phases);
  if (hit.length === 0) return undefined;
  return `the hypervisor took ${hit.map((h) => `${h.stealPercent} % of this machine's CPU in ${h.name}`).join(', ')} (CPU steal, /proc/stat): every process here ran slower by that share, so those phases' latency includes the host's wait, not only the cluster's — rerun on a quiet machine before trusting them`;
}
