import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeResults } from '../../src/run/results.js';
import { complete } from './recorded.js';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { describeSecurity, PASSWORD_ENV, redact, resolveSecurity, Secret, securityArgs } from '../../src/kafka/security.js';
import { UsageError } from '../../src/errors.js';
import { javaClientProperties } from '../../src/kafka/tools.js';
import { detectProfile, requirements, unmet, versionFromApis, type ProbeResult } from '../../src/probe/probe.js';

const dir = mkdtempSync(join(tmpdir(), 'cb-sec-'));
const file = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };
const CA = file('ca.pem', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
const capture = () => {
  const lines: string[] = [];
  return { io: { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l), isTTY: false }, lines };
};

describe('connection security (pure)', () => {
  it('defaults to PLAINTEXT and refuses a CA file without TLS', () => {
    assert.deepEqual(resolveSecurity([{ origin: 'command line' }], {}), { protocol: 'PLAINTEXT' });
    assert.throws(() => resolveSecurity([{ origin: 'command line', caFile: CA }], {}), /CA file was given but the security protocol is PLAINTEXT/);
    assert.throws(() => resolveSecurity([{ origin: 'command line', protocol: 'SSH' }], {}), /unknown security protocol "SSH"/);
  });

  it('SASL needs a mechanism, a user and a password, and names what is missing', () => {
    assert.throws(() => resolveSecurity([{ origin: 'command line', protocol: 'SASL_SSL' }], {}), (e: Error) => e instanceof UsageError && /needs a SASL mechanism/.test(e.message));
    assert.throws(() => resolveSecurity([{ origin: 'command line', protocol: 'SASL_SSL', saslMechanism: 'SCRAM-SHA-512' }], {}), /needs a SASL user name/);
    assert.throws(() => resolveSecurity([{ origin: 'command line', protocol: 'SASL_SSL', saslMechanism: 'SCRAM-SHA-512', saslUsername: 'u' }], {}), /needs a password for u and none was given/);
    assert.throws(() => resolveSecurity([{ origin: 'command line', protocol: 'sasl_ssl', saslMechanism: 'GSSAPI', saslUsername: 'u' }], {}), /unsupported SASL mechanism "GSSAPI"/);
  });

  it('password: the flag\'s file, else the environment, else the scenario\'s file', () => {
    const flagFile = file('flag-pw', 'from-flag-file\n');
    const scenFile = file('scen-pw', 'from-scenario-file\n');
    const base = { protocol: 'SASL_SSL', saslMechanism: 'SCRAM-SHA-512', saslUsername: 'alice', caFile: CA };
    const pw = (inputs: Parameters<typeof resolveSecurity>[0], env: NodeJS.ProcessEnv) => resolveSecurity(inputs, env).sasl!.password;
    assert.equal(pw([{ origin: 'command line', ...base, passwordFile: flagFile }, { origin: 'scenario', passwordFile: scenFile }], { [PASSWORD_ENV]: 'from-env-1' }).reveal(), 'from-flag-file');
    assert.equal(pw([{ origin: 'command line', ...base }, { origin: 'scenario', passwordFile: scenFile }], { [PASSWORD_ENV]: 'from-env-1' }).reveal(), 'from-env-1');
    const fromScenario = pw([{ origin: 'command line', ...base }, { origin: 'scenario', passwordFile: scenFile }], {});
    assert.equal(fromScenario.reveal(), 'from-scenario-file');
    assert.equal(fromScenario.source, `file ${scenFile}`);
    const sec = resolveSecurity([{ origin: 'command line', ...base, passwordFile: flagFile }], {});
    assert.equal(sec.tls?.caFile, CA);
    assert.equal(sec.tls?.verify, true);
  });

  it('a password never shows itself: JSON, strings, inspection, redaction of output', () => {
    const s = new Secret('s3cret-value-42', 'test');
    assert.equal(JSON.stringify({ s }), '{"s":"[redacted]"}');
    assert.equal(`${s}`, '[redacted]');
    assert.equal(inspect({ s }).includes('s3cret'), false);
    assert.equal(redact('auth failed for s3cret-value-42 at x'), 'auth failed for [redacted] at x');
    const sec = { protocol: 'SASL_SSL' as const, sasl: { mechanism: 'PLAIN' as const, username: 'bob', password: s }, tls: { verify: true } };
    assert.equal(JSON.stringify(describeSecurity(sec)).includes('s3cret'), false);
    const child = securityArgs(sec);
    assert.equal(child.args.join(' ').includes('s3cret'), false);
    assert.equal(child.env[PASSWORD_ENV], 's3cret-value-42');
  });

  it('refuses --sasl-password on the command line without echoing it (exit 2)', async () => {
    const c = capture();
    const code = await main(['probe', '--brokers', '127.0.0.1:1', '--sasl-password', 'hunter2-typed'], c.io);
    assert.equal(code, 2);
    assert.equal(c.lines.length, 1);
    assert.match(c.lines[0], /--sasl-password is not accepted/);
    assert.equal(c.lines.join('\n').includes('hunter2-typed'), false);
  });

  it('refuses a password written in a scenario file', async () => {
    const scen = file('pw.yaml', 'name: pw\nduration: 10s\ntraffic: { base_rate: 10 }\ntarget: { kind: brokers, brokers: "127.0.0.1:1", security: { protocol: SASL_SSL, password: "in-the-file-99" } }\n');
    const c = capture();
    const code = await main(['validate', scen], c.io);
    assert.equal(code, 2);
    assert.match(c.lines.join('\n'), /passwords are not read from scenario files/);
    assert.equal(c.lines.join('\n').includes('in-the-file-99'), false);
  });
});

