import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lastPerPartition, TakenOffsets } from '../../src/enrich/taken.js';

test('a partition\'s first batch is taken from where it was fetched; the next continues it', () => {
  const t = new TakenOffsets();
  assert.deepEqual(t.admit(3, 120), { take: true, from: 120 });
  t.take(3, 200);
  assert.deepEqual(t.admit(3, 200), { take: true, from: 200 });
  assert.equal(t.nextOf(3), 200);
  assert.equal(t.nextOf(4), undefined);
});

test('a batch repeating records a transaction holds is taken only from what is new', () => {
  const t = new TakenOffsets();
  t.admit(0, 0);
  t.take(0, 500);
  // A restarted consumer reads from the committed offset 300, while 300..499 are in a transaction.
  assert.deepEqual(t.admit(0, 300), { take: true, from: 500 });
  // Wholly held: from its end on, nothing of it is new (the caller skips it).
  assert.deepEqual(t.admit(0, 100), { take: true, from: 500 });
});

test('a batch fetched before a rewind is turned away once, and the partition read again from the rewind', () => {
  const t = new TakenOffsets();
  t.admit(1, 0);
  t.take(1, 100);
  t.take(1, 250);
  t.take(1, 400);
  // The transaction holding 100..249 failed; 250..399 queued behind it are dropped too.
  const to = t.rewind([{ partition: 1, first: 250 }, { partition: 1, first: 100 }, { partition: 2, first: 70 }]);
  assert.deepEqual([...to], [[1, 100], [2, 70]]);
  assert.equal(t.nextOf(1), 100);
  // A batch from 400 (fetched before the seek) must not be taken: 100..399 would be skipped.
  assert.deepEqual(t.admit(1, 400), { take: false, reread: 100 });
  assert.equal(t.gapsAccepted, 0);
  // The re-read starts at 100.
  assert.deepEqual(t.admit(1, 100), { take: true, from: 100 });
});

test('the same start beyond what was taken, a second time in a row, is taken (records the consumer skipped itself)', () => {
  const t = new TakenOffsets();
  t.admit(5, 0);
  t.take(5, 10);
  // kafkajs resolved a batch of control records 10..11 itself: the next fetch starts at 12.
  assert.deepEqual(t.admit(5, 12), { take: false, reread: 10 });
  assert.deepEqual(t.admit(5, 12), { take: true, from: 12 });
  assert.equal(t.gapsAccepted, 1);
  t.take(5, 20);
  // A different start beyond is turned away again (the count is per start, not once for all).
  assert.deepEqual(t.admit(5, 25), { take: false, reread: 20 });
  assert.deepEqual(t.admit(5, 30), { take: false, reread: 20 });
  // A continuing batch in between clears it: 30 comes back as new.
  assert.deepEqual(t.admit(5, 20), { take: true, from: 20 });
  t.take(5, 30);
  assert.deepEqual(t.admit(5, 30), { take: true, from: 30 });
});

test('take never moves a partition back', () => {
  const t = new TakenOffsets();
  t.take(0, 50);
  t.take(0, 40);
  assert.equal(t.nextOf(0), 50);
});

test('a transaction commits each partition\'s last offset once, whatever the number of its batches', () => {
  assert.deepEqual(lastPerPartition([
    { partition: 2, nextOffset: 100 },
    { partition: 0, nextOffset: 40 },
    { partition: 2, nextOffset: 180 },
  ]), [{ partition: 2, offset: '180' }, { partition: 0, offset: '40' }]);
});
