/** One browser the router may use: a gateway in front of a Chromium, reachable over HTTP/WebSocket with a token. */
export interface BrowserEndpoint {
  /** Stable id of the browser (pod name, `local-0`, or the configured id). A changed `url` under one id is a new browser. */
  id: string;
  /** `http://ip:port` of the browser's gateway (no trailing slash). */
  url: string;
  /** Bearer token the gateway requires. Never logged. */
  token: string;
  /** `Ready` takes new leases; `Draining` finishes running leases and takes no new ones. */
  state: 'Ready' | 'Draining';
  /** Per-browser session cap; the router's default applies when absent. */
  maxSessions?: number;
}

/** Where the router learns which browsers exist. Implementations: static, local, Kubernetes. */
export interface EndpointSource {
  /** Starts the source; resolves when the first list of endpoints is known. */
  start(): Promise<void>;
  /** The endpoints known now (a fresh array; callers may keep it). */
  current(): BrowserEndpoint[];
  /** Calls `listener` with the full list whenever it changes; returns a function that unsubscribes. */
  onChange(listener: (endpoints: BrowserEndpoint[]) => void): () => void;
  /** Stops the source and releases everything it started (processes, files, watches). Idempotent. */
  stop(): Promise<void>;
}

/** A small listener set shared by the sources: subscribe, unsubscribe, notify (a throwing listener cannot break others). */
export class EndpointListeners {
  private readonly listeners = new Set<(endpoints: BrowserEndpoint[]) => void>();

  /** Adds a listener; returns its unsubscribe function. */
  add(listener: (endpoints: BrowserEndpoint[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls every listener with a copy of `endpoints`; errors thrown by listeners are passed to `onError`. */
  notify(endpoints: BrowserEndpoint[], onError: (error: unknown) => void): void {
    for (const listener of this.listeners) {
      try {
        listener(endpoints.map((e) => ({ ...e })));
      } catch (error) {
        onError(error);
      }
    }
  }
}
