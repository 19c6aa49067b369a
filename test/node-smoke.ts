/**
 * The check of one more Node.js version (CI's Node 22 and 24 legs, `.ci/run`): run with the Node under test,
 * after `npm test` built dist/ on the machine's own Node.
 *
 *   1. the unit suite;
 *   2. on a sandbox of its own (3 nodes, local storage): `generate`, `probe`, `calibrate` and a short
 *      `run` (every phase kind but the faults, 50 s of traffic), each as a user types it;
 *   3. each exits 0 (the run 0, or 1 for a failed latency gate when it completed with exact accounting),
 *      and none of them may print a runtime warning (deprecation, experimental flag, a negative timeout…):
 *      a warning in the user's terminal is a defect of its own, whatever the exit code.
 *
 * Exit 0 when all of it passed; otherwise 1 with what failed. The sandbox is stopped in every case.
 */
import * as zlib from 'node:zlib';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Results } from '../src/run/results.js';
import { Sandbox } from '../src/sandbox/cluster.js';
import { shortQuickstart } from './helpers.js';

/** A line Node prints for a process warning, `(node:1234) SomethingWarning: …` (also relayed from a child), and its `--trace-warnings` hint. */
export const WARNING_LINE = /\(node:\d+\) \w*Warning\b|--trace-warnings/;

function sh(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (c, s) => resolve({ code: c ?? (s ? 1 : 0), out }));
  });
}

const failures: string[] = [];
const t0 = Date.now();
console.error(`node smoke: Node ${process.version}`);

// Files, not the directory: Node 22 and later take `--test <dir>` for a file to run.
const unitFiles = readdirSync('dist/test/unit').filter((f) => f.endsWith('.test.js')).map((f) => join('dist/test/unit', f));
const unit = await sh(['--test', '--test-force-exit', ...unitFiles]);
console.error(`unit suite: exit ${unit.code} (${unit.out.match(/^(?:# |ℹ )(?:pass|fail) \d+/gm)?.join(', ') ?? 'no summary'})`);
if (unit.code !== 0) failures.push(`the unit suite exited ${unit.code}:\n${unit.out.split('\n').filter((l) => /not ok|Error|error:/.test(l)).slice(0, 20).join('\n')}`);

const dir = mkdtempSync(join(tmpdir(), 'cb-node-smoke-'));
const sb = await Sandbox.start({ nodes: 3, zones: ['a', 'b', 'c'], storage: 'local', stateDir: join(dir, 'sandbox'), log: () => {} });
try {
  // A Node whose zlib has zstd runs the pipeline with it: its frames must be what the brokers accept.
  const codec = typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function' ? 'zstd' : 'lz4';
  const scenario = shortQuickstart(dir, codec);
  const noWarmup = { CLICKBENCH_WARMUP_SECONDS: '0' };
  const steps: [string, string[]][] = [
    ['generate', ['bin/clickbench.js', 'generate', scenario, '--events', '20000', '--out', join(dir, 'events.jsonl')]],
    ['probe', ['bin/clickbench.js', 'probe', '--state-dir', sb.state.stateDir]],
    ['calibrate', ['bin/clickbench.js', 'calibrate', scenario, '--state-dir', sb.state.stateDir, '--records', '20000']],
    // The run warms the fresh sandbox first, as a user's would: its gates are part of what must pass.
    ['run', ['bin/clickbench.js', 'run', scenario, '--state-dir', sb.state.stateDir, '--reports', join(dir, 'reports'), '--warmup', '60']],
  ];
  for (const [name, args] of steps) {
    const started = Date.now();
    const r = await sh(args, noWarmup);
    const warnings = r.out.split('\n').filter((l) => WARNING_LINE.test(l));
    console.error(`${name}: exit ${r.code} in ${((Date.now() - started) / 1000).toFixed(0)} s, ${warnings.length} warning line(s)`);
    writeFileSync(join(dir, `${name}.log`), r.out);
    // A run's exit 1 is a gate of the scenario (its e2e latency on this shared machine), not the Node version:
    // accepted when the run completed and its accounting is exact.
    const accepted = name === 'run' ? [0, 1] : [0];
    if (!accepted.includes(r.code)) failures.push(`${name} exited ${r.code} (output in ${join(dir, `${name}.log`)}):\n${r.out.split('\n').slice(-15).join('\n')}`);
    if (name === 'run' && accepted.includes(r.code)) {
      const reports = join(dir, 'reports');
      const res = JSON.parse(readFileSync(join(reports, readdirSync(reports)[0], 'results.json'), 'utf8')) as Results;
      const c = res.correctness;
      console.error(`run: ${res.run.status}, ${res.throughput.ackedEvents} acked, ${c.missing} missing, ${c.duplicates} duplicates, e2e p99 ${res.latency.e2e?.p99Ms} ms${r.code ? ' (a gate failed)' : ''}`);
      if (res.run.status !== 'completed' || c.missing !== 0 || c.duplicates !== 0) failures.push(`run: ${res.run.status}, ${c.missing} missing, ${c.duplicates} duplicates`);
      const p = res.compression?.producer;
      console.error(`run: the producer's ${codec} batches at ${p?.measured ? `${(p.ratio * 100).toFixed(1)} % of their records` : `not measured (${p?.reason})`}`);
      if (!p?.measured || p.codec !== codec) failures.push(`run: the producer's compression was not measured as ${codec}: ${JSON.stringify(p)}`);
    }
    if (warnings.length) failures.push(`${name} printed runtime warnings:\n${warnings.join('\n')}`);
  }
} finally {
  await sb.stop({ wipe: true });
}
// The logs stay for a failure (its lines name them); a pass leaves nothing behind.
if (!failures.length) rmSync(dir, { recursive: true, force: true });
console.error(`node smoke on ${process.version}: ${failures.length ? `${failures.length} failure(s)` : 'passed'} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
for (const f of failures) console.error(`\n✗ ${f}`);
process.exit(failures.length ? 1 : 0);
