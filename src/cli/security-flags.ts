/** The connection-security flags shared by run, probe, calibrate and enrich. */
import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { PASSWORD_ENV, SASL_MECHANISMS, SECURITY_PROTOCOLS, type SecurityInput } from '../kafka/security.js';

export interface SecurityFlags {
  securityProtocol?: string;
  saslMechanism?: string;
  saslUsername?: string;
  saslPasswordFile?: string;
  saslPassword?: string;
  caFile?: string;
  tlsVerify?: boolean;
}

export function addSecurityOptions(cmd: Command): Command {
  return cmd
    .option('--security-protocol <protocol>', `how clients connect: ${SECURITY_PROTOCOLS.join(', ')} (default PLAINTEXT, or the scenario's target.security)`)
    .option('--sasl-mechanism <mechanism>', SASL_MECHANISMS.join(', '))
    .option('--sasl-username <user>', 'SASL user name')
    .option('--sasl-password-file <file>', `file holding the SASL password (or set ${PASSWORD_ENV})`)
    .addOption(new Option('--sasl-password <value>').hideHelp())
    .option('--ca-file <pem>', 'CA certificate(s) the brokers\' TLS certificates must chain to (default: the system CAs)')
    .option('--no-tls-verify', 'do not verify the brokers\' certificates (never for production evidence)');
}

/** The flags as a security input; refuses a password given as a flag value. */
export function securityInput(o: SecurityFlags): SecurityInput {
  if (o.saslPassword !== undefined) {
    throw new UsageError('--sasl-password is not accepted: a password on the command line lands in shell history and process lists', `set ${PASSWORD_ENV} or use --sasl-password-file <file>`);
  }
  return {
    origin: 'command line',
    protocol: o.securityProtocol,
    saslMechanism: o.saslMechanism,
    saslUsername: o.saslUsername,
    passwordFile: o.saslPasswordFile,
    caFile: o.caFile,
    tlsVerify: o.tlsVerify === false ? false : undefined,
  };
}
