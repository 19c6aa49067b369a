import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jitNote, sandboxBrokerOverrides, sandboxJvmOptions } from '../../src/sandbox/jvm.js';
import { nodeProperties, type SandboxNode } from '../../src/sandbox/cluster.js';

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

describe('sandbox broker overrides (CLICKBENCH_SANDBOX_BROKER_PROPS)', () => {
  it('parses key=value pairs split by spaces or commas, a later key winning; none by default', () => {
    assert.deepEqual(sandboxBrokerOverrides({}), {});
    assert.deepEqual(sandboxBrokerOverrides({ CLICKBENCH_SANDBOX_BROKER_PROPS: ' num.io.threads=2, replica.fetch.wait.max.ms=100 num.io.threads=3 a.b=x=y' }), { 'num.io.threads': '3', 'replica.fetch.wait.max.ms': '100', 'a.b': 'x=y' });
    assert.throws(() => sandboxBrokerOverrides({ CLICKBENCH_SANDBOX_BROKER_PROPS: 'num.io.threads' }), /CLICKBENCH_SANDBOX_BROKER_PROPS: "num.io.threads" is not key=value/);
  });
  it('a node\'s properties take the overrides last, over the sandbox\'s own settings', () => {
    const node = { id: 1, zone: 'a', port: 9092, controllerPort: 9093, logDir: '/tmp/x', role: 'broker,controller' } as unknown as SandboxNode;
    const props = (brokerOverrides?: Record<string, string>) => nodeProperties({ nodes: [node], storage: 'local', brokerOverrides }, node);
    assert.match(props(), /^num\.io\.threads=4$/m);
    const p = props({ 'num.io.threads': '2', 'replica.fetch.wait.max.ms': '100' });
    assert.match(p, /^num\.io\.threads=2$/m);
    assert.doesNotMatch(p, /^num\.io\.threads=4$/m);
    assert.match(p, /^replica\.fetch\.wait\.max\.ms=100$/m);
  });
});
