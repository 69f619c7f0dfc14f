import { expect } from 'chai';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { startBrowserHost, type BrowserHost } from '#browser/browser-host.ts';
import { startGateway, type Gateway } from '#browser/gateway/gateway.ts';
import { GatewayMetrics } from '#browser/gateway/gateway-metrics.ts';
import type { GatewayLoad } from '#common/gateway-status.ts';
import { tokenOf, tokenSecretName } from '#kube/api/v1alpha1/contract.ts';
import { httpSessionReader, type SessionReader } from '#operator/controllers/browserpool/session-reader.ts';
import { startPodRunner, type PodRunner } from '#support/pod-runner/pod-runner.ts';
import { makeTestRoot, SecretVolume } from '../browser/browser-test-kit.ts';
import { RawCdpClient, quiet } from '../browser/gateway-harness.ts';
import { PoolRecorder } from '../../e2e/support/pool-recorder.ts';
import { Pools, createNamespace, ensureCrd, eventually, kubeConfig, startTestOperator, testLogger, type TestOperator } from './helpers.ts';

/** One real gateway (Chromium on a pipe behind it) listening on a pod's stand-in IP and the pool's gateway port. */
interface PodGateway {
  host: BrowserHost;
  gateway: Gateway;
  stop(): Promise<void>;
}

