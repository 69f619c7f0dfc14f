import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { connectHttp, REPO_ROOT, startServerProcess, tempFiles, type ServerProcess } from './server-harness.ts';

/**
 * The MCP conformance suite, pinned at 0.2.0-alpha.12: the first line with `--requirements <revision>` (exactly the
 * scenarios a revision requires, run at that revision's wire, every message checked against its schema). The npm
 * `latest` tag is still 0.1.16, which has neither `--requirements` nor any 2026-07-28 scenario.
 */
const CONFORMANCE_CLI = join(REPO_ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const BASELINE = join(REPO_ROOT, 'test/conformance/baseline.json');
/** The real server (`main`) plus the suite's fixture tools, task tools, resources and prompts. */
const CONFORMANCE_SERVER = join(REPO_ROOT, 'test/conformance/conformance-server.ts');
const REVISIONS = ['2026-07-28', '2025-11-25'] as const;
type Revision = (typeof REVISIONS)[number];

interface Baseline {
  reasons: Record<string, string>;
  revisions: Record<Revision, Record<string, string>>;
  realServer: Record<Revision, string[]>;
}

interface Check {
  id: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED';
  errorMessage?: string;
}

/** Scenario name → its checks, from the CLI's output directory (`server-<scenario>-<timestamp>/checks.json`). */
function readResults(dir: string): Map<string, Check[]> {
  const results = new Map<string, Check[]>();
  for (const entry of readdirSync(dir)) {
    const match = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(entry);
    if (!match) continue;
    results.set(match[1]!, JSON.parse(readFileSync(join(dir, entry, 'checks.json'), 'utf8')) as Check[]);
  }
  return results;
}

/** Runs `conformance server --requirements <revision>` against `url`; resolves its exit code, output and results. */
async function runSuite(url: string, revision: Revision, outDir: string, expectedFailures?: string): Promise<{ code: number | null; output: string; results: Map<string, Check[]> }> {
  const args = [CONFORMANCE_CLI, 'server', '--url', url, '--requirements', revision, '-o', outDir, ...(expectedFailures ? ['--expected-failures', expectedFailures] : [])];
  const child = spawn(process.execPath, args, { cwd: outDir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exit) => resolve(exit)));
  clearTimeout(timer);
  return { code, output, results: readResults(outDir) };
}

/**
 * What a run shows against the baseline: failing checks it does not excuse, and entries that no longer fail. A WARNING
 * (a SHOULD not met) counts as failing, as the suite's own --expected-failures verdict counts it.
 */
function judge(results: Map<string, Check[]>, gaps: Record<string, string>, only?: string[]): { unexpected: string[]; stale: string[]; tally: { scenarios: number; passed: number; checks: number; failedChecks: number } } {
  const unexpected: string[] = [];
  const failing = new Set<string>();
  const tally = { scenarios: 0, passed: 0, checks: 0, failedChecks: 0 };
  for (const [scenario, checks] of results) {
    if (only && !only.includes(scenario)) continue;
    tally.scenarios++;
    const failures = checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING');
    tally.checks += checks.length;
    tally.failedChecks += failures.length;
    if (failures.length === 0) tally.passed++;
    for (const failure of failures) {
      const key = `${scenario}:${failure.id}`;
      failing.add(key);
      if (!(key in gaps) && !(scenario in gaps)) unexpected.push(`${key}: ${failure.errorMessage ?? ''}`);
    }
  }
  const stale = Object.keys(gaps).filter((key) => {
    const scenario = key.split(':')[0]!;
    if (only && !only.includes(scenario)) return false;
    return key.includes(':') ? !failing.has(key) : ![...failing].some((f) => f.startsWith(`${scenario}:`));
  });
  return { unexpected, stale, tally };
}

const baseline = JSON.parse(readFileSync(BASELINE, 'utf8')) as Baseline;

