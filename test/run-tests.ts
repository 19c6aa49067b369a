/**
 * `npm test`: starts ONE real sandbox (3 KRaft nodes, zones a/b/c, tiered storage, a SASL_SSL listener) for
 * the whole suite, runs every test file with node's test runner against it, and stops the
 * sandbox at the end, also when tests fail or the run is interrupted.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Sandbox } from '../src/sandbox/cluster.js';

const here = dirname(fileURLToPath(import.meta.url));
const filesIn = (dir: string) => (existsSync(join(here, dir)) ? readdirSync(join(here, dir)) : []).filter((f) => f.endsWith('.test.js')).sort().map((f) => join(here, dir, f));
const only = process.argv.slice(2);
const files = [...filesIn('unit'), ...filesIn('integration')].filter((f) => only.length === 0 || only.some((o) => f.includes(o)));

const stateDir = mkdtempSync(join(tmpdir(), 'clickbench-test-sandbox-'));
const t0 = Date.now();
let sandbox: Sandbox | undefined;
let stopping: Promise<void> | undefined;
const stop = () => (stopping ??= sandbox ? sandbox.stop({ wipe: true }) : Promise.resolve());
const quit = process.exit.bind(process);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    void stop().finally(() => quit(130));
  });
}

let code = 1;
try {
  sandbox = await Sandbox.start({ nodes: 3, zones: ['a', 'b', 'c'], storage: 'tiered', security: 'sasl-ssl', stateDir, log: (l) => console.error(`[sandbox] ${l}`) });
  console.error(`[sandbox] usable in ${((Date.now() - t0) / 1000).toFixed(1)} s at ${sandbox.bootstrap} (Apache Kafka ${sandbox.state.kafkaVersion})`);
  code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-force-exit', '--test-timeout=900000', ...files], {
      stdio: 'inherit',
      env: { ...process.env, CLICKBENCH_TEST_SANDBOX_DIR: stateDir, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
    });
    child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0)));
  });
} catch (err) {
  console.error(`could not start the test sandbox: ${(err as Error).message}`);
} finally {
  await stop();
  console.error(`[sandbox] stopped; whole suite took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
quit(code);
