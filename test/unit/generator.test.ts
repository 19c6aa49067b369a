import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ClickstreamGenerator, DEFAULT_START_MS, DRAW_SLOTS, Drawn, packDrawn, profileRecord, unpackDrawn, type GeneratedEvent } from '../../src/generate/clickstream.js';
import { buildPools } from '../../src/generate/pools.js';
import { BOT_UA } from '../../src/enrich/enricher.js';
import * as corpus from '../../src/generate/vocabulary.js';
import { drawCorpus, installedFakerVersion, renderCorpus } from '../../src/generate/vocabulary-draw.js';
import { loadScenario } from '../../src/scenario/load.js';
import { normalizedMix } from '../../src/generate/mix.js';
import { collectStats } from '../../src/generate/stats.js';
import { parseScenario } from '../../src/scenario/load.js';
import { BAD_RECORD_KINDS, EVENT_TYPES } from '../../src/scenario/schema.js';

const BASE = `name: g
duration: 60s
traffic:
  base_rate: 2000
  arrivals: uniform
  bursts:
    - {name: sale, kind: flash-sale, at: 20s, duration: 10s, multiplier: 5}
population: {users: 5000, products: 2000, pages: 300, campaigns: 5, bots: 20}
`;

function scenarioOf(extra = '', seed = 11, base = BASE) {
  return parseScenario(`${base}seed: ${seed}\n${extra}`).scenario;
}

function take(gen: ClickstreamGenerator, n: number): GeneratedEvent[] {
  const out: GeneratedEvent[] = [];
  for (let i = 0; i < n; i++) out.push(gen.next());
  return out;
}

const newGen = (s = scenarioOf()) => new ClickstreamGenerator(s, { startMs: DEFAULT_START_MS, idPrefix: 'r' });

