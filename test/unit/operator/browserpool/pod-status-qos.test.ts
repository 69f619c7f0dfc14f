import { expect } from 'chai';
import { podStatus, type PodState } from '#support/pod-runner/pod-status.ts';

const NOW = new Date('2026-01-01T00:00:00Z');

function state(over: Partial<PodState> = {}): PodState {
  return {
    podIP: '10.244.0.6', hostIP: '10.244.0.5', startTime: NOW, restartPolicy: 'Always', transitions: {},
    containers: [{ name: 'gateway', image: 'g', state: 'running', restartCount: 0, ready: true, startedAt: NOW }],
    ...over,
  };
}

describe('pod runner: status.qosClass (immutable once the apiserver sets it)', () => {
  it('echoes the qosClass the apiserver gave the pod, so pods with resources (Burstable, Guaranteed) keep theirs', () => {
    expect(podStatus(state({ qosClass: 'Burstable' }), NOW).qosClass).to.equal('Burstable');
    expect(podStatus(state({ qosClass: 'Guaranteed' }), NOW).qosClass).to.equal('Guaranteed');
  });

  it('leaves qosClass out when unknown (a merge patch then keeps the stored value) instead of inventing BestEffort', () => {
    const status = podStatus(state(), NOW);
    expect(status).to.not.have.property('qosClass');
  });
});
