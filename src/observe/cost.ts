/**
 * clickbench's own cost on the cluster: Kafka requests its clients send (by client role and API,
 * from kafkajs's instrumentation events) and CPU seconds the broker processes spend (from
 * /proc/<pid>/stat, sandbox only), read at phase boundaries and turned into per-1 000-event figures.
 */
import { readFileSync } from 'node:fs';
import type { EventLoopUtilization } from 'node:perf_hooks';
import { loopBusyBetween } from './health.js';

/** role → API name → requests sent (this process's clients). */
export type RequestCounts = Map<string, Map<string, number>>;

/** Every request this process's Kafka clients sent, by the role that sent it and the API. */
export const requestCounts: RequestCounts = new Map();

export function countRequest(role: string, api: string): void {
  let m = requestCounts.get(role);
  if (!m) requestCounts.set(role, (m = new Map()));
  m.set(api, (m.get(api) ?? 0) + 1);
}

export function copyCounts(c: RequestCounts): RequestCounts {
  return new Map([...c].map(([k, v]) => [k, new Map(v)]));
}

/** Requests sent between two readings, by role and API (roles or APIs with none left out). */
export function countsBetween(a: RequestCounts, b: RequestCounts): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [role, apis] of b) {
    for (const [api, n] of apis) {
      const d = n - (a.get(role)?.get(api) ?? 0);
      if (d <= 0) continue;
      (out[role] ??= {})[api] = d;
    }
  }
  return out;
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on every Linux architecture Node runs on). */
export const USER_HZ = 100;

/** CPU seconds (user + system) a process has used, from /proc; undefined when it is gone. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / USER_HZ;
  } catch {
    return undefined;
  }
}

/** A reading of CPU seconds by broker id (only brokers whose process is readable). */
export type CpuReading = Record<string, number>;

export function readBrokerCpu(nodes: { id: number; pid: number }[]): CpuReading {
  const out: CpuReading = {};
  for (const n of nodes) {
    const s = n.pid > 0 ? processCpuSeconds(n.pid) : undefined;
    if (s !== undefined) out[String(n.id)] = s;
  }
  return out;
}

/** What a phase's cost is computed from, read at each of its ends. `loop`: this process's event-loop utilization so far (perf_hooks). */
export interface CostReading {
  brokerCpu: CpuReading;
  selfCpuSeconds: number;
  requests: RequestCounts;
  atMs: number;
  loop?: EventLoopUtilization;
}

export interface PhaseCost {
  measured: true;
  /** CPU seconds of the broker processes over the phase, by broker and together. */
  brokerCpuSeconds: number;
  brokerCpuByBroker: Record<string, number>;
  /** brokerCpuSeconds per 1 000 events acknowledged in the phase (null: none acknowledged). */
  brokerCpuSecondsPer1000Events: number | null;
  /** CPU seconds of clickbench's own process (driver, probe and in-process enrichment stage). */
  clickbenchCpuSeconds: number;
  /** The share of the phase this process's event loop was running code (perf_hooks' event-loop utilization, 0–1; ~0.9 or more: its own thread was its limit). Absent from older results and where not read. */
  clickbenchLoopBusy?: number;
  /** Kafka requests this run's clients sent in the phase, by client role and API. */
  requests: Record<string, Record<string, number>>;
  requestsPerSec: number;
  /** requests per 1 000 acknowledged events, by API (all roles together). */
  requestsPer1000EventsByApi: Record<string, number>;
  method: string;
}

/** A phase's cost from readings at its start and end. Brokers that started or stopped within the phase count for the time they were readable. */
export function phaseCost(a: CostReading, b: CostReading, ackedEvents: number): PhaseCost {
  const byBroker: Record<string, number> = {};
  for (const [id, end] of Object.entries(b.brokerCpu)) {
    const start = a.brokerCpu[id];
    // A broker restarted in the phase (a fault) has a new process: its reading starts from 0.
    byBroker[id] = start !== undefined && end >= start ? end - start : end;
  }
  const brokerCpu = Object.values(byBroker).reduce((x, y) => x + y, 0);
  const requests = countsBetween(a.requests, b.requests);
  const byApi: Record<string, number> = {};
  let total = 0;
  for (const apis of Object.values(requests)) {
    for (const [api, n] of Object.entries(apis)) {
      byApi[api] = (byApi[api] ?? 0) + n;
      total += n;
    }
  }
  const per1000 = (n: number) => (ackedEvents > 0 ? (n / ackedEvents) * 1000 : 0);
  const seconds = Math.max(0.001, (b.atMs - a.atMs) / 1000);
  return {
    measured: true,
    brokerCpuSeconds: round3(brokerCpu),
    brokerCpuByBroker: Object.fromEntries(Object.entries(byBroker).map(([k, v]) => [k, round3(v)])),
    brokerCpuSecondsPer1000Events: ackedEvents > 0 ? round3(per1000(brokerCpu)) : null,
    clickbenchCpuSeconds: round3(b.selfCpuSeconds - a.selfCpuSeconds),
    ...(a.loop && b.loop ? { clickbenchLoopBusy: loopBusyBetween(a.loop, b.loop) } : {}),
    requests,
    requestsPerSec: Math.round(total / seconds),
    requestsPer1000EventsByApi: Object.fromEntries(Object.entries(byApi).sort((x, y) => y[1] - x[1]).map(([k, v]) => [k, Math.round(per1000(v) * 10) / 10])),
    method: 'broker CPU: utime+stime of each sandbox node process from /proc/<pid>/stat at the phase boundaries; requests: kafkajs request events of clickbench\'s clients (an enrichment stage run as a child process reports its own in its stats lines, as it does its CPU)',
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** CPU seconds this process has used (user + system). */
export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
