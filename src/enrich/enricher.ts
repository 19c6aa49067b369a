/**
 * The reference enrichment logic, free of Kafka: one raw record in, one enriched record or one
 * dead-letter record out. The stage (stage.ts) feeds it from a consumer group and writes its
 * output; tests feed it directly.
 *
 * Steps: validate (size, JSON, required fields, types, event type) → identity (anonymous id →
 * user id merges) → profile at event time → catalog → campaign attribution (last touch within a
 * window, following merges) → server-side session (inactivity gap) → risk score (rules by
 * version) → governance (PII never copied; pseudonymize and truncate IP without consent; drop
 * personalization fields without consent) → lineage headers.
 */
import { createHash } from 'node:crypto';
import { EVENT_TYPES, type EnrichmentConfig } from '../scenario/schema.js';
import { CONSENT_BIT, consentBits, LookupTables, type CatalogEntry, type ProfileVersion } from './tables.js';

export type EnrichmentVersion = 'v1' | 'v2';
export type DlqReason = 'oversized' | 'malformed_json' | 'missing_field' | 'wrong_type' | 'unknown_event_type';

export interface RawRecord {
  value: Buffer | string | null;
  partition: number;
  offset: string;
  /** Broker append time of the raw record (LogAppendTime topics), ms. */
  timestampMs: number;
}

export interface OutputRecord {
  kind: 'enriched' | 'dlq';
  key: string | null;
  value: Buffer | string;
  headers: Record<string, string>;
  reason?: DlqReason;
}

export interface EnrichmentCounters {
  processed: number;
  enriched: number;
  dlq: Record<DlqReason, number>;
  masked: { pseudonymized: number; ipTruncated: number; personalizationDropped: number; piiFieldsWithheld: number };
  /** Events enriched before a profile version valid at their event time had arrived. */
  lateProfile: { events: number; updates: number; maxLatenessMs: number; totalLatenessMs: number };
  /** Profile joins as of event time: `earlierVersion` of them took an older version than the newest the stage
   *  held, because the newest became effective after the event (a replay re-enriching old events does this). */
  profileAsOf: { joins: number; earlierVersion: number };
  profileMisses: number;
  catalogMisses: number;
  attributed: number;
  merges: number;
  risk: { flagged: number; bySignal: Record<string, number> };
}

const REQUIRED: [string, 'string' | 'number'][] = [
  ['event_id', 'string'], ['event_type', 'string'], ['event_time', 'number'], ['anonymous_id', 'string'], ['schema_version', 'number'],
];
const KNOWN_TYPES = new Set<string>(EVENT_TYPES);
/** The user agents the risk rules take for bots (the generator's people never browse with one: a unit test checks its corpus). */
export const BOT_UA = /bot|crawl|spider|python-requests|curl\/|scrapy|headless/i;
const WINDOW_MS = 10_000;

/**
 * Risk rules per version (so dual-run diffs show them). v2 also adds one field, `risk_level` (low / elevated /
 * high): a compatible schema change (a field added, none dropped or retyped) for dual-run checks and the table.
 */
export const RISK_RULES: Record<EnrichmentVersion, { botUa: number; userPer10s: [number, number]; ipPer10s: [number, number]; noReferrerBurst?: [number, number]; flagAt: number }> = {
  v1: { botUa: 40, userPer10s: [20, 30], ipPer10s: [50, 20], flagAt: 50 },
  v2: { botUa: 50, userPer10s: [10, 30], ipPer10s: [30, 20], noReferrerBurst: [5, 10], flagAt: 50 },
};

interface Velocity {
  windowStart: number;
  count: number;
}

/** A version's profile as events show it (see Enricher.shownProfile). */
interface ShownProfile {
  fields: Record<string, unknown>;
  /** `fields` without the personalization fields (`fields` itself when it has none). */
  impersonal: Record<string, unknown>;
  /** PII fields the version has and events never show. */
  piiWithheld: number;
  /** `fields` and `impersonal` as JSON, made once (the appended output writes them as they are). */
  fieldsJson: string;
  impersonalJson: string;
}

