/**
 * Where a run goes: the sandbox (a running one, or one the run starts and stops), or any cluster
 * given by --brokers / the scenario's target block.
 */
import { dirname } from 'node:path';
import { ClickbenchError, ExitCode, UsageError } from '../errors.js';
import { parseBrokers } from '../kafka/client.js';
import { LIMITED_PASSWORD_ENV, PLAINTEXT, resolveSecurity, usesSasl, type Security, type SecurityInput } from '../kafka/security.js';
import { Sandbox, SANDBOX_USER } from '../sandbox/cluster.js';
import { defaultStateDir, SANDBOX_WARMUP_SECONDS } from '../sandbox/defaults.js';
import type { Scenario } from '../scenario/schema.js';
import type { Profile } from '../observe/crosszone.js';
import type { WarmupResult } from '../sandbox/warm.js';

export interface RunTarget {
  kind: 'sandbox' | 'brokers';
  brokers: string[];
  /** How clients connect (TLS / SASL); the password inside never serializes. */
  security: Security;
  profile: Profile;
  /** Where the profile came from: the scenario / --profile, or to be detected by the probe. */
  profileSource: 'scenario' | 'flag' | 'sandbox' | 'detect';
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
  /** The sandbox's JVM warm-up: done by this run, earlier (same JVMs), or not at all (with why). */
  warmup?: SandboxWarmup;
  /** The sandbox nodes' JVM options (sandbox targets). */
  jvmOptions?: string[];
  /** An ACL-limited principal to check is refused a transactional id (external clusters: target.security.limited_principal). */
  limitedPrincipal?: Security;
  /** Broker settings the sandbox changed from Kafka's defaults (sandbox targets only). */
  brokerOverrides?: Record<string, string>;
}

export type SandboxWarmup = { by: 'this run' | 'earlier' } & Pick<WarmupResult, 'seconds' | 'maxSeconds' | 'ended' | 'cpuPer1000ByWindow' | 'brokerCoresByWindow' | 'produced' | 'transactions' | 'finishedAt'> | { by: 'none'; reason: string };


export interface TargetFlags {
  brokers?: string;
  stateDir?: string;
  log?: (l: string) => void;
  keepSandbox?: boolean;
  /** Connection-security flags (they win over the scenario's target.security). */
  security?: SecurityInput;
  profile?: Profile;
  /** The scenario file (relative password / CA files resolve against its directory). */
  scenarioFile?: string;
  /** Seconds of warm-up for a cold sandbox before the run (default SANDBOX_WARMUP_SECONDS; 0: none). */
  warmupSeconds?: number;
}

/** The limited principal connects as the run's own clients do (protocol, mechanism, CA), under its own name and password. */
function limitedPrincipal(main: Security, lp: { sasl_username: string; password_file?: string } | undefined, fileSec: SecurityInput): Security | undefined {
  if (!lp) return undefined;
  const origin = `${fileSec.origin}.limited_principal`;
  if (!usesSasl(main) || !main.sasl) throw new UsageError(`${origin}: the access check signs in with SASL, but the run connects with ${main.protocol}`, 'set target.security.protocol to SASL_SSL or SASL_PLAINTEXT (with its sasl_mechanism), or drop limited_principal');
  return resolveSecurity([{ origin, baseDir: fileSec.baseDir, protocol: main.protocol, saslMechanism: main.sasl.mechanism, saslUsername: lp.sasl_username, passwordFile: lp.password_file, caFile: main.tls?.caFile, tlsVerify: main.tls?.verify }], process.env, LIMITED_PASSWORD_ENV);
}

