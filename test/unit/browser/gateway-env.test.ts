import { expect } from 'chai';
import { parseChromiumEnv } from '#browser/chromium-main.ts';
import { parseGatewayEnv } from '#browser/gateway-main.ts';
import { routeOf, upstreamHeaders } from '#browser/gateway/gateway.ts';
import { GatewayMetrics } from '#browser/gateway/gateway-metrics.ts';

describe('gateway settings and routing', () => {
  it('defaults to the pod IP, 9222, upstream 9223 and the mounted token file', () => {
    expect(parseGatewayEnv({ POD_IP: '10.1.2.3' })).to.deep.equal({
      listenHost: '10.1.2.3', listenPort: 9222, upstreamPort: 9223, tokenFile: '/var/run/composer-mcp/cdp-token/token', healthTimeoutMs: 2000,
    });
    expect(parseGatewayEnv({}).listenHost).to.equal('0.0.0.0');
    expect(parseGatewayEnv({ POD_IP: '10.1.2.3', GATEWAY_LISTEN_HOST: '127.0.0.1', GATEWAY_PORT: '1234' })).to.include({ listenHost: '127.0.0.1', listenPort: 1234 });
  });

  it('names every bad variable and what it got', () => {
    expect(() => parseGatewayEnv({ GATEWAY_PORT: 'http', GATEWAY_UPSTREAM_PORT: '70000' }))
      .to.throw(/port: .*"http".*env GATEWAY_PORT[\s\S]*upstreamPort: .*65535.*env GATEWAY_UPSTREAM_PORT/);
    expect(parseGatewayEnv({}, ['--port=9333', '--listen-host', '127.0.0.2'])).to.include({ listenPort: 9333, listenHost: '127.0.0.2' });
    expect(() => parseChromiumEnv({ CHROMIUM_PORT: '-1' })).to.throw(/CHROMIUM_PORT/);
    expect(parseChromiumEnv({}).port).to.equal(9223);
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

  it('never forwards the bearer token and always sends Chromium its own address as Host', () => {
    const out = upstreamHeaders({ host: 'gw.example:9222', authorization: 'Bearer secret', 'user-agent': 'x', connection: 'keep-alive' }, '127.0.0.1:9223');
    expect(out).to.deep.equal({ host: '127.0.0.1:9223', 'user-agent': 'x' });
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
