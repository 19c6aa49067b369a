/**
 * Entity pools, built once per run with @faker-js/faker (seeded): visitors with their profile and
 * PII, devices and user agents, IPs and geo, products, pages, campaigns, bots. Per-event work
 * then only indexes into these arrays; fields that never change for an entity are kept as
 * ready-made JSON fragments.
 */
import { Faker, base, en } from '@faker-js/faker';
import type { Scenario } from '../scenario/schema.js';
import { Rng } from './random.js';

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
  visitors: { anonymousId: string[]; profile: Profile[]; country: string[]; fixedJson: string[] };
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

export function buildPools(scenario: Pick<Scenario, 'seed' | 'population'>): Pools {
  const pop = scenario.population;
  const faker = new Faker({ locale: [en, base] });
  faker.seed(scenario.seed);
  const rng = new Rng(scenario.seed ^ 0x5eed);

  // Small vocabularies from faker, combined per entity (cheap for 100 000s of entities).
  const firstNames = faker.helpers.multiple(() => faker.person.firstName(), { count: 400 });
  const lastNames = faker.helpers.multiple(() => faker.person.lastName(), { count: 400 });
  const geo = faker.helpers.multiple(() => ({ country: faker.location.countryCode('alpha-2'), city: faker.location.city() }), { count: 120 });
  // faker's agent list includes crawlers; people get browsers only, bots come from BOT_USER_AGENTS.
  const userAgents = faker.helpers.multiple(() => faker.internet.userAgent(), { count: 300 }).filter((ua) => !/bot|crawl|spider|slurp/i.test(ua));
  const domains = ['example.com', 'example.net', 'example.org', 'mail.example', 'inbox.example'];
  const categories = faker.helpers.multiple(() => faker.commerce.department(), { count: 40 });
  const brands = faker.helpers.multiple(() => faker.company.name(), { count: 300 });
  const adjectives = faker.helpers.multiple(() => faker.commerce.productAdjective(), { count: 60 });
  const nouns = faker.helpers.multiple(() => faker.commerce.product(), { count: 60 });
  const words = faker.helpers.multiple(() => faker.word.noun(), { count: 1_500 });

  const deviceOf = () => {
    const u = rng.next();
    return u < DEVICE_WEIGHTS[0] ? DEVICES[0] : u < DEVICE_WEIGHTS[0] + DEVICE_WEIGHTS[1] ? DEVICES[1] : DEVICES[2];
  };
  const ip = () => `${1 + rng.int(222)}.${rng.int(256)}.${rng.int(256)}.${1 + rng.int(254)}`;

  // Per vocabulary entry once, not per visitor (the same strings as before, byte for byte): an address's name
  // parts lower-cased and cleaned (the rest of an address is digits, '.', '@' and a lower-case domain),
  // browsers as JSON, signup dates by day. buildPools took ~100 ms warm, a third of it the collector.
  const emailPart = (name: string) => name.toLowerCase().replace(/[^a-z0-9.@_-]/g, '');
  const firstEmail = firstNames.map(emailPart);
  const lastEmail = lastNames.map(emailPart);
  const userAgentJson = userAgents.map(j);
  const start = Date.UTC(2019, 0, 1);
  const signupDays: string[] = [];
  const signupDay = (d: number) => (signupDays[d] ??= new Date(start + d * 86_400_000).toISOString().slice(0, 10));

  const n = pop.users;
  const anonymousId: string[] = new Array(n);
  const profile: Profile[] = new Array(n);
  const country: string[] = new Array(n);
  const fixedJson: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const fi = rng.int(firstNames.length);
    const li = rng.int(lastNames.length);
    const first = firstNames[fi];
    const last = lastNames[li];
    const place = geo[rng.int(geo.length)];
    const aid = `a${(i + 1).toString(36)}${rng.nextUint32().toString(36)}`;
    anonymousId[i] = aid;
    country[i] = place.country;
    profile[i] = {
      user_id: `u${(i + 1).toString(36)}`,
      email: `${firstEmail[fi]}.${lastEmail[li]}${i}@${domains[i % domains.length]}`,
      phone: `+1-555-${String(rng.int(1000)).padStart(3, '0')}-${String(rng.int(10000)).padStart(4, '0')}`,
      first_name: first,
      last_name: last,
      country: place.country,
      city: place.city,
      segment: SEGMENTS[Math.min(SEGMENTS.length - 1, Math.floor(rng.next() * rng.next() * SEGMENTS.length * 1.6))],
      tier: TIERS[rng.next() < 0.7 ? 0 : rng.next() < 0.7 ? 1 : 2],
      signup_date: signupDay(rng.int(7 * 365)),
    };
    // A visitor's device, browser and address do not change during a run.
    // anonymous ids are [a-z0-9], addresses digits and dots: quoted as JSON.stringify would.
    fixedJson[i] = `"anonymous_id":"${aid}","user_agent":${userAgentJson[rng.int(userAgents.length)]},"ip":"${ip()}","device":"${deviceOf()}"`;
  }

  const botIds: string[] = [];
  const botJson: string[] = [];
  const botBlocks = Array.from({ length: 4 }, () => `${20 + rng.int(30)}.${rng.int(256)}.${rng.int(256)}`);
  for (let i = 0; i < pop.bots; i++) {
    const aid = `b${(i + 1).toString(36)}${rng.nextUint32().toString(36)}`;
    botIds.push(aid);
    botJson.push(`"anonymous_id":${j(aid)},"user_agent":${j(BOT_USER_AGENTS[i % BOT_USER_AGENTS.length])},"ip":"${botBlocks[i % botBlocks.length]}.${1 + rng.int(254)}","device":"desktop"`);
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
    productJson.push(`"product_id":"${p.product_id}"`);
  }

  const pagePaths: string[] = ['/'];
  for (let i = 1; i < pop.pages; i++) {
    const cat = categories[i % categories.length].toLowerCase().replace(/[^a-z0-9]+/g, '-');
    pagePaths.push(i % 5 === 0 ? `/help/${words[i % words.length]}` : `/c/${cat}/${i}`);
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
      name: `${faker.word.adjective()}-${faker.word.noun()}-${2026}`.toLowerCase().replace(/[^a-z0-9-]/g, ''),
      channel,
      utm_source: sources[channel][0],
      utm_medium: sources[channel][1],
      cost_per_click_cents: 5 + rng.int(200),
    });
  }
  return {
    visitors: { anonymousId, profile, country, fixedJson },
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
