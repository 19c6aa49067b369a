import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import '../../src/kafka/client.js';
import { answeredOf, type PartitionAnswer } from '../../src/kafka/send-messages.js';
import { sleep } from '../../src/sandbox/process.js';

/*
 * kafkajs fix 12 (src/kafka/send-messages.ts) driven through kafkajs's own retrier, against a cluster whose
 * leaders move between tries. kafkajs's original sendMessages runs beside it on the same cluster, to show
 * what each case did before.
 */
const require = createRequire(import.meta.url);
const sendPath = require.resolve('kafkajs/src/producer/sendMessages');
type SendFactory = (deps: object) => (a: { acks: number; topicMessages: { topic: string; messages: { partition: number; value: string }[] }[] }) => Promise<PartitionAnswer[]>;
const installed = require(sendPath) as SendFactory;
/** kafkajs's own sendMessages, compiled from its file (the module cache holds the replacement). */
function kafkajsOriginal(): SendFactory {
  const m = new Module(sendPath) as Module & { _compile(src: string, file: string): void; paths: string[] };
  m.filename = sendPath;
  m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(sendPath.replace(/\/[^/]+$/, ''));
  m._compile(readFileSync(sendPath, 'utf8'), sendPath);
  return m.exports as SendFactory;
}
const createRetry = require('kafkajs/src/retry') as (o: object) => unknown;
const { KafkaJSConnectionError } = require('kafkajs/src/errors') as { KafkaJSConnectionError: new (m: string, o?: object) => Error };

interface Call { broker: number; partitions: { partition: number; firstSequence: number; count: number }[] }

/** A cluster of brokers 1–3 for topic `t`; `moves` are applied at each metadata refresh (one per refresh). */
function cluster(o: { leaders: Record<number, number>; moves?: Record<number, number>[]; fail?: (broker: number, attempt: number) => Error | null; delayMs?: (broker: number) => number; transactional?: boolean }) {
  const leaders = { ...o.leaders };
  const moves = [...(o.moves ?? [])];
  const calls: Call[] = [];
  const added: number[][] = [];
  const attempts = new Map<number, number>();
  const sequences = new Map<number, number>();
  const locks = new Map<number, Promise<void>>();
  const release = new Map<number, () => void>();
  const brokers = new Map<number, { nodeId: number; produce(a: { topicData: { topic: string; partitions: { partition: number; firstSequence: number; messages: unknown[] }[] }[] }): Promise<unknown> }>();
  for (const nodeId of [1, 2, 3]) {
    brokers.set(nodeId, {
      nodeId,
      async produce({ topicData }) {
        const attempt = (attempts.get(nodeId) ?? 0) + 1;
        attempts.set(nodeId, attempt);
        calls.push({ broker: nodeId, partitions: topicData.flatMap((t) => t.partitions.map((p) => ({ partition: p.partition, firstSequence: p.firstSequence, count: p.messages.length }))) });
        await sleep(o.delayMs?.(nodeId) ?? 0);
        const err = o.fail?.(nodeId, attempt);
        if (err) throw err;
        return { topics: topicData.map((t) => ({ topicName: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode: 0, baseOffset: String(100 * nodeId + p.partition), logAppendTime: '-1', logStartOffset: '0' })) })) };
      },
    });
  }
  const deps = {
    logger: { debug() {}, error() {}, info() {}, warn() {} },
    partitioner: ({ message }: { message: { partition: number } }) => message.partition,
    retrier: createRetry({ retries: 3, initialRetryTime: 5, maxRetryTime: 20, factor: 0, multiplier: 1 }),
    cluster: {
      async refreshMetadataIfNecessary() {},
      async refreshMetadata() {
        Object.assign(leaders, moves.shift() ?? {});
      },
      async addMultipleTargetTopics() {},
      findTopicPartitionMetadata: () => Object.entries(leaders).map(([p, leader]) => ({ partitionId: Number(p), leader })),
      findLeaderForPartitions: (_t: string, partitions: (string | number)[]) => {
        const out: Record<number, number[]> = {};
        for (const p of partitions.map(Number)) if (leaders[p] !== undefined) (out[leaders[p]] ??= []).push(p); // kafkajs leaves out what it does not know
        return out;
      },
      findBroker: async ({ nodeId }: { nodeId: string | number }) => brokers.get(Number(nodeId))!,
      removeBroker() {},
      isConnected: () => true,
      async connect() {},
    },
    eosManager: {
      async acquireBrokerLock(b: { nodeId: number }) {
        while (locks.has(b.nodeId)) await locks.get(b.nodeId);
        locks.set(b.nodeId, new Promise<void>((r) => release.set(b.nodeId, r)));
      },
      releaseBrokerLock(b: { nodeId: number }) {
        locks.delete(b.nodeId);
        release.get(b.nodeId)!();
      },
      isTransactional: () => !!o.transactional,
      async addPartitionsToTransaction(topicData: { partitions: { partition: number }[] }[]) {
        added.push(topicData.flatMap((t) => t.partitions.map((p) => p.partition)));
      },
      getSequence: (_t: string, p: number) => sequences.get(p) ?? 0,
      updateSequence: (_t: string, p: number, n: number) => void sequences.set(p, (sequences.get(p) ?? 0) + n),
      getTransactionalId: () => 'tx',
      getProducerId: () => 7,
      getProducerEpoch: () => 0,
    },
  };
  const messages = (partition: number, n: number) => Array.from({ length: n }, (_, i) => ({ partition, value: `p${partition}-${i}` }));
  return { deps, calls, added, sequences, leaders, messages };
}

