import { expect } from 'chai';
import type { V1Pod } from '@kubernetes/client-node';
import { podPhase, podStatus, type PodState } from '#support/pod-runner/pod-status.ts';
import { localCommand, mapPath, programFor, resolveEnv } from '#support/pod-runner/container-command.ts';
import { slotAddresses } from '#support/pod-runner/netns.ts';
import { desiredPod } from '#operator/controllers/browserpool/desired-pods.ts';
import { resolved } from './fixtures.ts';

const NOW = new Date('2026-01-01T00:00:00Z');

function state(over: Partial<PodState> = {}): PodState {
  return {
    podIP: '10.244.0.6', hostIP: '10.244.0.5', startTime: NOW, restartPolicy: 'Always', transitions: {},
    containers: [
      { name: 'chromium', image: 'c', state: 'running', restartCount: 0, ready: true, startedAt: NOW },
      { name: 'gateway', image: 'g', state: 'running', restartCount: 0, ready: true, startedAt: NOW },
    ],
    ...over,
  };
}

describe('pod runner: pod status (the kubelet stand-in)', () => {
  it('reports Running and Ready with all four conditions when every container is ready', () => {
    const s = podStatus(state(), NOW);
    expect(s.phase).to.equal('Running');
    expect(s.podIP).to.equal('10.244.0.6');
    expect(s.conditions?.map((c) => [c.type, c.status])).to.deep.equal([['PodScheduled', 'True'], ['Initialized', 'True'], ['ContainersReady', 'True'], ['Ready', 'True']]);
    expect(s.containerStatuses?.map((c) => [c.name, c.ready, c.started, c.restartCount])).to.deep.equal([['chromium', true, true, 0], ['gateway', true, true, 0]]);
  });

  it('is not Ready while a container backs off, and shows the restart count and last termination', () => {
    const p = state();
    podStatus(p, NOW);
    p.containers[0] = { name: 'chromium', image: 'c', state: 'waiting', reason: 'CrashLoopBackOff', restartCount: 1, ready: false, lastTermination: { exitCode: 137, reason: 'Error', finishedAt: NOW } };
    const later = new Date(NOW.getTime() + 5000);
    const s = podStatus(p, later);
    expect(s.phase).to.equal('Running');
    expect(s.conditions?.find((c) => c.type === 'Ready')).to.include({ status: 'False', lastTransitionTime: later });
    expect(s.conditions?.find((c) => c.type === 'PodScheduled')?.lastTransitionTime).to.equal(NOW);
    const chromium = s.containerStatuses?.[0];
    expect(chromium?.state?.waiting?.reason).to.equal('CrashLoopBackOff');
    expect(chromium?.lastState?.terminated?.exitCode).to.equal(137);
    expect(chromium?.restartCount).to.equal(1);
  });

  it('derives the phase like the kubelet', () => {
    expect(podPhase(state({ containers: [{ name: 'a', image: 'a', state: 'waiting', restartCount: 0, ready: false }] }))).to.equal('Pending');
    expect(podPhase(state({ containers: [{ name: 'a', image: 'a', state: 'terminated', exitCode: 0, restartCount: 0, ready: false }] }))).to.equal('Succeeded');
    expect(podPhase(state({ containers: [{ name: 'a', image: 'a', state: 'terminated', exitCode: 1, restartCount: 0, ready: false }] }))).to.equal('Failed');
  });

  it('gives each slot its own /30 inside 10.244.0.0/16', () => {
    expect(slotAddresses(1)).to.deep.equal({ hostIP: '10.244.0.5', podIP: '10.244.0.6' });
    expect(slotAddresses(64)).to.deep.equal({ hostIP: '10.244.1.1', podIP: '10.244.1.2' });
    expect(slotAddresses(16_383)).to.deep.equal({ hostIP: '10.244.255.253', podIP: '10.244.255.254' });
  });
});

describe('pod runner: containers as local commands', () => {
  const pod: V1Pod = desiredPod({ apiVersion: 'browser.composer-mcp.io/v1alpha1', kind: 'BrowserPool', name: 'p', namespace: 'ns', uid: 'u' }, resolved({
    browser: { image: 'x/browser:1', args: ['--lang=pt-BR'] }, egress: { allowedOrigins: ['https://api.example.com'] },
  }), 0);
  const containers = pod.spec?.containers ?? [];
  const mounts = new Map([['/tmp', '/local/tmp'], ['/var/run/composer-mcp/cdp-token', '/local/token'], ['/dev/shm', '/local/shm']]);
  const ctx = { repoDir: '/repo', nodePath: '/node', pod, podIP: '10.244.0.6', mounts, secretData: new Map<string, string>() };

  it('maps the one browser container of an operator pod to the gateway entry point, which starts Chromium itself', () => {
    expect(containers.map(programFor)).to.deep.equal(['gateway']);
    const browser = localCommand(containers[0]!, ctx);
    expect(browser.command).to.equal('/node');
    expect(browser.args).to.deep.equal(['/repo/browser/src/gateway-main.ts']);
    expect(browser.env).to.include({
      POD_IP: '10.244.0.6', GATEWAY_PORT: '9222', GATEWAY_ALLOWED_ORIGINS: 'https://api.example.com', GATEWAY_CHROMIUM_ARGS: '["--lang=pt-BR"]',
      GATEWAY_ROOT_DIR: '/local/tmp', HOME: '/local/tmp', GATEWAY_TOKEN_FILE: '/local/token/token',
    });
    expect(programFor({ name: 'x', image: 'ghcr.io/composer-mcp/browser:0.1.0' })).to.equal('gateway');
    expect(programFor({ name: 'x', image: 'ghcr.io/composer-mcp/chromium:0.1.0' })).to.equal(undefined);
  });

  it('resolves env like the kubelet: downward API, secrets, $(VAR) references, mount paths', () => {
    const env = resolveEnv([
      { name: 'A', value: 'x' },
      { name: 'B', value: '$(A)-y' },
      { name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'S', valueFrom: { secretKeyRef: { name: 'sec', key: 'k' } } },
      { name: 'F', value: '/var/run/composer-mcp/cdp-token/token' },
    ], { ...ctx, secretData: new Map([['sec/k', 'v']]) });
    expect(env).to.deep.equal({ A: 'x', B: 'x-y', NAME: pod.metadata?.name, S: 'v', F: '/local/token/token' });
    expect(mapPath('/tmpfoo', mounts)).to.equal('/tmpfoo');
  });

  it('refuses images it cannot run, naming the container', () => {
    expect(() => localCommand({ name: 'sidecar', image: 'nginx:1' }, ctx)).to.throw(/sidecar.*nginx:1/);
  });
});
