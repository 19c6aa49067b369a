/** Limits of the enrichment stage that reports quote (kept apart from stage.ts, which loads the Kafka client). */

/**
 * A rack-aware lookup-table load that makes no progress this long is redone from the leaders (counted
 * as a table fallback). It was 10 s; a rollback's stage spent those 10 s with the live pipeline stopped.
 */
export const TABLE_STALL_MS = 4_000;
/**
 * Longest a fetch waits on the broker for records (Kafka's fetch.max.wait.ms, 500 ms in the Java
 * consumer; kafkajs's default is 5 000). kafkajs runs a fetcher per broker, and one with no partitions
 * to read sleeps this long; with rack-aware fetching every partition is read from the zone's replica,
 * so the other brokers' fetchers sleep. Stopping a consumer waits for its fetchers: at 5 s the stage's
 * stop took 4.9 s and its table consumer's 4.0 s, and a quickstart's rollback had v1 down ~14 s (0.8 s
 * with this and the group's offsets set without a join). (Whether the sleeping fetchers also stall a
 * partition whose replica choice lapses was checked: a rack-aware consumer at 1 000 records/s for 60 s
 * saw per-partition gaps of at most 148 ms at 5 s and 117 ms at 500 ms — no.)
 */
export const FETCH_MAX_WAIT_MS = 500;

/** Longest a dual-run's other stage may go on after its window ends to enrich the window's events (the next phase begins that much later). */
export const DUAL_RUN_FINISH_MS = 10_000;