const connectionError = () => new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
const sentTo = (calls: Call[], partition: number) => calls.flatMap((c) => c.partitions.filter((p) => p.partition === partition).map((p) => ({ broker: c.broker, firstSequence: p.firstSequence })));

describe('kafkajs fix 12: a send\'s retries keep each partition\'s answer (src/kafka/send-messages.ts)', () => {
  it('is what kafkajs\'s producers load', () => {
    assert.equal(installed.name, 'sendMessagesPerPartition');
    assert.notEqual(kafkajsOriginal(), installed);
  });

  it('leaders moved after broker 2 failed: only its partition is sent again, with the same sequence numbers (kafkajs re-sent the written one and dropped the other)', async () => {
    // Partition 0 on broker 1 (answers), partition 1 on broker 2 (connection refused); then 0 moves to 3, 1 to 1.
    const setup = () => cluster({ leaders: { 0: 1, 1: 2 }, moves: [{ 0: 3, 1: 1 }], fail: (b) => (b === 2 ? connectionError() : null) });
    const ours = setup();
    const answers = await installed(ours.deps)({ acks: -1, topicMessages: [{ topic: 't', messages: [...ours.messages(0, 2), ...ours.messages(1, 3)] }] });
    assert.deepEqual(sentTo(ours.calls, 0), [{ broker: 1, firstSequence: 0 }]);
    assert.deepEqual(sentTo(ours.calls, 1), [{ broker: 2, firstSequence: 0 }, { broker: 1, firstSequence: 0 }]);
    assert.deepEqual(answers.map((a) => [a.partition, a.baseOffset]).sort(), [[0, '100'], [1, '101']]);
    assert.deepEqual([...ours.sequences].sort(), [[0, 2], [1, 3]]);

    const before = setup();
    await kafkajsOriginal()(before.deps)({ acks: -1, topicMessages: [{ topic: 't', messages: [...before.messages(0, 2), ...before.messages(1, 3)] }] });
    assert.deepEqual(sentTo(before.calls, 0), [{ broker: 1, firstSequence: 0 }, { broker: 3, firstSequence: 2 }], 'kafkajs: partition 0 written twice (new sequence numbers: a duplicate)');
    assert.deepEqual(sentTo(before.calls, 1), [{ broker: 2, firstSequence: 0 }], 'kafkajs: partition 1 never written, and the send succeeded');
  });

  it('a try waits for all its requests: a slow broker\'s partition is not sent again while in flight (kafkajs did, with new sequence numbers)', async () => {
    const setup = () => cluster({ leaders: { 0: 1, 1: 2 }, fail: (b, attempt) => (b === 2 && attempt === 1 ? connectionError() : null), delayMs: (b) => (b === 1 ? 60 : 0) });
    const ours = setup();
    await installed(ours.deps)({ acks: -1, topicMessages: [{ topic: 't', messages: [...ours.messages(0, 4), ...ours.messages(1, 1)] }] });
    assert.deepEqual(sentTo(ours.calls, 0), [{ broker: 1, firstSequence: 0 }]);
    assert.deepEqual(sentTo(ours.calls, 1), [{ broker: 2, firstSequence: 0 }, { broker: 2, firstSequence: 0 }]);

    const before = setup();
    await kafkajsOriginal()(before.deps)({ acks: -1, topicMessages: [{ topic: 't', messages: [...before.messages(0, 4), ...before.messages(1, 1)] }] });
    assert.deepEqual(sentTo(before.calls, 0), [{ broker: 1, firstSequence: 0 }, { broker: 1, firstSequence: 4 }], 'kafkajs: partition 0 sent again behind its first request');
  });

  it('a send that fails for good says which partitions were written; the others get their sequence numbers back', async () => {
    const c = cluster({ leaders: { 0: 1, 1: 2, 2: 1 }, fail: (b) => (b === 2 ? connectionError() : null) });
    const err = await installed(c.deps)({ acks: -1, topicMessages: [{ topic: 't', messages: [...c.messages(0, 2), ...c.messages(1, 2), ...c.messages(2, 1)] }] }).then(() => null, (e: Error) => e);
    assert.ok(err, 'the send failed');
    assert.equal(err.name, 'KafkaJSNumberOfRetriesExceeded');
    assert.deepEqual(answeredOf(err).map((a) => [a.partition, a.baseOffset]).sort(), [[0, '100'], [2, '102']]);
    assert.deepEqual(sentTo(c.calls, 0).length, 1, 'written once');
    assert.deepEqual(sentTo(c.calls, 1), Array.from({ length: 4 }, () => ({ broker: 2, firstSequence: 0 })), 'the first try and three retries, all with sequence 0');
    assert.deepEqual([...c.sequences].sort(), [[0, 2], [1, 0], [2, 1]]);
    assert.deepEqual(answeredOf(new Error('plain')), []);
  });

  it('in a transaction, a retry adds only the partitions it sends', async () => {
    const c = cluster({ leaders: { 0: 1, 1: 2 }, moves: [{ 1: 3 }], fail: (b) => (b === 2 ? connectionError() : null), transactional: true });
    await installed(c.deps)({ acks: -1, topicMessages: [{ topic: 't', messages: [...c.messages(0, 1), ...c.messages(1, 1)] }] });
    assert.deepEqual(c.added.map((a) => a.join(',')).sort(), ['0', '1', '1']);
    assert.deepEqual(sentTo(c.calls, 1), [{ broker: 2, firstSequence: 0 }, { broker: 3, firstSequence: 0 }]);
  });

  it('a partition the metadata does not know is a retriable miss, not a silent drop', async () => {
    const c = cluster({ leaders: { 0: 1 } });
    const err = await installed(c.deps)({ acks: -1, topicMessages: [{ topic: 't', messages: [...c.messages(0, 1), ...c.messages(5, 1)] }] }).then(() => null, (e: Error) => e);
    assert.match(String(err?.message), /no leader known for t partition 5/);
    assert.deepEqual(answeredOf(err).map((a) => a.partition), [0]);
  });
});