describe('clickstream generator', () => {
  it('same seed → byte-identical output; another seed → different bytes', () => {
    const a = take(newGen(), 20_000).map((e) => e.value).join('\n');
    const b = take(newGen(), 20_000).map((e) => e.value).join('\n');
    const c = take(newGen(scenarioOf('', 12)), 20_000).map((e) => e.value).join('\n');
    assert.equal(a, b);
    assert.notEqual(a, c);
  });

  it('the stream of a seed is pinned: the same bytes as every earlier version since the vocabulary came from the committed corpus (a change to the generator that changes them fails here)', () => {
    // Fixtures users keep depend on it: a change that alters the stream must be deliberate (update the hash and say so).
    const h = createHash('sha256');
    const gen = newGen();
    for (let i = 0; i < 20_000; i++) h.update(gen.next().value + '\n');
    assert.equal(h.digest('hex'), '4b8c2ec715b1486aa114752a1605c1ef128c94b598aa7ca3322dd26bee6247a4');
  });

  it('the achieved rate inside the burst window is base × multiplier within ±3 %, and 2000/s outside', () => {
    const s = scenarioOf();
    const stats = collectStats(newGen(s), s, {});
    const inBurst = stats.perSecond.filter((p) => p.second >= 20 && p.second < 30);
    const before = stats.perSecond.filter((p) => p.second < 20);
    for (const p of inBurst) assert.ok(Math.abs(p.generatedEvents - 10_000) <= 300, `second ${p.second}: ${p.generatedEvents}`);
    for (const p of before) assert.ok(Math.abs(p.generatedEvents - 2_000) <= 60, `second ${p.second}: ${p.generatedEvents}`);
    assert.ok(stats.maxRateDeviation < 0.03);
  });

  it('poisson arrivals (the default): exponential gaps with mean 1/rate, per-second counts spread like a Poisson count, same content, deterministic by seed', () => {
    const p = scenarioOf().traffic;
    assert.equal(parseScenario('name: d\nduration: 1s\ntraffic: {base_rate: 10}\n').scenario.traffic.arrivals, 'poisson', 'the default');
    const flat = 'name: g\nduration: 30s\npopulation: {users: 5000, products: 2000, pages: 300, campaigns: 5, bots: 20}\n';
    const poisson = scenarioOf(`traffic: {base_rate: 2000, arrivals: poisson}\n`, 11, flat);
    assert.equal(p.arrivals, 'uniform');
    const a = take(newGen(poisson), 40_000);
    const b = take(newGen(poisson), 40_000);
    assert.deepEqual(a.map((e) => e.intendedMs), b.map((e) => e.intendedMs), 'same seed, same arrival times');
    // The content does not depend on the arrivals: same events as the uniform schedule, at other times.
    const u = take(newGen(scenarioOf(`traffic: {base_rate: 2000, arrivals: uniform}\n`, 11, flat)), 40_000);
    assert.deepEqual(a.map((e) => e.type + e.key), u.map((e) => e.type + e.key));
    // 40 000 events at 2 000/s: ~20 s. Gaps: mean 0.5 ms, standard deviation ≈ mean (exponential), so
    // per-second counts have variance ≈ mean (index of dispersion ≈ 1); uniform spacing has ≈ 0.
    const perSecond = (ev: GeneratedEvent[]) => {
      const n = new Map<number, number>();
      for (const e of ev) n.set(Math.floor((e.intendedMs - DEFAULT_START_MS) / 1000), (n.get(Math.floor((e.intendedMs - DEFAULT_START_MS) / 1000)) ?? 0) + 1);
      const full = [...n.entries()].filter(([sec]) => sec < 19).map(([, c]) => c);
      const mean = full.reduce((x, y) => x + y, 0) / full.length;
      return { mean, dispersion: full.reduce((x, c) => x + (c - mean) ** 2, 0) / (full.length - 1) / mean };
    };
    const pp = perSecond(a);
    assert.ok(Math.abs(pp.mean - 2000) < 40, `mean ${pp.mean}`);
    assert.ok(pp.dispersion > 0.3 && pp.dispersion < 3, `poisson dispersion ${pp.dispersion}`);
    assert.ok(perSecond(u).dispersion < 0.01, 'uniform: the same count every second');
    const span = a[a.length - 1].intendedMs - a[0].intendedMs;
    assert.ok(Math.abs(span - 20_000) < 400, `40 000 events span ${span} ms`);
  });

  it('intended times are non-decreasing, start at startMs and follow 1/rate spacing', () => {
    const ev = take(newGen(), 5_000);
    assert.equal(ev[0].intendedMs, DEFAULT_START_MS);
    for (let i = 1; i < ev.length; i++) assert.ok(ev[i].intendedMs >= ev[i - 1].intendedMs);
    assert.equal(ev[4_000].intendedMs - DEFAULT_START_MS, 2_000);
  });

  it('the event mix of people matches the configured mix within ±1 % (absolute)', () => {
    const s = scenarioOf('events:\n  mix: {page_view: 0.3, search: 0.1, product_view: 0.3, add_to_cart: 0.1, checkout: 0.05, consent_change: 0.05, campaign_touch: 0.05, identity_update: 0.03, profile_update: 0.02}\n');
    const stats = collectStats(newGen(s), s, { events: 200_000 });
    const want = normalizedMix(s);
    for (const t of EVENT_TYPES) assert.ok(Math.abs(stats.mix[t] - want[t]) <= 0.01, `${t}: ${stats.mix[t]} vs ${want[t]}`);
    assert.ok(Math.abs(stats.botShare - s.population.bot_share) <= 0.01, `bot share ${stats.botShare}`);
  });

  it('every event is valid JSON with the documented fields, unless it was spoiled on purpose', () => {
    const required = ['event_id', 'event_type', 'schema_version', 'event_time', 'intended_time', 'anonymous_id', 'user_id', 'session_id', 'url', 'referrer', 'user_agent', 'ip', 'device', 'consent'];
    for (const e of take(newGen(), 20_000)) {
      if (e.bad) continue;
      const o = JSON.parse(e.value);
      for (const f of required) assert.ok(f in o, `${f} missing in ${e.value}`);
      assert.equal(o.event_type, e.type);
      assert.equal(o.anonymous_id, e.key);
      assert.equal(o.intended_time, e.intendedMs);
      if (e.type === 'product_view' || e.type === 'add_to_cart') assert.match(o.product_id, /^p[0-9a-z]+$/);
      if (e.type === 'campaign_touch') assert.match(o.campaign_id, /^c\d+$/);
    }
  });

  it('injects each bad-record kind, each broken the way its name says', () => {
    const s = scenarioOf('bad_records: {rate: 0.05, oversized_bytes: 30000}\n');
    const seen = new Set<string>();
    for (const e of take(newGen(s), 20_000)) {
      if (!e.bad) continue;
      seen.add(e.bad);
      switch (e.bad) {
        case 'malformed_json':
          assert.throws(() => JSON.parse(e.value));
          break;
        case 'missing_field':
          assert.equal('event_id' in JSON.parse(e.value), false);
          break;
        case 'wrong_type':
          assert.equal(typeof JSON.parse(e.value).event_time, 'string');
          break;
        case 'unknown_event_type':
          assert.equal(JSON.parse(e.value).event_type, 'teleport');
          break;
        case 'oversized':
          assert.ok(Buffer.byteLength(e.value) >= 30_000);
          JSON.parse(e.value);
          break;
      }
    }
    assert.deepEqual([...seen].sort(), [...BAD_RECORD_KINDS].sort());
  });

  it('late profile updates carry an event time before their intended time; others do not', () => {
    const s = scenarioOf('events:\n  late_profile_updates: {share: 0.5, median_delay: 3s, sigma: 0.5}\n');
    let late = 0;
    for (const e of take(newGen(s), 50_000)) {
      if (e.bad) continue;
      const o = JSON.parse(e.value);
      if (e.lateMs > 0) {
        late++;
        assert.equal(e.type, 'profile_update');
        assert.equal(o.intended_time - o.event_time, e.lateMs);
      } else assert.equal(o.event_time, o.intended_time);
    }
    assert.ok(late > 100, `late updates: ${late}`);
  });

  it('a login (identity_update) makes the visitor\'s later events carry the user id; sessions are per visitor', () => {
    const s = scenarioOf('', 11, BASE.replace('bots: 20}', 'bots: 20, anonymous_share: 1}'));
    const lastUser = new Map<string, string | null>();
    let merges = 0;
    for (const e of take(newGen(s), 30_000)) {
      if (e.bad || e.visitor < 0) continue;
      const o = JSON.parse(e.value);
      assert.ok(o.session_id.startsWith(`${o.anonymous_id}.`));
      if (lastUser.get(e.key)) assert.equal(o.user_id, lastUser.get(e.key), 'once logged in, stays logged in');
      if (e.type === 'identity_update') {
        merges++;
        lastUser.set(e.key, o.merged_user_id);
      } else if (!lastUser.get(e.key)) {
        if (e.type === 'profile_update') lastUser.set(e.key, o.profile_user_id);
        else assert.equal(o.user_id, null, 'anonymous before login');
      }
    }
    assert.ok(merges > 50);
  });

  it('a bot burst concentrates its extra events on bot_keys keys', () => {
    const s = parseScenario(`name: b\nduration: 20s\ntraffic:\n  base_rate: 1000\n  bursts:\n    - {kind: bot, at: 5s, duration: 10s, multiplier: 4, bot_keys: 3}\npopulation: {users: 5000, products: 500, bots: 50, bot_share: 0}\n`).scenario;
    const before = new Set<string>();
    const during = new Map<string, number>();
    let duringTotal = 0;
    for (const e of take(newGen(s), 20_000)) {
      const t = e.intendedMs - DEFAULT_START_MS;
      if (t < 5_000 && e.visitor < 0) before.add(e.key);
      if (t >= 5_000 && t < 15_000) {
        duringTotal++;
        if (e.visitor < 0) during.set(e.key, (during.get(e.key) ?? 0) + 1);
      }
    }
    assert.equal(before.size, 0, 'no bots before the burst with bot_share 0');
    assert.equal(during.size, 3);
    const botEvents = [...during.values()].reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(botEvents / duringTotal - 0.75) < 0.02, `bot share during burst ${botEvents / duringTotal}`);
  });
});

