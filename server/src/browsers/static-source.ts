import { readFile } from 'node:fs/promises';
import { createLogger, type Logger } from '#common/logger.ts';
import { secretRedactor } from '#common/redaction.ts';
import { EndpointListeners, type BrowserEndpoint, type EndpointSource } from './endpoint-source.ts';

/** One configured browser gateway. */
export interface StaticEndpointConfig {
  id: string;
  /** `http://host:port` of the gateway. */
  url: string;
  /** Per-browser session cap (optional). */
  maxSessions?: number;
  /** Start draining (optional). */
  draining?: boolean;
}

/**
 * Options of {@link StaticEndpointSource}: the endpoints and exactly one of `token` or `tokenFile`. An endpoint
 * given as a bare URL string gets its `host:port` as id.
 */
export interface StaticSourceOptions {
  endpoints: Array<StaticEndpointConfig | string>;
  /** The bearer token itself. */
  token?: string;
  /** A file holding the bearer token (re-read every `tokenPollMs` so a rotated token applies). */
  tokenFile?: string;
  /** How often the token file is re-read (default 10 s; 0 = never). */
  tokenPollMs?: number;
  logger?: Logger;
}

/** Checks a static configuration and returns a message for every problem (empty when valid). Pure. */
export function validateStaticSource(options: StaticSourceOptions): string[] {
  const problems: string[] = [];
  if ((options.token === undefined) === (options.tokenFile === undefined)) {
    problems.push('give exactly one of token or tokenFile for the static browser endpoints');
  }
  const ids = new Set<string>();
  options.endpoints.map(toEndpointConfig).forEach((e, i) => {
    if (!e.id) problems.push(`endpoints[${i}].id is empty; give each browser a unique id`);
    if (ids.has(e.id)) problems.push(`endpoints[${i}].id "${e.id}" is used twice; ids must be unique`);
    ids.add(e.id);
    let url: URL | undefined;
    try {
      url = new URL(e.url);
    } catch {
      problems.push(`endpoints[${i}].url "${e.url}" is not a URL; write it as http://host:port of the gateway`);
    }
    if (url !== undefined && url.protocol !== 'http:' && url.protocol !== 'https:') {
      problems.push(`endpoints[${i}].url must be http(s)://host:port of the gateway, got ${url.protocol}`);
    }
    if (e.maxSessions !== undefined && (!Number.isInteger(e.maxSessions) || e.maxSessions < 1)) {
      problems.push(`endpoints[${i}].maxSessions must be a whole number ≥ 1, got ${e.maxSessions}`);
    }
  });
  return problems;
}

/** A fixed list of browser gateways sharing one bearer token (from configuration or a file). */
export class StaticEndpointSource implements EndpointSource {
  private readonly options: StaticSourceOptions;
  private readonly listeners = new EndpointListeners();
  private readonly logger: Logger;
  private token = '';
  private pollTimer: NodeJS.Timeout | undefined;

  /** Throws a TypeError listing every configuration problem. */
  constructor(options: StaticSourceOptions) {
    const problems = validateStaticSource(options);
    if (problems.length > 0) throw new TypeError(`Invalid static browser endpoints: ${problems.join('; ')}`);
    this.options = options;
    this.logger = options.logger ?? createLogger({ component: 'router' });
  }

  /** Reads the token (failing with a clear error when the file is missing or empty). */
  async start(): Promise<void> {
    this.token = await this.readToken();
    const poll = this.options.tokenPollMs ?? 10_000;
    if (this.options.tokenFile !== undefined && poll > 0 && this.pollTimer === undefined) {
      this.pollTimer = setInterval(() => void this.reloadToken(), poll);
      this.pollTimer.unref();
    }
  }

  /** The configured endpoints with the current token. */
  current(): BrowserEndpoint[] {
    return this.options.endpoints.map(toEndpointConfig).map((e) => ({
      id: e.id,
      url: e.url.replace(/\/+$/, ''),
      token: this.token,
      state: e.draining === true ? 'Draining' : 'Ready',
      ...(e.maxSessions !== undefined ? { maxSessions: e.maxSessions } : {}),
    }));
  }

  /** Notified when the token file's content changes. */
  onChange(listener: (endpoints: BrowserEndpoint[]) => void): () => void {
    return this.listeners.add(listener);
  }

  /** Stops re-reading the token file. */
  async stop(): Promise<void> {
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  private async readToken(): Promise<string> {
    if (this.options.token !== undefined) {
      secretRedactor.add(this.options.token);
      return this.options.token;
    }
    const file = this.options.tokenFile!;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new Error(`Could not read the browser token file ${file}: ${(error as Error).message}`, { cause: error });
    }
    const token = text.trim();
    if (token === '') throw new Error(`The browser token file ${file} is empty; write the gateway's bearer token into it`);
    secretRedactor.add(token);
    return token;
  }

  private async reloadToken(): Promise<void> {
    try {
      const token = await this.readToken();
      if (token === this.token) return;
      this.token = token;
      this.logger.info('Reloaded browser token', { file: this.options.tokenFile });
      this.listeners.notify(this.current(), (error) => this.logger.error('Failed endpoint listener', { error }));
    } catch (error) {
      this.logger.warn('Failed to reload browser token', { file: this.options.tokenFile, error: (error as Error).message });
    }
  }
}

/** A bare URL becomes `{ id: host:port, url }`; a full entry is kept. Pure. */
export function toEndpointConfig(entry: StaticEndpointConfig | string): StaticEndpointConfig {
  if (typeof entry !== 'string') return entry;
  let id = entry;
  try {
    id = new URL(entry).host;
  } catch {
    // validateStaticSource reports the bad URL.
  }
  return { id, url: entry };
}
