/**
 * Lookup tables of the enrichment stage, kept current from compacted topics (table semantics:
 * the latest value per key wins; a null value deletes). Profiles are versioned by effective
 * time, so an event is enriched with the version valid at its event time, once it has arrived.
 */

export type LookupKind = 'profiles' | 'catalog' | 'campaigns' | 'consent';
export const LOOKUP_KINDS: LookupKind[] = ['profiles', 'catalog', 'campaigns', 'consent'];

export interface ProfileVersion {
  user_id: string;
  effective_time: number;
  /** When the stage saw this version (ms). */
  arrivedMs: number;
  fields: Record<string, unknown>;
}

export interface CatalogEntry {
  category: string;
  brand: string;
  price: number;
  name?: string;
}

export interface CampaignEntry {
  name: string;
  channel: string;
  utm_source?: string;
  utm_medium?: string;
  cost_per_click?: number;
}

/** Consent flags as a bit set: 1 analytics, 2 marketing, 4 personalization. */
export type ConsentBits = number;
export const CONSENT_BIT = { analytics: 1, marketing: 2, personalization: 4 } as const;

export function consentBits(c: { analytics?: unknown; marketing?: unknown; personalization?: unknown } | null | undefined): ConsentBits {
  if (!c || typeof c !== 'object') return 0;
  return (c.analytics === true ? 1 : 0) | (c.marketing === true ? 2 : 0) | (c.personalization === true ? 4 : 0);
}

const MAX_VERSIONS = 8;

export class LookupTables {
  readonly profiles = new Map<string, ProfileVersion[]>();
  readonly catalog = new Map<string, CatalogEntry>();
  readonly campaigns = new Map<string, CampaignEntry>();
  readonly consent = new Map<string, ConsentBits>();
  /** Listeners told when a profile version arrives (the stage counts late updates with it). */
  onProfileVersion?: (v: ProfileVersion) => void;

  /** Apply one record of a lookup topic. Returns false when the value could not be read. */
  apply(kind: LookupKind, key: string, value: string | null, arrivedMs: number): boolean {
    if (value === null) {
      this[kind].delete(key);
      return true;
    }
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(value);
    } catch {
      return false;
    }
    switch (kind) {
      case 'profiles': {
        const version: ProfileVersion = { user_id: key, effective_time: Number(v.effective_time ?? 0), arrivedMs, fields: v };
        const list = this.profiles.get(key) ?? [];
        let i = list.length;
        while (i > 0 && list[i - 1].effective_time > version.effective_time) i--;
        list.splice(i, 0, version);
        if (list.length > MAX_VERSIONS) list.shift();
        this.profiles.set(key, list);
        this.onProfileVersion?.(version);
        return true;
      }
      case 'catalog':
        this.catalog.set(key, { category: String(v.category), brand: String(v.brand), price: Number(v.price), name: v.name as string | undefined });
        return true;
      case 'campaigns':
        this.campaigns.set(key, { name: String(v.name), channel: String(v.channel), utm_source: v.utm_source as string, utm_medium: v.utm_medium as string, cost_per_click: Number(v.cost_per_click ?? 0) });
        return true;
      case 'consent':
        this.consent.set(key, consentBits(v));
        return true;
    }
  }

  /** Whether `v` (a version of `userId`'s profile) is older than the newest version the table holds. */
  isOlderThanNewest(userId: string, v: ProfileVersion): boolean {
    const list = this.profiles.get(userId);
    return list !== undefined && list[list.length - 1] !== v;
  }

  /** The profile version valid at `eventTimeMs` among those that have arrived, or undefined. */
  profileAt(userId: string, eventTimeMs: number): ProfileVersion | undefined {
    const list = this.profiles.get(userId);
    if (!list) return undefined;
    for (let i = list.length - 1; i >= 0; i--) if (list[i].effective_time <= eventTimeMs) return list[i];
    return list[0];
  }
}
