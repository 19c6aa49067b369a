/** Limits of the enrichment stage that reports quote (kept apart from stage.ts, which loads the Kafka client). */

/**
 * A rack-aware lookup-table load that makes no progress this long is redone from the leaders (counted
 * as a table fallback). It was 10 s; a rollback's stage spent those 10 s with the live pipeline stopped.
 */
export const TABLE_STALL_MS = 4_000;
