/** Flag parsers shared by the commands: one clear line on anything else. */
import { UsageError } from '../errors.js';

/** A commander parser for a whole-number flag. */
export function parseIntFlag(name: string) {
  return (v: string) => {
    if (!/^\d+$/.test(v)) throw new UsageError(`${name} must be a whole number, got "${v}"`);
    return Number(v);
  };
}
