/**
 * Entity pools, built once per run from a seed: visitors with their profile and PII, devices and user
 * agents, IPs and geo, products, pages, campaigns, bots. Their words come from a corpus drawn from
 * @faker-js/faker (src/generate/vocabulary.ts, committed; `npm run vocabulary` redraws it), each seed
 * picking its own vocabulary from it. Per-event work then only indexes into these arrays; fields that
 * never change for an entity are kept as ready-made JSON fragments.
 */
import type { Scenario } from '../scenario/schema.js';
import { Rng } from './random.js';
import * as corpus from './vocabulary.js';

export interface Profile {
  user_id: string;
  email: string;
  phone: string;
  first_name: string;
  last_name: string;
  country: string;
  city: string;
  segment: string;
  tier: string;
  signup_date: string;
}

export interface Product {
  product_id: string;
  name: string;
  category: string;
  brand: string;
  price_cents: number;
}

export interface Campaign {
  campaign_id: string;
  name: string;
  channel: string;
  utm_source: string;
  utm_medium: string;
  cost_per_click_cents: number;
}

export interface Pools {
  /** Human visitors; index = Zipf rank − 1. */
  visitors: VisitorPool;
  bots: { anonymousId: string[]; fixedJson: string[] };
  products: Product[];
  productJson: string[];
  pagePaths: string[];
  searchQueries: string[];
  campaigns: Campaign[];
  segments: readonly string[];
  tiers: readonly string[];
}

const DEVICES = ['desktop', 'mobile', 'tablet'] as const;
const DEVICE_WEIGHTS = [0.38, 0.56, 0.06];
export const SEGMENTS = ['new', 'casual', 'regular', 'loyal', 'vip'] as const;
export const TIERS = ['free', 'plus', 'premium'] as const;
const CHANNELS = ['search', 'social', 'email', 'display', 'affiliate'] as const;
export const BOT_USER_AGENTS = [
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
  'python-requests/2.32.3',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36',
  'curl/8.5.0',
  'Scrapy/2.11.2 (+https://scrapy.org)',
];

const j = (v: string) => JSON.stringify(v);

let flatSink = 0;
/**
 * The string, flattened in place: a string built by concatenation is a tree of its pieces, and every event it
 * goes into walks the tree again when the event is encoded. Fragments that go into many events are flattened
 * once (V8 flattens a string in place to read a character; the read goes to a module variable so it is not
 * optimized away). Measured: the generator alone 12 % faster once the visitors' fragments were flat.
 */
export function flat(s: string): string {
  flatSink ^= s.length > 0 ? s.charCodeAt(s.length >> 1) : 0;
  return s;
}

/** What a visitor's strings are made of: the seed's vocabularies (drawn from the corpus), once per pool. */
interface VisitorVocabulary {
  firstNames: string[];
  lastNames: string[];
  /** The names lower-cased and cleaned for an address. */
  firstEmail: string[];
  lastEmail: string[];
  geo: { country: string; city: string }[];
  /** Browsers' user agents as JSON strings. */
  userAgentJson: string[];
  domains: string[];
}

/** Random draws kept per visitor, in the order they are made. */
const enum Draw { First, Last, Place, AidRandom, PhoneA, PhoneB, Segment, Tier, SignupDay, UserAgent, Ip, Device, Count }

const SIGNUP_EPOCH_MS = Date.UTC(2019, 0, 1);

/** A visitor's user id (known once the visitor logs in): by Zipf rank. */
const userId = (i: number) => `u${(i + 1).toString(36)}`;

/**
 * Human visitors (index = Zipf rank − 1): every visitor's random draws are made up front, in the order they
 * always were, so the stream stays the same byte for byte; the strings (anonymous id, profile, the event's fixed
 * JSON fragment) are built the first time a visitor is asked for, then kept. Building all of them up front was
 * ~75 ms of `generate`'s ~0.33 s start-up for the quickstart's 20 000 visitors (a third of it scavenges copying
 * the new strings), whatever the run then used.
 */
export class VisitorPool {
  readonly size: number;
  private readonly draws: Int32Array;
  private readonly ids: (string | undefined)[];
  private readonly fixed: (string | undefined)[];
  private readonly profiles: (Profile | undefined)[];
  private readonly userIdsJson: (string | undefined)[];
  private readonly signupDays: string[] = [];

