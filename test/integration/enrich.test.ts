import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMeasured } from '../../src/run/results.js';
import { parseScenario } from '../../src/scenario/load.js';
import { EnrichmentStage } from '../../src/enrich/stage.js';
import { assignedPartitions } from '../../src/enrich/assigner.js';
import { createConsumer, createProducer } from '../../src/kafka/client.js';
import { setGroupOffsets } from '../../src/kafka/group-offsets.js';
import { ClickbenchError } from '../../src/errors.js';
import { LogDirsProbe } from '../../src/kafka/logdirs.js';
import { exited, groupLag, produceGenerated, produceMore, readAll, runScenarioFile, spawnCli, testKafka, testSandbox, uniqueName, waitUntil, type ReadRecord } from '../helpers.js';

const sb = testSandbox();
const kafka = testKafka(sb);
const EVENTS = 30_000;

const scenario = parseScenario(`name: enrich-test
duration: 60s
traffic: {base_rate: 1000}
topics: {partitions: 6, replication: 3, min_insync_replicas: 2}
population: {users: 3000, products: 800, pages: 200, campaigns: 6, bots: 10, anonymous_share: 0.5}
bad_records: {rate: 0.01}
`).scenario;

/** Raw positions (partition:offset) seen in the sink and DLQ, with how often each appeared. */
function positions(records: ReadRecord[]): Map<string, number> {
  const seen = new Map<string, number>();
  for (const r of records) {
    const pos = `${r.headers['cb-source-partition']}:${r.headers['cb-source-offset']}`;
    seen.set(pos, (seen.get(pos) ?? 0) + 1);
  }
  return seen;
}

/** Produce, run the stage as a child process, SIGKILL it mid-way, restart it, let it finish; read the outputs. */
async function killAndRestart(delivery: 'eos' | 'alo') {
  const prefix = uniqueName(`cb-test-enrich-${delivery}`);
  const stream = await produceGenerated(kafka, prefix, scenario, EVENTS);
  const groupId = `${prefix}.enrich.v1`;
  const args = ['enrich', '--brokers', sb.bootstrap, '--prefix', prefix, '--delivery', delivery, '--stats-every', '1'];
  const first = spawnCli(args);
  // Kill while it works: once a third of the events reached the sink (uncommitted ones included).
  const admin = kafka.admin();
  await admin.connect();
  const written = async () => (await admin.fetchTopicOffsets(stream.names.enriched)).reduce((a, p) => a + Number(p.high), 0);
  const midway = await waitUntil(async () => (await written()) > EVENTS * 0.3, 90_000, 50);
  await admin.disconnect();
  assert.ok(midway, `the stage made progress before the kill:\n${first.output.join('')}`);
  first.kill('SIGKILL');
  await exited(first);
  const lagAtKill = await groupLag(kafka, groupId, stream.names.raw);
  const second = spawnCli(args);
  const done = await waitUntil(async () => (await groupLag(kafka, groupId, stream.names.raw)) === 0, 120_000, 250);
  second.kill('SIGTERM');
  await exited(second);
  assert.ok(done, `the restarted stage caught up:\n${second.output.join('')}`);
  assert.ok(lagAtKill > 0, 'the kill happened with work left');
  const all = await readAll(kafka, [stream.names.enriched, stream.names.dlq], EVENTS);
  const enriched = all.filter((r) => r.topic === stream.names.enriched);
  const dlq = all.filter((r) => r.topic === stream.names.dlq);
  return { stream, enriched, dlq };
}

