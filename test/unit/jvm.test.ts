import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jitNote, sandboxJvmOptions } from '../../src/sandbox/jvm.js';

describe('sandbox JVM options (pure)', () => {
  it('C1 only by default; CLICKBENCH_SANDBOX_JVM_OPTS comes after it, so its own TieredStopAtLevel wins', () => {
    assert.deepEqual(sandboxJvmOptions({}), ['-XX:TieredStopAtLevel=1']);
    assert.deepEqual(sandboxJvmOptions({ CLICKBENCH_SANDBOX_JVM_OPTS: '  -XX:TieredStopAtLevel=4   -Xlog:gc ' }), ['-XX:TieredStopAtLevel=1', '-XX:TieredStopAtLevel=4', '-Xlog:gc']);
  });

  it('names the JIT the options leave, reading the last TieredStopAtLevel as the JVM does', () => {
    assert.match(jitNote(sandboxJvmOptions({})), /^C1 JIT only/);
    assert.equal(jitNote(['-XX:TieredStopAtLevel=1', '-XX:TieredStopAtLevel=4']), 'C1 and C2 JIT, the JVM default');
    assert.equal(jitNote([]), 'C1 and C2 JIT, the JVM default');
    assert.equal(jitNote(['-XX:TieredStopAtLevel=0']), 'interpreter only');
    assert.match(jitNote(['-XX:TieredStopAtLevel=4', '-XX:TieredStopAtLevel=3']), /^C1 JIT only/);
  });
});