describe('MCP conformance suite (server scenarios) for both revisions', function () {
  this.timeout(300_000);
  let fixtures: ServerProcess;
  let real: ServerProcess;
  let out: ReturnType<typeof tempFiles>;

  before(async () => {
    [fixtures, real] = await Promise.all([startServerProcess({ entry: CONFORMANCE_SERVER }), startServerProcess({})]);
    out = tempFiles({});
  });

  after(async () => {
    await Promise.all([fixtures?.stop(), real?.stop()]);
    out?.cleanup();
  });

  it('has a reason for every baseline entry', () => {
    for (const revision of REVISIONS) {
      for (const [key, reason] of Object.entries(baseline.revisions[revision])) expect(baseline.reasons[reason], `${revision} ${key}`).to.be.a('string').with.length.greaterThan(40);
    }
  });

  for (const revision of REVISIONS) {
    it(`${revision}: the server with the suite's fixtures passes every scenario the revision runs, but for the baseline's deliberate gaps`, async () => {
      const gaps = baseline.revisions[revision];
      const expectedFailures = join(out.dir, `expected-${revision}.yaml`);
      writeFileSync(expectedFailures, stringify({ server: Object.keys(gaps) }));
      const dir = join(out.dir, `fixtures-${revision}`);
      mkdirSync(dir);
      const run = await runSuite(fixtures.url, revision, dir, expectedFailures);
      expect(run.results.size, `no scenario results; CLI output:\n${run.output}`).to.be.greaterThan(20);
      const { unexpected, stale, tally } = judge(run.results, gaps);
      console.log(`      conformance ${revision} with fixtures: ${tally.passed}/${tally.scenarios} scenarios without a failing check; ${tally.checks - tally.failedChecks}/${tally.checks} checks pass; ${tally.failedChecks} failing, all baselined`);
      expect(unexpected, `failing checks not in test/conformance/baseline.json (${revision})`).to.deep.equal([]);
      expect(stale, `baseline entries that pass or no longer run: remove them (${revision})`).to.deep.equal([]);
      // The suite's own verdict agrees (scored scenarios, the same baseline as --expected-failures).
      expect(run.code, run.output.slice(-3000)).to.equal(0);
      expect(run.results.has('json-schema-2020-12'), 'the 2020-12 scenario ran').to.equal(true);
    });

    it(`${revision}: the real server, without fixtures, passes every scenario that applies to it`, async () => {
      const dir = join(out.dir, `real-${revision}`);
      mkdirSync(dir);
      const run = await runSuite(real.url, revision, dir);
      const applicable = baseline.realServer[revision];
      expect(applicable.filter((s) => !run.results.has(s)), `applicable scenarios the suite did not run; output:\n${run.output.slice(-2000)}`).to.deep.equal([]);
      const { unexpected, stale, tally } = judge(run.results, baseline.revisions[revision], applicable);
      console.log(`      conformance ${revision}, real server: ${tally.passed}/${tally.scenarios} applicable scenarios without a failing check; ${tally.checks - tally.failedChecks}/${tally.checks} checks pass`);
      expect(unexpected, `the real server fails applicable checks (${revision})`).to.deep.equal([]);
      expect(stale, `baseline entries for applicable scenarios that pass: remove them (${revision})`).to.deep.equal([]);
    });
  }

  it('ran the fixture tools through the server\'s own tools/call path (one audit line each) and stays healthy', async () => {
    const audit = fixtures.logs().filter((l) => l['message'] === 'Tool call completed');
    const outcomes = (tool: string): unknown[] => [...new Set(audit.filter((l) => l['tool'] === tool).map((l) => l['outcome']))];
    expect(outcomes('test_tool_with_progress')).to.deep.equal(['ok']);
    expect(outcomes('test_error_handling')).to.deep.equal(['INTERNAL']);
    expect(outcomes('protocol_error_job')).to.deep.equal(['INTERNAL']);
    expect(outcomes('failing_job')).to.deep.equal(['UPSTREAM_ERROR']);
    expect(audit.some((l) => l['tool'] === 'slow_compute' && l['outcome'] === 'CANCELLED'), 'a task cancelled by tasks/cancel').to.equal(true);
    expect(new Set(audit.map((l) => l['protocol']))).to.deep.equal(new Set(['modern', 'legacy']));
    expect((await fetch(new URL('/healthz', fixtures.url))).status).to.equal(200);
    expect((await fetch(new URL('/healthz', real.url))).status).to.equal(200);
  });

  it('declares completions and completes the create_lesson prompt\'s subject, grade and language arguments', async () => {
    const client = await connectHttp(real.url);
    try {
      expect(client.getServerCapabilities()?.completions).to.deep.equal({});
      const complete = async (value: string): Promise<string[]> =>
        (await client.complete({ ref: { type: 'ref/prompt', name: 'create_lesson' }, argument: { name: 'language', value } })).completion.values;
      expect(await complete('')).to.deep.equal(['pt_br', 'en']);
      expect(await complete('E')).to.deep.equal(['en']);
      expect(await complete('pt')).to.deep.equal(['pt_br']);
      expect(await complete('fr')).to.deep.equal([]);
      // Subject and grade too: a prefix in either language, the grade by its school year.
      const completeArg = async (name: string, value: string): Promise<string[]> =>
        (await client.complete({ ref: { type: 'ref/prompt', name: 'create_lesson' }, argument: { name, value } })).completion.values;
      expect(await completeArg('subject', 'Ci')).to.deep.equal(['Ciências']);
      expect(await completeArg('grade', '7')).to.include.members(['7º ano', '7th grade']);
      // Arguments without completions answer an empty list, not an error.
      expect((await client.complete({ ref: { type: 'ref/prompt', name: 'create_lesson' }, argument: { name: 'topic', value: 'pho' } })).completion.values).to.deep.equal([]);
    } finally {
      await client.close();
    }
  });
});
