/**
 * The interface of a phase runner: how `run` carries out each phase kind. One runner per `runner` of
 * the registry (./registry.ts), each a module of this folder, created per run by ./runners.ts; `run`
 * calls them at fixed points of the schedule and lets each fill its part of results.json.
 */
import type { RunListener } from '../run/context.js';
import type { PhaseWindow } from './timeline.js';

/**
 * One runner of a run. Every method is optional; they are called in this order:
 * constructor (check the phases against the target, before anything connects; throw a ClickbenchError
 * naming the field) → extraTopics → prepare → [begin → tick/sample … → leave]* → afterLoad →
 * contribute → teardown (always, also after a failure). As a RunListener it also hears the load's
 * latencies, retries, failed attempts and acknowledgements.
 */
export interface PhaseRunnerModule extends RunListener {
  /** Topics its phases write besides the run's own (created with them, removed with the prefix). */
  extraTopics?(): string[];
  /** Before the load starts: topics, lookups, the main stage and the probe exist. */
  prepare?(): Promise<void>;
  /** One of its phase windows begins. */
  begin?(w: PhaseWindow): Promise<void>;
  /** A phase of another runner begins (the previous phase was one of this runner's, or not). */
  leave?(): Promise<void>;
  /** About every 50 ms while the schedule runs: act when a phase's moment comes. */
  tick?(offsetMs: number): void;
  /** With each sample (every 250 ms); `lag` is the main group's lag when it was read this time. */
  sample?(offsetMs: number, lag: number | undefined): Promise<void>;
  /** Wants the main group's lag every sample, not once a second (a replay catching up). */
  busy?(): boolean;
  /** Its part of the live progress line (starting with " · "), or ''. */
  status?(): string;
  /** The load has stopped: finish or undo what is in flight (bounded) before the drain. */
  afterLoad?(): Promise<void>;
  /** Its part of results.json, once the run's phases and series are assembled. */
  contribute?(): Promise<void>;
  /** Its phases can lose or duplicate writes: the raw topic is read back to check every acknowledged event. */
  readonly checksEveryAck?: boolean;
  /** Puts back what it changed (also when the run fails). */
  teardown?(): Promise<void>;
}
