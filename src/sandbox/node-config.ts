/**
 * What a sandbox node is started with: its server.properties (KRaft roles, listeners, racks, tiered
 * storage, SASL_SSL), the log4j2 configuration and a new cluster id.
 */
import { randomBytes } from 'node:crypto';

export const SANDBOX_USER = 'clickbench';
export const SANDBOX_LIMITED_USER = 'clickbench-limited';

export type StorageMode = 'local' | 'tiered';

export interface SandboxSecurityState {
  protocol: 'SASL_SSL';
  bootstrap: string;
  caFile: string;
  keystoreFile: string;
  /** Keystore password (the sandbox's own file, like the rest of its state). */
  keystorePassword: string;
  mechanisms: string[];
  users: string[];
  /** The users' password, in a file only root can read (never printed). */
  passwordFile: string;
}

export interface SandboxNode {
  id: number;
  zone: string;
  port: number;
  controllerPort: number;
  /** The SASL_SSL listener's port, on a secured sandbox. */
  securePort?: number;
  /** 'broker': a node added later (scale-out), broker only; the first nodes are broker + controller. */
  role?: 'broker';
  pid: number;
  logDir: string;
  propsFile: string;
  logFile: string;
}

/** What a node's configuration needs of the sandbox's state. */
export interface NodeConfigState {
  nodes: SandboxNode[];
  storage: StorageMode;
  remoteStorageDir?: string;
  security?: SandboxSecurityState;
  brokerOverrides?: Record<string, string>;
}

/** Kafka's cluster id format: 16 random bytes, base64url, not starting with '-'. */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export const LOG4J2 = `status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
`;

export function nodeProperties(state: NodeConfigState, node: SandboxNode, password?: string): string {
  const n = state.nodes.filter((x) => x.role !== 'broker').length;
  const rf = Math.min(3, n);
  const voters = state.nodes.filter((x) => x.role !== 'broker').map((x) => `${x.id}@127.0.0.1:${x.controllerPort}`).join(',');
  const brokerOnly = node.role === 'broker';
  const props: Record<string, string | number | boolean> = {
    'process.roles': brokerOnly ? 'broker' : 'broker,controller',
    'node.id': node.id,
    'controller.quorum.voters': voters,
    listeners: brokerOnly ? `PLAINTEXT://127.0.0.1:${node.port}` : `PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${node.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': node.logDir,
    'broker.rack': node.zone,
    'replica.selector.class': 'org.apache.kafka.common.replica.RackAwareReplicaSelector',
    'offsets.topic.replication.factor': rf,
    'offsets.topic.num.partitions': 12,
    'transaction.state.log.replication.factor': rf,
    'transaction.state.log.min.isr': Math.min(2, rf),
    'transaction.state.log.num.partitions': 12,
    'default.replication.factor': rf,
    'num.partitions': 1,
    'auto.create.topics.enable': false,
    'group.initial.rebalance.delay.ms': 0,
    'log.retention.check.interval.ms': 5_000,
    'num.network.threads': 2,
    'num.io.threads': 4,
  };
  if (state.storage === 'tiered') {
    Object.assign(props, {
      'remote.log.storage.system.enable': true,
      'remote.log.storage.manager.class.name': 'org.apache.kafka.server.log.remote.storage.LocalTieredStorage',
      'remote.log.storage.manager.impl.prefix': 'rsm.config.',
      'rsm.config.dir': state.remoteStorageDir!,
      'remote.log.metadata.manager.listener.name': 'PLAINTEXT',
      'rlmm.config.remote.log.metadata.topic.replication.factor': rf,
      'rlmm.config.remote.log.metadata.topic.num.partitions': 6,
      'remote.log.manager.task.interval.ms': 2_000,
    });
  }
  const sec = state.security;
  if (sec && node.securePort) {
    const scram = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
    Object.assign(props, {
      listeners: `${props.listeners},SASL_SSL://127.0.0.1:${node.securePort}`,
      'advertised.listeners': `${props['advertised.listeners']},SASL_SSL://127.0.0.1:${node.securePort}`,
      'listener.security.protocol.map': `${props['listener.security.protocol.map']},SASL_SSL:SASL_SSL`,
      'sasl.enabled.mechanisms': sec.mechanisms.join(','),
      'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config': scram,
      'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config': scram,
      'listener.name.sasl_ssl.plain.sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required ${sec.users.map((u) => `user_${u}="${password}"`).join(' ')};`,
      'listener.name.sasl_ssl.ssl.keystore.type': 'PKCS12',
      'listener.name.sasl_ssl.ssl.keystore.location': sec.keystoreFile,
      'listener.name.sasl_ssl.ssl.keystore.password': sec.keystorePassword,
      'listener.name.sasl_ssl.ssl.key.password': sec.keystorePassword,
      // ACLs apply to SASL users; PLAINTEXT and controller connections are ANONYMOUS, a super user here.
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users': `User:ANONYMOUS;User:${SANDBOX_USER}`,
    });
  }
  Object.assign(props, state.brokerOverrides ?? {});
  return Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
}
