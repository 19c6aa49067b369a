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
  /**
   * Serialize only the events whose sequence number falls in blocks `index`, `index + of`, `index + 2·of`, …
   * of `block` events each; the others are drawn (the same draws and state changes) and skipped. `of`
   * generators with the same scenario and options, one per index, between them serialize every event of the
   * stream once: `generate` runs them in worker threads and writes their blocks in order.
   */
  stripe?: Stripe;
  /** false: no `mirror` on the events (`generate` writes the events alone); default true. */
  mirrors?: boolean;
}

export interface Shard {
  index: number;
  of: number;
}

export interface Stripe {
  index: number;
  of: number;
  /** Events per block. */
  block: number;
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
const BOT_TYPES: EventType[] = ['page_view', 'product_view', 'search'];

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
  /** Product of the current event (for its URL), −1 when none. */
  private productIdx = -1;
  private tMs = 0;
  private readonly durationMs: number;
  private readonly shard: Shard | null;
  private readonly stripe: Stripe | null;
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
    const stripe = opts.stripe;
    if (stripe && (!Number.isInteger(stripe.of) || stripe.of < 1 || !Number.isInteger(stripe.index) || stripe.index < 0 || stripe.index >= stripe.of || !Number.isInteger(stripe.block) || stripe.block < 1)) {
      throw new Error(`stripe ${stripe.index} of ${stripe.of} (blocks of ${stripe.block}): expected whole numbers with 0 ≤ index < of and block ≥ 1`);
    }
    this.stripe = stripe && stripe.of > 1 ? stripe : null;
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
    if (!this.shard && !this.stripe) return this.tMs;
    if (!this.ahead) this.drawAhead();
    return this.aheadT;
  }

  done(): boolean {
    return this.nextOffsetMs >= this.durationMs;
  }

  /** The next event of the schedule (call `done()` first; past the duration the schedule continues at the curve's rate). */
  next(): GeneratedEvent {
    if (!this.shard && !this.stripe) return this.step(-1);
    if (!this.ahead) this.drawAhead();
    const e = this.ahead!;
    this.ahead = null;
    return e;
  }

  /** Sharded or striped: draw events of the single stream until one of this shard's (and stripe's), and keep it. */
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
    const type = visitor < 0 ? BOT_TYPES[rng.int(BOT_TYPES.length)] : this.types[this.typeChoice.pick(rng.next())];
    // Another shard's (or stripe's) event makes the same draws and state changes, and builds no string.
    const stripe = this.stripe;
    const owned = (shardIndex < 0 || shardOfVisitor(visitor, shardOf) === shardIndex) && (stripe === null || Math.floor(seq / stripe.block) % stripe.of === stripe.index);
    const fixed = !owned ? '' : visitor < 0 ? this.pools.bots.fixedJson[-1 - visitor] : this.pools.visitors.fixedJson(visitor);
    const key = !owned ? '' : visitor < 0 ? this.pools.bots.anonymousId[-1 - visitor] : this.pools.visitors.anonymousId(visitor);

    let userId = 'null';
    let consent = 0;
    let session: string;
    let eventMs = intendedMs;
    let lateMs = 0;
    let extra: string;
    if (visitor >= 0) {
      if (intendedMs - this.lastSeenMs[visitor] > this.scenario.events.session_gap) this.sessionNo[visitor]++;
      this.lastSeenMs[visitor] = intendedMs;
      session = owned ? `${key}.${this.sessionNo[visitor]}` : '';
      extra = this.typeFields(type, visitor, owned);
      if (type === 'profile_update' && rng.next() < this.scenario.events.late_profile_updates.share) {
        const late = this.scenario.events.late_profile_updates;
        lateMs = Math.max(1, Math.round(rng.logNormal(late.median_delay, late.sigma)));
        eventMs = intendedMs - lateMs;
      }
      if (owned && this.identified[visitor]) userId = this.pools.visitors.userIdJson(visitor);
      consent = this.consent[visitor];
    } else {
      session = owned ? `${key}.0` : '';
      extra = this.typeFields(type, visitor, owned);
    }
    if (!owned) {
      // Another shard's event: the same draws as below (page, referrer, bad record), no serialization.
      if (this.productIdx < 0) this.pageZipf.sample(rng);
      rng.int(REFERRER_JSON.length);
      if (this.scenario.bad_records.rate > 0 && rng.next() < this.scenario.bad_records.rate) rng.int(this.badKinds.length);
      return null;
    }
    const url = this.productIdx >= 0 ? `/p/${this.pools.products[this.productIdx].product_id}` : this.pools.pagePaths[this.pageZipf.sample(rng) - 1];
    const idField = `"event_id":"${this.opts.idPrefix}-${seq.toString(36)}",`;
    let value = `{${idField}"event_type":"${type}","schema_version":${SCHEMA_VERSION},"event_time":${eventMs},"intended_time":${intendedMs},${fixed},"user_id":${userId},"session_id":"${session}","url":"${url}","referrer":${REFERRER_JSON[rng.int(REFERRER_JSON.length)]},"consent":${CONSENT_JSON[consent]}${extra}}`;

    let mirror: GeneratedEvent['mirror'] = null;
    if (this.mirrors && visitor >= 0 && (type === 'profile_update' || type === 'consent_change')) {
      if (type === 'profile_update') {
        const p = this.pools.visitors.profile(visitor);
        mirror = { kind: 'profiles', key: p.user_id, value: profileRecord(p, eventMs) };
      } else mirror = { kind: 'consent', key, value: consentRecord(this.consent[visitor], eventMs) };
    }
    let bad: BadRecordKind | null = null;
    if (this.scenario.bad_records.rate > 0 && rng.next() < this.scenario.bad_records.rate) {
      bad = this.badKinds[rng.int(this.badKinds.length)];
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

  /** The event type's own fields as JSON members, after their draws and state changes; '' when not `owned` (the draws and changes alone). */
  private typeFields(type: EventType, visitor: number, owned: boolean): string {
    const rng = this.rng;
    const pools = this.pools;
    this.productIdx = -1;
    switch (type) {
      case 'page_view':
        return '';
      case 'search': {
        const q = this.queryZipf.sample(rng) - 1;
        const results = rng.int(200);
        return owned ? `,"query":${JSON.stringify(pools.searchQueries[q])},"results":${results}` : '';
      }
      case 'product_view':
        this.productIdx = this.productZipf.sample(rng) - 1;
        return owned ? `,${pools.productJson[this.productIdx]}` : '';
      case 'add_to_cart': {
        const p = (this.productIdx = this.productZipf.sample(rng) - 1);
        const quantity = 1 + rng.int(3);
        return owned ? `,${pools.productJson[p]},"quantity":${quantity},"price":${pools.products[p].price_cents / 100}` : '';
      }
      case 'checkout': {
        const items = 1 + rng.int(4);
        let cents = 0;
        for (let i = 0; i < items; i++) cents += pools.products[this.productZipf.sample(rng) - 1].price_cents;
        return owned ? `,"order_id":"o${this.seq.toString(36)}","items":${items},"cart_value":${cents / 100},"currency":"USD"` : '';
      }
      case 'consent_change': {
        this.consent[visitor] ^= 1 << rng.int(3);
        return owned ? `,"new_consent":${CONSENT_JSON[this.consent[visitor]]}` : '';
      }
      case 'campaign_touch': {
        const c = rng.int(pools.campaigns.length);
        this.lastCampaign[visitor] = c;
        const camp = pools.campaigns[c];
        return !owned ? '' : `,"campaign_id":"${camp.campaign_id}","utm_source":"${camp.utm_source}","utm_medium":"${camp.utm_medium}","utm_campaign":"${camp.name}"`;
      }
      case 'identity_update': {
        this.identified[visitor] = 1;
        return owned ? `,"merged_user_id":"${pools.visitors.profile(visitor).user_id}"` : '';
      }
      case 'profile_update': {
        // The back office changed the person's profile: the pool is the source of truth.
        this.identified[visitor] = 1;
        const segment = pools.segments[rng.int(pools.segments.length)];
        const tier = pools.tiers[rng.int(pools.tiers.length)];
        // Another shard's visitor: its profile is that shard's (built, changed and mirrored there).
        if (!owned) return '';
        const p = pools.visitors.profile(visitor);
        p.segment = segment;
        p.tier = tier;
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
