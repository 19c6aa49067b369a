/**
 * The scenario parser against arbitrary input (fast-check): a scenario file is user input that also
 * arrives from pull requests. Whatever the text, loading it ends in a scenario or in a usage error
 * (exit 2) whose every line says file:line:col: and what is wrong; never another exception, never a
 * hang. The counts of cases are printed (`# fuzz: …`).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { main } from '../../src/cli/main.js';
import { ClickbenchError } from '../../src/errors.js';
import { parseBrokers } from '../../src/kafka/client.js';
import { resolveSecurity } from '../../src/kafka/security.js';
import { parseScenario, ScenarioError } from '../../src/scenario/load.js';
import { parseDurationMs, parseSizeBytes } from '../../src/scenario/units.js';

const FILE = 'pr/scenario.yaml';
const shipped = readdirSync('scenarios').filter((f) => f.endsWith('.yaml')).map((f) => readFileSync(join('scenarios', f), 'utf8'));
const LOCATED = /^pr\/scenario\.yaml:\d+:\d+: \S/;
let cases = 0;

/** Load `text`; a scenario or a located usage error, nothing else, within `maxMs`. */
function loadsOrExplains(text: string, maxMs = 2_000): 'valid' | 'refused' {
  cases++;
  const t0 = performance.now();
  try {
    parseScenario(text, FILE);
    return 'valid';
  } catch (err) {
    if (!(err instanceof ScenarioError)) throw new Error(`not a located scenario error: ${(err as Error)?.stack ?? String(err)}\n--- input ---\n${text.slice(0, 2_000)}`);
    assert.equal(err.exitCode, 2);
    const lines = err.lines();
    assert.ok(lines.length > 0);
    for (const line of lines) {
      assert.match(line, LOCATED, `every problem names file:line:col: ${line}`);
      assert.ok(line.length < 400, `one readable line, not the input echoed: ${line.slice(0, 200)}…`);
    }
    return 'refused';
  } finally {
    const ms = performance.now() - t0;
    assert.ok(ms < maxMs, `took ${ms.toFixed(0)} ms`);
  }
}

/** Scalars that break things: huge, negative, not-a-number, unicode, empty, very long, YAML specials. */
const nasty = fc.oneof(
  fc.integer({ min: -1e15, max: 1e15 }).map(String),
  fc.double().map(String),
  fc.constantFrom('.nan', '-.inf', '.inf', 'NaN', '~', 'null', 'true', '0x1F', '1e309', '-0', '""', "''", '[]', '{}', '[[[[[[[[[[1]]]]]]]]]]', '*nope', '&a 1', '!!binary aGVsbG8=', '!!js/function x', '|', '>', '? x', '- - -', '%YAML 1.1', '9'.repeat(400), 'é'.repeat(2_000), '💥'.repeat(50), '"\\u0000"', '1m1m1m1m1m1m1m1m1m1m1m1m1m1m1m1m1m1m1m1m1m1m1m1m1m1m1mx'),
  fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => JSON.stringify(s)),
  fc.string({ maxLength: 30 }),
);

/** One edit of a shipped scenario's text. */
const edit = fc.oneof(
  fc.record({ op: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('value' as const), at: fc.nat(), v: nasty }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('indent' as const), at: fc.nat(), by: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), v: nasty, key: fc.constantFrom('name', 'duration', 'traffic', 'phases', 'gates', 'budgets', 'x', 'kind', '<<') }),
);

function applyEdits(text: string, edits: { op: string; at: number; v?: string; by?: number; key?: string }[]): string {
  const lines = text.split('\n');
  for (const e of edits) {
    const i = e.at % Math.max(1, lines.length);
    const line = lines[i] ?? '';
    if (e.op === 'drop') lines.splice(i, 1);
    else if (e.op === 'duplicate') lines.splice(i, 0, line);
    else if (e.op === 'indent') lines[i] = ' '.repeat(e.by!) + line;
    else if (e.op === 'value') {
      const m = /^(\s*-?\s*[\w.]+:\s*)/.exec(line);
      lines[i] = m ? m[1] + e.v : line + e.v;
    } else lines.splice(i, 0, `${/^\s*/.exec(line)![0]}${e.key}: ${e.v}`);
  }
  return lines.join('\n');
}

