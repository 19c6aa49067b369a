import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultWarmupSeconds, SANDBOX_WARMUP_SECONDS } from '../../src/sandbox/defaults.js';
import { warmedUp } from '../../src/sandbox/warm.js';

describe('sandbox warm-up default', () => {
  it('is CLICKBENCH_WARMUP_SECONDS when it is a whole number, else 120 s', () => {
    assert.equal(SANDBOX_WARMUP_SECONDS, 120);
    assert.equal(defaultWarmupSeconds({}), 120);
    assert.equal(defaultWarmupSeconds({ CLICKBENCH_WARMUP_SECONDS: '0' }), 0);
    assert.equal(defaultWarmupSeconds({ CLICKBENCH_WARMUP_SECONDS: ' 90 ' }), 90);
    assert.equal(defaultWarmupSeconds({ CLICKBENCH_WARMUP_SECONDS: 'soon' }), 120);
    assert.equal(defaultWarmupSeconds({ CLICKBENCH_WARMUP_SECONDS: '-5' }), 120);
  });
});

describe('warmedUp: when the brokers\' CPU per 1 000 records stops falling', () => {
  it('needs three windows, the last two within 10 % of each other and of the lowest seen', () => {
    assert.equal(warmedUp([]), false);
    assert.equal(warmedUp([1.0, 1.0]), false, 'two windows are too few');
    assert.equal(warmedUp([3.1, 1.6, 1.5]), true, '1.6 → 1.5 is within 10 %');
    assert.equal(warmedUp([3.1, 1.6, 1.2]), false, 'still falling by 25 %');
    assert.equal(warmedUp([3.1, 1.6, 1.2, 1.15]), true);
    assert.equal(warmedUp([0.9, 1.6, 1.6]), false, 'flat, but well above the best window: a noisy spell, not warm');
    assert.equal(warmedUp([1.0, 0.95, 1.04]), true, 'a rise within 10 % counts as flat');
    assert.equal(warmedUp([1.0, 0.95, 1.2]), false);
  });
});
