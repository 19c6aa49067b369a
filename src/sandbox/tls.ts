/**
 * The sandbox's TLS material, made at start with the JDK's keytool (nothing downloaded): a CA of
 * its own, and one broker key pair whose certificate that CA signs for 127.0.0.1 / localhost.
 * Clients trust the sandbox through `ca.pem`; the brokers read `broker.p12`.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { ClickbenchError } from '../errors.js';

export interface SandboxTls {
  dir: string;
  caFile: string;
  keystoreFile: string;
  keystorePassword: string;
}

export async function makeSandboxTls(dir: string, validityDays = 30): Promise<SandboxTls> {
  mkdirSync(dir, { recursive: true });
  const pass = randomBytes(12).toString('hex');
  const ca = join(dir, 'ca.p12');
  const caFile = join(dir, 'ca.pem');
  const keystoreFile = join(dir, 'broker.p12');
  const csr = join(dir, 'broker.csr');
  const cert = join(dir, 'broker.pem');
  const store = (file: string) => ['-keystore', file, '-storetype', 'PKCS12', '-storepass', pass];
  const steps: string[][] = [
    ['-genkeypair', '-alias', 'ca', '-dname', 'CN=clickbench sandbox CA', '-keyalg', 'RSA', '-keysize', '2048', '-validity', String(validityDays), '-ext', 'bc:c', ...store(ca), '-keypass', pass],
    ['-exportcert', '-alias', 'ca', '-rfc', '-file', caFile, ...store(ca)],
    ['-genkeypair', '-alias', 'broker', '-dname', 'CN=localhost', '-keyalg', 'RSA', '-keysize', '2048', '-validity', String(validityDays), ...store(keystoreFile), '-keypass', pass],
    ['-certreq', '-alias', 'broker', '-file', csr, ...store(keystoreFile)],
    ['-gencert', '-alias', 'ca', '-infile', csr, '-outfile', cert, '-rfc', '-validity', String(validityDays), '-ext', 'SAN=ip:127.0.0.1,dns:localhost', '-ext', 'EKU=serverAuth', ...store(ca)],
    ['-importcert', '-alias', 'ca', '-file', caFile, '-noprompt', ...store(keystoreFile)],
    ['-importcert', '-alias', 'broker', '-file', cert, '-noprompt', ...store(keystoreFile)],
  ];
  for (const args of steps) {
    try {
      await execa('keytool', args, { timeout: 60_000, all: true });
    } catch (err) {
      const out = String((err as { all?: string }).all ?? (err as Error).message).trim().split('\n').pop();
      throw new ClickbenchError(`making the sandbox's TLS certificate failed (keytool ${args[0]}): ${out}`, { hint: 'keytool ships with the JDK; check `keytool -help`' });
    }
  }
  return { dir, caFile, keystoreFile, keystorePassword: pass };
}
