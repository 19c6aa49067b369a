/**
 * Every phase kind a scenario can name, in one table: the scenario schema's `kind` list and its
 * checks, the preflight's capability needs, which counts toward the headline latency, how `run`
 * carries it out, and the line the report prints about it are all read from here.
 *
 * Adding a phase kind: one entry below (its `runner` says which module of this folder carries it out;
 * a new runner is a module implementing ./runner.ts's PhaseRunnerModule and one line in ./runners.ts),
 * a test in test/unit/phases.test.ts (and test/unit/phase-runners.test.ts for a new runner), and —
 * when it takes its own block of settings — that block in src/scenario/schema.ts.
 *
 * This module imports nothing, so anything (schema, probe, run, report) can read it without a cycle.
 */

export const PHASE_KINDS = ['warmup', 'steady', 'burst', 'replay', 'dual-run', 'rollback', 'fault', 'scale-out', 'replace-broker', 'scale-in'] as const;
export type PhaseKind = (typeof PHASE_KINDS)[number];

/** Which part of `run` carries a phase out (the load itself always runs, at the scenario's curve). */
export type PhaseRunner = 'load' | 'replay' | 'dual-run' | 'fault' | 'elastic';

/** A cluster capability a phase needs (ids of src/probe/probe.ts's CAPABILITIES); the preflight stops the run when the probe found it missing. */
export interface PhaseNeed {
  capability: string;
  why: string;
  fix: string;
}

export interface PhaseKindSpec {
  kind: PhaseKind;
  /** One line: what the phase does (schema docs, report). */
  summary: string;
  /** Counts toward the run's headline latency and the gates on it. */
  scored: boolean;
  runner: PhaseRunner;
  /** The scenario field the phase needs (validation says so at its path). */
  requires?: 'lookback' | 'fault';
  /** The block of settings only this kind takes. */
  block?: 'fault' | 'elastic';
  needs?: PhaseNeed[];
}

const TIMESTAMP_LOOKUP = (kind: string): PhaseNeed => ({ capability: 'timestamp-lookup', why: `the ${kind} phase resets offsets by time`, fix: `drop the ${kind} phase` });

export const PHASES: { readonly [K in PhaseKind]: PhaseKindSpec & { kind: K } } = {
  warmup: { kind: 'warmup', summary: 'load at the scenario\'s rate, not scored: clients and caches settle', scored: false, runner: 'load' },
  steady: { kind: 'steady', summary: 'load at the scenario\'s rate, scored', scored: true, runner: 'load' },
  burst: { kind: 'burst', summary: 'load with the scenario\'s bursts, scored', scored: true, runner: 'load' },
  replay: { kind: 'replay', summary: 'the enrichment group reset to `lookback` ago catches up as a new generation while live traffic continues', scored: false, runner: 'replay', requires: 'lookback', needs: [TIMESTAMP_LOOKUP('replay')] },
  'dual-run': { kind: 'dual-run', summary: 'the other enrichment version runs beside the main one into its own topic; outputs compared field by field', scored: false, runner: 'dual-run' },
  rollback: { kind: 'rollback', summary: 'back to `version` (v1 by default): its group reset to `lookback` ago, caught up as a new generation', scored: false, runner: 'replay', requires: 'lookback', needs: [TIMESTAMP_LOOKUP('rollback')] },
  fault: { kind: 'fault', summary: 'something breaks (a broker, a zone, a disk) and comes back; write availability and recovery measured', scored: false, runner: 'fault', requires: 'fault', block: 'fault' },
  'scale-out': { kind: 'scale-out', summary: 'brokers join and partitions move onto them; bytes moved, time and live latency measured, headroom probed before and after', scored: false, runner: 'elastic', block: 'elastic' },
  'replace-broker': { kind: 'replace-broker', summary: 'a broker is emptied and rebuilt from its peers', scored: false, runner: 'elastic', block: 'elastic' },
  'scale-in': { kind: 'scale-in', summary: 'partitions move off brokers that then leave', scored: false, runner: 'elastic', block: 'elastic' },
};

export function phaseSpec(kind: PhaseKind): PhaseKindSpec {
  return PHASES[kind];
}

/** Problems with one phase of a scenario that the registry can tell (required fields, blocks on the wrong kind); paths are relative to the phase. */
export function phaseShapeProblems(p: { kind: PhaseKind; lookback?: number; fault?: unknown; elastic?: unknown }): { path: string[]; message: string }[] {
  const spec = PHASES[p.kind];
  const out: { path: string[]; message: string }[] = [];
  if (spec.requires === 'lookback' && p.lookback === undefined) out.push({ path: ['lookback'], message: `a ${p.kind} phase needs a lookback (how far back to reset), e.g. lookback: 30s` });
  if (spec.requires === 'fault' && !p.fault) out.push({ path: ['fault'], message: 'a fault phase needs a fault block, e.g. fault: { action: broker-kill, leader_of: raw, at: 5s, down_for: 15s }' });
  for (const block of ['fault', 'elastic'] as const) {
    if (p[block] === undefined || spec.block === block) continue;
    const kinds = PHASE_KINDS.filter((k) => PHASES[k].block === block);
    out.push({ path: [block], message: `only ${kinds.length === 1 ? kinds[0] : `${kinds.slice(0, -1).join(', ')} and ${kinds[kinds.length - 1]}`} phases take ${block === 'elastic' ? 'an' : 'a'} ${block} block (this phase is ${p.kind})` });
  }
  return out;
}

/** The capabilities the scenario's phases need, each once (first phase that needs it gives the reason). */
export function phaseNeeds(kinds: PhaseKind[]): PhaseNeed[] {
  const out = new Map<string, PhaseNeed>();
  for (const k of kinds) for (const n of PHASES[k].needs ?? []) if (!out.has(n.capability)) out.set(n.capability, n);
  return [...out.values()];
}
