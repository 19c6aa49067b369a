import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import '../../src/kafka/client.js';
import { stoppedRunnerSafeFetch } from '../../src/kafka/kafkajs-fixes.js';

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
