import { expect } from 'chai';
import { NetworkingV1Api } from '@kubernetes/client-node';
import { chromium } from 'playwright-core';
import { TOKEN_KEY, tokenSecretName } from '#kube/api/v1alpha1/contract.ts';
import { egressPolicyName } from '#operator/controllers/browserpool/names.ts';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { clusterTier } from '#support/cluster/shared.ts';
import {
  apis, callOk, componentPods, containerPid, descendants, describePool, eventually, getPool, poolPods, poolSettled,
  processConfinement, rootIsReadOnly, wholeWorkflow,
} from './cluster-kit.ts';

const BROWSER_UID = 10001;

describe('cluster tier: the chart installed by helm, every component running as a container on a real kubelet', function () {
  this.timeout(240_000);

  it('the default BrowserPool becomes Ready in real pods, every process confined as the chart and the operator ask', async () => {
    await eventually(() => poolSettled('default', 2), 120_000, () => describePool());
    const pods = (await poolPods()).filter((p) => !p.metadata?.deletionTimestamp);
    expect(pods).to.have.length(2);
    const startToReady: number[] = [];
    for (const pod of pods) {
      const created = Date.parse(String(pod.metadata?.creationTimestamp));
      const ready = Date.parse(String(pod.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime));
      startToReady.push(ready - created);
      for (const container of ['browser']) {
        const pid = await containerPid(pod, container);
        // The container's init and every process below it (Chromium's browser, zygote, renderers; node).
        for (const p of [pid, ...descendants(pid)]) {
          let c;
          try {
            c = processConfinement(p);
          } catch {
            continue; // exited meanwhile
          }
          expect(c.uid, `${container} process ${p} uid`).to.equal(BROWSER_UID);
          expect(c.gid, `${container} process ${p} gid`).to.equal(BROWSER_UID);
          expect(c.noNewPrivs, `${container} process ${p} NoNewPrivs`).to.equal(true);
          expect(c.seccomp, `${container} process ${p} seccomp filter (RuntimeDefault)`).to.equal(2);
          expect(c.effectiveCapabilities, `${container} process ${p} capabilities`).to.equal(0n);
        }
        expect(rootIsReadOnly(pid), `${container} root filesystem read-only`).to.equal(true);
      }
    }
    for (const component of ['operator', 'server'] as const) {
      const running = (await componentPods(component)).filter((p) => p.status?.phase === 'Running');
      expect(running, `${component} pods`).to.have.length(2);
      for (const pod of running) {
        const pid = await containerPid(pod, component);
        const c = processConfinement(pid);
        expect({ uid: c.uid, noNewPrivs: c.noNewPrivs, seccomp: c.seccomp, caps: c.effectiveCapabilities }, `${component} ${pod.metadata?.name}`)
          .to.deep.equal({ uid: BROWSER_UID, noNewPrivs: true, seccomp: 2, caps: 0n });
        expect(rootIsReadOnly(pid), `${component} root filesystem read-only`).to.equal(true);
      }
    }
    process.stdout.write(`      browser pod created → Ready: ${startToReady.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')}\n`);
  });

  it('the pool admits the Composer stand-in as the pods reach it (the chart\'s values), and its egress NetworkPolicy admits exactly that', async () => {
    const tier = clusterTier();
    // The stand-in listens on the node's bridge address, which is the address the pods reach it at.
    const origins = [tier.standin.appUrl, tier.standin.apiUrl].map((u) => new URL(u));
    expect(origins.every((u) => u.hostname === tier.cluster.network.nodeIP), 'the stand-in is on the node address').to.equal(true);
    const pool = await getPool();
    expect((pool.spec['egress'] as { allowedOrigins?: string[] }).allowedOrigins, 'spec.egress.allowedOrigins from server.composer.composerUrl and apiUrl')
      .to.have.members(origins.map((u) => u.origin));
    const policy = await tier.kc.makeApiClient(NetworkingV1Api).readNamespacedNetworkPolicy({ name: egressPolicyName('default'), namespace: tier.settings.namespace });
    expect(policy.spec?.policyTypes).to.deep.equal(['Egress']);
    const admitted = (policy.spec?.egress ?? []).filter((r) => r.to?.some((peer) => peer.ipBlock))
      .flatMap((r) => (r.to ?? []).flatMap((peer) => (r.ports ?? []).map((p) => `${peer.ipBlock?.cidr} ${p.protocol}/${p.port}`)));
    expect(admitted, 'address blocks and ports the policy admits besides DNS')
      .to.have.members([...new Set(origins.map((u) => `${tier.cluster.network.nodeIP}/32 TCP/${u.port}`))]);
    // kube-proxy does not enforce NetworkPolicy (no policy-enforcing CNI here): what is shown is the policy the
    // operator writes; the gateway's egress proxy is what refuses other origins in this tier (ADR 28).
    const [pod] = (await poolPods()).filter((p) => !p.metadata?.deletionTimestamp);
    const secret = await apis().core.readNamespacedSecret({ name: tokenSecretName('default'), namespace: tier.settings.namespace });
    const token = Buffer.from(secret.data?.[TOKEN_KEY] ?? '', 'base64').toString();
    const browser = await chromium.connectOverCDP(`http://${pod?.status?.podIP}:9222`, { headers: { authorization: `Bearer ${token}` }, timeout: 30_000 });
    try {
      const page = await (await browser.newContext()).newPage();
      expect((await page.goto(tier.standin.appUrl))?.status(), 'an allowed origin').to.equal(200);
      // The API server on the same node address, another port: not an allowed origin.
      const apiServer = new URL(tier.kc.getCurrentCluster()?.server ?? '');
      const refused = await page.goto(`http://${apiServer.host}/version`);
      expect([refused?.status(), refused?.headers()['x-composer-mcp-egress']], 'refused by the pod\'s egress proxy').to.deep.equal([403, 'refused']);
    } finally {
      await browser.close();
    }
  });

  describe('an MCP client through the server Service (in-cluster DNS name → ClusterIP → kube-proxy)', () => {
    let client: Client;

    before(async () => {
      client = await clusterTier().connect();
    });

    after(async () => {
      await client?.close();
    });

    it('runs the whole workflow against the Composer stand-in; open and preview are rendered by Chromium inside the browser pods', async () => {
      const tier = clusterTier();
      // The Service balances over both replicas: each must have found the pool (it may take a moment after start).
      const browsersSeen = async (): Promise<string> => JSON.stringify((await callOk(client, 'composer_status', {})).structuredContent);
      await eventually(async () => {
        for (let i = 0; i < 6; i++) if (!(await browsersSeen()).includes('"browsers":2,"healthy":2')) return false;
        return true;
      }, 60_000, browsersSeen);
      const before = tier.originRecorder.requests.length;
      const { uid, png } = await wholeWorkflow(client, 'Fotossíntese no cluster');
      expect(png.subarray(1, 4).toString()).to.equal('PNG');
      expect(tier.standin.compositions().some((c) => JSON.stringify(c).includes('Fotossíntese no cluster')), 'saved in the stand-in').to.equal(true);
      // Who loaded the Composer app for open and preview: Chromium in a browser pod (its pod IP), not the host. The
      // API origin is also asked by the server pods (save, get), so only the app origin is checked.
      const browserIPs = new Set((await poolPods()).map((p) => p.status?.podIP).filter(Boolean));
      const pageLoads = tier.originRecorder.requests.slice(before).filter((r) => r.origin === tier.standin.appUrl);
      expect(pageLoads.length, 'Composer app requests during open/preview').to.be.greaterThan(0);
      for (const r of pageLoads) expect(browserIPs, `request ${r.method} ${r.path} came from ${r.from}`).to.include(r.from);
      expect(uid).to.be.a('string');
      const pool = await getPool();
      expect(pool.status?.readyReplicas).to.equal(2);
    });
  });
});
