import { expect } from 'chai';
import { Writable } from 'node:stream';
import { ApiException, type KubernetesObject } from '@kubernetes/client-node';
import { MeterProvider, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { CollectingMetricReader as TestReader } from '#support/telemetry/collecting-metric-reader.ts';
import { createLogger } from '#common/logger.ts';
import { FakeClock } from '#support/fake-clock.ts';
import { Controller, ownKey, type Reconciler } from '#kube/runtime/controller.ts';
import { Informer, type InformerEvent } from '#kube/runtime/informer.ts';
import { ControllerMetrics } from '#kube/runtime/metrics.ts';
import { ScriptedListWatch, testObject } from './fake-list-watch.ts';

/** A keysFor mapping as a controller of children uses one: the owners' keys, of the new and (on update) the old object. */
function ownerKeys(event: InformerEvent<KubernetesObject>): string[] {
  const objects = event.type === 'update' ? [event.object, event.old] : [event.object];
  return [...new Set(objects.flatMap((o) => (o.metadata?.ownerReferences ?? []).map((ref) => `${o.metadata?.namespace}/${ref.name}`)))];
}

function counterValues(metrics: ResourceMetrics, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const scope of metrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== name) continue;
      for (const point of metric.dataPoints) out[String(point.attributes['result'])] = point.value as number;
    }
  }
  return out;
}

/** Captured JSON log lines. */
function captureLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, logger: createLogger({ component: 'test', level: 'debug', format: 'json', stream }) };
}

