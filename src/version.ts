/**
 * Where clickbench is installed, and versions read once from the package manifests (never typed in
 * twice). The code runs from dist/src/ (tsc) or dist/bundle/ (the CLI's bundle): the package root is
 * found by walking up to clickbench's own package.json, not by a fixed number of `..`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(from: string): { root: string; version: string } {
  let dir = from;
  for (;;) {
    try {
      const m = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (m.name === 'clickbench' && m.version) return { root: dir, version: m.version };
    } catch {
      // no manifest here: one level up
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`clickbench's package.json not found above ${from}`);
    dir = up;
  }
}

const pkg = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

/** The folder holding clickbench's package.json (bin/, sandbox/, scenarios/ are under it). */
export const PACKAGE_ROOT = pkg.root;

/** clickbench's own version (package.json). */
export const CLICKBENCH_VERSION = pkg.version;

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
