import { readdirSync, readFileSync } from 'node:fs';
import { CLOCK_TICKS } from './cpu.ts';

/** One process of /proc: its pid, parent, process group and command name. */
interface ProcEntry {
  pid: number;
  ppid: number;
  pgid: number;
  comm: string;
}

function procEntries(): ProcEntry[] {
  const entries: ProcEntry[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      entries.push({ pid: Number(name), ppid: Number(f[1]), pgid: Number(f[2]), comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) });
    } catch {
      // the process ended while we read
    }
  }
  return entries;
}

/** Process groups of the Chromium browsers `parentPid` started (its direct children that lead their own group). */
export function chromiumGroupsOf(parentPid: number): Set<number> {
  return new Set(procEntries().filter((e) => e.ppid === parentPid && e.pgid === e.pid && /chrom/i.test(e.comm)).map((e) => e.pid));
}

/** Pids of every process in the process groups `pgids` (a browser and all its renderers, GPU and utility processes). */
export function pidsInGroups(pgids: ReadonlySet<number>): number[] {
  return procEntries().filter((e) => pgids.has(e.pgid)).map((e) => e.pid);
}

/**
 * Proportional set size (MiB) of the processes: each process's private pages plus its share of pages it shares with
 * others, so adding it up over a browser's processes counts shared libraries and shared memory once — what the
 * browser really costs the node (RSS added up would count the shared pages once per process). From
 * /proc/<pid>/smaps_rollup; processes that ended meanwhile count 0.
 */
export function pssMiB(pids: readonly number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      kb += Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    } catch {
      // ended
    }
  }
  return kb / 1024;
}

/** Resident set size (MiB) of one process. */
export function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}

/** CPU seconds (user + system) of one process so far. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
}

/**
 * Samples `measure()` every `everyMs` until stopped; `stop()` returns the samples. For memory during a load run:
 * the peak of a browser's PSS is taken from the samples, not from one reading.
 */
export function startSampler(measure: () => number, everyMs = 100): { stop(): number[] } {
  const samples: number[] = [measure()];
  const timer = setInterval(() => samples.push(measure()), everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      samples.push(measure());
      return samples;
    },
  };
}
