/**
 * The clickstream generator: deterministic by seed, open-loop (every event carries the time it
 * is intended to be sent, from the integrated rate curve), skewed (Zipf over visitors, products,
 * pages), stateful (sessions, logins that merge an anonymous visitor into a user, consent,
 * campaign touches, late profile updates) and with bad records injected on purpose.
 *
 * Hot path: one `next()` per event; it indexes pools and concatenates ready-made JSON fragments
 * (no faker call, no JSON.stringify of an object).
 */
import { BAD_RECORD_KINDS, EVENT_TYPES, type BadRecordKind, type EventType } from '../scenario/event-kinds.js';
import type { Scenario } from '../scenario/schema.js';
import { burstExtra, rateCurve, type RateCurve } from './curve.js';
import { buildPools, flat, type Pools, type Profile } from './pools.js';
import { normalizedMix } from './mix.js';
import { Rng, WeightedChoice } from './random.js';
import { ZipfSampler } from './zipf.js';

export const SCHEMA_VERSION = 1;

export interface GeneratedEvent {
  seq: number;
  /** Wall-clock ms (epoch) at which the open-loop schedule intends this event to be sent. */
  intendedMs: number;
  /** Record key: the visitor's anonymous id (stable across login), what the enrichment joins on. */
  key: string;
  /** The serialized record value (JSON, or deliberately broken JSON for bad records). */
  value: string;
  type: EventType;
  /** Set when this record was deliberately made invalid. */
  bad: BadRecordKind | null;
  /** Visitor index (≥ 0 humans, by Zipf rank − 1), or −1 − botIndex for bots. */
  visitor: number;
  /** For profile_update events: how late the update arrives (intended − event time), else 0. */
  lateMs: number;
  /**
   * The source-of-truth change behind a profile_update or consent_change, for the run to mirror
   * into the compacted lookup topic at the event's intended time (null for other events).
   */
  mirror: { kind: 'profiles' | 'consent'; key: string; value: string } | null;
}

export interface GeneratorOptions {
  /** Epoch ms at which the schedule starts (t = 0). */
  startMs: number;
  /** Prefix of event ids (the run id), so ids are unique across runs. */
  idPrefix: string;
  pools?: Pools;
  /**
   * Generate only shard `index` of `of` (0 ≤ index < of): the events of the single stream (same seed, same
   * ids, same values) whose visitor falls in this shard, so a session never spans shards and the union of
   * all shards is the single stream. Every shard still draws every event (the streams' state and random
   * draws stay the single stream's); only the owned events are serialized.
   */
  shard?: Shard;
  /** false: no `mirror` on the events (`generate` writes the events alone); default true. */
  mirrors?: boolean;
}

export interface Shard {
  index: number;
  of: number;
}

/** The shard a visitor belongs to (visitor ≥ 0 a person by Zipf rank − 1, < 0 a bot): spread by rank, so the hottest visitors land on different shards. */
export function shardOfVisitor(visitor: number, of: number): number {
  return visitor >= 0 ? visitor % of : (-1 - visitor) % of;
}

const CONSENT_JSON = [0, 1, 2, 3, 4, 5, 6, 7].map(
  (b) => flat(`{"analytics":${(b & 1) !== 0},"marketing":${(b & 2) !== 0},"personalization":${(b & 4) !== 0}}`),
);
const REFERRERS = ['', 'https://www.google.com/', 'https://www.bing.com/', 'https://www.instagram.com/', 'https://news.example.org/', 'https://duckduckgo.com/'];
const REFERRER_JSON = REFERRERS.map((r) => (r ? JSON.stringify(r) : 'null'));
/** The event types a bot sends, as indexes into EVENT_TYPES. */
const BOT_TYPE_INDEX = (['page_view', 'product_view', 'search'] as const).map((t) => EVENT_TYPES.indexOf(t));

