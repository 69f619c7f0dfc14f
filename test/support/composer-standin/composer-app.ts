import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import express, { type Express } from 'express';
import type { StandinAppKind, StandinFaults, StandinRender } from './faults.ts';

const APP_SCRIPTS: Record<StandinAppKind, string> = {
  standin: readFileSync(new URL('./public/composer-app.js', import.meta.url), 'utf8'),
  foreign: readFileSync(new URL('./public/foreign-app.js', import.meta.url), 'utf8'),
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One build of an app script: its bytes and the content-hashed path it is served under. */
export interface AppAsset {
  path: string;
  body: string;
}

/**
 * The app's script as a build tool would emit it: the source, padded with a comment to `bundleBytes` (a real bundle
 * is large), under `/static/<app>-app.<hash>.js` — immutable, so a browser (or a cache) may keep it forever.
 */
export function appAsset(app: StandinAppKind, bundleBytes: number): AppAsset {
  const source = APP_SCRIPTS[app];
  const padding = bundleBytes > source.length ? `\n/*${'x'.repeat(bundleBytes - source.length - 5)}*/` : '';
  const body = `${source}${padding}`;
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { path: `/static/${app}-app.${hash}.js`, body };
}

/**
 * The HTML shell of the app: a root element, the API base URL and render switches, and the app script — plus
 * `extraScript` when a test set one (a script the app itself runs, as an XSS hole in the real app would).
 */
export function appHtml(apiUrl: string, render: StandinRender, scriptPath: string, extraScript?: string): string {
  const config = JSON.stringify({ apiUrl, render }).replace(/</g, '\\u003c');
  const extra = extraScript ? `\n<script>${extraScript.replace(/<\/script/gi, '<\\/script')}</script>` : '';
  return `<!doctype html>
<html lang="pt-BR">
<head>
<meta charset="utf-8">
<title>Composer</title>
<style>
body { margin: 0; font-family: Lato, sans-serif; background: #f4f4f4; }
.toolbar { display: flex; gap: 8px; padding: 8px; background: #00643e; }
.toolbar button { color: #fff; background: transparent; border: 1px solid #fff; }
main { max-width: 960px; margin: 0 auto; background: #fff; padding: 16px; }
.widget { margin: 8px 0; border: 1px solid #ddd; }
.widget-placeholder { border: 2px dashed #aa2c23; }
.loading { max-width: 960px; margin: 0 auto; padding: 16px; color: #777; }
.loading .bar { height: 24px; margin: 12px 0; background: #e2e2e2; border-radius: 4px; }
</style>
</head>
<body data-app-state="loading">
<div id="root"></div>
<script>window.COMPOSER_STANDIN_CONFIG = ${config};</script>
<script src="${scriptPath}"></script>${extra}
</body>
</html>`;
}

/** What the app origin served, for tests that count fetches of the app's assets. */
export interface AppRequestCounts {
  /** Requests of the app's script (any build). */
  assets: number;
  /** Requests of the HTML page. */
  pages: number;
}

/**
 * The Composer app stand-in: the page at `/` and its content-hashed script (the `app` latency switch slows the
 * page load; `render.app` chooses which app's script the page loads; `extraScript` adds a test's own script).
 */
export function createComposerApp(options: { apiUrl: () => string; faults: { current: StandinFaults }; counts: AppRequestCounts; extraScript?: () => string | undefined }): Express {
  const app = express();
  app.disable('x-powered-by');
  const builds = new Map<string, AppAsset>();
  const build = (render: StandinRender): AppAsset => {
    const key = `${render.app}:${render.bundleBytes}`;
    let asset = builds.get(key);
    if (!asset) {
      asset = appAsset(render.app, render.bundleBytes);
      builds.set(key, asset);
    }
    return asset;
  };
  app.get('/', async (_req, res) => {
    options.counts.pages += 1;
    const delay = options.faults.current.latencyMs.app ?? 0;
    if (delay > 0) await sleep(delay);
    const render = options.faults.current.render;
    res.setHeader('Cache-Control', 'no-cache');
    res.type('html').send(appHtml(options.apiUrl(), render, build(render).path, options.extraScript?.()));
  });
  app.get('/static/:file', (req, res) => {
    const asset = [...builds.values()].find((a) => a.path === `/static/${req.params['file']}`);
    if (!asset) {
      res.status(404).type('text').send('Not found');
      return;
    }
    options.counts.assets += 1;
    // A far-away Composer: its bundle takes this long to arrive.
    setTimeout(() => {
      res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
      res.type('application/javascript').send(asset.body);
    }, options.faults.current.latencyMs.asset ?? 0);
  });
  app.get('/favicon.ico', (_req, res) => {
    res.status(204).end();
  });
  app.use((_req, res) => {
    res.status(404).type('text').send('Not found');
  });
  return app;
}