describe('the scenario parser against arbitrary input (property-based)', () => {
  it('edited shipped scenarios (dropped, duplicated, re-indented lines; nasty values; stray keys) load or are refused with located lines', () => {
    const outcome = { valid: 0, refused: 0 };
    fc.assert(
      fc.property(fc.constantFrom(...shipped.keys()), fc.array(edit, { minLength: 1, maxLength: 4 }), (which, edits) => {
        outcome[loadsOrExplains(applyEdits(shipped[which], edits))]++;
      }),
      { numRuns: 7_000, seed: 20261203 },
    );
    console.log(`# fuzz: ${outcome.valid + outcome.refused} edited shipped scenarios: ${outcome.valid} valid, ${outcome.refused} refused with located lines`);
    assert.ok(outcome.refused > 1_000 && outcome.valid > 100, 'both outcomes are exercised');
  });

  it('arbitrary YAML documents (any structure, any keys) load or are refused with located lines', () => {
    const doc = fc.oneof(
      fc.anything({ maxDepth: 4, withNullPrototype: false, withBigInt: false, withMap: false, withSet: false, withTypedArray: false, withSparseArray: false, withBoxedValues: false }),
      fc.dictionary(fc.constantFrom('name', 'duration', 'traffic', 'phases', 'population', 'topics', 'gates', 'target', 'enrichment', 'clients', 'budgets', 'owners', 'seed'), fc.anything({ maxDepth: 3 })),
    );
    let n = 0;
    fc.assert(
      fc.property(doc, (d) => {
        let text: string | undefined;
        try {
          text = stringify(d);
        } catch {
          return; // not representable as YAML: nothing to parse
        }
        if (typeof text !== 'string') return;
        n++;
        loadsOrExplains(text);
      }),
      { numRuns: 2_500, seed: 7 },
    );
    console.log(`# fuzz: ${n} arbitrary YAML documents`);
  });

  it('arbitrary text (not even YAML) is refused with located lines', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (t) => void loadsOrExplains(t)), { numRuns: 1_000, seed: 11 });
  });

  it('an alias bomb, deep nesting and a huge string are refused quickly, not expanded', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i <= 9; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    assert.equal(loadsOrExplains(`name: bomb\n${bomb.join('\n')}\n`, 1_000), 'refused');
    assert.equal(loadsOrExplains(`name: deep\nx: ${'['.repeat(5_000)}${']'.repeat(5_000)}\n`, 2_000), 'refused');
    assert.equal(loadsOrExplains(`name: ${'n'.repeat(1_000_000)}\nduration: ${'1m'.repeat(50_000)}x\n`, 2_000), 'refused');
  });

  it('`validate` on edited scenarios exits 0 or 2, one located line per problem, never "unexpected error" or a stack', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-fuzz-'));
    const samples = fc.sample(fc.tuple(fc.constantFrom(...shipped.keys()), fc.array(edit, { minLength: 1, maxLength: 3 })), { numRuns: 200, seed: 3 });
    const codes = new Map<number, number>();
    for (const [k, [which, edits]] of samples.entries()) {
      const file = join(dir, `s${k}.yaml`);
      writeFileSync(file, applyEdits(shipped[which], edits));
      const out: string[] = [];
      const code = await main(['validate', file], { out: (l) => out.push(l), err: (l) => out.push(l), isTTY: false });
      cases++;
      codes.set(code, (codes.get(code) ?? 0) + 1);
      assert.ok(code === 0 || code === 2, `exit ${code}: ${out.join('\n')}`);
      for (const l of out) {
        assert.doesNotMatch(l, /unexpected error|^\s+at /, l);
        if (code === 2) assert.ok(l.startsWith(`${file}:`), l);
      }
    }
    console.log(`# fuzz: validate exit codes ${JSON.stringify(Object.fromEntries(codes))}; ${cases} scenario cases in all`);
    assert.ok(cases >= 10_000, `at least 10 000 cases (${cases})`);
  });
});

describe('flags against arbitrary input (property-based)', () => {
  it('durations and sizes: a number of ms / bytes ≥ 0, or undefined; never a throw, never NaN', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 60 }), fc.stringMatching(/^(\d{1,4}(\.\d{1,2})?(ms|s|m|h|d)){1,6}$/), fc.double()), (v) => {
      for (const parse of [parseDurationMs, parseSizeBytes]) {
        const r = parse(v);
        assert.ok(r === undefined || (Number.isFinite(r) && r >= 0), `${parse.name}(${JSON.stringify(v)}) = ${r}`);
      }
    }), { numRuns: 3_000, seed: 5 });
    // What people write still means what they meant.
    fc.assert(fc.property(fc.nat(10_000), fc.nat(59), fc.nat(59), (h, m, s) => parseDurationMs(`${h}h${m}m${s}s`) === ((h * 60 + m) * 60 + s) * 1_000), { numRuns: 500, seed: 6 });
  });

  it('--brokers lists: trimmed, no empty entries, never a throw', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (v) => {
      for (const b of parseBrokers(v)) assert.ok(b.length > 0 && b === b.trim() && !b.includes(','));
    }), { numRuns: 2_000, seed: 8 });
  });

  it('security flags: a connection security or one usage line (exit 2); never another error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-fuzz-sec-'));
    writeFileSync(join(dir, 'pw'), 'secret\n');
    const input = fc.record({
      protocol: fc.option(fc.oneof(fc.constantFrom('SASL_SSL', 'sasl_ssl', 'SSL', 'PLAINTEXT', 'SASL_PLAINTEXT'), fc.string({ maxLength: 12 })), { nil: undefined }),
      saslMechanism: fc.option(fc.oneof(fc.constantFrom('SCRAM-SHA-512', 'SCRAM-SHA-256', 'PLAIN', 'scram-sha-512'), fc.string({ maxLength: 12 })), { nil: undefined }),
      saslUsername: fc.option(fc.string({ maxLength: 12 }), { nil: undefined }),
      passwordFile: fc.option(fc.constantFrom('pw', 'missing', '', '/etc/shadow-nope'), { nil: undefined }),
      caFile: fc.option(fc.constantFrom('pw', 'missing'), { nil: undefined }),
      tlsVerify: fc.option(fc.boolean(), { nil: undefined }),
    });
    let refused = 0;
    fc.assert(fc.property(input, (i) => {
      try {
        resolveSecurity([{ ...i, origin: 'command line', baseDir: dir }], {});
      } catch (err) {
        if (!(err instanceof ClickbenchError)) throw err;
        assert.equal(err.exitCode, 2, err.message);
        assert.doesNotMatch(err.line(), /secret/);
        refused++;
      }
    }), { numRuns: 2_000, seed: 9 });
    assert.ok(refused > 0);
  });
});
