import { readFileSync } from 'node:fs';

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