/**
 * A user's last RECENT_JOINS events: event time and the effective time of the profile version each was enriched
 * with (−1: none), as pairs in one array of numbers that grows to RECENT_JOINS pairs and then wraps (no object
 * per event: they lived long enough for the collector to copy them; no fixed-size buffer per user either: most
 * users of a Zipf population have a handful of events).
 */
const RECENT_JOINS = 32;
class RecentJoins {
  private readonly pairs: number[] = [];
  private n = 0;

  add(eventMs: number, usedEffective: number): void {
    if (this.pairs.length < 2 * RECENT_JOINS) this.pairs.push(eventMs, usedEffective);
    else {
      const i = 2 * (this.n % RECENT_JOINS);
      this.pairs[i] = eventMs;
      this.pairs[i + 1] = usedEffective;
    }
    this.n++;
  }

  /** Of these events, those at or after `effective` enriched with a version older than it. */
  lateFor(effective: number): number {
    let late = 0;
    for (let i = 0; i < this.pairs.length; i += 2) if (this.pairs[i] >= effective && this.pairs[i + 1] < effective) late++;
    return late;
  }
}

interface PersonState {
  lastEventMs: number;
  session: number;
  seq: number;
  /** The person's events in the current 10 s window (the risk rules' user velocity). */
  velocity: Velocity;
  touch?: { campaign_id: string; at: number };
}

/** Counts an event in `v`'s window (a new window resets it in place); returns the window's count. */
function countIn(v: Velocity, eventMs: number): number {
  const start = eventMs - (eventMs % WINDOW_MS);
  if (v.windowStart !== start) {
    v.windowStart = start;
    v.count = 0;
  }
  return ++v.count;
}

export class Enricher {
  readonly counters: EnrichmentCounters = {
    processed: 0,
    enriched: 0,
    dlq: { oversized: 0, malformed_json: 0, missing_field: 0, wrong_type: 0, unknown_event_type: 0 },
    masked: { pseudonymized: 0, ipTruncated: 0, personalizationDropped: 0, piiFieldsWithheld: 0 },
    lateProfile: { events: 0, updates: 0, maxLatenessMs: 0, totalLatenessMs: 0 },
    profileAsOf: { joins: 0, earlierVersion: 0 },
    profileMisses: 0,
    catalogMisses: 0,
    attributed: 0,
    merges: 0,
    risk: { flagged: 0, bySignal: {} },
  };
  /** Outputs written as the event's own JSON text with the enrichment's fields appended (see enrich). */
  appendedOutputs = 0;
  private readonly identity = new Map<string, string>();
  private readonly persons = new Map<string, PersonState>();
  private readonly ipVelocity = new Map<string, Velocity>();
  /** Per user: event times recently enriched, each with the effective time of the profile version it used. */
  private readonly recentByUser = new Map<string, RecentJoins>();
  /** Per profile version: what events show of it. */
  private readonly shown = new WeakMap<ProfileVersion, ShownProfile>();
  private readonly pseudoCache = new Map<string, string>();
  /** A catalog entry's product as JSON, made once per entry (a table update brings a new entry). */
  private readonly productJson = new WeakMap<CatalogEntry, string>();
  private readonly pii: Set<string>;
  private readonly personalization: Set<string>;
  private readonly pseudoFields: Set<string>;
  private readonly pseudoBit: number;
  private readonly ipMaskBits: number;

  /** `wholeJson`: serialize every output whole, never appending to the event's text (the reference the unit tests hold that path to). */
  constructor(readonly tables: LookupTables, readonly version: EnrichmentVersion, private readonly cfg: EnrichmentConfig, private readonly wholeJson = false) {
    const g = cfg.governance;
    this.pii = new Set(g.pii_fields);
    this.personalization = new Set(g.personalization_fields);
    this.pseudoFields = new Set(g.pseudonymized_fields);
    this.pseudoBit = CONSENT_BIT[g.pseudonymize_without];
    this.ipMaskBits = g.ip_truncate_to;
    tables.onProfileVersion = (v) => this.onProfileVersion(v);
  }

