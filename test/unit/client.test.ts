import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message } from 'kafkajs';
import { sendByBroker } from '../../src/kafka/client.js';

const msg = (partition: number, v: string): Message => ({ key: v, value: v, partition });

describe('sendByBroker', () => {
  it('one request per broker holding every partition it leads; a partition with two requests keeps their order over two rounds', async () => {
    const leaders: Record<string, number> = { 't:0': 1, 't:1': 2, 't:2': 1, 'u:0': 2 };
    const sent: string[][] = [];
    await sendByBroker(
      [{ topic: 't', messages: [msg(0, 'a')] }, { topic: 't', messages: [msg(1, 'b')] }, { topic: 't', messages: [msg(2, 'c')] }, { topic: 't', messages: [msg(0, 'd')] }, { topic: 'u', messages: [msg(0, 'e')] }],
      (t, p) => leaders[`${t}:${p}`],
      async (tm) => { sent.push(tm.map((r) => `${r.topic}:${r.messages.map((m) => m.value).join('')}`)); },
    );
    assert.deepEqual(sent.sort(), [['t:a', 't:c'], ['t:b', 'u:e'], ['t:d']].sort());
    assert.ok(sent.findIndex((r) => r.includes('t:a')) < sent.findIndex((r) => r.includes('t:d')), 'partition 0 in order');
  });
  it('careful (after a failure): one partition per request', async () => {
    const sent: number[] = [];
    await sendByBroker([{ topic: 't', messages: [msg(0, 'a')] }, { topic: 't', messages: [msg(1, 'b')] }], () => 1, async (tm) => { sent.push(tm.length); }, true);
    assert.deepEqual(sent, [1, 1]);
  });
});
