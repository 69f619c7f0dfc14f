import { readFileSync } from 'node:fs';
import express, { type Express } from 'express';
import type { StandinFaults } from './faults.ts';

const APP_SCRIPT = readFileSync(new URL('./public/composer-app.js', import.meta.url), 'utf8');

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The HTML shell of the app: a root element, the API base URL, and the app script — plus `extraScript` when a test
 * set one (a script the app itself runs, as an XSS hole in the real app would).
 */
export function appHtml(apiUrl: string, extraScript?: string): string {
  const config = JSON.stringify({ apiUrl }).replace(/</g, '\\u003c');
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
</style>
</head>
<body data-app-state="loading">
<div id="root"></div>
<script>window.COMPOSER_STANDIN_CONFIG = ${config};</script>
<script src="/static/composer-app.js"></script>${extra}
</body>
</html>`;
}

/** The Composer app stand-in: the page at `/` and its script (the `app` latency switch slows the page load). */
export function createComposerApp(options: { apiUrl: () => string; faults: { current: StandinFaults }; extraScript?: () => string | undefined }): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/', async (_req, res) => {
    const delay = options.faults.current.latencyMs.app ?? 0;
    if (delay > 0) await sleep(delay);
    res.type('html').send(appHtml(options.apiUrl(), options.extraScript?.()));
  });
  app.get('/static/composer-app.js', (_req, res) => {
    res.type('application/javascript').send(APP_SCRIPT);
  });
  app.get('/favicon.ico', (_req, res) => {
    res.status(204).end();
  });
  app.use((_req, res) => {
    res.status(404).type('text').send('Not found');
  });
  return app;
}
