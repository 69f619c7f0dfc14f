/**
 * Which CDP commands a gateway client may send. Every client of one Chromium shares it with the others and with
 * the gateway, and the browser renders hostile pages: a command that would end the browser, reach the network
 * around the egress proxy, open a port, or hand the protocol to page script is refused with a CDP error. Pure.
 */

/** Commands refused whatever their parameters, with the reason the client is told. */
export const REFUSED_METHODS: ReadonlyMap<string, string> = new Map([
  ['Browser.close', 'it would close the browser every client of this gateway shares; disconnect instead (Playwright: browser.close() on a connectOverCDP browser)'],
  ['Browser.crash', 'it would crash the browser every client of this gateway shares'],
  ['Browser.crashGpuProcess', 'it would crash the GPU process every client of this gateway shares'],
  ['Browser.executeBrowserCommand', 'browser UI commands are not served by the gateway'],
  ['Target.setRemoteLocations', 'it would make Chromium connect to other hosts, around the egress policy'],
  ['Target.exposeDevToolsProtocol', 'it would hand the DevTools protocol to page script'],
  ['Tethering.bind', 'it would open a listening port in the browser'],
  ['Tethering.unbind', 'port tethering is not served by the gateway'],
]);

/** Parameters of `Target.createBrowserContext` that would take a context's traffic around the egress proxy. */
const EGRESS_PARAMS = ['proxyServer', 'proxyBypassList', 'originsWithUniversalNetworkAccess'] as const;

/** The outcome of checking one command: undefined to let it through, else the reason for the refusal. */
export type PolicyVerdict = string | undefined;

/** Decides whether a client may send `method` with `params`. */
export function checkCommand(method: string, params: Record<string, unknown> | undefined): PolicyVerdict {
  const refused = REFUSED_METHODS.get(method);
  if (refused !== undefined) return `${method} is refused by the gateway: ${refused}`;
  if (method === 'Target.createBrowserContext' && params !== undefined) {
    const set = EGRESS_PARAMS.filter((p) => params[p] !== undefined);
    if (set.length > 0) {
      return `Target.createBrowserContext with ${set.join(', ')} is refused by the gateway: every context's traffic goes through the pod's egress proxy (do not set a per-context proxy)`;
    }
  }
  return undefined;
}
