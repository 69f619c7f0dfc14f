/** Label values of one time series. */
export type Labels = Record<string, string>;

function labelKey(labels: Labels): string {
  return Object.keys(labels).toSorted().map((k) => `${k}="${escapeLabel(labels[k] ?? '')}"`).join(',');
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  series: Map<string, number>;
}

/**
 * The gateway's metrics, rendered in the Prometheus text format (version 0.0.4). Counters only go up; gauges are
 * set. Kept in the gateway instance (no global registry), so several gateways in one process do not mix.
 */
export class GatewayMetrics {
  private readonly families = new Map<string, Family>();

  constructor() {
    this.define('cdp_gateway_http_requests_total', 'HTTP requests answered, by route and status code.', 'counter');
    this.define('cdp_gateway_auth_failures_total', 'Requests refused for a missing or wrong bearer token, by kind (http, websocket) and reason.', 'counter');
    this.define('cdp_gateway_websocket_connections_total', 'CDP WebSocket clients connected to the multiplexer.', 'counter');
    this.define('cdp_gateway_websockets_open', 'CDP WebSocket clients connected now.', 'gauge');
    this.define('cdp_gateway_cdp_refused_total', 'CDP commands of clients the gateway refused, by kind (capacity, policy, session, ownership, malformed).', 'counter');
    this.define('cdp_gateway_clients_dropped_total', 'CDP clients the gateway disconnected, by reason (slow-client, browser-gone, unresponsive: answered no ping within the ping timeout).', 'counter');
    this.define('cdp_gateway_oversized_messages_total', 'Messages from Chromium above the routing size limit (dropped; the client got an error).', 'counter');
    this.define('cdp_gateway_egress_refused_total', 'Browser connections the egress proxy refused, by kind (http, connect, upgrade) and reason.', 'counter');
    this.define('cdp_gateway_renderers_killed_total', 'Renderer processes the gateway killed, by reason (memory).', 'counter');
    this.define('cdp_gateway_contexts', 'Browser contexts open now, by state (leased, warm).', 'gauge');
    this.define('cdp_gateway_browser_exited', '1 once Chromium has exited (the gateway then stops), else 0.', 'gauge');
    this.define('cdp_gateway_health_up', '1 when the last health check completed a Browser.getVersion round trip, else 0.', 'gauge');
    this.define('cdp_gateway_health_check_seconds', 'Duration of the last health check.', 'gauge');
    this.define('cdp_gateway_token_reloads_total', 'Times the token file changed and was reloaded.', 'counter');
    this.set('cdp_gateway_websockets_open', {}, 0);
    this.set('cdp_gateway_browser_exited', {}, 0);
  }

  private define(name: string, help: string, type: Family['type']): void {
    this.families.set(name, { name, help, type, series: new Map() });
  }

  private family(name: string): Family {
    const f = this.families.get(name);
    if (!f) throw new Error(`Unknown metric ${name}`);
    return f;
  }

  /** Adds `by` (default 1) to a counter or gauge series. */
  inc(name: string, labels: Labels = {}, by = 1): void {
    const f = this.family(name);
    const key = labelKey(labels);
    f.series.set(key, (f.series.get(key) ?? 0) + by);
  }

  /** Sets a gauge series. */
  set(name: string, labels: Labels, value: number): void {
    this.family(name).series.set(labelKey(labels), value);
  }

  /** The current value of a series (0 when never touched). */
  value(name: string, labels: Labels = {}): number {
    return this.family(name).series.get(labelKey(labels)) ?? 0;
  }

  /** All series in the Prometheus text exposition format. */
  render(): string {
    const lines: string[] = [];
    for (const f of this.families.values()) {
      lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
      for (const [key, v] of f.series) lines.push(`${f.name}${key ? `{${key}}` : ''} ${String(v)}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
