/**
 * The sandbox: a real local Apache Kafka cluster of KRaft nodes (combined broker + controller)
 * on 127.0.0.1, one `broker.rack` per zone, started and stopped by clickbench by pid.
 *
 * Its state (ports, pids, dirs) lives in `<stateDir>/state.json`, so `sandbox status|down` and a
 * later `run` find a cluster that an earlier command started.
 */
import { sandboxBrokerOverrides, sandboxJvmOptions } from './jvm.js';
import { defaultStateDir } from './defaults.js';
import { removeDirs } from './logdirs.js';
import { LOG4J2, newClusterId, nodeProperties } from './node-config.js';
export { nodeProperties, SANDBOX_LIMITED_USER, SANDBOX_USER, type SandboxNode, type SandboxSecurityState, type StorageMode } from './node-config.js';
import { SANDBOX_LIMITED_USER, SANDBOX_USER, type SandboxNode, type SandboxSecurityState, type StorageMode } from './node-config.js';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { assertOwnable, isLegacySandboxDir, removeInsideOwned, removeOwnedDir, takeOwnedDir } from './owned.js';
import { join } from 'node:path';
import { execa } from 'execa';
import '../kafka/kafkajs-preload.js'; // before kafkajs: fix 10 (src/kafka/kafkajs-fixes.ts)
import kafkajsEnums from 'kafkajs';
import { ClickbenchError } from '../errors.js';
import { createConsumer, createKafka, createProducer } from '../kafka/client.js';
import { requireJava, resolveKafkaLibs, type KafkaLibs } from './artifacts.js';
import { answersKafka, freePorts, isListening } from './ports.js';
import { makeSandboxTls } from './tls.js';
import { Secret, type Security } from '../kafka/security.js';
import { commandLine, isAlive, rssBytes, sleep, waitUntil } from './process.js';
import { warmCluster, type WarmupResult } from './warm.js';
import { readBrokerCpu } from '../observe/cost.js';


export interface SandboxOptions {
  nodes: number;
  zones: string[];
  storage: StorageMode;
  stateDir: string;
  heapMb?: number;
  /** Progress lines ("formatting", "starting node 2"…). */
  log?: (line: string) => void;
  /** How long to wait for the cluster to become usable. */
  readyTimeoutMs?: number;
  /** `sasl-ssl` adds a SASL_SSL listener (SCRAM users, TLS from a CA made at start) beside PLAINTEXT. */
  security?: 'plaintext' | 'sasl-ssl';
}

/** The SCRAM / PLAIN users of a secured sandbox: one with every right, one refused transactional ids. */



export interface SandboxState {
  version: 1;
  clusterId: string;
  kafkaVersion: string;
  libDir: string;
  storage: StorageMode;
  stateDir: string;
  heapMb: number;
  /** JVM options the nodes start with (restarted and added nodes too), from sandboxJvmOptions() at `start`. */
  jvmOptions?: string[];
  /** Broker settings that differ from Kafka's defaults for the sandbox's sake (sandboxBrokerOverrides() at `start`), applied to every node. */
  brokerOverrides?: Record<string, string>;
  bootstrap: string;
  nodes: SandboxNode[];
  remoteStorageDir?: string;
  security?: SandboxSecurityState;
  /** Highest node id ever used: a removed node's id is not reused (KRaft keeps its registration, fenced). */
  maxNodeId?: number;
  startedAt: string;
  /** The last warm-up, with the pids of the JVMs it warmed (a node restarted since is cold again). */
  warmup?: WarmupResult & { pids: number[] };
}

export interface NodeStatus {
  id: number;
  zone: string;
  port: number;
  pid: number;
  alive: boolean;
  listening: boolean;
  rssBytes?: number;
}

const stateFile = (stateDir: string) => join(stateDir, 'state.json');

/** How a client reaches a secured sandbox's SASL_SSL listener (as `user`, SCRAM-SHA-512 by default). */
export function sandboxSecurity(sec: SandboxSecurityState, user = SANDBOX_USER, mechanism: 'SCRAM-SHA-512' | 'SCRAM-SHA-256' | 'PLAIN' = 'SCRAM-SHA-512'): Security {
  return {
    protocol: 'SASL_SSL',
    sasl: { mechanism, username: user, password: new Secret(readFileSync(sec.passwordFile, 'utf8').trim(), `file ${sec.passwordFile}`) },
    tls: { caFile: sec.caFile, ca: readFileSync(sec.caFile, 'utf8'), verify: true },
  };
}