/**
 * One event's draws and state changes as `ClickstreamGenerator.draw` made them: what `render` needs to build the
 * event (`a`, `b`: the event type's own draws, see typeDraws). Whole numbers; `intendedMs` and `lateMs` ms.
 */
export class Drawn {
  seq = 0;
  intendedMs = 0;
  lateMs = 0;
  visitor = 0;
  /** Index into EVENT_TYPES. */
  type = 0;
  session = 0;
  identified = 0;
  consent = 0;
  /** Product index (its URL), −1 when none. */
  product = -1;
  /** Page index when no product, else −1. */
  page = -1;
  referrer = 0;
  /** Index into the scenario's bad record kinds, −1 for a good record. */
  bad = -1;
  a = 0;
  b = 0;
}

/** Numbers per event in packed draws (packDrawn). */
export const DRAW_SLOTS = 14;

/** `d` as DRAW_SLOTS numbers at `out[at]` (for another thread's generator: unpackDrawn). */
export function packDrawn(d: Drawn, out: Float64Array, at: number): void {
  out[at] = d.seq;
  out[at + 1] = d.intendedMs;
  out[at + 2] = d.lateMs;
  out[at + 3] = d.visitor;
  out[at + 4] = d.type;
  out[at + 5] = d.session;
  out[at + 6] = d.identified;
  out[at + 7] = d.consent;
  out[at + 8] = d.product;
  out[at + 9] = d.page;
  out[at + 10] = d.referrer;
  out[at + 11] = d.bad;
  out[at + 12] = d.a;
  out[at + 13] = d.b;
}

/** A number read back as a small integer when it is one (V8 then turns it into a string as one). */
const whole = (x: number) => (x === (x | 0) ? x | 0 : x);

/** The draws that packDrawn put at `src[at]`, into `d`. */
export function unpackDrawn(src: Float64Array, at: number, d: Drawn): void {
  d.seq = whole(src[at]);
  d.intendedMs = src[at + 1];
  d.lateMs = whole(src[at + 2]);
  d.visitor = src[at + 3] | 0;
  d.type = src[at + 4] | 0;
  d.session = src[at + 5] | 0;
  d.identified = src[at + 6] | 0;
  d.consent = src[at + 7] | 0;
  d.product = src[at + 8] | 0;
  d.page = src[at + 9] | 0;
  d.referrer = src[at + 10] | 0;
  d.bad = src[at + 11] | 0;
  d.a = src[at + 12] | 0;
  d.b = src[at + 13] | 0;
}

export const DEFAULT_START_MS = Date.UTC(2026, 0, 1);

export class ClickstreamGenerator {
  readonly pools: Pools;
  readonly curve: RateCurve;
  private readonly rng: Rng;
  /** Poisson arrivals: exponential gaps drawn from this stream; null: evenly spaced. */
  private readonly arrivalRng: Rng | null;
  private readonly userZipf: ZipfSampler;
  private readonly productZipf: ZipfSampler;
  private readonly pageZipf: ZipfSampler;
  private readonly queryZipf: ZipfSampler;
  private readonly typeChoice: WeightedChoice;
  private readonly types: EventType[];
  private readonly badKinds: BadRecordKind[];
  private readonly botBursts: Scenario['traffic']['bursts'];
  private readonly botKeyOffset: number[];
  // Per-visitor state, in typed arrays (no object per visitor on the hot path).
  private readonly identified: Uint8Array;
  private readonly consent: Uint8Array;
  private readonly lastSeenMs: Float64Array;
  private readonly sessionNo: Uint32Array;
  private readonly lastCampaign: Int32Array;
  private seq = 0;
  /** The current event's draws (step's). */
  private readonly drawn = new Drawn();
  private tMs = 0;
  private readonly durationMs: number;
  private readonly shard: Shard | null;
  private readonly mirrors: boolean;
  /** Sharded: the next owned event, drawn ahead (its schedule time is what nextOffsetMs tells the driver), and its offset. */
  private ahead: GeneratedEvent | null = null;
  private aheadT = 0;
  /** Sharded: events of the single stream drawn and left to other shards. */
  skipped = 0;

