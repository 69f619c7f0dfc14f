import { expect } from 'chai';
import { createLogger } from '#common/logger.ts';
import { BrowserFailedError } from '#server/browsers/errors.ts';
import { LocalEndpointSource } from '#server/browsers/local-source.ts';
import { BrowserRouter, type Lease } from '#server/browsers/router.ts';
import { listPageTargets, processAlive, startSite, until, type TestSite } from './gateway-probe.ts';

const quiet = () => createLogger({ component: 'router', level: 'error', format: 'json' });

describe('browser router when a browser dies mid-lease', function () {
  this.timeout(90_000);
  let source: LocalEndpointSource;
  let router: BrowserRouter;
  let site: TestSite;
  const pids: number[] = [];

  before(async () => {
    site = await startSite((path) => ({ type: 'text/html', body: `<title>${path}</title>` }));
    source = new LocalEndpointSource({ browsers: 2, allowedOrigins: [site.origin], logger: quiet(), restartInitialMs: 3000 });
    router = new BrowserRouter({ source, logger: quiet(), maxSessionsPerBrowser: 4, prewarmPerBrowser: 1, healthIntervalMs: 1000, reconnectInitialMs: 200 });
    await router.start();
    await until(() => router.stats().healthy === 2, 20_000, 'two healthy browsers');
    for (const b of source.browsers()) pids.push(b.chromiumPid);
  });

  after(async () => {
    await router?.stop();
    await source?.stop();
    await site?.close();
    for (const b of source?.browsers() ?? []) pids.push(b.chromiumPid);
  });

  it('fails in-flight leases clearly, retries idempotent work on the survivor, then picks up the restarted browser without leaking contexts', async () => {
    const victimId = 'local-0';
    const victim = source.browserFor(victimId)!;
    const token = source.current()[0]!.token;
    const hang = (lease: Lease) => lease.page.waitForFunction(() => false, undefined, { timeout: 60_000 }).then(() => 'unexpected');

    // Four leases, two per browser (placement alternates on ties): the idempotent one and a plain one on the victim.
    const attempts: string[] = [];
    const started: string[] = [];
    const idempotent = router.withLease(async (lease) => {
      attempts.push(lease.browserId);
      started.push(lease.browserId);
      if (lease.browserId !== victimId) {
        await lease.page.goto(`${site.origin}/retried`);
        return lease.page.title();
      }
      return hang(lease);
    }, { idempotent: true });
    await until(() => started.length === 1, 10_000, 'lease 1');
    let releaseSurvivors!: () => void;
    const survivorsGate = new Promise<void>((r) => {
      releaseSurvivors = r;
    });
    const onSurvivorA = router.withLease(async (lease) => {
      started.push(lease.browserId);
      await survivorsGate;
      return lease.browserId;
    });
    await until(() => started.length === 2, 10_000, 'lease 2');
    const plain = router.withLease(async (lease) => {
      started.push(lease.browserId);
      return hang(lease);
    });
    await until(() => started.length === 3, 10_000, 'lease 3');
    expect(started).to.deep.equal([victimId, 'local-1', victimId]);

    const killedAt = Date.now();
    process.kill(victim.chromiumPid, 'SIGKILL');

    let plainError: unknown;
    try {
      await plain;
    } catch (e) {
      plainError = e;
    }
    expect(Date.now() - killedAt, 'the in-flight lease ended promptly').to.be.below(10_000);
    expect(plainError).to.be.instanceOf(BrowserFailedError);
    expect((plainError as BrowserFailedError).browserId).to.equal(victimId);
    expect((plainError as BrowserFailedError).phase).to.equal('work');
    expect((plainError as Error).message).to.match(/Browser local-0 failed during the lease/);

    expect(await idempotent).to.equal('/retried');
    expect(attempts).to.deep.equal([victimId, 'local-1']);

    // While the victim is gone, new leases land on the survivor.
    expect(router.stats().healthy).to.equal(1);
    const during = await Promise.all([0, 1, 2].map(() => router.withLease(async (lease) => lease.browserId)));
    expect(during).to.deep.equal(['local-1', 'local-1', 'local-1']);
    releaseSurvivors();
    expect(await onSurvivorA).to.equal('local-1');

    // The local source restarts the browser under the same id; the router connects to it and uses it again.
    await until(() => router.stats().healthy === 2, 30_000, 'the restarted browser to be healthy in the router');
    const replacement = source.browserFor(victimId)!;
    expect(replacement.chromiumPid).to.not.equal(victim.chromiumPid);
    pids.push(replacement.chromiumPid);
    const after = await router.withLease(async (lease) => {
      await lease.page.goto(`${site.origin}/back`);
      return { id: lease.browserId, title: await lease.page.title() };
    });
    expect(after).to.deep.equal({ id: victimId, title: '/back' });

    // No contexts leaked: each browser holds exactly its pre-warmed page once the pool has settled.
    await until(() => router.stats().prewarmed === 2 && router.stats().sessionsInUse === 0, 10_000, 'the pool to settle');
    for (const endpoint of source.current()) {
      const pages = await listPageTargets(endpoint.url, token);
      expect(pages, `page targets on ${endpoint.id}`).to.have.length(1);
      expect(pages[0]!.url).to.equal('about:blank');
    }
    expect(processAlive(victim.chromiumPid)).to.equal(false);
  });

  it('leaves no browser process behind after the source stops', async () => {
    await router.stop();
    await source.stop();
    for (const pid of pids) expect(processAlive(pid), `chromium ${pid}`).to.equal(false);
  });
});

