import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultWarmupSeconds, SANDBOX_WARMUP_SECONDS } from '../../src/run/target.js';

describe('sandbox warm-up default', () => {
  it('is CLICKBENCH_WARMUP_SECONDS when it is a whole number, else 60 s', () => {
    assert.equal(SANDBOX_WARMUP_SECONDS, 60);
    assert.equal(defaultWarmupSeconds({}), 60);
    assert.equal(defaultWarmupSeconds({ CLICKBENCH_WARMUP_SECONDS: '0' }), 0);
    assert.equal(defaultWarmupSeconds({ CLICKBENCH_WARMUP_SECONDS: ' 90 ' }), 90);
    assert.equal(defaultWarmupSeconds({ CLICKBENCH_WARMUP_SECONDS: 'soon' }), 60);
    assert.equal(defaultWarmupSeconds({ CLICKBENCH_WARMUP_SECONDS: '-5' }), 60);
  });
});
