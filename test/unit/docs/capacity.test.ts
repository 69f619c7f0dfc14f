import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { capacityDocBlocks, DEFAULT_INPUTS, fillCapacityDoc, fitBrowserMemory, planCapacity, type CapacityMeasurements } from '../../../bench/capacity-model.ts';
import { CAPACITY_DOC_PATH, CAPACITY_DOC_PATHS, inputsFromArgs, loadMeasurements } from '../../../bench/capacity.ts';

/** Round measurements: a browser of 100 MiB + 50 MiB per session, calls holding 500 ms and using 250 ms of Chromium CPU. */
const m: CapacityMeasurements = {
  measuredAt: '2026-01-01T00:00:00.000Z',
  machine: { cores: 2, memoryGiB: 8, loadAverage: 1, node: 'v24', chromium: 'Chromium 1' },
  workload: 'test',
  browser: { idleMiB: 60, warmIdleMiB: 90, perSessionMiB: 50, peakMiB: [{ sessions: 1, mib: 150 }, { sessions: 2, mib: 200 }, { sessions: 4, mib: 300 }], creepMiBPer100Leases: 1, leasesServed: 100 },
  calls: {
    open: { callMsP50: 500, callMsP95: 600, holdMs: 500, chromiumCpuMs: 250, serverCpuMs: 20 },
    previewPdf: { callMsP50: 500, callMsP95: 600, holdMs: 500, chromiumCpuMs: 250, serverCpuMs: 20 },
    noBrowser: { callMsP50: 2, serverCpuMs: 2 },
  },
  throughput: [],
  coldStart: { launchToPageMsP50: 100, launchToPageMsP95: 150, warmHandOverMsMean: 1 },
  server: { idleRssMiB: 100, loadedRssMiB: 150 },
};

describe('capacity model (bench/capacity-model.ts) and docs/capacity.md', () => {
  it('docs/capacity.md and docs/architecture.md show the committed measurements and the plans derived from them (run make capacity-docs)', () => {
    const blocks = capacityDocBlocks(loadMeasurements());
    const seen = new Set<string>();
    for (const path of CAPACITY_DOC_PATHS) {
      const doc = readFileSync(path, 'utf8');
      expect(doc === fillCapacityDoc(doc, blocks), `${path} is stale: run make capacity-docs`).to.equal(true);
      for (const m of doc.matchAll(/<!-- capacity:([a-z-]+) -->/g)) seen.add(m[1]!);
    }
    expect([...seen].toSorted(), 'every generated block appears in a document').to.deep.equal(Object.keys(blocks).toSorted());
    expect(readFileSync(CAPACITY_DOC_PATH, 'utf8')).to.include('<!-- capacity:reference-table -->');
  });

  it('fits browser memory as base + per-session line', () => {
    const fit = fitBrowserMemory(m.browser.peakMiB);
    expect(fit.baseMiB).to.be.closeTo(100, 1e-9);
    expect(fit.perSessionMiB).to.be.closeTo(50, 1e-9);
  });

  it('derives sessions with Little\'s law and plans for Poisson bursts', () => {
    // 3600 users × 1 call/h = 1 call/s, held 0.5 s → 0.5 sessions on average; ⌈0.5 + 3·√0.5⌉ = 3.
    const p = planCapacity(m, { ...DEFAULT_INPUTS, activeUsers: 3600, browserCallsPerUserHour: 1 });
    expect(p.browserCallsPerSecond).to.equal(1);
    expect(p.meanSessions).to.equal(0.5);
    expect(p.peakSessions).to.equal(3);
  });

  it('takes the least of the cap, the memory bound and the CPU bound for sessions per browser', () => {
    // CPU: 250 ms per 500 ms = 0.5 core per session → 1 core carries 2; memory: (1280 × 0.8 − 48 − 100) / 50 = 17; cap 4.
    const cpuBound = planCapacity(m, { ...DEFAULT_INPUTS, browserCpuCores: 1 });
    expect([cpuBound.sessionsPerBrowserByCpu, cpuBound.sessionsPerBrowserByMemory, cpuBound.sessionsPerBrowser]).to.deep.equal([2, 17, 2]);
    const capBound = planCapacity(m, { ...DEFAULT_INPUTS, browserCpuCores: 4 });
    expect(capBound.sessionsPerBrowser).to.equal(4);
    const memoryBound = planCapacity(m, { ...DEFAULT_INPUTS, browserCpuCores: 4, browserMemoryLimitMib: 320, maxSessionsPerBrowser: 16 });
    expect(memoryBound.sessionsPerBrowser).to.equal(2); // (320 × 0.8 − 48 − 100) / 50 = 2.16
  });

  it('keeps at least 2 browsers and 2 server replicas, and grows both with load', () => {
    const small = planCapacity(m, { ...DEFAULT_INPUTS, activeUsers: 1 });
    expect([small.browsers, small.serverReplicas]).to.deep.equal([2, 2]);
    const big = planCapacity(m, { ...DEFAULT_INPUTS, activeUsers: 20_000 });
    expect(big.browsers).to.be.greaterThan(small.browsers);
    expect(big.serverReplicas).to.be.greaterThan(2);
    expect(big.browserNodes).to.equal(Math.ceil(big.browsers / big.browsersPerNode));
  });

  it('reads its inputs from flags and refuses a bad one', () => {
    expect(inputsFromArgs(['--active-users=1000', '--node-memory-gib=32']).activeUsers).to.equal(1000);
    expect(inputsFromArgs(['--node-memory-gib=32']).nodeMemoryGib).to.equal(32);
    expect(() => inputsFromArgs(['--active-users=many'])).to.throw(/--active-users must be a number/);
    expect(() => inputsFromArgs(['--active-user=1'])).to.throw();
  });
});
