/**
 * Cross-zone bytes measured, not modelled: on the sandbox every node has its own port, so the
 * kernel's per-connection TCP counters (`ss -tinp`: bytes_sent / bytes_received, ports, pid)
 * attribute every byte on loopback to a flow:
 *
 *   node M → port of node N      replication (M's replica fetcher reads from leader N):
 *                                bytes_received = N → M, bytes_sent = M → N (fetch requests)
 *   client → port of node N      produce / fetch / control: bytes_sent = client → N,
 *                                bytes_received = N → client; the client is named by the local
 *                                port its Kafka client registered (src/kafka/client.ts label)
 *
 * Counters are read from the connecting side only (the accepting side holds the same bytes).
 * A connection's last bytes would go with it when it closes between two readings (a replica
 * fetcher shut down when leaders move at the end of a reassignment carries megabytes in its last
 * quarter second), so during replica moves (and while the run stops a stage or a probe:
 * RunContext.countingCloses) the ledger also listens to the kernel's socket-destroy events
 * (`ss -tinHE`), which print every closing socket's final counters: its bytes since the last
 * reading are counted, and a connection opened and closed between two readings is counted whole.
 * Only then: with the listener on for a whole quickstart, the burst ran with 15–19 % CPU
 * steal and its e2e p99 at 5–7 s in two fresh runs, against 0.2 % and 1.3 s without it (same
 * clone, one after the other). Otherwise the ledger counts the connections that closed since
 * their last reading, and the report says the figure is a lower bound by that many.
 */
import { execa, type ResultPromise } from 'execa';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { socketKey } from '../kafka/wire.js';

/** coreutils' stdbuf, to make `ss -E` write each event as it comes (see listen()). */
const STDBUF = (process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'stdbuf')).find((f) => f.startsWith('/') && existsSync(f));
/** Time for the `ss -E` process to subscribe to destroy events after it starts. */
const LISTEN_START_MS = 100;
/** Readings a new connection printed without its owner waits for one that names it, before it counts as 'other'. */
export const OWNER_WAIT_READINGS = 3;

export interface SocketStat {
  localPort: number;
  peerPort: number;
  pid: number | null;
  bytesSent: number;
  bytesReceived: number;
}