export async function resolveTarget(s: Scenario, opts: TargetFlags): Promise<RunTarget> {
  const flagSec = opts.security ?? { origin: 'command line' };
  if (opts.brokers || s.target.kind === 'brokers') {
    const list = parseBrokers(opts.brokers ?? (s.target.kind === 'brokers' ? s.target.brokers : ''));
    const zones = s.target.kind === 'brokers' ? s.target.zones ?? {} : {};
    const fromFile = s.target.kind === 'brokers' ? s.target.security : undefined;
    const fileSec: SecurityInput = {
      origin: `${opts.scenarioFile ?? 'scenario'}: target.security`, baseDir: opts.scenarioFile ? dirname(opts.scenarioFile) : undefined,
      ...(fromFile ? { protocol: fromFile.protocol, saslMechanism: fromFile.sasl_mechanism, saslUsername: fromFile.sasl_username, passwordFile: fromFile.password_file, caFile: fromFile.ca_file, tlsVerify: fromFile.tls_verify } : {}),
    };
    const scenarioProfile = s.target.kind === 'brokers' ? s.target.profile : undefined;
    const profile = opts.profile ?? scenarioProfile ?? 'apache-kafka';
    const security = resolveSecurity([flagSec, fileSec]);
    return {
      kind: 'brokers', brokers: list, security, limitedPrincipal: limitedPrincipal(security, fromFile?.limited_principal, fileSec), profile, profileSource: opts.profile ? 'flag' : scenarioProfile ? 'scenario' : 'detect',
      storage: profile === 'tiered' ? 'tiered' : 'local', remoteStorageEnabled: profile === 'tiered' || s.topics.tiered,
      kafkaVersion: null, startedByRun: false, defaultZone: Object.values(zones)[0] ?? 'unknown', zoneOf: (id) => zones[String(id)], release: async () => {},
    };
  }
  const wantSecure = (flagSec.protocol ?? '').toUpperCase().replace('-', '_') === 'SASL_SSL' || (s.target.kind === 'sandbox' && s.target.security === 'sasl-ssl');
  if (flagSec.protocol && !['PLAINTEXT', 'SASL_SSL'].includes(flagSec.protocol.toUpperCase().replace('-', '_'))) {
    throw new UsageError(`the sandbox has PLAINTEXT and (with --security sasl-ssl) SASL_SSL listeners, not ${flagSec.protocol}`, 'use --security-protocol SASL_SSL or PLAINTEXT, or give --brokers');
  }
  if (opts.profile && opts.profile !== 'apache-kafka' && opts.profile !== 'tiered') {
    throw new UsageError(`the sandbox is Apache Kafka: profile ${opts.profile} applies to --brokers targets`, 'drop --profile, or run against that cluster with --brokers');
  }
  const stateDir = opts.stateDir ?? defaultStateDir();
  let sb = Sandbox.load(stateDir);
  let started = false;
  /** Nodes of an existing sandbox this run started again (all of them: it stops them again at the end). */
  let restartedAll = false;
  const status = sb ? await sb.status() : [];
  if (!sb) {
    const storage = s.target.storage === 'tiered' || s.topics.tiered ? 'tiered' : 'local';
    opts.log?.(`no sandbox running in ${stateDir}: starting ${s.target.nodes} Apache Kafka node(s) (${storage} storage${wantSecure ? ', SASL_SSL listener' : ''})`);
    sb = await Sandbox.start({ nodes: s.target.nodes, zones: s.target.zones, storage, stateDir, log: opts.log, security: wantSecure ? 'sasl-ssl' : 'plaintext' });
    started = true;
  } else if (!status.every((n) => n.alive)) {
    // A sandbox with nodes down keeps its data (a user's topics, a half-finished investigation): the
    // nodes that are down start again; it is never wiped and recreated behind the user's back.
    const down = status.filter((n) => !n.alive).map((n) => n.id);
    restartedAll = down.length === status.length;
    opts.log?.(`the sandbox in ${stateDir} has node(s) ${down.join(', ')} down: starting ${down.length === 1 ? 'it' : 'them'} again (its data are kept)`);
    const box = sb;
    await box.restartDown().catch((err: Error) => {
      throw new ClickbenchError(`the sandbox in ${stateDir} has node(s) ${down.join(', ')} down and ${down.length === 1 ? 'it' : 'they'} did not start again: ${err instanceof ClickbenchError ? err.message : err.message.slice(0, 200)}`, {
        exitCode: ExitCode.runFailed,
        hint: `see the node logs under ${stateDir}; to start afresh (its topics are lost): clickbench sandbox down --wipe --state-dir ${stateDir}`,
      });
    });
  }
  const box = sb;
  let warmup: SandboxWarmup;
  if (box.warm) warmup = { by: 'earlier', ...pickWarmup(box.state.warmup!) };
  else if ((opts.warmupSeconds ?? SANDBOX_WARMUP_SECONDS) === 0) warmup = { by: 'none', reason: 'skipped (--warmup 0): its JVMs may still be compiling their hot code, which weighs on every latency' };
  else {
    const seconds = opts.warmupSeconds ?? SANDBOX_WARMUP_SECONDS;
    opts.log?.(`warming the sandbox's JVMs: pipeline traffic on clickbench-warmup-* topics until the brokers' CPU per record stops falling, at most ${seconds} s (not measured; a just-started broker compiles its hot code under load)`);
    try {
      warmup = { by: 'this run', ...pickWarmup(await box.warmUp(seconds, opts.log)) };
    } catch (err) {
      // A failed warm-up is not the run's failure: the run goes on cold, and says so.
      warmup = { by: 'none', reason: `the warm-up failed (${(err as Error).message}): its JVMs may still be compiling their hot code` };
      opts.log?.(`sandbox warm-up failed: ${(err as Error).message}; running on the cold sandbox`);
    }
  }
  const { brokers, security } = sandboxEndpoint(box, flagSec, wantSecure);
  return {
    kind: 'sandbox',
    brokers,
    security,
    profile: box.state.storage === 'tiered' && s.topics.tiered ? 'tiered' : 'apache-kafka',
    profileSource: 'sandbox',
    storage: box.state.storage,
    remoteStorageEnabled: box.state.storage === 'tiered',
    kafkaVersion: box.state.kafkaVersion,
    startedByRun: started,
    warmup,
    jvmOptions: box.state.jvmOptions ?? [],
    brokerOverrides: box.state.brokerOverrides ?? {},
    defaultZone: box.state.nodes[0].zone,
    zoneOf: (id) => box.state.nodes.find((n) => n.id === id)?.zone,
    sandboxLogDirs: box.state.nodes.map((n) => n.logDir),
    remoteStorageDir: box.state.remoteStorageDir,
    sandbox: box,
    release: async () => {
      if (started && !opts.keepSandbox) await box.stop({ wipe: true });
      else if (restartedAll && !opts.keepSandbox) await box.stop({ wipe: false });
    },
  };
}

