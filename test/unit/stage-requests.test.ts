import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from 'kafkajs';
import { mergeRequests } from '../../src/enrich/requests.js';
import { assignByIndex } from '../../src/enrich/assigner.js';
import { OutputRoute } from '../../src/enrich/output.js';

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

test('OutputRoute counts the bytes of every produce request it hands to the client, per topic and partition', async () => {
  const route = new OutputRoute({ output: 't', dlq: 'd' }, { clientId: 'c', transactionalId: 'tx' });
  const sent: string[] = [];
  const m = (partition: number, key: string | null, value: string | Buffer, headers?: Record<string, string>): Message => ({ key, value, partition, ...(headers ? { headers } : {}) });
  // Not started (no leaders): one partition per request. Each request's framing: 4 + 8 + 2 + 1 (client id)
  // + 2 + 2 (transactional id) + 2 + 4 + 4, its topic 2 + 1 + 4, its partition 8: 44 B; a batch header 61 B.
  // Record 'k' / 'vv' / {h: 'x'}: 1 + 1 + 1 + (1 + 1) + (1 + 2) + 1 + (1 + 1 + 1 + 1) = 13, its length 1: 14 B.
  // Record null / 3 bytes, no headers: 1 + 1 + 1 + 1 + (1 + 3) + 1 = 9, its length 1: 10 B.
  await route.send(
    [{ topic: 't', messages: [m(0, 'k', 'vv', { h: 'x' }), m(0, 'k', 'vv', { h: 'x' })] }, { topic: 'd', messages: [m(2, null, Buffer.from('abc'))] }],
    async (tm) => void sent.push(tm.map((r) => `${r.topic}:${r.messages[0].partition}`).join(' ')),
  );
  assert.deepEqual(sent, ['t:0', 'd:2']);
  assert.deepEqual([...route.producedBytes].map(([t, parts]) => [t, [...parts]]), [['t', [[0, 61 + 44 + 14 + 14]]], ['d', [[2, 61 + 44 + 10]]]]);
  // A failed attempt was on the wire too: counted.
  await assert.rejects(route.send([{ topic: 't', messages: [m(0, 'k', 'vv', { h: 'x' })] }], async () => { throw new Error('NOT_LEADER'); }));
  assert.equal(route.producedBytes.get('t')!.get(0), 61 + 44 + 14 + 14 + 61 + 44 + 14);
});

describe('enrichment instances: partitions by instance index (issue #20)', () => {
  const m = (memberId: string, index: number | null, of = 3) => ({ memberId, instance: index === null ? null : { index, of } });
  it('partition p to the member with index p mod N; absent instances leave their partitions waiting; a second claim of an index gets nothing', () => {
    const parts = { raw: [0, 1, 2, 3, 4, 5, 6] };
    const all = assignByIndex([m('b', 1), m('a', 0), m('c', 2)], parts);
    assert.deepEqual(Object.fromEntries(all.assignment), { b: { raw: [1, 4] }, a: { raw: [0, 3, 6] }, c: { raw: [2, 5] } });
    assert.equal(all.unowned, 0);
    const two = assignByIndex([m('a', 0), m('c', 2)], parts);
    assert.deepEqual(Object.fromEntries(two.assignment), { a: { raw: [0, 3, 6] }, c: { raw: [2, 5] } });
    assert.equal(two.unowned, 2);
    const dup = assignByIndex([m('x', 0), m('a', 0), m('n', null)], parts);
    assert.deepEqual(Object.fromEntries(dup.assignment), { x: {}, a: { raw: [0, 3, 6] }, n: {} });
    assert.equal(dup.conflicts.length, 1);
    assert.match(dup.conflicts[0], /^x says it is instance 0 of 3, as a does/);
  });
});