  /** A profile version arrived: events of that user already enriched at or after its effective time with an older version were enriched late. */
  private onProfileVersion(v: ProfileVersion): void {
    const recent = this.recentByUser.get(v.user_id);
    if (!recent) return;
    const late = recent.lateFor(v.effective_time);
    if (late > 0) {
      const lateness = Math.max(0, v.arrivedMs - v.effective_time);
      const c = this.counters.lateProfile;
      c.events += late;
      c.updates++;
      c.totalLatenessMs += lateness;
      if (lateness > c.maxLatenessMs) c.maxLatenessMs = lateness;
    }
  }

  private dlq(rec: RawRecord, reason: DlqReason, detail: string, key: string | null): OutputRecord {
    this.counters.dlq[reason]++;
    return {
      kind: 'dlq',
      key,
      value: rec.value ?? '',
      reason,
      headers: { 'cb-dlq-reason': reason, 'cb-dlq-detail': detail, 'cb-source-partition': String(rec.partition), 'cb-source-offset': rec.offset, 'cb-enrichment-version': this.version },
    };
  }

  process(rec: RawRecord, key: string | null): OutputRecord {
    this.counters.processed++;
    const size = rec.value === null ? 0 : typeof rec.value === 'string' ? Buffer.byteLength(rec.value) : rec.value.length;
    if (size > this.cfg.max_event_bytes) return this.dlq(rec, 'oversized', `${size} bytes > ${this.cfg.max_event_bytes}`, key);
    let e: Record<string, any>;
    const text = rec.value === null ? '' : rec.value.toString();
    try {
      e = JSON.parse(text);
      if (e === null || typeof e !== 'object' || Array.isArray(e)) throw new Error('not an object');
    } catch (err) {
      return this.dlq(rec, 'malformed_json', (err as Error).message.slice(0, 120), key);
    }
    for (const [field, type] of REQUIRED) {
      if (!(field in e) || e[field] === null) return this.dlq(rec, 'missing_field', field, key);
      if (typeof e[field] !== type) return this.dlq(rec, 'wrong_type', `${field} is ${typeof e[field]}, expected ${type}`, key);
    }
    if (!KNOWN_TYPES.has(e.event_type)) return this.dlq(rec, 'unknown_event_type', String(e.event_type).slice(0, 60), key);
    return this.enrich(rec, e, key, text);
  }

