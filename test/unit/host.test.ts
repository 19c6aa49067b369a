import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { hostCpuBetween, parseProcStat, readHostCpu, stealWarning, stolenPhases } from '../../src/observe/host.js';
import { hostCpuLines } from '../../src/report/markdown.js';
import type { Results } from '../../src/run/results.js';

const STAT = (user: number, system: number, idle: number, iowait: number, steal: number) => `cpu  ${user} 0 ${system} ${idle} ${iowait} 0 0 ${steal} 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 12345\n`;

describe('host CPU (/proc/stat)', () => {
  it('reads the aggregate cpu line, not a per-core one', () => {
    assert.deepEqual(parseProcStat(STAT(100, 50, 800, 10, 40)), { user: 100, nice: 0, system: 50, idle: 800, iowait: 10, irq: 0, softirq: 0, steal: 40 });
    assert.equal(parseProcStat('cpu0 1 2 3 4 5 6 7 8\n'), undefined);
    assert.equal(parseProcStat('cpu  1 2 x 4 5 6 7 8\n'), undefined);
  });
  it('shares of all CPU time between two readings, steal included in the whole', () => {
    const a = parseProcStat(STAT(1000, 500, 5000, 100, 200))!;
    // 10 s on 2 cores = 2 000 ticks: 1 000 busy, 400 idle, 100 iowait, 500 stolen
    const b = parseProcStat(STAT(1800, 700, 5400, 200, 700))!;
    const h = hostCpuBetween(a, b)!;
    assert.equal(h.busyPercent, 50);
    assert.equal(h.iowaitPercent, 5);
    assert.equal(h.stealPercent, 25);
    assert.equal(hostCpuBetween(a, a), null);
  });
  it('warns for the phases at or above 10 % stolen, worst first, and only those', () => {
    const host = (stealPercent: number) => ({ measured: true as const, busyPercent: 60, iowaitPercent: 0, stealPercent, method: '' });
    const phases = [{ name: 'warmup', host: host(9.9) }, { name: 'steady', host: host(10) }, { name: 'burst', host: host(27.5) }, { name: 'replay', host: { measured: false as const } }];
    assert.deepEqual(stolenPhases(phases), [{ name: 'burst', stealPercent: 27.5 }, { name: 'steady', stealPercent: 10 }]);
    assert.match(stealWarning(phases)!, /^the hypervisor took 27.5 % of this machine's CPU in burst, 10 % of this machine's CPU in steady/);
    assert.equal(stealWarning([{ name: 'steady', host: host(3) }]), undefined);
  });
  it('the report shows the figure per phase, and the warning only when a phase crossed the line', () => {
    const r = JSON.parse(readFileSync('test/fixtures/results-recorded.json', 'utf8')) as Results;
    assert.deepEqual(hostCpuLines(r), [], 'a results.json from before the figure existed shows nothing');
    const host = (stealPercent: number) => ({ measured: true as const, busyPercent: 80, iowaitPercent: 1, stealPercent, method: 'm' });
    r.host = host(12);
    r.phases.forEach((p, i) => (p.host = host(i === 1 ? 31 : 2)));
    const lines = hostCpuLines(r);
    assert.match(lines[0], /\*\*stolen by the hypervisor 12 %\*\*/);
    assert.match(lines[0], new RegExp(`${r.phases[1].name} 31 %`));
    assert.match(lines[2], new RegExp(`^\\*\\*Warning: the hypervisor took 31 % of this machine's CPU in ${r.phases[1].name} `));
    r.phases.forEach((p) => (p.host = host(2)));
    assert.equal(hostCpuLines(r).length, 1);
  });
  it('reads this machine (Linux)', { skip: process.platform !== 'linux' && 'no /proc here' }, () => {
    const h = readHostCpu();
    assert.ok(h && h.user + h.system + h.idle > 0);
  });
});
