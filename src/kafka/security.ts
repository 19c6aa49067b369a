/**
 * How clients authenticate and encrypt: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, with SASL
 * PLAIN / SCRAM-SHA-256 / SCRAM-SHA-512 and TLS verified against a CA (on by default).
 *
 * Passwords come from the environment (CLICKBENCH_SASL_PASSWORD) or a file, never from a flag
 * value (it would land in shell history). A password is held in a Secret: it serializes and
 * prints as "[redacted]", and every registered secret is scrubbed from what clickbench writes
 * (redact()), so it cannot reach results.json, a report, a log line or an error message.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';

export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number];
export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];
export const PASSWORD_ENV = 'CLICKBENCH_SASL_PASSWORD';
/** The ACL-limited principal's password for the access check (target.security.limited_principal). */
export const LIMITED_PASSWORD_ENV = 'CLICKBENCH_LIMITED_SASL_PASSWORD';

const REDACTED = '[redacted]';
const secrets = new Set<string>();

/** A value that never shows itself: JSON, string conversion and inspection all give "[redacted]". */
export class Secret {
  readonly #value: string;
  constructor(value: string, readonly source: string) {
    this.#value = value;
    if (value.length >= 4) {
      secrets.add(value);
      // As it appears inside JSON (a quote, a backslash, a control character escaped): results.json is JSON.
      const escaped = JSON.stringify(value).slice(1, -1);
      if (escaped !== value) secrets.add(escaped);
    }
  }
  reveal(): string {
    return this.#value;
  }
  toJSON(): string {
    return REDACTED;
  }
  toString(): string {
    return REDACTED;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED;
  }
}

/** `text` with every secret known to this process replaced by "[redacted]". */
export function redact(text: string): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
  return out;
}

export interface Security {
  protocol: SecurityProtocol;
  sasl?: { mechanism: SaslMechanism; username: string; password: Secret };
  /** TLS settings when the protocol is SSL or SASL_SSL. */
  tls?: { caFile?: string; ca?: string; verify: boolean };
}

export const PLAINTEXT: Security = { protocol: 'PLAINTEXT' };

export const usesTls = (s: Security): boolean => s.protocol === 'SSL' || s.protocol === 'SASL_SSL';
export const usesSasl = (s: Security): boolean => s.protocol === 'SASL_PLAINTEXT' || s.protocol === 'SASL_SSL';

/** What to record and print about a connection's security: everything but the password. */
export function describeSecurity(s: Security): { protocol: SecurityProtocol; saslMechanism?: SaslMechanism; saslUsername?: string; passwordFrom?: string; caFile?: string; tlsVerify?: boolean } {
  return {
    protocol: s.protocol,
    ...(s.sasl ? { saslMechanism: s.sasl.mechanism, saslUsername: s.sasl.username, passwordFrom: s.sasl.password.source } : {}),
    ...(s.tls ? { caFile: s.tls.caFile ?? 'system CAs', tlsVerify: s.tls.verify } : {}),
  };
}

export function securityLine(s: Security): string {
  const parts: string[] = [s.protocol];
  if (s.sasl) parts.push(`${s.sasl.mechanism} as ${s.sasl.username}`);
  if (s.tls) parts.push(s.tls.verify ? `TLS verified against ${s.tls.caFile ?? 'the system CAs'}` : 'TLS NOT verified');
  return parts.join(', ');
}

/** What the user gave: flags win over the scenario's `target.security`. */
export interface SecurityInput {
  protocol?: string;
  saslMechanism?: string;
  saslUsername?: string;
  passwordFile?: string;
  caFile?: string;
  tlsVerify?: boolean;
  /** Where these came from, for error lines ("--security-protocol", "scenario target.security"). */
  origin: string;
  /** Relative files resolve against this directory (the scenario's). */
  baseDir?: string;
}

