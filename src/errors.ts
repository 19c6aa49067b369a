/**
 * One error type for everything a user can cause or fix. `main` maps it to an exit code and
 * prints one line: what went wrong, and (after " — ") how to fix it. Stack traces only with --verbose.
 */
export const ExitCode = {
  ok: 0,
  gateFailed: 1,
  usage: 2,
  runFailed: 3,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class ClickbenchError extends Error {
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;
  constructor(message: string, opts: { exitCode?: ExitCode; hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ClickbenchError';
    this.exitCode = opts.exitCode ?? ExitCode.runFailed;
    this.hint = opts.hint;
  }
  /** The single line shown to the user. */
  line(): string {
    return this.hint ? `${this.message} — ${this.hint}` : this.message;
  }
  /** What the user sees: one line, or one per problem for an error that lists several (a scenario's). */
  lines(): string[] {
    return [`clickbench: ${this.line()}`];
  }
}

/** Ends a command with an exit code after its output was printed (not an error to report again). */
export class ExitWith extends ClickbenchError {
  constructor(code: number) {
    super('', { exitCode: code as ExitCode });
  }
}

/** A usage or input problem (bad flag, bad scenario): exit 2. */
export class UsageError extends ClickbenchError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: ExitCode.usage, hint });
    this.name = 'UsageError';
  }
}
