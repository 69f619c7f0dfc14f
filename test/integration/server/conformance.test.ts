import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, startServerProcess, tempFiles, type ServerProcess } from './server-harness.ts';

const CONFORMANCE_CLI = join(REPO_ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const BASELINE = join(REPO_ROOT, 'test/conformance/baseline.json');

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

describe('MCP conformance suite (server scenarios) against the real server', function () {
  this.timeout(180000);
  let server: ServerProcess;
  let out: ReturnType<typeof tempFiles>;

  before(async () => {
    server = await startServerProcess();
    out = tempFiles({});
  });

  after(async () => {
    await server?.stop();
    out?.cleanup();
  });

  it('passes every scenario except the baseline ones, each of which needs a feature the server deliberately lacks', async () => {
    const baseline = (JSON.parse(readFileSync(BASELINE, 'utf8')) as { server: Record<string, string> }).server;
    for (const [scenario, reason] of Object.entries(baseline)) expect(reason, `baseline reason for ${scenario}`).to.have.length.greaterThan(20);
    const child = spawn(process.execPath, [CONFORMANCE_CLI, 'server', '--url', server.url, '-o', out.dir], { cwd: out.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 150000);
    await new Promise<void>((resolve) => child.once('exit', () => resolve()));
    clearTimeout(timer);

    const results = readResults(out.dir);
    expect(results.size, `no scenario results found; CLI output:\n${output}`).to.be.greaterThan(10);
    const unexpected: string[] = [];
    const stale: string[] = [];
    for (const [scenario, checks] of results) {
      const failures = checks.filter((c) => c.status === 'FAILURE');
      if (failures.length > 0 && !(scenario in baseline)) unexpected.push(`${scenario}: ${failures.map((f) => `${f.id}: ${f.errorMessage ?? ''}`).join('; ')}`);
      if (failures.length === 0 && scenario in baseline) stale.push(scenario);
    }
    expect(unexpected, 'scenarios failing that are not in test/conformance/baseline.json').to.deep.equal([]);
    expect(stale, 'baseline scenarios that now pass: remove them from test/conformance/baseline.json').to.deep.equal([]);
    for (const scenario of ['server-initialize', 'ping', 'tools-list', 'resources-list', 'prompts-list', 'dns-rebinding-protection']) {
      expect(results.has(scenario), `scenario ${scenario} ran`).to.equal(true);
    }
    // The server stays healthy after the whole suite.
    expect((await fetch(new URL('/healthz', server.url))).status).to.equal(200);
  });
});
