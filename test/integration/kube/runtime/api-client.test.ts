import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { KubeConfig } from '@kubernetes/client-node';
import { kubeLeaseStore } from '#kube/runtime/lease-store.ts';

describe('API requests carry the caller\'s signal (a hanging API server)', () => {
  let server: Server;
  let closedConnections = 0;
  let kc: KubeConfig;

  before(async () => {
    server = createServer((request) => {
      request.socket.once('close', () => closedConnections++);
      // never answers
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'hang', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 'x' }],
      contexts: [{ name: 'c', cluster: 'hang', user: 'u' }],
      currentContext: 'c',
    });
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('a Lease read aborted by its signal rejects at once and closes its connection', async () => {
    const store = kubeLeaseStore(kc, 'ns', 'lease');
    const started = performance.now();
    const error = await store.get(AbortSignal.timeout(200)).then(() => undefined, (err: unknown) => err);
    expect(error, 'the read rejected').to.be.instanceOf(Error);
    expect(performance.now() - started).to.be.below(2000);
    for (let i = 0; i < 50; i++) {
      if (closedConnections > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(closedConnections, 'the request\'s connection was closed').to.equal(1);
  });
});
