/**
 * A run's set-up before any load: what the cluster is and can do (the probe; a scenario needing what
 * it lacks stops here), calibration when asked, then the run's topics, retained history and lookup
 * tables.
 */
import { describeBrokers, describeTopicConfigs } from '../kafka/cluster-facts.js';
import { retentionCheck } from '../observe/contract.js';
import { transactionalIdRefused } from '../kafka/access.js';
import { SANDBOX_LIMITED_USER, sandboxSecurity } from '../sandbox/cluster.js';
import type { ConnectionCheck } from '../kafka/preflight.js';
import { probeCluster, requirements, unmet } from '../probe/probe.js';
import { calibrate as runCalibration, sealCalibration } from '../calibrate/calibrate.js';
import { calibrationSettings } from '../calibrate/settings.js';
import { createTopics, topicSpecs } from '../drive/topics.js';
import { writeHistory } from '../drive/history.js';
import { fillLookups } from '../drive/lookups.js';
import { ClickstreamGenerator } from '../generate/clickstream.js';
import { ClickbenchError, ExitCode } from '../errors.js';
import { unmatchedClientZones } from '../observe/crosszone.js';
import { isMeasured, notMeasured } from './results.js';
import type { RunContext } from './context.js';

/** The brokers and their zones, the probe's findings (profile detection included), and the checks a scenario must pass on this cluster. */
export async function preflight(ctx: RunContext, connection: ConnectionCheck): Promise<void> {
  const { s, target, results, log } = ctx;
  const facts = await describeBrokers(ctx.admin);
  results.cluster.brokers = facts.map((b) => ({ id: b.nodeId, rack: b.rack }));
  ctx.brokerZone = new Map(facts.map((b) => [b.nodeId, b.rack ?? target.zoneOf(b.nodeId) ?? 'unknown']));
  // Clients the scenario placed nowhere (no clients.*_zone, no target.zones) sit in the first broker's zone, as on the sandbox.
  const firstRack = facts.find((b) => b.rack)?.rack;
  const placedNowhere = (Object.keys(ctx.zones) as (keyof typeof ctx.zones)[]).filter((k) => ctx.zones[k] === 'unknown');
  if (firstRack && placedNowhere.length) {
    for (const k of placedNowhere) ctx.zones[k] = firstRack;
    Object.assign(results.clients, { producerZone: ctx.zones.producer, enrichmentZone: ctx.zones.enrichment, probeZone: ctx.zones.probe });
    log(`clients ${placedNowhere.join(', ')}: no zone named (clients.*_zone), placed in the first broker's zone ${firstRack}`);
  }
  // Client zones that name no broker rack would make every byte cross-zone, silently: stop unless the scenario says so.
  const unmatched = unmatchedClientZones(ctx.zones, facts.map((b) => b.rack));
  if (unmatched.length && !s.clients.outside_broker_zones) {
    const racks = [...new Set(facts.map((b) => b.rack).filter(Boolean))].join(', ');
    throw new ClickbenchError(`client zone(s) ${unmatched.join(', ')} match no broker rack (the brokers report ${racks})`, { exitCode: ExitCode.usage, hint: `name the clients' zones after the racks (clients.producer_zone / enrichment_zone / probe_zone: one of ${racks}), or set clients.outside_broker_zones: true if the clients really run outside the brokers' zones` });
  }
  if (unmatched.length) log(`clients outside the brokers' zones (${unmatched.join(', ')}): every byte to or from them counts as cross-zone`);
  // What the cluster can do, exercised before any load; a scenario needing what it lacks stops here.
  try {
    log('probing the cluster (transactions, groups, offsets by time, log dirs, configs, rack-aware fetch)');
    results.compatibility = await probeCluster({ brokers: ctx.brokers, security: target.security, kafkaVersion: target.kafkaVersion, connection, log: ctx.errorLine });
  } catch (err) {
    if (err instanceof ClickbenchError) throw err;
    results.compatibility = notMeasured(`the probe failed: ${(err as Error).message}`);
  }
  const compat = results.compatibility;
  if (isMeasured(compat)) {
    if (target.profileSource === 'detect') {
      // A tiered cluster costs like apache-kafka for topics that do not use the remote tier.
      const untiered = compat.detectedProfile === 'tiered' && !s.topics.tiered;
      ctx.profile = untiered ? 'apache-kafka' : compat.detectedProfile;
      results.cluster.profile = ctx.profile;
      results.cluster.profileSource = `detected: ${compat.profileEvidence}${untiered ? ', but this scenario\'s topics are not tiered' : ''}`;
    }
    if (target.kind === 'brokers' && compat.capabilities.find((c) => c.id === 'remote-storage')?.status === 'yes') results.cluster.remoteStorageEnabled = target.remoteStorageEnabled = true;
    const missing = unmet(compat, requirements(s));
    if (missing) {
      throw new ClickbenchError(`the cluster cannot run this scenario: it needs ${missing.id} (${missing.why}), and the probe found none: ${missing.evidence}`, { exitCode: ExitCode.runFailed, hint: missing.fix });
    }
  }
  // Governance, access: on the secured sandbox, its limited principal must be refused a transactional id.
  const secured = target.sandbox?.state.security;
  if (secured && target.security.protocol === 'SASL_SSL') {
    log(`access check: ${SANDBOX_LIMITED_USER} asks for a transactional id (it must be refused)`);
    results.accessCheck = await transactionalIdRefused(ctx.brokers, sandboxSecurity(secured, SANDBOX_LIMITED_USER)).catch((err: Error) => notMeasured(`the access check failed: ${err.message}`));
  } else if (target.limitedPrincipal) {
    log(`access check: ${target.limitedPrincipal.sasl?.username} (target.security.limited_principal) asks for a transactional id (it must be refused)`);
    results.accessCheck = await transactionalIdRefused(ctx.brokers, target.limitedPrincipal).catch((err: Error) => notMeasured(`the access check failed: ${err.message}`));
  } else results.accessCheck = notMeasured(target.sandbox ? 'the sandbox runs without an authorizer (PLAINTEXT): start it with --security sasl-ssl for an access check' : 'no limited principal named for this cluster (target.security.limited_principal)');
  if (s.topics.replication > facts.length) {
    throw new ClickbenchError(`the scenario asks for replication ${s.topics.replication} but the cluster has ${facts.length} broker(s)`, { exitCode: ExitCode.usage, hint: 'lower topics.replication or add brokers' });
  }
  if (s.topics.tiered && !target.remoteStorageEnabled) {
    throw new ClickbenchError('the scenario asks for tiered topics but the cluster has no remote storage enabled', { exitCode: ExitCode.usage, hint: 'run on `clickbench sandbox up --storage tiered`, or set topics.tiered: false' });
  }
}

