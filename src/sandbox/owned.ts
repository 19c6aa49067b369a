/**
 * Folders clickbench may delete: only those it created (or found empty and claimed) and marked.
 *
 * A marker file is written into such a folder when clickbench takes it; every recursive removal of a
 * sandbox state directory, a node's folder or a jar cache checks it first. A folder that exists, is
 * not empty and carries no marker is never removed: `--state-dir .` or `--state-dir ~/work` are
 * refused with one line instead of deleting the user's files.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { ClickbenchError } from '../errors.js';

export const OWNED_MARKER = '.clickbench-owned';

interface Marker {
  createdBy: 'clickbench';
  what: string;
  /** Whether clickbench made the folder itself (then removing it removes the folder too) or claimed it empty. */
  createdFolder: boolean;
  at: string;
}

function readMarker(dir: string): Marker | undefined {
  try {
    const m = JSON.parse(readFileSync(join(dir, OWNED_MARKER), 'utf8')) as Marker;
    return m?.createdBy === 'clickbench' ? m : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether clickbench owns `dir`: its marker, or `legacy` (what an earlier clickbench left without a
 * marker, recognised by its own files).
 */
export function isOwned(dir: string, legacy?: (dir: string) => boolean): boolean {
  return readMarker(dir) !== undefined || (legacy?.(dir) ?? false);
}

function refuse(dir: string, what: string, action: string): ClickbenchError {
  return new ClickbenchError(`${what} ${dir} is not empty and was not made by clickbench (no ${OWNED_MARKER} in it): refusing to ${action} it`, {
    exitCode: 2,
    hint: 'name a new or empty folder (clickbench creates and marks it), or remove that folder yourself if it is an old sandbox',
  });
}

/** Throws (changing nothing) unless `takeOwnedDir` may take `dir`: absent, empty, or owned. */
export function assertOwnable(dir: string, what: string, legacy?: (dir: string) => boolean): void {
  if (existsSync(dir) && readdirSync(dir).length > 0 && !isOwned(dir, legacy)) throw refuse(dir, what, 'reuse and empty');
}

/** The nearest folder at or above `path` that clickbench owns, if any. */
export function ownerOf(path: string, legacy?: (dir: string) => boolean): string | undefined {
  for (let dir = resolve(path); ; ) {
    if (existsSync(dir) && isOwned(dir, legacy)) return dir;
    const up = resolve(dir, '..');
    if (up === dir) return undefined;
    dir = up;
  }
}

/**
 * Make `dir` an empty folder clickbench owns: created and marked when absent, claimed and marked
 * when empty, emptied when clickbench already owns it. Anything else is refused before any change.
 */
export function takeOwnedDir(dir: string, what: string, legacy?: (dir: string) => boolean): void {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true });
    writeMarker(dir, what, true);
    return;
  }
  const entries = readdirSync(dir);
  if (entries.length === 0) {
    writeMarker(dir, what, false);
    return;
  }
  assertOwnable(dir, what, legacy);
  const createdFolder = readMarker(dir)?.createdFolder ?? true;
  for (const e of entries) if (e !== OWNED_MARKER) rmSync(join(dir, e), { recursive: true, force: true });
  writeMarker(dir, what, createdFolder);
}

/** Mark a folder clickbench just created (and filled) as its own. */
export function markOwned(dir: string, what: string): void {
  writeMarker(dir, what, true);
}

function writeMarker(dir: string, what: string, createdFolder: boolean): void {
  const m: Marker = { createdBy: 'clickbench', what, createdFolder, at: new Date().toISOString() };
  writeFileSync(join(dir, OWNED_MARKER), JSON.stringify(m) + '\n');
}

/**
 * Remove a folder clickbench owns: the folder itself if clickbench created it, else only what is in
 * it (a folder the user made empty for it stays). Absent: nothing to do. Not owned: refused.
 */
export function removeOwnedDir(dir: string, what: string, legacy?: (dir: string) => boolean): void {
  if (!existsSync(dir)) return;
  if (!isOwned(dir, legacy)) throw refuse(dir, what, 'remove');
  if (readMarker(dir)?.createdFolder === false) {
    for (const e of readdirSync(dir)) rmSync(join(dir, e), { recursive: true, force: true });
    return;
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Remove `child` (a path inside `owner`, a folder clickbench owns), never anything outside it. */
export function removeInsideOwned(owner: string, child: string, what: string, legacy?: (dir: string) => boolean): void {
  const rel = relative(resolve(owner), resolve(child));
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new ClickbenchError(`${what} ${child} is not inside ${owner}: refusing to remove it`, { exitCode: 3 });
  if (!existsSync(owner)) return;
  if (!isOwned(owner, legacy)) throw refuse(owner, what, 'remove part of');
  rmSync(child, { recursive: true, force: true });
}

/** A sandbox state directory an earlier clickbench made before folders were marked: its state.json, with its nodes. */
export function isLegacySandboxDir(dir: string): boolean {
  try {
    const st = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { nodes?: unknown; stateDir?: unknown; libDir?: unknown };
    return Array.isArray(st.nodes) && typeof st.stateDir === 'string' && typeof st.libDir === 'string';
  } catch {
    return false;
  }
}

/** A Kafka jar folder an earlier clickbench fetched before folders were marked: nothing but jars. */
export function isLegacyJarDir(dir: string): boolean {
  try {
    const entries = readdirSync(dir);
    return entries.length > 0 && entries.every((e) => e.endsWith('.jar'));
  } catch {
    return false;
  }
}
