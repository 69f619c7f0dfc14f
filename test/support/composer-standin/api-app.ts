import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { applyFaultsPatch, takeFailure, takeHang, takeStoreThenHang, type StandinFaults, type StandinFaultsPatch, type StandinRoute } from './faults.ts';
import { parseRenderReport, type RenderLog } from './render-log.ts';
import { bearerToken, checkToken, type TokenPolicy } from './token-check.ts';
import { newCompositionUid } from './composition-uid.ts';
import type { CompositionStore } from './composition-store.ts';

/** One request the API stand-in received, with the credentials it carried (what tests check a page never had). */
export interface RecordedApiRequest {
  method: string;
  /** Path without the query. */
  path: string;
  /** The query string as sent (without `?`). */
  query: string;
  /** Bearer token of the Authorization header, if any. */
  bearer: string | undefined;
  /** `access_token` query parameter, if any. */
  queryToken: string | undefined;
  /** Project-Key header, or `project_key` query parameter, if any. */
  projectKey: string | undefined;
  /** Origin header (set by browsers). */
  origin: string | undefined;
  /** When it arrived (epoch ms). */
  at: number;
}

/** What the API app needs from the stand-in. */
export interface ApiAppOptions {
  /** Called with every request the API receives, before anything else (admin routes excluded). */
  record?: (request: RecordedApiRequest) => void;
  tokens: TokenPolicy;
  store: CompositionStore;
  /** Where the app's reports of finished renders go. */
  renders: RenderLog;
  /** Live fault switches (mutated by the admin route and `setFaults`). */
  faults: { current: StandinFaults };
  /** Origin of the Composer app, allowed by CORS. */
  appOrigin: () => string;
  /** When set, uploads with another Project-Key are refused with 403. */
  projectKey?: string | undefined;
  /** When set, uploads to other connectors are refused with 404. */
  connectorUids?: readonly string[] | undefined;
  /** Largest accepted upload in bytes. */
  maxUploadBytes: number;
}

type Handler = (req: Request, res: Response, next: NextFunction) => Promise<void>;