  constructor(n: number, rng: Rng, private readonly vocab: VisitorVocabulary) {
    this.size = n;
    this.ids = new Array(n);
    this.fixed = new Array(n);
    this.profiles = new Array(n);
    this.userIdsJson = new Array(n);
    const d = (this.draws = new Int32Array(n * Draw.Count));
    for (let i = 0, o = 0; i < n; i++, o += Draw.Count) {
      d[o + Draw.First] = rng.int(vocab.firstNames.length);
      d[o + Draw.Last] = rng.int(vocab.lastNames.length);
      d[o + Draw.Place] = rng.int(vocab.geo.length);
      d[o + Draw.AidRandom] = rng.nextUint32() | 0;
      d[o + Draw.PhoneA] = rng.int(1000);
      d[o + Draw.PhoneB] = rng.int(10000);
      d[o + Draw.Segment] = Math.min(SEGMENTS.length - 1, Math.floor(rng.next() * rng.next() * SEGMENTS.length * 1.6));
      d[o + Draw.Tier] = rng.next() < 0.7 ? 0 : rng.next() < 0.7 ? 1 : 2;
      d[o + Draw.SignupDay] = rng.int(7 * 365);
      d[o + Draw.UserAgent] = rng.int(vocab.userAgentJson.length);
      d[o + Draw.Ip] = ((1 + rng.int(222)) << 24) | (rng.int(256) << 16) | (rng.int(256) << 8) | (1 + rng.int(254));
      const u = rng.next();
      d[o + Draw.Device] = u < DEVICE_WEIGHTS[0] ? 0 : u < DEVICE_WEIGHTS[0] + DEVICE_WEIGHTS[1] ? 1 : 2;
    }
  }

  /** The visitor's anonymous id (the record key): [a-z0-9], stable for the run. */
  anonymousId(i: number): string {
    return this.ids[i] ?? (this.ids[i] = `a${(i + 1).toString(36)}${(this.draws[i * Draw.Count + Draw.AidRandom] >>> 0).toString(36)}`);
  }

