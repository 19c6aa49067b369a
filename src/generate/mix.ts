import { DEFAULT_MIX, EVENT_TYPES, type EventType } from '../scenario/event-kinds.js';
import type { Scenario } from '../scenario/schema.js';

/** The configured mix (the scenario's, else the default), as shares adding up to 1. */
export function normalizedMix(scenario: Pick<Scenario, 'events'>): Record<EventType, number> {
  const m = scenario.events.mix;
  const w = EVENT_TYPES.map((t) => (m ? m[t] ?? 0 : DEFAULT_MIX[t]));
  const total = w.reduce((a, b) => a + b, 0);
  return Object.fromEntries(EVENT_TYPES.map((t, i) => [t, w[i] / total])) as Record<EventType, number>;
}