export class Sandbox {
  private constructor(private st: SandboxState, private readonly log: (line: string) => void = () => {}) {}

  get state(): SandboxState {
    return this.st;
  }
  get bootstrap(): string {
    return this.st.bootstrap;
  }
  get brokers(): string[] {
    return this.st.bootstrap.split(',');
  }
  node(id: number): SandboxNode {
    const n = this.st.nodes.find((x) => x.id === id);
    if (!n) throw new ClickbenchError(`the sandbox has no node ${id} (nodes: ${this.st.nodes.map((x) => x.id).join(', ')})`);
    return n;
  }

  /** The sandbox recorded in `stateDir`, or undefined when none was started there. */
  static load(stateDir = defaultStateDir(), log?: (line: string) => void): Sandbox | undefined {
    const f = stateFile(stateDir);
    if (!existsSync(f)) return undefined;
    return new Sandbox(JSON.parse(readFileSync(f, 'utf8')) as SandboxState, log);
  }

  /** Assemble and start a cluster; returns when it is usable (metadata + produce/consume). */
  static async start(opts: SandboxOptions): Promise<Sandbox> {
    const log = opts.log ?? (() => {});
    if (opts.nodes < 1 || opts.nodes > 9) throw new ClickbenchError(`--nodes must be between 1 and 9, got ${opts.nodes}`, { exitCode: 2 });
    if (opts.zones.length === 0) throw new ClickbenchError('--zones needs at least one zone name', { exitCode: 2 });
    const existing = Sandbox.load(opts.stateDir, log);
    if (existing) {
      const st = await existing.status();
      if (st.some((s) => s.alive)) {
        throw new ClickbenchError(`a sandbox is already running in ${opts.stateDir} (bootstrap ${existing.bootstrap})`, {
          exitCode: 2,
          hint: 'use it as it is, or stop it first with `clickbench sandbox down`',
        });
      }
    }
    // Nothing is removed from a folder clickbench did not make (checked before anything is started or changed).
    assertOwnable(opts.stateDir, 'sandbox state directory', isLegacySandboxDir);
    await requireJava();
    const libs = await resolveKafkaLibs({ log });
    if (opts.storage === 'tiered' && !libs.hasLocalTieredStorage) {
      throw new ClickbenchError(`tiered storage needs LocalTieredStorage (kafka-storage test jar), which ${libs.libDir} lacks`, {
        exitCode: 2,
        hint: 'unset KAFKA_HOME so the jars come from Maven Central, or use --storage local',
      });
    }
    takeOwnedDir(opts.stateDir, 'sandbox state directory', isLegacySandboxDir);
    const secure = opts.security === 'sasl-ssl';
    const per = secure ? 3 : 2;
    const ports = await freePorts(opts.nodes * per);
    const nodes: SandboxNode[] = [];
    for (let i = 0; i < opts.nodes; i++) {
      const id = i + 1;
      const dir = join(opts.stateDir, `node-${id}`);
      mkdirSync(dir, { recursive: true });
      nodes.push({
        id,
        zone: opts.zones[i % opts.zones.length],
        port: ports[per * i],
        controllerPort: ports[per * i + 1],
        ...(secure ? { securePort: ports[per * i + 2] } : {}),
        pid: 0,
        logDir: join(dir, 'data'),
        propsFile: join(dir, 'server.properties'),
        logFile: join(dir, 'kafka.log'),
      });
    }
    const st: SandboxState = {
      version: 1,
      clusterId: newClusterId(),
      kafkaVersion: libs.kafkaVersion,
      libDir: libs.libDir,
      storage: opts.storage,
      stateDir: opts.stateDir,
      heapMb: opts.heapMb ?? 512,
      jvmOptions: sandboxJvmOptions(),
      brokerOverrides: sandboxBrokerOverrides(),
      bootstrap: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
      nodes,
      startedAt: new Date().toISOString(),
    };
    if (opts.storage === 'tiered') {
      st.remoteStorageDir = join(opts.stateDir, 'remote-storage');
      mkdirSync(st.remoteStorageDir, { recursive: true });
    }
    let password: string | undefined;
    if (secure) {
      log('making a CA and the brokers\' TLS certificate (keytool), SCRAM users');
      const tls = await makeSandboxTls(join(opts.stateDir, 'tls'));
      password = randomBytes(18).toString('base64url');
      const passwordFile = join(opts.stateDir, 'sasl-password');
      writeFileSync(passwordFile, password + '\n', { mode: 0o600 });
      st.security = {
        protocol: 'SASL_SSL', bootstrap: nodes.map((n) => `127.0.0.1:${n.securePort}`).join(','), caFile: tls.caFile, keystoreFile: tls.keystoreFile, keystorePassword: tls.keystorePassword,
        mechanisms: ['SCRAM-SHA-512', 'SCRAM-SHA-256', 'PLAIN'], users: [SANDBOX_USER, SANDBOX_LIMITED_USER], passwordFile,
      };
    }
    writeFileSync(join(opts.stateDir, 'log4j2.properties'), LOG4J2);
    for (const n of nodes) writeFileSync(n.propsFile, nodeProperties(st, n, password), { mode: 0o600 });
    const sandbox = new Sandbox(st, log);
    sandbox.save();
    log(`formatting ${nodes.length} KRaft node(s), cluster id ${st.clusterId}`);
    await Promise.all(nodes.map((n) => sandbox.format(n, libs, password)));
    try {
      for (const n of nodes) sandbox.spawnNode(n);
      sandbox.save();
      log(`started ${nodes.length} node(s), waiting until the cluster is usable`);
      await sandbox.waitUsable(opts.readyTimeoutMs ?? 120_000);
      if (st.security) await sandbox.grantLimitedUser();
    } catch (err) {
      await sandbox.stop({ wipe: false }).catch(() => {});
      throw err;
    }
    return sandbox;
  }

