import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { removeDirs, sandboxLogBytes, segmentBytes, withoutRemoteUuid } from '../../src/sandbox/logdirs.js';
import { takeOwnedDir } from '../../src/sandbox/owned.js';

describe('log dir walking (sandbox/logdirs)', () => {
  const root = mkdtempSync(join(tmpdir(), 'cb-logdirs-'));
  takeOwnedDir(root, 'test log dir'); // removal happens only inside folders clickbench marked (test/unit/owned.test.ts)
  const file = (path: string, bytes: number) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), Buffer.alloc(bytes));
  };
  file('run1.clicks.raw-0/00000000000000000000.log', 100);
  file('run1.clicks.raw-0/00000000000000000000.index', 7);
  file('run1.clicks.raw-1/00000000000000000000.log', 50);
  file('run1.clicks.raw-1/00000000000000000300.log', 25);
  file('other-0/00000000000000000000.log', 1000);
  file('remote/run1.clicks.raw-0-AbCdEfGhIjKlMnOpQrStUv/00000000000000000000.log', 400);
  file('__cluster_metadata-0/00000000000000000000.log', 9);

  it('sums only .log files below the directories it is told to count, at any depth', () => {
    assert.equal(segmentBytes(root, (n) => n.startsWith('run1.')), 175 + 400);
    assert.equal(segmentBytes(root, (n) => n === 'run1.clicks.raw-1'), 75);
    assert.equal(segmentBytes(join(root, 'remote'), (n) => withoutRemoteUuid(n) === 'run1.clicks.raw-0'), 400);
    assert.equal(segmentBytes(join(root, 'missing'), () => true), 0);
  });
  it('the ground truth of a run\'s disk: its topics\' segments, without the history topic or replicas Kafka retired (-delete after a reassignment, -stray)', () => {
    const r3 = mkdtempSync(join(tmpdir(), 'cb-logdirs-retired-'));
    const put = (d: string, bytes: number) => {
      mkdirSync(join(r3, d), { recursive: true });
      writeFileSync(join(r3, d, '00000000000000000000.log'), Buffer.alloc(bytes));
    };
    put('run1.clicks.raw-0', 100);
    put('run1.clicks.raw-1.0123456789abcdef0123456789abcdef-delete', 70);
    put('run1.clicks.raw-2.0123456789abcdef0123456789abcdef-stray', 30);
    put('run1.history-0', 500);
    put('run2.clicks.raw-0', 9);
    assert.equal(sandboxLogBytes([r3], 'run1', ['run1.history']), 100);
    assert.equal(sandboxLogBytes([r3], 'run1'), 600);
    rmSync(r3, { recursive: true });
  });
  it('a directory Kafka deletes while the walk runs (a deleted topic\'s -delete dir) is skipped, not an error', () => {
    const r2 = mkdtempSync(join(tmpdir(), 'cb-logdirs-race-'));
    for (const d of ['a.raw-0', 'b.probe-0-delete', 'c.raw-0']) {
      mkdirSync(join(r2, d));
      writeFileSync(join(r2, d, '00000000000000000000.log'), Buffer.alloc(10));
    }
    // The first decision (whichever directory the listing gives first) deletes the -delete directory, as
    // Kafka's delayed delete would between the listing and reading it: its walk then finds it gone.
    let removed = false;
    const counted = (n: string) => {
      if (!removed) {
        removed = true;
        rmSync(join(r2, 'b.probe-0-delete'), { recursive: true });
      }
      return n.endsWith('.raw-0');
    };
    assert.equal(segmentBytes(r2, counted), 20);
    rmSync(r2, { recursive: true });
  });
  it('removes the directories it is told to, directly under the log dir, and nothing else', () => {
    assert.equal(removeDirs(root, (n) => n.startsWith('run1.')), 2);
    assert.equal(existsSync(join(root, 'run1.clicks.raw-0')), false);
    assert.equal(existsSync(join(root, 'other-0')), true);
    assert.equal(existsSync(join(root, 'remote', 'run1.clicks.raw-0-AbCdEfGhIjKlMnOpQrStUv')), true);
    rmSync(root, { recursive: true, force: true });
  });
});
