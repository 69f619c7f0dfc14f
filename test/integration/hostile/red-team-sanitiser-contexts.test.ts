import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { DEFAULT_CHROMIUM_PATH } from '#browser/launcher/chromium-args.ts';
import { sanitizeHtml } from '#server/composer/html/sanitize-html.ts';
import { HOSTILE_HTML as FIXTURE_PAYLOADS, type HostilePayload } from '#support/fixtures/hostile-html.ts';

/** More payloads: NUL bytes, control and Unicode characters, encodings of `javascript:` and of handler names. */
const ENCODING_PAYLOADS: readonly HostilePayload[] = [
  { class: 'entity', name: 'NUL inside a tag name', html: (js) => `<img\u0000 src=x onerror=${js}><scr\u0000ipt>${js}</scr\u0000ipt>` },
  { class: 'entity', name: 'NUL inside a handler name', html: (js) => `<img src=x o\u0000nerror=${js}><img src=x on\u0000error=${js}>` },
  { class: 'attribute', name: 'slashes for spaces', html: (js) => `<img/src/onerror=${js}><svg/onload=${js}>` },
  { class: 'url', name: 'javascript: split by newline, tab and control references', html: (js) => `<a href="java&#x0A;script:${js}">a</a><a href="java&#9;script:${js}">b</a><a href=" &#14;javascript:${js}">c</a><a href="&#x6A;avascript&colon;${js}">d</a>` },
  { class: 'attribute', name: 'handler name as a character reference', html: (js) => `<img src=x o&#110;error=${js}><p title="x" &#111;nclick=${js}>p</p>` },
  { class: 'entity', name: 'Unicode look-alikes of < and line separators', html: (js) => `\uff1cimg src=x onerror=${js}\uff1e\u2028<img src=x\u2028onerror=${js}>` },
  { class: 'context', name: 'unclosed attribute glued to the next field', html: (js) => `<p title="x>"><img src=x onerror=${js}>` },
  { class: 'foreign-content', name: 'select with elements inside (customizable select)', html: (js) => `<select><button><img src=x onerror=${js}></button><option><img src=x onerror=${js}></option></select>` },
];
const HOSTILE_HTML: readonly HostilePayload[] = [...FIXTURE_PAYLOADS, ...ENCODING_PAYLOADS];

/**
 * Red team: the sanitiser parses lesson HTML as `innerHTML` on a `<div>` (and the differential test adds a table
 * row). A real app may put a field into other elements: a quiz question into a `<legend>`, a choice into a
 * `<span>` or an `<option>`, a title into an `<h2>` or `<title>`, a cell into a `<td>`, a caption into an SVG
 * `<foreignObject>`, a preview into a `<template>`, a `<select>` (whose parsing Chromium changed for customizable
 * selects). Every payload, sanitised, is set as the innerHTML of each such element in real Chromium, every element
 * clicked and hovered: nothing may run. The unsanitised payloads are the control.
 */
const CONTEXTS = ['legend', 'span', 'h2', 'li', 'p', 'a', 'td', 'caption', 'option', 'select', 'pre', 'textarea', 'title', 'foreignObject', 'mtext', 'template', 'button', 'label', 'dialog', 'details'] as const;