  private save(): void {
    writeFileSync(stateFile(this.st.stateDir), JSON.stringify(this.st, null, 2));
  }

  private async format(n: SandboxNode, libs: KafkaLibs, password?: string): Promise<void> {
    // SCRAM credentials of a KRaft cluster are written into the metadata log at format time.
    const scram = this.st.security && password
      ? this.st.security.users.flatMap((u) => ['SCRAM-SHA-512', 'SCRAM-SHA-256'].flatMap((m) => ['--add-scram', `${m}=[name=${u},password=${password}]`]))
      : [];
    try {
      await execa('java', ['-cp', `${libs.libDir}/*`, `-Dlog4j2.configurationFile=${join(this.st.stateDir, 'log4j2.properties')}`,
        'kafka.tools.StorageTool', 'format', '-t', this.st.clusterId, '-c', n.propsFile, ...scram], { timeout: 60_000, all: true });
    } catch (err) {
      let out = String((err as { all?: string }).all ?? err).trim().split('\n').slice(-2).join(' ');
      if (password) out = out.split(password).join('[redacted]');
      throw new ClickbenchError(`formatting sandbox node ${n.id} failed: ${out.slice(0, 300)}`, {
        hint: `check ${n.propsFile}`,
        cause: err,
      });
    }
  }

  private spawnNode(n: SandboxNode): void {
    const fd = openSync(n.logFile, 'a');
    try {
      // node:child_process rather than execa here: a daemon that outlives us needs only spawn + unref.
      const child = spawn('java', [
        `-Xms128m`, `-Xmx${this.st.heapMb}m`, '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true', ...(this.st.jvmOptions ?? sandboxJvmOptions()),
        `-Dlog4j2.configurationFile=${join(this.st.stateDir, 'log4j2.properties')}`,
        `-Dkafka.logs.dir=${join(this.st.stateDir, `node-${n.id}`)}`,
        '-cp', `${this.st.libDir}/*`, 'kafka.Kafka', n.propsFile,
      ], { detached: true, stdio: ['ignore', fd, fd] });
      child.on('error', () => {});
      child.unref();
      if (!child.pid) throw new ClickbenchError(`could not start sandbox node ${n.id}`, { hint: `see ${n.logFile}` });
      n.pid = child.pid;
    } finally {
      closeSync(fd);
    }
  }

  /** Whether the recorded pid is still this node's JVM (guards against pid reuse). */
  private ownsPid(n: SandboxNode): boolean {
    return n.pid > 0 && isAlive(n.pid) && commandLine(n.pid).includes(n.propsFile);
  }