  constructor(private readonly scenario: Scenario, private readonly opts: GeneratorOptions) {
    this.pools = opts.pools ?? buildPools(scenario);
    this.curve = rateCurve(scenario);
    this.durationMs = scenario.duration;
    const shard = opts.shard;
    if (shard && (!Number.isInteger(shard.of) || shard.of < 1 || !Number.isInteger(shard.index) || shard.index < 0 || shard.index >= shard.of)) {
      throw new Error(`shard ${shard.index} of ${shard.of}: expected whole numbers with 0 ≤ index < of`);
    }
    this.shard = shard && shard.of > 1 ? shard : null;
    this.mirrors = opts.mirrors ?? true;
    if (this.shard && this.shard.index >= scenario.population.users && this.shard.index >= scenario.population.bots) {
      throw new Error(`shard ${this.shard.index} of ${this.shard.of} would own no visitor (population: ${scenario.population.users} users, ${scenario.population.bots} bots)`);
    }
    const root = new Rng(scenario.seed);
    const stateRng = new Rng(root.fork());
    this.rng = new Rng(root.fork());
    // Arrival times from their own stream (forked last): the events' content is the same whichever arrivals.
    const arrivalSeed = root.fork();
    this.arrivalRng = scenario.traffic.arrivals === 'poisson' ? new Rng(arrivalSeed) : null;
    const pop = scenario.population;
    this.userZipf = new ZipfSampler(pop.users, pop.user_zipf);
    this.productZipf = new ZipfSampler(pop.products, pop.product_zipf);
    this.pageZipf = new ZipfSampler(this.pools.pagePaths.length, pop.page_zipf);
    this.queryZipf = new ZipfSampler(this.pools.searchQueries.length, 1.0);
    const mix = normalizedMix(scenario);
    this.types = [...EVENT_TYPES];
    this.typeChoice = new WeightedChoice(this.types.map((t) => mix[t]));
    this.badKinds = [...scenario.bad_records.kinds];
    this.botBursts = scenario.traffic.bursts.filter((b) => b.kind === 'bot');
    this.botKeyOffset = this.botBursts.map(() => stateRng.int(Math.max(1, pop.bots)));
    const n = pop.users;
    this.identified = new Uint8Array(n);
    this.consent = new Uint8Array(n);
    this.lastSeenMs = new Float64Array(n).fill(-Infinity);
    this.sessionNo = new Uint32Array(n);
    this.lastCampaign = new Int32Array(n).fill(-1);
    const c = pop.consent;
    for (let i = 0; i < n; i++) {
      this.identified[i] = stateRng.next() < 1 - pop.anonymous_share ? 1 : 0;
      this.consent[i] = (stateRng.next() < c.analytics ? 1 : 0) | (stateRng.next() < c.marketing ? 2 : 0) | (stateRng.next() < c.personalization ? 4 : 0);
    }
  }

  /** A visitor's consent bits right now (1 analytics, 2 marketing, 4 personalization). */
  consentOf(visitor: number): number {
    return this.consent[visitor];
  }

  /** Relative time (ms since start) of the next event (of this shard); > duration when the schedule is done. */
  get nextOffsetMs(): number {
    if (!this.shard) return this.tMs;
    if (!this.ahead) this.drawAhead();
    return this.aheadT;
  }

  done(): boolean {
    return this.nextOffsetMs >= this.durationMs;
  }

  /** The next event of the schedule (call `done()` first; past the duration the schedule continues at the curve's rate). */
  next(): GeneratedEvent {
    if (!this.shard) return this.step(-1);
    if (!this.ahead) this.drawAhead();
    const e = this.ahead!;
    this.ahead = null;
    return e;
  }

