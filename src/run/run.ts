/**
 * `clickbench run`: set up the run's topics, fill the lookups, start the enrichment stage and the
 * probe, drive the open-loop schedule through its phases, observe, account for every event, tear
 * down, and hand back results (written as results.json even when the run fails or is stopped).
 *
 * This module is the orchestration only. What it shares with its parts is a RunContext
 * (./context.ts); each phase kind is carried out by a runner of src/phases/ (./runner.ts there);
 * set-up is ./setup.ts, observation ./observe.ts and ./sampler.ts, results ./finish.ts.
 */
import { CODEC_TYPE } from '../kafka/compression.js';
import { ClickstreamGenerator } from '../generate/clickstream.js';
import { connectAdmin } from '../kafka/admin.js';
import { checkConnection } from '../kafka/preflight.js';
import { LeaderMap } from '../kafka/leaders.js';
import { deleteTopicsWithPrefix } from '../drive/topics.js';
import { OpenLoopDriver } from '../drive/driver.js';
import { RemoteDriver } from '../workers/remote-driver.js';
import { LocalWorkers } from '../workers/local.js';
import { ClickbenchError, ExitCode } from '../errors.js';
import { ClientHealth } from '../observe/health.js';
import { Probe } from '../observe/probe.js';
import type { LoadedScenario } from '../scenario/load.js';
import { sleep } from '../sandbox/process.js';
import { boundariesPassed, createRunners } from '../phases/runners.js';
import { notMeasured, writeResults, type Results, type WorkersResult } from './results.js';
import type { LoadResult } from '../workers/coordinator.js';
import { RunContext, type RunOptions } from './context.js';
import { Observer, type Snapshot } from './observe.js';
import { Sampler } from './sampler.js';
import { TableRun } from './table.js';
import { calibrateIfAsked, createRunData, preflight } from './setup.js';
import { accountRaw, assembleResults, recordTimedOut, sumCounters, unseenAcked } from './finish.js';

export { newRunId, type RunOptions } from './context.js';

