/**
 * Governance, access: a principal the cluster's ACLs limit must be refused what it is not granted.
 * The check asks for a transactional producer id (InitProducerId with a transactional.id) as that
 * principal: a principal without TransactionalId ACLs must get TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
 */
import { randomBytes } from 'node:crypto';
import { createKafka, createProducer } from './client.js';
import type { Security } from './security.js';

export interface AccessCheck {
  measured: true;
  principal: string;
  action: string;
  /** The cluster said no, as it should. */
  refused: boolean;
  /** What the cluster answered. */
  answer: string;
  method: string;
}

export async function transactionalIdRefused(brokers: string[], security: Security, timeoutMs = 15_000): Promise<AccessCheck> {
  const principal = `User:${security.sasl?.username ?? 'ANONYMOUS'}`;
  const action = 'InitProducerId with a transactional id (exactly-once) without TransactionalId ACLs';
  // kafkajs turns a refused FindCoordinator into "Failed to find group coordinator"; the broker's own
  // answer (TRANSACTIONAL_ID_AUTHORIZATION_FAILED) only reaches its debug log, so it is collected there.
  const answers = new Set<string>();
  const kafka = createKafka({ brokers, security, clientId: 'clickbench-access-check', retries: 0, onBrokerError: (type) => answers.add(type) });
  // kafkajs refuses an idempotent producer without retries; the refusal itself is not retriable, so one retry costs nothing.
  const producer = createProducer(kafka, { transactionalId: `clickbench-access-${randomBytes(4).toString('hex')}`, idempotent: true, maxInFlightRequests: 1, retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 500 } });
  const base = { measured: true as const, principal, action, method: 'a transactional producer connected as that principal and asked the transaction coordinator for a producer id' };
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        await producer.connect();
        const tx = await producer.transaction();
        await tx.abort().catch(() => {});
      })(),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs); }),
    ]);
    return { ...base, refused: false, answer: 'granted: a producer id was issued' };
  } catch (err) {
    const e = err as Error & { type?: string };
    const text = `${e.type ?? ''} ${e.message}`;
    const brokerSaid = [...answers].find((t) => /AUTHORIZATION_FAILED/.test(t));
    if (/AUTHORIZATION_FAILED|not authorized/i.test(text)) return { ...base, refused: true, answer: `refused: ${e.type ?? e.message}` };
    if (brokerSaid) return { ...base, refused: true, answer: `refused: ${brokerSaid} (the broker's answer to FindCoordinator; kafkajs reported "${e.message}")` };
    return { ...base, refused: false, answer: `no clear answer: ${e.message}` };
  } finally {
    clearTimeout(timer);
    await producer.disconnect().catch(() => {});
  }
}
