import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectHttp, REPO_ROOT, startServerProcess, tempFiles, type ServerProcess } from './server-harness.ts';

const CONFORMANCE_CLI = join(REPO_ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const BASELINE = join(REPO_ROOT, 'test/conformance/baseline.json');
/** The real server (`main`) plus the suite's fixture tools, resources and prompts. */
const CONFORMANCE_SERVER = join(REPO_ROOT, 'test/conformance/conformance-server.ts');

/** Scenarios of the active suite that must have run (and, outside the baseline, passed). */
const EXPECTED_SCENARIOS = [
  'server-initialize', 'ping', 'tools-list', 'resources-list', 'prompts-list', 'dns-rebinding-protection', 'completion-complete',
  'tools-call-simple-text', 'tools-call-image', 'tools-call-audio', 'tools-call-embedded-resource', 'tools-call-mixed-content',
  'tools-call-error', 'tools-call-with-progress', 'resources-read-text', 'resources-read-binary', 'resources-templates-read',
  'prompts-get-simple', 'prompts-get-with-args', 'prompts-get-embedded-resource', 'prompts-get-with-image', 'server-sse-multiple-streams',
];

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

/** Starts `node test/conformance/conformance-server.ts --http.port=0` and waits for "Started MCP server". */
function startConformanceServer(): Promise<ServerProcess> {
  return startServerProcess({ entry: CONFORMANCE_SERVER });
}

describe('MCP conformance suite (server scenarios) against the real server with the suite fixtures', function () {
  this.timeout(180000);
  let server: ServerProcess;
  let out: ReturnType<typeof tempFiles>;

  before(async () => {
    server = await startConformanceServer();
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
    const notRun = [...EXPECTED_SCENARIOS, ...Object.keys(baseline)].filter((scenario) => !results.has(scenario));
    expect(notRun, 'scenarios expected (or baselined) that the suite did not run').to.deep.equal([]);
    // Every expected scenario checked something and passed it (server-sse-multiple-streams only warns: it needs sessions).
    const withoutSuccess = EXPECTED_SCENARIOS.filter((s) => s !== 'server-sse-multiple-streams' && !results.get(s)!.some((c) => c.status === 'SUCCESS'));
    expect(withoutSuccess, 'expected scenarios without a passing check').to.deep.equal([]);

    // The fixture tools ran through the server's own tools/call path: one audit line each, with the outcome.
    const audit = server.logs().filter((l) => l['message'] === 'Tool call completed');
    const outcomeOf = (tool: string): unknown[] => audit.filter((l) => l['tool'] === tool).map((l) => l['outcome']);
    expect(outcomeOf('test_tool_with_progress')).to.deep.equal(['ok']);
    expect(outcomeOf('test_image_content')).to.deep.equal(['ok']);
    expect(outcomeOf('test_error_handling')).to.deep.equal(['INTERNAL']);
    // The server stays healthy after the whole suite.
    expect((await fetch(new URL('/healthz', server.url))).status).to.equal(200);
  });

  it('declares completions and completes the create_lesson prompt\'s language argument', async () => {
    const client = await connectHttp(server.url);
    try {
      expect(client.getServerCapabilities()?.completions).to.deep.equal({});
      const complete = async (value: string): Promise<string[]> =>
        (await client.complete({ ref: { type: 'ref/prompt', name: 'create_lesson' }, argument: { name: 'language', value } })).completion.values;
      expect(await complete('')).to.deep.equal(['pt_br', 'en']);
      expect(await complete('E')).to.deep.equal(['en']);
      expect(await complete('pt')).to.deep.equal(['pt_br']);
      expect(await complete('fr')).to.deep.equal([]);
      // Arguments without completions answer an empty list, not an error.
      expect((await client.complete({ ref: { type: 'ref/prompt', name: 'create_lesson' }, argument: { name: 'topic', value: 'pho' } })).completion.values).to.deep.equal([]);
    } finally {
      await client.close();
    }
  });
});