export async function runScenario(loaded: LoadedScenario, opts: RunOptions): Promise<Results> {
  const ctx = new RunContext(loaded, opts);
  const { s, results, signal, log, phases } = ctx;
  // Each runner checks its phases against the target before anything connects.
  const byRunner = createRunners(ctx);
  const runners = [...byRunner.values()];
  ctx.listeners.push(...runners);
  // One clear line (exit 3) for a wrong listener, an untrusted certificate or a refused password.
  const connection = await checkConnection(ctx.brokers, ctx.target.security);
  ctx.admin = await connectAdmin(ctx.kafka, ctx.bootstrap);
  const observer = new Observer(ctx);
  let health: ClientHealth | undefined;
  let table: TableRun | undefined;
  let remote: RemoteDriver | undefined;
  let local: LocalWorkers | undefined;
  try {
    await preflight(ctx, connection);
    await calibrateIfAsked(ctx);
    const tablesGen = await createRunData(ctx, runners.flatMap((r) => r.extraTopics?.() ?? []));
    ctx.stage = ctx.stageFor(0);
    await ctx.stage.start();
    if (s.table) {
      // The table sink, its own process, reading the enriched topic from the start like any consumer.
      table = new TableRun(ctx);
      await table.start();
      ctx.tableSink = table;
    }

    if (opts.workers) {
      // The load from N workers: they join the run's worker group and measure their clocks before the schedule starts.
      const w = opts.workers;
      remote = new RemoteDriver({
        kafka: ctx.kafka, prefix: ctx.runPrefix, idPrefix: ctx.runPrefix, scenario: s, source: ctx.loaded.source, file: ctx.loaded.file, workers: w.count, joinTimeoutMs: w.joinTimeoutMs, log,
        onAck: (intendedMs, ackMs) => ctx.record('produceAck', intendedMs, ackMs - intendedMs),
        onPartitionAck: (partition, ackMs) => { for (const r of runners) r.partitionAcked?.(partition, ackMs); },
        onAttemptFailed: (code) => { for (const r of runners) r.attemptFailed?.(code); },
      });
      ctx.driver = remote;
      local = w.spawn ? new LocalWorkers({ brokers: ctx.brokers, security: ctx.target.security, prefix: ctx.runPrefix, log: ctx.errorLine }) : undefined;
      if (!local) log(`waiting for ${w.count} load worker(s): start each with  clickbench worker --prefix ${ctx.runPrefix} --brokers ${ctx.bootstrap}`);
      await remote.prepare(local ? () => local!.start(w.count) : undefined);
    }
    // The schedule starts now: events carry wall-clock intended times from here (same seed, same pools → same stream).
    ctx.scheduleStart = Date.now() + (remote ? 2_000 : 500);
    ctx.results.run.scheduleStartMs = ctx.scheduleStart;
    await remote?.start(ctx.scheduleStart);
    const gen = new ClickstreamGenerator(s, { startMs: ctx.scheduleStart, idPrefix: ctx.runPrefix, pools: tablesGen.pools });
    ctx.probe = new Probe({
      kafka: ctx.probeKafka, groupId: `${ctx.runPrefix}.probe`, enrichedTopic: ctx.names.enriched, dlqTopic: ctx.names.dlq, rack: ctx.zones.probe, idPrefix: ctx.runPrefix,
      onEnriched: (seq, value, intendedMs) => {
        table?.enriched(seq);
        for (const r of runners) r.enriched?.(seq, value, intendedMs);
      },
      onSample: (sample) => {
        // Latency samples are first sightings of enriched events: a DLQ record or a duplicate is not an end-to-end sample.
        if (sample.intendedMs === null || sample.kind === 'dlq' || sample.duplicate) return;
        // Live latency only: a replay's re-enriched history is not live traffic.
        if (sample.generation > 0 && ctx.offsetOf(sample.intendedMs) < (ctx.generationStart[sample.generation] ?? 0)) return;
        ctx.record('e2e', sample.intendedMs, sample.seenMs - sample.intendedMs);
        if (sample.enrichMs !== null) ctx.record('enrich', sample.intendedMs, sample.enrichMs);
      },
    });
    await ctx.probe.start();
    for (const r of runners) await r.prepare?.();

    const leaders = new LeaderMap(ctx.admin, () => [ctx.names.raw, ...Object.values(ctx.names.lookups)]);
    await leaders.refresh();
    const driver = (ctx.driver = remote ?? new OpenLoopDriver({
      leaderOf: (topic, partition) => leaders.get(topic, partition), onLeadersStale: () => void leaders.refresh(),
      producer: ctx.producer, names: ctx.names, gen, startMs: ctx.scheduleStart, durationMs: s.duration, partitions: s.topics.partitions, lookupPartitions: Math.min(6, s.topics.partitions),
      onAck: ({ events, ackMs }) => { for (const e of events) ctx.record('produceAck', e.intendedMs, ackMs - e.intendedMs); },
      onPartitionAck: (partition, ackMs) => { for (const r of runners) r.partitionAcked?.(partition, ackMs); },
      onAttemptFailed: (code) => { for (const r of runners) r.attemptFailed?.(code); },
      acks: s.clients.acks === 'all' ? -1 : 1,
      compression: CODEC_TYPE[s.clients.compression],
      clientId: `clickbench-run-${opts.runId}-producer`,
      costPerEventUs: Number(process.env.CLICKBENCH_TEST_SLOW_SERIALIZER_US) || undefined,
      deliveryTimeoutMs: s.clients.delivery_timeout,
      lingerMs: s.clients.linger,
      maxBatchBytes: s.clients.batch_size,
      onError: (err, n) => ctx.errorLine(`produce failed for ${n} events after retrying for up to ${s.clients.delivery_timeout / 1000} s: ${err.message}`),
    }));

    await observer.start();
    const phaseStarts: Snapshot[] = [await observer.snapshot(0)];
    const sampler = new Sampler(ctx, observer, runners);
    sampler.start();
    let finished = false;
    // Phase boundaries: a snapshot, then the runner of the phase that ends hears `leave` (when the next is
    // another runner's) and the next phase's runner `begin`; every runner ticks every 50 ms.
    const phaseWatcher = (async () => {
      while (!finished && !signal.aborted && !ctx.fatal) {
        const offset = Date.now() - ctx.scheduleStart;
        for (const b of boundariesPassed(phases, phaseStarts.length - 1, offset)) {
          phaseStarts[b.window.index] = await observer.snapshot(b.window.startMs);
          if (b.leaving) await byRunner.get(b.leaving)?.leave?.();
          await byRunner.get(b.beginning)?.begin?.(b.window);
        }
        for (const r of runners) r.tick?.(offset);
        await sleep(50);
      }
    })();

    health = new ClientHealth({ secondOf: (ms) => Math.floor(ctx.offsetOf(ms) / 1000), queueDepth: () => driver.queueDepth });
    health.start();
    log(`running ${s.duration / 1000} s of traffic (${phases.map((p) => p.name).join(' → ')})`);
    await driver.run(() => {
      if (signal.aborted || ctx.fatal) driver.abandon();
      return signal.aborted || ctx.fatal !== undefined;
    });
    ctx.loadRunning = false;
    // What the workers reported is kept at once: a run that fails later still reports it.
    if (remote?.load) results.workers = workersResult(remote.load, remote.accounting);
    for (const r of runners) await r.afterLoad?.();
    // Drain: wait until the probe saw every acknowledged event (the union over generations), at most
    // 30 s (10 s after Ctrl-C); no early stop on a quiet probe (a rollback's stage may still be loading
    // its tables). What is still unseen then counts as timed out.
    const drainStart = Date.now();
    const drainCap = signal.aborted || ctx.fatal ? 10_000 : 30_000;
    while (Date.now() - drainStart < drainCap && unseenAcked(driver, ctx.probe).length > 0) await sleep(500);
    finished = true;
    await sampler.stop();
    await phaseWatcher;
    const endOffset = Math.min(Date.now() - ctx.scheduleStart, s.duration);
    // The run is over: stop the stages (a replay may still be re-writing history) so the final
    // disk sample and byte counts hold everything written, then let the probe read the rest.
    if (ctx.stage) {
      const st = ctx.stage;
      await ctx.countingCloses(() => st.stop());
      ctx.retireMain(st);
    }
    await ctx.stopSide();
    const quietSince = Date.now();
    while (Date.now() - Math.max(ctx.probe.lastSeenMs, quietSince) < 1_000 && Date.now() - quietSince < 15_000) await sleep(100);
    const last = await observer.snapshot(endOffset);
    const timedOut = recordTimedOut(ctx);
    // Events the probe never saw: is a transaction still open on a sink partition (read_committed cannot pass it)?
    if (timedOut.count > 0) timedOut.openTransactions = await observer.openSinkTransactions();
    const hs = health.stop();
    health = undefined;
    await assembleResults(ctx, { observer, sampler, phaseStarts, last, endOffset, health: hs, timedOut });
    // The enriched topic is complete: the sink reads the rest, commits, and the table is checked.
    if (table) results.table = await table.finish(ctx.probe.stats.enriched);
    for (const r of runners) await r.contribute?.();
    if (runners.some((r) => r.checksEveryAck)) await accountRaw(ctx);
    results.run.status = signal.aborted ? 'interrupted' : 'completed';
    // A fatal end (an enrichment process that crashed for good) fails the run, with everything measured until then assembled.
    if (ctx.fatal) throw ctx.fatal;
    const unfinished = remote?.load?.unfinished ?? [];
    if (unfinished.length) throw new ClickbenchError(`${unfinished.length} of ${opts.workers!.count} load worker(s) did not finish: ${unfinished.map((u) => `shard ${u.shard} (${u.host}) reported up to second ${u.lastSecond}, ${u.notAcknowledged} of its ${u.shardEvents} events not acknowledged`).join('; ')}`, { exitCode: ExitCode.runFailed });
  } catch (err) {
    results.run.status = signal.aborted ? 'interrupted' : 'failed';
    results.run.error = (err as Error).message;
    if (s.table && !results.table) results.table = notMeasured(`the run ended before the table was checked (${(err as Error).message.slice(0, 200)}); what the sink committed is in ${table?.dir ?? 'its folder'}`);
    throw err;
  } finally {
    sumCounters(ctx);
    health?.stop();
    for (const r of runners) await r.teardown?.();
    if (remote) {
      if (!remote.load) remote.abandon();
      // Workers end when their shard is done (or told to stop): stopped by their pid if they do not.
      await boundedStep('stopping the load workers', local?.stop(remote.load ? 30_000 : 10_000), TEARDOWN_STEP_MS + 20_000, (l) => ctx.errorLine(l));
      await boundedStep('closing the workers\' coordinator', remote.close(), TEARDOWN_STEP_MS, (l) => ctx.errorLine(l));
    }
    await teardown(ctx, observer, table);
  }
  return results;
}

