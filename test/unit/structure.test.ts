import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

/** dependency-cruiser with the project's rules (.dependency-cruiser.cjs) over a folder; exit code and output. */
function cruise(dir: string): { status: number | null; output: string } {
  const r = spawnSync('node_modules/.bin/depcruise', [dir, '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('module structure (dependency-cruiser)', () => {
  it('src has no import cycles, report and score do not import the command line, no orphan modules', () => {
    const r = cruise('src');
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /no dependency violations found \(\d+ modules/);
  });
  it('the rules do catch a cycle (so the check above can fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-cycle-'));
    try {
      mkdirSync(join(dir, 'x'));
      writeFileSync(join(dir, 'x', 'a.ts'), "import { b } from './b.js';\nexport const a = () => b;\n");
      writeFileSync(join(dir, 'x', 'b.ts'), "import { a } from './a.js';\nexport const b = () => a;\n");
      const r = cruise(dir);
      assert.equal(r.status, 1, r.output);
      assert.match(r.output, /error no-circular: .*a\.ts/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
