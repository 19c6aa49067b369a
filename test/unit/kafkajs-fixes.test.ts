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