describe('Java client properties for Kafka\'s tools (pure)', () => {
  it('SASL_SSL with SCRAM: JAAS line with the password quoted, PEM trust store; PLAINTEXT needs none', () => {
    const sec = { protocol: 'SASL_SSL' as const, sasl: { mechanism: 'SCRAM-SHA-512' as const, username: 'clickbench', password: new Secret('pa"ss\\word', 'test') }, tls: { verify: true, ca: 'PEM' } };
    assert.equal(javaClientProperties(sec, '/tmp/x/ca.pem'), [
      'security.protocol=SASL_SSL',
      'sasl.mechanism=SCRAM-SHA-512',
      'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="clickbench" password="pa\\\\"ss\\\\\\\\word";',
      'ssl.truststore.type=PEM',
      'ssl.truststore.location=/tmp/x/ca.pem',
      '',
    ].join('\n'));
    assert.equal(javaClientProperties({ protocol: 'PLAINTEXT' }), undefined);
    assert.equal(javaClientProperties({ protocol: 'SASL_PLAINTEXT', sasl: { mechanism: 'PLAIN', username: 'u', password: new Secret('secret-1', 't') } }), 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="secret-1";\n');
    assert.throws(() => javaClientProperties({ protocol: 'SSL', tls: { verify: false } }), /cannot skip certificate verification/);
  });
});

describe('probe logic (pure)', () => {
  it('infers a Kafka release from ApiVersions only where the protocol is sure', () => {
    assert.match(versionFromApis({ Fetch: [4, 18], Produce: [0, 13] }), /^≥ 4\.0/);
    assert.match(versionFromApis({ Fetch: [0, 17] }), /^< 4\.0/);
    assert.match(versionFromApis(null), /unknown/);
  });

  it('detects the profile from broker configs', () => {
    assert.equal(detectProfile(['s3.wal.path', 'broker.rack'], false).profile, 'automq');
    assert.equal(detectProfile(['broker.rack'], true).profile, 'tiered');
    assert.equal(detectProfile(['broker.rack'], false).profile, 'apache-kafka');
    assert.match(detectProfile([], null).evidence, /assumed/);
  });

  it('a scenario needing exactly-once is refused when transactions are missing', () => {
    const caps = (tx: 'yes' | 'no') => ({ capabilities: [
      { id: 'transactions', name: 'transactions', status: tx, evidence: tx === 'no' ? 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED' : 'ok', ms: 1 },
      { id: 'consumer-groups', name: 'groups', status: 'yes', evidence: 'ok', ms: 1 },
    ] }) as unknown as ProbeResult;
    const eos = requirements({ enrichment: { delivery: 'eos' }, clients: { acks: 'all' }, phases: [] });
    const alo = requirements({ enrichment: { delivery: 'alo' }, clients: { acks: 'all' }, phases: [] });
    assert.deepEqual(eos.map((n) => n.id), ['consumer-groups', 'log-compaction', 'idempotent-produce', 'transactions']);
    assert.equal(unmet(caps('no'), eos)?.id, 'transactions');
    assert.match(unmet(caps('no'), eos)!.evidence, /AUTHORIZATION/);
    assert.equal(unmet(caps('no'), alo), undefined);
    assert.equal(unmet(caps('yes'), eos), undefined);
    assert.ok(requirements({ enrichment: { delivery: 'alo' }, clients: { acks: '1' }, phases: [{ kind: 'replay' }] }).some((n) => n.id === 'timestamp-lookup'));
  });
});

describe('a password that is also part of a topic name, an event field and an error: no copy in any output', () => {
  it('results.json, scorecard.md, the summary JSON and the console carry no copy, raw or JSON-escaped', async () => {
    const password = 'clk"s\\7';
    new Secret(password, 'test');
    const r = complete();
    r.topics.prefix = `cb-${password}-run`;
    r.topics.raw = `${r.topics.prefix}.clicks.raw`;
    r.run.error = `broker said: authentication failed for password ${password}`;
    (r as unknown as { note: string }).note = `event field page_title=${password}`;
    const dir = mkdtempSync(join(tmpdir(), 'cb-secret-'));
    const file = writeResults(r, dir);
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l), isTTY: false };
    const code = await main(['report', file, '--summary-json', join(dir, 'summary.json')], io);
    assert.ok(code === 0 || code === 1, out.join('\n'));
    const escaped = JSON.stringify(password).slice(1, -1);
    for (const [what, text] of [['results.json', readFileSync(file, 'utf8')], ['scorecard.md', readFileSync(join(dirname(file), 'scorecard.md'), 'utf8')], ['summary.json', readFileSync(join(dir, 'summary.json'), 'utf8')], ['console', out.join('\n')]] as const) {
      assert.equal(text.includes(password), false, `the password in ${what}`);
      assert.equal(text.includes(escaped), false, `the JSON-escaped password in ${what}`);
    }
    assert.match(readFileSync(file, 'utf8'), /cb-\[redacted\]-run/);
  });
});
