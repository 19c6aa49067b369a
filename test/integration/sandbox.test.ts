import assert from 'node:assert/strict';
import { readdirSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { createConsumer, createProducer, type Admin } from '../../src/kafka/client.js';
import { describeBrokers } from '../../src/kafka/cluster-facts.js';
import { createTopics } from '../../src/drive/topics.js';
import { testKafka, testSandbox, uniqueName, waitUntil } from '../helpers.js';
import { resolveTarget } from '../../src/run/target.js';
import { Sandbox } from '../../src/sandbox/cluster.js';
import { parseScenario } from '../../src/scenario/load.js';
import { answersKafka } from '../../src/sandbox/ports.js';

const sb = testSandbox();
const kafka = testKafka(sb);
let admin: Admin;

before(async () => {
  admin = kafka.admin();
  await admin.connect();
});
after(async () => {
  await admin.disconnect();
});

/** Every file under `dir` (recursively) with its size; what the broker deletes while we look is skipped. */
function filesUnder(dir: string): { path: string; size: number }[] {
  const out: { path: string; size: number }[] = [];
  const gone = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';
  let entries: Dirent[] = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (gone(err)) return out;
    throw err;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else {
      try {
        out.push({ path: p, size: statSync(p).size });
      } catch (err) {
        if (!gone(err)) throw err;
      }
    }
  }
  return out;
}

/** Consume `topic` from the beginning until `count` records arrived; returns values per partition in arrival order. */
async function consumeAll(topic: string, count: number, timeoutMs = 60_000): Promise<Map<number, string[]>> {
  const byPartition = new Map<number, string[]>();
  let n = 0;
  const consumer = createConsumer(kafka, { groupId: uniqueName('cb-test-read') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const list = byPartition.get(batch.partition) ?? [];
      for (const m of batch.messages) list.push(m.value!.toString());
      byPartition.set(batch.partition, list);
      n += batch.messages.length;
    },
  });
  await waitUntil(() => n >= count, timeoutMs, 100);
  await consumer.disconnect();
  return byPartition;
}

