import { topicsRefused } from '../../src/drive/topics.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message } from 'kafkajs';
import { coordinatorRetry, sendByBroker, TRANSIENT_BROKER_ERRORS } from '../../src/kafka/client.js';

const msg = (partition: number, v: string): Message => ({ key: v, value: v, partition });

describe('sendByBroker', () => {
  it('one request per broker holding every partition it leads; a partition with two requests keeps their order over two rounds', async () => {
    const leaders: Record<string, number> = { 't:0': 1, 't:1': 2, 't:2': 1, 'u:0': 2 };
    const sent: string[][] = [];
    await sendByBroker(
      [{ topic: 't', messages: [msg(0, 'a')] }, { topic: 't', messages: [msg(1, 'b')] }, { topic: 't', messages: [msg(2, 'c')] }, { topic: 't', messages: [msg(0, 'd')] }, { topic: 'u', messages: [msg(0, 'e')] }],
      (t, p) => leaders[`${t}:${p}`],
      async (tm) => { sent.push(tm.map((r) => `${r.topic}:${r.messages.map((m) => m.value).join('')}`)); },
    );
    assert.deepEqual(sent.sort(), [['t:a', 't:c'], ['t:b', 'u:e'], ['t:d']].sort());
    assert.ok(sent.findIndex((r) => r.includes('t:a')) < sent.findIndex((r) => r.includes('t:d')), 'partition 0 in order');
  });
  it('careful (after a failure): one partition per request', async () => {
    const sent: number[] = [];
    await sendByBroker([{ topic: 't', messages: [msg(0, 'a')] }, { topic: 't', messages: [msg(1, 'b')] }], () => 1, async (tm) => { sent.push(tm.length); }, true);
    assert.deepEqual(sent, [1, 1]);
  });
  it('a failed request: the error comes only after every lane settled, and no lane starts a new request after it', async () => {
    const leaders: Record<string, number> = { 't:0': 1, 't:1': 2 };
    const log: string[] = [];
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const failing = sendByBroker(
      [{ topic: 't', messages: [msg(0, 'a')] }, { topic: 't', messages: [msg(1, 'b')] }, { topic: 't', messages: [msg(1, 'c')] }],
      (t, p) => leaders[`${t}:${p}`],
      async (tm) => {
        const v = tm.map((r) => r.messages[0].value).join('');
        log.push(`start ${v}`);
        if (v === 'a') throw new Error('broker 1 down');
        await slow;
        log.push(`end ${v}`);
      },
    ).then(() => 'resolved', (err: Error) => { log.push('rejected'); return err.message; });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(log, ['start a', 'start b'], 'broker 1 failed while broker 2 was still sending');
    release();
    assert.equal(await failing, 'broker 1 down');
    assert.deepEqual(log, ['start a', 'start b', 'end b', 'rejected'], 'rejected after b settled; c (next round of broker 2) never started');
  });
});

describe('topics the cluster refuses: one line with its reason and what to check', () => {
  const specs = [{ topic: 'cb-x.clicks.raw', numPartitions: 12, replicationFactor: 3, configEntries: [] }];
  it('names the topics, the broker\'s reason, the exit code and a fix per reason', () => {
    const auth = topicsRefused(specs, Object.assign(new Error('Topic authorization failed'), { type: 'TOPIC_AUTHORIZATION_FAILED' }));
    assert.equal(auth.line(), 'the cluster refused to create cb-x.clicks.raw: TOPIC_AUTHORIZATION_FAILED — the principal needs CREATE on the cluster or on the topic prefix (or create the topics yourself and run with --keep)');
    assert.equal(auth.exitCode, 3);
    const rf = topicsRefused(specs, Object.assign(new Error('x'), { errors: [{ topic: 'cb-x.clicks.raw', type: 'INVALID_REPLICATION_FACTOR' }] }));
    assert.equal(rf.line(), 'the cluster refused to create cb-x.clicks.raw: cb-x.clicks.raw INVALID_REPLICATION_FACTOR — the scenario asks for replication 3: it cannot exceed the number of live brokers (topics.replication)');
    assert.match(topicsRefused(specs, new Error('boom')).line(), /: boom — check the cluster's logs/);
  });
});

describe('kafkajs lines kept off the terminal: transient answers kafkajs retries itself', () => {
  it('counts the coordinator, leader, rebalance, transaction-pace and moved-partition answers; prints the rest', () => {
    const transient = [
      'kafkajs [Connection] Response GroupCoordinator(key: 10, version: 2): The coordinator is loading and hence can\'t process requests',
      'kafkajs Response Metadata(key: 3, version: 6): This server does not host this topic-partition',
      'kafkajs [Connection] Response Produce(key: 0, version: 7): This server is not the leader for that topic-partition',
      'kafkajs Response AddPartitionsToTxn(key: 24, version: 1): The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing',
      'kafkajs [Runner] The group is rebalancing, re-joining',
    ];
    const news = [
      'kafkajs Response SaslAuthenticate(key: 36, version: 1): Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512',
      'kafkajs Response Produce(key: 0, version: 7): Not authorized to access topics: [Topic authorization failed]',
      'kafkajs Response Produce(key: 0, version: 7): The request included message batch larger than the configured segment size on the server',
      'kafkajs Response InitProducerId(key: 22, version: 1): The producer has been rejected from the broker because it tried to use an old epoch with the transactionalId',
    ];
    for (const l of transient) assert.ok(TRANSIENT_BROKER_ERRORS.test(l), l);
    for (const l of news) assert.ok(!TRANSIENT_BROKER_ERRORS.test(l), l);
  });
});

describe('coordinatorRetry', () => {
  const notCoordinator = () => Object.assign(new Error('This is not the correct coordinator for this group'), { type: 'NOT_COORDINATOR_FOR_GROUP', retriable: true });
  it('asks again while the coordinator has moved or is loading, then answers', async () => {
    let calls = 0;
    const out = await coordinatorRetry(async () => {
      calls++;
      if (calls === 1) throw notCoordinator();
      if (calls === 2) throw Object.assign(new Error('The coordinator is loading and hence can\'t process requests'), { retriable: true });
      return 'answer';
    });
    assert.equal(out, 'answer');
    assert.equal(calls, 3);
  });
  it('lets any other error through at once, and the last one after its attempts', async () => {
    let calls = 0;
    await assert.rejects(coordinatorRetry(async () => {
      calls++;
      throw Object.assign(new Error('Not authorized to access group'), { type: 'GROUP_AUTHORIZATION_FAILED', retriable: false });
    }), /Not authorized/);
    assert.equal(calls, 1);
    calls = 0;
    await assert.rejects(coordinatorRetry(async () => {
      calls++;
      throw notCoordinator();
    }, 3), /not the correct coordinator/);
    assert.equal(calls, 3);
  });
});
