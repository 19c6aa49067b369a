/**
 * kafkajs's request framing (`kafkajs/src/protocol/request`), written once at its exact size.
 *
 * kafkajs frames every request through two growing Encoders: the header and the request body into one,
 * that into another behind the size. A produce request of ~1 MB was copied twice more after it was
 * encoded (~6 % of the enrichment stage's CPU with the V8 profiler on the enrichment bench, with the
 * copies the record encoding made then). Here the header goes into the room the produce encoder left in
 * front of its request (src/kafka/produce-encoder.ts), or, for other requests, header and body are copied
 * once into one buffer of the exact size. The same bytes: the unit tests compare them with kafkajs's.
 *
 * connection.js takes the framing function when it loads, so this one is put into the module cache before
 * kafkajs is first imported (src/kafka/kafkajs-preload.ts).
 */

/** An encoded request body as kafkajs's requests return it (an Encoder), with the room the produce encoder left in front. */
export interface EncodedBody {
  buf: Buffer;
  offset: number;
  readonly buffer: Buffer;
  /** Bytes free in front of `buf` (in the same memory) for the header. */
  framingRoom?: number;
}

interface FramingArgs {
  correlationId: number;
  clientId: string | null | undefined;
  request: { apiKey: number; apiVersion: number; encode: () => Promise<EncodedBody> | EncodedBody };
}

export function frameRequest(original: (a: FramingArgs) => Promise<unknown>) {
  return async function encodeRequest(a: FramingArgs): Promise<{ buffer: Buffer }> {
    const { correlationId, clientId, request: { apiKey, apiVersion, encode } } = a;
    const payload = await encode();
    // Anything unexpected goes through kafkajs's own framing (its errors included), with the body already encoded.
    if (!payload || !Buffer.isBuffer(payload.buf)) return original({ correlationId, clientId, request: { apiKey, apiVersion, encode: () => payload } }) as Promise<{ buffer: Buffer }>;
    const body = payload.buffer;
    const idLen = clientId == null ? 0 : Buffer.byteLength(clientId, 'utf8');
    const head = 4 + 2 + 2 + 4 + 2 + idLen;
    let out: Buffer;
    if ((payload.framingRoom ?? 0) >= head && body.byteOffset >= head) out = Buffer.from(body.buffer, body.byteOffset - head, head + body.length);
    else {
      out = Buffer.allocUnsafe(head + body.length);
      body.copy(out, head);
    }
    let at = out.writeInt32BE(head - 4 + body.length, 0);
    at = out.writeInt16BE(apiKey, at);
    at = out.writeInt16BE(apiVersion, at);
    at = out.writeInt32BE(correlationId, at);
    if (clientId == null) out.writeInt16BE(-1, at);
    else {
      at = out.writeInt16BE(idLen, at);
      out.write(clientId, at, idLen, 'utf8');
    }
    return { buffer: out };
  };
}
