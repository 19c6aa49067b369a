import { createServer, Socket } from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function isListening(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('error', () => done(false));
    s.connect(port, '127.0.0.1', () => done(true));
  });
}

/**
 * Whether a Kafka broker answers on 127.0.0.1:port: an ApiVersions (v0) request answered with its
 * correlation id and no error. More than a TCP connect: a suite run saw `isListening` pass for a node
 * that was still starting (its listener refused connections a moment later), so a restarted node is
 * waited for until it answers the protocol itself.
 */
export function answersKafka(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const correlationId = 0x2b1d_0001;
    const clientId = Buffer.from('clickbench-ready');
    const request = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length);
    let at = request.writeInt32BE(request.length - 4, 0);
    at = request.writeInt16BE(18, at); // ApiVersions
    at = request.writeInt16BE(0, at);
    at = request.writeInt32BE(correlationId, at);
    at = request.writeInt16BE(clientId.length, at);
    clientId.copy(request, at);
    let got = Buffer.alloc(0);
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('error', () => done(false));
    s.once('close', () => done(false));
    s.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 10) done(got.readInt32BE(4) === correlationId && got.readInt16BE(8) === 0);
    });
    s.connect(port, '127.0.0.1', () => s.write(request));
  });
}