  /** Sharded: draw events of the single stream until one of this shard's, and keep it. */
  private drawAhead(): void {
    const { index, of } = this.shard ?? { index: 0, of: 1 };
    for (;;) {
      const t = this.tMs;
      const e = this.step(index, of);
      if (e !== null) {
        this.ahead = e;
        this.aheadT = t;
        return;
      }
      this.skipped++;
    }
  }

  /**
   * One event of the single stream: every draw and state change it makes; serialized when `shardIndex` is −1
   * (not sharded) or its visitor is in that shard of `shardOf`, else null.
   */
  private step(shardIndex: -1): GeneratedEvent;
  private step(shardIndex: number, shardOf: number): GeneratedEvent | null;
  private step(shardIndex: number, shardOf = 1): GeneratedEvent | null {
    const d = this.drawn;
    this.draw(d);
    // Another shard's event made the same draws and state changes, and builds no string.
    return shardIndex < 0 || shardOfVisitor(d.visitor, shardOf) === shardIndex ? this.render(d) : null;
  }

  /**
   * The next event's draws and state changes (every event of the single stream makes them, whoever serializes
   * it), into `out`: what `render` needs to build the event, here or in another thread's generator of the same
   * scenario and options (\`generate\`'s workers: packDrawn, unpackDrawn).
   */
  draw(out: Drawn): void {
    const rng = this.rng;
    const t = this.tMs;
    const rate = this.curve.rateAt(t);
    // Poisson: independent arrivals, exponential gaps with mean 1000/rate ms (the rate at this instant: a
    // non-homogeneous process following the curve); uniform: exactly 1000/rate ms apart.
    this.tMs = t + (this.arrivalRng ? -Math.log(1 - this.arrivalRng.next()) : 1) * (1000 / rate);
    const intendedMs = this.opts.startMs + Math.round(t);
    const seq = this.seq++;

    // Who: a bot burst's extra traffic, the background bot share, or a person (Zipf).
    let visitor: number;
    const botBurst = this.botBurstVisitor(t);
    if (botBurst >= 0 || (this.pools.bots.anonymousId.length > 0 && rng.next() < this.scenario.population.bot_share)) {
      visitor = -1 - (botBurst >= 0 ? botBurst : rng.int(this.pools.bots.anonymousId.length));
    } else {
      visitor = this.userZipf.sample(rng) - 1;
    }
    const type = visitor < 0 ? BOT_TYPE_INDEX[rng.int(BOT_TYPE_INDEX.length)] : this.typeChoice.pick(rng.next());
    let session = 0;
    let identified = 0;
    let consent = 0;
    let lateMs = 0;
    if (visitor >= 0) {
      if (intendedMs - this.lastSeenMs[visitor] > this.scenario.events.session_gap) this.sessionNo[visitor]++;
      this.lastSeenMs[visitor] = intendedMs;
      session = this.sessionNo[visitor];
      this.typeDraws(this.types[type], visitor, out);
      if (this.types[type] === 'profile_update' && rng.next() < this.scenario.events.late_profile_updates.share) {
        const late = this.scenario.events.late_profile_updates;
        lateMs = Math.max(1, Math.round(rng.logNormal(late.median_delay, late.sigma)));
      }
      identified = this.identified[visitor];
      consent = this.consent[visitor];
    } else {
      this.typeDraws(this.types[type], visitor, out);
    }
    out.page = out.product >= 0 ? -1 : this.pageZipf.sample(rng) - 1;
    out.referrer = rng.int(REFERRER_JSON.length);
    out.bad = this.scenario.bad_records.rate > 0 && rng.next() < this.scenario.bad_records.rate ? rng.int(this.badKinds.length) : -1;
    out.seq = seq;
    out.intendedMs = intendedMs;
    out.lateMs = lateMs;
    out.visitor = visitor;
    out.type = type;
    out.session = session;
    out.identified = identified;
    out.consent = consent;
  }