  private enrich(rec: RawRecord, e: Record<string, any>, key: string | null, text: string): OutputRecord {
    const eventMs: number = e.event_time;
    const anon: string = e.anonymous_id;
    // Identity: a login merges the anonymous visitor into the user.
    if (e.event_type === 'identity_update' && typeof e.merged_user_id === 'string') {
      const prev = this.persons.get(anon);
      this.identity.set(anon, e.merged_user_id);
      this.counters.merges++;
      // Carry the anonymous visitor's campaign touch over to the person it merged into.
      const user = this.personState(e.merged_user_id);
      if (prev?.touch && (!user.touch || prev.touch.at > user.touch.at)) user.touch = prev.touch;
    }
    const userId: string | null = typeof e.user_id === 'string' ? e.user_id : this.identity.get(anon) ?? null;
    const personId = userId ?? anon;
    const person = this.personState(personId);

    // Server-side session by inactivity.
    if (eventMs - person.lastEventMs > this.cfg.session_gap || person.lastEventMs === -Infinity) {
      person.session++;
      person.seq = 0;
    }
    person.lastEventMs = Math.max(person.lastEventMs, eventMs);
    person.seq++;

    // Campaign touches and last-touch attribution within the window.
    if (e.event_type === 'campaign_touch' && typeof e.campaign_id === 'string') person.touch = { campaign_id: e.campaign_id, at: eventMs };
    let attribution: Record<string, unknown> | null = null;
    if (person.touch && eventMs - person.touch.at <= this.cfg.attribution_window) {
      const c = this.tables.campaigns.get(person.touch.campaign_id);
      attribution = { campaign_id: person.touch.campaign_id, channel: c?.channel ?? null, cost_per_click: c?.cost_per_click ?? null, touched_at: person.touch.at };
      this.counters.attributed++;
    }

    // Profile valid at event time (if it has arrived), with late-update bookkeeping.
    let shown: ShownProfile | null = null;
    let profileEffective = -1;
    if (userId) {
      const v = this.tables.profileAt(userId, eventMs);
      if (v) {
        profileEffective = v.effective_time;
        this.counters.profileAsOf.joins++;
        if (this.tables.isOlderThanNewest(userId, v)) this.counters.profileAsOf.earlierVersion++;
        shown = this.shownProfile(v);
        this.counters.masked.piiFieldsWithheld += shown.piiWithheld;
      } else this.counters.profileMisses++;
      let recent = this.recentByUser.get(userId);
      if (!recent) this.recentByUser.set(userId, (recent = new RecentJoins()));
      recent.add(eventMs, profileEffective);
    }

    let product: Record<string, unknown> | null = null;
    let productJson = 'null';
    if (typeof e.product_id === 'string') {
      const p = this.tables.catalog.get(e.product_id);
      if (p) {
        product = { category: p.category, brand: p.brand, price: p.price };
        productJson = this.productJson.get(p) ?? '';
        if (productJson === '') this.productJson.set(p, (productJson = JSON.stringify(product)));
      }
      else this.counters.catalogMisses++;
    }

    const risk = this.riskScore(e, person, eventMs);

    // Governance. Consent from the consent table (source of truth), else the event's own state.
    const consent = this.tables.consent.has(anon) ? this.tables.consent.get(anon)! : consentBits(e.consent);
    const serverSession = `${personId}:${person.session}`;
    let profile: Record<string, unknown> | null = null;
    let profileJson = 'null';
    if (shown) {
      // Without personalization consent, the profile without its personalization fields.
      if ((consent & CONSENT_BIT.personalization) === 0 && shown.impersonal !== shown.fields) {
        profile = shown.impersonal;
        profileJson = shown.impersonalJson;
        this.counters.masked.personalizationDropped++;
      } else {
        profile = shown.fields;
        profileJson = shown.fieldsJson;
      }
    }
    this.counters.enriched++;
    const headers: Record<string, string> = {
      'cb-schema-version': String(e.schema_version),
      'cb-enrichment-version': this.version,
      'cb-source-partition': String(rec.partition),
      'cb-source-offset': rec.offset,
      'cb-raw-append-ms': String(rec.timestampMs),
    };
    if (typeof e.intended_time === 'number') headers['cb-intended-ms'] = String(e.intended_time);
    const riskLevel = this.version === 'v2' ? (risk.score >= RISK_RULES.v2.flagAt ? 'high' : risk.score > 0 ? 'elevated' : 'low') : undefined;
    // The event's own fields unchanged (its consent as the table has it, its user id kept, nothing to
    // pseudonymize): the output is its JSON text with the enrichment's fields appended, the same object
    // JSON.stringify of the whole would give (for the generator's events the same bytes, a unit test
    // checks), without serializing the event's fields again. On the enrichment bench's stream 48 % of the
    // events take this path (the rest: no analytics consent, or their own consent not the table's), and the
    // enricher alone took 0.86–0.90× the time of serializing every output whole (interleaved, in-process).
    if ((consent & this.pseudoBit) !== 0 && !this.wholeJson) {
      const end = rawEnd(text);
      if (end > 0 && keepsRaw(e, consent, userId)) {
        // As JSON.stringify writes them: the profile and product from their JSON made once, the rest here.
        const user = e.user_id === undefined ? `,"user_id":${userId === null ? 'null' : JSON.stringify(userId)}` : '';
        const riskJson = risk.signals.length === 0 ? `{"score":${risk.score},"signals":[]}` : JSON.stringify(risk);
        const level = riskLevel === undefined ? '' : `,"risk_level":"${riskLevel}"`;
        this.appendedOutputs++;
        return {
          kind: 'enriched',
          key,
          value: `${text.slice(0, end)},"person_id":${JSON.stringify(personId)}${user},"server_session":{"id":${JSON.stringify(serverSession)},"seq":${person.seq}},"profile":${profileJson},"product":${productJson},"attribution":${attribution === null ? 'null' : JSON.stringify(attribution)},"risk":${riskJson}${level},"enrichment_version":"${this.version}"}`,
          headers,
        };
      }
    }
    // The parsed event becomes the output, its consent field replaced in place as the table has it (without
    // `delete`, which turns the object into a slow dictionary, and JSON.stringify with it; a rest-pattern copy
    // of the event without it cost ~1 µs per event, 7 % of the enricher, timed on the enricher alone).
    const out = e as Record<string, unknown>;
    out.consent = { analytics: (consent & 1) !== 0, marketing: (consent & 2) !== 0, personalization: (consent & 4) !== 0 };
    out.person_id = personId;
    out.user_id = userId;
    if ((consent & this.pseudoBit) === 0) {
      for (const f of this.pseudoFields) {
        if (f === 'session_id' && typeof out.session_id === 'string') out.session_id = this.pseudonym(out.session_id as string);
        else if (typeof out[f] === 'string') out[f] = this.pseudonym(out[f] as string);
      }
      if (typeof out.merged_user_id === 'string') out.merged_user_id = this.pseudonym(out.merged_user_id);
      if (typeof out.profile_user_id === 'string') out.profile_user_id = this.pseudonym(out.profile_user_id);
      out.server_session = { id: this.pseudonym(serverSession), seq: person.seq };
      this.counters.masked.pseudonymized++;
      if (typeof out.ip === 'string') {
        out.ip = truncateIp(out.ip as string, this.ipMaskBits);
        this.counters.masked.ipTruncated++;
      }
    } else out.server_session = { id: serverSession, seq: person.seq };
    out.profile = profile;
    out.product = product;
    out.attribution = attribution;
    out.risk = risk;
    if (riskLevel !== undefined) out.risk_level = riskLevel;
    out.enrichment_version = this.version;
    return { kind: 'enriched', key, value: JSON.stringify(out), headers };
  }

