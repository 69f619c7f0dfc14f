import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '#common/logger.ts';
import { connectHttp } from '../../integration/server/server-harness.ts';
import { startComposerStandin } from '../composer-standin/standin.ts';
import { startCluster, type Cluster } from '../cluster/cluster.ts';
import { readBuiltImages } from '../cluster/containerd-images.ts';
import { defaultImagesManifest } from '../cluster/images-manifest.ts';
import { startOriginRecorder } from '../cluster/origin-recorder.ts';
import { helmInstall, serviceFetch, waitForServiceRoute, writeValues, type ReleaseSettings } from '../cluster/release.ts';
import { clusterTier, setClusterTier } from '../cluster/shared.ts';

const logger = createLogger({ component: 'test-cluster', level: process.env['TEST_CLUSTER_LOG_LEVEL'] ?? 'info' });
/** The Composer credentials the stand-in accepts and the release's Secret carries. */
export const CLUSTER_COMPOSER_TOKEN = 'cluster-tier-token-standin-7731';
const closers: Array<() => Promise<unknown>> = [];
let cluster: Cluster | undefined;
let workDir = '';

/**
 * Mocha root hook plugin of the cluster tier: starts ONE node (control plane, containerd, kubelet, kube-proxy) with
 * the images of `make images-cluster` loaded under the tags r1 and r2, the Composer stand-in on the node address,
 * and installs the chart once (release `cmcp` in namespace `composer-mcp`, image tag r1) with the project's helm;
 * `clusterTier()` hands it to the tests. Everything is stopped and removed after the run, also when it failed.
 */
export const mochaHooks = {
  async beforeAll(this: Mocha.Context): Promise<void> {
    this.timeout(600_000);
    const manifest = process.env['COMPOSER_MCP_CLUSTER_IMAGES'] ?? defaultImagesManifest();
    if (!existsSync(manifest)) {
      throw new Error(`No images for the cluster tier at ${manifest}: run \`make images-cluster\` (make test-cluster does).`);
    }
    const timings: Record<string, number> = {};
    let t = Date.now();
    let serviceRouteAttempts = 0;
    const tags = ['r1', 'r2'];
    cluster = await startCluster({ logger, images: readBuiltImages(manifest), imageTags: tags });
    timings['nodeStart'] = Date.now() - t;
    const node = cluster.network.nodeIP;
    const standin = await startComposerStandin({ host: node, tokens: [CLUSTER_COMPOSER_TOKEN] });
    closers.push(() => standin.stop());
    const originRecorder = startOriginRecorder([standin.appUrl, standin.apiUrl]);
    closers.push(async () => originRecorder.close());

    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    const settings: ReleaseSettings = {
      release: 'cmcp', namespace: 'composer-mcp', tag: tags[0] ?? 'r1',
      composerUrl: standin.appUrl, apiUrl: standin.apiUrl, credentialsSecret: 'composer-credentials',
    };
    await core.createNamespace({ body: { metadata: { name: settings.namespace } } });
    await core.createNamespacedSecret({
      namespace: settings.namespace,
      body: {
        metadata: { name: settings.credentialsSecret },
        stringData: { 'access-token': CLUSTER_COMPOSER_TOKEN, 'project-key': 'cluster-project-key', 'connector-uid': 'cluster-connector' },
      },
    });
    workDir = await mkdtemp(path.join(os.tmpdir(), 'composer-mcp-cluster-tier-'));
    const valuesFile = await writeValues(workDir, settings);
    t = Date.now();
    await helmInstall(cluster.kubeconfigPath, settings, valuesFile);
    timings['helmInstallToReady'] = Date.now() - t;

    const serviceName = `${settings.release}-composer-mcp-server`;
    const svc = await core.readNamespacedService({ name: serviceName, namespace: settings.namespace });
    const host = `${serviceName}.${settings.namespace}.svc.cluster.local`;
    const clusterIP = svc.spec?.clusterIP ?? '';
    const port = svc.spec?.ports?.[0]?.port ?? 80;
    const baseUrl = `http://${host}${port === 80 ? '' : `:${port}`}`;
    const mcpUrl = `${baseUrl}/mcp`;
    // Ready pods are not yet a routed Service: the tier is ready when the server answers through its ClusterIP.
    t = Date.now();
    const probe = serviceFetch(host, clusterIP);
    try {
      serviceRouteAttempts = await waitForServiceRoute(probe.fetch, baseUrl);
    } finally {
      await probe.close();
    }
    timings['serviceRouted'] = Date.now() - t;
    setClusterTier({
      cluster, kc, settings, valuesFile, standin, originRecorder, tags, timings,
      service: { name: serviceName, host, clusterIP },
      mcpUrl,
      async connect() {
        const { fetch, close } = serviceFetch(host, clusterIP);
        const client = await connectHttp(mcpUrl, { fetch });
        const closeClient = client.close.bind(client);
        client.close = async () => {
          await closeClient();
          await close();
        };
        return client;
      },
    });
    logger.info('Cluster tier ready', { timings: { ...cluster.timings, ...timings }, mcpUrl, clusterIP, serviceRouteAttempts });
    process.stdout.write(`\n  cluster tier: node up in ${(timings['nodeStart'] / 1000).toFixed(1)} s ` +
      `(${Object.entries(cluster.timings).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}`).join(', ')}), ` +
      `helm install to Ready ${(timings['helmInstallToReady'] / 1000).toFixed(1)} s, ` +
      `Service answering through its ClusterIP ${(timings['serviceRouted'] / 1000).toFixed(1)} s later (${serviceRouteAttempts} attempts)\n`);
  },
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(180_000);
    let tierTimings: Record<string, number> | undefined;
    try {
      tierTimings = clusterTier().timings;
    } catch {
      // Setup failed part way: stop what was started.
    }
    setClusterTier(undefined);
    const begin = Date.now();
    for (const close of closers.splice(0).toReversed()) await close().catch(() => undefined);
    await cluster?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
    if (tierTimings) process.stdout.write(`  cluster tier: teardown in ${((Date.now() - begin) / 1000).toFixed(1)} s\n`);
  },
};