  private failedNode(): SandboxNode | undefined {
    return this.st.nodes.find((n) => n.pid > 0 && !this.ownsPid(n));
  }

  private nodeDied(n: SandboxNode): ClickbenchError {
    const tail = existsSync(n.logFile) ? readFileSync(n.logFile, 'utf8').trim().split('\n').filter((l) => /ERROR|Exception/.test(l)).slice(-1)[0] : '';
    return new ClickbenchError(`sandbox node ${n.id} exited during start${tail ? `: ${tail.slice(0, 200)}` : ''}`, {
      hint: `see its log ${n.logFile}`,
    });
  }

  /** Wait until every running node is in the metadata and a replicated topic round-trips a record. */
  async waitUsable(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const started = this.st.nodes.filter((n) => n.pid > 0);
    const expected = started.map((n) => n.id).sort();
    const kafka = createKafka({ brokers: this.brokers, clientId: 'clickbench-sandbox', retries: 2, requestTimeoutMs: 10_000 });
    const admin = kafka.admin();
    try {
      let lastError = '';
      for (;;) {
        const dead = this.failedNode();
        if (dead) throw this.nodeDied(dead);
        if (Date.now() > deadline) {
          throw new ClickbenchError(`the sandbox did not become usable within ${Math.round(timeoutMs / 1000)} s (${lastError})`, {
            hint: `see the node logs under ${this.st.stateDir}`,
          });
        }
        try {
          // Each node answering on its own listener first: after a crash the controller keeps the dead node
          // registered until its session times out (9 s), so "registered" alone passed before a restarted
          // node listened, and the round trip below met its closed port (a suite run failed so). A TCP
          // connect was not enough either: once it passed for a node still starting, whose listener then
          // refused the next test's connections. The node must answer an ApiVersions request itself.
          const closed = [];
          for (const n of started) if (!(await answersKafka(n.port))) closed.push(n.id);
          if (closed.length > 0) {
            lastError = `node(s) ${closed.join(', ')} not answering yet`;
          } else {
            await admin.connect();
            const md = await admin.describeCluster();
            const ids = md.brokers.map((b) => b.nodeId).sort();
            if (expected.every((id) => ids.includes(id))) {
              await this.roundTrip(kafka, admin, deadline);
              break;
            }
            lastError = `${ids.length}/${expected.length} brokers registered`;
          }
        } catch (err) {
          // A node that just started may refuse a request or two (leaders still moving to it): try again until the deadline.
          if (err instanceof ClickbenchError) throw err;
          lastError = String((err as Error).message ?? err);
        }
        await sleep(500);
      }
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }

  private async roundTrip(kafka: ReturnType<typeof createKafka>, admin: ReturnType<ReturnType<typeof createKafka>['admin']>, deadline: number): Promise<void> {
    const topic = '__clickbench_ready';
    const rf = Math.min(3, this.st.nodes.length);
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) {
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, replicationFactor: rf }] }).catch(() => false);
    }
    const producer = createProducer(kafka, { allowAutoTopicCreation: false });
    const marker = `ready-${Date.now()}-${process.pid}`;
    let produced = false;
    while (!produced) {
      try {
        await producer.connect();
        await producer.send({ topic, acks: -1, messages: [{ key: marker, value: marker }] });
        produced = true;
      } catch (err) {
        if (Date.now() > deadline) throw new ClickbenchError(`the sandbox accepted no produce request: ${(err as Error).message}`, { hint: `see the node logs under ${this.st.stateDir}` });
        await sleep(500);
      }
    }
    await producer.disconnect();
    const consumer = createConsumer(kafka, { groupId: `clickbench-ready-${process.pid}-${Date.now()}`, retry: { retries: 10 } });
    try {
      let seen = false;
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => { if (message.value?.toString() === marker) seen = true; } });
      const ok = await waitUntil(() => seen, Math.max(1_000, deadline - Date.now()), 100);
      if (!ok) throw new ClickbenchError('the sandbox did not deliver a produced record back to a consumer in time', { hint: `see the node logs under ${this.st.stateDir}` });
    } finally {
      await consumer.disconnect().catch(() => {});
    }
  }

  /**
   * The limited user may do everything a pipeline does except use transactional ids, as on a
   * managed cluster that grants no TransactionalId ACLs: exactly-once is refused for it.
   */
  private async grantLimitedUser(): Promise<void> {
    const kafka = createKafka({ brokers: this.brokers, clientId: 'clickbench-sandbox', retries: 3 });
    const admin = kafka.admin();
    const { AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = kafkajsEnums;
    try {
      await admin.connect();
      await admin.createAcls({
        acl: ([[AclResourceTypes.TOPIC, '*'], [AclResourceTypes.GROUP, '*'], [AclResourceTypes.CLUSTER, 'kafka-cluster']] as const).map(([resourceType, resourceName]) => ({
          resourceType, resourceName, resourcePatternType: ResourcePatternTypes.LITERAL,
          principal: `User:${SANDBOX_LIMITED_USER}`, host: '*', operation: AclOperationTypes.ALL, permissionType: AclPermissionTypes.ALLOW,
        })),
      });
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }

  /** Whether every node's JVM is one a warm-up warmed (see warm.ts). */
  get warm(): boolean {
    const w = this.st.warmup;
    return !!w && this.st.nodes.every((n) => w.pids.includes(n.pid));
  }

  /** Carry the warm-up pipeline until the brokers look warm, at most `maxSeconds` (PLAINTEXT listener), and record it in the state. */
  async warmUp(maxSeconds: number, log?: (line: string) => void): Promise<WarmupResult> {
    const cpu = () => {
      const by = readBrokerCpu(this.st.nodes);
      return Object.keys(by).length === this.st.nodes.length ? Object.values(by).reduce((a, b) => a + b, 0) : undefined;
    };
    const r = await warmCluster({ brokers: this.brokers, zones: this.st.nodes.map((n) => n.zone), replication: Math.min(3, this.st.nodes.length), maxSeconds, brokerCpuSeconds: cpu, log });
    this.st.warmup = { ...r, pids: this.st.nodes.map((n) => n.pid) };
    this.save();
    return r;
  }

  async status(): Promise<NodeStatus[]> {
    return Promise.all(this.st.nodes.map(async (n) => {
      const alive = this.ownsPid(n);
      return { id: n.id, zone: n.zone, port: n.port, pid: n.pid, alive, listening: alive && (await isListening(n.port)), rssBytes: alive ? rssBytes(n.pid) : undefined };
    }));
  }

  /**
   * Stop one node by its pid. SIGTERM is a controlled shutdown (waits up to `timeoutMs`, then
   * SIGKILL); SIGKILL is a crash. Returns once the process is gone.
   */
  async stopNode(id: number, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM', timeoutMs = 30_000): Promise<void> {
    const n = this.node(id);
    if (!this.ownsPid(n)) return;
    this.log(`stopping node ${id} (pid ${n.pid}) with ${signal}`);
    try {
      process.kill(n.pid, signal);
    } catch {
      return;
    }
    if (!(await waitUntil(() => !isAlive(n.pid), timeoutMs, 100))) {
      process.kill(n.pid, 'SIGKILL');
      await waitUntil(() => !isAlive(n.pid), 10_000, 100);
    }
  }

  /** Start a stopped node again (same id, ports, data); returns when it is back in the metadata. */
  async startNode(id: number, timeoutMs = 60_000): Promise<void> {
    const n = this.node(id);
    if (this.ownsPid(n)) return;
    this.log(`starting node ${id}`);
    this.spawnNode(n);
    this.save();
    await this.waitInMetadata([n], timeoutMs);
  }

  /**
   * Start again the nodes that are down (a node that crashed, or a sandbox stopped with its data kept),
   * all at once so that a controller quorum can form, and wait until the cluster is usable. Returns
   * their ids. The data stays: nothing is formatted or removed.
   */
  async restartDown(timeoutMs = 120_000): Promise<number[]> {
    const down = this.st.nodes.filter((n) => !this.ownsPid(n));
    for (const n of down) {
      this.log(`starting node ${n.id} again (zone ${n.zone})`);
      this.spawnNode(n);
    }
    this.save();
    if (down.length > 0) await this.waitUsable(timeoutMs);
    return down.map((n) => n.id);
  }

  /**
   * Add broker-only nodes (scale-out): same cluster, the controllers' quorum unchanged, each in
   * the given zone. Returns their ids once every one is in the metadata.
   */
  async addNodes(zones: string[], timeoutMs = 90_000): Promise<number[]> {
    const libs = await resolveKafkaLibs({ log: this.log });
    const secure = Boolean(this.st.security);
    const ports = await freePorts(zones.length * (secure ? 2 : 1));
    const password = this.st.security ? readFileSync(this.st.security.passwordFile, 'utf8').trim() : undefined;
    const added: SandboxNode[] = [];
    zones.forEach((zone, i) => {
      const id = Math.max(this.st.maxNodeId ?? 0, ...this.st.nodes.map((n) => n.id)) + 1;
      this.st.maxNodeId = id;
      const dir = join(this.st.stateDir, `node-${id}`);
      mkdirSync(dir, { recursive: true });
      const n: SandboxNode = {
        id, zone, role: 'broker', port: ports[i * (secure ? 2 : 1)], controllerPort: 0, ...(secure ? { securePort: ports[i * 2 + 1] } : {}),
        pid: 0, logDir: join(dir, 'data'), propsFile: join(dir, 'server.properties'), logFile: join(dir, 'kafka.log'),
      };
      this.st.nodes.push(n);
      added.push(n);
    });
    for (const n of added) writeFileSync(n.propsFile, nodeProperties(this.st, n, password), { mode: 0o600 });
    this.save();
    await Promise.all(added.map((n) => this.format(n, libs)));
    for (const n of added) {
      this.log(`starting broker node ${n.id} (zone ${n.zone})`);
      this.spawnNode(n);
    }
    this.save();
    await this.waitInMetadata(added, timeoutMs);
    return added.map((n) => n.id);
  }

  /** Stop a node for good and forget it (scale-in; its partitions must have been moved off first). */
  async removeNode(id: number): Promise<void> {
    const n = this.node(id);
    if (n.role !== 'broker') throw new ClickbenchError(`node ${id} is one of the sandbox's controllers; only nodes added by scale-out can be removed`, { exitCode: 2, hint: 'scale in nodes that a scale-out added' });
    await this.stopNode(id, 'SIGTERM');
    this.st.nodes = this.st.nodes.filter((x) => x.id !== id);
    this.save();
    removeInsideOwned(this.st.stateDir, join(this.st.stateDir, `node-${id}`), 'sandbox node folder', isLegacySandboxDir);
  }

  /** Remove every partition directory of a stopped node's log dir but the cluster metadata (a replaced disk). */
  wipeData(id: number): number {
    const n = this.node(id);
    if (this.ownsPid(n)) throw new ClickbenchError(`node ${id} is running: stop it before wiping its data`);
    return removeDirs(n.logDir, (name) => name !== '__cluster_metadata-0');
  }

  private async waitInMetadata(nodes: SandboxNode[], timeoutMs: number): Promise<void> {
    const kafka = createKafka({ brokers: this.brokers, clientId: 'clickbench-sandbox', retries: 1 });
    const admin = kafka.admin();
    try {
      const ok = await waitUntil(async () => {
        for (const n of nodes) if (!this.ownsPid(n)) throw this.nodeDied(n);
        // A node restarted after a crash is still registered (until its session times out): it must answer itself.
        for (const n of nodes) if (!(await answersKafka(n.port))) return false;
        try {
          await admin.connect();
          const md = await admin.describeCluster();
          return nodes.every((n) => md.brokers.some((b) => b.nodeId === n.id));
        } catch {
          return false;
        }
      }, timeoutMs, 300);
      if (!ok) throw new ClickbenchError(`sandbox node(s) ${nodes.map((n) => n.id).join(', ')} did not join within ${timeoutMs / 1000} s`, { hint: `see ${nodes[0].logFile}` });
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }

  /** Stop every node (controlled shutdown, in parallel); `wipe` removes the state directory. */
  async stop(opts: { wipe?: boolean } = {}): Promise<void> {
    await Promise.all(this.st.nodes.map((n) => this.stopNode(n.id, 'SIGTERM', 20_000)));
    for (const n of this.st.nodes) n.pid = 0;
    if (opts.wipe) removeOwnedDir(this.st.stateDir, 'sandbox state directory', isLegacySandboxDir);
    else this.save();
  }
}