  /**
   * What an event shows of a profile version, made once per version (the same for every event that joins it):
   * its fields without PII, user_id and effective_time, and the same without the personalization fields.
   * Shared by the events' outputs, which only serialize them.
   */
  private shownProfile(v: ProfileVersion): ShownProfile {
    let shown = this.shown.get(v);
    if (shown) return shown;
    const fields: Record<string, unknown> = {};
    // Built beside it without the personalization fields (not copied and `delete`d from: a slow dictionary object).
    const withoutPersonal: Record<string, unknown> = {};
    let personal = false;
    let piiWithheld = 0;
    for (const k in v.fields) {
      if (this.pii.has(k)) {
        piiWithheld++;
        continue;
      }
      if (k === 'user_id' || k === 'effective_time') continue;
      fields[k] = v.fields[k];
      if (this.personalization.has(k)) personal = true;
      else withoutPersonal[k] = v.fields[k];
    }
    const impersonal = personal ? withoutPersonal : fields;
    const fieldsJson = JSON.stringify(fields);
    this.shown.set(v, (shown = { fields, impersonal, piiWithheld, fieldsJson, impersonalJson: personal ? JSON.stringify(impersonal) : fieldsJson }));
    return shown;
  }

  private personState(id: string): PersonState {
    let p = this.persons.get(id);
    if (!p) this.persons.set(id, (p = { lastEventMs: -Infinity, session: 0, seq: 0, velocity: { windowStart: -1, count: 0 } }));
    return p;
  }

  private bumps = 0;
  /** An event of this IP counted in its window (the users' windows are kept in their PersonState). */
  private bumpIp(ip: string, eventMs: number): number {
    // Windows that ended a minute ago can never count again: drop them now and then (one entry per
    // IP ever seen otherwise, a steady growth of the stage's memory).
    if (++this.bumps % 100_000 === 0) for (const [k, w] of this.ipVelocity) if (w.windowStart < eventMs - (eventMs % WINDOW_MS) - 60_000) this.ipVelocity.delete(k);
    let v = this.ipVelocity.get(ip);
    if (!v) this.ipVelocity.set(ip, (v = { windowStart: -1, count: 0 }));
    return countIn(v, eventMs);
  }