describe('enrichment stage on the sandbox', () => {
  it('eos: after a SIGKILL mid-way and a restart, every raw event is in the sink or the DLQ exactly once', async () => {
    const { stream, enriched, dlq } = await killAndRestart('eos');
    const seen = positions([...enriched, ...dlq]);
    const dup = [...seen.values()].filter((n) => n > 1).length;
    assert.equal(seen.size, EVENTS, 'every raw record accounted for');
    assert.equal(dup, 0, 'no duplicates with exactly-once');
    assert.equal(enriched.length + dlq.length, EVENTS);

    // Bad records of every generated kind are in the DLQ with the right reason.
    const kinds = new Set<string>();
    for (const r of dlq) {
      const want = stream.badByValue.get(r.value);
      assert.ok(want, `a DLQ record that was not generated bad: ${r.value.slice(0, 80)}`);
      assert.equal(r.headers['cb-dlq-reason'], want);
      kinds.add(want);
    }
    assert.equal(dlq.length, stream.badByValue.size);
    assert.deepEqual([...kinds].sort(), ['malformed_json', 'missing_field', 'oversized', 'unknown_event_type', 'wrong_type']);

    // Governance on real output: no PII, no raw identifiers without analytics consent.
    let masked = 0;
    for (const r of enriched) {
      assert.ok(!/@example\.|\+1-555-/.test(r.value), 'no email or phone in the sink');
      const o = JSON.parse(r.value);
      if (!o.consent.analytics) {
        masked++;
        assert.match(o.anonymous_id, /^h_/);
        assert.ok(o.user_id === null || /^h_/.test(o.user_id));
        assert.match(o.ip, /\.0$/);
      }
    }
    assert.ok(masked > 100, `${masked} records without analytics consent were checked`);
  });

  it('eos with 2 instances in one group (partitions by instance index): instance 1 SIGKILLed mid-way and restarted, the group rebalanced each time — every raw event in the sink or the DLQ exactly once, each instance kept its own partitions', async () => {
    const prefix = uniqueName('cb-test-enrich-two');
    const stream = await produceGenerated(kafka, prefix, scenario, EVENTS);
    const groupId = `${prefix}.enrich.v1`;
    const args = (i: number) => ['enrich', '--brokers', sb.bootstrap, '--prefix', prefix, '--delivery', 'eos', '--instance', String(i), '--instances', '2', '--stats-every', '1'];
    const zero = spawnCli(args(0));
    const one = spawnCli(args(1));
    const admin = kafka.admin();
    await admin.connect();
    try {
      const written = async () => (await admin.fetchTopicOffsets(stream.names.enriched)).reduce((a, p) => a + Number(p.high), 0);
      assert.ok(await waitUntil(async () => (await written()) > EVENTS * 0.3, 90_000, 50), `both made progress:\n${zero.output.join('')}${one.output.join('')}`);
      one.kill('SIGKILL');
      await exited(one);
      // Instance 0 goes on alone; instance 1's partitions wait for it (nobody else may take them).
      const members = async () => (await admin.describeGroups([groupId])).groups[0].members;
      assert.ok(await waitUntil(async () => (await members()).length === 1, 30_000, 250), 'the group rebalanced without instance 1');
      const alone = (await members())[0];
      const assigned = assignedPartitions(alone.memberAssignment)[stream.names.raw] ?? [];
      assert.deepEqual([...assigned].sort((a, b) => a - b), [0, 2, 4], 'instance 0 holds only its own partitions while instance 1 is down');
      const again = spawnCli(args(1));
      const done = await waitUntil(async () => (await groupLag(kafka, groupId, stream.names.raw)) === 0, 120_000, 250);
      const both = await members();
      zero.kill('SIGTERM');
      again.kill('SIGTERM');
      await Promise.all([exited(zero), exited(again)]);
      assert.ok(done, `the two caught up:\n${again.output.join('')}`);
      assert.equal(both.length, 2, 'the restarted instance rejoined the group');
    } finally {
      await admin.disconnect();
    }
    const all = await readAll(kafka, [stream.names.enriched, stream.names.dlq], EVENTS);
    const seen = positions(all);
    assert.equal(seen.size, EVENTS, 'every raw record accounted for');
    assert.equal([...seen.values()].filter((n) => n > 1).length, 0, 'no duplicates with exactly-once across the instances');
    assert.equal(all.length, EVENTS);
    // Each output came from the instance that owns its source partition (transactional ids name the instance).
    const sources = new Set(all.map((r) => Number(r.headers['cb-source-partition'])));
    assert.deepEqual([...sources].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5]);
  });

  it('eos: a producer fenced mid-way (another instance took its transactional id) is replaced, the crashed consumer restarted, and the work finishes exactly once', async () => {
    const prefix = uniqueName('cb-test-enrich-fenced');
    const stream = await produceGenerated(kafka, prefix, scenario, EVENTS);
    const groupId = `${prefix}.enrich.v1`;
    const transactionalId = `${groupId}.0`;
    const lines: string[] = [];
    const stage = new EnrichmentStage({
      brokers: sb.brokers, names: stream.names, outputTopic: stream.names.enriched, version: 'v1', delivery: 'eos',
      config: scenario.enrichment, groupId, transactionalId, log: (l) => lines.push(l),
    });
    const zombie = createProducer(kafka, { transactionalId, maxInFlightRequests: 1, idempotent: true });
    try {
      await stage.start();
      const caughtUp = () => waitUntil(async () => (await groupLag(kafka, groupId, stream.names.raw)) === 0, 120_000, 250);
      assert.ok(await caughtUp(), 'the stage enriched the first events');
      // InitProducerId with the stage's transactional id fences the stage's producer; its next transaction
      // fails with PRODUCER_FENCED, which is not retriable, so kafkajs stops the consumer for good (before the
      // stage replaced both, it stalled here).
      await zombie.connect();
      await (await zombie.transaction()).abort(); // kafkajs sends InitProducerId for the transactional id at its first transaction
      await produceMore(kafka, stream, EVENTS / 3);
      assert.ok(await caughtUp(), `the stage caught up after being fenced:\n${lines.join('\n')}`);
    } finally {
      await stage.stop();
      await zombie.disconnect().catch(() => {});
    }
    console.log(`# fenced mid-way: ${stage.producerReplacements} producer(s) replaced, ${stage.consumerRestarts} consumer restart(s), ${stage.transactionsAborted} transaction(s) aborted`);
    assert.ok(stage.producerReplacements >= 1, `the fenced producer was replaced:\n${lines.join('\n')}`);
    assert.ok(stage.transactionsAborted >= 1, 'the fenced transaction was aborted');
    const seen = positions(await readAll(kafka, [stream.names.enriched, stream.names.dlq], stream.count));
    assert.equal(seen.size, stream.count, 'every raw record accounted for');
    assert.equal([...seen.values()].filter((n) => n > 1).length, 0, 'no duplicates');
  });

  it('alo: the same kill shows duplicates in the sink, and the test says how many', async () => {
    const { enriched, dlq } = await killAndRestart('alo');
    const seen = positions([...enriched, ...dlq]);
    const duplicates = enriched.length + dlq.length - seen.size;
    console.log(`# at-least-once after a SIGKILL: ${duplicates} duplicate record(s) in ${enriched.length + dlq.length} outputs for ${EVENTS} raw events`);
    assert.equal(seen.size, EVENTS, 'nothing lost');
    assert.ok(duplicates > 0, 'records processed after the last offset commit were processed again');
  });

  it('a transaction left open on a sink partition is reported (last stable offset behind the high watermark), and no longer once it aborts', async () => {
    const topic = uniqueName('cb-test-open-txn');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 3 }], waitForLeaders: true });
    const producer = createProducer(kafka, { transactionalId: `${topic}.tx`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const ld = new LogDirsProbe(sb.bootstrap.split(','));
    try {
      const txn = await producer.transaction();
      await txn.send({ topic, messages: [{ partition: 1, value: 'a' }, { partition: 1, value: 'b' }] });
      assert.deepEqual(await ld.openTransactions([{ name: topic, partitions: [0, 1] }]), [{ topic, partition: 1, lastStable: 0, highWatermark: 2 }]);
      await txn.abort();
      // The abort markers are written after EndTxn answers: wait for them, then nothing is open.
      assert.ok(await waitUntil(async () => (await ld.openTransactions([{ name: topic, partitions: [0, 1] }])).length === 0, 15_000, 250), 'the abort markers close the transaction');
    } finally {
      await producer.disconnect();
      await ld.close();
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    }
  });

  it("a group's offsets are set in one commit without joining it (as AdminClient does), and refused while a member is in the group", async () => {
    const topic = uniqueName('cb-test-group-offsets');
    const groupId = `${topic}.group`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
    const producer = createProducer(kafka, { idempotent: true });
    await producer.connect();
    const member = createConsumer(kafka, { groupId, maxWaitTimeInMs: 200 });
    try {
      await producer.send({ topic, messages: Array.from({ length: 30 }, (_, i) => ({ partition: i % 3, value: `r${i}` })) });
      await member.connect();
      await member.subscribe({ topic, fromBeginning: true });
      let joined = false;
      member.on(member.events.GROUP_JOIN, () => (joined = true));
      await member.run({ eachMessage: async () => {} });
      assert.ok(await waitUntil(async () => joined, 30_000, 100), 'the member joined');
      // A member is in the group: the broker refuses a commit without a member id, and the error says which group.
      await assert.rejects(setGroupOffsets({ brokers: sb.bootstrap.split(',') }, groupId, topic, new Map([[0, 1]]), 1_500), (e: Error) => e instanceof ClickbenchError && e.message.includes(`consumer group ${groupId} on ${topic}`));
      await member.disconnect();
      const { attempts } = await setGroupOffsets({ brokers: sb.bootstrap.split(',') }, groupId, topic, new Map([[0, 3], [1, 0], [2, 10]]));
      const got = await admin.fetchOffsets({ groupId, topics: [topic] });
      assert.deepEqual(got[0].partitions.map((p) => [p.partition, p.offset]).sort(), [[0, '3'], [1, '0'], [2, '10']]);
      const [group] = (await admin.describeGroups([groupId])).groups;
      assert.equal(group.state, 'Empty', `no member joined for the commit (attempts ${attempts})`);
    } finally {
      await member.disconnect().catch(() => {});
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    }
  });

  it('run with enrichment.instances: 2 — two processes in one group through steady, an enricher-kill of instance 0 and a replay (a new group of two): 0 missing, 0 duplicates, counters of both', async () => {
    const { exitCode, output, runDir, results: r } = await runScenarioFile(sb, `name: two-instances
seed: 3
duration: 34s
topics: {prefix: cb-test-inst, partitions: 6, replication: 3, min_insync_replicas: 2}
traffic: {base_rate: 500}
population: {users: 3000, products: 800, pages: 200, campaigns: 6, bots: 10}
enrichment: {instances: 2}
phases:
  - {kind: warmup, duration: 4s}
  - {kind: steady, duration: 10s}
  - {kind: fault, duration: 8s, fault: {action: enricher-kill}}
  - {kind: replay, duration: 12s, lookback: 8s}
gates:
  correctness.missing: "== 0"
  correctness.duplicates: "== 0"
`);
    assert.equal(exitCode, 0, output);
    assert.equal(r.enrichment.instances, 2);
    assert.equal(r.correctness.missing, 0);
    assert.equal(r.correctness.duplicates, 0);
    assert.ok(r.correctness.seenDistinct > 10_000, `${r.correctness.seenDistinct} events seen`);
    assert.ok(isMeasured(r.replay) && r.replay.caughtUp, JSON.stringify(r.replay));
    // Two processes per generation reported their counters: together they processed every event once per generation, and more than a live pass.
    const c = r.enrichment.counters!;
    assert.ok(c.processed >= r.throughput.ackedEvents, `${c.processed} processed, ${r.throughput.ackedEvents} acknowledged`);
    assert.match(readFileSync(join(runDir, 'scorecard.md'), 'utf8'), /2 instances in one group/);
    // The kill took instance 0 only, and it came back.
    const kill = r.faults.find((f) => f.action === 'enricher-kill');
    assert.ok(kill && kill.restoredAtOffsetMs !== null, JSON.stringify(kill));
    assert.match(output, /enrichment instance 0 of 2 \(SIGKILL\)/);
  });
});
