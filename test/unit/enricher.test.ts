import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Enricher, truncateIp, type RawRecord } from '../../src/enrich/enricher.js';
import { LookupTables } from '../../src/enrich/tables.js';
import { defaultEnrichmentConfig } from '../../src/scenario/schema.js';
import { ClickstreamGenerator, consentRecord, DEFAULT_START_MS, profileRecord } from '../../src/generate/clickstream.js';
import { loadScenario } from '../../src/scenario/load.js';

const ALL = { analytics: true, marketing: true, personalization: true };
let offset = 0;

function event(fields: Record<string, unknown>): RawRecord {
  const e = { event_id: `e${offset}`, event_type: 'page_view', schema_version: 1, event_time: 1_000, intended_time: 1_000, anonymous_id: 'anon1', user_id: null, session_id: 'anon1.1', ip: '10.1.2.3', user_agent: 'Mozilla/5.0', consent: ALL, ...fields };
  return { value: JSON.stringify(e), partition: 0, offset: String(offset++), timestampMs: 5 };
}

function setup(version: 'v1' | 'v2' = 'v1') {
  const tables = new LookupTables();
  const enricher = new Enricher(tables, version, defaultEnrichmentConfig());
  const profile = (user: string, effective: number, segment: string, arrivedMs = 0) =>
    tables.apply('profiles', user, JSON.stringify({ user_id: user, email: `${user}@example.com`, phone: '+1-555-000-0000', first_name: 'A', last_name: 'B', country: 'DE', segment, tier: 'free', effective_time: effective }), arrivedMs);
  const run = (fields: Record<string, unknown>) => {
    const out = enricher.process(event(fields), String(fields.anonymous_id ?? 'anon1'));
    return { out, body: out.kind === 'enriched' ? JSON.parse(String(out.value)) : null };
  };
  return { tables, enricher, profile, run };
}