/** Kafka's own tools against the cluster first, when the scenario asks for it (calibrate: true). */
export async function calibrateIfAsked(ctx: RunContext): Promise<void> {
  const { s, target, results } = ctx;
  if (!s.calibrate) return;
  if (target.security.tls && !target.security.tls.verify) {
    results.calibration = notMeasured('Kafka\'s Java tools cannot skip certificate verification (--no-tls-verify); give the CA with --ca-file to calibrate');
    return;
  }
  const t0 = Date.now();
  const c = await runCalibration(ctx.admin, { ...calibrationSettings(s, ctx.brokers, 200_000, ctx.log), security: target.security });
  results.calibration = await sealCalibration(c, ctx.admin, t0);
}

/** The run's topics (and `extraTopics` of its phases), retained history when asked, the lookup tables; returns the generator that filled them (its pools feed the live stream). */
export async function createRunData(ctx: RunContext, extraTopics: string[]): Promise<ClickstreamGenerator> {
  const { s, names, runPrefix, results, log, producer } = ctx;
  log(`creating topics ${runPrefix}.* (${s.topics.partitions} partitions, RF ${s.topics.replication})`);
  const specs = topicSpecs(names, s, extraTopics);
  await createTopics(ctx.admin, specs);
  ctx.createdTopics = specs.map((t) => t.topic);
  // Governance: the sink's retention as the cluster keeps it (a policy may override what was asked).
  results.retentionCheck = await describeTopicConfigs(ctx.admin, names.enriched, ['retention.ms', 'cleanup.policy'])
    .then((c) => retentionCheck(names.enriched, s.topics.retention, c))
    .catch((err: Error) => notMeasured(`DescribeConfigs of ${names.enriched} failed: ${err.message}`));
  await producer.connect();
  ctx.producerConnected = true;
  const tablesGen = new ClickstreamGenerator(s, { startMs: 0, idPrefix: runPrefix });
  if (s.topics.history) {
    log(`writing ${(s.topics.history / 1e6).toFixed(0)} MB of retained history into ${names.history}`);
    const h = await writeHistory(producer, names.history, s.topics.partitions, s.topics.history, new ClickstreamGenerator(s, { startMs: 0, idPrefix: `${runPrefix}-history` }));
    results.topics.history = { topic: h.topic, bytes: h.bytes, records: h.records, events: h.events, writeMs: h.ms };
    log(`history: ${(h.bytes / 1e6).toFixed(0)} MB (${h.events} events in ${h.records} records) in ${(h.ms / 1000).toFixed(1)} s`);
  }
  log(`filling lookup tables (${s.population.users} profiles, ${s.population.products} products)`);
  results.enrichment.lookupFill = await fillLookups(producer, names, tablesGen);
  return tablesGen;
}
