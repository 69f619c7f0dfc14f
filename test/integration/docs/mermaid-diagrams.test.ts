import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { chromium, type Browser } from 'playwright-core';
import { repoFiles } from '../../unit/docs/product-names.ts';

const REPO = path.resolve(import.meta.dirname, '..', '..', '..');
/** The Mermaid release the diagrams are checked with (GitHub renders with a recent Mermaid too). */
const MERMAID_VERSION = '12.3.0';
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/lib/chromium/chromium-headless-shell';

/**
 * Mermaid's browser bundle (one file of the npm package), fetched once with `npm pack` into the project cache beside
 * the control-plane binaries — the whole package with its dependencies would add 200 MB to node_modules.
 */
function mermaidBundle(): string {
  const cache = path.join(process.env['COMPOSER_MCP_CACHE'] ?? path.join(os.homedir(), '.cache', 'composer-mcp'), `mermaid-${MERMAID_VERSION}`);
  const bundle = path.join(cache, 'mermaid.min.js');
  if (existsSync(bundle)) return bundle;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'mermaid-pack-'));
  try {
    const tarball = execFileSync('npm', ['pack', `mermaid@${MERMAID_VERSION}`, '--silent', '--pack-destination', tmp], { encoding: 'utf8', timeout: 120_000 }).trim().split('\n').at(-1)!;
    execFileSync('tar', ['xzf', path.join(tmp, tarball), '-C', tmp, 'package/dist/mermaid.min.js'], { timeout: 60_000 });
    mkdirSync(cache, { recursive: true });
    renameSync(path.join(tmp, 'package', 'dist', 'mermaid.min.js'), bundle);
    return bundle;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Every ```mermaid block of the repository's Markdown, with its file and line. */
export function mermaidBlocks(): Array<{ file: string; line: number; code: string }> {
  const blocks: Array<{ file: string; line: number; code: string }> = [];
  for (const file of repoFiles().filter((f) => f.endsWith('.md'))) {
    const lines = readFileSync(path.join(REPO, file), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]!.trim() !== '```mermaid') continue;
      const end = lines.findIndex((l, j) => j > i && l.trim() === '```');
      blocks.push({ file, line: i + 1, code: lines.slice(i + 1, end).join('\n') });
      i = end;
    }
  }
  return blocks;
}

describe('Mermaid diagrams in the docs render (with Mermaid itself, in Chromium)', function () {
  this.timeout(180_000);
  let browser: Browser;
  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  after(async () => {
    await browser?.close();
  });

  it('renders every diagram to an SVG, with no error', async () => {
    const blocks = mermaidBlocks();
    expect(blocks.map((b) => b.file)).to.include('docs/architecture.md');
    const page = await browser.newPage();
    await page.setContent('<!doctype html><body></body>');
    await page.addScriptTag({ path: mermaidBundle() });
    const results = await page.evaluate(async (codes) => {
      const m = (globalThis as unknown as { mermaid: { initialize(o: object): void; render(id: string, code: string): Promise<{ svg: string }> } }).mermaid;
      m.initialize({ startOnLoad: false, securityLevel: 'strict' });
      const out: Array<{ ok: boolean; detail: string }> = [];
      for (const [i, code] of codes.entries()) {
        try {
          const { svg } = await m.render(`d${i}`, code);
          out.push({ ok: svg.startsWith('<svg') && !svg.includes('Syntax error'), detail: `${svg.length} bytes of SVG` });
        } catch (error) {
          out.push({ ok: false, detail: String((error as Error).message ?? error) });
        }
      }
      return out;
    }, blocks.map((b) => b.code));
    const failed = blocks.map((b, i) => ({ at: `${b.file}:${b.line}`, ...results[i]! })).filter((r) => !r.ok);
    expect(failed).to.deep.equal([]);
  });

  it('reports a diagram that does not parse (the check can fail)', async () => {
    const page = await browser.newPage();
    await page.setContent('<!doctype html><body></body>');
    await page.addScriptTag({ path: mermaidBundle() });
    const error = await page.evaluate(async () => {
      const m = (globalThis as unknown as { mermaid: { initialize(o: object): void; render(id: string, code: string): Promise<unknown> } }).mermaid;
      m.initialize({ startOnLoad: false });
      try {
        await m.render('bad', 'flowchart LR\n  a --> (b');
        return '';
      } catch (e) {
        return String((e as Error).message);
      }
    });
    expect(error).to.match(/Parse error|Syntax error|Expecting/i);
  });
});
