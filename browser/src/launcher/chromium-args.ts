/** The flags every Chromium we start gets: headless, no background traffic, no first-run or sync machinery. */
export const BASE_CHROMIUM_FLAGS: readonly string[] = Object.freeze([
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
]);

/** Where the debian package installs the headless shell binary (not the /usr/bin wrapper script, which does not exec). */
export const DEFAULT_CHROMIUM_PATH = '/usr/lib/chromium/chromium-headless-shell';

/** What the argument list of one Chromium process is made of. */
export interface ChromiumArgsInput {
  /** DevTools port on 127.0.0.1; 0 lets Chromium pick a free one and report it in `DevToolsActivePort`. */
  port: number;
  /** The profile directory, fresh for every process. */
  userDataDir: string;
  /** Extra flags; one that sets a flag already present replaces it (matched by the part before `=`). */
  extraArgs?: readonly string[];
}

function flagName(arg: string): string {
  const eq = arg.indexOf('=');
  return eq === -1 ? arg : arg.slice(0, eq);
}

/**
 * The full argument list: the base flags, the DevTools port, the profile dir, then the extra flags, with an extra
 * flag overriding a base flag of the same name. No start URL: an idle browser has zero page targets.
 */
export function buildChromiumArgs(input: ChromiumArgsInput): string[] {
  if (!Number.isInteger(input.port) || input.port < 0 || input.port > 65535) {
    throw new RangeError(`Chromium DevTools port must be an integer 0..65535, got ${String(input.port)}`);
  }
  const base = [...BASE_CHROMIUM_FLAGS, `--remote-debugging-port=${input.port}`, `--user-data-dir=${input.userDataDir}`];
  const extra = (input.extraArgs ?? []).filter((a) => a.length > 0);
  const overridden = new Set(extra.filter((a) => a.startsWith('--')).map(flagName));
  return [...base.filter((a) => !overridden.has(flagName(a))), ...extra];
}

/** Parses the `DevToolsActivePort` file Chromium writes into its profile dir: first line is the port. */
export function parseDevToolsActivePort(text: string): number | undefined {
  const first = text.split('\n')[0]?.trim() ?? '';
  if (!/^\d{1,5}$/.test(first)) return undefined;
  const port = Number(first);
  return port > 0 && port <= 65535 ? port : undefined;
}
