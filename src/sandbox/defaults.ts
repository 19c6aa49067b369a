/** The sandbox's defaults that the command line shows in --help: kept apart from the sandbox code so `--help` loads nothing else. */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where the sandbox lives unless --state-dir says otherwise. */
export function defaultStateDir(): string {
  if (process.env.CLICKBENCH_SANDBOX_DIR) return process.env.CLICKBENCH_SANDBOX_DIR;
  const base = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(base, 'clickbench', 'sandbox');
}

/** Most seconds a run (or `sandbox up`) spends warming cold sandbox JVMs, unless told otherwise. */
export const SANDBOX_WARMUP_SECONDS = 120;

/** --warmup's default: $CLICKBENCH_WARMUP_SECONDS when it is a whole number, else SANDBOX_WARMUP_SECONDS. */
export function defaultWarmupSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.CLICKBENCH_WARMUP_SECONDS;
  return v !== undefined && /^\d+$/.test(v.trim()) ? Number(v) : SANDBOX_WARMUP_SECONDS;
}