describe('generator: what an event says matches the pools at that event', () => {
  it('each profiles-topic record equals profileRecord of the profile as it is at that event; user ids as JSON', () => {
    const { scenario } = loadScenario('scenarios/quickstart.yaml');
    const pools = buildPools(scenario);
    const g = new ClickstreamGenerator({ ...scenario, duration: 1e12 }, { startMs: DEFAULT_START_MS, idPrefix: 'p', pools });
    let profiles = 0;
    let identified = 0;
    for (let i = 0; i < 200_000 && profiles < 2_000; i++) {
      const e = g.next();
      if (e.mirror?.kind === 'profiles') {
        profiles++;
        assert.equal(e.mirror.value, profileRecord(pools.visitors.profile(e.visitor), e.intendedMs - e.lateMs));
      }
      if (!e.bad && e.visitor >= 0) {
        const v = JSON.parse(e.value) as { user_id: string | null; event_time: number; intended_time: number };
        if (v.user_id !== null) {
          identified++;
          assert.equal(v.user_id, pools.visitors.profile(e.visitor).user_id);
        }
        assert.equal(v.intended_time, e.intendedMs);
        assert.equal(v.event_time, e.intendedMs - e.lateMs);
      }
    }
    assert.ok(profiles >= 500, `profile updates seen: ${profiles}`);
    assert.ok(identified > 1_000, `identified events seen: ${identified}`);
  });

  it('mirrors: false (what `generate` asks for) changes nothing but the mirror records: the same events, byte for byte, none mirrored', () => {
    const { scenario } = loadScenario('scenarios/quickstart.yaml');
    const s = { ...scenario, duration: 1e12 };
    const withMirrors = new ClickstreamGenerator(s, { startMs: DEFAULT_START_MS, idPrefix: 'm' });
    const without = new ClickstreamGenerator(s, { startMs: DEFAULT_START_MS, idPrefix: 'm', mirrors: false });
    let mirrored = 0;
    for (let i = 0; i < 50_000; i++) {
      const a = withMirrors.next();
      const b = without.next();
      if (a.mirror) mirrored++;
      assert.equal(b.mirror, null);
      assert.deepEqual({ ...b, mirror: a.mirror }, a);
    }
    assert.ok(mirrored > 500, `events with a mirror record: ${mirrored}`);
  });
});