/** Longest a teardown step (stopping a stage, a probe, a client) may take before the run moves on. */
export const TEARDOWN_STEP_MS = 30_000;

/** Stops what is still running (each step bounded), removes the run's topics unless kept, writes results.json. */
async function teardown(ctx: RunContext, observer: Observer, table: TableRun | undefined): Promise<void> {
  const { results } = ctx;
  const step = (what: string, p: Promise<unknown> | undefined) => boundedStep(what, p, TEARDOWN_STEP_MS, (l) => ctx.errorLine(l));
  await step('stopping the enrichment stage', ctx.stage?.stop());
  await step('stopping the dual-run stage', ctx.side?.stage.stop());
  await step('stopping the dual-run probe', ctx.side?.probe?.stop());
  await step('stopping the probe', ctx.probe?.stop());
  await step('stopping the table sink', table?.close());
  await step('closing the log-dir client', observer.close());
  if (ctx.producerConnected) await step('disconnecting the producer', ctx.producer.disconnect());
  if (!ctx.opts.keepTopics) {
    const deleted = await Promise.race([deleteTopicsWithPrefix(ctx.admin, ctx.runPrefix).catch(() => []), sleep(TEARDOWN_STEP_MS).then(() => [] as string[])]);
    results.topics.deleted = deleted.length > 0;
  }
  await step('disconnecting the admin client', ctx.admin.disconnect());
  const ended = new Date();
  results.run.endedAt = ended.toISOString();
  results.run.durationMs = ended.getTime() - ctx.startedAt.getTime();
  writeResults(results, ctx.opts.reportsDir);
}

/** Await `p` for at most `ms`; an overrun is logged (one line naming the step), an error ignored as before (teardown is best effort). */
export async function boundedStep(what: string, p: Promise<unknown> | undefined, ms: number, log: (line: string) => void): Promise<void> {
  if (!p) return;
  let timer: NodeJS.Timeout | undefined;
  const overrun = new Promise<'overrun'>((r) => { timer = setTimeout(() => r('overrun'), ms); });
  const outcome = await Promise.race([p.then(() => 'done' as const, (e: Error) => e), overrun]);
  clearTimeout(timer);
  if (outcome === 'overrun') log(`teardown: ${what} did not finish within ${ms / 1000} s; moving on`);
}

export function workersResult(load: LoadResult, accounting: { cpuUs: number; events: number }): WorkersResult {
  return {
    accountingCpuUsPerEvent: accounting.events ? accounting.cpuUs / accounting.events : 0,
    expected: load.workers.length, workers: load.workers, unfinished: load.unfinished, mergeCpuUsPerWorkerSecond: load.mergeCpuUsPerWorkerSecond,
    cpuSeconds: load.workers.reduce((a, w) => a + (w.done?.cpuSeconds ?? 0), 0),
  };
}
