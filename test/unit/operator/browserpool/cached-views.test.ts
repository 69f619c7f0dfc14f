import { expect } from 'chai';
import type { V1Pod } from '@kubernetes/client-node';
import { browserPodView, serverPodView } from '#operator/controllers/browserpool/cached-views.ts';
import { desiredPod, type PoolRef } from '#operator/controllers/browserpool/desired-pods.ts';
import { observeBrowser } from '#operator/controllers/browserpool/observed-browser.ts';
import { poolKeysFor } from '#operator/controllers/browserpool/pool-keys.ts';
import { metricsUrlOf } from '#operator/controllers/browserpool/demand-reader.ts';
import { byNamespace, byOwnerUid } from '#kube/runtime/indexed-cache.ts';
import { resolved } from './fixtures.ts';

const pool: PoolRef = { apiVersion: 'browser.composer-mcp.io/v1alpha1', kind: 'BrowserPool', name: 'pool', namespace: 'ns', uid: 'uid-1' };

/** A browser pod as the API server sends it: the operator's pod plus what the API server and kubelet add. */
function storedBrowserPod(over: { ready?: boolean; draining?: boolean; deleting?: boolean; restarts?: number } = {}): V1Pod {
  const pod = structuredClone(desiredPod(pool, resolved({ replicas: 2 }), 3));
  pod.metadata = {
    ...pod.metadata, uid: 'uid-pod', resourceVersion: '4711', creationTimestamp: new Date('2026-01-01T10:00:00Z'), generation: 1,
    ...(over.deleting ? { deletionTimestamp: new Date('2026-01-01T11:00:00Z') } : {}),
    annotations: { ...pod.metadata?.annotations, ...(over.draining ? { 'browser.composer-mcp.io/draining-since': '2026-01-01T10:30:00Z', 'browser.composer-mcp.io/drain-reason': 'ScaleDown' } : {}) },
  };
  const ready = over.ready ?? true;
  pod.status = {
    phase: 'Running', podIP: '10.244.0.7', podIPs: [{ ip: '10.244.0.7' }], hostIP: '172.18.0.2', qosClass: 'Burstable',
    startTime: new Date('2026-01-01T10:00:01Z'),
    conditions: [
      { type: 'PodScheduled', status: 'True', lastTransitionTime: new Date('2026-01-01T10:00:00Z') },
      { type: 'Initialized', status: 'True', lastTransitionTime: new Date('2026-01-01T10:00:01Z') },
      { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: new Date('2026-01-01T10:00:05Z') },
      { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: new Date('2026-01-01T10:00:05Z') },
    ],
    containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
      name: c.name, image: c.image ?? '', imageID: `docker-pullable://${c.image}@sha256:abc`, ready, restartCount: over.restarts ?? 0,
      started: ready, state: { running: { startedAt: new Date('2026-01-01T10:00:02Z') } }, containerID: `containerd://${c.name}`,
    })),
  };
  return pod;
}

describe('the pods the operator caches (informer transforms)', () => {
  const variants = [{}, { ready: false }, { draining: true }, { deleting: true }, { ready: false, restarts: 2 }];

  it('keeps everything the BrowserPool controller reads of a browser pod, and drops its spec', () => {
    for (const over of variants) {
      const full = storedBrowserPod(over);
      const view = browserPodView(structuredClone(full));
      expect(observeBrowser(view), JSON.stringify(over)).to.deep.equal(observeBrowser(full));
      expect(observeBrowser(view, { leased: 2, leasesServed: 9, rssBytes: 1 }), JSON.stringify(over)).to.deep.equal(observeBrowser(full, { leased: 2, leasesServed: 9, rssBytes: 1 }));
      expect(poolKeysFor({ type: 'add', object: view })).to.deep.equal(poolKeysFor({ type: 'add', object: full }));
      expect(byOwnerUid(view)).to.deep.equal(byOwnerUid(full));
      expect(view.metadata?.labels).to.deep.equal(full.metadata?.labels);
      expect(view.metadata?.resourceVersion).to.equal('4711');
      expect(view.spec).to.equal(undefined);
    }
  });

  it('is several times smaller than the pod the API server sends', () => {
    const full = storedBrowserPod();
    const view = browserPodView(structuredClone(full));
    const size = (o: unknown) => JSON.stringify(o).length;
    expect(size(view) * 3, `${size(view)} of ${size(full)} bytes`).to.be.below(size(full));
  });

  it('keeps what the demand reader reads of a server pod: labels, IP, readiness, deletion and the http port', () => {
    const server: V1Pod = {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: 's-1', namespace: 'ns', uid: 'u', resourceVersion: '9', labels: { 'app.kubernetes.io/name': 'composer-mcp-server', 'composer-mcp.io/client': 'true' } },
      spec: {
        containers: [{
          name: 'server', image: 'ghcr.io/composer-mcp/server:0.1.0', env: [{ name: 'COMPOSER_MCP_LOG_LEVEL', value: 'info' }],
          ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }], readinessProbe: { httpGet: { path: '/readyz', port: 'http' } },
        }],
      },
      status: { phase: 'Running', podIP: '10.0.0.7', conditions: [{ type: 'Initialized', status: 'True' }, { type: 'Ready', status: 'True' }] },
    };
    for (const pod of [server, { ...server, status: { ...server.status, conditions: [{ type: 'Ready', status: 'False' }] } }, { ...server, metadata: { ...server.metadata, deletionTimestamp: new Date() } }]) {
      const view = serverPodView(structuredClone(pod));
      expect(metricsUrlOf(view)).to.equal(metricsUrlOf(pod));
      expect(view.metadata?.labels).to.deep.equal(pod.metadata?.labels);
      expect(byNamespace(view)).to.deep.equal(['ns']);
      expect(view.spec?.containers[0]).to.deep.equal({ name: 'server', ports: [{ name: 'http', containerPort: 8080 }] });
    }
    expect(metricsUrlOf(serverPodView(server))).to.equal('http://10.0.0.7:8080/metrics');
  });
});
