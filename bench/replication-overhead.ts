/**
 * Replication bytes Kafka adds beyond the record batches themselves, measured on a running sandbox with
 * the kernel's TCP counters (followers' connections to leaders, as the run's ledger counts replication):
 * per appended batch per follower, and per transaction (markers, transaction-state and offset records).
 * Groundwork for #25: the cross-zone model counts the batches' bytes only, which under compression leaves
 * out a larger share. Not part of `npm run bench`; run by hand:
 *
 *   node dist/bench/replication-overhead.js <sandbox state dir>            batches, then transactions
 *   OFFSETS=1 node dist/bench/replication-overhead.js <sandbox state dir>  transactions with sendOffsets
 *
 * SECS sets each step's length (default 20 s). It subtracts the idle replication rate measured first.
 */
import { execa } from 'execa';
import { Sandbox } from '../src/sandbox/cluster.js';
import { createKafka, createProducer } from '../src/kafka/client.js';
import { parseSs } from '../src/observe/netflows.js';
import { recordBytes, RECORD_BATCH_HEADER_BYTES } from '../src/kafka/wire.js';
const sb = Sandbox.load(process.argv[2])!;
const nodes = sb.state.nodes as { id: number; port: number; pid: number }[];
const ports = new Set(nodes.map((n) => n.port));
const pids = new Set(nodes.map((n) => n.pid));
async function repl(): Promise<number> {
  const { stdout } = await execa('ss', ['-tinpH']);
  let t = 0;
  for (const s of parseSs(stdout)) if (s.pid !== null && pids.has(s.pid) && ports.has(s.peerPort)) t += s.bytesReceived;
  return t;
}
const kafka = createKafka({ brokers: sb.bootstrap.split(','), clientId: 'clickbench-bench-replication', label: 'bench' });
const admin = kafka.admin(); await admin.connect();
const topic = `cb-bench-replication-${Date.now().toString(36)}`;
await admin.createTopics({ topics: [{ topic, numPartitions: 12, replicationFactor: 3 }], waitForLeaders: true });
const producer = createProducer(kafka, { idempotent: true }); await producer.connect();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
await sleep(3000);
const secs = Number(process.env.SECS ?? 20);
let b0 = await repl(); await sleep(secs * 1000); let b1 = await repl();
const idle = (b1 - b0) / secs;
console.log(`idle: ${idle.toFixed(0)} B/s replication`);
for (const [records, size, perSec] of (process.env.OFFSETS ? [] : [[1, 100, 200], [1, 100, 400], [20, 500, 200]]) as [number, number, number][]) {
  let batches = 0; let wire = 0;
  const a0 = await repl(); const t0 = Date.now();
  let p = 0;
  while (Date.now() - t0 < secs * 1000) {
    const sends = [];
    for (let i = 0; i < perSec / 20; i++) {
      const part = p++ % 12;
      sends.push(producer.send({ topic, acks: -1, messages: Array.from({ length: records }, () => ({ partition: part, value: 'x'.repeat(size) })) }));
      batches++; wire += RECORD_BATCH_HEADER_BYTES + records * recordBytes(-1, size);
    }
    await Promise.all(sends);
    await sleep(50);
  }
  const el = (Date.now() - t0) / 1000;
  await sleep(1000);
  const a1 = await repl();
  const measured = a1 - a0 - idle * (el + 1);
  console.log(`${records}×${size} B at ${perSec} batches/s: ${batches} batches, wire ${wire} B ×2 = ${wire * 2}; replication measured (minus idle) ${measured.toFixed(0)} → overhead per batch per follower ${((measured - 2 * wire) / (2 * batches)).toFixed(1)} B`);
}
// transactions: each commits one 1×100 B record to each of n partitions
for (const n of [1, 6, 12]) {
  const tp = createProducer(kafka, { transactionalId: `${topic}.tx${n}`, idempotent: true, maxInFlightRequests: 1 }); await tp.connect();
  let txns = 0; let wire = 0;
  const a0 = await repl(); const t0 = Date.now();
  while (Date.now() - t0 < secs * 1000) {
    const txn = await tp.transaction();
    await txn.send({ topic, acks: -1, messages: Array.from({ length: n }, (_, i) => ({ partition: i, value: 'x'.repeat(100) })) });
    if (process.env.OFFSETS) await txn.sendOffsets({ consumerGroupId: `${topic}.group`, topics: [{ topic, partitions: Array.from({ length: n }, (_, i) => ({ partition: i, offset: String(txns + 1) })) }] });
    await txn.commit();
    txns++; wire += n * (RECORD_BATCH_HEADER_BYTES + recordBytes(-1, 100));
    await sleep(50);
  }
  const el = (Date.now() - t0) / 1000;
  await sleep(1000);
  const a1 = await repl();
  const measured = a1 - a0 - idle * (el + 1);
  console.log(`txn × ${n} partitions: ${txns} txns, data wire ${wire} ×2; measured ${measured.toFixed(0)} → beyond data per txn per follower ${((measured - 2 * wire) / (2 * txns)).toFixed(1)} B, per partition-txn ${((measured - 2 * wire) / (2 * txns * n)).toFixed(1)} B`);
  await tp.disconnect();
}
await producer.disconnect(); await admin.deleteTopics({ topics: [topic] }); await admin.disconnect();
process.exit(0);
