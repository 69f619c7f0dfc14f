import { readdirSync, readFileSync } from 'node:fs';

/** Jiffies of each core from /proc/stat: total and idle (idle + iowait). */
export interface CpuTimes {
  cores: Array<{ total: number; idle: number }>;
}

/** Reads /proc/stat now. */
export function readCpuTimes(): CpuTimes {
  const lines = readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d+ /.test(l));
  return {
    cores: lines.map((l) => {
      const f = l.trim().split(/\s+/).slice(1).map(Number);
      const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
      return { total, idle: (f[3] ?? 0) + (f[4] ?? 0) };
    }),
  };
}

/** Busy share (0..1) of each core between two readings. Pure. */
export function coreUtilisation(before: CpuTimes, after: CpuTimes): number[] {
  return after.cores.map((a, i) => {
    const b = before.cores[i] ?? { total: 0, idle: 0 };
    const total = a.total - b.total;
    return total <= 0 ? 0 : 1 - (a.idle - b.idle) / total;
  });
}

/** "cpu0 93%, cpu1 88%" for a utilisation array. */
export function formatUtilisation(shares: readonly number[]): string {
  return shares.map((s, i) => `cpu${i} ${Math.round(s * 100)}%`).join(', ');
}

/** Clock ticks per second of /proc (USER_HZ; 100 on Linux). */
export const CLOCK_TICKS = 100;

/**
 * CPU seconds used so far by every process whose process group is in `pgids` (utime+stime, plus the reaped
 * children's cutime+cstime, so renderers that already exited still count).
 */
export function processGroupCpuSeconds(pgids: ReadonlySet<number>): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state): pgrp is field 5, utime..cstime fields 14..17.
    if (!pgids.has(Number(f[2]))) continue;
    ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return ticks / CLOCK_TICKS;
}
