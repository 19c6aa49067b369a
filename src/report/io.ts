/** Where commands write: injected, so commands run in-process in tests without touching the real streams. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  isTTY: boolean;
}

export const processIo: Io = {
  out: (l) => process.stdout.write(l + '\n'),
  err: (l) => process.stderr.write(l + '\n'),
  isTTY: Boolean(process.stderr.isTTY),
};

import { createRequire } from 'node:module';
import type Table from 'cli-table3';

let tableClass: typeof Table | undefined;

/** A compact table; colours only on a terminal. cli-table3 loads on first use (not for --help). */
export function table(io: Io, head: string[]): InstanceType<typeof Table> {
  const TableClass = (tableClass ??= createRequire(import.meta.url)('cli-table3') as typeof Table);
  return new TableClass({
    head,
    style: io.isTTY ? { head: ['cyan'], border: ['grey'], compact: true } : { head: [], border: [], compact: true },
  });
}
