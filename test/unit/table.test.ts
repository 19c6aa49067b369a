import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compatibleTypes } from '../../src/sink/query.js';

describe('table schema history (issue #21)', () => {
  it('numbers widen, JSON reads beside anything, a string turned number (or back) is incompatible', async () => {
    assert.equal(compatibleTypes('BIGINT', 'DOUBLE'), true);
    assert.equal(compatibleTypes('DOUBLE', 'BIGINT'), true);
    assert.equal(compatibleTypes('JSON', 'VARCHAR'), true);
    assert.equal(compatibleTypes('VARCHAR', 'JSON'), true);
    assert.equal(compatibleTypes('VARCHAR', 'VARCHAR'), true);
    assert.equal(compatibleTypes('VARCHAR', 'BIGINT'), false);
    assert.equal(compatibleTypes('BIGINT', 'VARCHAR'), false);
    assert.equal(compatibleTypes('BOOLEAN', 'BIGINT'), false);
  });
});
