import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import '../../src/kafka/client.js';
import { stoppedRunnerSafeFetch } from '../../src/kafka/kafkajs-fixes.js';
import { sleep } from '../../src/sandbox/process.js';

describe('kafkajs fix: a stopped consumer\'s fetchers end instead of spinning', () => {
  const original = async function (this: unknown, nodeId: number) {
    return [{ nodeId }];
  };

  it('a running consumer fetches through the original', async () => {
    let stops = 0;
    const runner = { running: true, fetchManager: { stop: async () => void stops++ } };
    assert.deepEqual(await stoppedRunnerSafeFetch(original).call(runner as never, 7), [{ nodeId: 7 }]);
    assert.equal(stops, 0);
  });

  it('a stopped consumer stops its fetch manager and yields to the event loop before returning nothing', async () => {
    let stops = 0;
    const runner = { running: false, fetchManager: { stop: async () => void stops++ } };
    let timerRan = false;
    setTimeout(() => (timerRan = true), 0);
    const got = await stoppedRunnerSafeFetch(original, 5).call(runner as never, 1);
    assert.deepEqual(got, []);
    assert.equal(stops, 1);
    assert.equal(timerRan, true, 'a timer due meanwhile ran: the loop left the microtask queue');
  });

  it('is installed on the Runner kafkajs\'s consumers use when the client module loads', () => {
    const Runner = createRequire(import.meta.url)('kafkajs/src/consumer/runner') as { prototype: { fetch: { name: string; toString(): string } } };
    assert.match(Runner.prototype.fetch.toString(), /this\.fetchManager\.stop\(\)/);
  });
});

describe('isRetriableError: what kafkajs restarts a consumer for', () => {
  it('retries exhausted and retriable causes are retriable; fencing, plain errors and non-errors are not', async () => {
    // kafkajs's error classes are spread into its exports, which ESM named imports cannot see.
    const { KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, KafkaJSNonRetriableError } = (await import('kafkajs')).default as unknown as Record<string, new (...a: unknown[]) => Error>;
    const { isRetriableError } = await import('../../src/kafka/client.js');
    const protocol = (type: number) => new KafkaJSProtocolError({ type: 'X', code: type, retriable: type === 7, message: 'x' } as never);
    assert.equal(isRetriableError(new KafkaJSNumberOfRetriesExceeded(new Error('connect ECONNREFUSED'), { retryCount: 5, retryTime: 300 })), true);
    assert.equal(isRetriableError(protocol(7)), true, 'REQUEST_TIMED_OUT');
    assert.equal(isRetriableError(new KafkaJSNonRetriableError(protocol(7), { cause: protocol(7) })), true, 'the innermost cause decides');
    assert.equal(isRetriableError(protocol(90)), false, 'PRODUCER_FENCED');
    assert.equal(isRetriableError(new KafkaJSNonRetriableError(protocol(90), { cause: protocol(90) })), false);
    assert.equal(isRetriableError(new KafkaJSNonRetriableError('state')), false, 'a transaction-state error');
    assert.equal(isRetriableError(new Error('plain')), false);
    assert.equal(isRetriableError('a string'), false);
  });
});

describe('kafkajs fix: a broker connection schedules a pending-request check only when a request waits', () => {
  type Queue = { pending: unknown[]; throttledUntil: number; throttleCheckTimeoutId: unknown; checkPendingRequests(): void; scheduleCheckPendingRequests(): void; destroy(): void };
  const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue') as new (o: object) => Queue;
  const logger = { debug() {}, info() {}, warn() {}, error() {} };
  /** A real kafkajs RequestQueue whose checks are counted, with their times since `t0` (0 in flight allowed: what is pending stays pending). */
  const counted = () => {
    const q = new RequestQueue({ maxInFlightRequests: 0, requestTimeout: 30_000, enforceRequestTimeout: true, clientId: 't', broker: '127.0.0.1:1', logger });
    const at: number[] = [];
    const t0 = Date.now();
    const check = q.checkPendingRequests.bind(q);
    q.checkPendingRequests = () => {
      at.push(Date.now() - t0);
      check();
    };
    return { q, at };
  };

  it('with nothing pending, neither a schedule nor a check leaves a timer behind (kafkajs ran a 1 ms timer for ever)', async () => {
    const { q, at } = counted();
    q.scheduleCheckPendingRequests();
    q.checkPendingRequests();
    assert.equal(q.throttleCheckTimeoutId, null);
    await sleep(60);
    assert.deepEqual(at.length, 1, 'only the direct call');
    q.destroy();
  });

  it('a pending request is checked after 10 ms without a throttle, and when the throttle ends with one', async () => {
    const a = counted();
    a.q.pending.push({});
    a.q.scheduleCheckPendingRequests();
    a.q.scheduleCheckPendingRequests(); // one timer at a time
    await sleep(60);
    a.q.pending.length = 0;
    assert.equal(a.at.length >= 1 && a.at.length <= 6, true, `checks while a request waited: ${a.at.length}`);
    assert.ok(a.at[0] >= 9, `the first check came ${a.at[0]} ms after the schedule`);
    await sleep(30);
    const settled = a.at.length;
    await sleep(30);
    assert.equal(a.at.length, settled, 'no check once nothing is pending');
    a.q.destroy();

    const b = counted();
    b.q.pending.push({});
    b.q.throttledUntil = Date.now() + 40;
    b.q.scheduleCheckPendingRequests();
    await sleep(25);
    assert.equal(b.at.length, 0, 'not before the throttle ends');
    await sleep(40);
    assert.ok(b.at.length >= 1 && b.at[0] >= 38, `checked when the throttle ended: ${JSON.stringify(b.at)}`);
    b.q.pending.length = 0;
    b.q.destroy();
  });
});