  /** The event whose draws `draw` put in `d`: its strings built from the pools (and a profile's change applied). */
  render(d: Drawn): GeneratedEvent {
    const seq = d.seq;
    const intendedMs = d.intendedMs;
    const lateMs = d.lateMs;
    const eventMs = intendedMs - lateMs;
    const visitor = d.visitor;
    const type = this.types[d.type];
    const consent = d.consent;
    const product = d.product;
    const pools = this.pools;
    const human = visitor >= 0;
    const fixed = human ? pools.visitors.fixedJson(visitor) : pools.bots.fixedJson[-1 - visitor];
    const key = human ? pools.visitors.anonymousId(visitor) : pools.bots.anonymousId[-1 - visitor];
    const session = human ? `${key}.${d.session}` : `${key}.0`;
    const userId = human && d.identified !== 0 ? pools.visitors.userIdJson(visitor) : 'null';
    const extra = this.typeFields(type, visitor, seq, consent, product, d.a, d.b);
    const url = product >= 0 ? `/p/${pools.products[product].product_id}` : pools.pagePaths[d.page];
    const idField = `"event_id":"${this.opts.idPrefix}-${seq.toString(36)}",`;
    let value = `{${idField}"event_type":"${type}","schema_version":${SCHEMA_VERSION},"event_time":${eventMs},"intended_time":${intendedMs},${fixed},"user_id":${userId},"session_id":"${session}","url":"${url}","referrer":${REFERRER_JSON[d.referrer]},"consent":${CONSENT_JSON[consent]}${extra}}`;

    let mirror: GeneratedEvent['mirror'] = null;
    if (this.mirrors && human && (type === 'profile_update' || type === 'consent_change')) {
      if (type === 'profile_update') {
        const p = pools.visitors.profile(visitor);
        mirror = { kind: 'profiles', key: p.user_id, value: profileRecord(p, eventMs) };
      } else mirror = { kind: 'consent', key, value: consentRecord(consent, eventMs) };
    }
    let bad: BadRecordKind | null = null;
    const badKind = d.bad;
    if (badKind >= 0) {
      bad = this.badKinds[badKind];
      value = this.spoil(value, bad, idField, type);
    }
    return { seq, intendedMs, key, value, type, bad, visitor, lateMs, mirror };
  }

  /** During a bot burst, the burst's share of events, extra_i / (1 + Σ extras), goes to its handful of bot keys. */
  private botBurstVisitor(t: number): number {
    if (this.botBursts.length === 0) return -1;
    const extraTotal = this.totalExtra(t);
    if (extraTotal <= 0) return -1;
    let u = this.rng.next() * (1 + extraTotal);
    for (let i = 0; i < this.botBursts.length; i++) {
      const b = this.botBursts[i];
      u -= burstExtra(b, t);
      if (u < 0) {
        const bots = this.pools.bots.anonymousId.length;
        return (this.botKeyOffset[i] + this.rng.int(Math.min(b.bot_keys, bots))) % bots;
      }
    }
    return -1;
  }

  private totalExtra(t: number): number {
    let e = 0;
    for (const b of this.scenario.traffic.bursts) e += burstExtra(b, t);
    return e;
  }

  /** The event type's own draws and state changes, into `out` (product, a, b). */
  private typeDraws(type: EventType, visitor: number, out: Drawn): void {
    const rng = this.rng;
    const pools = this.pools;
    let product = -1;
    let a = 0;
    let b = 0;
    switch (type) {
      case 'page_view':
        break;
      case 'identity_update':
        this.identified[visitor] = 1;
        break;
      case 'search':
        a = this.queryZipf.sample(rng) - 1;
        b = rng.int(200);
        break;
      case 'product_view':
        product = this.productZipf.sample(rng) - 1;
        break;
      case 'add_to_cart':
        product = this.productZipf.sample(rng) - 1;
        b = 1 + rng.int(3);
        break;
      case 'checkout': {
        a = 1 + rng.int(4);
        for (let i = 0; i < a; i++) b += pools.products[this.productZipf.sample(rng) - 1].price_cents;
        break;
      }
      case 'consent_change':
        this.consent[visitor] ^= 1 << rng.int(3);
        break;
      case 'campaign_touch':
        a = rng.int(pools.campaigns.length);
        this.lastCampaign[visitor] = a;
        break;
      case 'profile_update':
        // The back office changed the person's profile: the pool is the source of truth (changed where the event is serialized).
        this.identified[visitor] = 1;
        a = rng.int(pools.segments.length);
        b = rng.int(pools.tiers.length);
        break;
    }
    out.product = product;
    out.a = a;
    out.b = b;
  }

