/**
 * `npm test`: first runs the *.fresh.test.js files with no sandbox running (the quickstart as a new user
 * runs it, on a sandbox of its own), then starts ONE real sandbox (3 KRaft nodes, zones a/b/c, tiered storage, a SASL_SSL listener) for
 * the whole suite, runs every test file with node's test runner against it (one file at a time, each in its
 * own process), and stops the sandbox at the end, also when tests fail or the run is interrupted.
 *
 * Tests that need a sandbox of their own start it under CLICKBENCH_TEST_EXTRA_DIR (`extraSandboxDir()`);
 * after each file every sandbox left running there is stopped by its pids, so a file that timed out
 * cannot leave JVMs behind to slow down the files after it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Sandbox } from '../src/sandbox/cluster.js';

const here = dirname(fileURLToPath(import.meta.url));
const filesIn = (dir: string) => (existsSync(join(here, dir)) ? readdirSync(join(here, dir)) : []).filter((f) => f.endsWith('.test.js')).sort().map((f) => join(here, dir, f));
const only = process.argv.slice(2);
const files = [...filesIn('unit'), ...filesIn('integration')].filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
const unitFiles = files.filter((f) => f.includes(`${join('test', 'unit')}`));
/** *.fresh.test.js: run first, before the suite's sandbox starts, with nothing else on the machine (each starts what it needs, as a new user's first command does). */
const freshFiles = files.filter((f) => !unitFiles.includes(f) && f.endsWith('.fresh.test.js'));
const integrationFiles = files.filter((f) => !unitFiles.includes(f) && !freshFiles.includes(f));
/** Per test file (a file is one test to node's runner, so this bounds the file as a whole). */
const FILE_TIMEOUT_MS = 15 * 60_000;

/**
 * One folder for everything the suite writes: the sandboxes' state and, as TMPDIR of every test process,
 * the files the tests make with os.tmpdir() (generated events, scenarios, reports: a suite left ~400 folders
 * and ~100 MB in /tmp). Removed when the suite passes, kept (and named) when a test failed or with
 * CLICKBENCH_TEST_KEEP_TMP=1.
 */
const suiteDir = mkdtempSync(join(tmpdir(), 'clickbench-test-'));
const stateDir = join(suiteDir, 'sandbox');
const extraDir = join(suiteDir, 'extra');
const testTmp = join(suiteDir, 'tmp');
for (const d of [stateDir, extraDir, testTmp]) mkdirSync(d);
const t0 = Date.now();
let sandbox: Sandbox | undefined;
let current: ChildProcess | undefined;
let stopping: Promise<void> | undefined;
/** Kills a test runner and every process it started (it leads its own process group): a test file's process must not outlive it. */
const killGroup = (child: ChildProcess | undefined) => {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
};
const stop = () => (stopping ??= (async () => {
  killGroup(current);
  await stopExtras('the interrupted suite');
  if (sandbox) await sandbox.stop({ wipe: true });
})());
const quit = process.exit.bind(process);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    void stop().finally(() => quit(130));
  });
}

/** Stops every sandbox a test file started under the extras directory and left running. */
async function stopExtras(file: string): Promise<void> {
  for (const d of readdirSync(extraDir)) {
    const sb = Sandbox.load(join(extraDir, d));
    if (!sb) continue;
    const alive = (await sb.status().catch(() => [])).filter((n) => n.alive);
    if (alive.length) console.error(`[sandbox] ${file} left ${alive.length} node(s) running in ${join(extraDir, d)}: stopping them`);
    await sb.stop({ wipe: true }).catch((e) => console.error(`[sandbox] could not stop ${d}: ${(e as Error).message}`));
  }
}

function runFiles(list: string[], fresh = false): Promise<number> {
  return new Promise<number>((resolve) => {
    const child = (current = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-force-exit', `--test-timeout=${FILE_TIMEOUT_MS}`, ...list], {
      stdio: 'inherit',
      detached: true, // its own process group, so an interrupt stops the test file's process too
      // Fresh files get a user's defaults (the sandbox warm-up included) and no suite sandbox.
      env: fresh
        ? { ...process.env, TMPDIR: testTmp, CLICKBENCH_TEST_EXTRA_DIR: extraDir, KAFKAJS_NO_PARTITIONER_WARNING: '1' }
        : { CLICKBENCH_WARMUP_SECONDS: '0', ...process.env, TMPDIR: testTmp, CLICKBENCH_TEST_SANDBOX_DIR: stateDir, CLICKBENCH_TEST_EXTRA_DIR: extraDir, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
    }));
    child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0)));
  });
}

let code = 1;
const took: string[] = [];
const runGroup = async (group: string[], fresh = false) => {
  const started = Date.now();
  const c = await runFiles(group, fresh);
  await stopExtras(basename(group[0]));
  const name = group.length > 1 ? `unit (${group.length} files)` : basename(group[0]);
  took.push(`${name} ${((Date.now() - started) / 1000).toFixed(0)} s${c === 0 ? '' : ` (exit ${c})`}`);
  if (c !== 0) code = c;
};
try {
  code = 0;
  for (const f of freshFiles) {
    if (stopping) break;
    await runGroup([f], true);
  }
  const groups = [...(unitFiles.length ? [unitFiles] : []), ...integrationFiles.map((f) => [f])];
  if (groups.length && !stopping) {
    const sbStart = Date.now();
    sandbox = await Sandbox.start({ nodes: 3, zones: ['a', 'b', 'c'], storage: 'tiered', security: 'sasl-ssl', stateDir, log: (l) => console.error(`[sandbox] ${l}`) });
    console.error(`[sandbox] usable in ${((Date.now() - sbStart) / 1000).toFixed(1)} s at ${sandbox.bootstrap} (Apache Kafka ${sandbox.state.kafkaVersion})`);
  }
  for (const group of groups) {
    if (stopping) break; // interrupted: no new file while the sandbox stops
    await runGroup(group);
  }
} catch (err) {
  console.error(`could not start the test sandbox: ${(err as Error).message}`);
  code = 1;
} finally {
  await stop();
  // A failed suite keeps them: the reports and results of the runs that failed are the evidence.
  if (code === 0 && process.env.CLICKBENCH_TEST_KEEP_TMP !== '1') rmSync(suiteDir, { recursive: true, force: true });
  else console.error(`[suite] its files are kept in ${suiteDir}${code === 0 ? '' : ' (a test failed)'}`);
  console.error(`[sandbox] stopped; whole suite took ${((Date.now() - t0) / 1000).toFixed(1)} s: ${took.join(', ')}`);
}
quit(code);
