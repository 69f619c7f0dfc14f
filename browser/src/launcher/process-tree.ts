import { readdir, readFile } from 'node:fs/promises';

/** One running process of a browser's process group. */
export interface GroupMember {
  pid: number;
  /** Resident memory in bytes (VmRSS). */
  rssBytes: number;
  /** Chromium's process type from `--type=` (`renderer`, `gpu-process`, `utility`, `zygote`), `browser` without one. */
  type: string;
}

/** Parses VmRSS (kB) from the text of `/proc/<pid>/status`; 0 when absent (kernel threads, zombies). */
export function parseVmRssBytes(status: string): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/**
 * Chromium's process type from `/proc/<pid>/cmdline`: NUL-separated for the browser, but Chromium's child processes
 * rewrite their title (setproctitle), which leaves one space-separated string.
 */
export function processTypeOf(cmdline: string): string {
  for (const arg of cmdline.split(/[\0 ]/)) if (arg.startsWith('--type=')) return arg.slice('--type='.length);
  return 'browser';
}

/** The running (not zombie) processes of process group `pgid`, with their memory and Chromium process type. */
export async function groupMembers(pgid: number): Promise<GroupMember[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const members: GroupMember[] = [];
  await Promise.all(entries.map(async (entry) => {
    if (!/^\d+$/.test(entry)) return;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === undefined || fields[0] === 'Z' || fields[0] === 'X' || Number(fields[2]) !== pgid) return;
    const [status, cmdline] = await Promise.all([
      readFile(`/proc/${entry}/status`, 'utf8').catch(() => ''),
      readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => ''),
    ]);
    members.push({ pid: Number(entry), rssBytes: parseVmRssBytes(status), type: processTypeOf(cmdline) });
  }));
  return members;
}

/** Resident memory of a whole process group in bytes. */
export async function groupRssBytes(pgid: number): Promise<number> {
  return (await groupMembers(pgid)).reduce((sum, m) => sum + m.rssBytes, 0);
}
