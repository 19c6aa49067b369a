/**
 * 1730 → "1,730" without Intl, for text made while a command starts (an option's help, a module's
 * constants): `toLocaleString` initializes ICU's number formatting on first use, ~15–35 ms of a start
 * here (V8's profiler; every command builds every command's options, `--version` included).
 */
export const thousands = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
