/**
 * Which module carries out each runner of the registry (./registry.ts), and the runners of one run.
 *
 * A new runner: a module of this folder (a class taking the RunContext and its phase windows,
 * implementing ./runner.ts's PhaseRunnerModule), one line in RUNNERS, its kind(s) in the registry,
 * and tests.
 */
import type { RunContext } from '../run/context.js';
import type { PhaseRunnerModule } from './runner.js';
import { PHASES, type PhaseRunner } from './registry.js';
import type { PhaseWindow } from './timeline.js';
import { ReplayPhases } from './replay.js';
import { DualRunPhases } from './dual-run.js';
import { FaultPhases } from './fault.js';
import { ElasticPhases } from './elastic.js';

/** Load phases only change the curve the driver already follows: nothing to do. */
const LOAD: PhaseRunnerModule = {};

export const RUNNERS: Record<PhaseRunner, (ctx: RunContext, windows: PhaseWindow[]) => PhaseRunnerModule> = {
  load: () => LOAD,
  replay: (ctx, windows) => new ReplayPhases(ctx, windows),
  'dual-run': (ctx, windows) => new DualRunPhases(ctx, windows),
  fault: (ctx, windows) => new FaultPhases(ctx, windows),
  elastic: (ctx, windows) => new ElasticPhases(ctx, windows),
};

/** The runners a run's phases need, each created once with its windows (in the order they first appear). */
export function createRunners(ctx: RunContext): Map<PhaseRunner, PhaseRunnerModule> {
  const out = new Map<PhaseRunner, PhaseRunnerModule>();
  for (const w of ctx.phases) {
    const r = PHASES[w.kind].runner;
    if (!out.has(r)) out.set(r, RUNNERS[r](ctx, ctx.phases.filter((x) => PHASES[x.kind].runner === r)));
  }
  return out;
}

/**
 * The phase boundaries the schedule passed since phase `current` began, now that it is at `offsetMs`:
 * for each window that begins, the runner that leaves (the previous window's, when it is another
 * runner's) and the runner that begins it.
 */
export function boundariesPassed(phases: PhaseWindow[], current: number, offsetMs: number): { window: PhaseWindow; leaving?: PhaseRunner; beginning: PhaseRunner }[] {
  const out: { window: PhaseWindow; leaving?: PhaseRunner; beginning: PhaseRunner }[] = [];
  for (let i = current; i < phases.length - 1 && offsetMs >= phases[i].endMs; i++) {
    const before = PHASES[phases[i].kind].runner;
    const next = PHASES[phases[i + 1].kind].runner;
    out.push({ window: phases[i + 1], ...(before !== next ? { leaving: before } : {}), beginning: next });
  }
  return out;
}
