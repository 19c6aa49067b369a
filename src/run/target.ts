/**
 * Where a run goes: the sandbox (a running one, or one the run starts and stops), or any cluster
 * given by --brokers / the scenario's target block.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseBrokers } from '../kafka/client.js';
import { defaultStateDir, Sandbox } from '../sandbox/cluster.js';
import type { Scenario } from '../scenario/schema.js';
import type { Profile } from '../observe/crosszone.js';

export interface RunTarget {
  kind: 'sandbox' | 'brokers';
  brokers: string[];
  profile: Profile;
  storage: 'local' | 'tiered';
  remoteStorageEnabled: boolean;
  kafkaVersion: string | null;
  startedByRun: boolean;
  defaultZone: string;
  zoneOf: (brokerId: number) => string | undefined;
  sandboxLogDirs?: string[];
  remoteStorageDir?: string;
  /** The sandbox itself (node stop/start for fault phases). */
  sandbox?: Sandbox;
  /** Stops what the run started (a sandbox), nothing otherwise. */
  release: () => Promise<void>;
}

export async function resolveTarget(s: Scenario, opts: { brokers?: string; stateDir?: string; log?: (l: string) => void; keepSandbox?: boolean }): Promise<RunTarget> {
  if (opts.brokers || s.target.kind === 'brokers') {
    const list = parseBrokers(opts.brokers ?? (s.target.kind === 'brokers' ? s.target.brokers : ''));
    const zones = s.target.kind === 'brokers' ? s.target.zones ?? {} : {};
    const profile = s.target.kind === 'brokers' ? s.target.profile : 'apache-kafka';
    return {
      kind: 'brokers', brokers: list, profile, storage: profile === 'tiered' ? 'tiered' : 'local', remoteStorageEnabled: profile === 'tiered' || s.topics.tiered,
      kafkaVersion: null, startedByRun: false, defaultZone: Object.values(zones)[0] ?? 'unknown', zoneOf: (id) => zones[String(id)], release: async () => {},
    };
  }
  const stateDir = opts.stateDir ?? defaultStateDir();
  let sb = Sandbox.load(stateDir);
  let started = false;
  if (!sb || !(await sb.status()).every((n) => n.alive)) {
    const storage = s.target.storage === 'tiered' || s.topics.tiered ? 'tiered' : 'local';
    opts.log?.(`no sandbox running in ${stateDir}: starting ${s.target.nodes} Apache Kafka node(s) (${storage} storage)`);
    if (sb) await sb.stop({ wipe: true });
    sb = await Sandbox.start({ nodes: s.target.nodes, zones: s.target.zones, storage, stateDir, log: opts.log });
    started = true;
  }
  const box = sb;
  return {
    kind: 'sandbox',
    brokers: box.brokers,
    profile: box.state.storage === 'tiered' && s.topics.tiered ? 'tiered' : 'apache-kafka',
    storage: box.state.storage,
    remoteStorageEnabled: box.state.storage === 'tiered',
    kafkaVersion: box.state.kafkaVersion,
    startedByRun: started,
    defaultZone: box.state.nodes[0].zone,
    zoneOf: (id) => box.state.nodes.find((n) => n.id === id)?.zone,
    sandboxLogDirs: box.state.nodes.map((n) => n.logDir),
    remoteStorageDir: box.state.remoteStorageDir,
    sandbox: box,
    release: async () => {
      if (started && !opts.keepSandbox) await box.stop({ wipe: true });
    },
  };
}

/** Sum of `.log` segment sizes in the partition directories of topics starting with `<prefix>.` (recursively). */
export function sandboxLogBytes(dirs: string[], prefix: string): number {
  let total = 0;
  const walk = (dir: string, inTopic: boolean) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p, inTopic || e.name.startsWith(`${prefix}.`));
      else if (inTopic && e.name.endsWith('.log')) total += statSync(p).size;
    }
  };
  for (const d of dirs) walk(d, false);
  return total;
}