describe('Controller (fake reconcile, fake clock)', () => {
  let clock: FakeClock;
  let api: ScriptedListWatch;
  let informer: Informer<KubernetesObject>;
  let reader: TestReader;
  let controllerMetrics: ControllerMetrics;
  let captured: ReturnType<typeof captureLogger>;
  const controllers: Controller[] = [];

  beforeEach(() => {
    clock = new FakeClock();
    api = new ScriptedListWatch();
    captured = captureLogger();
    informer = new Informer({ client: api, clock, logger: captured.logger, name: 'configmaps' });
    reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    controllerMetrics = new ControllerMetrics(provider.getMeter('composer-mcp.operator'));
  });

  afterEach(async () => {
    for (const c of controllers.splice(0)) {
      const stopping = c.stop(1000);
      await clock.tick(1000);
      await stopping;
    }
    await informer.stop();
  });

  function controller(reconcile: Reconciler, extra: Partial<ConstructorParameters<typeof Controller>[0]> = {}): Controller {
    const c = new Controller({
      name: 'test',
      sources: [{ informer }],
      reconcile,
      clock,
      logger: captured.logger,
      metrics: controllerMetrics,
      ...extra,
    });
    controllers.push(c);
    return c;
  }

  it('starts reconciling only after the caches synced, then reconciles every cached object once', async () => {
    let release!: () => void;
    api.listGate = new Promise((resolve) => (release = resolve));
    api.items = [testObject('a', '1'), testObject('b', '2')];
    const seen: string[] = [];
    const c = controller(async (key) => {
      seen.push(key);
    });
    const started = c.start();
    await clock.tick(10);
    expect(seen).to.deep.equal([]);
    release();
    expect(await started).to.equal(true);
    await clock.tick(10);
    expect(seen.toSorted()).to.deep.equal(['ns/a', 'ns/b']);
    const values = counterValues((await reader.collect()).resourceMetrics, 'composer_mcp_operator_reconciles');
    expect(values).to.deep.equal({ success: 2 });
  });

  it('retries a failing key with growing backoff and forgets it on success', async () => {
    api.items = [testObject('a', '1')];
    const attempts: number[] = [];
    const c = controller(async () => {
      attempts.push(clock.now());
      if (attempts.length <= 3) throw new Error('transient failure');
    });
    await c.start();
    await clock.tick(100);
    expect(attempts.length).to.equal(4);
    const gaps = attempts.slice(1).map((t, i) => t - (attempts[i] as number));
    expect(gaps).to.deep.equal([5, 10, 20]);
    const values = counterValues((await reader.collect()).resourceMetrics, 'composer_mcp_operator_reconciles');
    expect(values).to.deep.equal({ error: 3, success: 1 });
    expect(captured.lines.filter((l) => l['message'] === 'Reconcile failed' && l['level'] === 'error').length).to.equal(3);
    // success forgot the backoff: the next failure starts at 5 ms again
    attempts.length = 0;
    c.enqueue('ns/a');
    await clock.tick(0);
    expect(attempts.length).to.equal(1);
  });

  it('requeues conflicts quietly at debug level', async () => {
    api.items = [testObject('a', '1')];
    let calls = 0;
    const c = controller(async () => {
      calls++;
      if (calls === 1) throw new ApiException(409, 'Conflict', '{"kind":"Status","code":409,"reason":"Conflict","message":"the object has been modified"}', {});
    });
    await c.start();
    await clock.tick(50);
    expect(calls).to.equal(2);
    const conflictLine = captured.lines.find((l) => l['message'] === 'Requeued after conflict');
    expect(conflictLine?.['level']).to.equal('debug');
    expect(String(conflictLine?.['error'])).to.match(/409 Conflict: the object has been modified/);
    expect(captured.lines.some((l) => l['level'] === 'error')).to.equal(false);
    const values = counterValues((await reader.collect()).resourceMetrics, 'composer_mcp_operator_reconciles');
    expect(values).to.deep.equal({ conflict: 1, success: 1 });
  });

  it('honours requeueAfterMs: runs the key again after that delay and not before', async () => {
    api.items = [testObject('a', '1')];
    const times: number[] = [];
    const c = controller(async () => {
      times.push(clock.now());
      return times.length === 1 ? { requeueAfterMs: 500 } : {};
    });
    await c.start();
    await clock.tick(499);
    expect(times.length).to.equal(1);
    await clock.tick(1);
    expect(times.length).to.equal(2);
    expect((times[1] as number) - (times[0] as number)).to.equal(500);
    const values = counterValues((await reader.collect()).resourceMetrics, 'composer_mcp_operator_reconciles');
    expect(values).to.deep.equal({ requeue: 1, success: 1 });
  });

  it('never reconciles one key twice at once; events during a reconcile collapse into one more run', async () => {
    api.items = [testObject('a', '1')];
    let running = 0;
    let maxRunning = 0;
    let calls = 0;
    let unblock!: () => void;
    const c = controller(
      async () => {
        calls++;
        running++;
        maxRunning = Math.max(maxRunning, running);
        if (calls === 1) await new Promise<void>((resolve) => (unblock = resolve));
        running--;
      },
      { workers: 4 },
    );
    await c.start();
    await clock.tick(0);
    api.last().emit('MODIFIED', testObject('a', '2'));
    api.last().emit('MODIFIED', testObject('a', '3'));
    api.last().emit('MODIFIED', testObject('a', '4'));
    await clock.tick(10);
    expect(calls).to.equal(1);
    unblock();
    await clock.tick(10);
    expect(calls).to.equal(2);
    expect(maxRunning).to.equal(1);
  });

  it('maps child events to the owner key', async () => {
    api.items = [testObject('pod-1', '1', { kind: 'BrowserPool', name: 'pool-a' }), testObject('orphan', '2')];
    const seen: string[] = [];
    const c = controller(
      async (key) => {
        seen.push(key);
      },
      { sources: [{ informer, keysFor: ownerKeys }] },
    );
    await c.start();
    await clock.tick(10);
    expect(seen).to.deep.equal(['ns/pool-a']);
    api.last().emit('MODIFIED', testObject('pod-1', '3', { kind: 'BrowserPool', name: 'pool-b' }));
    await clock.tick(10);
    // an owner change wakes both the old and the new owner
    expect(seen.toSorted()).to.deep.equal(['ns/pool-a', 'ns/pool-a', 'ns/pool-b']);
    expect(ownKey({ type: 'add', object: testObject('x', '1') })).to.deep.equal(['ns/x']);
  });

  it('puts a reconcileId and the key in the log context of every line written during a reconcile', async () => {
    api.items = [testObject('a', '1')];
    const ids: string[] = [];
    const c = controller(async (_key, ctx) => {
      ids.push(ctx.reconcileId);
      ctx.logger.info('Did the work', { step: ids.length });
    });
    await c.start();
    await clock.tick(10);
    c.enqueue('ns/a');
    await clock.tick(10);
    const lines = captured.lines.filter((l) => l['message'] === 'Did the work');
    expect(lines.length).to.equal(2);
    expect(lines.map((l) => l['reconcileId'])).to.deep.equal(ids);
    expect(new Set(ids).size).to.equal(2);
    expect(lines[0]).to.include({ key: 'ns/a', controller: 'test' });
  });

  it('stop lets in-flight reconciles finish within the deadline, and aborts them past it', async () => {
    api.items = [testObject('quick', '1'), testObject('stuck', '2')];
    let quickDone = false;
    let stuckSignal: AbortSignal | undefined;
    const c = controller(async (key, ctx) => {
      if (key === 'ns/quick') {
        await clock.sleep(100);
        quickDone = true;
        return;
      }
      stuckSignal = ctx.signal;
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
    });
    await c.start();
    await clock.tick(0);
    expect(c.health()).to.include({ workersAlive: 2, wedged: false });
    const stopped = c.stop(1000);
    await clock.tick(100);
    expect(quickDone).to.equal(true);
    expect(stuckSignal?.aborted).to.equal(false);
    await clock.tick(900);
    expect(await stopped).to.equal(false);
    expect(stuckSignal?.aborted).to.equal(true);
    expect(captured.lines.some((l) => l['message'] === 'Stopped controller before in-flight reconciles finished')).to.equal(true);
  });

  it('tells onReconcile the key, duration and outcome of every reconcile, and survives a throwing hook', async () => {
    api.items = [testObject('a', '1')];
    const seen: Array<[string, number, string]> = [];
    let calls = 0;
    const c = controller(
      async () => {
        calls++;
        await clock.sleep(30);
        if (calls === 1) throw new Error('transient failure');
        return calls === 2 ? { requeueAfterMs: 100 } : {};
      },
      {
        onReconcile: (key, ms, outcome) => {
          seen.push([key, ms, outcome]);
          if (seen.length === 1) throw new Error('hook bug');
        },
      },
    );
    await c.start();
    await clock.tick(30);
    await clock.tick(5);
    await clock.tick(30);
    await clock.tick(100);
    await clock.tick(30);
    expect(seen).to.deep.equal([['ns/a', 30, 'error'], ['ns/a', 30, 'requeue'], ['ns/a', 30, 'success']]);
    expect(c.health()).to.include({ workersAlive: 2, wedged: false });
    expect(captured.lines.filter((l) => l['message'] === 'Ignored a failing onReconcile hook').map((l) => l['level'])).to.deep.equal(['warn']);
  });

  it('reports itself wedged when a reconcile runs past the limit', async () => {
    api.items = [testObject('a', '1')];
    const c = controller(
      async (_key, ctx) => {
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
      },
      { wedgedAfterMs: 60_000 },
    );
    await c.start();
    await clock.tick(59_000);
    expect(c.health().wedged).to.equal(false);
    await clock.tick(2_000);
    expect(c.health()).to.include({ wedged: true, oldestReconcileMs: 61_000 });
  });
});
