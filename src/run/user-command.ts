/**
 * A user-supplied shell command (external clusters: fault injection and restore, starting or
 * replacing brokers): run with a time limit; its exit code, duration and output tail are recorded
 * whatever happens, and a timeout or a non-zero exit becomes one error line naming the command.
 */
import { execa } from 'execa';
import { redact } from '../kafka/security.js';

export interface CommandRun<S extends string = string> {
  step: S;
  command: string;
  exitCode: number | null;
  durationMs: number;
  /** The last 4 000 characters of stdout and stderr, secrets redacted. */
  output: string;
}

export async function runUserCommand<S extends string>(step: S, command: string, timeoutMs: number, record: (run: CommandRun<S>) => void): Promise<CommandRun<S>> {
  const t0 = Date.now();
  // Its own process group, killed whole at the limit: killing only the shell would leave what it
  // started (a hung CLI call) holding the output pipe, and the wait would outlast the limit.
  const child = execa(command, { shell: true, all: true, reject: false, detached: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, timeoutMs);
  const r = await child;
  clearTimeout(timer);
  const run: CommandRun<S> = { step, command, exitCode: timedOut ? null : r.exitCode ?? null, durationMs: Date.now() - t0, output: redact(String(r.all ?? '')).slice(-4_000) };
  record(run);
  if (timedOut) throw new Error(`${step} command timed out after ${timeoutMs / 1000} s: ${command}`);
  if (r.exitCode !== 0) throw new Error(`${step} command exited with ${r.exitCode}: ${command}${run.output ? ` (${lastLine(run.output)})` : ''}`);
  return run;
}

export const lastLine = (output: string): string => output.trim().split('\n').pop()?.slice(0, 200) ?? '';
