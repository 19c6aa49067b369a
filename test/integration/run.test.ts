import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Results } from '../../src/run/results.js';
import { exited, sleep, spawnCli, testSandbox, waitUntil } from '../helpers.js';

// The quickstart end to end is test/integration/quickstart.fresh.test.ts (on a sandbox of its own, as a user runs it).
const sb = testSandbox();

describe('an interrupted run', () => {
  it('stops on Ctrl-C (SIGINT), writes its partial results and report, deletes its topics, exits 130', async () => {
    const reports = mkdtempSync(join(tmpdir(), 'cb-int-'));
    const child = spawnCli(['run', 'scenarios/quickstart.yaml', '--state-dir', sb.state.stateDir, '--reports', reports]);
    const started = await waitUntil(() => child.output.join('').includes('running 90 s of traffic'), 60_000, 100);
    assert.ok(started, child.output.join(''));
    await sleep(8_000);
    child.kill('SIGINT');
    await exited(child);
    assert.equal(child.exitCode, 130, child.output.join(''));
    const runDir = readdirSync(reports)[0];
    const partial: Results = JSON.parse(readFileSync(join(reports, runDir, 'results.json'), 'utf8'));
    assert.equal(partial.run.status, 'interrupted');
    assert.ok(partial.throughput.ackedEvents > 3_000 && partial.throughput.ackedEvents < 60_000, `${partial.throughput.ackedEvents} events before the stop`);
    assert.equal(partial.correctness.missing, 0, 'what was acknowledged before the stop was still accounted for');
    assert.ok(existsSync(join(reports, runDir, 'scorecard.md')));
    assert.match(readFileSync(join(reports, runDir, 'scorecard.md'), 'utf8'), /run INTERRUPTED/);
    assert.equal(partial.topics.deleted, true);
  });
});
