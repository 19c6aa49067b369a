import { rssAround } from '../../bench/memory-run.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countsBetween, phaseCost } from '../../src/observe/cost.js';
import { RecentLatency } from '../../src/observe/latency.js';

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


describe('bench: the RSS of a steady run at a mark, the median of the samples around it', () => {
  it('takes the median within ±5 s, ignores one transient, and says NaN when there is no sample', () => {
    const samples = Array.from({ length: 40 }, (_, i) => ({ atS: i + 1, rssMb: 300 + (i % 3) }));
    samples[29] = { atS: 30, rssMb: 380 }; // a fetch's buffers at the mark itself
    assert.deepEqual(rssAround(samples, 30), { atS: 30, rssMb: 301 });
    assert.equal(rssAround(samples, 30, 0).rssMb, 380);
    assert.ok(Number.isNaN(rssAround(samples, 100).rssMb));
  });
});
