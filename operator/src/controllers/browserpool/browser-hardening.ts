/**
 * What a BrowserPool may not ask of its browsers: Chromium flags and environment variables that would open the
 * browser to other clients, route its traffic around the egress controls, weaken its isolation of hostile pages,
 * or read configuration the pool should not see. The operator refuses them (Degraded, InvalidSpec) and the CRD's
 * CEL rules refuse them at admission (`test/unit/operator/browserpool/browser-hardening.test.ts` keeps both in step).
 */

/** One refused Chromium switch (without dashes); `prefix` refuses every switch starting with it. */
export interface RefusedFlag {
  name: string;
  prefix?: boolean;
  why: string;
}

const devtools = 'the pod decides how DevTools is reached (only through the gateway)';
const egress = 'it would route the browser\'s traffic around the egress controls';
const isolation = 'it weakens the isolation of untrusted pages';
const sandbox = 'it turns off or bypasses the renderer sandbox';

/** The refused switches, grouped by why. */
export const REFUSED_FLAGS: readonly RefusedFlag[] = [
  { name: 'remote-debugging-', prefix: true, why: devtools },
  { name: 'remote-allow-origins', why: devtools },
  { name: 'user-data-dir', why: 'the pod sets the profile directory' },
  { name: 'proxy-server', why: egress },
  { name: 'proxy-bypass-list', why: egress },
  { name: 'proxy-pac-url', why: egress },
  { name: 'proxy-auto-detect', why: egress },
  { name: 'no-proxy-server', why: egress },
  { name: 'host-resolver-rules', why: egress },
  { name: 'host-rules', why: egress },
  { name: 'enable-quic', why: egress },
  { name: 'origin-to-force-quic-on', why: egress },
  { name: 'webrtc-ip-handling-policy', why: egress },
  { name: 'force-webrtc-ip-handling-policy', why: egress },
  { name: 'explicitly-allowed-ports', why: egress },
  { name: 'disable-web-security', why: isolation },
  { name: 'disable-site-isolation-trials', why: isolation },
  { name: 'allow-running-insecure-content', why: isolation },
  { name: 'allow-file-access-from-files', why: isolation },
  { name: 'allow-file-access', why: isolation },
  { name: 'ignore-certificate-errors', prefix: true, why: isolation },
  { name: 'unsafely-treat-insecure-origin-as-secure', why: isolation },
  { name: 'allow-insecure-localhost', why: isolation },
  { name: 'enable-features', why: 'feature switches can turn off isolation and egress protections the pod sets' },
  { name: 'disable-features', why: 'feature switches can turn off isolation and egress protections the pod sets' },
  { name: 'load-extension', why: 'it loads code into every page' },
  { name: 'disable-extensions-except', why: 'it loads code into every page' },
  { name: 'js-flags', why: 'it passes flags to V8 (the pod sets the heap limit)' },
  { name: 'no-sandbox', why: sandbox },
  { name: 'disable-setuid-sandbox', why: sandbox },
  { name: 'disable-seccomp-filter-sandbox', why: sandbox },
  { name: 'disable-namespace-sandbox', why: sandbox },
  { name: 'disable-gpu-sandbox', why: sandbox },
  { name: 'no-zygote', why: sandbox },
  { name: 'single-process', why: sandbox },
  { name: 'renderer-cmd-prefix', why: sandbox },
  { name: 'utility-cmd-prefix', why: sandbox },
  { name: 'gpu-launcher', why: sandbox },
  { name: 'browser-subprocess-path', why: sandbox },
];

/** The switch an argument sets, in lower case without dashes or value (`-Proxy-Server=x` → `proxy-server`), or undefined. */
export function switchName(arg: string): string | undefined {
  const m = /^--?([^=]+)/.exec(arg.trim());
  return m ? m[1]!.toLowerCase() : undefined;
}

/** The refused switch `arg` sets (both dash forms, any case, with or without a value), or undefined. */
export function refusedFlag(arg: string): RefusedFlag | undefined {
  const name = switchName(arg);
  if (name === undefined) return undefined;
  return REFUSED_FLAGS.find((f) => (f.prefix ? name.startsWith(f.name) : name === f.name));
}

/**
 * The RE2 pattern the CRD's CEL rule matches a lower-cased argument against: the same switches, both dash forms.
 * Kept in the CRD by hand; a unit test checks it is this one.
 */
export function refusedFlagsPattern(): string {
  const alternatives = REFUSED_FLAGS.map((f) => (f.prefix ? `${f.name}[^=]*` : f.name));
  return `^--?(${alternatives.join('|')})(=.*)?$`;
}

/** Environment variable names a pool may not set (compared in upper case), and why. */
export const REFUSED_ENV: ReadonlyMap<string, string> = new Map([
  ['HTTP_PROXY', egress], ['HTTPS_PROXY', egress], ['ALL_PROXY', egress], ['NO_PROXY', egress], ['FTP_PROXY', egress],
  ['SOCKS_PROXY', egress], ['AUTO_PROXY', egress],
  ['LD_PRELOAD', 'it loads code into the browser'], ['LD_LIBRARY_PATH', 'it loads code into the browser'],
  ['LD_AUDIT', 'it loads code into the browser'], ['NODE_OPTIONS', 'it loads code into the gateway'],
  ['SSLKEYLOGFILE', 'it writes the TLS session keys out'], ['CHROME_DEVEL_SANDBOX', sandbox],
]);

/** Why env var `name` is refused, or undefined. */
export function refusedEnv(name: string): string | undefined {
  return REFUSED_ENV.get(name.toUpperCase());
}