  /** The event type's own fields as JSON members, from its draws (`a`, `b`: see typeDraws); a profile_update changes the visitor's profile. */
  private typeFields(type: EventType, visitor: number, seq: number, consent: number, product: number, a: number, b: number): string {
    const pools = this.pools;
    switch (type) {
      case 'page_view':
        return '';
      case 'search':
        return `,"query":${JSON.stringify(pools.searchQueries[a])},"results":${b}`;
      case 'product_view':
        return `,${pools.productJson[product]}`;
      case 'add_to_cart':
        return `,${pools.productJson[product]},"quantity":${b},"price":${pools.products[product].price_cents / 100}`;
      case 'checkout':
        // The order id is the next event's sequence number (as it always was).
        return `,"order_id":"o${(seq + 1).toString(36)}","items":${a},"cart_value":${b / 100},"currency":"USD"`;
      case 'consent_change':
        return `,"new_consent":${CONSENT_JSON[consent]}`;
      case 'campaign_touch': {
        const camp = pools.campaigns[a];
        return `,"campaign_id":"${camp.campaign_id}","utm_source":"${camp.utm_source}","utm_medium":"${camp.utm_medium}","utm_campaign":"${camp.name}"`;
      }
      case 'identity_update':
        return `,"merged_user_id":"${pools.visitors.profile(visitor).user_id}"`;
      case 'profile_update': {
        const p = pools.visitors.profile(visitor);
        p.segment = pools.segments[a];
        p.tier = pools.tiers[b];
        return `,"profile_user_id":"${p.user_id}","segment":"${p.segment}","tier":"${p.tier}"`;
      }
    }
  }

  private spoil(value: string, kind: BadRecordKind, idField: string, type: EventType): string {
    switch (kind) {
      case 'malformed_json':
        return value.slice(0, Math.floor(value.length / 2));
      case 'missing_field':
        return value.replace(idField, '');
      case 'wrong_type':
        return value.replace(/"event_time":\d+/, '"event_time":"yesterday"');
      case 'unknown_event_type':
        return value.replace(`"event_type":"${type}"`, '"event_type":"teleport"');
      case 'oversized': {
        const pad = Math.max(0, this.scenario.bad_records.oversized_bytes - value.length);
        return `${value.slice(0, -1)},"padding":"${'x'.repeat(pad)}"}`;
      }
    }
  }
}

export { BAD_RECORD_KINDS };

/** The profiles-topic value of a profile valid from `effectiveMs` (PII included: the stage must withhold it). */
/**
 * The sequence number of an event from its value (`"event_id":"<idPrefix>-<seq base 36>"`, the first
 * field of raw and enriched records; NaN when absent). `key` is `<idPrefix>-`.
 */
export function eventSeqOf(value: string, key: string): number {
  const at = value.indexOf(key);
  return at >= 0 && at < 40 ? parseInt(value.slice(at + key.length, value.indexOf('"', at)), 36) : NaN;
}

export function profileRecord(p: Profile, effectiveMs: number): string {
  return JSON.stringify({ ...p, effective_time: effectiveMs });
}

export function consentRecord(bits: number, effectiveMs: number): string {
  return `{"analytics":${(bits & 1) !== 0},"marketing":${(bits & 2) !== 0},"personalization":${(bits & 4) !== 0},"effective_time":${effectiveMs}}`;
}
