/** Fill the compacted lookup topics from the generator's pools before the traffic starts. */
import type { Producer } from '../kafka/client.js';
import { consentRecord, profileRecord, type ClickstreamGenerator } from '../generate/clickstream.js';
import type { TopicNames } from './topics.js';

export interface LookupFill {
  profiles: number;
  catalog: number;
  campaigns: number;
  consent: number;
  bytes: number;
}

export async function fillLookups(producer: Producer, names: TopicNames, gen: ClickstreamGenerator): Promise<LookupFill> {
  const pools = gen.pools;
  const fill: LookupFill = { profiles: 0, catalog: 0, campaigns: 0, consent: 0, bytes: 0 };
  const send = async (topic: string, kind: keyof Omit<LookupFill, 'bytes'>, records: { key: string; value: string }[]) => {
    for (let i = 0; i < records.length; i += 5_000) {
      const messages = records.slice(i, i + 5_000);
      await producer.send({ topic, acks: -1, messages });
      for (const m of messages) fill.bytes += m.key.length + m.value.length;
    }
    fill[kind] += records.length;
  };
  await send(names.lookups.profiles, 'profiles', Array.from({ length: pools.visitors.size }, (_, i) => { const p = pools.visitors.profile(i); return { key: p.user_id, value: profileRecord(p, 0) }; }));
  await send(names.lookups.catalog, 'catalog', pools.products.map((p) => ({ key: p.product_id, value: JSON.stringify({ name: p.name, category: p.category, brand: p.brand, price: p.price_cents / 100 }) })));
  await send(names.lookups.campaigns, 'campaigns', pools.campaigns.map((c) => ({ key: c.campaign_id, value: JSON.stringify({ name: c.name, channel: c.channel, utm_source: c.utm_source, utm_medium: c.utm_medium, cost_per_click: c.cost_per_click_cents / 100 }) })));
  await send(names.lookups.consent, 'consent', Array.from({ length: pools.visitors.size }, (_, i) => ({ key: pools.visitors.anonymousId(i), value: consentRecord(gen.consentOf(i), 0) })));
  return fill;
}