describe('enrichment logic', () => {
  it('sends each kind of bad record to the DLQ with its reason and never stops', () => {
    const { enricher } = setup();
    const cases: [string | null, string][] = [
      ['{"event_id": "x", ', 'malformed_json'],
      [JSON.stringify({ event_type: 'page_view', schema_version: 1, event_time: 1, anonymous_id: 'a' }), 'missing_field'],
      [JSON.stringify({ event_id: 'x', event_type: 'page_view', schema_version: 1, event_time: 'yesterday', anonymous_id: 'a' }), 'wrong_type'],
      [JSON.stringify({ event_id: 'x', event_type: 'teleport', schema_version: 1, event_time: 1, anonymous_id: 'a' }), 'unknown_event_type'],
      [JSON.stringify({ event_id: 'x', event_type: 'page_view', schema_version: 1, event_time: 1, anonymous_id: 'a', pad: 'x'.repeat(20_000) }), 'oversized'],
      ['[1,2]', 'malformed_json'],
      [null, 'malformed_json'],
    ];
    for (const [value, reason] of cases) {
      const out = enricher.process({ value, partition: 2, offset: '7', timestampMs: 1 }, 'k');
      assert.equal(out.kind, 'dlq', String(value).slice(0, 30));
      assert.equal(out.reason, reason);
      assert.equal(out.headers['cb-dlq-reason'], reason);
      assert.equal(out.headers['cb-source-partition'], '2');
      assert.equal(out.headers['cb-source-offset'], '7');
    }
    assert.deepEqual(enricher.counters.dlq, { oversized: 1, malformed_json: 3, missing_field: 1, wrong_type: 1, unknown_event_type: 1 });
  });

  it('joins the profile valid at event time, withholds PII, adds catalog and lineage', () => {
    const { tables, profile, run } = setup();
    profile('u1', 0, 'casual');
    profile('u1', 5_000, 'vip');
    tables.apply('catalog', 'p9', JSON.stringify({ category: 'Books', brand: 'Acme', price: 12.5 }), 0);
    const early = run({ user_id: 'u1', event_time: 4_000, event_type: 'product_view', product_id: 'p9' });
    const late = run({ user_id: 'u1', event_time: 6_000 });
    assert.equal(early.body.profile.segment, 'casual');
    assert.equal(late.body.profile.segment, 'vip');
    assert.deepEqual(early.body.product, { category: 'Books', brand: 'Acme', price: 12.5 });
    for (const r of [early, late]) {
      const text = String(r.out.value);
      assert.ok(!text.includes('@example.com') && !text.includes('+1-555') && !('email' in r.body.profile) && !('first_name' in r.body.profile));
    }
    assert.equal(early.out.headers['cb-enrichment-version'], 'v1');
    assert.equal(early.out.headers['cb-raw-append-ms'], '5');
    assert.equal(early.out.headers['cb-source-partition'], '0');
  });

  it('counts a profile update that arrives after events that needed it as late; later events carry the new value', () => {
    const { enricher, profile, run } = setup();
    profile('u1', 0, 'casual');
    assert.equal(run({ user_id: 'u1', event_time: 1_000 }).body.profile.segment, 'casual');
    assert.equal(run({ user_id: 'u1', event_time: 2_000 }).body.profile.segment, 'casual');
    assert.equal(run({ user_id: 'u1', event_time: 3_000 }).body.profile.segment, 'casual');
    profile('u1', 1_500, 'vip', 4_000); // effective at 1.5 s, arrived at 4 s: two events were enriched too early
    assert.deepEqual(enricher.counters.lateProfile, { events: 2, updates: 1, maxLatenessMs: 2_500, totalLatenessMs: 2_500 });
    assert.equal(run({ user_id: 'u1', event_time: 3_500 }).body.profile.segment, 'vip');
  });

  it('judges lateness on a user\'s last 32 events only, and twice the same profile version gives the same output and counts', () => {
    const { enricher, profile, run, tables } = setup();
    profile('u1', 0, 'casual');
    for (let t = 1; t <= 40; t++) run({ user_id: 'u1', event_time: t * 1_000 });
    // Effective at 0.5 s, arriving now: all 40 events needed it, the stage remembers the last 32.
    profile('u1', 500, 'vip', 50_000);
    assert.equal(enricher.counters.lateProfile.events, 32);
    // Without personalization consent the profile drops its personalization fields (segment), event after event.
    tables.apply('consent', 'anon1', JSON.stringify({ analytics: true, marketing: true, personalization: false }), 0);
    const before = { ...enricher.counters.masked };
    const a = run({ user_id: 'u1', event_time: 60_000 });
    const b = run({ user_id: 'u1', event_time: 61_000 });
    assert.deepEqual(a.body.profile, b.body.profile);
    assert.equal(a.body.profile.segment, undefined);
    assert.equal(a.body.profile.tier, undefined);
    assert.equal(a.body.profile.country, 'DE');
    assert.equal(a.body.profile.email, undefined);
    assert.equal(enricher.counters.masked.personalizationDropped - before.personalizationDropped, 2);
    assert.equal(enricher.counters.masked.piiFieldsWithheld - before.piiFieldsWithheld, 8);
  });

  it('attributes to the last campaign touch, following an identity merge from anonymous to user', () => {
    const { tables, run } = setup();
    tables.apply('campaigns', 'c7', JSON.stringify({ name: 'spring', channel: 'email', cost_per_click: 0.4 }), 0);
    run({ anonymous_id: 'anonX', event_type: 'campaign_touch', campaign_id: 'c7', event_time: 1_000 });
    run({ anonymous_id: 'anonX', event_type: 'identity_update', merged_user_id: 'u42', event_time: 2_000 });
    // Same person on another device, logged in: the touch made while anonymous still counts.
    const later = run({ anonymous_id: 'anonY', user_id: 'u42', event_type: 'checkout', event_time: 3_000 });
    assert.deepEqual(later.body.attribution, { campaign_id: 'c7', channel: 'email', cost_per_click: 0.4, touched_at: 1_000 });
    assert.equal(later.body.person_id, 'u42');
    const unrelated = run({ anonymous_id: 'anonZ', event_time: 3_000 });
    assert.equal(unrelated.body.attribution, null);
    const beyondWindow = run({ anonymous_id: 'anonY', user_id: 'u42', event_time: 1_000 + 8 * 86_400_000 });
    assert.equal(beyondWindow.body.attribution, null);
  });

  it('pseudonymizes identifiers and truncates the IP without analytics consent; drops segment without personalization', () => {
    const { tables, profile, run, enricher } = setup();
    profile('u1', 0, 'vip');
    tables.apply('consent', 'anon1', JSON.stringify({ analytics: false, marketing: true, personalization: false }), 0);
    const r = run({ user_id: 'u1', session_id: 'anon1.3' });
    assert.match(r.body.user_id, /^h_/);
    assert.match(r.body.anonymous_id, /^h_/);
    assert.match(r.body.person_id, /^h_/);
    assert.match(r.body.session_id, /^h_/);
    assert.match(r.body.server_session.id, /^h_/);
    assert.equal(r.body.ip, '10.1.2.0');
    assert.ok(!String(r.out.value).includes('"u1"') && !String(r.out.value).includes('anon1'));
    assert.equal('segment' in r.body.profile, false);
    assert.equal('tier' in r.body.profile, false);
    assert.equal(r.body.profile.country, 'DE');
    assert.deepEqual(enricher.counters.masked, { pseudonymized: 1, ipTruncated: 1, personalizationDropped: 1, piiFieldsWithheld: 4 });
    // The same id always maps to the same pseudonym (joins still work downstream).
    assert.equal(run({ user_id: 'u1' }).body.user_id, r.body.user_id);
  });

  it('keeps identifiers with consent, and sessions split after 30 minutes of inactivity', () => {
    const { run } = setup();
    const a = run({ event_time: 0 });
    const b = run({ event_time: 29 * 60_000 });
    const c = run({ event_time: 29 * 60_000 + 31 * 60_000 });
    assert.equal(a.body.anonymous_id, 'anon1');
    assert.equal(a.body.ip, '10.1.2.3');
    assert.deepEqual([a.body.server_session, b.body.server_session, c.body.server_session], [{ id: 'anon1:1', seq: 1 }, { id: 'anon1:1', seq: 2 }, { id: 'anon1:2', seq: 1 }]);
  });

  it('scores risk by version: v2 flags velocity that v1 lets pass', () => {
    const v1 = setup('v1');
    const v2 = setup('v2');
    let r1;
    let r2;
    for (let i = 0; i < 15; i++) {
      r1 = v1.run({ anonymous_id: 'fast', event_time: 1_000 + i }).body.risk;
      r2 = v2.run({ anonymous_id: 'fast', event_time: 1_000 + i }).body.risk;
    }
    assert.deepEqual(r1, { score: 0, signals: [] });
    assert.deepEqual(r2, { score: 40, signals: ['user_velocity', 'no_referrer_burst'] });
    const bot = v1.run({ anonymous_id: 'b1', user_agent: 'python-requests/2.32.3' });
    assert.deepEqual(bot.body.risk, { score: 40, signals: ['bot_user_agent'] });
  });

  it('writes an event whose own fields stay as its JSON text with the fields appended: the same bytes as serializing it whole', () => {
    for (const [file, version] of [['scenarios/quickstart.yaml', 'v1'], ['scenarios/flash-sale.yaml', 'v2']] as const) {
      const { scenario } = loadScenario(file);
      const gen = new ClickstreamGenerator(scenario, { startMs: DEFAULT_START_MS, idPrefix: 'r' });
      const pools = gen.pools;
      const tables = [new LookupTables(), new LookupTables()];
      for (const t of tables) {
        for (let i = 0; i < pools.visitors.size; i++) {
          const p = pools.visitors.profile(i);
          t.apply('profiles', p.user_id, profileRecord(p, 0), 0);
          // Consent as the table has it, for three visitors in four (the others' events carry their own).
          if (i % 4) t.apply('consent', pools.visitors.anonymousId(i), consentRecord(gen.consentOf(i), 0), 0);
        }
        for (const p of pools.products) t.apply('catalog', p.product_id, JSON.stringify({ name: p.name, category: p.category, brand: p.brand, price: p.price_cents / 100 }), 0);
        for (const c of pools.campaigns) t.apply('campaigns', c.campaign_id, JSON.stringify({ name: c.name, channel: c.channel, cost_per_click: c.cost_per_click_cents / 100 }), 0);
      }
      const cfg = scenario.enrichment;
      const appending = new Enricher(tables[0], version, cfg);
      const whole = new Enricher(tables[1], version, cfg, true);
      const n = 30_000;
      for (let i = 0; i < n; i++) {
        const e = gen.next();
        if (e.mirror) for (const t of tables) t.apply(e.mirror.kind, e.mirror.key, e.mirror.value, e.intendedMs);
        // Now and then the event's own consent differs from the table's, or an added field is already there.
        let value = e.value;
        if (i % 97 === 0) value = value.replace('"personalization":true', '"personalization":false');
        if (i % 101 === 0) value = value.replace(/}$/, ',"risk":"raw"}');
        if (i % 89 === 0) value = value.replace(/"user_id":"[^"]*"/, '"user_id":null');
        const rec = { value: Buffer.from(value), partition: i % 12, offset: String(i), timestampMs: e.intendedMs + 3 };
        const a = appending.process(rec, e.key);
        const b = whole.process(rec, e.key);
        assert.equal(String(a.value), String(b.value), `${file} event ${i}`);
        assert.deepEqual(a.headers, b.headers);
        assert.equal(a.kind, b.kind);
      }
      assert.deepEqual(appending.counters, whole.counters);
      assert.equal(whole.appendedOutputs, 0);
      // Most events take the appending path (those without analytics consent are pseudonymized, so serialized whole).
      assert.ok(appending.appendedOutputs > 0.5 * appending.counters.enriched, `${file}: ${appending.appendedOutputs} of ${appending.counters.enriched} appended`);
      assert.ok(appending.counters.masked.pseudonymized > 0 && appending.counters.dlq.malformed_json > 0, file);
    }
  });

  it('truncates IPv4 addresses to a prefix', () => {
    assert.equal(truncateIp('192.168.17.250', 24), '192.168.17.0');
    assert.equal(truncateIp('192.168.17.250', 16), '192.168.0.0');
    assert.equal(truncateIp('255.255.255.255', 32), '255.255.255.255');
    assert.equal(truncateIp('::1', 24), 'redacted');
    // As the split-and-regex version it replaced reads them, on strings near the format.
    const reference = (ip: string, bits: number) => {
      const parts = ip.split('.');
      if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p))) return 'redacted';
      const n = parts.reduce((a, p) => a * 256 + Number(p), 0);
      const m = n - (n % 2 ** (32 - bits));
      return [m >>> 24, (m >>> 16) & 255, (m >>> 8) & 255, m & 255].join('.');
    };
    const alphabet = ['1', '9', '0', '25', '255', '999', '.', '.', '..', 'a', ' ', '-', '1234', ':', '٣'];
    for (let i = 0; i < 20_000; i++) {
      let ip = '';
      for (let j = 0, k = i; j < 1 + (i % 9); j++, k = Math.floor(k / 7) + j * 31) ip += alphabet[(k * 2654435761) % alphabet.length >>> 0];
      for (const bits of [8, 16, 24, 32]) assert.equal(truncateIp(ip, bits), reference(ip, bits), `${JSON.stringify(ip)} /${bits}`);
    }
    for (const ip of ['10.0.0.1', '1.2.3.4.', '.1.2.3', '1.2.3', '1..2.3', '001.002.003.004', '256.1.1.1', '']) {
      for (const bits of [8, 24, 32]) assert.equal(truncateIp(ip, bits), reference(ip, bits), `${JSON.stringify(ip)} /${bits}`);
    }
  });
});
