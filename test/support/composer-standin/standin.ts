import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { createApiApp, type RecordedApiRequest } from './api-app.ts';
import { newCompositionUid } from './composition-uid.ts';
import { createComposerApp, type AppRequestCounts } from './composer-app.ts';
import { CompositionStore, type StoredComposition } from './composition-store.ts';
import { applyFaultsPatch, noFaults, type StandinFaults, type StandinFaultsPatch } from './faults.ts';
import { RenderLog, type RenderRecord } from './render-log.ts';

export type { StandinFaults, StandinFaultsPatch, StandinRoute, StandinRender, StandinAppKind } from './faults.ts';
export type { StoredComposition } from './composition-store.ts';
export type { RenderRecord } from './render-log.ts';
export type { AppRequestCounts } from './composer-app.ts';
export type { RecordedApiRequest } from './api-app.ts';

/** How to start the Composer stand-in. At least one of `jwtSecret` and `tokens` should be given. */
export interface ComposerStandinOptions {
  /** HS256 secret: JWTs signed with it are accepted as bearer tokens. */
  jwtSecret?: string;
  /** Tokens accepted verbatim. */
  tokens?: string[];
  /** Loopback host to listen on (default 127.0.0.1). */
  host?: string;
  /** Port of the Composer app origin (default 0 = any free port). */
  appPort?: number;
  /** Port of the API origin (default 0 = any free port). */
  apiPort?: number;
  /** When set, uploads with another Project-Key are refused with 403. */
  projectKey?: string;
  /** When set, uploads to other connector uids are refused with 404. */
  connectorUids?: string[];
  /** Largest upload accepted, in bytes (default 10 MiB). */
  maxUploadBytes?: number;
  /** Initial fault switches. */
  faults?: StandinFaultsPatch;
}

/** A running stand-in: the two origins, its switches, and what it has stored. */
export interface ComposerStandin {
  /** Composer app origin, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  appUrl: string;
  /** DigitalPages API origin, e.g. `http://127.0.0.1:41235` (no trailing slash). */
  apiUrl: string;
  /** Changes the fault switches (merged into the current ones); returns the result. */
  setFaults(patch: StandinFaultsPatch): StandinFaults;
  /** Clears every fault switch. */
  resetFaults(): void;
  /** Every composition stored so far, oldest first. */
  compositions(): StoredComposition[];
  /** Every render the app reported finishing (when the lesson was in the DOM and painted), oldest first. */
  renders(): RenderRecord[];
  /** The first render of `uid` reported at or after `since` (epoch ms), waiting up to `timeoutMs` for it. */
  waitForRender(uid: string, since: number, timeoutMs?: number): Promise<RenderRecord | undefined>;
  /** How many times the app origin served its page and its script. */
  appRequests(): AppRequestCounts;
  /**
   * Stores `content` (any text, e.g. a hostile composition's JSON) as if someone else had uploaded it in the
   * project, bypassing every check of the upload route; returns its uid.
   */
  storeRaw(content: string): string;
  /**
   * Makes the app page run `source` after its own script (undefined: stop), as an XSS hole in the real app would:
   * script in the Composer's origin that no sanitising of the composition can stop.
   */
  setAppScript(source: string | undefined): void;
  /** The last 10 000 requests the API received (admin routes excluded), oldest first, with their credentials. */
  apiRequests(): RecordedApiRequest[];
  /** Stops both servers and drops open connections. */
  stop(): Promise<void>;
}

async function listen(app: Express, host: string, port: number): Promise<{ server: Server; url: string }> {
  const server = app.listen(port, host);
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  return { server, url: `http://${host}:${address.port}` };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Starts the Composer app and the API stand-ins on two loopback ports of this process. */
export async function startComposerStandin(options: ComposerStandinOptions = {}): Promise<ComposerStandin> {
  const host = options.host ?? '127.0.0.1';
  const faults = { current: applyFaultsPatch(noFaults(), options.faults ?? {}) };
  const store = new CompositionStore();
  const renders = new RenderLog();
  const counts: AppRequestCounts = { assets: 0, pages: 0 };
  const recorded: RecordedApiRequest[] = [];
  let appScript: string | undefined;
  const urls = { app: '', api: '' };
  const api = await listen(
    createApiApp({
      record: (request) => {
        recorded.push(request);
        if (recorded.length > 10_000) recorded.shift();
      },
      tokens: { jwtSecret: options.jwtSecret, tokens: options.tokens },
      store,
      renders,
      faults,
      appOrigin: () => urls.app,
      projectKey: options.projectKey,
      connectorUids: options.connectorUids,
      maxUploadBytes: options.maxUploadBytes ?? 10 * 1024 * 1024,
    }),
    host,
    options.apiPort ?? 0,
  );
  urls.api = api.url;
  let app: { server: Server; url: string };
  try {
    app = await listen(createComposerApp({ apiUrl: () => urls.api, faults, counts, extraScript: () => appScript }), host, options.appPort ?? 0);
  } catch (error) {
    await close(api.server);
    throw error;
  }
  urls.app = app.url;
  return {
    appUrl: app.url,
    apiUrl: api.url,
    setFaults: (patch) => {
      faults.current = applyFaultsPatch(faults.current, patch);
      return faults.current;
    },
    resetFaults: () => {
      faults.current = noFaults();
    },
    compositions: () => store.list(),
    renders: () => renders.list(),
    waitForRender: (uid, since, timeoutMs = 10_000) => renders.waitFor(uid, since, timeoutMs),
    appRequests: () => ({ ...counts }),
    storeRaw: (content) => {
      const uid = newCompositionUid();
      store.put({ uid, connectorUid: 'someone-else', projectKey: options.projectKey ?? 'someone-else', apiEnv: 'prd', fileName: 'raw.rdpcomposer', mimeType: 'digitalpages/composer', content, createdAt: new Date().toISOString() });
      return uid;
    },
    apiRequests: () => [...recorded],
    setAppScript: (source) => {
      appScript = source;
    },
    stop: async () => {
      await Promise.all([close(app.server), close(api.server)]);
    },
  };
}
