/**
 * What a scenario's traffic looks like before it touches a cluster: achieved rate per second
 * against the curve, event-type mix, fitted Zipf exponent and top-1 % share of visitors, and
 * the per-partition load under Kafka's default (murmur2) partitioner.
 */
import { partitionForKey } from '../kafka/murmur2.js';
import { EVENT_TYPES, type EventType, type Scenario } from '../scenario/schema.js';
import { normalizedMix } from './mix.js';
import type { ClickstreamGenerator } from './clickstream.js';
import { fitZipfExponent, topKeyShare } from './zipf.js';

export interface SecondSample {
  second: number;
  intendedEvents: number;
  generatedEvents: number;
}

export interface TrafficStats {
  events: number;
  seconds: number;
  bytes: number;
  perSecond: SecondSample[];
  /** Worst |generated − intended| / intended over full seconds. */
  maxRateDeviation: number;
  /** Event-type shares among people's events (bots browse and search only). */
  mix: Record<EventType, number>;
  configuredMix: Record<EventType, number>;
  botShare: number;
  badRecords: number;
  lateProfileUpdates: number;
  visitors: { population: number; configuredZipf: number; fittedZipf: number; top1PctShare: number; top20PctShare: number };
  partitions: { count: number; events: number[]; maxOverMean: number; minOverMean: number; hottest: number };
}

export function collectStats(gen: ClickstreamGenerator, scenario: Scenario, limit: { events?: number; durationMs?: number }): TrafficStats {
  const users = scenario.population.users;
  const visitorCounts = new Float64Array(users);
  const partitions = scenario.topics.partitions;
  const perPartition = new Array<number>(partitions).fill(0);
  const partitionOfKey = new Map<string, number>();
  const typeCounts = Object.fromEntries(EVENT_TYPES.map((t) => [t, 0])) as Record<EventType, number>;
  const perSecondCount: number[] = [];
  let events = 0;
  let bytes = 0;
  let bots = 0;
  let bad = 0;
  let late = 0;
  let t0 = -1;
  const maxEvents = limit.events ?? Infinity;
  const maxMs = limit.durationMs ?? scenario.duration;
  while (events < maxEvents && gen.nextOffsetMs < maxMs) {
    const e = gen.next();
    if (t0 < 0) t0 = e.intendedMs;
    const sec = Math.floor((e.intendedMs - t0) / 1000);
    perSecondCount[sec] = (perSecondCount[sec] ?? 0) + 1;
    events++;
    bytes += e.value.length;
    if (e.visitor >= 0) {
      visitorCounts[e.visitor]++;
      typeCounts[e.type]++;
    } else bots++;
    if (e.bad) bad++;
    if (e.lateMs > 0) late++;
    let p = partitionOfKey.get(e.key);
    if (p === undefined) partitionOfKey.set(e.key, (p = partitionForKey(e.key, partitions)));
    perPartition[p]++;
  }
  const fullSeconds = Math.max(0, perSecondCount.length - (gen.nextOffsetMs % 1000 === 0 ? 0 : 1));
  const perSecond: SecondSample[] = [];
  let maxDev = 0;
  for (let s = 0; s < perSecondCount.length; s++) {
    const intended = gen.curve.expectedEvents(s * 1000, (s + 1) * 1000);
    const generated = perSecondCount[s] ?? 0;
    perSecond.push({ second: s, intendedEvents: Math.round(intended * 10) / 10, generatedEvents: generated });
    if (s < fullSeconds && intended > 0) maxDev = Math.max(maxDev, Math.abs(generated - intended) / intended);
  }
  const mean = events / partitions;
  const visitors = Array.from(visitorCounts);
  return {
    events,
    seconds: perSecondCount.length,
    bytes,
    perSecond,
    maxRateDeviation: maxDev,
    mix: Object.fromEntries(EVENT_TYPES.map((t) => [t, events - bots ? typeCounts[t] / (events - bots) : 0])) as Record<EventType, number>,
    configuredMix: normalizedMix(scenario),
    botShare: events ? bots / events : 0,
    badRecords: bad,
    lateProfileUpdates: late,
    visitors: {
      population: users,
      configuredZipf: scenario.population.user_zipf,
      fittedZipf: fitZipfExponent(visitorCounts),
      top1PctShare: topKeyShare(visitors, users, 0.01),
      top20PctShare: topKeyShare(visitors, users, 0.2),
    },
    partitions: {
      count: partitions,
      events: perPartition,
      maxOverMean: mean ? Math.max(...perPartition) / mean : 0,
      minOverMean: mean ? Math.min(...perPartition) / mean : 0,
      hottest: perPartition.indexOf(Math.max(...perPartition)),
    },
  };
}

