import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from 'kafkajs';
import { mergeRequests } from '../../src/enrich/requests.js';

const msg = (partition: number, id: string, bytes = 10): Message => ({ key: id, value: 'x'.repeat(bytes), partition });
const ids = (r: { topic: string; messages: Message[] }) => `${r.topic}:${r.messages[0].partition}:${r.messages.map((m) => m.key).join(',')}`;

test('mergeRequests joins each partition\'s messages across batches, in the batches\' order', () => {
  const merged = mergeRequests([
    { topic: 'out', messages: [msg(0, 'a1'), msg(0, 'a2')] },
    { topic: 'out', messages: [msg(1, 'a3')] },
    { topic: 'dlq', messages: [msg(0, 'a4')] },
    { topic: 'out', messages: [msg(0, 'b1')] },
    { topic: 'out', messages: [msg(2, 'b2')] },
    { topic: 'dlq', messages: [msg(0, 'b3')] },
  ]);
  assert.deepEqual(merged.map(ids), ['out:0:a1,a2,b1', 'out:1:a3', 'dlq:0:a4,b3', 'out:2:b2']);
});

test('mergeRequests cuts a merged partition again at 512 KiB (payload + 200 B per record)', () => {
  // Records of 100 000 + 200 B: five fit in 524 288 B, the sixth starts a new request.
  const a = { topic: 'out', messages: [0, 1, 2, 3].map((i) => msg(3, `a${i}`, 100_000)) };
  const b = { topic: 'out', messages: [0, 1, 2, 3].map((i) => msg(3, `b${i}`, 100_000)) };
  const merged = mergeRequests([a, b]);
  assert.deepEqual(merged.map(ids), ['out:3:a0,a1,a2,a3,b0', 'out:3:b1,b2,b3']);
  // The batches' own requests are left as they were.
  assert.equal(a.messages.length, 4);
});