describe('generator shards (issue #20: load workers)', () => {
  // Bad records, a flash sale and a bot burst, late profile updates, logins, consent changes: all state the shards must keep alike.
  const s = () => scenarioOf('bad_records: {rate: 0.01}\n', 11, `name: g
duration: 30s
traffic:
  base_rate: 1500
  bursts:
    - {name: sale, kind: flash-sale, at: 5s, duration: 5s, multiplier: 3}
    - {kind: bot, at: 15s, duration: 5s, multiplier: 2, bot_keys: 3}
population: {users: 3000, products: 800, pages: 200, campaigns: 5, bots: 20}
`);
  const until = (gen: ClickstreamGenerator) => {
    const out: GeneratedEvent[] = [];
    while (!gen.done()) {
      const at = gen.nextOffsetMs;
      const e = gen.next();
      assert.equal(e.intendedMs, DEFAULT_START_MS + Math.round(at), 'nextOffsetMs is the time of the event next() returns');
      out.push(e);
    }
    return out;
  };
  const line = (e: GeneratedEvent) => JSON.stringify([e.seq, e.intendedMs, e.key, e.value, e.type, e.bad, e.visitor, e.lateMs, e.mirror]);

  for (const of of [2, 3, 5]) {
    it(`the union of ${of} shards is the single stream: same events, ids and bytes; each visitor in one shard; in order within a shard`, () => {
      const single = until(new ClickstreamGenerator(s(), { startMs: DEFAULT_START_MS, idPrefix: 'r' }));
      const shards = Array.from({ length: of }, (_, index) => {
        const g = new ClickstreamGenerator(s(), { startMs: DEFAULT_START_MS, idPrefix: 'r', shard: { index, of } });
        const events = until(g);
        // Every event of the single stream drawn (and the few past the end, up to the next owned one).
        assert.ok(g.skipped + events.length >= single.length && g.skipped + events.length < single.length + 200, `${g.skipped} + ${events.length} drawn`);
        return events;
      });
      const union = shards.flat().sort((a, b) => a.seq - b.seq).map(line);
      assert.equal(union.length, single.length);
      assert.deepEqual(union, single.map(line));
      const owner = new Map<string, number>();
      shards.forEach((events, i) => {
        for (let k = 1; k < events.length; k++) assert.ok(events[k].seq > events[k - 1].seq && events[k].intendedMs >= events[k - 1].intendedMs);
        for (const e of events) {
          assert.equal(owner.get(e.key) ?? i, i, `visitor ${e.key} in two shards`);
          owner.set(e.key, i);
        }
        assert.ok(events.length > single.length / of / 3, `shard ${i} of ${of} holds ${events.length} of ${single.length}`);
      });
      assert.ok(single.some((e) => e.bad) && single.some((e) => e.mirror) && single.some((e) => e.visitor < 0));
    });
  }

  for (const [of, block, mirrors] of [[2, 1, false], [3, 64, false], [4, 1000, true]] as const) {
    it(`draws made once, packed and rendered by ${of} other generators in blocks of ${block} events (generate's threads, mirrors ${mirrors ? 'on' : 'off'}): the single stream`, () => {
      const single = until(new ClickstreamGenerator(s(), { startMs: DEFAULT_START_MS, idPrefix: 'r', mirrors }));
      const drawer = new ClickstreamGenerator(s(), { startMs: DEFAULT_START_MS, idPrefix: 'r', mirrors });
      const renderers = Array.from({ length: of }, () => new ClickstreamGenerator(s(), { startMs: DEFAULT_START_MS, idPrefix: 'r', mirrors }));
      const drawn = new Drawn();
      const packed = new Float64Array(block * DRAW_SLOTS);
      const rendered: GeneratedEvent[] = [];
      for (let b = 0; !drawer.done(); b++) {
        let count = 0;
        while (count < block && !drawer.done()) {
          drawer.draw(drawn);
          packDrawn(drawn, packed, count++ * DRAW_SLOTS);
        }
        // Another thread's Drawn: nothing left over from the drawer's.
        const into = new Drawn();
        for (let i = 0; i < count; i++) {
          unpackDrawn(packed, i * DRAW_SLOTS, into);
          rendered.push(renderers[b % of].render(into));
        }
      }
      assert.deepEqual(rendered.map(line), single.map(line));
    });
  }

  it('shard 0 of 1 is the single stream; an impossible shard is refused', () => {
    const a = take(new ClickstreamGenerator(s(), { startMs: DEFAULT_START_MS, idPrefix: 'r', shard: { index: 0, of: 1 } }), 2_000).map(line);
    assert.deepEqual(a, take(new ClickstreamGenerator(s(), { startMs: DEFAULT_START_MS, idPrefix: 'r' }), 2_000).map(line));
    assert.throws(() => new ClickstreamGenerator(s(), { startMs: DEFAULT_START_MS, idPrefix: 'r', shard: { index: 2, of: 2 } }), /0 ≤ index < of/);
    assert.throws(() => new ClickstreamGenerator(s(), { startMs: DEFAULT_START_MS, idPrefix: 'r', shard: { index: 3500, of: 4000 } }), /would own no visitor/);
  });
});

