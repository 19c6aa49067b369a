/**
 * Before any load: can we talk to this cluster the way we were told to? Each way it can go wrong
 * gets one line that says what, at which broker, and how to fix it (exit 3, within seconds):
 * nothing listening, a plaintext client on a TLS port (or the reverse), a certificate that does
 * not chain to the given CA, a failed SASL authentication.
 */
import net from 'node:net';
import tls from 'node:tls';
import { ClickbenchError } from '../errors.js';
import { createKafka } from './client.js';
import { redact, usesSasl, usesTls, type Security } from './security.js';

export interface ConnectionCheck {
  broker: string;
  /** TLS protocol and cipher when TLS was used. */
  tls?: { protocol: string; cipher: string; issuer: string };
  ms: number;
}

const UNTRUSTED = new Set(['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE']);

function hostPort(b: string): { host: string; port: number } {
  const i = b.lastIndexOf(':');
  return { host: b.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(b.slice(i + 1)) };
}

/** A TCP connection that is opened and closed, or the error code. */
function tcpReachable(b: string, timeoutMs: number): Promise<string | null> {
  const { host, port } = hostPort(b);
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (r: string | null) => { s.destroy(); resolve(r); };
    s.setTimeout(timeoutMs, () => done('ETIMEDOUT'));
    s.once('connect', () => done(null));
    s.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}

interface HandshakeResult { ok: boolean; code?: string; message?: string; protocol?: string; cipher?: string; issuer?: string }

function tlsHandshake(b: string, opts: tls.ConnectionOptions, timeoutMs: number): Promise<HandshakeResult> {
  const { host, port } = hostPort(b);
  return new Promise((resolve) => {
    const s = tls.connect({ host, port, ...(!net.isIP(host) ? { servername: host } : {}), ...opts });
    const done = (r: HandshakeResult) => { s.destroy(); resolve(r); };
    s.setTimeout(timeoutMs, () => done({ ok: false, code: 'ETIMEDOUT', message: 'no TLS handshake answer' }));
    s.once('secureConnect', () => {
      const cert = s.getPeerCertificate();
      done({ ok: true, protocol: s.getProtocol() ?? '?', cipher: s.getCipher()?.name ?? '?', issuer: issuerName(cert) });
    });
    s.once('error', (e: NodeJS.ErrnoException) => done({ ok: false, code: e.code, message: e.message }));
  });
}

function issuerName(cert: tls.PeerCertificate | undefined): string {
  const cn = cert?.issuer?.CN;
  return cn ? `CN=${Array.isArray(cn) ? cn.join(',') : cn}` : 'an unknown issuer';
}

/** A plaintext Kafka ApiVersions v0 request: does the port answer like a plaintext Kafka listener? */
function answersPlaintextKafka(b: string, timeoutMs: number): Promise<boolean> {
  const { host, port } = hostPort(b);
  const clientId = Buffer.from('clickbench-preflight');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length);
  body.writeInt16BE(18, 0); // ApiVersions
  body.writeInt16BE(0, 2);
  body.writeInt32BE(1, 4);
  body.writeInt16BE(clientId.length, 8);
  clientId.copy(body, 10);
  const frame = Buffer.concat([Buffer.alloc(4), body]);
  frame.writeInt32BE(body.length, 0);
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    let got = Buffer.alloc(0);
    const done = (r: boolean) => { s.destroy(); resolve(r); };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => s.write(frame));
    s.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      // size (4) + correlation id (4) = 1 means a Kafka response to our request.
      if (got.length >= 8) done(got.readInt32BE(4) === 1);
    });
    s.once('close', () => done(false));
    s.once('error', () => done(false));
  });
}

/**
 * Check the connection to the first bootstrap broker that accepts TCP, as `security` says.
 * Throws a ClickbenchError (exit 3) with one line on failure.
 */
