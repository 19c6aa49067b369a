/**
 * The one place that walks a sandbox node's log dir (or the local remote tier): partition
 * directories are named `<topic>-<partition>` (the remote tier adds `-<22-char uuid>`), and their
 * `.log` files are the segments that hold records.
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ClickbenchError } from '../errors.js';
import { isLegacySandboxDir, OWNED_MARKER, ownerOf } from './owned.js';

/** Total size of `.log` files that sit below a directory whose name `counted` accepts, anywhere under `root` (0 when root is missing). */
export function segmentBytes(root: string, counted: (dirName: string) => boolean): number {
  if (!existsSync(root)) return 0;
  let total = 0;
  // Kafka deletes directories and segments while this walks (a deleted topic's `-delete` directory,
  // a segment past retention): one that vanished between listing and reading holds nothing now.
  const gone = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';
  const walk = (dir: string, inCounted: boolean) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      if (gone(err)) return;
      throw err;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p, inCounted || counted(e.name));
      else if (inCounted && e.name.endsWith('.log')) {
        try {
          total += statSync(p).size;
        } catch (err) {
          if (!gone(err)) throw err;
        }
      }
    }
  };
  walk(root, false);
  return total;
}

/**
 * A replica Kafka has retired but not yet removed: after a reassignment or a topic deletion its folder is
 * renamed `<topic>-<partition>.<uuid>-delete` and removed file.delete.delay.ms (60 s) later; a replica
 * KRaft finds the broker should not hold is renamed `-stray`. DescribeLogDirs reports neither.
 */
export const isRetiredReplicaDir = (name: string): boolean => /-(delete|stray)$/.test(name);

/**
 * Sum of `.log` segment sizes in the partition directories of topics starting with `<prefix>.` (recursively),
 * but the `exclude`d topics and retired replicas (which DescribeLogDirs does not count either).
 */
export function sandboxLogBytes(dirs: string[], prefix: string, exclude: string[] = []): number {
  const counted = (name: string) => name.startsWith(`${prefix}.`) && !isRetiredReplicaDir(name) && !exclude.some((t) => name.startsWith(`${t}-`));
  return dirs.reduce((total, d) => total + segmentBytes(d, counted), 0);
}

/**
 * Removes the directories directly under `logDir` whose name `remove` accepts; returns how many.
 * Only inside a folder clickbench owns (a sandbox state directory): anything else is refused.
 */
export function removeDirs(logDir: string, remove: (dirName: string) => boolean): number {
  if (!ownerOf(logDir, isLegacySandboxDir)) throw new ClickbenchError(`${logDir} is not inside a folder clickbench made (no ${OWNED_MARKER} above it): refusing to remove partition folders from it`, { exitCode: 3 });
  let n = 0;
  for (const e of readdirSync(logDir, { withFileTypes: true })) {
    if (e.isDirectory() && remove(e.name)) {
      rmSync(join(logDir, e.name), { recursive: true, force: true });
      n++;
    }
  }
  return n;
}

/** A remote-tier directory name without its uuid suffix: `<topic>-<partition>`. */
export const withoutRemoteUuid = (dirName: string) => dirName.replace(/-[A-Za-z0-9_-]{22}$/, '');
