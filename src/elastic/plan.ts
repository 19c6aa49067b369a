/**
 * Reassignment plans for elasticity phases (pure): which replicas move where.
 *
 *   scale-out  move replicas onto each new broker until it holds its share (⌊total ÷ brokers⌋).
 *              Onto a broker of zone z, a partition's replica in zone z moves (the rack spread
 *              stays) while that zone's old broker holds more than the new one; a partition with
 *              no replica in zone z gives its replica on the most loaded broker while that broker
 *              holds more than its share. Zones win over balance.
 *   scale-in   every replica on a leaving broker moves to the least loaded remaining broker of the
 *              same zone that does not hold the partition yet, else the least loaded one.
 *
 * Replica order is kept (a moved replica takes the place of the one it replaces), so preferred
 * leaders change only where the preferred leader itself moved.
 */
export interface Assignment {
  topic: string;
  partition: number;
  replicas: number[];
}

function loads(assignments: Assignment[], brokers: number[]): Map<number, number> {
  const load = new Map(brokers.map((b) => [b, 0]));
  for (const a of assignments) for (const r of a.replicas) load.set(r, (load.get(r) ?? 0) + 1);
  return load;
}

/** Partitions interleaved across topics (p0 of each topic, then p1 …): moves spread over topics. */
function interleaved(assignments: Assignment[]): Assignment[] {
  return [...assignments].sort((a, b) => a.partition - b.partition || a.topic.localeCompare(b.topic));
}

/** The changed assignments of a scale-out onto `added` (brokers = all brokers after the scale-out). */
export function planScaleOut(current: Assignment[], brokers: number[], added: number[], zoneOf: (b: number) => string | undefined): Assignment[] {
  const next = current.map((a) => ({ ...a, replicas: [...a.replicas] }));
  const load = loads(next, brokers);
  const total = next.reduce((s, a) => s + a.replicas.length, 0);
  const share = Math.floor(total / brokers.length);
  const changed = new Set<Assignment>();
  for (const b of added) {
    for (const a of interleaved(next)) {
      if ((load.get(b) ?? 0) >= share) break;
      if (a.replicas.includes(b)) continue;
      // Same zone: even out the two brokers of that zone (the partition keeps one replica per zone).
      // No replica in that zone: take from the busiest broker while it holds more than its share.
      const sameZone = a.replicas.find((r) => zoneOf(r) !== undefined && zoneOf(r) === zoneOf(b));
      const busiest = [...a.replicas].sort((x, y) => (load.get(y)! - load.get(x)!) || y - x)[0];
      const from = sameZone !== undefined
        ? (load.get(sameZone)! > load.get(b)! + 1 ? sameZone : undefined)
        : (load.get(busiest)! > share ? busiest : undefined);
      if (from === undefined) continue;
      a.replicas[a.replicas.indexOf(from)] = b;
      load.set(from, load.get(from)! - 1);
      load.set(b, (load.get(b) ?? 0) + 1);
      changed.add(a);
    }
  }
  return next.filter((a) => changed.has(a));
}

/** The changed assignments of a scale-in that empties `leaving` (brokers = all brokers before it). */
export function planScaleIn(current: Assignment[], brokers: number[], leaving: number[], zoneOf: (b: number) => string | undefined): Assignment[] {
  const staying = brokers.filter((b) => !leaving.includes(b));
  if (staying.length === 0) throw new Error('a scale-in must leave at least one broker');
  const next = current.map((a) => ({ ...a, replicas: [...a.replicas] }));
  const load = loads(next, staying);
  const changed: Assignment[] = [];
  for (const a of interleaved(next)) {
    let moved = false;
    for (let i = 0; i < a.replicas.length; i++) {
      const r = a.replicas[i];
      if (!leaving.includes(r)) continue;
      const free = staying.filter((b) => !a.replicas.includes(b)).sort((x, y) => load.get(x)! - load.get(y)! || x - y);
      if (free.length === 0) throw new Error(`${a.topic}-${a.partition} has ${a.replicas.length} replicas; only ${staying.length} brokers would stay`);
      const to = free.find((b) => zoneOf(b) !== undefined && zoneOf(b) === zoneOf(r)) ?? free[0];
      a.replicas[i] = to;
      load.set(to, load.get(to)! + 1);
      moved = true;
    }
    if (moved) changed.push(a);
  }
  return changed;
}

/** Replicas that a plan adds (broker, topic, partition): what has to be copied. */
export function movedReplicas(before: Assignment[], plan: Assignment[]): { broker: number; topic: string; partition: number }[] {
  const old = new Map(before.map((a) => [`${a.topic}:${a.partition}`, a.replicas]));
  return plan.flatMap((a) => a.replicas.filter((r) => !(old.get(`${a.topic}:${a.partition}`) ?? []).includes(r)).map((broker) => ({ broker, topic: a.topic, partition: a.partition })));
}