  /** The fields of the visitor's events that never change during a run (device, browser, address), as JSON members. */
  fixedJson(i: number): string {
    const cached = this.fixed[i];
    if (cached !== undefined) return cached;
    const o = i * Draw.Count;
    const ip = this.draws[o + Draw.Ip];
    const address = `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
    // anonymous ids are [a-z0-9], addresses digits and dots: quoted as JSON.stringify would.
    const json = `"anonymous_id":"${this.anonymousId(i)}","user_agent":${this.vocab.userAgentJson[this.draws[o + Draw.UserAgent]]},"ip":"${address}","device":"${DEVICES[this.draws[o + Draw.Device]]}"`;
    return (this.fixed[i] = flat(json));
  }

  /** The visitor's user id as a JSON string, without building the profile (an event's "user_id"). */
  userIdJson(i: number): string {
    return this.userIdsJson[i] ?? (this.userIdsJson[i] = `"${userId(i)}"`);
  }

  /** The visitor's profile, the source of truth for the lookup table: one object per visitor, changed in place by profile updates. */
  profile(i: number): Profile {
    const cached = this.profiles[i];
    if (cached !== undefined) return cached;
    const o = i * Draw.Count;
    const d = this.draws;
    const v = this.vocab;
    const fi = d[o + Draw.First];
    const li = d[o + Draw.Last];
    const place = v.geo[d[o + Draw.Place]];
    const day = d[o + Draw.SignupDay];
    return (this.profiles[i] = {
      user_id: userId(i),
      email: `${v.firstEmail[fi]}.${v.lastEmail[li]}${i}@${v.domains[i % v.domains.length]}`,
      phone: `+1-555-${String(d[o + Draw.PhoneA]).padStart(3, '0')}-${String(d[o + Draw.PhoneB]).padStart(4, '0')}`,
      first_name: v.firstNames[fi],
      last_name: v.lastNames[li],
      country: place.country,
      city: place.city,
      segment: SEGMENTS[d[o + Draw.Segment]],
      tier: TIERS[d[o + Draw.Tier]],
      signup_date: (this.signupDays[day] ??= new Date(SIGNUP_EPOCH_MS + day * 86_400_000).toISOString().slice(0, 10)),
    });
  }
}

export function buildPools(scenario: Pick<Scenario, 'seed' | 'population'>): Pools {
  const pop = scenario.population;
  const rng = new Rng(scenario.seed ^ 0x5eed);
  // A seed's vocabulary: words drawn (with repeats, as faker drew them) from the committed corpus with a random
  // stream of the seed's own. Loading faker and drawing through its templates was ~0.1 s of `generate`'s start-up,
  // and its draws changed with faker's version.
  const vr = new Rng(scenario.seed ^ 0x70cab);
  const pick = (list: string, count: number) => {
    const all = list.split('\n');
    return Array.from({ length: count }, () => all[vr.int(all.length)]);
  };
  const pickPairs = (a: string, b: string, count: number) => {
    const x = pick(a, count), y = pick(b, count);
    return x.map((v, i) => [v, y[i]] as const);
  };
  const firstNames = pick(corpus.FIRST_NAMES, 400);
  const lastNames = pick(corpus.LAST_NAMES, 400);
  const geo = pickPairs(corpus.COUNTRIES, corpus.CITIES, 120).map(([country, city]) => ({ country, city }));
  // People get browsers only (the corpus has no crawlers); bots come from BOT_USER_AGENTS.
  const userAgents = pick(corpus.USER_AGENTS, 300);
  const domains = ['example.com', 'example.net', 'example.org', 'mail.example', 'inbox.example'];
  const categories = pick(corpus.DEPARTMENTS, 40);
  const brands = pick(corpus.COMPANIES, 300);
  const adjectives = pick(corpus.PRODUCT_ADJECTIVES, 60);
  const nouns = pick(corpus.PRODUCTS, 60);
  const words = pick(corpus.NOUNS, 1_500);
  const campaignWords = pickPairs(corpus.ADJECTIVES, corpus.NOUNS, pop.campaigns).map(([adjective, noun]) => `${adjective}-${noun}`);


  // Per vocabulary entry once, not per visitor (the same strings as before, byte for byte): an address's name
  // parts lower-cased and cleaned (the rest of an address is digits, '.', '@' and a lower-case domain),
  // browsers as JSON.
  const emailPart = (name: string) => name.toLowerCase().replace(/[^a-z0-9.@_-]/g, '');

  const visitors = new VisitorPool(pop.users, rng, {
    firstNames, lastNames, firstEmail: firstNames.map(emailPart), lastEmail: lastNames.map(emailPart), geo, userAgentJson: userAgents.map(j), domains,
  });
  const botIds: string[] = [];
  const botJson: string[] = [];
  const botBlocks = Array.from({ length: 4 }, () => `${20 + rng.int(30)}.${rng.int(256)}.${rng.int(256)}`);
  for (let i = 0; i < pop.bots; i++) {
    const aid = `b${(i + 1).toString(36)}${rng.nextUint32().toString(36)}`;
    botIds.push(aid);
    botJson.push(flat(`"anonymous_id":${j(aid)},"user_agent":${j(BOT_USER_AGENTS[i % BOT_USER_AGENTS.length])},"ip":"${botBlocks[i % botBlocks.length]}.${1 + rng.int(254)}","device":"desktop"`));
  }

  const products: Product[] = [];
  const productJson: string[] = [];
  for (let i = 0; i < pop.products; i++) {
    const p: Product = {
      product_id: `p${(i + 1).toString(36)}`,
      name: `${adjectives[rng.int(adjectives.length)]} ${nouns[rng.int(nouns.length)]}`,
      category: categories[rng.int(categories.length)],
      brand: brands[rng.int(brands.length)],
      price_cents: 199 + Math.round(rng.logNormal(3_500, 0.9)),
    };
    products.push(p);
    productJson.push(flat(`"product_id":"${p.product_id}"`));
  }

  const pagePaths: string[] = ['/'];
  for (let i = 1; i < pop.pages; i++) {
    const cat = categories[i % categories.length].toLowerCase().replace(/[^a-z0-9]+/g, '-');
    pagePaths.push(flat(i % 5 === 0 ? `/help/${words[i % words.length]}` : `/c/${cat}/${i}`));
  }
  const searchQueries = Array.from({ length: 5_000 }, (_, i) => (i % 3 === 0 ? `${words[rng.int(words.length)]} ${words[rng.int(words.length)]}` : words[rng.int(words.length)]).toLowerCase());

  const sources: Record<(typeof CHANNELS)[number], [string, string]> = {
    search: ['google', 'cpc'], social: ['instagram', 'paid_social'], email: ['newsletter', 'email'], display: ['programmatic', 'display'], affiliate: ['partner', 'affiliate'],
  };
  const campaigns: Campaign[] = [];
  for (let i = 0; i < pop.campaigns; i++) {
    const channel = CHANNELS[i % CHANNELS.length];
    campaigns.push({
      campaign_id: `c${i + 1}`,
      name: `${campaignWords[i]}-${2026}`.toLowerCase().replace(/[^a-z0-9-]/g, ''),
      channel,
      utm_source: sources[channel][0],
      utm_medium: sources[channel][1],
      cost_per_click_cents: 5 + rng.int(200),
    });
  }
  return {
    visitors,
    bots: { anonymousId: botIds, fixedJson: botJson },
    products,
    productJson,
    pagePaths,
    searchQueries,
    campaigns,
    segments: SEGMENTS,
    tiers: TIERS,
  };
}