async function startPodGateway(ip: string, port: number, token: string): Promise<PodGateway> {
  const root = await makeTestRoot('status-sessions');
  const volume = new SecretVolume(join(root, 'cdp-token'));
  await volume.init(token);
  const metrics = new GatewayMetrics();
  const host = await startBrowserHost({ allowedOrigins: [], maxContexts: 4, rootDir: root, metrics, logger: quiet });
  const gateway = await startGateway({ listenHost: ip, listenPort: port, browser: host, tokenFile: volume.file, metrics, logger: quiet });
  return {
    host, gateway,
    stop: async () => {
      await gateway.close();
      await host.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** One read the operator made of a gateway's /status: when it was asked, when its answer reached the operator, what it said. */
interface RecordedRead {
  endpoint: string;
  askedAt: number;
  answeredAt: number;
  load: GatewayLoad | undefined;
}

/**
 * The operator's real HTTP session reader, recording every read; `holdNext(endpoint)` makes the next read of that
 * gateway hand its answer (read from the gateway at once) to the operator only when the test releases it, as a
 * slow answer on a loaded machine would arrive.
 */
class ObservedReader implements SessionReader {
  readonly reads: RecordedRead[] = [];
  readonly #inner = httpSessionReader();
  #hold: Hold | undefined;

  async read(endpoint: string, token: string, signal?: AbortSignal): Promise<GatewayLoad | undefined> {
    const askedAt = Date.now();
    const load = await this.#inner.read(endpoint, token, signal);
    const hold = this.#hold;
    if (hold?.endpoint === endpoint && !hold.holding) {
      hold.holding = true;
      hold.value = load;
      hold.taken();
      await hold.released;
    }
    this.reads.push({ endpoint, askedAt, answeredAt: Date.now(), load });
    return load;
  }

  /** Holds the answer of the next read of `endpoint`: `held` resolves with what the gateway answered once it is held. */
  holdNext(endpoint: string): { held: Promise<GatewayLoad | undefined>; release: () => void } {
    let taken: () => void = () => undefined;
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      taken = resolve;
    });
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const hold: Hold = { endpoint, holding: false, taken, released };
    this.#hold = hold;
    return {
      held: held.then(() => hold.value),
      release: () => {
        if (this.#hold === hold) this.#hold = undefined;
        release();
      },
    };
  }
}

interface Hold {
  endpoint: string;
  holding: boolean;
  value?: GatewayLoad | undefined;
  taken: () => void;
  released: Promise<void>;
}

const sumOf = (sessions: Record<string, number>): number => Object.values(sessions).reduce((a, b) => a + b, 0);

describe('BrowserPool status sessions against real gateways (real Chromium, real API server)', function () {
  this.timeout(120_000);
  let kc: KubeConfig;
  let ns: { name: string; remove: () => Promise<void> };
  let runner: PodRunner;
  let operator: TestOperator | undefined;
  let pools: Pools;
  const recorders: PoolRecorder[] = [];
  const gateways: PodGateway[] = [];
  const clients: RawCdpClient[] = [];
  const reader = new ObservedReader();
  // A port of our own on the pods' stand-in IPs (other tests' browserless pods use the same IPs, never this port).
  const port = 20_000 + Math.floor(Math.random() * 20_000);

  before(async () => {
    kc = kubeConfig();
    await ensureCrd(kc);
    ns = await createNamespace(kc, 'bp-sessions');
    runner = await startPodRunner({ kubeconfigPath: process.env['KUBECONFIG'] ?? '', browserless: true, logger: testLogger('pod-runner') });
    operator = await startTestOperator(kc, { namespace: ns.name, sessions: reader });
    pools = new Pools(kc, ns.name);
  });

  after(async () => {
    for (const c of clients) c.close();
    await operator?.stop();
    await Promise.all(recorders.map((r) => r.stop()));
    await Promise.all(gateways.map((g) => g.stop()));
    await runner?.stop();
    await ns?.remove();
  });

  /** A pool of two browsers, each pod's gateway a real one, its statuses recorded from the watch. */
  async function twoBrowserPool(name: string, beforeGateways: (a: Browser, b: Browser) => Promise<void> = async () => undefined) {
    await pools.create(name, { replicas: 2, gateway: { port } });
    const started = await eventually(async () => {
      const p = await pools.get(name);
      return p?.status?.readyReplicas === 2 ? p : undefined;
    }, 30_000, async () => JSON.stringify((await pools.get(name))?.status));
    const [a, b] = (started.status?.browsers ?? []).map((x) => ({ name: x.name, endpoint: x.endpoint }));
    if (!a || !b) throw new Error('two browsers expected');
    await beforeGateways(a, b);
    const secret = await kc.makeApiClient(CoreV1Api).readNamespacedSecret({ namespace: ns.name, name: tokenSecretName(name) });
    const token = tokenOf(secret) ?? '';
    const auth = { authorization: `Bearer ${token}` };
    for (const x of [a, b]) gateways.push(await startPodGateway(new URL(x.endpoint).hostname, port, token));
    const recorder = new PoolRecorder(kc, ns.name, name, testLogger('recorder'));
    recorders.push(recorder);
    await recorder.start();
    const leasedAt = async (endpoint: string): Promise<number> => ((await (await fetch(`${endpoint}/status`, { headers: auth })).json()) as { leased: number }).leased;
    const connect = async (endpoint: string): Promise<RawCdpClient> => {
      const client = await RawCdpClient.connect(endpoint, auth);
      clients.push(client);
      return client;
    };
    /** Ends the lease on A (the gateway has disposed of its context), then starts one on B: never two at once. */
    const moveLease = async (onA: RawCdpClient, browserContextId: unknown): Promise<void> => {
      await onA.result('Target.disposeBrowserContext', { browserContextId });
      expect(await leasedAt(a.endpoint)).to.equal(0);
      await (await connect(b.endpoint)).result('Target.createBrowserContext');
      expect(await leasedAt(b.endpoint)).to.equal(1);
    };
    /** Waits for the status to show the lease on B only; then no status may have claimed more than one session. */
    const expectNoStatusAboveOne = async (): Promise<void> => {
      await eventually(() => recorder.statuses.some((s) => s.sessions[b.name] === 1 && s.sessions[a.name] === 0) || undefined, 20_000,
        () => JSON.stringify({ statuses: recorder.statuses.slice(-5), reads: reader.reads.slice(-8) }));
      const over = recorder.statuses.filter((s) => sumOf(s.sessions) > 1);
      expect(over.map((s) => s.sessions), `statuses claiming more than the one session leased at a time; reads: ${JSON.stringify(reader.reads.slice(-10))}`).to.deep.equal([]);
    };
    return { a, b, leasedAt, connect, moveLease, expectNoStatusAboveOne };
  }

  it('never reports more sessions than were leased at once when a lease moves between browsers while a read is slow', async () => {
    const { a, b, leasedAt, connect, moveLease, expectNoStatusAboveOne } = await twoBrowserPool('moves');
    // One lease on browser A; the operator reads A while it holds it, but that answer arrives late.
    const clientA = await connect(a.endpoint);
    const { browserContextId } = await clientA.result('Target.createBrowserContext');
    expect(await leasedAt(a.endpoint)).to.equal(1);
    const slow = reader.holdNext(a.endpoint);
    expect(await slow.held, 'the held read of A saw the lease').to.deep.include({ leased: 1 });
    await moveLease(clientA, browserContextId);
    // A's late answer arrives once the last read of B (none is made while a reconcile waits for A) is older than the
    // operator's reuse period of a read (1 s).
    await eventually(() => Date.now() - (reader.reads.findLast((r) => r.endpoint === b.endpoint)?.answeredAt ?? 0) > 1500 || undefined, 5000);
    slow.release();
    await expectNoStatusAboveOne();
  });

  it('never reports more sessions than were leased at once when the browser a lease moved to becomes Ready after the other was read', async () => {
    const name = 'joins';
    const podReady = (pod: string, ready: boolean) => operator?.controller.pods.get(`${ns.name}/${pod}`)?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === (ready ? 'True' : 'False'));
    const { a, b, leasedAt, connect, moveLease, expectNoStatusAboveOne } = await twoBrowserPool(name, async (_a, b) => {
      expect(runner.setReady(ns.name, b.name, false)).to.equal(true);
      await eventually(async () => (await pools.get(name))?.status?.readyReplicas === 1 || undefined, 20_000);
    });
    // Browser B is not Ready, so it is not read; its last read (from before) is older than the reuse period.
    await eventually(() => Date.now() - (reader.reads.findLast((r) => r.endpoint === b.endpoint)?.answeredAt ?? 0) > 1500 || undefined, 5000);
    const clientA = await connect(a.endpoint);
    const { browserContextId } = await clientA.result('Target.createBrowserContext');
    expect(await leasedAt(a.endpoint)).to.equal(1);
    // The operator reads A with the lease on it; while that reconcile runs, the lease moves to B and B becomes Ready
    // (the operator's cache has seen it before A's answer is handed over), so the next reconcile follows at once.
    const read = reader.holdNext(a.endpoint);
    expect(await read.held).to.deep.include({ leased: 1 });
    await moveLease(clientA, browserContextId);
    expect(runner.setReady(ns.name, b.name, true)).to.equal(true);
    await eventually(() => podReady(b.name, true) || undefined, 10_000);
    read.release();
    await expectNoStatusAboveOne();
  });
});

/** A browser of the pool as its status names it. */
interface Browser {
  name: string;
  endpoint: string;
}
