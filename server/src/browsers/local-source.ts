import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalBrowser, type LocalBrowser, type LocalBrowserOptions } from '#browser/local-browser.ts';
import { createLogger, type Logger } from '#common/logger.ts';
import { secretRedactor } from '#common/redaction.ts';
import { EndpointListeners, type BrowserEndpoint, type EndpointSource } from './endpoint-source.ts';

/** Options of {@link LocalEndpointSource}. */
export interface LocalSourceOptions {
  /** How many browsers to run (≥ 1). */
  browsers: number;
  /** The only origins the browsers may reach (the Composer's and its API's); their gateways' egress proxies enforce it. */
  allowedOrigins: readonly string[];
  /** Per-browser session cap, announced with each endpoint and enforced by each gateway (default 4). */
  maxSessions?: number;
  /** Chromium binary (default as in the launcher). */
  executablePath?: string;
  /** Extra Chromium flags. */
  extraArgs?: string[];
  /** Restart backoff after a browser died: first delay (default 500 ms) and ceiling (default 30 s). */
  restartInitialMs?: number;
  restartMaxMs?: number;
  logger?: Logger;
  /** How a browser is started (default startLocalBrowser); for tests that need to observe launches. */
  launch?: (options: LocalBrowserOptions) => Promise<LocalBrowser>;
}

const liveDirs = new Set<string>();
let exitHookInstalled = false;

/** Last resort: a process that exits without stopping its pool still removes the token files it wrote. */
function removeOnExit(dir: string): void {
  liveDirs.add(dir);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
  });
}

interface Slot {
  id: string;
  browser: LocalBrowser | undefined;
  backoffMs: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Runs N chromium-headless-shell processes on this machine, each the child of its own gateway (DevTools on a pipe,
 * no DevTools port; egress only to `allowedOrigins` through the gateway's proxy) on a loopback port, the same path
 * as a browser pod, with one random token in a private file. A browser whose process dies is removed
 * from the list at once and restarted with backoff under the same id; listeners hear both changes. `stop()`
 * stops every browser and removes the token directory.
 */
export class LocalEndpointSource implements EndpointSource {
  private readonly options: LocalSourceOptions;
  private readonly logger: Logger;
  private readonly listeners = new EndpointListeners();
  private readonly slots: Slot[] = [];
  private dir: string | undefined;
  private tokenFile = '';
  private token = '';
  private stopping = false;
  private startPromise: Promise<void> | undefined;

  constructor(options: LocalSourceOptions) {
    if (!Number.isInteger(options.browsers) || options.browsers < 1) {
      throw new RangeError(`The local browser pool needs a whole number of browsers ≥ 1, got ${options.browsers}`);
    }
    this.options = options;
    this.logger = options.logger ?? createLogger({ component: 'router' });
  }

  /** The token file the gateways read (mode 0600); empty before start. */
  get tokenPath(): string {
    return this.tokenFile;
  }

  /** The browsers running now (for tests and diagnostics). */
  browsers(): LocalBrowser[] {
    return this.slots.flatMap((s) => (s.browser === undefined ? [] : [s.browser]));
  }

  /** The browser running now under `id` (`local-0`, ...), if any. */
  browserFor(id: string): LocalBrowser | undefined {
    return this.slots.find((s) => s.id === id)?.browser;
  }

  /** Writes the token file and starts every browser; fails (stopping what started) if any cannot start. */
  start(): Promise<void> {
    this.startPromise ??= this.startAll();
    return this.startPromise;
  }

  /** One endpoint per running browser, ids `local-0`…`local-N-1`. */
  current(): BrowserEndpoint[] {
    return this.slots.flatMap((slot) =>
      slot.browser === undefined
        ? []
        : [{
            id: slot.id,
            url: slot.browser.endpoint,
            token: this.token,
            state: 'Ready' as const,
            ...(this.options.maxSessions !== undefined ? { maxSessions: this.options.maxSessions } : {}),
          }],
    );
  }

  /** Notified when a browser died or was restarted. */
  onChange(listener: (endpoints: BrowserEndpoint[]) => void): () => void {
    return this.listeners.add(listener);
  }

  /** Stops every browser (and pending restarts) and removes the token directory. Idempotent. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.startPromise?.catch(() => undefined);
    await Promise.all(
      this.slots.map(async (slot) => {
        clearTimeout(slot.timer);
        const browser = slot.browser;
        slot.browser = undefined;
        await browser?.stop();
      }),
    );
    if (this.dir !== undefined) {
      await rm(this.dir, { recursive: true, force: true });
      liveDirs.delete(this.dir);
    }
    this.dir = undefined;
  }

  private async startAll(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'composer-mcp-local-pool-'));
    removeOnExit(this.dir);
    this.tokenFile = join(this.dir, 'token');
    this.token = randomBytes(32).toString('base64url');
    secretRedactor.add(this.token);
    await writeFile(this.tokenFile, `${this.token}\n`, { mode: 0o600 });
    for (let i = 0; i < this.options.browsers; i++) {
      this.slots.push({ id: `local-${i}`, browser: undefined, backoffMs: this.options.restartInitialMs ?? 500, timer: undefined });
    }
    try {
      await Promise.all(this.slots.map((slot) => this.launch(slot)));
    } catch (error) {
      await this.stop();
      throw error;
    }
    this.logger.info('Started local browser pool', { browsers: this.slots.length });
  }

  private async launch(slot: Slot): Promise<void> {
    const launch = this.options.launch ?? startLocalBrowser;
    const browser = await launch({
      tokenFile: this.tokenFile,
      allowedOrigins: this.options.allowedOrigins,
      maxContexts: this.options.maxSessions ?? 4,
      rootDir: this.dir,
      executablePath: this.options.executablePath,
      extraArgs: this.options.extraArgs,
      logger: this.logger,
    });
    if (this.stopping) {
      await browser.stop();
      return;
    }
    slot.browser = browser;
    this.logger.info('Started local browser', { browserId: slot.id, url: browser.endpoint, pid: browser.chromiumPid });
    void browser.ended.then((reason) => this.onExit(slot, browser, reason));
  }

  private onExit(slot: Slot, browser: LocalBrowser, reason: string): void {
    if (this.stopping || slot.browser !== browser) return;
    slot.browser = undefined;
    this.logger.warn('Lost local browser', { browserId: slot.id, pid: browser.chromiumPid, reason, restartInMs: slot.backoffMs });
    this.announce();
    void browser.stop();
    this.scheduleRestart(slot);
  }

  private scheduleRestart(slot: Slot): void {
    if (this.stopping) return;
    const delay = slot.backoffMs;
    slot.backoffMs = Math.min(this.options.restartMaxMs ?? 30_000, slot.backoffMs * 2);
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      void this.restart(slot);
    }, delay);
    slot.timer.unref();
  }

  private async restart(slot: Slot): Promise<void> {
    try {
      await this.launch(slot);
    } catch (error) {
      this.logger.error('Failed to restart local browser', { browserId: slot.id, error: (error as Error).message });
      this.scheduleRestart(slot);
      return;
    }
    const browser = slot.browser;
    if (this.stopping || browser === undefined) return;
    this.logger.info('Restarted local browser', { browserId: slot.id, url: browser.endpoint });
    this.announce();
    // A browser that stays up for a minute earns a fresh backoff.
    setTimeout(() => {
      if (slot.browser === browser) slot.backoffMs = this.options.restartInitialMs ?? 500;
    }, 60_000).unref();
  }

  private announce(): void {
    this.listeners.notify(this.current(), (error) => this.logger.error('Failed endpoint listener', { error }));
  }
}