/** Wraps an async handler so a rejection reaches the error middleware. */
const handle = (fn: Handler) => (req: Request, res: Response, next: NextFunction): void => {
  const run = async (): Promise<void> => {
    try {
      await fn(req, res, next);
    } catch (error) {
      next(error);
    }
  };
  void run();
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function problem(res: Response, status: number, message: string): void {
  res.status(status).json({ error: message, status });
}

/** The DigitalPages API stand-in: auth, storage upload and read, CORS for the app, and the test admin routes. */
export function createApiApp(options: ApiAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.use((req, _res, next) => {
    if (options.record && !req.path.startsWith('/__standin/')) {
      const query = req.query as Record<string, unknown>;
      const queryText = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '';
      options.record({
        method: req.method,
        path: req.path,
        query: queryText,
        bearer: bearerToken(req.headers.authorization),
        queryToken: typeof query['access_token'] === 'string' ? query['access_token'] : undefined,
        projectKey: req.header('project-key') ?? (typeof query['project_key'] === 'string' ? query['project_key'] : undefined),
        origin: req.header('origin'),
        at: Date.now(),
      });
    }
    next();
  });

  app.use((req, res, next) => {
    const origin = req.headers.origin;
    if (origin && origin === options.appOrigin()) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Project-Key, Api-Env, Content-Type');
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
    }
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  });

  /**
   * Applies the route's latency, injected hangs (the request is never answered) and injected failures before the
   * handler runs.
   */
  const faulty = (route: StandinRoute) => handle(async (_req: Request, res: Response, next: NextFunction) => {
    const delay = options.faults.current.latencyMs[route] ?? 0;
    if (delay > 0) await sleep(delay);
    if (takeHang(options.faults.current, route)) return;
    const status = takeFailure(options.faults.current, route);
    if (status !== undefined) {
      problem(res, status, 'Injected failure');
      return;
    }
    next();
  });

  // Test-only: the app reports when it has finished rendering a composition (a no-cors text beacon).
  app.post('/__standin/rendered', express.text({ type: () => true, limit: 16 * 1024 }), (req, res) => {
    const record = parseRenderReport(typeof req.body === 'string' ? req.body : '', Date.now());
    if (!record) return problem(res, 400, 'Expected a render report');
    options.renders.add(record);
    res.status(204).end();
  });

  // The `api` switches apply to every platform request (not to the test admin routes).
  app.use((req, res, next) => {
    if (req.path.startsWith('/__standin/')) {
      next();
      return;
    }
    faulty('api')(req, res, next);
  });

  const authorized = async (token: string | undefined) => {
    if (options.faults.current.rejectAllTokens) return undefined;
    return checkToken(options.tokens, token);
  };

  app.get('/auth/v1.0/user/me', faulty('me'), handle(async (req, res) => {
    const user = await authorized(bearerToken(req.headers.authorization));
    if (!user) return problem(res, 401, 'Invalid or missing bearer token');
    res.json({ uid: user.uid, name: user.name });
  }));

  app.post(
    '/storage/v1.0/upload/connector/uid/:connectorUid',
    // The body is received first, then the latency: a slow platform is slow to process, and still stores an upload
    // whose client stopped waiting (as a server does that does not watch its client's connection).
    express.raw({ type: () => true, limit: options.maxUploadBytes }),
    faulty('upload'),
    handle(async (req, res) => {
      const user = await authorized(bearerToken(req.headers.authorization));
      if (!user) return problem(res, 401, 'Invalid or missing bearer token');
      const projectKey = req.header('project-key');
      const apiEnv = req.header('api-env');
      if (!projectKey) return problem(res, 400, 'Missing Project-Key header');
      if (!apiEnv) return problem(res, 400, 'Missing Api-Env header');
      if (options.projectKey !== undefined && projectKey !== options.projectKey) return problem(res, 403, 'Project-Key not allowed');
      const connectorUid = String(req.params['connectorUid']);
      if (options.connectorUids !== undefined && !options.connectorUids.includes(connectorUid)) return problem(res, 404, 'Connector not found');
      const contentType = req.header('content-type') ?? '';
      if (!/^multipart\/form-data;/i.test(contentType)) return problem(res, 415, 'Expected multipart/form-data');
      let form: FormData;
      try {
        form = await new globalThis.Request('http://standin/', { method: 'POST', headers: { 'content-type': contentType }, body: Buffer.isBuffer(req.body) ? new Uint8Array(req.body) : new Uint8Array() }).formData();
      } catch {
        return problem(res, 400, 'Malformed multipart body');
      }
      const files = [...form.values()].filter((v): v is File => typeof v !== 'string');
      const file = form.get('file');
      if (files.length !== 1 || file === null || typeof file === 'string') return problem(res, 400, 'Expected exactly one file part named "file"');
      if (!file.name.endsWith('.rdpcomposer')) return problem(res, 400, 'File name must end with .rdpcomposer');
      const content = await file.text();
      try {
        JSON.parse(content);
      } catch {
        return problem(res, 400, 'File is not JSON');
      }
      const uid = newCompositionUid();
      options.store.put({ uid, connectorUid, projectKey, apiEnv, fileName: file.name, mimeType: file.type, content, createdAt: new Date().toISOString() });
      // Stored, and the answer never comes: the client sees a timeout for an upload that happened.
      if (takeStoreThenHang(options.faults.current)) return;
      res.status(200).json({ uid });
    }),
  );

  app.get('/storage/v1.0/content', faulty('read'), handle(async (req, res) => {
    const query = req.query as Record<string, unknown>;
    const queryToken = typeof query['access_token'] === 'string' ? query['access_token'] : undefined;
    const user = await authorized(bearerToken(req.headers.authorization) ?? queryToken);
    if (!user) return problem(res, 401, 'Invalid or missing bearer token');
    const uid = typeof query['uid'] === 'string' ? query['uid'] : '';
    if (!uid) return problem(res, 400, 'Missing uid query parameter');
    const stored = options.store.get(uid);
    if (!stored) return problem(res, 404, 'Content not found');
    res.type('application/json').send(stored.content);
  }));

  // Test-only admin routes (not part of the platform): fault switches and what was stored.
  app.get('/__standin/config', (_req, res) => {
    res.json(options.faults.current);
  });
  app.post('/__standin/config', express.json(), (req, res) => {
    try {
      options.faults.current = applyFaultsPatch(options.faults.current, (req.body ?? {}) as StandinFaultsPatch);
      res.json(options.faults.current);
    } catch (error) {
      problem(res, 400, (error as Error).message);
    }
  });
  app.get('/__standin/renders', (_req, res) => {
    const renders = options.renders.list();
    res.json({ count: renders.length, renders });
  });
  app.get('/__standin/compositions', (_req, res) => {
    const compositions = options.store.list().map(({ content, ...rest }) => ({ ...rest, size: content.length }));
    res.json({ count: compositions.length, compositions });
  });

  app.use((_req: Request, res: Response) => problem(res, 404, 'Not found'));
  app.use((error: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: NextFunction) => {
    problem(res, error.status && error.status >= 400 && error.status < 600 ? error.status : 500, error.type === 'entity.too.large' ? 'Upload too large' : 'Request failed');
  });
  return app;
}
