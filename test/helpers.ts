/** Shared test helpers: the suite's sandbox, unique names, polling. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox } from '../src/sandbox/cluster.js';
import { createKafka } from '../src/kafka/client.js';

import { sleep } from '../src/sandbox/process.js';
export { waitUntil, sleep } from '../src/sandbox/process.js';

/** The sandbox `npm test` started for this run (fails loudly when run outside it). */
export function testSandbox(): Sandbox {
  const dir = process.env.CLICKBENCH_TEST_SANDBOX_DIR;
  const sb = dir ? Sandbox.load(dir) : undefined;
  if (!sb) throw new Error('integration tests need the suite sandbox: run them with `npm test`');
  return sb;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export function testKafka(sb: Sandbox = testSandbox()) {
  return createKafka({ brokers: sb.brokers, clientId: 'clickbench-test' });
}

import { spawn, type ChildProcess } from 'node:child_process';
import type { IHeaders } from 'kafkajs';
import type { Results } from '../src/run/results.js';
import { createConsumer, createProducer, type Kafka } from '../src/kafka/client.js';
import { ClickstreamGenerator, DEFAULT_START_MS } from '../src/generate/clickstream.js';
import type { Scenario } from '../src/scenario/schema.js';
import { fillLookups } from '../src/drive/lookups.js';
export { groupLag } from '../src/observe/samplers.js';
import { createTopics, topicNames, topicSpecs, type TopicNames } from '../src/drive/topics.js';

export interface ProducedStream {
  names: TopicNames;
  gen: ClickstreamGenerator;
  /** Deliberately bad records by their exact value. */
  badByValue: Map<string, string>;
  count: number;
}

/**
 * Create a run's topics, fill the lookups and produce `count` generated events (as fast as possible, acks all).
 * `startMs`: the schedule's start (the events' intended times); `ready` runs once the topics and lookups exist,
 * before the events go (to start consumers that must see them arrive).
 */
export async function produceGenerated(kafka: Kafka, prefix: string, scenario: Scenario, count: number, o: { startMs?: number; ready?: () => void } = {}): Promise<ProducedStream> {
  const names = topicNames(prefix);
  const admin = kafka.admin();
  await admin.connect();
  await createTopics(admin, topicSpecs(names, scenario));
  await admin.disconnect();
  const gen = new ClickstreamGenerator(scenario, { startMs: o.startMs ?? DEFAULT_START_MS, idPrefix: prefix });
  const producer = createProducer(kafka, { idempotent: true });
  await producer.connect();
  await fillLookups(producer, names, gen);
  o.ready?.();
  const stream = { names, gen, badByValue: new Map<string, string>(), count: 0 };
  await sendGenerated(producer, stream, count);
  await producer.disconnect();
  return stream;
}

async function sendGenerated(producer: ReturnType<typeof createProducer>, stream: ProducedStream, count: number): Promise<void> {
  for (let sent = 0; sent < count; ) {
    const batch = [];
    for (let i = 0; i < 2_000 && sent < count; i++, sent++) {
      const e = stream.gen.next();
      if (e.bad) stream.badByValue.set(e.value, e.bad);
      batch.push({ key: e.key, value: e.value });
    }
    await producer.send({ topic: stream.names.raw, acks: -1, messages: batch });
    stream.count += batch.length;
  }
}

/** `count` more events of the same stream onto its raw topic. */
export async function produceMore(kafka: Kafka, stream: ProducedStream, count: number): Promise<void> {
  const producer = createProducer(kafka, { idempotent: true });
  await producer.connect();
  await sendGenerated(producer, stream, count);
  await producer.disconnect();
}

export interface ReadRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string;
  headers: Record<string, string>;
  timestampMs: number;
}

export function headerMap(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) if (v !== undefined) out[k] = Array.isArray(v) ? String(v[0]) : String(v);
  return out;
}

/** Read topics from the start (read_committed, one consumer) until at least `min` records came and none came for `quietMs`. */
export async function readAll(kafka: Kafka, topics: string | string[], min: number, quietMs = 3_000, timeoutMs = 120_000): Promise<ReadRecord[]> {
  const out: ReadRecord[] = [];
  let last = Date.now();
  const consumer = createConsumer(kafka, { groupId: uniqueName('cb-test-readall'), readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topics: typeof topics === 'string' ? [topics] : topics, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) out.push({ topic: batch.topic, partition: batch.partition, offset: m.offset, key: m.key?.toString() ?? null, value: m.value?.toString() ?? '', headers: headerMap(m.headers), timestampMs: Number(m.timestamp) });
      if (batch.messages.length) last = Date.now();
    },
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !(out.length >= min && Date.now() - last > quietMs)) await sleep(200);
  await consumer.disconnect();
  return out;
}