describe('browser router when a browser hangs', function () {
  this.timeout(90_000);
  let source: LocalEndpointSource;
  let router: BrowserRouter;
  let stoppedPid = 0;

  before(async () => {
    source = new LocalEndpointSource({ browsers: 2, allowedOrigins: [], logger: quiet() });
    router = new BrowserRouter({
      source, logger: quiet(), prewarmPerBrowser: 0,
      healthIntervalMs: 500, healthTimeoutMs: 4000, healthFailureThreshold: 2, reconnectInitialMs: 200, reconnectMaxMs: 1000,
    });
    await router.start();
    await until(() => router.stats().healthy === 2, 20_000, 'two healthy browsers');
  });

  after(async () => {
    if (stoppedPid !== 0) {
      try {
        process.kill(stoppedPid, 'SIGCONT');
      } catch {
        // already gone
      }
    }
    await router?.stop();
    await source?.stop();
  });

  it('takes a hung browser out of placement on failed /healthz probes, fails its lease, and reconnects when it recovers', async () => {
    const hungId = 'local-1';
    const steerToSecond = async () => {
      // Ties go to local-0, so hold one lease there to steer the next to local-1.
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const steer = router.withLease(async () => gate);
      await until(() => router.stats().sessionsInUse === 1, 5000, 'the steering lease');
      return { steer, release };
    };
    const { steer, release } = await steerToSecond();
    let onHung = '';
    const stuck = router.withLease(async (lease) => {
      onHung = lease.browserId;
      return lease.page.waitForFunction(() => false, undefined, { timeout: 60_000 });
    });
    await until(() => onHung !== '', 5000, 'the lease on the browser to hang');
    expect(onHung).to.equal(hungId);
    release();
    await steer;

    stoppedPid = source.browserFor(hungId)!.chromiumPid;
    process.kill(stoppedPid, 'SIGSTOP');
    const stoppedAt = Date.now();
    let error: unknown;
    try {
      await stuck;
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(BrowserFailedError);
    expect((error as BrowserFailedError).reason).to.equal('health check failed');
    expect(Date.now() - stoppedAt).to.be.below(20_000);
    expect(router.stats().healthy).to.equal(1);
    const placed = await Promise.all([0, 1, 2, 3].map(() => router.withLease(async (lease) => lease.browserId)));
    expect(new Set(placed)).to.deep.equal(new Set(['local-0']));

    process.kill(stoppedPid, 'SIGCONT');
    stoppedPid = 0;
    await until(() => router.stats().healthy === 2, 30_000, 'the recovered browser to be reconnected');
    const { steer: steer2, release: release2 } = await steerToSecond();
    const back = await router.withLease(async (lease) => {
      await lease.page.setContent('<p>back</p>');
      return lease.browserId;
    });
    release2();
    await steer2;
    expect(back).to.equal(hungId);
  });
});