/**
 * Where and how clients reach a sandbox: its PLAINTEXT listener, or its SASL_SSL one with the
 * sandbox's own user, password file and CA unless the flags name others.
 */
export function sandboxEndpoint(box: Sandbox, flagSec: SecurityInput, secure: boolean): { brokers: string[]; security: Security } {
  if (!secure) return { brokers: box.brokers, security: PLAINTEXT };
  const sec = box.state.security;
  if (!sec) {
    throw new ClickbenchError(`the sandbox running in ${box.state.stateDir} has no SASL_SSL listener`, { hint: 'stop it (clickbench sandbox down) and start it with `clickbench sandbox up --security sasl-ssl`, or let the run start one' });
  }
  const security = resolveSecurity([{ ...flagSec, protocol: 'SASL_SSL' }, { origin: 'the sandbox', saslMechanism: 'SCRAM-SHA-512', saslUsername: SANDBOX_USER, passwordFile: flagSec.saslUsername ? undefined : sec.passwordFile, caFile: sec.caFile }]);
  return { brokers: sec.bootstrap.split(','), security };
}

function pickWarmup(w: WarmupResult) {
  return { seconds: w.seconds, maxSeconds: w.maxSeconds, ended: w.ended, cpuPer1000ByWindow: w.cpuPer1000ByWindow, brokerCoresByWindow: w.brokerCoresByWindow, produced: w.produced, transactions: w.transactions, finishedAt: w.finishedAt };
}
