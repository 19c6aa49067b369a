/** Limits of the enrichment stage that reports quote (kept apart from stage.ts, which loads the Kafka client). */

/**
 * A rack-aware lookup-table load that makes no progress this long is redone from the leaders (counted
 * as a table fallback). It was 10 s; a rollback's stage spent those 10 s with the live pipeline stopped.
 */
export const TABLE_STALL_MS = 4_000;
/**
 * Longest a fetch waits on the broker for records (Kafka's fetch.max.wait.ms, 500 ms in the Java
 * consumer; kafkajs's default is 5 000). It also bounds a kafkajs quirk: each broker has a fetcher, and
 * one with no partitions to read sleeps this long. With rack-aware fetching every partition is read from
 * the zone's replica, so the other brokers' fetchers sleep; every metadataMaxAge a partition's replica
 * choice lapses and it goes back to its leader's fetcher, which may be mid-sleep: at 5 s the partitions
 * of one leader could stand still up to ~5 s while records waited (the likely cause of a third of the
 * input partitions stalling ~5 s in a red quickstart's burst). And stopping a consumer waits for its
 * fetchers: the stage's stop took 4.9 s and its table consumer's 4.0 s (a rollback's v1 was down ~14 s;
 * 0.8 s with this and the group offsets set without a join).
 */
export const FETCH_MAX_WAIT_MS = 500;