  private riskScore(e: Record<string, any>, person: PersonState, eventMs: number): { score: number; signals: string[] } {
    const rules = RISK_RULES[this.version];
    const signals: string[] = [];
    let score = 0;
    if (typeof e.user_agent === 'string' && BOT_UA.test(e.user_agent)) {
      score += rules.botUa;
      signals.push('bot_user_agent');
    }
    const perUser = countIn(person.velocity, eventMs);
    if (perUser > rules.userPer10s[0]) {
      score += rules.userPer10s[1];
      signals.push('user_velocity');
    }
    if (typeof e.ip === 'string') {
      const perIp = this.bumpIp(e.ip, eventMs);
      if (perIp > rules.ipPer10s[0]) {
        score += rules.ipPer10s[1];
        signals.push('ip_velocity');
      }
    }
    if (rules.noReferrerBurst && e.referrer == null && perUser > rules.noReferrerBurst[0]) {
      score += rules.noReferrerBurst[1];
      signals.push('no_referrer_burst');
    }
    score = Math.min(100, score);
    if (score >= rules.flagAt) this.counters.risk.flagged++;
    for (const s of signals) this.counters.risk.bySignal[s] = (this.counters.risk.bySignal[s] ?? 0) + 1;
    return { score, signals };
  }

  private pseudonym(v: string): string {
    let h = this.pseudoCache.get(v);
    if (h === undefined) {
      h = 'h_' + createHash('sha256').update(this.cfg.governance.salt).update('\0').update(v).digest('base64url').slice(0, 22);
      if (this.pseudoCache.size > 50_000) this.pseudoCache.clear(); // bounded: ~6 MB (at 500 000 it was most of a long run's heap growth)
      this.pseudoCache.set(v, h);
    }
    return h;
  }
}

/** The fields the enricher adds after the event's own (an event that has one of them is serialized whole). */
const ADDED = ['person_id', 'server_session', 'profile', 'product', 'attribution', 'risk', 'risk_level', 'enrichment_version'];

/**
 * Whether the parsed event's own fields stay as they are in the output: its consent already the table's (the
 * same three flags in the order the output writes them), its user id kept (a string, or null when no merge
 * names one; absent, the output adds it after person_id as JSON.stringify would), none of the added fields.
 */
function keepsRaw(e: Record<string, any>, consent: number, userId: string | null): boolean {
  const u = e.user_id;
  if (!(typeof u === 'string' || u === undefined || (u === null && userId === null))) return false;
  const c = e.consent;
  if (c === null || typeof c !== 'object') return false;
  let i = 0;
  for (const k in c) {
    const v = c[k];
    if (i === 0 ? k !== 'analytics' || v !== ((consent & 1) !== 0) : i === 1 ? k !== 'marketing' || v !== ((consent & 2) !== 0) : i === 2 ? k !== 'personalization' || v !== ((consent & 4) !== 0) : true) return false;
    i++;
  }
  if (i !== 3) return false;
  for (const k of ADDED) if (e[k] !== undefined) return false;
  return true;
}

/** Where the closing brace of an object's JSON text is (trailing white space allowed), or -1. */
function rawEnd(text: string): number {
  let i = text.length - 1;
  while (i > 0 && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 10 || text.charCodeAt(i) === 13 || text.charCodeAt(i) === 9)) i--;
  return text.charCodeAt(i) === 125 ? i : -1;
}

/**
 * Keep the first `bits` bits of an IPv4 address (zero the rest); other strings become "redacted": anything but
 * four dot-separated groups of 1–3 digits. Read a character at a time (half the events pass here: a split,
 * four regular expressions and a join cost ~0.7 µs of the stage's CPU per event, V8 profiler, 2026-12-07).
 */
export function truncateIp(ip: string, bits: number): string {
  let n = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= ip.length; i++) {
    const c = i < ip.length ? ip.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || ++parts > 4) return 'redacted';
      n = n * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      part = part * 10 + c - 48;
      digits++;
    } else return 'redacted';
  }
  if (parts !== 4) return 'redacted';
  const m = n - (n % 2 ** (32 - bits));
  return `${m >>> 24}.${(m >>> 16) & 255}.${(m >>> 8) & 255}.${m & 255}`;
}
