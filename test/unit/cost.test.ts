import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message } from 'kafkajs';
import { countsBetween, phaseCost } from '../../src/observe/cost.js';
import { RecentLatency } from '../../src/observe/latency.js';
import { catchUpSeconds, replayResetOffsets } from '../../src/run/run.js';
import { sendByBroker } from '../../src/kafka/client.js';
import { OpenLoopDriver } from '../../src/drive/driver.js';
import { ClickstreamGenerator } from '../../src/generate/clickstream.js';
import { parseScenario } from '../../src/scenario/load.js';
import { topicNames } from '../../src/drive/topics.js';
import type { Producer } from '../../src/kafka/client.js';

describe('replay reset offsets', () => {
  it('never moves a lagging group forward: per partition the earlier of its committed offset and the lookback', () => {
    const byTime = new Map([[0, 500], [1, 800], [2, 300], [3, 1000]]);
    // Partition 0 was behind the lookback by 200, partition 1 ahead of it, partition 2 never committed, 3 exactly there.
    const committed = new Map([[0, 300], [1, 900], [2, -1], [3, 1000]]);
    const r = replayResetOffsets(byTime, committed);
    assert.deepEqual([...r.offsets], [[0, 300], [1, 800], [2, 300], [3, 1000]]);
    assert.equal(r.behindPartitions, 1);
    assert.equal(r.behindRecords, 200);
  });
  it('with a group at or ahead of the lookback everywhere, resets to the lookback', () => {
    const r = replayResetOffsets(new Map([[0, 10], [1, 20]]), new Map([[0, 50], [1, 20]]));
    assert.deepEqual([...r.offsets], [[0, 10], [1, 20]]);
    assert.equal(r.behindPartitions, 0);
  });
});

describe('catch-up seconds', () => {
  it('flags seconds over the intended rate only while a backlog from earlier seconds is being worked off', () => {
    // second 1 short by 500, second 2 catches up 300 of it, 3 the rest; 5 is a burst the schedule asked for.
    assert.deepEqual(catchUpSeconds([1000, 1000, 1000, 1000, 1000, 3000], [1000, 500, 1300, 1200, 1000, 3000], 6), [2, 3]);
    assert.deepEqual(catchUpSeconds([1000, 1000], [1000, 1050], 2), []);
  });
});

describe('cost readings', () => {
  it('requests between two readings, by role and API, leaving out what did not change', () => {
    const a = new Map([['producer', new Map([['Produce', 10]])], ['probe', new Map([['Fetch', 5]])]]);
    const b = new Map([['producer', new Map([['Produce', 40], ['Metadata', 1]])], ['probe', new Map([['Fetch', 5]])], ['admin', new Map([['ListOffsets', 6]])]]);
    assert.deepEqual(countsBetween(a, b), { producer: { Produce: 30, Metadata: 1 }, admin: { ListOffsets: 6 } });
  });
  it('broker CPU per 1 000 events, a restarted broker counted from its new process, requests per second', () => {
    const requests = (n: number) => new Map([['producer', new Map([['Produce', n]])]]);
    const c = phaseCost(
      { brokerCpu: { 1: 10, 2: 20, 3: 30 }, selfCpuSeconds: 5, requests: requests(0), atMs: 0 },
      // broker 3 restarted: its counter went back (4 s since its new start)
      { brokerCpu: { 1: 12, 2: 21, 3: 4 }, selfCpuSeconds: 7.5, requests: requests(200), atMs: 10_000 },
      2_000,
    );
    assert.deepEqual(c.brokerCpuByBroker, { 1: 2, 2: 1, 3: 4 });
    assert.equal(c.brokerCpuSeconds, 7);
    assert.equal(c.brokerCpuSecondsPer1000Events, 3.5);
    assert.equal(c.clickbenchCpuSeconds, 2.5);
    assert.equal(c.requestsPerSec, 20);
    assert.deepEqual(c.requestsPer1000EventsByApi, { Produce: 100 });
    assert.equal(phaseCost({ brokerCpu: {}, selfCpuSeconds: 0, requests: requests(0), atMs: 0 }, { brokerCpu: {}, selfCpuSeconds: 0, requests: requests(0), atMs: 1 }, 0).brokerCpuSecondsPer1000Events, null);
  });
  it('the live p99 covers only what was seen since the last reading (nearest rank)', () => {
    const r = new RecentLatency();
    assert.equal(r.takeP99(), null);
    for (let i = 1; i <= 200; i++) r.add(i);
    assert.equal(r.takeP99(), 198);
    r.add(7);
    assert.equal(r.takeP99(), 7);
    assert.equal(r.takeP99(), null);
  });
});

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
});

describe('the open-loop driver', () => {
  const scenario = parseScenario('name: t\nseed: 3\nduration: 2s\ntopics: { partitions: 4, replication: 1, min_insync_replicas: 1 }\ntraffic: { base_rate: 500 }\npopulation: { users: 200, products: 100, pages: 10, bots: 1, bot_share: 0 }\nbad_records: { rate: 0 }\n', 't.yaml').scenario;

  it('groups partitions by leader into one request per broker, and a stalled broker shows as latency from the intended time, not as lost samples', async () => {
    let now = 1_000_000;
    const clock = () => now;
    const requests: { broker: number; partitions: number; at: number }[] = [];
    const leaderOf = (topic: string, p: number) => (topic.endsWith('raw') ? (p % 2) + 1 : 3);
    // Broker 2 answers only at +1 500 ms (a stall); others at once.
    const producer = {
      sendBatch: async ({ topicMessages }: { topicMessages: { topic: string; messages: Message[] }[] }) => {
        const broker = leaderOf(topicMessages[0].topic, topicMessages[0].messages[0].partition!);
        for (const tm of topicMessages) for (const m of tm.messages) assert.equal(leaderOf(tm.topic, m.partition!), broker, 'one broker per request');
        requests.push({ broker, partitions: topicMessages.length, at: now });
        if (broker === 2 && now < 1_000_000 + 1_500) {
          const until = 1_000_000 + 1_500;
          while (now < until) await new Promise((r) => setImmediate(r));
        }
      },
    } as unknown as Producer;
    const start = now;
    const gen = new ClickstreamGenerator(scenario, { startMs: start, idPrefix: 't' });
    const worst = new Map<number, number>();
    const driver = new OpenLoopDriver({
      producer, names: topicNames('t'), gen, startMs: start, durationMs: 2_000, partitions: 4, lookupPartitions: 2, clock, leaderOf, lingerMs: 10,
      onAck: ({ events, ackMs }) => { for (const e of events) worst.set(e.seq, ackMs - e.intendedMs); },
    });
    // A fake clock that advances 1 ms per timer turn.
    const ticker = setInterval(() => { now += 1; }, 0);
    try {
      await driver.run();
    } finally {
      clearInterval(ticker);
    }
    assert.equal(driver.stats.acked, driver.stats.generated, 'every event acknowledged');
    assert.ok(requests.some((r) => r.partitions > 1), 'requests carry several partitions');
    assert.ok(requests.filter((r) => r.broker === 1).length < driver.stats.generated / 4, 'far fewer requests than events');
    // Events due on broker 2 during its stall waited for it: their latency, from the intended time, shows the stall.
    const lat = [...worst.values()];
    assert.ok(Math.max(...lat) >= 1_000, `max latency ${Math.max(...lat)} ms`);
    assert.equal(lat.length, driver.ackedSeqs.size);
  });
});
