import { expect } from 'chai';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type BrowserContext, type Frame, type Page } from 'playwright-core';
import { DEFAULT_CHROMIUM_PATH } from '#browser/launcher/chromium-args.ts';
import { sanitizeCompositionForView } from '#server/composer/html/sanitize-composition.ts';
import { sanitizeHtml } from '#server/composer/html/sanitize-html.ts';
import { HOSTILE_HTML, type PayloadClass } from '#support/fixtures/hostile-html.ts';

/**
 * The differential test: the sanitiser's output is rendered by real Chromium, with the browser's own parser, in
 * the ways an app renders lesson HTML — as a document, through `innerHTML` on a `<div>`, and through `innerHTML`
 * on a table row (a context where tags our `<div>` parse ignores would come alive). Every element is clicked
 * and hovered. Each payload's script would call a listener on another port, push its number onto a global of
 * the top page and open a dialog; clobbering payloads are detected by the names they define. The same payloads
 * unsanitised are the control: they must run (or clobber) in every class, so the harness is shown to see them.
 */

type Variant = 'raw' | 'clean';
type Mode = 'document' | 'div' | 'row';
const MODES: readonly Mode[] = ['document', 'div', 'row'];

interface Observed {
  listenerHits: number[];
  flags: number[];
  dialogs: number[];
  clobbered: number[];
  /** Frames whose harness threw (e.g. a clobbered DOM API), with the error. */
  harnessErrors: string[];
  /** Frames that navigated away or went before their harness reported, with where they went. */
  unreported: string[];
}

/** What a frame's harness recorded in the top page. */
type HarnessReports = Record<number, { clobbered: boolean; error: string }>;

/**
 * The harness frames of one suite page (`/frame/<variant>/<mode>/<id>`), known from their navigations. Once the suite
 * page has loaded, every frame has fired its load event and queued its harness; a task queued in a frame after
 * that runs after its harness (a frame's timers run in order), so one such task per frame is the exact wait:
 * ordered by events, not by how fast the machine is. A frame that navigated elsewhere meanwhile has either
 * recorded before leaving (its harness's clicks come before the record in one task) or never will.
 */
class HarnessFrames {
  readonly #frames = new Map<number, Frame>();

  constructor(page: Page, variant: Variant, mode: Mode) {
    const own = new RegExp(`/frame/${variant}/${mode}/(\\d+)$`);
    page.on('framenavigated', (frame) => {
      const match = own.exec(frame.url());
      if (match) this.#frames.set(Number(match[1]), frame);
    });
  }

  /** Resolves once every harness frame has run its harness, or is gone from its document. */
  async settled(): Promise<void> {
    await Promise.all([...this.#frames.values()].map((frame) =>
      frame.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0))).catch(() => undefined)));
  }

  /** Payloads whose harness left no record, with where their frame is now. */
  unreported(reports: HarnessReports): string[] {
    return HOSTILE_HTML.flatMap((payload, id) => {
      if (reports[id]) return [];
      const frame = this.#frames.get(id);
      return [`${payload.name}: ${!frame ? 'its frame never loaded' : frame.isDetached() ? 'its frame was removed' : `its frame went to ${frame.url()}`}`];
    });
  }
}

/** The script a payload runs: no quotes, spaces or angle brackets, so it fits any attribute or URL. */
const signal = (listenerPort: number, id: number) => `fetch(\`http://127.0.0.1:${listenerPort}/hit/${id}\`),top.__xss.push(${id}),alert(${id})`;

/**
 * Runs in every frame once it has loaded: click and hover everything, then record in the top page (which outlives
 * the frame, should a click navigate it) that it ran and whether names were clobbered. It always records once it
 * ran: a harness that throws (a clobbered DOM API) records the error.
 */
const FRAME_HARNESS = (id: number) => `
addEventListener('load', () => setTimeout(() => {
  let clobbered = false;
  let error = '';
  try {
    for (const el of document.querySelectorAll('body *')) {
      try {
        el.dispatchEvent(new MouseEvent('mouseover', { bubbles: true }));
        if (typeof el.click === 'function') el.click(); else el.dispatchEvent(new MouseEvent('click', { bubbles: true }));
      } catch {}
    }
    const named = [...document.querySelectorAll('[id],[name]')].filter((el) => el.id !== 'root');
    clobbered = named.length > 0 || typeof document.cookie !== 'string' || document.defaultView !== window;
  } catch (e) {
    clobbered = true;
    error = String(e);
  }
  top.__reports[${id}] = { clobbered, error };
}, 0));`;