/** Builds the context element and its needed ancestors, returns the element whose innerHTML is set. */
const BUILD_CONTEXT = `
function contextElement(name) {
  const host = document.createElement('section');
  document.body.append(host);
  if (name === 'td' || name === 'caption') { const table = document.createElement('table'); host.append(table); if (name === 'caption') { const c = document.createElement('caption'); table.append(c); return c; } const tr = table.insertRow(); return tr.insertCell(); }
  if (name === 'li') { const ul = document.createElement('ul'); host.append(ul); const li = document.createElement('li'); ul.append(li); return li; }
  if (name === 'option') { const s = document.createElement('select'); host.append(s); const o = document.createElement('option'); s.append(o); return o; }
  if (name === 'legend') { const f = document.createElement('fieldset'); host.append(f); const l = document.createElement('legend'); f.append(l); return l; }
  if (name === 'foreignObject') { const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg'); host.append(svg); const fo = document.createElementNS('http://www.w3.org/2000/svg', 'foreignObject'); fo.setAttribute('width', '300'); fo.setAttribute('height', '100'); svg.append(fo); return fo; }
  if (name === 'mtext') { const m = document.createElementNS('http://www.w3.org/1998/Math/MathML', 'math'); host.append(m); const t = document.createElementNS('http://www.w3.org/1998/Math/MathML', 'mtext'); m.append(t); return t; }
  if (name === 'title') { const t = document.createElement('title'); document.head.append(t); return t; }
  if (name === 'dialog') { const d = document.createElement('dialog'); d.open = true; host.append(d); return d; }
  if (name === 'details') { const d = document.createElement('details'); d.open = true; host.append(d); return d; }
  const el = document.createElement(name); host.append(el); return el;
}`;

describe('red team: sanitised lesson HTML in the other elements an app may render it into', function () {
  this.timeout(120_000);
  let browser: Browser;
  let server: Server;
  let origin: string;
  const hits: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      if ((req.url ?? '').startsWith('/hit/')) hits.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'access-control-allow-origin': '*' });
      res.end('<!doctype html><html><head><meta charset="utf-8"></head><body></body></html>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: process.env['CHROMIUM_PATH'] ?? DEFAULT_CHROMIUM_PATH, args: ['--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  });
  after(async () => {
    await browser?.close().catch(() => undefined);
    server?.closeAllConnections();
    server?.close();
  });

  /** Renders every payload in every context on one page; returns the payload ids whose script ran. */
  async function ran(variant: 'raw' | 'clean'): Promise<number[]> {
    hits.length = 0;
    const context = await browser.newContext();
    await context.route('**/*', (route) => (route.request().url().startsWith(origin) ? route.continue() : route.abort()));
    const page = await context.newPage();
    const dialogs: number[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(Number(dialog.message()));
      dialog.dismiss().catch(() => undefined);
    });
    try {
      await page.goto(`${origin}/`);
      const signal = (id: number) => `fetch(\`${origin}/hit/${id}\`),top.__xss.push(${id}),alert(${id})`;
      const items = CONTEXTS.flatMap((name) => HOSTILE_HTML.map((payload, id) => ({ name, id, html: variant === 'raw' ? payload.html(signal(id)) : sanitizeHtml(payload.html(signal(id))).html })));
      await page.addScriptTag({ content: `${BUILD_CONTEXT}\nwindow.__xss = []; window.__contextElement = contextElement;` });
      await page.evaluate((list) => {
        const make = (window as unknown as { __contextElement: (name: string) => Element }).__contextElement;
        for (const item of list) make(item.name).innerHTML = item.html;
        for (const el of document.querySelectorAll('body *, head title')) {
          try {
            el.dispatchEvent(new MouseEvent('mouseover', { bubbles: true }));
            if (el instanceof HTMLElement && !(el instanceof HTMLAnchorElement)) el.click();
          } catch {
            // A payload's element may throw on click; the next one is clicked anyway.
          }
        }
      }, items);
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const flags = await page.evaluate(() => (window as unknown as { __xss: number[] }).__xss);
      const fromHits = hits.map((h) => Number(/\/hit\/(\d+)/.exec(h)?.[1] ?? -1));
      return [...new Set([...flags, ...dialogs, ...fromHits])].toSorted((a, b) => a - b);
    } finally {
      await context.close();
    }
  }

  it('the control: unsanitised payloads run in these contexts', async () => {
    expect((await ran('raw')).length).to.be.at.least(20);
  });

  it('sanitised payloads run nothing in any of them', async () => {
    const names = (await ran('clean')).map((id) => `${HOSTILE_HTML[id]?.class}: ${HOSTILE_HTML[id]?.name}`);
    expect(names).to.deep.equal([]);
  });
});
