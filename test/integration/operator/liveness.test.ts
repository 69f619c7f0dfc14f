import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import type { GatewayLoad } from '#common/gateway-status.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import { startOperator, type RunningOperator } from '#operator/main.ts';
import { loadOperatorConfig } from '#operator/config.ts';
import type { SessionReader } from '#operator/controllers/browserpool/session-reader.ts';
import { startPodRunner, type PodRunner } from '#support/pod-runner/pod-runner.ts';
import { freshConnectionFetch } from '../server/fresh-connection-fetch.ts';
import { Pools, createNamespace, ensureCrd, eventually, kubeConfig, testLogger } from './helpers.ts';

const REPO = path.resolve(import.meta.dirname, '..', '..', '..');

/** Session reads that hang until released (a reconcile stuck on a call that never returns). */
class HangingSessions implements SessionReader {
  #release: () => void = () => undefined;
  readonly #released = new Promise<void>((resolve) => {
    this.#release = resolve;
  });
  hanging = 0;

  release(): void {
    this.#release();
  }

  async read(): Promise<GatewayLoad | undefined> {
    this.hanging++;
    await this.#released;
    return { leased: 0 };
  }
}

async function healthz(url: string): Promise<{ status: number; checks: Record<string, { ok: boolean; detail?: string }> }> {
  // A fresh connection each time: a kept-alive one would be closed by the server's keep-alive timer firing late.
  const response = await freshConnectionFetch(`${url}/healthz`, { signal: AbortSignal.timeout(15_000) });
  return { status: response.status, checks: ((await response.json()) as { checks: Record<string, { ok: boolean; detail?: string }> }).checks };
}

describe('operator liveness: /healthz fails when the operator is wedged', function () {
  this.timeout(120_000);
  let kc: KubeConfig;
  let ns: { name: string; remove: () => Promise<void> };
  let runner: PodRunner;
  let operator: RunningOperator | undefined;
  let child: ChildProcess | undefined;

  before(async () => {
    kc = kubeConfig();
    await ensureCrd(kc);
    ns = await createNamespace(kc, 'bp-live');
    runner = await startPodRunner({ kubeconfigPath: process.env['KUBECONFIG'] ?? '', browserless: true, logger: testLogger('pod-runner') });
  });

  after(async () => {
    await operator?.stop();
    child?.kill('SIGKILL');
    await runner?.stop();
    await ns?.remove();
  });

  const config = (extra: string[] = []) => loadOperatorConfig([
    `--kubeconfig=${process.env['KUBECONFIG'] ?? ''}`, `--namespaces=${ns.name}`, '--leader-election.enabled=false',
    '--metrics-port=0', '--health-port=0', '--listen-host=127.0.0.1', ...extra,
  ], {});

  it('a reconcile stuck past wedgedAfterSeconds fails liveness; it passes again once the reconcile ends', async () => {
    const sessions = new HangingSessions();
    operator = await startOperator(config(['--wedged-after-seconds=1', '--identity=wedge']), testLogger('operator'), { sessions });
    const pools = new Pools(kc, ns.name);
    await pools.create('stuck', { replicas: 1 });
    expect((await healthz(operator.healthUrl)).status).to.equal(200);
    await eventually(() => sessions.hanging > 0 || undefined, 30_000, () => 'the reconcile never reached its session read');
    const wedged = await eventually(async () => {
      const h = await healthz(operator!.healthUrl);
      return h.status === 503 ? h : undefined;
    }, 10_000, () => 'liveness never failed');
    expect(wedged.checks['reconcilers']).to.include({ ok: false });
    expect(wedged.checks['reconcilers']?.detail).to.match(/wedged controllers: browserpool/);
    expect(wedged.checks['event-loop']).to.include({ ok: true });
    sessions.release();
    await eventually(async () => (await healthz(operator!.healthUrl)).status === 200 || undefined, 10_000, () => 'liveness never recovered');
    await operator.stop();
    operator = undefined;
  });

  it('an operator process whose event loop was blocked longer than 5 s fails liveness', async () => {
    child = spawn(process.execPath, [
      path.join(REPO, 'operator/src/main.ts'), `--kubeconfig=${process.env['KUBECONFIG'] ?? ''}`, `--namespaces=${ns.name}`,
      '--leader-election.enabled=false', '--metrics-port=0', '--health-port=0', '--listen-host=127.0.0.1',
    ], {
      cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: `--import=${path.join(REPO, 'test/support/block-on-signal.ts')}`, BLOCK_ON_SIGNAL_MS: '6000', LOG_FORMAT: 'json' },
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const healthUrl = await eventually(() => /"health":"(http:\/\/[^"]+)"/.exec(stderr)?.[1], 30_000, () => `operator did not start: ${stderr}`);
    await eventually(async () => (await healthz(healthUrl)).status === 200 || undefined, 10_000);
    child.kill('SIGUSR2');
    await new Promise((r) => setTimeout(r, 300));
    // The probe sent during the block is answered only after it; by then the block is on record.
    const after = await healthz(healthUrl);
    expect(after.status).to.equal(503);
    expect(after.checks['event-loop']).to.include({ ok: false });
    expect(after.checks['event-loop']?.detail).to.match(/event loop blocked for \d+ ms/);
  });
});