/** The CLI as a child process (what a user runs), for tests that must kill it. */
export function spawnCli(args: string[]): ChildProcess & { output: string[] } {
  const child = spawn(process.execPath, ['bin/clickbench.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } }) as ChildProcess & { output: string[] };
  child.output = [];
  child.stdout!.on('data', (d) => child.output.push(String(d)));
  child.stderr!.on('data', (d) => child.output.push(String(d)));
  return child;
}

export function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

/**
 * A new state directory for a sandbox a test starts for itself: under the suite's extras directory,
 * so `npm test` stops it by its pids after the file even when the file timed out.
 */
export function extraSandboxDir(prefix: string): string {
  const root = process.env.CLICKBENCH_TEST_EXTRA_DIR;
  return mkdtempSync(join(root && existsSync(root) ? root : tmpdir(), `${prefix}-`));
}

/** The CLI's io for a test: lines collected in `out`; with CLICKBENCH_TEST_ECHO=1 also echoed to stderr with the time. */
export function collectingIo(out: string[]) {
  const echo = process.env.CLICKBENCH_TEST_ECHO === '1';
  const push = (l: string) => {
    out.push(l);
    if (echo) process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${l}\n`);
  };
  return { out: push, err: push, isTTY: false };
}

/**
 * The shipped quickstart with every phase kind kept but each phase shorter (50 s of traffic instead of 90 s,
 * the burst and the rollback's lookback scaled with them), written to dir; for tests about something else
 * than the quickstart's own figures (security, outputs), so the suite runs the full 90 s only once.
 */
/** The quickstart in 50 s; `compression` sets clients.compression (the codec the producer and the stage write). */
export function shortQuickstart(dir: string, compression?: string): string {
  const text = readFileSync('scenarios/quickstart.yaml', 'utf8');
  const phases = `phases:
  - { kind: warmup, duration: 5s }
  - { kind: steady, duration: 10s }
  - { kind: burst, duration: 15s }
  - { kind: dual-run, duration: 10s, version: v2 }
  - { kind: rollback, duration: 10s, lookback: 10s, version: v1 }

gates:`;
  const short = text
    .replace(/^duration: 90s$/m, 'duration: 50s')
    .replace(/at: 40s /, 'at: 17s ')
    .replace(/duration: 20s {6}#/, 'duration: 8s       #')
    .replace(/^phases:[\s\S]*?^gates:/m, phases)
    .replace(/^ {2}compression: lz4 /m, `  compression: ${compression ?? 'lz4'} `);
  if (!/duration: 50s/.test(short) || !/at: 17s/.test(short) || !/duration: 8s/.test(short) || !short.includes('lookback: 10s') || !short.includes(`compression: ${compression ?? 'lz4'} `)) {
    throw new Error('scenarios/quickstart.yaml changed shape: update shortQuickstart()');
  }
  const file = join(dir, 'quickstart-short.yaml');
  writeFileSync(file, short);
  return file;
}

/**
 * `clickbench run` of a scenario written from `yaml` into a new folder (relative paths in it are relative to that
 * folder), on the suite's sandbox; returns its exit code, output, report folder and results.json.
 */
export async function runScenarioFile(sb: Sandbox, yaml: string, extraArgs: string[] = [], during?: (child: ChildProcess & { output: string[] }) => Promise<void>): Promise<{ exitCode: number | null; output: string; work: string; runDir: string; results: Results }> {
  const work = mkdtempSync(join(tmpdir(), 'cb-run-'));
  const file = join(work, 'scenario.yaml');
  writeFileSync(file, yaml);
  const child = spawnCli(['run', file, '--state-dir', sb.state.stateDir, '--reports', join(work, 'reports'), ...extraArgs]);
  await during?.(child);
  await exited(child);
  const output = child.output.join('');
  const runs = existsSync(join(work, 'reports')) ? readdirSync(join(work, 'reports')) : [];
  if (runs.length !== 1) throw new Error(`expected one report folder, found ${runs.length}:\n${output}`);
  const runDir = join(work, 'reports', runs[0]);
  return { exitCode: child.exitCode, output, work, runDir, results: JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as Results };
}
