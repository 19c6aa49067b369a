import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { interruptHandler } from '../../src/cli/run.js';
import type { RunSignal } from '../../src/run/context.js';
import { sleep } from '../../src/sandbox/process.js';

describe('Ctrl-C during a run: stop, then quit after restoring, then force', () => {
  const setup = (restore?: () => Promise<void>, restoreMs = 1_000) => {
    const signal: RunSignal = { aborted: false, restore };
    const lines: string[] = [];
    const exits: number[] = [];
    const press = interruptHandler(signal, { err: (l) => lines.push(l) }, (c) => exits.push(c), restoreMs);
    return { signal, lines, exits, press };
  };

  it('the first press only asks the run to stop gracefully', () => {
    const t = setup();
    t.press();
    assert.equal(t.signal.aborted, true);
    assert.deepEqual(t.exits, []);
    assert.match(t.lines[0], /finishing what is in flight and writing a partial report/);
  });

  it('the second press puts back what the run broke, then exits 130', async () => {
    const done: string[] = [];
    const t = setup(async () => {
      await sleep(30);
      done.push('restored');
    });
    t.press();
    t.press();
    assert.match(t.lines[1], /first putting back what the run broke/);
    assert.deepEqual(t.exits, [], 'not before the restore ends');
    await sleep(60);
    assert.deepEqual(done, ['restored']);
    assert.deepEqual(t.exits, [130]);
  });

  it('a restore that hangs is given up after its time; one that fails is said', async () => {
    const hung = setup(() => new Promise(() => {}), 40);
    hung.press();
    hung.press();
    await sleep(20);
    assert.deepEqual(hung.exits, []);
    await sleep(60);
    assert.deepEqual(hung.exits, [130]);
    const failing = setup(async () => {
      throw new Error('node 2 did not start');
    });
    failing.press();
    failing.press();
    await sleep(10);
    assert.ok(failing.lines.some((l) => /could not put everything back: node 2 did not start/.test(l)));
    assert.deepEqual(failing.exits, [130]);
  });

  it('the third press quits at once, without waiting for the restore', () => {
    const t = setup(() => new Promise(() => {}), 100);
    t.press();
    t.press();
    t.press();
    assert.deepEqual(t.exits, [130]);
  });
});