export function resolveSecurity(inputs: SecurityInput[], env: NodeJS.ProcessEnv = process.env, passwordEnv = PASSWORD_ENV): Security {
  const pick = <K extends keyof SecurityInput>(k: K): { value: SecurityInput[K]; origin: string } | undefined => {
    for (const i of inputs) if (i[k] !== undefined) return { value: i[k], origin: i.origin };
    return undefined;
  };
  const proto = pick('protocol');
  const protocol = (proto?.value ?? 'PLAINTEXT').toUpperCase().replace('-', '_');
  if (!(SECURITY_PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new UsageError(`${proto!.origin}: unknown security protocol "${proto!.value}"`, `use one of ${SECURITY_PROTOCOLS.join(', ')}`);
  }
  const sec: Security = { protocol: protocol as SecurityProtocol };
  if (usesSasl(sec)) {
    const mech = pick('saslMechanism');
    if (!mech) throw new UsageError(`${protocol} needs a SASL mechanism`, `add --sasl-mechanism (${SASL_MECHANISMS.join(', ')}) or target.security.sasl_mechanism`);
    const mechanism = String(mech.value).toUpperCase();
    if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism)) throw new UsageError(`${mech.origin}: unsupported SASL mechanism "${mech.value}"`, `use one of ${SASL_MECHANISMS.join(', ')}`);
    const user = pick('saslUsername');
    if (!user?.value) throw new UsageError(`${protocol} needs a SASL user name`, 'add --sasl-username or target.security.sasl_username');
    // The password: a file named by the first input (the flags), else the environment, else a file named further down.
    const first = inputs[0]?.passwordFile ? { value: inputs[0].passwordFile, origin: inputs[0].origin } : undefined;
    const fromEnv = env[passwordEnv];
    sec.sasl = { mechanism: mechanism as SaslMechanism, username: user.value, password: readPassword(first ?? (fromEnv ? undefined : pick('passwordFile')), inputs, env, passwordEnv) };
  }
  if (usesTls(sec)) {
    const ca = pick('caFile');
    const verify = pick('tlsVerify')?.value ?? true;
    sec.tls = { verify };
    if (ca?.value) {
      const base = inputs.find((i) => i.origin === ca.origin)?.baseDir;
      const file = resolve(base ?? '.', ca.value);
      if (!existsSync(file)) throw new UsageError(`${ca.origin}: CA file ${file} does not exist`, 'give the PEM file of the CA that signed the brokers\' certificates');
      const pem = readFileSync(file, 'utf8');
      if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`${ca.origin}: ${file} holds no PEM certificate`, 'give a PEM file (-----BEGIN CERTIFICATE-----)');
      sec.tls.caFile = file;
      sec.tls.ca = pem;
    }
  } else if (pick('caFile')?.value) {
    throw new UsageError(`a CA file was given but the security protocol is ${protocol}`, 'use --security-protocol SSL or SASL_SSL for a TLS listener');
  }
  return sec;
}

function readPassword(file: { value: unknown; origin: string } | undefined, inputs: SecurityInput[], env: NodeJS.ProcessEnv, passwordEnv: string): Secret {
  if (file?.value) {
    const base = inputs.find((i) => i.origin === file.origin)?.baseDir;
    const path = resolve(base ?? '.', String(file.value));
    if (!existsSync(path)) throw new UsageError(`${file.origin}: password file ${path} does not exist`, `create it (one line, mode 600) or set ${passwordEnv}`);
    const value = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    if (!value) throw new UsageError(`${file.origin}: password file ${path} is empty`, 'write the password on its first line');
    return new Secret(value, `file ${path}`);
  }
  const fromEnv = env[passwordEnv];
  if (fromEnv) return new Secret(fromEnv, `environment ${passwordEnv}`);
  throw new UsageError(`SASL needs a password for ${inputs.find((i) => i.saslUsername)?.saslUsername ?? 'its user'} and none was given`, `set ${passwordEnv} or give a password file (${passwordEnv === PASSWORD_ENV ? '--sasl-password-file, target.security.password_file' : 'target.security.limited_principal.password_file'}); passwords are never taken from a flag`);
}

/** The flag values to hand a child clickbench process (the password travels in its environment, never in argv). */
export function securityArgs(s: Security): { args: string[]; env: Record<string, string> } {
  const args = ['--security-protocol', s.protocol];
  const env: Record<string, string> = {};
  if (s.sasl) {
    args.push('--sasl-mechanism', s.sasl.mechanism, '--sasl-username', s.sasl.username);
    env[PASSWORD_ENV] = s.sasl.password.reveal();
  }
  if (s.tls?.caFile) args.push('--ca-file', s.tls.caFile);
  if (s.tls && !s.tls.verify) args.push('--no-tls-verify');
  return { args, env };
}
