/** Versions, read once from the package manifests (never typed in twice). */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const manifestVersion = (file: string | URL): string => (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;

/** clickbench's own version (package.json; this file runs from dist/src/). */
export const CLICKBENCH_VERSION = manifestVersion(new URL('../../package.json', import.meta.url));

/** The installed version of a dependency, from its package.json; 'unknown' if it cannot be read. */
export function dependencyVersion(name: string): string {
  try {
    const require = createRequire(import.meta.url);
    // The package's entry point, then up to its manifest (some packages do not export ./package.json).
    let dir = require.resolve(name);
    for (let i = 0; i < 6; i++) {
      dir = dir.slice(0, dir.lastIndexOf('/'));
      try {
        const m = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8')) as { name?: string; version?: string };
        if (m.name === name && m.version) return m.version;
      } catch {
        // not here: one level up
      }
    }
  } catch {
    // not installed
  }
  return 'unknown';
}
