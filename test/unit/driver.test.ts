import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message } from 'kafkajs';
import { OpenLoopDriver } from '../../src/drive/driver.js';
import { ClickstreamGenerator } from '../../src/generate/clickstream.js';
import { parseScenario } from '../../src/scenario/load.js';
import { topicNames } from '../../src/drive/topics.js';
import type { Producer } from '../../src/kafka/client.js';
import { markAnswered } from '../../src/kafka/send-messages.js';

/** Runs the driver while a fake clock advances one tick per timer turn (every `everyMs`). */
async function runTicking(driver: OpenLoopDriver, tick: () => void, everyMs = 0): Promise<void> {
  const ticker = setInterval(tick, everyMs);
  try {
    await driver.run();
  } finally {
    clearInterval(ticker);
  }
}

describe('the open-loop driver', () => {
  const scenario = parseScenario('name: t\nseed: 3\nduration: 2s\ntopics: { partitions: 4, replication: 1, min_insync_replicas: 1 }\ntraffic: { base_rate: 500 }\npopulation: { users: 200, products: 100, pages: 10, bots: 1, bot_share: 0 }\nbad_records: { rate: 0 }\n', 't.yaml').scenario;

  it('groups partitions by leader into one request per broker, and a stalled broker shows as latency from the intended time, not as lost samples', async () => {
    let now = 1_000_000;
    const clock = () => now;
    const requests: { broker: number; partitions: number; at: number; topics: string[] }[] = [];
    const leaderOf = (topic: string, p: number) => (topic.endsWith('raw') ? (p % 2) + 1 : 3);
    // Broker 2 answers only at +1 500 ms (a stall); others at once.
    const producer = {
      sendBatch: async ({ topicMessages }: { topicMessages: { topic: string; messages: Message[] }[] }) => {
        const broker = leaderOf(topicMessages[0].topic, topicMessages[0].messages[0].partition!);
        for (const tm of topicMessages) for (const m of tm.messages) assert.equal(leaderOf(tm.topic, m.partition!), broker, 'one broker per request');
        requests.push({ broker, partitions: topicMessages.length, at: now, topics: topicMessages.map((tm) => tm.topic) });
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
    await runTicking(driver, () => { now += 1; });
    assert.equal(driver.stats.acked, driver.stats.generated, 'every event acknowledged');
    assert.ok(requests.some((r) => r.partitions > 1), 'requests carry several partitions');
    assert.ok(requests.filter((r) => r.broker === 1).length < driver.stats.generated / 4, 'far fewer requests than events');
    // Events due on broker 2 during its stall waited for it: their latency, from the intended time, shows the stall.
    const lat = [...worst.values()];
    assert.ok(Math.max(...lat) >= 1_000, `max latency ${Math.max(...lat)} ms`);
    assert.equal(lat.length, driver.ackedSeqs.size);
    // Bytes as on the wire: each request's framing once (size, header, no client id, acks, timeout, topic
    // count: 26 B; per topic its name and partition count; per partition 8 B), not once per partition.
    const sum = (m: Map<string, Map<number, number>>) => [...m.values()].reduce((a, x) => a + [...x.values()].reduce((b, y) => b + y, 0), 0);
    const framing = requests.reduce((a, r) => a + 26 + [...new Set(r.topics)].reduce((b, t) => b + 2 + t.length + 4, 0) + 8 * r.topics.length, 0);
    assert.equal(Math.round(sum(driver.bytesByTopic) - sum(driver.batchBytesByTopic)), framing);
    assert.equal(sum(driver.batchesByTopic), requests.reduce((a, r) => a + r.topics.length, 0), 'one record batch per partition per request');
  });

  it('a request that failed after writing some of its partitions is sent again without them: every event acknowledged once', async () => {
    let now = 1_000_000;
    const leaderOf = () => 1;
    const sent: number[][] = [];
    let failedOnce = false;
    const producer = {
      sendBatch: async ({ topicMessages }: { topicMessages: { topic: string; messages: Message[] }[] }) => {
        const raw = topicMessages.filter((tm) => tm.topic.endsWith('raw'));
        sent.push(raw.map((tm) => tm.messages[0].partition!));
        if (!failedOnce && raw.length >= 2) {
          failedOnce = true;
          // kafkajs fix 12: the first partition was written (offset 40) before the send failed for good.
          throw markAnswered(new Error('connection refused'), [{ topicName: raw[0].topic, partition: raw[0].messages[0].partition!, errorCode: 0, baseOffset: '40' }]);
        }
        return topicMessages.map((tm) => ({ topicName: tm.topic, partition: tm.messages[0].partition!, errorCode: 0, baseOffset: '0' }));
      },
    } as unknown as Producer;
    const gen = new ClickstreamGenerator(scenario, { startMs: now, idPrefix: 't' });
    const acks = new Map<number, number>();
    const driver = new OpenLoopDriver({
      producer, names: topicNames('t'), gen, startMs: now, durationMs: 2_000, partitions: 4, lookupPartitions: 2, clock: () => now, leaderOf, lingerMs: 10,
      onAck: ({ events }) => { for (const e of events) acks.set(e.seq, (acks.get(e.seq) ?? 0) + 1); },
    });
    await runTicking(driver, () => { now += 1; });
    assert.ok(failedOnce, 'a request with several raw partitions failed');
    const i = sent.findIndex((s) => s.length >= 2);
    assert.deepEqual(sent[i + 1], sent[i].slice(1), 'the retry carries only the partitions not written');
    assert.equal(driver.stats.acked, driver.stats.generated);
    assert.deepEqual([...new Set(acks.values())], [1], 'each event acknowledged exactly once');
    assert.equal(acks.size, driver.stats.generated);
    assert.equal(driver.stats.retries, 1);
  });

  it('a partition\'s record batch holds at most maxBatchBytes of keys and values (clients.batch_size), and goes once full', async () => {
    const fast = parseScenario('name: t\nseed: 3\nduration: 1s\ntopics: { partitions: 4, replication: 1, min_insync_replicas: 1 }\ntraffic: { base_rate: 8000 }\npopulation: { users: 200, products: 100, pages: 10, bots: 1, bot_share: 0 }\nbad_records: { rate: 0 }\n', 't.yaml').scenario;
    const largestBatch = async (maxBatchBytes?: number) => {
      let now = 1_000_000;
      const batches: number[] = [];
      const producer = {
        sendBatch: async ({ topicMessages }: { topicMessages: { topic: string; messages: Message[] }[] }) => {
          for (const tm of topicMessages) if (tm.topic.endsWith('raw')) batches.push(tm.messages.reduce((a, m) => a + String(m.key).length + String(m.value).length, 0));
        },
      } as unknown as Producer;
      const gen = new ClickstreamGenerator(fast, { startMs: now, idPrefix: 't' });
      // A 200 ms linger: without a size limit a partition's batch holds ~400 events (~200 KB).
      const d = new OpenLoopDriver({ producer, names: topicNames('t'), gen, startMs: now, durationMs: 1_000, partitions: 4, lookupPartitions: 2, clock: () => now, leaderOf: () => 1, lingerMs: 200, maxBatchBytes });
      await runTicking(d, () => { now += 1; });
      assert.equal(d.stats.acked, d.stats.generated);
      return Math.max(...batches);
    };
    const capped = await largestBatch(16 * 1024);
    assert.ok(capped <= 16 * 1024, `largest batch ${capped} B over a 16 KiB batch size`);
    assert.ok(capped > 12 * 1024, `largest batch ${capped} B: batches fill up to the size`);
    const uncapped = await largestBatch();
    assert.ok(uncapped > 64 * 1024, `without the limit a 200 ms linger gathers ${uncapped} B per partition`);
  });

  it('sends what queued behind a busy broker as soon as its request completes, and a lone event after its linger, not at the next poll', async () => {
    const slow = parseScenario('name: t\nseed: 5\nduration: 3s\ntopics: { partitions: 4, replication: 1, min_insync_replicas: 1 }\ntraffic: { base_rate: 60 }\npopulation: { users: 200, products: 100, pages: 10, bots: 1, bot_share: 0 }\nbad_records: { rate: 0 }\n', 't.yaml').scenario;
    let now = 2_000_000;
    const clock = () => now;
    const LINGER = 10;
    const RESPONSE = 15;
    // One broker; each request answered RESPONSE ms (of the fake clock) after it went.
    const requests: { at: number; done: number; firstQueuedMs: number }[] = [];
    const producer = {
      sendBatch: async ({ topicMessages }: { topicMessages: { topic: string; messages: (Message & { event?: { intendedMs: number } })[] }[] }) => {
        const raw = topicMessages.flatMap((t) => t.messages).map((m) => m.event?.intendedMs).filter((x): x is number => x !== undefined);
        const r = { at: now, done: 0, firstQueuedMs: Math.min(...raw) };
        const until = now + RESPONSE;
        while (now < until) await new Promise((res) => setImmediate(res));
        r.done = now;
        requests.push(r);
      },
    } as unknown as Producer;
    const gen = new ClickstreamGenerator(slow, { startMs: now, idPrefix: 't' });
    const driver = new OpenLoopDriver({ producer, names: topicNames('t'), gen, startMs: now, durationMs: 3_000, partitions: 4, lookupPartitions: 2, clock, leaderOf: () => 1, lingerMs: LINGER });
    await runTicking(driver, () => { now += 1; }, 1);
    assert.equal(driver.stats.acked, driver.stats.generated);
    const raw = requests.filter((r) => Number.isFinite(r.firstQueuedMs)).sort((a, b) => a.at - b.at);
    assert.ok(raw.length > 50, `${raw.length} requests`);
    // A request goes when its broker is free and its oldest event has lingered; any later is the driver's own delay.
    const delays = raw.slice(1).map((r, i) => r.at - Math.max(raw[i].done, r.firstQueuedMs + LINGER));
    const late = delays.filter((d) => d > 2);
    assert.ok(late.length <= raw.length / 20, `${late.length} of ${raw.length} requests went more than 2 ms late: ${late.slice(0, 10).join(', ')} ms`);
  });

  it('holds at most maxQueuedBytes of due events while the cluster does not answer, marks those seconds, and the held events come out late from their intended time', async () => {
    let now = 3_000_000;
    const clock = () => now;
    const CAP = 40_000;
    let answerAfter = now + 1_500;
    let peakQueued = 0;
    const driverRef: { d?: OpenLoopDriver } = {};
    const producer = {
      sendBatch: async () => {
        while (now < answerAfter) {
          peakQueued = Math.max(peakQueued, driverRef.d!.queueDepth);
          await new Promise((res) => setImmediate(res));
        }
      },
    } as unknown as Producer;
    const gen = new ClickstreamGenerator(scenario, { startMs: now, idPrefix: 't' });
    const bytes: number[] = [];
    const worst: number[] = [];
    const d = (driverRef.d = new OpenLoopDriver({
      producer, names: topicNames('t'), gen, startMs: now, durationMs: 2_000, partitions: 4, lookupPartitions: 2, clock, leaderOf: () => 1, lingerMs: 5, maxQueuedBytes: CAP,
      onAck: ({ events, ackMs }) => { for (const e of events) { bytes.push(e.key.length + e.value.length); worst.push(ackMs - e.intendedMs); } },
    }));
    await runTicking(d, () => { now += 1; });
    answerAfter = 0;
    assert.equal(d.stats.acked, d.stats.generated, 'every event acknowledged in the end');
    assert.equal(d.stats.generated, d.intended.values.reduce((a, b) => a + b, 0));
    const largest = Math.max(...bytes);
    const avg = bytes.reduce((a, b) => a + b, 0) / bytes.length;
    // The stall holds the queue at the cap: never more than the cap plus one event, and close to it.
    assert.ok(peakQueued * avg <= CAP + 3 * largest, `peak ${peakQueued} events of ~${avg.toFixed(0)} B over a ${CAP} B cap`);
    assert.ok(peakQueued * avg >= CAP * 0.6, `peak ${peakQueued} events of ~${avg.toFixed(0)} B, the cap ${CAP} B was not reached`);
    assert.equal(d.queueFull.values[0], 1, 'the first second, stalled, was marked full');
    assert.ok(d.queueFull.values.slice(0, 2).some((x) => x === 1));
    assert.ok(Math.max(...worst) >= 1_000, 'events held back show the stall in their latency');
  });
});
