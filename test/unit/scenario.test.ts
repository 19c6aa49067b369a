import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { parseScenario, ScenarioError } from '../../src/scenario/load.js';
import { scenarioJsonSchema } from '../../src/scenario/schema.js';
import { parseDurationMs, parseSizeBytes } from '../../src/scenario/units.js';

const VALID = `name: ok
duration: 2m
traffic:
  base_rate: 100
  bursts:
    - {at: 30s, duration: 20s, multiplier: 3}
`;

function problems(src: string): string[] {
  try {
    parseScenario(src, 'f.yaml');
  } catch (err) {
    assert.ok(err instanceof ScenarioError);
    return err.message.split('\n');
  }
  assert.fail('expected the scenario to be rejected');
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), isTTY: false }, out, err };
}

describe('scenario files', () => {
  it('parses durations and sizes as people write them', () => {
    const cases: [string | number, number | undefined][] = [['90s', 90_000], ['2m', 120_000], ['1h30m', 5_400_000], ['250ms', 250], ['7d', 604_800_000], [1.5, 1_500], ['12', 12_000], ['soon', undefined], ['5 parsecs', undefined]];
    for (const [v, want] of cases) assert.equal(parseDurationMs(v), want, String(v));
    assert.equal(parseSizeBytes('1MiB'), 1_048_576);
    assert.equal(parseSizeBytes('2 GB'), 2e9);
  });

  it('elasticity phases: external clusters name their brokers and commands, the sandbox refuses them', () => {
    const where = (lines: string[]) => lines.map((l) => l.replace(/^f\.yaml:6:\d+: /, 'line 6: '));
    const ext = (phase: string) => `name: x\nduration: 1m\ntarget: { kind: brokers, brokers: 'h:9092' }\ntraffic: { base_rate: 10 }\nphases:\n  - ${phase}\n`;
    assert.deepEqual(where(problems(ext('{ kind: scale-out, elastic: { nodes: 1 } }'))), ['line 6: phases.0.elastic.brokers: a scale-out on an external cluster needs the ids of the brokers that join, e.g. brokers: [4] (and a command that starts them, unless they already run)']);
    assert.deepEqual(where(problems(ext('{ kind: replace-broker, elastic: { node: 2 } }'))), ['line 6: phases.0.elastic.command: a broker replacement on an external cluster needs the node and the command that stops it, empties its disk and starts it again']);
    assert.deepEqual(where(problems(ext('{ kind: scale-in }'))), ['line 6: phases.0.elastic.brokers: a scale-in on an external cluster needs the ids of the brokers to empty, e.g. brokers: [4] (and a command that stops them afterwards, if wanted)']);
    assert.equal(parseScenario(ext("{ kind: scale-out, elastic: { brokers: [4], command: 'start-broker 4' } }")).scenario.phases[0].elastic!.timeout, 300_000);
    assert.equal(parseScenario(ext("{ kind: replace-broker, elastic: { node: 2, command: 'replace 2' } }")).scenario.phases[0].elastic!.node, 2);
    const sbx = `name: x\nduration: 1m\ntraffic: { base_rate: 10 }\nphases:\n  - { kind: scale-out, elastic: { brokers: [4] } }\n`;
    assert.match(problems(sbx)[0], /phases\.0\.elastic\.brokers: brokers and command are for external clusters; on the sandbox clickbench starts and stops the nodes itself$/);
    assert.match(problems(`name: x\nduration: 1m\ntraffic: { base_rate: 10 }\nphases:\n  - { kind: replace-broker, elastic: { headroom: true } }\n`)[0], /phases\.0\.elastic\.headroom: headroom probes belong to scale-out phases \(this phase is replace-broker\)$/);
  });

  it('fills defaults and converts durations to ms', () => {
    const { scenario, hash } = parseScenario(VALID);
    assert.equal(scenario.duration, 120_000);
    assert.equal(scenario.traffic.bursts[0].at, 30_000);
    assert.equal(scenario.target.kind, 'sandbox');
    assert.equal(scenario.topics.partitions, 12);
    assert.equal(scenario.population.product_zipf, 0.8);
    assert.equal(scenario.enrichment.delivery, 'eos');
    assert.match(hash, /^[0-9a-f]{64}$/);
    assert.equal(parseScenario(`# a comment\n${VALID}`).hash, hash, 'comments do not change the hash');
  });

  const bad: [string, string, RegExp][] = [
    ['a typo in a key', VALID.replace('bursts:', 'burts:'), /^f\.yaml:5:3: traffic\.burts: unknown key \(did you mean "bursts"\?\)$/],
    ['a wrong type', VALID.replace('base_rate: 100', 'base_rate: lots'), /^f\.yaml:4:14: traffic\.base_rate: expected number, got "lots"$/],
    ['a value out of range', VALID.replace('multiplier: 3', 'multiplier: 0.5'), /^f\.yaml:6:44: traffic\.bursts\.0\.multiplier: 0\.5 is too small \(expected ≥ 1\)$/],
    ['a burst outside the duration', VALID.replace('at: 30s', 'at: 110s'), /^f\.yaml:6:12: traffic\.bursts\.0\.at: burst ends at 130 s, after the scenario's 120 s duration/],
    ['a missing required key', 'name: x\nduration: 1m\n', /^f\.yaml:1:1: traffic: is required \(expected object\)$/],
    ['a bad duration', VALID.replace('duration: 2m', 'duration: two minutes'), /^f\.yaml:2:11: duration: "two minutes" is invalid \(expected a duration such as 90s/],
    ['an unknown enum value', `${VALID}enrichment: {delivery: maybe}\n`, /^f\.yaml:7:24: enrichment\.delivery: "maybe" is not allowed \(expected one of "eos", "alo"\)$/],
    ['an unknown target kind', `${VALID}target: {kind: cloud}\n`, /^f\.yaml:7:\d+: target\.kind: unknown kind "cloud"$/],
    ['a bad gate expression', `${VALID}gates:\n  e2e.p99_ms: "fast"\n`, /^f\.yaml:8:15: gates\.e2e\.p99_ms: "fast" is invalid \(expected a comparison/],
    ['broken YAML', 'name: x\ntraffic: [\n', /^f\.yaml:\d+:\d+: YAML syntax: /],
    ['min ISR above replication', `${VALID}topics: {replication: 2, min_insync_replicas: 3}\n`, /^f\.yaml:7:\d+: topics\.min_insync_replicas: 3 is more than the replication factor 2/],
  ];
  for (const [what, src, want] of bad) {
    it(`rejects ${what} with its line and column`, () => {
      const lines = problems(src);
      assert.ok(lines.some((l) => want.test(l)), `got:\n${lines.join('\n')}`);
    });
  }

  it('reports every problem at once, in file order', () => {
    const lines = problems(VALID.replace('bursts:', 'burts:').replace('name: ok', 'name: "not ok"').replace('base_rate: 100', 'base_rate: -1'));
    assert.equal(lines.length, 3, lines.join('\n'));
    assert.deepEqual(lines.map((l) => Number(l.split(':')[1])), [1, 4, 5]);
  });

  it('`validate` exits 0 for the shipped scenarios and 2 with one line per problem otherwise', async () => {
    for (const f of ['scenarios/quickstart.yaml', 'scenarios/flash-sale.yaml']) {
      const c = capture();
      assert.equal(await main(['validate', f], c.io), 0, c.err.join('\n'));
      assert.match(c.out[0], /valid scenario/);
    }
    const dir = mkdtempSync(join(tmpdir(), 'cb-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, VALID.replace('bursts:', 'burts:').replace('base_rate: 100', 'base_rate: x'));
    const c = capture();
    assert.equal(await main(['validate', file], c.io), 2);
    assert.equal(c.err.length, 2);
    assert.ok(c.err.every((l) => l.startsWith(`${file}:`)));
    const missing = capture();
    assert.equal(await main(['validate', join(dir, 'nope.yaml')], missing.io), 2);
    assert.match(missing.err[0], /cannot read scenario .*ENOENT — give the path of a scenario YAML file/);
  });

  it('a YAML syntax error quoting a long token stays one readable line (found by the fuzz test)', () => {
    const text = `name: }\nseed: ${'9'.repeat(400)}\n`;
    assert.throws(() => parseScenario(text, 'c.yaml'), (e: unknown) => {
      const lines = (e as ScenarioError).lines();
      const long = lines.find((l) => l.includes('999'))!;
      assert.equal(long, `c.yaml:2:7: YAML syntax: Unexpected scalar token in YAML stream: "${'9'.repeat(118)}…`);
      return lines.every((l) => l.length < 200);
    });
  });

  it('publishes a JSON Schema generated from the validator, and the shipped copy is current', () => {
    const schema = scenarioJsonSchema() as { properties: Record<string, unknown>; required: string[] };
    assert.ok(schema.properties.traffic && schema.properties.population && schema.properties.gates);
    assert.deepEqual([...schema.required].sort(), ['duration', 'name', 'traffic']);
    const shipped = JSON.parse(readFileSync('schema/scenario.schema.json', 'utf8'));
    assert.deepEqual(shipped, JSON.parse(JSON.stringify(schema)), 'run `npx clickbench schema --out schema/scenario.schema.json`');
  });

  it('`generate` writes the same bytes twice for one seed and different bytes for another', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-'));
    const run = async (name: string, seed: string) => {
      const c = capture();
      assert.equal(await main(['generate', 'scenarios/quickstart.yaml', '--events', '3000', '--seed', seed, '--out', join(dir, name)], c.io), 0, c.err.join('\n'));
      return readFileSync(join(dir, name), 'utf8');
    };
    const a = await run('a.jsonl', '5');
    const b = await run('b.jsonl', '5');
    const c = await run('c.jsonl', '6');
    assert.equal(a.split('\n').length, 3001);
    assert.equal(a, b);
    assert.notEqual(a, c);
  });

  it('`generate --threads N` writes the one thread\'s bytes: by events, by duration, with bad records longer than a buffer; `--threads` with `--shard` is one line, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-'));
    // Bad records one in 50, a fifth of them 1.5 MiB (longer than a worker's 1 MiB buffer).
    const scenarioFile = join(dir, 'big-bad.yaml');
    const quickstart = readFileSync('scenarios/quickstart.yaml', 'utf8');
    const bigBad = quickstart.replace(/bad_records:\n  rate: 0\.002\n/, 'bad_records:\n  rate: 0.02\n  oversized_bytes: 1500000\n');
    assert.notEqual(bigBad, quickstart);
    writeFileSync(scenarioFile, bigBad);
    const gen = async (name: string, args: string[]) => {
      const c = capture();
      assert.equal(await main(['generate', ...args, '--seed', '5', '--out', join(dir, name)], c.io), 0, c.err.join('\n'));
      return readFileSync(join(dir, name));
    };
    const byEvents = await gen('e1.jsonl', ['scenarios/quickstart.yaml', '--events', '30000', '--threads', '1']);
    assert.equal(byEvents.toString('utf8').split('\n').length, 30001);
    for (const t of ['2', '3']) assert.ok(byEvents.equals(await gen(`e${t}.jsonl`, ['scenarios/quickstart.yaml', '--events', '30000', '--threads', t])), `--threads ${t}, --events`);
    const byTime = await gen('d1.jsonl', ['scenarios/quickstart.yaml', '--duration', '9s', '--threads', '1']);
    assert.ok(byTime.equals(await gen('d3.jsonl', ['scenarios/quickstart.yaml', '--duration', '9s', '--threads', '3'])), '--threads 3, --duration');
    const bad = await gen('b1.jsonl', [scenarioFile, '--events', '6000', '--threads', '1']);
    assert.ok(bad.toString('utf8').split('\n').filter((l) => l.length > 2 ** 20).length >= 5, 'several lines longer than a buffer');
    assert.ok(bad.equals(await gen('b2.jsonl', [scenarioFile, '--events', '6000', '--threads', '2'])), '--threads 2, oversized lines');
    const c = capture();
    assert.equal(await main(['generate', 'scenarios/quickstart.yaml', '--shard', '0/2', '--threads', '2'], c.io), 2);
    assert.deepEqual(c.err, ['clickbench: --threads with --shard: a shard is written by one thread (run more shards instead)']);
    // Threads started before the scenario is read are stopped when it is refused.
    const missing = capture();
    assert.equal(await main(['generate', join(dir, 'missing.yaml'), '--threads', '2'], missing.io), 2);
    assert.match(missing.err.join('\n'), /cannot read scenario .*missing\.yaml: ENOENT/);
  });

  it('`generate | head -1000` ends promptly with exit 0 and no EPIPE stack trace; the 1 000 lines are the first 1 000 events', async () => {
    const r = spawnSync('bash', ['-o', 'pipefail', '-c', 'node bin/clickbench.js generate scenarios/quickstart.yaml --events 2000000 --seed 5 | head -1000'], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 2 ** 20 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 1000);
    const file = join(mkdtempSync(join(tmpdir(), 'cb-')), 'first.jsonl');
    assert.equal(await main(['generate', 'scenarios/quickstart.yaml', '--events', '1000', '--seed', '5', '--out', file], capture().io), 0);
    assert.equal(r.stdout, readFileSync(file, 'utf8'));
  });

  it('`generate` into a pipe writes the bytes it writes to a file, whether the pipe is blocking or not, from one thread or two, with back-pressure from a late reader', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cb-')), 'all.jsonl');
    assert.equal(await main(['generate', 'scenarios/quickstart.yaml', '--events', '30000', '--seed', '7', '--out', file], capture().io), 0);
    const want = readFileSync(file, 'utf8');
    assert.ok(want.length > 10 * 2 ** 20, 'several 1 MiB chunks');
    // The pipe bash makes …
    const piped = spawnSync('bash', ['-o', 'pipefail', '-c', 'node bin/clickbench.js generate scenarios/quickstart.yaml --events 30000 --seed 7 | cat'], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 2 ** 20 });
    assert.equal(piped.status, 0, piped.stderr);
    assert.equal(piped.stdout, want);
    // … and one made non-blocking (touching process.stdout first does), read late, so the pipe fills and writes wait for 'drain'.
    const script = "process.stdout; const { main } = await import('./dist/src/cli/main.js'); process.exitCode = await main(['generate', 'scenarios/quickstart.yaml', '--events', '30000', '--seed', '7']);";
    const nonBlocking = spawnSync('bash', ['-o', 'pipefail', '-c', `node --input-type=module -e "${script}" | (sleep 0.5; cat)`], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 2 ** 20 });
    assert.equal(nonBlocking.status, 0, nonBlocking.stderr);
    assert.equal(nonBlocking.stdout, want);
    // Worker threads behind a late reader: their buffers come back only as the pipe drains.
    const threaded = spawnSync('bash', ['-o', 'pipefail', '-c', 'node bin/clickbench.js generate scenarios/quickstart.yaml --events 30000 --seed 7 --threads 2 | (sleep 0.5; cat)'], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 2 ** 20 });
    assert.equal(threaded.status, 0, threaded.stderr);
    assert.equal(threaded.stdout, want);
  });

  it('`generate --shard i/N`: N shards\' lines are, together, the single stream\'s lines; a shard out of range is one line, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-'));
    const gen = async (name: string, extra: string[]) => {
      const c = capture();
      assert.equal(await main(['generate', 'scenarios/quickstart.yaml', '--duration', '8s', '--seed', '5', '--out', join(dir, name), ...extra], c.io), 0, c.err.join('\n'));
      return readFileSync(join(dir, name), 'utf8').trimEnd().split('\n');
    };
    const single = await gen('all.jsonl', []);
    const shards = [await gen('s0.jsonl', ['--shard', '0/3']), await gen('s1.jsonl', ['--shard', '1/3']), await gen('s2.jsonl', ['--shard', '2/3'])];
    for (const s of shards) assert.ok(s.length > single.length / 6, `${s.length} of ${single.length}`);
    assert.deepEqual(shards.flat().sort(), single.slice().sort());
    const c = capture();
    assert.equal(await main(['generate', 'scenarios/quickstart.yaml', '--events', '10', '--shard', '3/3'], c.io), 2);
    assert.deepEqual(c.err, ['clickbench: --shard must be i/N with 0 ≤ i < N (e.g. 0/4 … 3/4), got "3/3"']);
  });

  it('`generate --out` into a folder that does not exist: one line naming the file, exit 2', async () => {
    const c = capture();
    const out = join(mkdtempSync(join(tmpdir(), 'cb-')), 'missing', 'events.jsonl');
    assert.equal(await main(['generate', 'scenarios/quickstart.yaml', '--events', '10', '--out', out], c.io), 2);
    assert.deepEqual(c.err, [`clickbench: could not write the events to ${out}: ENOENT — check that the folder exists, is writable and has space`]);
  });

  it('`generate --stats --json` reports rate, mix, Zipf fit and partition load', async () => {
    const c = capture();
    assert.equal(await main(['generate', 'scenarios/quickstart.yaml', '--stats', '--json', '--duration', '20s'], c.io), 0);
    const s = JSON.parse(c.out.join('\n'));
    assert.equal(s.seconds, 20);
    assert.equal(s.partitions.count, 12);
    assert.equal(s.partitions.events.reduce((a: number, b: number) => a + b, 0), s.events);
    assert.ok(Math.abs(s.visitors.fittedZipf - 0.7) < 0.1);
    // Poisson arrivals: at 1 000 events/s a second's count has a standard deviation of ~32 (3.2 %).
    assert.ok(s.maxRateDeviation > 0.01 && s.maxRateDeviation < 0.15, `worst second off by ${s.maxRateDeviation}`);
  });
});