function framePage(id: number, mode: Mode, html: string): string {
  const head = `<!doctype html><html><head><meta charset="utf-8"><script>${FRAME_HARNESS(id)}</script></head>`;
  if (mode === 'document') return `${head}<body>${html}</body></html>`;
  const container = mode === 'div' ? '<div id="root"></div>' : '<table><tbody><tr id="root"></tr></tbody></table>';
  return `${head}<body>${container}<script>document.getElementById('root').innerHTML = ${JSON.stringify(html).replaceAll('<', '\\u003c')};</script></body></html>`;
}

function suitePage(variant: Variant, mode: Mode, count: number): string {
  const frames = Array.from({ length: count }, (_, i) => `<iframe src="/frame/${variant}/${mode}/${i}" width="300" height="150"></iframe>`).join('');
  return `<!doctype html><html><head><meta charset="utf-8"><script>window.__xss = []; window.__reports = {};</script></head><body>${frames}</body></html>`;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('HTML sanitiser against real Chromium (differential)', function () {
  this.timeout(120_000);
  let browser: Browser;
  let context: BrowserContext;
  let listener: { server: Server; port: number };
  let pages: { server: Server; port: number };
  const hits: string[] = [];
  const payloadHtml = (variant: Variant, id: number): string => {
    const html = (HOSTILE_HTML[id] ?? HOSTILE_HTML[0]!).html(signal(listener.port, id));
    return variant === 'raw' ? html : sanitizeHtml(html).html;
  };

  before(async () => {
    listener = await listen((req, res) => {
      hits.push(req.url ?? '');
      res.writeHead(204, { 'access-control-allow-origin': '*' });
      res.end();
    });
    pages = await listen((req, res) => {
      const suite = /^\/suite\/(raw|clean)\/(document|div|row)$/.exec(req.url ?? '');
      const frame = /^\/frame\/(raw|clean)\/(document|div|row)\/(\d+)$/.exec(req.url ?? '');
      if (suite) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(suitePage(suite[1] as Variant, suite[2] as Mode, HOSTILE_HTML.length));
      } else if (frame) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(framePage(Number(frame[3]), frame[2] as Mode, payloadHtml(frame[1] as Variant, Number(frame[3]))));
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    browser = await chromium.launch({ executablePath: process.env['CHROMIUM_PATH'] ?? DEFAULT_CHROMIUM_PATH, args: ['--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    context = await browser.newContext();
    // Nothing leaves this machine: the page server and the listener only.
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      const local = url.hostname === '127.0.0.1' && [String(pages.port), String(listener.port)].includes(url.port);
      return local || url.protocol === 'data:' ? route.continue() : route.abort();
    });
  });

  after(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    if (pages) await close(pages.server);
    if (listener) await close(listener.server);
  });

  /** Loads every payload of a variant in one mode (each in its own frame) and collects what ran. */
  async function render(variant: Variant, mode: Mode): Promise<Observed> {
    hits.length = 0;
    const dialogs: number[] = [];
    const page = await context.newPage();
    page.on('dialog', (dialog) => {
      dialogs.push(Number(dialog.message()));
      dialog.dismiss().catch(() => undefined);
    });
    const frames = new HarnessFrames(page, variant, mode);
    try {
      await page.goto(`http://127.0.0.1:${pages.port}/suite/${variant}/${mode}`, { waitUntil: 'load', timeout: 60_000 });
      // Every frame's harness has clicked, hovered and recorded (or its frame went elsewhere first). Then events a
      // payload schedules (image errors, toggles, animations, focus) get their turn: two frames of rendering and a
      // settle window.
      await frames.settled();
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
      await sleep(1000);
      const state = await page.evaluate(() => {
        const w = window as unknown as { __xss: number[]; __reports: HarnessReports };
        return { flags: [...w.__xss], reports: { ...w.__reports } };
      });
      const listenerHits = hits.map((path) => Number(/^\/hit\/(\d+)$/.exec(path)?.[1] ?? -1));
      const unique = (ids: number[]) => [...new Set(ids)].toSorted((a, b) => a - b);
      const recorded = Object.entries(state.reports).map(([id, r]) => ({ id: Number(id), ...r }));
      return {
        listenerHits: unique(listenerHits), flags: unique(state.flags), dialogs: unique(dialogs),
        clobbered: unique(recorded.filter((r) => r.clobbered).map((r) => r.id)),
        harnessErrors: recorded.filter((r) => r.error).map((r) => `${HOSTILE_HTML[r.id]?.name}: ${r.error}`),
        unreported: frames.unreported(state.reports),
      };
    } finally {
      await page.close();
    }
  }

  const names = (ids: number[]) => ids.map((id) => `${HOSTILE_HTML[id]?.class}: ${HOSTILE_HTML[id]?.name}`);

  it('the control: unsanitised payloads run script (or clobber) in Chromium in every class', async () => {
    const ran = new Set<number>();
    for (const mode of MODES) {
      const observed = await render('raw', mode);
      for (const id of [...observed.listenerHits, ...observed.flags, ...observed.dialogs, ...observed.clobbered]) ran.add(id);
    }
    const classesThatRan = new Set([...ran].map((id) => HOSTILE_HTML[id]?.class));
    const classes = new Set<PayloadClass>(HOSTILE_HTML.map((p) => p.class));
    expect([...classes].filter((c) => !classesThatRan.has(c)), 'classes with no payload that ran unsanitised').to.deep.equal([]);
    // The very payloads of issue 9, which the regular-expression validator passed, do run in this browser.
    const issue9 = ['abrupt empty comment <!-->', 'abrupt empty comment <!--->', 'comment closed by --!>', ...['noscript', 'xmp', 'textarea', 'title', 'noembed'].map((tag) => `<${tag}> hiding an end tag in an attribute`)];
    expect(issue9.filter((name) => ![...ran].some((id) => HOSTILE_HTML[id]?.name === name)), 'issue 9 payloads that did not run').to.deep.equal([]);
    expect(ran.size, `payloads that ran unsanitised: ${names([...ran]).join('; ')}`).to.be.at.least(40);
  });

  for (const mode of MODES) {
    it(`sanitised payloads run nothing when rendered ${mode === 'document' ? 'as a document' : `through innerHTML on a ${mode === 'div' ? '<div>' : 'table row'}`}: no request, no flag, no dialog, no clobbering`, async () => {
      const observed = await render('clean', mode);
      // Every frame was exercised to the end: one that went elsewhere first, or whose harness failed, is an unknown
      // outcome, never a pass.
      expect({
        listenerHits: names(observed.listenerHits), flags: names(observed.flags), dialogs: names(observed.dialogs), clobbered: names(observed.clobbered),
        harnessErrors: observed.harnessErrors, unreported: observed.unreported,
      }).to.deep.equal({ listenerHits: [], flags: [], dialogs: [], clobbered: [], harnessErrors: [], unreported: [] });
      expect(hits, 'requests to the listener').to.deep.equal([]);
    });
  }

  it('a composition saved by anyone else, served through the view sanitiser, runs nothing in the page', async () => {
    const widgets = HOSTILE_HTML.map((payload, id) => ({ id: `w${id}`, type: id % 2 === 0 ? 'text-1' : 'mystery-9', content: payload.html(signal(listener.port, id)) }));
    const view = sanitizeCompositionForView({ version: '1.1', structure: widgets });
    expect(view.fields).to.have.length(HOSTILE_HTML.length);
    // An app that renders each widget's HTML into its own container.
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      dialog.dismiss().catch(() => undefined);
    });
    hits.length = 0;
    try {
      await page.goto(`http://127.0.0.1:${pages.port}/suite/clean/div`, { waitUntil: 'load' });
      await page.evaluate((served) => {
        document.body.replaceChildren();
        (window as unknown as { __xss: number[] }).__xss = [];
        for (const widget of (served as { structure: { content: string }[] }).structure) {
          const container = document.createElement('section');
          container.innerHTML = widget.content;
          document.body.append(container);
        }
        // Allowed http(s) and mailto links would navigate away: that is not script, so keep the page.
        document.addEventListener('click', (event) => {
          if (event.target instanceof HTMLAnchorElement && /^(?:https?|mailto):/.test(event.target.href)) event.preventDefault();
        }, true);
        for (const el of document.querySelectorAll('body *')) {
          el.dispatchEvent(new MouseEvent('mouseover', { bubbles: true }));
          if (el instanceof HTMLElement) el.click();
        }
      }, view.document);
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
      await sleep(1000);
      expect(await page.evaluate(() => (window as unknown as { __xss: number[] }).__xss)).to.deep.equal([]);
      expect(dialogs).to.deep.equal([]);
      expect(hits).to.deep.equal([]);
    } finally {
      await page.close();
    }
  });
});
