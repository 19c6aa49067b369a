/** Shared test helpers: the suite's sandbox, unique names, polling. */
import { randomBytes } from 'node:crypto';
import { Sandbox } from '../src/sandbox/cluster.js';
import { createKafka } from '../src/kafka/client.js';

export { waitUntil, sleep } from '../src/sandbox/process.js';

/** The sandbox `npm test` started for this run (fails loudly when run outside it). */
export function testSandbox(): Sandbox {
  const dir = process.env.CLICKBENCH_TEST_SANDBOX_DIR;
  const sb = dir ? Sandbox.load(dir) : undefined;
  if (!sb) throw new Error('integration tests need the suite sandbox: run them with `npm test`');
  return sb;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export function testKafka(sb: Sandbox = testSandbox()) {
  return createKafka({ brokers: sb.brokers, clientId: 'clickbench-test' });
}