describe('sandbox: a real Apache Kafka cluster', () => {
  it('lists 3 brokers whose racks are the 3 zones', async () => {
    const brokers = await describeBrokers(admin);
    assert.deepEqual(brokers.map((b) => [b.nodeId, b.rack]), [[1, 'a'], [2, 'b'], [3, 'c']]);
    assert.deepEqual(brokers.map((b) => `${b.host}:${b.port}`).join(','), sb.bootstrap);
  });

  it('`sandbox status --json` reports every node running with its pid and memory', async () => {
    const lines: string[] = [];
    const code = await main(['sandbox', 'status', '--json', '--state-dir', sb.state.stateDir], { out: (l) => lines.push(l), err: () => {}, isTTY: false });
    assert.equal(code, 0);
    const st = JSON.parse(lines.join('\n'));
    assert.equal(st.running, true);
    assert.equal(st.nodes.length, 3);
    for (const n of st.nodes) {
      assert.equal(n.alive, true);
      assert.ok(n.rssBytes > 50 * 2 ** 20, `node ${n.id} rss ${n.rssBytes}`);
    }
  });

  it('delivers 10 000 keyed records on a 6-partition RF 3 topic back in order per partition', async () => {
    const topic = uniqueName('cb-test-order');
    await createTopics(admin, [{ topic, numPartitions: 6, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }]);
    const producer = createProducer(kafka, { idempotent: true });
    await producer.connect();
    const total = 10_000;
    for (let start = 0; start < total; start += 1_000) {
      const messages = [];
      for (let i = start; i < start + 1_000; i++) messages.push({ key: `user-${i % 97}`, value: String(i) });
      await producer.send({ topic, acks: -1, messages });
    }
    await producer.disconnect();
    const got = await consumeAll(topic, total);
    let count = 0;
    const seen = new Set<string>();
    for (const [p, values] of got) {
      const seq = values.map(Number);
      for (let i = 1; i < seq.length; i++) assert.ok(seq[i] > seq[i - 1], `partition ${p} out of order at ${i}: ${seq[i - 1]} then ${seq[i]}`);
      count += seq.length;
      for (const v of values) seen.add(v);
    }
    assert.equal(count, total);
    assert.equal(seen.size, total);
    assert.equal(got.size, 6, 'keys spread over all 6 partitions');
  });

  it('keeps accepting acks=all writes after a node is SIGKILLed, and the node rejoins the ISR', async () => {
    const topic = uniqueName('cb-test-kill');
    await createTopics(admin, [{ topic, numPartitions: 6, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }]);
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    const victim = md.topics[0].partitions[0].leader;
    const producer = createProducer(kafka, { idempotent: true, retry: { retries: 20, initialRetryTime: 200 } });
    await producer.connect();
    try {
      await sb.stopNode(victim, 'SIGKILL');
      // A client sees the dead connection once or twice before metadata moves on; it retries, as an application would.
      // One request per partition, as clickbench's driver sends (a kafkajs request spanning brokers can
      // resolve without the half that failed): each partition's 100 records acknowledged on their own.
      let attempts = 0;
      const deadline = Date.now() + 60_000;
      const acked = await Promise.all(Array.from({ length: 6 }, async (_, p) => {
        while (Date.now() < deadline) {
          attempts++;
          const r = await producer.send({ topic, acks: -1, messages: Array.from({ length: 100 }, (_, i) => ({ key: `k${p}-${i}`, value: `v${i}`, partition: p })) }).catch(() => undefined);
          if (r?.some((x) => x.partition === p && x.errorCode === 0)) return true;
        }
        return false;
      }));
      assert.ok(acked.every(Boolean), `acks=all writes succeeded on every partition with one node down (${attempts} attempt(s))`);
      // What the cluster holds, not what kafkajs's return value lists (it omits partitions of a retried half).
      // A newly elected leader's high watermark can trail the log (KIP-207) until the dead replica
      // leaves the ISR (replica.lag.time.max.ms, 30 s): read until it settles.
      let offsets = await admin.fetchTopicOffsets(topic);
      await waitUntil(async () => {
        offsets = await admin.fetchTopicOffsets(topic).catch(() => offsets);
        return offsets.every((p) => Number(p.high) > 0) && offsets.reduce((a, p) => a + Number(p.high), 0) >= 600;
      }, 45_000, 500);
      assert.equal(offsets.length, 6);
      assert.ok(offsets.every((p) => Number(p.high) > 0), 'every partition took writes with one node down');
      assert.ok(offsets.reduce((a, p) => a + Number(p.high), 0) >= 600, 'all 600 records are in the log');
      const leaders = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions.map((p) => p.leader);
      assert.ok(!leaders.includes(victim), `no partition is led by the killed node ${victim}`);
    } finally {
      await sb.startNode(victim);
    }
    const rejoined = await waitUntil(async () => {
      const parts = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions;
      return parts.every((p) => p.isr.includes(victim));
    }, 60_000, 500);
    await producer.disconnect();
    assert.ok(rejoined, `node ${victim} is back in the ISR of every partition`);
  });

  it('a run finds a node down: starts it again and keeps the sandbox\'s topics (never wipes and recreates it)', async () => {
    const topic = uniqueName('cb-test-kept');
    await createTopics(admin, [{ topic, numPartitions: 3, replicationFactor: 3, configEntries: [] }]);
    const victim = sb.state.nodes[sb.state.nodes.length - 1].id;
    await sb.stopNode(victim, 'SIGKILL');
    const lines: string[] = [];
    const { scenario } = parseScenario('name: kept\nduration: 10s\ntraffic: { base_rate: 10 }\n');
    const target = await resolveTarget(scenario, { stateDir: sb.state.stateDir, warmupSeconds: 0, log: (l) => lines.push(l) });
    try {
      assert.equal(target.startedByRun, false);
      assert.ok(lines.some((l) => new RegExp(`node\\(s\\) ${victim} down: starting it again \\(its data are kept\\)`).test(l)), lines.join('\n'));
      const now = await Sandbox.load(sb.state.stateDir)!.status();
      assert.ok(now.every((n) => n.alive), 'every node runs again');
      // Not only running: answering (a suite run's next test once met the restarted node's closed port).
      for (const n of sb.state.nodes) assert.ok(await answersKafka(n.port, 2_000), `node ${n.id} answers ApiVersions on its port ${n.port}`);
      assert.ok((await admin.listTopics()).includes(topic), 'the topic made before is still there');
    } finally {
      await target.release();
    }
    assert.ok((await Sandbox.load(sb.state.stateDir)!.status()).every((n) => n.alive), 'release leaves a sandbox it found running, running');
    await admin.deleteTopics({ topics: [topic] });
  });

  it('tiered storage: segments move to the remote directory, local segments go, a read from offset 0 still gets every record', async () => {
    assert.ok(sb.state.remoteStorageDir, 'the suite sandbox runs with tiered storage available');
    const topic = uniqueName('cb-test-tiered');
    // The project's helper: kafkajs's waitForLeaders gives up when the broker it asks has not applied the new topic yet.
    await createTopics(admin, [{
      topic, numPartitions: 1, replicationFactor: 3,
      configEntries: [
        { name: 'remote.storage.enable', value: 'true' },
        { name: 'segment.bytes', value: String(1024 * 1024) },
        { name: 'local.retention.ms', value: '2000' },
        { name: 'retention.ms', value: String(3_600_000) },
      ],
    }]);
    const producer = createProducer(kafka);
    await producer.connect();
    const total = 6_000;
    const pad = 'x'.repeat(1_000);
    for (let start = 0; start < total; start += 500) {
      await producer.send({ topic, acks: -1, messages: Array.from({ length: 500 }, (_, j) => ({ value: `${start + j}:${pad}` })) });
    }
    await producer.disconnect();
    const remoteSegments = () => filesUnder(sb.state.remoteStorageDir!).filter((f) => f.path.includes(topic) && f.path.endsWith('.log'));
    const localSegments = () => sb.state.nodes.flatMap((n) => filesUnder(n.logDir).filter((f) => f.path.includes(`${topic}-0`) && f.path.endsWith('.log')));
    const localBefore = localSegments().length;
    const moved = await waitUntil(() => remoteSegments().length >= 4, 90_000, 1_000);
    assert.ok(moved, `segments reached the remote tier (found ${remoteSegments().length})`);
    const trimmed = await waitUntil(() => localSegments().length < localBefore, 90_000, 1_000);
    assert.ok(trimmed, `local segments were deleted (before ${localBefore}, now ${localSegments().length})`);
    const offsets = await admin.fetchTopicOffsets(topic);
    assert.equal(offsets[0].low, '0', 'the log still starts at offset 0 (served from the remote tier)');
    const got = await consumeAll(topic, total, 90_000);
    const values = got.get(0) ?? [];
    assert.equal(values.length, total);
    assert.equal(values[0].split(':')[0], '0');
    assert.equal(values[total - 1].split(':')[0], String(total - 1));
  });
});
