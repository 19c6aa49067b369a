/**
 * Kafka's default partitioner for keyed records: toPositive(murmur2(keyBytes)) % numPartitions,
 * murmur2 with seed 0x9747b28c over the key's UTF-8 bytes (as the Java client and kafkajs 2.x do).
 * Pure, so per-partition load can be predicted before a run.
 */
export function murmur2(data: Uint8Array, length = data.length): number {
  const seed = 0x9747b28c;
  const m = 0x5bd1e995;
  const r = 24;
  let h = seed ^ length;
  const length4 = length >> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i << 2;
    let k = (data[i4] & 0xff) | ((data[i4 + 1] & 0xff) << 8) | ((data[i4 + 2] & 0xff) << 16) | ((data[i4 + 3] & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const rest = length & 3;
  const idx = length & ~3;
  if (rest === 3) h ^= (data[idx + 2] & 0xff) << 16;
  if (rest >= 2) h ^= (data[idx + 1] & 0xff) << 8;
  if (rest >= 1) {
    h ^= data[idx] & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

const encoder = new TextEncoder();
/** An ASCII key's bytes, written here instead of a new array per call (TextEncoder.encode allocated one
 *  per event: in a profile of the driver at its ceiling, 18 % of its CPU and much of its garbage). */
const scratch = new Uint8Array(256);

export function partitionForKey(key: string, numPartitions: number): number {
  const length = key.length;
  if (length <= scratch.length) {
    let i = 0;
    for (; i < length; i++) {
      const c = key.charCodeAt(i);
      if (c > 0x7f) break;
      scratch[i] = c;
    }
    if (i === length) return (murmur2(scratch, length) & 0x7fffffff) % numPartitions;
  }
  return (murmur2(encoder.encode(key)) & 0x7fffffff) % numPartitions;
}
