/**
 * Cross-zone bytes measured outside clickbench: a per-zone byte export from the cloud provider's flow
 * logs or billing data, for clusters where clickbench cannot read kernel counters (external clusters).
 *
 * The file (CSV with a header row, or JSON: an array of objects, or { "records": [...] }) has one row
 * per interval and zone pair:
 *
 *   start,end,src_zone,dst_zone,bytes
 *   2026-12-03T14:31:00Z,2026-12-03T14:32:00Z,use1-az1,use1-az2,73400320
 *
 * start / end: ISO 8601 or epoch milliseconds, end after start; bytes: what went from src_zone to
 * dst_zone in [start, end). Filter the export to the cluster's brokers and the run's clients first:
 * clickbench cannot tell their bytes from other traffic. Rows with src_zone = dst_zone count as
 * same-zone. A phase's figure sums the rows it overlaps, each pro-rated by the share of its interval
 * inside the phase, and says how much of the phase the rows covered.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { ClickbenchError, ExitCode } from '../errors.js';

export interface FlowLogRow {
  startMs: number;
  endMs: number;
  srcZone: string;
  dstZone: string;
  bytes: number;
}

export interface FlowLogWindow {
  bytes: number;
  crossZoneBytes: number;
  /** Share (0–1) of the window covered by the file's intervals. */
  coverage: number;
}

/** A phase counts as measured by the file when its rows cover at least this share of it. */
export const FLOW_LOG_MIN_COVERAGE = 0.95;

const FIELDS = ['start', 'end', 'src_zone', 'dst_zone', 'bytes'] as const;

function fail(file: string, where: string, what: string): never {
  throw new ClickbenchError(`${file}${where}: ${what}`, { exitCode: ExitCode.usage, hint: `expected rows of ${FIELDS.join(',')} (CSV with a header, or JSON objects); README "What a run measures": measured cross-zone bytes on other clusters` });
}

function time(file: string, where: string, v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  const s = String(v ?? '').trim();
  if (/^\d+$/.test(s)) return Number(s);
  const t = Date.parse(s);
  if (!Number.isFinite(t)) fail(file, where, `${JSON.stringify(v)} is not a time (ISO 8601 or epoch ms)`);
  return t;
}

function row(file: string, where: string, o: Record<string, unknown>): FlowLogRow {
  for (const f of FIELDS) if (o[f] === undefined || o[f] === '') fail(file, where, `missing ${f}`);
  const startMs = time(file, where, o.start);
  const endMs = time(file, where, o.end);
  if (endMs <= startMs) fail(file, where, `end ${o.end} is not after start ${o.start}`);
  const bytes = Number(o.bytes);
  if (!Number.isFinite(bytes) || bytes < 0) fail(file, where, `bytes ${JSON.stringify(o.bytes)} is not a non-negative number`);
  return { startMs, endMs, srcZone: String(o.src_zone), dstZone: String(o.dst_zone), bytes };
}

/** Parse the file's text (pure). */
export function parseFlowLog(text: string, file: string): FlowLogRow[] {
  const json = extname(file).toLowerCase() === '.json' || /^\s*[[{]/.test(text);
  if (json) {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (err) {
      fail(file, '', `not JSON: ${(err as Error).message}`);
    }
    const records = Array.isArray(v) ? v : (v as { records?: unknown })?.records;
    if (!Array.isArray(records)) fail(file, '', 'expected an array of rows, or { "records": [...] }');
    return records.map((o, i) => row(file, ` record ${i + 1}`, (o ?? {}) as Record<string, unknown>));
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
  if (lines.length === 0) fail(file, '', 'empty');
  const header = lines[0].split(',').map((h) => h.trim().toLowerCase());
  for (const f of FIELDS) if (!header.includes(f)) fail(file, ' line 1', `the header has no ${f} column`);
  return lines.slice(1).map((l, i) => {
    const cells = l.split(',');
    return row(file, ` line ${i + 2}`, Object.fromEntries(header.map((h, j) => [h, cells[j]?.trim()])));
  });
}

export function readFlowLog(file: string): FlowLogRow[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ClickbenchError(`cannot read the cross-zone flow log ${file}: ${(err as Error).message}`, { exitCode: ExitCode.usage, hint: 'check the path named by measured_cross_zone (or --cross-zone-file)' });
  }
  return parseFlowLog(text, file);
}

/** The file's bytes within [fromMs, toMs): each row pro-rated by its overlap, and the share of the window the rows cover. */
export function flowLogWindow(rows: readonly FlowLogRow[], fromMs: number, toMs: number): FlowLogWindow {
  let bytes = 0;
  let cross = 0;
  const spans: [number, number][] = [];
  for (const r of rows) {
    const a = Math.max(r.startMs, fromMs);
    const b = Math.min(r.endMs, toMs);
    if (b <= a) continue;
    const share = ((b - a) / (r.endMs - r.startMs)) * r.bytes;
    bytes += share;
    if (r.srcZone !== r.dstZone) cross += share;
    spans.push([a, b]);
  }
  spans.sort((x, y) => x[0] - y[0]);
  let covered = 0;
  let end = fromMs;
  for (const [a, b] of spans) {
    const s = Math.max(a, end);
    if (b > s) covered += b - s;
    end = Math.max(end, b);
  }
  return { bytes: Math.round(bytes), crossZoneBytes: Math.round(cross), coverage: toMs > fromMs ? covered / (toMs - fromMs) : 0 };
}
