import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderMarkdown } from '../../src/report/markdown.js';
import { evaluate } from '../../src/score/evaluate.js';
import { isMeasured, type Results } from '../../src/run/results.js';
import { evaluateGates } from '../../src/score/gates.js';
import { asProfile, storageCost } from '../../src/score/profiles.js';
import { headroomResult, recorded, scaleOut } from './recorded.js';

/** The results.json recorded from a real sandbox run (apache-kafka, RF 3, 7 days retention). */
const retained = 2504905699967.9995; // its disk projection: average retained bytes (all replicas)

describe('platform profiles (pure, on recorded results)', () => {
  it('costs storage per profile: every replica on disks, a remote copy, or one copy in object storage', () => {
    const r = recorded();
    const kafka = storageCost('apache-kafka', r, true)!;
    assert.deepEqual(kafka.lines.map((l) => [l.tier, l.bytes]), [['broker disks', retained]]);
    assert.equal(kafka.usdPerMonth.toFixed(2), '200.39'); // 2504.9 GB × $0.08
    const tiered = storageCost('tiered', r, true)!;
    assert.deepEqual(tiered.lines.map((l) => [l.tier, Math.round(l.bytes)]), [['broker disks', Math.round(retained)], ['remote tier', Math.round(retained / 3)]]);
    assert.equal(tiered.usdPerMonth.toFixed(2), (200.39245599744 + 19.204277033).toFixed(2));
    r.scenario.spec.topics.local_retention = r.topics.retentionMs / 7; // one day of seven stays local
    assert.equal(storageCost('tiered', r, true)!.lines[0].bytes, retained / 7);
    const automq = storageCost('automq', r, true)!;
    assert.deepEqual(automq.lines.map((l) => [l.tier, Math.round(l.bytes)]), [['object storage', Math.round(retained / 3)]]);
    assert.equal(automq.usdPerMonth.toFixed(2), '19.20'); // 835.0 GB × $0.023
    assert.equal(automq.measuredOnProfile, false, 'AutoMQ is never measured here');
    r.scenario.spec.price.object_storage_per_gb_month = 0.046;
    assert.equal(storageCost('automq', r, true)!.usdPerMonth.toFixed(2), '38.41');
  });

  it('AutoMQ re-read of a recorded run: no replication traffic, zone-aligned clients, marked modelled', () => {
    const r = recorded();
    const before = r.crossZone;
    assert.ok(isMeasured(before));
    const a = asProfile(r, 'automq');
    assert.equal(a.cluster.profile, 'automq');
    assert.match(a.cluster.profileSource!, /^modelled: a run measured on apache-kafka/);
    assert.ok(isMeasured(a.crossZone));
    const t = a.crossZone.total;
    assert.deepEqual([t.produce.bytes, t.produce.crossZoneBytes, t.replication.bytes, t.consume.bytes, t.consume.crossZoneBytes, t.crossZoneBytes, t.costUsd],
      [29785896, 0, 0, 23994449, 0, 0, 0]);
    assert.equal(t.totalBytes, 29785896 + 23994449);
    assert.equal(a.crossZone.assumptions.some((x) => /MODELLED, not measured/.test(x)), true);
    // The recorded run itself is untouched, and its own profile reads it as measured.
    assert.equal(isMeasured(r.crossZone) && r.crossZone.total.replication.bytes, 59571792);
    const md = renderMarkdown(a, evaluate(a, evaluateGates(a)));
    assert.match(md, /Profile `automq` \(modelled: .*\) — \*\*figures that depend on it are MODELLED, not measured\*\*/);
    assert.match(md, /\| object storage \| 835\.0 \| \$0\.023\/GB-month \| \$19\.20 \|/);
    const own = renderMarkdown(r, evaluate(r, evaluateGates(r)));
    assert.doesNotMatch(own, /MODELLED, not measured\*\*/);
    assert.match(own, /\| broker disks \| 2504\.9 \| \$0\.08\/GB-month \| \$200\.39 \|/);
  });

  it('AutoMQ re-read of a scale-out: no retained bytes move, marked modelled, and it is no evidence of health', () => {
    const r = recorded();
    const move = scaleOut({ headroom: headroomResult(20_000, 26_000) });
    r.elasticity = [move];
    const a = asProfile(r, 'automq');
    const [m] = a.elasticity!;
    assert.deepEqual([m.bytesMovedLogDirs, m.bytesMovedPerGbRetained, m.bytesMovedNetwork, m.moveMs, m.capacityUsableAfterMs, m.headroom], [0, 0, null, null, null, null]);
    assert.equal(m.modelled, 'modelled, not measured: on AutoMQ\'s shared storage the 24 replica move(s) measured on apache-kafka (84.2 MB there) copy no retained bytes — partitions change brokers by metadata; duration and headroom need a real AutoMQ cluster');
    assert.equal(r.elasticity[0].bytesMovedLogDirs, 84_200_000, 'the recorded run is untouched');
    const elasticityRow = (x: Results) => evaluate(x, evaluateGates(x)).checklist.find((c) => c.item === 'Elasticity')!;
    assert.match(elasticityRow(a).evidence.join('\n'), /add-broker \(scale-out, node\(s\) 4\): modelled, not measured/);
    // Without the burst phase the row rests on the move alone: measured → yes, modelled → not measured.
    const noBurst = (x: Results): Results => ({ ...x, phases: x.phases.filter((p) => p.kind !== 'burst') });
    assert.equal(elasticityRow(noBurst(r)).healthy, 'yes');
    assert.equal(elasticityRow(noBurst(a)).healthy, 'not measured');
    const md = renderMarkdown(a, evaluate(a, evaluateGates(a)));
    assert.match(md, /\*\*add-broker\*\*: modelled, not measured: on AutoMQ's shared storage/);
    assert.doesNotMatch(md, /Headroom gained by add-broker/);
  });
});
