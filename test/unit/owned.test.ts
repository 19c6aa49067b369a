import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ClickbenchError } from '../../src/errors.js';
import { removeDirs } from '../../src/sandbox/logdirs.js';
import { assertOwnable, isLegacyJarDir, isLegacySandboxDir, OWNED_MARKER, ownerOf, removeInsideOwned, removeOwnedDir, takeOwnedDir } from '../../src/sandbox/owned.js';
import { Sandbox } from '../../src/sandbox/cluster.js';

const scratch = () => mkdtempSync(join(tmpdir(), 'cb-owned-'));
/** A folder as a user has it: files clickbench did not make. */
const userFolder = () => {
  const d = join(scratch(), 'work');
  mkdirSync(join(d, 'src'), { recursive: true });
  writeFileSync(join(d, 'notes.txt'), 'mine');
  writeFileSync(join(d, 'src', 'a.ts'), 'export {}');
  return d;
};
const refused = (fn: () => unknown, re: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof ClickbenchError && re.test(e.message) && e.exitCode === 2);

describe('folders clickbench may delete: only those it made and marked', () => {
  it('a non-empty folder without a marker is refused by every removal, and nothing in it changes', () => {
    const d = userFolder();
    refused(() => assertOwnable(d, 'sandbox state directory'), /is not empty and was not made by clickbench/);
    refused(() => takeOwnedDir(d, 'sandbox state directory'), /refusing to reuse and empty it/);
    refused(() => removeOwnedDir(d, 'sandbox state directory'), /refusing to remove it/);
    refused(() => removeInsideOwned(d, join(d, 'src'), 'sandbox node folder'), /refusing to remove part of it/);
    assert.throws(() => removeDirs(d, () => true), /not inside a folder clickbench made/);
    assert.deepEqual(readdirSync(d).sort(), ['notes.txt', 'src']);
    assert.equal(readFileSync(join(d, 'src', 'a.ts'), 'utf8'), 'export {}');
  });

  it('a folder clickbench creates is marked, emptied on reuse, and removed whole', () => {
    const d = join(scratch(), 'sandbox');
    takeOwnedDir(d, 'sandbox state directory');
    assert.deepEqual(readdirSync(d), [OWNED_MARKER]);
    assert.equal(JSON.parse(readFileSync(join(d, OWNED_MARKER), 'utf8')).createdFolder, true);
    mkdirSync(join(d, 'node-1'));
    writeFileSync(join(d, 'state.json'), '{}');
    takeOwnedDir(d, 'sandbox state directory');
    assert.deepEqual(readdirSync(d), [OWNED_MARKER], 'reused: emptied, still marked');
    mkdirSync(join(d, 'node-2', 'data'), { recursive: true });
    removeInsideOwned(d, join(d, 'node-2'), 'sandbox node folder');
    assert.equal(existsSync(join(d, 'node-2')), false);
    assert.throws(() => removeInsideOwned(d, join(d, '..'), 'sandbox node folder'), /is not inside/);
    assert.throws(() => removeInsideOwned(d, d, 'sandbox node folder'), /is not inside/);
    removeOwnedDir(d, 'sandbox state directory');
    assert.equal(existsSync(d), false);
    removeOwnedDir(d, 'sandbox state directory'); // absent: nothing to do
  });

  it('an empty folder the user made is claimed; removing it empties it but leaves the folder', () => {
    const d = scratch();
    takeOwnedDir(d, 'sandbox state directory');
    writeFileSync(join(d, 'state.json'), '{}');
    removeOwnedDir(d, 'sandbox state directory');
    assert.equal(existsSync(d), true);
    assert.deepEqual(readdirSync(d), []);
  });

  it('partition folders are removed only below a marked folder', () => {
    const d = join(scratch(), 'sandbox');
    takeOwnedDir(d, 'sandbox state directory');
    const logDir = join(d, 'node-1', 'data');
    for (const t of ['run1.clicks.raw-0', 'run1.clicks.raw-1', 'other-0', '__cluster_metadata-0']) mkdirSync(join(logDir, t), { recursive: true });
    assert.equal(ownerOf(logDir), d);
    assert.equal(removeDirs(logDir, (n) => n.startsWith('run1.')), 2);
    assert.deepEqual(readdirSync(logDir).sort(), ['__cluster_metadata-0', 'other-0']);
  });

  it('what an earlier clickbench left without a marker is recognised by its own files, nothing looser', () => {
    const d = scratch();
    writeFileSync(join(d, 'state.json'), JSON.stringify({ nodes: [], stateDir: d, libDir: '/x' }));
    assert.equal(isLegacySandboxDir(d), true);
    writeFileSync(join(d, 'state.json'), JSON.stringify({ nodes: [] }));
    assert.equal(isLegacySandboxDir(d), false);
    writeFileSync(join(d, 'state.json'), 'not json');
    assert.equal(isLegacySandboxDir(d), false);
    const jars = scratch();
    writeFileSync(join(jars, 'kafka-clients-4.3.1.jar'), '');
    assert.equal(isLegacyJarDir(jars), true);
    writeFileSync(join(jars, 'README'), '');
    assert.equal(isLegacyJarDir(jars), false);
    assert.equal(isLegacyJarDir(scratch()), false, 'an empty folder is not a jar cache');
  });

  it('`sandbox up --state-dir <a user folder>` is refused before Java, Maven or any file is touched', async () => {
    const d = userFolder();
    await assert.rejects(
      Sandbox.start({ stateDir: d, nodes: 3, zones: ['a', 'b', 'c'], storage: 'local' } as Parameters<typeof Sandbox.start>[0]),
      (e: unknown) => e instanceof ClickbenchError && /sandbox state directory .*work is not empty and was not made by clickbench/.test(e.message) && e.exitCode === 2,
    );
    assert.deepEqual(readdirSync(d).sort(), ['notes.txt', 'src']);
  });
});
