import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { describe, it } from 'node:test';
import { answersKafka, freePort, isListening } from '../../src/sandbox/ports.js';

function listen(onConnection: Parameters<typeof createServer>[1]): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer(onConnection!);
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

describe('waiting for a sandbox node: a TCP connect is not an answer from Kafka', () => {
  it('a listener that echoes what it gets (as a socket connected to itself does) accepts the connection but does not answer ApiVersions', async () => {
    const { server, port } = await listen((c) => c.pipe(c));
    try {
      assert.equal(await isListening(port), true);
      assert.equal(await answersKafka(port, 500), false);
    } finally {
      server.close();
    }
  });

  it('a listener that accepts and says nothing: not an answer (within the timeout); a closed port: not listening', async () => {
    const { server, port } = await listen(() => {});
    try {
      assert.equal(await answersKafka(port, 200), false);
    } finally {
      server.close();
    }
    const closed = await freePort();
    assert.equal(await isListening(closed), false);
    assert.equal(await answersKafka(closed), false);
  });

  it('an ApiVersions answer with the request\'s correlation id and no error is an answer; an error code is not', async () => {
    const answer = (errorCode: number) => (c: import('node:net').Socket) => c.once('data', (req: Buffer) => {
      const res = Buffer.alloc(4 + 4 + 2 + 4);
      res.writeInt32BE(res.length - 4, 0);
      res.writeInt32BE(req.readInt32BE(8), 4); // the request's correlation id (after size, api key, version)
      res.writeInt16BE(errorCode, 8);
      res.writeInt32BE(0, 10);
      c.end(res);
    });
    for (const [code, expected] of [[0, true], [35, false]] as const) {
      const { server, port } = await listen(answer(code));
      try {
        assert.equal(await answersKafka(port), expected, `error code ${code}`);
      } finally {
        server.close();
      }
    }
  });
});