describe('vocabulary corpus (src/generate/vocabulary.ts)', () => {
  it('the committed corpus is what `npm run vocabulary` draws from the installed faker (edited by hand or a new faker: redraw it)', () => {
    const committed = readFileSync('src/generate/vocabulary.ts', 'utf8');
    assert.equal(renderCorpus(drawCorpus(), installedFakerVersion()), committed);
  });

  it('a seed picks its vocabulary from the corpus: people browse with browsers, names, places, brands and campaigns come from the lists; another seed picks other words', () => {
    const lists = Object.fromEntries(Object.entries(corpus).map(([k, v]) => [k, new Set(v.split('\n'))]));
    assert.ok(lists.USER_AGENTS.size > 500 && lists.FIRST_NAMES.size > 1_000 && lists.COMPANIES.size > 500);
    assert.ok(![...lists.USER_AGENTS].some((ua) => BOT_UA.test(ua)), 'no browser the enricher\'s bot rule flags');
    const scenario = { seed: 11, population: { users: 400, products: 300, pages: 50, campaigns: 7, bots: 3 } } as Parameters<typeof buildPools>[0];
    const p = buildPools(scenario);
    for (let i = 0; i < p.visitors.size; i++) {
      const v = p.visitors.profile(i);
      assert.ok(lists.FIRST_NAMES.has(v.first_name) && lists.LAST_NAMES.has(v.last_name) && lists.CITIES.has(v.city) && lists.COUNTRIES.has(v.country), JSON.stringify(v));
      assert.ok(lists.USER_AGENTS.has(JSON.parse(`{${p.visitors.fixedJson(i)}}`).user_agent));
    }
    for (const product of p.products) assert.ok(lists.COMPANIES.has(product.brand) && lists.DEPARTMENTS.has(product.category), JSON.stringify(product));
    assert.equal(p.campaigns.length, 7);
    for (const c of p.campaigns) assert.match(c.name, /^[a-z0-9-]+-[a-z0-9-]+-2026$/);
    const other = buildPools({ ...scenario, seed: 12 });
    assert.notDeepEqual(other.products.map((x) => x.brand), p.products.map((x) => x.brand));
    assert.deepEqual(buildPools(scenario).products, p.products, 'same seed, same words');
  });
});
