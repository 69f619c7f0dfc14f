import { createLogger } from '#common/logger.ts';
import { startControlPlane } from '../control-plane/control-plane.ts';
import { setSharedControlPlane, sharedControlPlane } from '../control-plane/shared.ts';

const logger = createLogger({ component: 'test-control-plane', level: process.env['TEST_CONTROL_PLANE_LOG_LEVEL'] ?? 'info' });
let previousKubeconfig: string | undefined;

/**
 * Mocha root hook plugin: starts ONE control plane (etcd, kube-apiserver, kube-controller-manager) before the
 * run, points `process.env.KUBECONFIG` at its admin kubeconfig, exposes it via `sharedControlPlane()`, and stops
 * it after the run.
 */
export const mochaHooks = {
  async beforeAll(this: Mocha.Context): Promise<void> {
    this.timeout(180_000);
    const started = Date.now();
    const controlPlane = await startControlPlane({ withControllerManager: true, logger });
    previousKubeconfig = process.env['KUBECONFIG'];
    process.env['KUBECONFIG'] = controlPlane.kubeconfigPath;
    setSharedControlPlane(controlPlane);
    logger.info('Started shared test control plane', {
      server: controlPlane.server, kubeconfig: controlPlane.kubeconfigPath, ms: Date.now() - started,
    });
  },
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(60_000);
    let controlPlane;
    try {
      controlPlane = sharedControlPlane();
    } catch {
      return;
    }
    setSharedControlPlane(undefined);
    if (previousKubeconfig === undefined) delete process.env['KUBECONFIG'];
    else process.env['KUBECONFIG'] = previousKubeconfig;
    await controlPlane.stop();
  },
};
