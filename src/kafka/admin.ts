/** An admin connection that fails in one clear line when the cluster cannot be reached. */
import type { Admin, Kafka } from './client.js';
import { ClickbenchError, ExitCode } from '../errors.js';

export async function connectAdmin(kafka: Kafka, bootstrap: string): Promise<Admin> {
  const admin = kafka.admin();
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer within 10 s')), 10_000));
  try {
    await Promise.race([admin.connect().then(() => admin.describeCluster()), timeout]);
  } catch (err) {
    await admin.disconnect().catch(() => {});
    throw new ClickbenchError(`cannot reach the Kafka cluster at ${bootstrap}: ${(err as Error).message}`, {
      exitCode: ExitCode.runFailed,
      hint: 'check --brokers (or the scenario\'s target block) and that the cluster is up',
    });
  }
  return admin;
}
