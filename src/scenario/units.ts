/** Durations and sizes as people write them in a scenario: "90s", "2m30s", "7d", "1.5h"; "1MiB", "512KB". */

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
export const DURATION_PATTERN = /^\s*(\d+(?:\.\d+)?(?:ms|s|m|h|d))+\s*$/;

/** Parse "1h30m", "90s", "250ms", or a bare number of seconds, into milliseconds. Undefined when not a duration. */
export function parseDurationMs(v: string | number): number | undefined {
  return finite(parseDuration(v));
}

/** A figure that overflowed (a 400-digit number of seconds) is not a duration or a size. */
const finite = (x: number | undefined): number | undefined => (x !== undefined && Number.isFinite(x) ? x : undefined);

function parseDuration(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v * 1_000 : undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(v)) return Number(v) * 1_000;
  if (!DURATION_PATTERN.test(v)) return undefined;
  let total = 0;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(m[1]) * DURATION_UNITS_MS[m[2]];
  return total;
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };
export const SIZE_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)?\s*$/i;

export function parseSizeBytes(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : undefined;
  const m = SIZE_PATTERN.exec(v);
  if (!m) return undefined;
  return finite(Math.round(Number(m[1]) * SIZE_UNITS[(m[2] ?? 'b').toLowerCase()]));
}

export function formatDurationMs(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
