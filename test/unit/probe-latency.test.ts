import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Kafka } from 'kafkajs';
import { Probe, type ProbeSample } from '../../src/observe/probe.js';
import { newHistogram, record, summarize } from '../../src/observe/latency.js';

describe('the probe (duplicates, generations, re-deliveries)', () => {
  const make = () => {
    const samples: ProbeSample[] = [];
    const enriched: number[] = [];
    const probe = new Probe({ kafka: undefined as unknown as Kafka, groupId: 'g', enrichedTopic: 'run.enriched', dlqTopic: 'run.dlq', idPrefix: 'run', onSample: (s) => samples.push(s), onEnriched: (seq) => enriched.push(seq) });
    let offset = 0;
    const rec = (seq: number, o: { generation?: number; offset?: number; value?: string; intended?: number } = {}) => ({
      offset: String(o.offset ?? offset++),
      value: Buffer.from(o.value ?? `{"event_id":"run-${seq.toString(36)}","email":"h_x"}`),
      headers: { 'cb-generation': String(o.generation ?? 0), 'cb-intended-ms': String(o.intended ?? 1_000), 'cb-raw-append-ms': '1500' },
      timestamp: '1750',
    });
    return { probe, samples, enriched, rec };
  };
  it('a sequence seen twice in one generation is a duplicate; in a new generation (a replay) it is not', () => {
    const { probe, rec, enriched, samples } = make();
    probe.accept('run.enriched', 0, rec(35), 2_000);
    probe.accept('run.enriched', 0, rec(36), 2_000);
    probe.accept('run.enriched', 1, rec(35, { generation: 1 }), 2_000);
    assert.equal(probe.stats.duplicates, 0);
    probe.accept('run.enriched', 2, rec(35), 2_000);
    assert.equal(probe.stats.duplicates, 1);
    assert.equal(probe.stats.enriched, 4);
    // Only the duplicate sighting is marked (the run keeps it out of the latency figures).
    assert.deepEqual(samples.map((x) => x.duplicate), [false, false, false, true]);
    assert.deepEqual(enriched, [35, 36, 35, 35]);
    // The duplicate names both copies: where each sits, which producer (id/epoch) wrote it, and from which raw record.
    assert.deepEqual(probe.duplicateExamples, [{ seq: 35, generation: 0, first: 'run.enriched[0]@0, producer not reported', copy: 'run.enriched[2]@3, producer not reported, from raw ?:?' }]);
    const batchContext = { producerId: '7', producerEpoch: 3, inTransaction: true };
    probe.accept('run.enriched', 4, { ...rec(36), batchContext, headers: { ...rec(36).headers, 'cb-source-partition': '5', 'cb-source-offset': '99' } } as never, 2_000);
    assert.equal(probe.duplicateExamples[1].copy, 'run.enriched[4]@4, producer 7/3 (transactional), from raw 5:99');
  });
  it('lineage: an enriched record without every lineage header is counted; DLQ records carry their source position for the bad-record check', () => {
    const { probe, rec } = make();
    const lineage = { 'cb-schema-version': '1', 'cb-enrichment-version': 'v1', 'cb-source-partition': '2', 'cb-source-offset': '41' };
    const full = { ...rec(1), headers: { ...rec(1).headers, ...lineage } };
    probe.accept('run.enriched', 0, full, 2_000);
    probe.accept('run.enriched', 0, rec(2), 2_000);
    assert.equal(probe.stats.lineageMissing, 1);
    probe.accept('run.dlq', 0, { ...rec(3), headers: { ...rec(3).headers, 'cb-source-partition': '4', 'cb-source-offset': '17', 'cb-dlq-reason': 'wrong_type' } }, 2_000);
    assert.deepEqual([...probe.dlqBySource], [['4:17', 'wrong_type']]);
    assert.equal(probe.stats.lineageMissing, 1, 'DLQ records are not audited for enrichment lineage');
  });
  it('a re-read of an offset the probe already saw (its own group rebalanced) is a re-delivery, not a duplicate', () => {
    const { probe, rec, samples } = make();
    probe.accept('run.enriched', 0, rec(1, { offset: 10 }), 2_000);
    probe.accept('run.enriched', 0, rec(2, { offset: 11 }), 2_000);
    assert.equal(probe.accept('run.enriched', 0, rec(1, { offset: 10 }), 2_000), 'redelivered');
    assert.notEqual(probe.accept('run.enriched', 1, rec(3, { offset: 10 }), 2_000), 'redelivered', 'another partition has its own offsets');
    assert.equal(probe.stats.redelivered, 1);
    assert.equal(probe.stats.duplicates, 0);
    assert.equal(samples.length, 3);
  });
  it('samples carry intended time, enrichment time from the broker timestamps, kind and generation; DLQ, PII and unparsable counted', () => {
    const { probe, rec } = make();
    const s = probe.accept('run.dlq', 0, rec(7, { generation: 2, intended: 900 }), 2_000) as ProbeSample;
    assert.deepEqual(s, { kind: 'dlq', intendedMs: 900, seenMs: 2_000, enrichMs: 250, generation: 2, duplicate: false });
    probe.accept('run.enriched', 0, rec(8, { value: '{"event_id":"run-8","email":"ann@example.com"}' }), 2_000);
    probe.accept('run.enriched', 0, rec(9, { value: 'not json' }), 2_000);
    assert.deepEqual([probe.stats.dlq, probe.stats.enriched, probe.stats.piiLeaks, probe.stats.unparsable], [1, 2, 1, 1]);
  });
  it('an enrichment time below 0 (the output broker\'s clock behind the raw one\'s) is kept as read and counted', () => {
    const { probe, rec } = make();
    const r = rec(3);
    const s = probe.accept('run.enriched', 0, { ...r, timestamp: '1400' }, 2_000) as ProbeSample;
    assert.equal(s.enrichMs, -100);
    probe.accept('run.enriched', 0, rec(4), 2_000);
    assert.equal(probe.stats.negativeEnrichMs, 1);
  });
});

describe('latency recording (HdrHistogram, whole ms)', () => {
  it('rounds to whole ms, clamps below 0 and above one hour, and reports percentiles of a hand-computed set', () => {
    const h = newHistogram();
    // 1..100 ms: p50 = 50, p90 = 90, p99 = 99, max 100 (3 significant digits are exact here).
    for (let ms = 1; ms <= 100; ms++) record(h, ms - 0.4);
    const s = summarize(h)!;
    assert.deepEqual([s.count, s.p50Ms, s.p90Ms, s.p99Ms, s.maxMs, s.meanMs], [100, 50, 90, 99, 100, 50.5]);
    const c = newHistogram();
    record(c, -5);
    record(c, 5_000_000);
    const cs = summarize(c)!;
    assert.equal(cs.count, 2);
    assert.ok(cs.maxMs >= 3_600_000 && cs.maxMs < 3_604_000, `clamped to one hour (within the histogram's precision): ${cs.maxMs}`);
    assert.equal(summarize(newHistogram()), null, 'nothing recorded: null, never 0');
  });
});