export async function checkConnection(brokers: string[], security: Security, opts: { timeoutMs?: number } = {}): Promise<ConnectionCheck> {
  const timeoutMs = opts.timeoutMs ?? 3_000;
  const t0 = Date.now();
  let broker: string | undefined;
  const refused: string[] = [];
  for (const b of brokers) {
    const err = await tcpReachable(b, timeoutMs);
    if (!err) { broker = b; break; }
    refused.push(`${b} (${err})`);
  }
  if (!broker) throw new ClickbenchError(`cannot reach the Kafka cluster at ${brokers.join(',')}: no bootstrap broker accepts connections (${refused.join(', ')})`, { hint: 'check --brokers / target.brokers and that the cluster runs (for the sandbox: clickbench sandbox status)' });

  const result: ConnectionCheck = { broker, ms: 0 };
  if (usesTls(security)) {
    const t = security.tls!;
    const hs = await tlsHandshake(broker, { rejectUnauthorized: t.verify, ...(t.ca ? { ca: [t.ca] } : {}) }, timeoutMs);
    if (!hs.ok) {
      if (hs.code && UNTRUSTED.has(hs.code)) {
        const peek = await tlsHandshake(broker, { rejectUnauthorized: false }, timeoutMs);
        throw new ClickbenchError(`the TLS certificate of broker ${broker} (issued by ${peek.issuer ?? 'an unknown issuer'}) is not trusted: ${hs.code}; expected a chain to ${t.caFile ? `the CA in ${t.caFile}` : 'the system CAs'}`, {
          hint: 'pass the CA that signed the brokers\' certificates with --ca-file (target.security.ca_file); the sandbox prints its CA file at `sandbox up`',
        });
      }
      if (hs.code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
        throw new ClickbenchError(`the TLS certificate of broker ${broker} is not valid for that host name: ${hs.message}`, { hint: 'connect by a name the certificate lists (its subject alternative names)' });
      }
      if (await answersPlaintextKafka(broker, timeoutMs)) {
        throw new ClickbenchError(`broker ${broker} is a plaintext listener, but ${security.protocol} was asked for (TLS handshake failed: ${hs.code ?? hs.message})`, {
          hint: `use --security-protocol ${usesSasl(security) ? 'SASL_PLAINTEXT' : 'PLAINTEXT'}, or the cluster's TLS port`,
        });
      }
      throw new ClickbenchError(`TLS handshake with broker ${broker} failed: ${hs.code ?? ''} ${hs.message ?? ''}`.trim(), { hint: 'check that this port is the cluster\'s TLS listener' });
    }
    result.tls = { protocol: hs.protocol!, cipher: hs.cipher!, issuer: hs.issuer! };
  } else if (!(await answersPlaintextKafka(broker, timeoutMs))) {
    const hs = await tlsHandshake(broker, { rejectUnauthorized: false }, timeoutMs);
    if (hs.ok) {
      throw new ClickbenchError(`broker ${broker} speaks TLS (certificate issued by ${hs.issuer}): a ${security.protocol} client cannot use this listener`, {
        hint: `use --security-protocol ${usesSasl(security) ? 'SASL_SSL' : 'SSL'} (or SASL_SSL) with --ca-file, or the cluster's plaintext port`,
      });
    }
    throw new ClickbenchError(`broker ${broker} accepts TCP but does not answer a Kafka ApiVersions request`, { hint: 'check that this host:port is a Kafka listener' });
  }

  // The protocol level: SASL authentication and one metadata request, no retries.
  const kafka = createKafka({ brokers: [broker], clientId: 'clickbench-preflight', retries: 0, connectionTimeoutMs: timeoutMs, requestTimeoutMs: timeoutMs * 2, security });
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    await admin.describeCluster();
  } catch (err) {
    const e = err as Error & { type?: string };
    const msg = redact(e.message ?? String(err));
    if (security.sasl && (/SASL|authentication/i.test(e.name) || /SASL|authentication/i.test(msg))) {
      if (/unsupported SASL mechanism|Unsupported SASL mechanism|UNSUPPORTED_SASL_MECHANISM/i.test(msg)) {
        throw new ClickbenchError(`broker ${broker} does not offer SASL mechanism ${security.sasl.mechanism}: ${msg}`, { hint: 'use a mechanism the listener enables (sasl.enabled.mechanisms)' });
      }
      throw new ClickbenchError(`SASL authentication failed at broker ${broker} for user "${security.sasl.username}" with ${security.sasl.mechanism}: ${msg}`, {
        hint: `check the password (read from ${security.sasl.password.source}) and that the user has ${security.sasl.mechanism} credentials`,
      });
    }
    if (!security.sasl && /closed|ECONNRESET|disconnected/i.test(msg)) {
      throw new ClickbenchError(`broker ${broker} closed the connection after the handshake: the listener probably requires SASL (${msg})`, { hint: 'use --security-protocol SASL_SSL / SASL_PLAINTEXT with --sasl-mechanism and --sasl-username' });
    }
    throw new ClickbenchError(`could not read cluster metadata from ${broker} over ${security.protocol}: ${msg}`, { hint: 'check the listener and the client settings' });
  } finally {
    await admin.disconnect().catch(() => {});
  }
  result.ms = Date.now() - t0;
  return result;
}
