/** Render a results.json into scorecard.md beside it, print the console summary, and decide the exit code. */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { redact } from '../kafka/security.js';
import { dirname, join, resolve } from 'node:path';
import { readFlowLog } from '../observe/flowlog.js';
import { withFlowLog } from '../score/crosszone-source.js';
import chalk from 'chalk';
import { ClickbenchError, ExitCode } from '../errors.js';
import { isMeasured, READABLE_SCHEMAS, RESULTS_SCHEMA, type Results } from '../run/results.js';
import { evaluateGates } from '../score/gates.js';
import { asProfile } from '../score/profiles.js';
import type { Profile } from '../observe/crosszone.js';
import { table, type Io } from './io.js';
import { renderMarkdown, verdictLine } from './markdown.js';
import { evaluate, type Evaluation } from '../score/evaluate.js';
import { stealWarning } from '../observe/host.js';

const resultsPath = (path: string) => (existsSync(path) && statSync(path).isDirectory() ? join(path, 'results.json') : path);

/** A results.json, or a run's report directory holding one. */
export function readResults(path: string): Results {
  const file = resultsPath(path);
  if (!existsSync(file)) throw new ClickbenchError(`no results at ${file}`, { exitCode: ExitCode.usage, hint: 'give the path of a results.json written by `clickbench run`' });
  let r: Results;
  try {
    r = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ClickbenchError(`${file} is not JSON: ${(err as Error).message}`, { exitCode: ExitCode.usage });
  }
  if (!(r.schema in READABLE_SCHEMAS)) throw new ClickbenchError(`${file} has schema ${JSON.stringify(r.schema)}, expected ${RESULTS_SCHEMA} (or ${Object.keys(READABLE_SCHEMAS).filter((x) => x !== RESULTS_SCHEMA).join(', ')})`, { exitCode: ExitCode.usage, hint: 'it was written by another clickbench version' });
  return r;
}

export function printSummary(io: Io, r: Results, e: Evaluation): void {
  const color = (ok: boolean, s: string) => (io.isTTY ? (ok ? chalk.green(s) : chalk.red(s)) : s);
  io.out(color(e.passed, verdictLine(r, e)));
  const rows = table(io, ['readiness row', 'score', 'owner']);
  for (const x of e.rows) rows.push([x.title, color(x.score === 2, String(x.score)), x.owner ?? '–']);
  io.out(rows.toString());
  if (e.gates.length) {
    const g = table(io, ['gate', 'threshold', 'measured', 'result']);
    for (const x of e.gates) g.push([x.metric, x.expression, x.value === null ? x.note ?? '–' : String(Math.round(x.value * 1000) / 1000), color(x.passed, x.passed ? 'pass' : 'FAIL')]);
    io.out(g.toString());
  }
  const stolen = stealWarning(r.phases);
  if (stolen) io.out(color(false, `warning: ${stolen}`));
  const l = r.latency;
  io.out(`e2e p50/p99/max ${l.e2e?.p50Ms ?? '–'}/${l.e2e?.p99Ms ?? '–'}/${l.e2e?.maxMs ?? '–'} ms · ${r.throughput.ackedEvents}/${r.throughput.intendedEvents} events · ${r.correctness.missing} missing, ${r.correctness.duplicates} duplicates`);
}

export interface ReportOutcome {
  exitCode: number;
  markdownFile: string;
  evaluation: Evaluation;
}

export async function writeReport(resultsFile: string, opts: { io: Io; summaryJson?: string; out?: string; profile?: Profile; crossZoneFile?: string }): Promise<ReportOutcome> {
  let recorded = readResults(resultsFile);
  if (opts.crossZoneFile) {
    // The export is evidence about this run: kept in its results.json, so later reports and compares see it.
    recorded = withFlowLog(recorded, readFlowLog(opts.crossZoneFile), resolve(opts.crossZoneFile));
    if (!isMeasured(recorded.crossZoneFile!)) throw new ClickbenchError(`cannot use ${opts.crossZoneFile}: ${recorded.crossZoneFile!.reason}`, { exitCode: ExitCode.usage });
    writeFileSync(resultsPath(resultsFile), JSON.stringify(recorded, null, 2) + '\n');
    opts.io.out(`cross-zone flow log: ${recorded.crossZoneFile.rows} rows, ${Object.entries(recorded.crossZoneFile.phases).map(([p, w]) => `${p} ${(w.crossZoneBytes / 1e6).toFixed(1)} MB (${(w.coverage * 100).toFixed(0)} % covered)`).join(', ')}; written into ${resultsPath(resultsFile)}`);
  }
  const r = opts.profile ? asProfile(recorded, opts.profile) : recorded;
  const gates = evaluateGates(r);
  const e = evaluate(r, gates);
  const md = opts.out ?? join(dirname(resultsPath(resultsFile)), 'scorecard.md');
  writeFileSync(md, redact(renderMarkdown(r, e)));
  printSummary(opts.io, r, e);
  opts.io.out(`report: ${md}`);
  if (opts.summaryJson) {
    writeFileSync(opts.summaryJson, JSON.stringify({ run: r.run.id, status: r.run.status, passed: e.passed, verdict: verdictLine(r, e), gates, scorecard: e.rows.map((x) => ({ row: x.id, score: x.score, owner: x.owner })), report: md }, null, 2) + '\n');
  }
  const exitCode = r.run.status === 'failed' ? ExitCode.runFailed : e.gates.some((g) => !g.passed) ? ExitCode.gateFailed : ExitCode.ok;
  return { exitCode, markdownFile: md, evaluation: e };
}
