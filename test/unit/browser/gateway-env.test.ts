import { expect } from 'chai';
import { parseGatewayEnv } from '#browser/gateway-main.ts';
import { routeOf } from '#browser/gateway/gateway.ts';
import { GatewayMetrics } from '#browser/gateway/gateway-metrics.ts';

describe('gateway settings and routing', () => {
  it('defaults to the pod IP, 9222, the mounted token file, no allowed origin, 4 contexts and a 512 MiB renderer heap', () => {
    expect(parseGatewayEnv({ POD_IP: '10.1.2.3' })).to.deep.equal({
      listenHost: '10.1.2.3', listenPort: 9222, tokenFile: '/var/run/composer-mcp/cdp-token/token', healthTimeoutMs: 2000, allowedOrigins: [],
      maxSessionsPerBrowser: 4, rendererHeapMb: 512, rendererMemoryLimitMb: undefined, chromiumPath: undefined, chromiumArgs: [], chromiumSandbox: false,
      rootDir: undefined, pingIntervalMs: 5000, pingTimeoutMs: 15000,
    });
    expect(parseGatewayEnv({}).listenHost).to.equal('0.0.0.0');
    expect(parseGatewayEnv({ POD_IP: '10.1.2.3', GATEWAY_LISTEN_HOST: '127.0.0.1', GATEWAY_PORT: '1234' })).to.include({ listenHost: '127.0.0.1', listenPort: 1234 });
  });

  it('reads allowed origins, the session cap, the heap limit and Chromium flags from the environment and after --', () => {
    const env = parseGatewayEnv({
      GATEWAY_ALLOWED_ORIGINS: 'https://composer.example.com,https://api.example.com', GATEWAY_MAX_SESSIONS_PER_BROWSER: '6',
      GATEWAY_RENDERER_HEAP_MB: '256', GATEWAY_CHROMIUM_ARGS: '["--lang=pt-BR"]',
    }, ['--port=9333', '--', '--window-size=800,600']);
    expect(env).to.include({ maxSessionsPerBrowser: 6, rendererHeapMb: 256, listenPort: 9333 });
    expect(env.allowedOrigins).to.deep.equal(['https://composer.example.com', 'https://api.example.com']);
    expect(env.chromiumArgs).to.deep.equal(['--lang=pt-BR', '--window-size=800,600']);
    expect(parseGatewayEnv({ GATEWAY_CHROMIUM_SANDBOX: 'true' }).chromiumSandbox, 'the operator\'s setting for a sandboxed pool').to.equal(true);
  });

  it('names every bad variable and what it got', () => {
    expect(() => parseGatewayEnv({ GATEWAY_PORT: 'http', GATEWAY_MAX_SESSIONS_PER_BROWSER: '0' }))
      .to.throw(/port: .*"http".*env GATEWAY_PORT[\s\S]*maxSessionsPerBrowser: .*env GATEWAY_MAX_SESSIONS_PER_BROWSER/);
    expect(parseGatewayEnv({}, ['--port=9333', '--listen-host', '127.0.0.2'])).to.include({ listenPort: 9333, listenHost: '127.0.0.2' });
  });

  it('pings clients every 5 s and drops one silent for 15 s by default; refuses a timeout under two intervals, saying what to change', () => {
    expect(parseGatewayEnv({ GATEWAY_PING_INTERVAL_MS: '1000', GATEWAY_PING_TIMEOUT_MS: '2000' })).to.include({ pingIntervalMs: 1000, pingTimeoutMs: 2000 });
    expect(parseGatewayEnv({ GATEWAY_PING_INTERVAL_MS: '0' }), 'the check off').to.include({ pingIntervalMs: 0, pingTimeoutMs: 15000 });
    expect(() => parseGatewayEnv({ GATEWAY_PING_INTERVAL_MS: '10000' }))
      .to.throw(/pingTimeoutMs: pingTimeoutMs \(15000\) must be at least twice pingIntervalMs \(10000\).*raise the timeout or shorten the interval/);
    expect(() => parseGatewayEnv({ GATEWAY_PING_TIMEOUT_MS: '500' })).to.throw(/pingTimeoutMs: .*env GATEWAY_PING_TIMEOUT_MS/);
    expect(() => parseGatewayEnv({ GATEWAY_PING_INTERVAL_MS: '-1' })).to.throw(/pingIntervalMs: .*env GATEWAY_PING_INTERVAL_MS/);
  });

  it('routes paths', () => {
    expect(routeOf('/healthz')).to.equal('healthz');
    expect(routeOf('/json')).to.equal('json');
    expect(routeOf('/json/version/')).to.equal('json');
    expect(routeOf('/jsonx')).to.equal('not_found');
    expect(routeOf('/devtools/browser/x')).to.equal('devtools');
    expect(routeOf('/status')).to.equal('status');
    expect(routeOf('/metrics')).to.equal('metrics');
  });

  it('renders metrics in the Prometheus text format with escaped labels', () => {
    const m = new GatewayMetrics();
    m.inc('cdp_gateway_http_requests_total', { route: 'json', status: '200' });
    m.inc('cdp_gateway_http_requests_total', { status: '200', route: 'json' });
    m.inc('cdp_gateway_auth_failures_total', { kind: 'http', reason: 'a"b' });
    const text = m.render();
    expect(text).to.include('# TYPE cdp_gateway_http_requests_total counter');
    expect(text).to.include('cdp_gateway_http_requests_total{route="json",status="200"} 2');
    expect(text).to.include('cdp_gateway_auth_failures_total{kind="http",reason="a\\"b"} 1');
    expect(text).to.include('cdp_gateway_websockets_open 0');
  });
});
