import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { removeDirs, segmentBytes, withoutRemoteUuid } from '../../src/sandbox/logdirs.js';

describe('log dir walking (sandbox/logdirs)', () => {
  const root = mkdtempSync(join(tmpdir(), 'cb-logdirs-'));
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
  it('removes the directories it is told to, directly under the log dir, and nothing else', () => {
    assert.equal(removeDirs(root, (n) => n.startsWith('run1.')), 2);
    assert.equal(existsSync(join(root, 'run1.clicks.raw-0')), false);
    assert.equal(existsSync(join(root, 'other-0')), true);
    assert.equal(existsSync(join(root, 'remote', 'run1.clicks.raw-0-AbCdEfGhIjKlMnOpQrStUv')), true);
    rmSync(root, { recursive: true, force: true });
  });
});
