import type { ControlPlane } from './control-plane.ts';

let current: ControlPlane | undefined;

/** Records the control plane the mocha root hook started for this run (or clears it with undefined). */
export function setSharedControlPlane(controlPlane: ControlPlane | undefined): void {
  current = controlPlane;
}

/**
 * The control plane shared by every integration/e2e test of this run (etcd + kube-apiserver +
 * kube-controller-manager). Throws when the run was not started with
 * `--require test/support/hooks/control-plane-hook.ts`.
 */
export function sharedControlPlane(): ControlPlane {
  if (!current) {
    throw new Error(
      'No shared control plane: run mocha with `--require test/support/hooks/control-plane-hook.ts` ' +
        '(make test-integration and make test-e2e do), which starts one and sets KUBECONFIG.',
    );
  }
  return current;
}
