/**
 * The CLI: commander builds typed options and calls one stage per command. Only `main` maps
 * errors to exit codes and prints them (one line; the stack with --verbose).
 */
import { Command, CommanderError } from 'commander';
import { ClickbenchError, ExitCode, ExitWith } from '../errors.js';
import { CLICKBENCH_VERSION } from '../version.js';
import { processIo, type Io } from '../report/io.js';
import { redact } from '../kafka/security.js';
import { generateCommand, schemaCommand, validateCommand } from './scenario.js';
import { sandboxCommand } from './sandbox.js';
import { calibrateCommand } from './calibrate.js';
import { enrichCommand } from './enrich.js';
import { probeCommand } from './probe.js';
import { runCommand } from './run.js';
import { compareCommand, reportCommand } from './report.js';
import { loadCommand, workerCommand } from './workers.js';
import { sinkCommand } from './sink.js';

export function createProgram(io: Io): Command {
  const program = new Command('clickbench')
    .description('readiness benchmark for clickstream enrichment on Kafka-compatible clusters')
    .version(CLICKBENCH_VERSION)
    .enablePositionalOptions()
    .option('--verbose', 'show stack traces for errors')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  program.addCommand(sandboxCommand(io));
  program.addCommand(validateCommand(io));
  program.addCommand(generateCommand(io));
  program.addCommand(schemaCommand(io));
  program.addCommand(runCommand(io));
  program.addCommand(reportCommand(io));
  program.addCommand(compareCommand(io));
  program.addCommand(enrichCommand(io));
  program.addCommand(calibrateCommand(io));
  program.addCommand(probeCommand(io));
  program.addCommand(loadCommand(io));
  program.addCommand(workerCommand(io));
  program.addCommand(sinkCommand(io));
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Run the CLI with argv (without node and script); returns the exit code. */
export async function main(argv: string[], rawIo: Io = processIo): Promise<number> {
  // Nothing clickbench prints can carry a password (src/kafka/security.ts).
  const io: Io = { out: (l) => rawIo.out(redact(l)), err: (l) => rawIo.err(redact(l)), isTTY: rawIo.isTTY };
  const program = createProgram(io);
  const verbose = argv.includes('--verbose');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return ExitCode.ok;
      return ExitCode.usage;
    }
    if (err instanceof ExitWith) return err.exitCode;
    if (err instanceof ClickbenchError) {
      for (const line of err.lines()) io.err(line);
      if (verbose && err.stack) io.err(err.stack);
      return err.exitCode;
    }
    io.err(`clickbench: unexpected error: ${(err as Error)?.message ?? err}${verbose ? '' : ' (run with --verbose for the stack)'}`);
    if (verbose && (err as Error)?.stack) io.err(String((err as Error).stack));
    return ExitCode.runFailed;
  }
}
