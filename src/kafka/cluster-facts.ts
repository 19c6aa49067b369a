/** Facts about a cluster that the kafkajs admin does not hand out directly (racks, broker configs). */
import './kafkajs-preload.js'; // before kafkajs: fix 10 (src/kafka/kafkajs-fixes.ts)
import kafkajs from 'kafkajs';
import type { Admin } from './client.js';

export interface BrokerFact {
  nodeId: number;
  host: string;
  port: number;
  /** `broker.rack`, or null when the broker has none. */
  rack: string | null;
}

/** Brokers from metadata with their `broker.rack`, read through DescribeConfigs (kafkajs drops it from metadata). */
export async function describeBrokers(admin: Admin): Promise<BrokerFact[]> {
  const md = await admin.describeCluster();
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: md.brokers.map((b) => ({ type: kafkajs.ConfigResourceTypes.BROKER, name: String(b.nodeId), configNames: ['broker.rack'] })),
  });
  const rackOf = new Map<string, string | null>();
  for (const r of configs.resources) {
    const e = r.configEntries.find((c) => c.configName === 'broker.rack');
    rackOf.set(r.resourceName, e?.configValue ?? null);
  }
  return md.brokers
    .map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: rackOf.get(String(b.nodeId)) ?? null }))
    .sort((a, b) => a.nodeId - b.nodeId);
}

/** A topic's configs as the cluster reports them (its effective values: a cluster policy may override what was asked). */
export async function describeTopicConfigs(admin: Admin, topic: string, names: string[]): Promise<Record<string, string | null>> {
  const res = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configNames: names }] });
  const entries = res.resources[0]?.configEntries ?? [];
  return Object.fromEntries(names.map((n) => [n, entries.find((e) => e.configName === n)?.configValue ?? null]));
}
