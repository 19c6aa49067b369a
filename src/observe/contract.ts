/**
 * The event contract checked record by record: every injected bad record the cluster acknowledged is
 * looked up in the DLQ by where it landed in the raw topic (the DLQ record's cb-source-partition and
 * cb-source-offset headers). Counting DLQ records instead would let a replay's second copy of one
 * bad record stand in for another that was lost.
 */
import type { AckedBadRecord } from '../drive/driver.js';
import type { BadRecordKind } from '../scenario/schema.js';

export interface BadRecordCheck {
  measured: true;
  method: string;
  /** Injected bad records the cluster acknowledged. */
  acked: number;
  /** Found in the DLQ (any generation) with a reason. */
  found: number;
  /** Acknowledged, with a known raw position, and in no DLQ record. */
  missing: number;
  /** Acknowledged without a raw position (the produce response gave none): not checkable. */
  unlocated: number;
  /** Found with a reason other than the kind injected (e.g. an oversized record that is also malformed). */
  otherReason: number;
  byKind: Partial<Record<BadRecordKind, { acked: number; found: number }>>;
  /** Up to five missing records, to look up by hand. */
  missingExamples: { seq: number; kind: BadRecordKind; partition: number; offset: string }[];
}

export function checkBadRecords(bad: readonly AckedBadRecord[], dlqBySource: ReadonlyMap<string, string>): BadRecordCheck {
  const out: BadRecordCheck = {
    measured: true,
    method: 'each acknowledged bad record (raw partition and offset from the produce response) looked up in the DLQ records the probe read (their cb-source-partition / cb-source-offset headers), any generation',
    acked: bad.length, found: 0, missing: 0, unlocated: 0, otherReason: 0, byKind: {}, missingExamples: [],
  };
  for (const b of bad) {
    const k = (out.byKind[b.kind] ??= { acked: 0, found: 0 });
    k.acked++;
    if (b.offset === null) {
      out.unlocated++;
      continue;
    }
    const reason = dlqBySource.get(`${b.partition}:${b.offset}`);
    if (reason === undefined || reason === '') {
      out.missing++;
      if (out.missingExamples.length < 5) out.missingExamples.push({ seq: b.seq, kind: b.kind, partition: b.partition, offset: b.offset });
      continue;
    }
    out.found++;
    k.found++;
    if (reason !== b.kind) out.otherReason++;
  }
  return out;
}

export interface RetentionCheck {
  measured: true;
  topic: string;
  /** The scenario's policy (topics.retention). */
  expectedMs: number;
  /** As the cluster reports it (null: not reported). */
  actualMs: number | null;
  cleanupPolicy: string | null;
  /** Records older than the policy are deleted: retention.ms equals it and cleanup.policy includes delete. */
  matches: boolean;
}

/** The sink's retention and deletion settings as the cluster reports them, against the scenario's policy (pure). */
export function retentionCheck(topic: string, expectedMs: number, configs: Record<string, string | null>): RetentionCheck {
  const raw = configs['retention.ms'];
  const actualMs = raw === null || raw === undefined || !/^-?\d+$/.test(raw) ? null : Number(raw);
  const cleanupPolicy = configs['cleanup.policy'] ?? null;
  const deletes = (cleanupPolicy ?? '').split(',').map((x) => x.trim()).includes('delete');
  return { measured: true, topic, expectedMs, actualMs, cleanupPolicy, matches: actualMs === expectedMs && deletes };
}
