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

import Table from 'cli-table3';

/** A compact table; colours only on a terminal. */
export function table(io: Io, head: string[]): InstanceType<typeof Table> {
  return new Table({
    head,
    style: io.isTTY ? { head: ['cyan'], border: ['grey'], compact: true } : { head: [], border: [], compact: true },
  });
}
