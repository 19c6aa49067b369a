/**
 * The event types, bad-record kinds and default mix of the scenario format, apart from its validator
 * (src/scenario/schema.ts re-exports them): the generator needs them, and `generate`'s worker threads
 * load the generator without zod (~50 ms of compiling and schema building per thread).
 */
export const EVENT_TYPES = [
  'page_view', 'search', 'product_view', 'add_to_cart', 'checkout',
  'consent_change', 'campaign_touch', 'identity_update', 'profile_update',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const BAD_RECORD_KINDS = ['malformed_json', 'missing_field', 'wrong_type', 'unknown_event_type', 'oversized'] as const;
export type BadRecordKind = (typeof BAD_RECORD_KINDS)[number];

/**
 * Default event mix: views dominate as in the Retailrocket data set (96.7 % views, 2.5 % carts,
 * 0.8 % transactions), spread over page/search/product views, plus the stateful event kinds.
 */
export const DEFAULT_MIX: Record<EventType, number> = {
  page_view: 0.34,
  search: 0.1,
  product_view: 0.42,
  add_to_cart: 0.025,
  checkout: 0.008,
  consent_change: 0.01,
  campaign_touch: 0.05,
  identity_update: 0.017,
  profile_update: 0.03,
};
