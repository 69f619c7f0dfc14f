/**
 * The flags every Chromium we start gets: headless, no background traffic, no first-run or sync machinery, and no
 * scrollbars. `--hide-scrollbars` (Playwright's own headless default) lays every page out over the whole viewport
 * from the start: without it chromium-headless-shell 156 draws a 15 px classic scrollbar on a page taller than the
 * viewport until the first `captureBeyondViewport` screenshot, which hides it for good (through reloads, new
 * sessions, viewport changes), so the same page was pictured 1265 or 1280 px wide depending on whether a full-page
 * capture came before (test/integration/composer/capture-layout-width.test.ts).
 */
export const BASE_CHROMIUM_FLAGS: readonly string[] = Object.freeze([
  '--headless',
  '--hide-scrollbars',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]);

/** Where the debian package installs the headless shell binary (not the /usr/bin wrapper script, which does not exec). */
export const DEFAULT_CHROMIUM_PATH = '/usr/lib/chromium/chromium-headless-shell';

/** Default V8 old-space limit of each renderer in MiB: a page allocating in a loop loses its renderer, not the host. */
export const DEFAULT_RENDERER_HEAP_MB = 512;

/**
 * The flags that keep every connection of the browser on the egress proxy. Each one was checked on Debian's
 * chromium-headless-shell 156 (test/integration/hostile/egress-*.test.ts proves each channel closed):
 * - `--proxy-server` + `--proxy-bypass-list=<-loopback>`: every HTTP(S) request, WebSocket and worker fetch goes to
 *   the proxy, loopback included (Chromium bypasses proxies for loopback unless told `<-loopback>`); with a proxy
 *   in force Chromium resolves no names itself and refuses WebTransport (its QUIC needs a direct connection).
 * - `--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1`: Chromium's own resolver answers NOTFOUND for
 *   every name (no DNS labels from dns-prefetch, preconnect or anything else); only the proxy's address is exempt.
 * - `--force-webrtc-ip-handling-policy=disable_non_proxied_udp`: WebRTC gathers no UDP candidates (no STUN, no
 *   UDP TURN) and sends TURN over TCP through the proxy, which refuses it.
 * - `--disable-quic`: no HTTP/3 to allowed origins either (HTTP/3 would leave on UDP beside the proxy).
 */
export function egressFlags(proxyPort: number): string[] {
  if (!Number.isInteger(proxyPort) || proxyPort < 1 || proxyPort > 65535) throw new RangeError(`Egress proxy port must be 1..65535, got ${String(proxyPort)}`);
  return [
    `--proxy-server=http://127.0.0.1:${proxyPort}`,
    '--proxy-bypass-list=<-loopback>',
    '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
    '--force-webrtc-ip-handling-policy=disable_non_proxied_udp',
    '--disable-quic',
  ];
}

/**
 * Flags an extra argument may not set (matched by name, with one or two leading dashes, any case): they would
 * open a DevTools port, take traffic around the egress proxy or its DNS rules, or drop the renderer heap limit.
 */
export const LOCKED_FLAGS: readonly string[] = Object.freeze([
  'remote-debugging-port', 'remote-debugging-pipe', 'remote-debugging-address', 'remote-debugging-io-pipes', 'remote-allow-origins',
  'proxy-server', 'proxy-bypass-list', 'proxy-pac-url', 'proxy-auto-detect', 'no-proxy-server', 'winhttp-proxy-resolver',
  'host-resolver-rules', 'host-rules', 'force-webrtc-ip-handling-policy', 'webrtc-ip-handling-policy',
  'enable-quic', 'origin-to-force-quic-on', 'disable-quic', 'quic-version',
  'user-data-dir', 'js-flags', 'disable-web-security', 'load-extension', 'disable-extensions-except',
]);

function flagName(arg: string): string {
  const eq = arg.indexOf('=');
  return (eq === -1 ? arg : arg.slice(0, eq)).replace(/^-{1,2}/, '').toLowerCase();
}

/** The first extra argument that sets a locked flag, or undefined. */
export function lockedFlagIn(args: readonly string[]): string | undefined {
  return args.find((a) => a.startsWith('-') && LOCKED_FLAGS.includes(flagName(a)));
}

/** An extra Chromium argument that may not be set. */
export class ChromiumFlagError extends Error {
  override readonly name = 'ChromiumFlagError';
}

/** What the flag list of one Chromium is made of (the launcher adds the profile dir and the DevTools pipe). */
export interface ChromiumFlagsInput {
  /** Port of the egress proxy on 127.0.0.1. */
  proxyPort: number;
  /** V8 old-space limit per renderer in MiB (default 512). */
  rendererHeapMb?: number;
  /** Extra flags; one that names a base flag replaces it; one that names a locked flag is refused. */
  extraArgs?: readonly string[];
  /**
   * Keep Chromium's own sandbox (no `--no-sandbox`): renderers in their own user and PID namespaces. Needs a seccomp
   * profile that admits the namespace sandbox's clone/unshare flags (RuntimeDefault does not) and a non-root user.
   */
  sandbox?: boolean;
}

/**
 * The full flag list: base flags, egress flags, the renderer heap limit, then the extra flags (an extra flag
 * overrides a base flag of the same name). Throws ChromiumFlagError when an extra flag names a locked flag.
 * No start URL: an idle browser has zero page targets.
 */
export function buildChromiumFlags(input: ChromiumFlagsInput): string[] {
  const heapMb = input.rendererHeapMb ?? DEFAULT_RENDERER_HEAP_MB;
  if (!Number.isInteger(heapMb) || heapMb < 64) throw new RangeError(`Renderer heap limit must be a whole number of MiB ≥ 64, got ${String(heapMb)}`);
  const extra = (input.extraArgs ?? []).filter((a) => a.length > 0);
  const locked = lockedFlagIn(extra);
  if (locked !== undefined) {
    throw new ChromiumFlagError(`Chromium flag ${locked.split('=')[0]} may not be set as an extra argument: the gateway sets the DevTools pipe, profile, egress proxy, DNS rules, WebRTC policy and heap limit itself`);
  }
  const overridden = new Set(extra.filter((a) => a.startsWith('-')).map(flagName));
  if (input.sandbox === true) {
    if (overridden.has('no-sandbox')) throw new ChromiumFlagError('Chromium flag --no-sandbox contradicts the sandbox setting; remove one of them');
    overridden.add('no-sandbox');
  }
  return [
    ...BASE_CHROMIUM_FLAGS.filter((a) => !overridden.has(flagName(a))),
    ...egressFlags(input.proxyPort),
    `--js-flags=--max-old-space-size=${heapMb}`,
    ...extra,
  ];
}
