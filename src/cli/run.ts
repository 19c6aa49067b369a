/** `clickbench run <scenario>`: the main job. */
import { Command, Option } from 'commander';
import { addSecurityOptions, securityInput, type SecurityFlags } from './security-flags.js';
import { PROFILES, type Profile } from '../observe/crosszone.js';
import { ExitCode, ExitWith, UsageError } from '../errors.js';
import { parseWorkers } from './workers.js';
import { defaultWarmupSeconds } from '../sandbox/defaults.js';
import { parseIntFlag } from './flags.js';
import type { Io } from '../report/io.js';
import type { RunSignal } from '../run/context.js';

export interface RunFlags extends SecurityFlags {
  profile?: Profile;
  brokers?: string;
  stateDir?: string;
  reports: string;
  keep?: boolean;
  keepSandbox?: boolean;
  warmup: number;
  summaryJson?: string;
  workers?: number;
  externalWorkers?: boolean;
  joinTimeout: number;
}

export function runCommand(io: Io): Command {
  return addSecurityOptions(new Command('run'))
    .description('run a scenario against the sandbox (default) or --brokers, measure, and write reports/<run-id>/')
    .argument('<scenario>', 'scenario YAML, e.g. scenarios/quickstart.yaml')
    .option('--brokers <list>', 'bootstrap brokers of any Kafka-compatible cluster (default: the sandbox)')
    .option('--state-dir <dir>', 'sandbox state directory')
    .option('--reports <dir>', 'where reports go', 'reports')
    .option('--keep', 'keep the run\'s topics (default: deleted at the end)')
    .option('--keep-sandbox', 'leave a sandbox the run started running')
    .option('--warmup <seconds>', 'at most this many seconds of unmeasured pipeline traffic that warm a cold sandbox\'s JVMs before the run (it ends once the brokers\' CPU per record is flat); 0: none (default: $CLICKBENCH_WARMUP_SECONDS, else 120; see README "The sandbox")', parseIntFlag('--warmup'), defaultWarmupSeconds())
    .option('--summary-json <file>', 'also write the gate summary as JSON here (for CI tooling)')
    .option('--workers <n>', 'drive the load from N load worker processes (`clickbench worker`) started here, instead of this process; see README "Load from many processes or hosts"', parseWorkers)
    .option('--external-workers', 'with --workers: do not start them; wait for N workers started elsewhere (the run prints the command)')
    .option('--join-timeout <seconds>', 'with --workers: how long to wait for the workers to join', parseIntFlag('--join-timeout'), 120)
    .addOption(new Option('--profile <profile>', 'platform profile (default: the scenario\'s, else detected from the cluster)').choices([...PROFILES]))
    .action(async (file: string, o: RunFlags) => {
      // Loaded here, not at start-up, so --help and the other commands do not pay for them.
      const [{ loadScenario }, { newRunId, runScenario }, { resultsPath }, { resolveTarget }, { writeReport }, { logUpdateStderr }] = await Promise.all([
        import('../scenario/load.js'), import('../run/run.js'), import('../run/results.js'), import('../run/target.js'), import('../report/write.js'), import('log-update'),
      ]);
      if (o.externalWorkers && !o.workers) throw new UsageError('--external-workers goes with --workers N (how many workers to wait for)');
      const loaded = loadScenario(file);
      const s = loaded.scenario;
      const runId = newRunId(s.name);
      const target = await resolveTarget(s, { brokers: o.brokers, stateDir: o.stateDir, keepSandbox: o.keepSandbox, warmupSeconds: o.warmup, log: (l) => io.err(l), security: securityInput(o), profile: o.profile, scenarioFile: loaded.file });
      const signal: RunSignal = { aborted: false };
      const onSigint = interruptHandler(signal, io, (code) => process.exit(code));
      process.on('SIGINT', onSigint);
      let lastPlain = 0;
      const progress = (line: string) => {
        if (io.isTTY) logUpdateStderr(line);
        else if (Date.now() - lastPlain >= 5_000) {
          lastPlain = Date.now();
          io.err(line);
        }
      };
      let exit: number = ExitCode.ok;
      try {
        const results = await runScenario(loaded, {
          target, runId, reportsDir: o.reports, keepTopics: o.keep, signal, progress, log: (l) => (io.isTTY ? logUpdateStderr.clear() : undefined, io.err(l)),
          zones: { producer: s.clients.producer_zone, enrichment: s.clients.enrichment_zone, probe: s.clients.probe_zone },
          ...(o.workers ? { workers: { count: o.workers, spawn: !o.externalWorkers, joinTimeoutMs: o.joinTimeout * 1000 } } : {}),
        }).catch(async (err) => {
          // A failed run still leaves its partial results.json; render what there is.
          const partial = resultsPath(o.reports, runId);
          await writeReport(partial, { io, summaryJson: o.summaryJson }).catch(() => undefined);
          throw err;
        });
        if (io.isTTY) logUpdateStderr.done();
        const outcome = await writeReport(resultsPath(o.reports, runId), { io, summaryJson: o.summaryJson });
        exit = results.run.status === 'interrupted' ? ExitCode.interrupted : outcome.exitCode;
      } finally {
        process.off('SIGINT', onSigint);
        await target.release();
      }
      if (exit !== ExitCode.ok) throw new ExitWith(exit);
    });
}

/** Time a second Ctrl-C gives the run to put back what it broke before quitting. */
export const RESTORE_ON_QUIT_MS = 60_000;

/**
 * Ctrl-C during a run. First: stop gracefully (finish what is in flight, write the partial report).
 * Second: quit now, but first put back what the run broke (a broker a fault stopped is started again:
 * otherwise the next run finds the sandbox broken), at most `restoreMs`, then exit 130. Third: quit
 * at once without restoring.
 */
export function interruptHandler(signal: RunSignal, io: Pick<Io, 'err'>, exit: (code: number) => void, restoreMs = RESTORE_ON_QUIT_MS): () => void {
  let presses = 0;
  return () => {
    presses++;
    if (presses === 1) {
      signal.aborted = true;
      io.err('\nstopping: finishing what is in flight and writing a partial report (Ctrl-C again to quit sooner)');
    } else if (presses === 2) {
      io.err(signal.restore
        ? `\nquitting: first putting back what the run broke (stopped brokers started again, at most ${restoreMs / 1000} s; Ctrl-C once more to quit without it)`
        : '\nquitting (Ctrl-C once more to force)');
      let timer: NodeJS.Timeout | undefined;
      void Promise.race([
        (signal.restore?.() ?? Promise.resolve()).catch((err: Error) => io.err(`could not put everything back: ${err.message}`)),
        new Promise<void>((r) => (timer = setTimeout(r, restoreMs))),
      ]).then(() => {
        clearTimeout(timer);
        exit(ExitCode.interrupted);
      });
    } else exit(ExitCode.interrupted);
  };
}