/** Parse `ss -tinpH` (two lines per socket: addresses + process, then the TCP info). */
export function parseSs(text: string): SocketStat[] {
  const out: SocketStat[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const head = lines[i];
    // Addresses may be IPv4 or IPv6-mapped ([::ffff:127.0.0.1]:9092): the port follows the last colon.
    const m = /^\S+\s+\d+\s+\d+\s+\S*:(\d+)\s+\S*:(\d+)(?=\s|$)(?:\s+users:\(\("[^"]*",pid=(\d+))?/.exec(head);
    if (!m) continue;
    const info = lines[i + 1] ?? '';
    if (!/^\s/.test(info)) continue;
    i++;
    const sent = /bytes_sent:(\d+)/.exec(info);
    const recv = /bytes_received:(\d+)/.exec(info);
    out.push({ localPort: Number(m[1]), peerPort: Number(m[2]), pid: m[3] ? Number(m[3]) : null, bytesSent: sent ? Number(sent[1]) : 0, bytesReceived: recv ? Number(recv[1]) : 0 });
  }
  return out;
}

export interface NodePorts {
  id: number;
  zone: string;
  port: number;
  pid: number;
}

export interface FlowTotals {
  /** client → broker (produce requests, fetch requests, control) */
  clientToBroker: number;
  /** broker → client (fetch responses, produce responses) */
  brokerToClient: number;
  /** leader → follower (replica fetch responses) */
  replication: number;
  /** follower → leader (replica fetch requests) */
  replicationRequests: number;
}

export interface MeasuredBytes {
  measured: true;
  method: string;
  total: FlowTotals & { bytes: number };
  crossZone: FlowTotals & { bytes: number };
  /** cross-zone bytes by "from→to" zone pair */
  byZonePair: Record<string, number>;
  /** client label → bytes sent / received and the zone they were counted in */
  byClient: Record<string, { zone: string; sentBytes: number; receivedBytes: number; crossZoneBytes: number }>;
  connectionsSeen: number;
  connectionsClosed: number;
  /** Of those, closed without their final counters (no destroy event): their last bytes are missing. */
  connectionsClosedUncounted?: number;
}

type Key = string;

export interface NetHealth {
  samples: number;
  /** Connections closed whose final counters were counted (socket-destroy events). */
  closedCounted: number;
  /** Connections seen to close without their final counters: their bytes since the last reading are missing. */
  connectionsClosed: number;
  ownerFilled: number;
  /** Readings where a new connection was printed without its owner and left for a later reading to count. */
  ownerAwaited: number;
  destroyEvents: 'off' | 'listening' | 'failed';
}
interface Entry {
  kind: 'replication' | 'client';
  from: number; // follower node or -1 (client)
  to: number; // node connected to
  label: string;
  sent: number;
  received: number;
}

/** Accumulates per-connection deltas between samples, by flow. */
export class NetLedger {
  private last = new Map<Key, { sent: number; received: number }>();
  private readonly acc = new Map<string, Entry>();
  private seen = new Set<Key>();
  /** The process that owns each connection, as first read: `ss -p` now and then prints a socket without its owner (its /proc walk races the process's own fd changes), and bytes read then must not leave the flow they belong to. */
  private owner = new Map<Key, number>();
  private closed = 0;
  private closedCounted = 0;
  /** Connections a reading found gone whose destroy event has not (yet) come: their last bytes are missing. */
  private uncounted = 0;
  private ownerFilled = 0;
  /**
   * New connections `ss` printed without an owner, not counted yet (key → readings so far, last counters).
   * A replica fetcher's connection seen first without its pid went to a client flow ('other') for good,
   * and with it the bytes it had already fetched: a scale-out's new follower counted 0 B from its leader
   * in one elastic test, the moved bytes in 'other'. The counters are cumulative, so waiting loses
   * nothing: the first reading with the owner counts the connection from zero.
   */
  private unowned = new Map<Key, { readings: number; sent: number; received: number; localPort: number; peerPort: number }>();
  private ownerAwaited = 0;
  private samples = 0;
  /** Connections whose final counters the destroy stream gave (key → when): a reading taken before they closed must not count them again. */
  private finished = new Map<Key, number>();
  /** Connections a reading found gone before their destroy event arrived: their last counters, until the event comes. */
  private gone = new Map<Key, { sent: number; received: number; at: number; owner?: number }>();
  private events?: ResultPromise;
  private eventsState: 'off' | 'listening' | 'failed' = 'off';
  private listened = false;
  private listeningSince = 0;
  private generation = 0;
  private sampling?: Promise<void>;

  constructor(private readonly o: { nodes: () => NodePorts[]; labelOf: (localPort: number, peerPort: number, pid: number | null) => string | undefined; zoneOfLabel: (label: string) => string | undefined; read?: () => Promise<string> }) {}

  /** One reading of the kernel's counters (serialized: overlapping calls share a reading). */
  sample(): Promise<void> {
    if (!this.sampling) this.sampling = this.doSample().finally(() => (this.sampling = undefined));
    return this.sampling;
  }

  /**
   * Listen to socket-destroy events (`ss -tinHE`) until stop(): every closing connection's final
   * counters are counted. `lines` replaces the kernel stream (tests feed it by hand).
   */
  async listen(lines?: AsyncIterable<string>): Promise<void> {
    if (this.eventsState === 'listening') return;
    const generation = ++this.generation;
    let source = lines;
    let started: Promise<unknown> | undefined;
    if (!source) {
      // Into a pipe, ss's stdio is block-buffered: a closing socket's line waited for 4 KiB of others
      // and the last ones were lost when the listener was stopped (a tiered scale-out counted 4.0 of
      // 5.5 MB moved, its fetchers' last bytes in four unflushed events). stdbuf -oL makes each
      // event a line written at once.
      const [cmd, args] = STDBUF ? [STDBUF, ['-oL', 'ss', '-tinHE']] : ['ss', ['-tinHE']];
      const child = execa(cmd, args, { reject: false, buffer: false, stdin: 'ignore', stderr: 'ignore', cleanup: true });
      this.events = child;
      child.catch(() => undefined);
      source = child.iterable() as AsyncIterable<string>;
      // Subscribed once the process runs: a connection closing before that has no event.
      started = new Promise((r) => {
        child.once('spawn', () => setTimeout(r, LISTEN_START_MS));
        child.once('error', r);
      });
    }
    this.eventsState = 'listening';
    this.listeningSince = Date.now();
    this.listened = true;
    void (async () => {
      let head: string | undefined;
      try {
        for await (const line of source) {
          if (!/^\s/.test(line)) {
            head = line;
            continue;
          }
          if (head !== undefined) for (const st of parseSs(`${head}\n${line}`)) this.destroyed(st);
          head = undefined;
        }
      } catch {
        /* the stream ended with stop() or could not start */
      }
      if (this.eventsState === 'listening' && generation === this.generation) this.eventsState = 'failed';
    })();
    await started;
  }

  /**
   * Wait (up to `timeoutMs`) until every connection a reading found gone has had its destroy event:
   * taken before a closing snapshot, so a fetcher that closed just before the last reading is counted
   * to its last byte. Returns at once when not listening.
   */
  async settle(timeoutMs = 1_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    const waiting = () => [...this.gone.values()].some((g) => g.at >= this.listeningSince);
    while (this.eventsState === 'listening' && waiting() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  }

  /** Stop listening (the `ss -E` process is stopped by its pid). */
  stop(): void {
    this.generation++;
    if (this.eventsState === 'listening') this.eventsState = 'off';
    this.events?.kill('SIGTERM');
    this.events = undefined;
  }

  /** A socket closed: its bytes since the last reading (all of them if no reading saw it) go to its flow. */
  private destroyed(s: SocketStat): void {
    const nodes = this.o.nodes();
    const to = nodes.find((n) => n.port === s.peerPort);
    if (!to || nodes.some((n) => n.port === s.localPort)) return;
    const key = socketKey(s.localPort, s.peerPort);
    if (this.finished.has(key)) return;
    const now = Date.now();
    for (const [k, at] of this.finished) if (now - at > 10_000) this.finished.delete(k);
    this.finished.set(key, now);
    for (const [k, g] of this.gone) if (now - g.at > 10_000) this.gone.delete(k);
    // A reading may have noticed the connection gone before its event arrived: count from that reading on.
    const gone = this.gone.get(key);
    this.gone.delete(key);
    this.unowned.delete(key);
    const before = this.last.get(key) ?? gone;
    this.addDelta(key, { ...s, pid: this.owner.get(key) ?? gone?.owner ?? null }, before ?? { sent: 0, received: 0 }, nodes);
    this.last.delete(key);
    this.owner.delete(key);
    if (gone) this.uncounted--;
    else this.closed++;
    this.closedCounted++;
  }

  private addDelta(key: Key, s: SocketStat, before: { sent: number; received: number }, nodes: NodePorts[]): void {
    const to = nodes.find((n) => n.port === s.peerPort)!;
    // A new connection reusing a port starts from zero again.
    const dSent = s.bytesSent >= before.sent ? s.bytesSent - before.sent : s.bytesSent;
    const dRecv = s.bytesReceived >= before.received ? s.bytesReceived - before.received : s.bytesReceived;
    this.seen.add(key);
    let pid = s.pid;
    if (pid === null && this.owner.has(key) && this.last.has(key)) {
      pid = this.owner.get(key)!;
      this.ownerFilled++;
    } else if (pid !== null) this.owner.set(key, pid);
    const follower = pid !== null ? nodes.find((n) => n.pid === pid) : undefined;
    const label = follower ? `node ${follower.id}` : this.o.labelOf(s.localPort, s.peerPort, pid) ?? 'other';
    const flowKey = `${follower ? 'r' : 'c'}|${follower?.id ?? -1}|${to.id}|${label}`;
    let e = this.acc.get(flowKey);
    if (!e) this.acc.set(flowKey, (e = { kind: follower ? 'replication' : 'client', from: follower?.id ?? -1, to: to.id, label, sent: 0, received: 0 }));
    e.sent += dSent;
    e.received += dRecv;
  }

  private async doSample(): Promise<void> {
    const text = this.o.read ? await this.o.read() : (await execa('ss', ['-tinpH'], { reject: false })).stdout;
    const nodes = this.o.nodes();
    const byPort = new Map(nodes.map((n) => [n.port, n]));
    const now = new Map<Key, { sent: number; received: number }>();
    const awaited = new Set<Key>();
    for (const s of parseSs(text)) {
      const to = byPort.get(s.peerPort);
      if (!to || byPort.has(s.localPort)) continue; // not a connection to a broker port, or the accepting side
      const key = socketKey(s.localPort, s.peerPort);
      if (this.finished.has(key)) continue; // closed since this reading was taken: counted to its end already
      if (s.pid === null && !this.last.has(key) && this.o.labelOf(s.localPort, s.peerPort, null) === undefined) {
        const waited = (this.unowned.get(key)?.readings ?? 0) + 1;
        if (waited <= OWNER_WAIT_READINGS) {
          this.unowned.set(key, { readings: waited, sent: s.bytesSent, received: s.bytesReceived, localPort: s.localPort, peerPort: s.peerPort });
          this.ownerAwaited++;
          awaited.add(key);
          continue;
        }
      }
      this.unowned.delete(key);
      this.addDelta(key, s, this.last.get(key) ?? { sent: 0, received: 0 }, nodes);
      now.set(key, { sent: s.bytesSent, received: s.bytesReceived });
    }
    // A connection that closed while its owner was awaited: counted as 'other' to its last reading, and
    // as closed since then like any other (a destroy event, when listening, brings the rest).
    for (const [k, u] of this.unowned) {
      if (awaited.has(k) || now.has(k)) continue;
      this.unowned.delete(k);
      this.addDelta(k, { localPort: u.localPort, peerPort: u.peerPort, pid: null, bytesSent: u.sent, bytesReceived: u.received }, { sent: 0, received: 0 }, nodes);
      this.closed++;
      this.uncounted++;
      this.gone.set(k, { sent: u.sent, received: u.received, at: Date.now() });
    }
    for (const [k, v] of this.last) {
      if (now.has(k)) continue;
      this.closed++;
      this.uncounted++;
      this.gone.set(k, { ...v, at: Date.now(), owner: this.owner.get(k) });
      this.owner.delete(k);
    }
    this.last = now;
    this.samples++;
  }

  /**
   * How the counting went so far: readings taken; connections that closed with their final counters
   * counted (destroy events) and those that closed uncounted since their last reading (no event
   * stream); readings where `ss` printed a known connection without its owner; the event stream's state.
   */
  health(): NetHealth {
    return { samples: this.samples, closedCounted: this.closedCounted, connectionsClosed: this.uncounted, ownerFilled: this.ownerFilled, ownerAwaited: this.ownerAwaited, destroyEvents: this.eventsState };
  }

  /** Bytes the given nodes received as followers (replica fetch responses) between two snapshots. */
  /**
   * Bytes the followers received from their leaders between two snapshots, and beside them `unattributed`: what
   * brokers sent on connections no reading tied to a process (label 'other': a connection that opened and closed
   * between two readings is counted from its destroy event, which names no owner). During a move on the sandbox
   * those are mostly fetchers of the new replicas that lived under a reading's interval.
   */
  static replicationInto(a: Map<string, Entry>, b: Map<string, Entry>, followers: number[]): { total: number; byLeader: Record<string, number>; unattributed: number; unattributedByLeader: Record<string, number> } {
    let total = 0;
    let unattributed = 0;
    const byLeader: Record<string, number> = {};
    const unattributedByLeader: Record<string, number> = {};
    for (const [k, e] of b) {
      const d = e.received - (a.get(k)?.received ?? 0);
      if (e.kind === 'client' && e.label === 'other') {
        if (d > 0) {
          unattributed += d;
          unattributedByLeader[`?←${e.to}`] = (unattributedByLeader[`?←${e.to}`] ?? 0) + d;
        }
        continue;
      }
      if (e.kind !== 'replication' || !followers.includes(e.from)) continue;
      total += d;
      byLeader[`${e.from}←${e.to}`] = (byLeader[`${e.from}←${e.to}`] ?? 0) + d;
    }
    return { total, byLeader, unattributed, unattributedByLeader };
  }

  /** Totals so far (copy): pass two snapshots to `between`. */
  snapshot(): Map<string, Entry> {
    return new Map([...this.acc].map(([k, v]) => [k, { ...v }]));
  }

  summarize(a: Map<string, Entry> | undefined, b: Map<string, Entry>): MeasuredBytes {
    const nodes = new Map(this.o.nodes().map((n) => [n.id, n]));
    const zero = (): FlowTotals & { bytes: number } => ({ clientToBroker: 0, brokerToClient: 0, replication: 0, replicationRequests: 0, bytes: 0 });
    const total = zero();
    const cross = zero();
    const pairs: Record<string, number> = {};
    const byClient: MeasuredBytes['byClient'] = {};
    const add = (t: FlowTotals & { bytes: number }, k: keyof FlowTotals, v: number) => {
      t[k] += v;
      t.bytes += v;
    };
    for (const [k, e] of b) {
      const p = a?.get(k);
      const sent = e.sent - (p?.sent ?? 0);
      const received = e.received - (p?.received ?? 0);
      const toZone = nodes.get(e.to)?.zone ?? 'unknown';
      const fromZone = e.kind === 'replication' ? nodes.get(e.from)?.zone ?? 'unknown' : this.o.zoneOfLabel(e.label) ?? 'unknown';
      const crosses = fromZone !== toZone && fromZone !== 'unknown';
      if (e.kind === 'replication') {
        add(total, 'replication', received);
        add(total, 'replicationRequests', sent);
        if (crosses) {
          add(cross, 'replication', received);
          add(cross, 'replicationRequests', sent);
        }
      } else {
        add(total, 'clientToBroker', sent);
        add(total, 'brokerToClient', received);
        if (crosses) {
          add(cross, 'clientToBroker', sent);
          add(cross, 'brokerToClient', received);
        }
        const c = (byClient[e.label] ??= { zone: fromZone, sentBytes: 0, receivedBytes: 0, crossZoneBytes: 0 });
        c.sentBytes += sent;
        c.receivedBytes += received;
        if (crosses) c.crossZoneBytes += sent + received;
      }
      if (crosses) {
        pairs[`${fromZone}→${toZone}`] = (pairs[`${fromZone}→${toZone}`] ?? 0) + sent;
        pairs[`${toZone}→${fromZone}`] = (pairs[`${toZone}→${fromZone}`] ?? 0) + received;
      }
    }
    return {
      measured: true,
      method: `kernel TCP counters of every loopback connection to a sandbox broker port (ss -tinp, sampled every second${this.listened ? '; during replica moves and while a stage or probe stops also the final counters of connections closing between readings, ss -tinE' : ''}), read on the connecting side; zones from the node of each port and the client that opened each connection`,
      total, crossZone: cross, byZonePair: pairs, byClient, connectionsSeen: this.seen.size, connectionsClosed: this.closed, connectionsClosedUncounted: this.uncounted,
    };
  }
}
