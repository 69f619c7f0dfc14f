import type { Logger } from '#common/logger.ts';
import { FAST_PATH_MIN_CHARS, peekRouting, rewriteFrame } from './cdp-frame.ts';
import { checkCommand } from './method-policy.ts';
import type { PipeTransport } from './pipe-transport.ts';

/** Where a client's messages go (a WebSocket in the gateway, an array in tests). */
export interface ClientSink {
  send(text: string): void;
  /** Bytes queued for the client and not yet written. */
  bufferedAmount(): number;
  /** Stops reading the client's messages (backpressure towards the client). */
  pause(): void;
  resume(): void;
  /** Ends the connection (a WebSocket close code and reason). */
  close(code: number, reason: string): void;
}

/** A context's use as the client declared it: a lease's, or one made ahead of demand. */
export type ContextState = 'leased' | 'warm';

/** Load of the browser as the gateway counts it; `Gateway.loadChanged` events and `/status` carry it. */
export interface LoadReport {
  /** Browser contexts created by clients and not yet disposed (the capped quantity). */
  contexts: number;
  /** Contexts whose client marked them warm (made ahead of demand, idle). */
  warm: number;
  /** Contexts in use: every context not marked warm. */
  leased: number;
  /** Page targets open now (in any context). */
  pages: number;
  /** The cap on contexts (`maxSessionsPerBrowser`). */
  maxContexts: number;
  /** Contexts created since the gateway started. */
  leasesServed: number;
}

/** A target as discovered on the pipe. */
export interface TargetSummary {
  targetId: string;
  type: string;
  url: string;
  browserContextId: string | undefined;
}

/** Hooks for counting what the multiplexer did (metrics). */
export interface MultiplexerHooks {
  /** A client's command was refused: `kind` is capacity, policy, session, malformed or ownership. */
  refused?(kind: RefusalKind, method: string): void;
  /** A client was disconnected by the gateway (not by itself). */
  dropped?(reason: 'slow-client' | 'browser-gone'): void;
  /** A message from Chromium was too large to route. */
  oversized?(): void;
}

/** Why a command was refused. */
export type RefusalKind = 'capacity' | 'policy' | 'session' | 'malformed' | 'ownership';

/** How a {@link CdpMultiplexer} is set up. */
export interface CdpMultiplexerOptions {
  transport: PipeTransport;
  /** Most browser contexts at once, over all clients (`maxSessionsPerBrowser`). */
  maxContexts: number;
  /** A client whose unread answers pass this is disconnected (default 256 MiB). */
  maxClientBufferBytes?: number;
  /** Bound on the gateway's own commands (default 10 s). */
  callTimeoutMs?: number;
  logger: Logger;
  hooks?: MultiplexerHooks;
}

/** Error code and the stable marker of a capacity refusal (routers match the marker in the message). */
export const CAPACITY_ERROR_CODE = -32050;
export const CAPACITY_MARKER = 'GATEWAY_AT_CAPACITY';

/** The CDP error answered to a client. */
interface CdpError {
  code: number;
  message: string;
}

interface ClientMessage {
  id: number;
  method: string;
  params?: Record<string, unknown>;
  sessionId?: string;
}

interface Pending {
  client: Client | undefined;
  clientId: number;
  method: string;
  params: Record<string, unknown> | undefined;
  /** The session the command ran in, when the client's root session (stripped from the answer). */
  rootSession: string | undefined;
  /** A createBrowserContext that holds one slot of the cap until answered. */
  holdsSlot: boolean;
  /** For a createBrowserContext: the state the context starts in (the client's choice when it sent the command). */
  newContextState?: ContextState;
}

interface Internal {
  resolve(result: Record<string, unknown>): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

interface SessionInfo {
  client: Client;
  /** Browser-target sessions (the root and any the client attached) vs. sessions of one target. */
  kind: 'browser' | 'target';
  targetId: string | undefined;
  parent: string | undefined;
}

interface ContextInfo {
  client: Client;
  state: ContextState;
}

type Json = Record<string, unknown>;

function isPlainObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates one client message; returns it, or the error to answer (with the id when one could be read). */
export function parseClientMessage(text: string): { message: ClientMessage } | { error: CdpError; id: number | undefined } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: { code: -32700, message: 'Message is not valid JSON' }, id: undefined };
  }
  if (!isPlainObject(value)) return { error: { code: -32600, message: 'Message must be a JSON object' }, id: undefined };
  const { id, method, params, sessionId } = value;
  const validId = typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : undefined;
  if (validId === undefined) return { error: { code: -32600, message: 'Message must have an "id" that is a whole number ≥ 0' }, id: undefined };
  if (typeof method !== 'string' || method.length === 0 || method.length > 256) {
    return { error: { code: -32600, message: 'Message must have a "method" string of 1..256 characters' }, id: validId };
  }
  if (params !== undefined && !isPlainObject(params)) return { error: { code: -32602, message: '"params" must be an object' }, id: validId };
  if (sessionId !== undefined && (typeof sessionId !== 'string' || sessionId.length === 0 || sessionId.length > 128)) {
    return { error: { code: -32600, message: '"sessionId" must be a string of 1..128 characters' }, id: validId };
  }
  return { message: { id: validId, method, ...(params !== undefined ? { params } : {}), ...(sessionId !== undefined ? { sessionId } : {}) } };
}

/** One connected client: its own browser session on the shared pipe. */
class Client {
  readonly id: number;
  readonly sink: ClientSink;
  root: string | undefined;
  closed = false;
  /** Messages received before the root session existed. */
  readonly early: string[] = [];
  /** The state the contexts this client creates start in (`Gateway.setNewContextState`); leased unless it says so. */
  newContextState: ContextState = 'leased';

  constructor(id: number, sink: ClientSink) {
    this.id = id;
    this.sink = sink;
  }
}

/**
 * Shares one Chromium DevTools pipe between many clients. Each client gets its own browser session
 * (`Target.attachToBrowserTarget`); the multiplexer gives every client command a pipe-wide id, puts the client's
 * root session on its browser-level commands and takes it off the answers and events, routes events by session
 * (following `Target.attachedToTarget` / `detachedFromTarget`), and refuses commands that would hurt the browser or
 * other clients, sessions the client does not own, and contexts beyond the cap. When a client goes, every browser
 * context it created is disposed and its sessions are detached. Commands of the `Gateway` domain are answered here.
 */
export class CdpMultiplexer {
  private readonly transport: PipeTransport;
  private readonly logger: Logger;
  private readonly hooks: MultiplexerHooks;
  private readonly maxContexts: number;
  private readonly maxClientBufferBytes: number;
  private readonly callTimeoutMs: number;
  private nextId = 1;
  private nextClientId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly internal = new Map<number, Internal>();
  private readonly sessions = new Map<string, SessionInfo>();
  private readonly contexts = new Map<string, ContextInfo>();
  private readonly targets = new Map<string, TargetSummary>();
  private readonly clients = new Set<Client>();
  private readonly subscribers = new Map<string, Client>();
  private readonly disposing = new Set<string>();
  /** Auto-attached sessions the gateway detached itself (their detach event is not forwarded). */
  private readonly released = new Set<string>();
  private creating = 0;
  private served = 0;
  private paused = false;
  private loadNotifyScheduled = false;
  private closedReason: string | undefined;
  private readonly closeListeners = new Set<(reason: string) => void>();

  constructor(options: CdpMultiplexerOptions) {
    if (!Number.isInteger(options.maxContexts) || options.maxContexts < 1) throw new RangeError(`maxContexts must be a whole number ≥ 1, got ${options.maxContexts}`);
    this.transport = options.transport;
    this.logger = options.logger;
    this.hooks = options.hooks ?? {};
    this.maxContexts = options.maxContexts;
    this.maxClientBufferBytes = options.maxClientBufferBytes ?? 256 * 1024 * 1024;
    this.callTimeoutMs = options.callTimeoutMs ?? 10_000;
    this.transport.on('message', (text) => this.fromBrowser(text));
    this.transport.on('oversized', (head, tail, length) => this.oversized(head, tail, length));
    this.transport.on('drain', () => this.setPaused(false));
    this.transport.on('close', (reason) => this.browserGone(reason));
  }

  /** Starts following targets (for page counts and context lookups). Call once before serving clients. */
  async start(): Promise<void> {
    await this.call('Target.setDiscoverTargets', { discover: true });
  }

  /** Why the pipe closed, or undefined while it is open. */
  get closed(): string | undefined {
    return this.closedReason;
  }

  /** Called once when the pipe closes. */
  onClose(listener: (reason: string) => void): void {
    if (this.closedReason !== undefined) listener(this.closedReason);
    else this.closeListeners.add(listener);
  }

  /** Clients connected now. */
  get clientCount(): number {
    return this.clients.size;
  }

  /** The load now. */
  load(): LoadReport {
    let warm = 0;
    for (const c of this.contexts.values()) if (c.state === 'warm') warm++;
    let pages = 0;
    for (const t of this.targets.values()) if (t.type === 'page') pages++;
    return { contexts: this.contexts.size, warm, leased: this.contexts.size - warm, pages, maxContexts: this.maxContexts, leasesServed: this.served };
  }

  /** Every target known now (from target discovery on the pipe). */
  targetList(): TargetSummary[] {
    return [...this.targets.values()].map((t) => ({ ...t }));
  }

  /** Sends a command of the gateway's own on the pipe (no client); rejects on a CDP error, timeout or a closed pipe. */
  call(method: string, params: Json = {}, sessionId?: string, timeoutMs = this.callTimeoutMs): Promise<Json> {
    if (this.closedReason !== undefined) return Promise.reject(new Error(`the browser is gone: ${this.closedReason}`));
    const id = this.nextId++;
    return new Promise<Json>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.internal.delete(id);
        reject(new Error(`${method} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.internal.set(id, { resolve, reject, timer });
      this.write(JSON.stringify({ id, method, params, ...(sessionId !== undefined ? { sessionId } : {}) }));
    });
  }

  /**
   * Connects a client: attaches a browser session for it and returns the function that takes its messages and the
   * one that disconnects it (disposing its contexts). Messages given before the session exists are queued.
   */
  connect(sink: ClientSink): { receive(text: string): void; disconnect(): Promise<void> } {
    const client = new Client(this.nextClientId++, sink);
    this.clients.add(client);
    if (this.paused) sink.pause();
    const ready = (async () => {
      const result = await this.call('Target.attachToBrowserTarget');
      const sessionId = result['sessionId'];
      if (typeof sessionId !== 'string') throw new Error('Target.attachToBrowserTarget answered without a sessionId');
      if (client.closed) {
        void this.call('Target.detachFromTarget', { sessionId }).catch(() => undefined);
        return;
      }
      client.root = sessionId;
      this.sessions.set(sessionId, { client, kind: 'browser', targetId: undefined, parent: undefined });
      for (const text of client.early.splice(0)) this.fromClient(client, text);
    })();
    ready.catch((error: unknown) => {
      if (client.closed) return;
      this.logger.warn('Failed to attach a browser session for a CDP client', { error: (error as Error).message });
      sink.close(1011, 'the gateway could not attach a browser session');
      void this.disconnect(client);
    });
    return {
      receive: (text) => {
        if (client.closed) return;
        if (client.root === undefined) client.early.push(text);
        else this.fromClient(client, text);
      },
      disconnect: () => this.disconnect(client),
    };
  }

  /** Closes the pipe's use: every client is disconnected (Chromium is stopped by its owner). */
  close(reason = 'the gateway is stopping'): void {
    this.browserGone(reason);
  }

  // ---------------------------------------------------------------- client → browser

  private fromClient(client: Client, text: string): void {
    const parsed = parseClientMessage(text);
    if ('error' in parsed) {
      this.hooks.refused?.('malformed', 'unknown');
      this.answerError(client, parsed.id, parsed.error, undefined);
      return;
    }
    const message = parsed.message;
    const sessionId = message.sessionId ?? client.root!;
    const session = this.sessions.get(sessionId);
    if (session === undefined || session.client !== client) {
      this.hooks.refused?.('session', message.method);
      this.answerError(client, message.id, { code: -32001, message: `Session with given id not found: ${message.sessionId ?? ''}` }, message.sessionId);
      return;
    }
    const shownSession = message.sessionId;
    if (message.method.startsWith('Gateway.')) {
      this.gatewayCommand(client, message, sessionId, shownSession);
      return;
    }
    const verdict = checkCommand(message.method, message.params);
    if (verdict !== undefined) {
      this.hooks.refused?.('policy', message.method);
      this.logger.warn('Refused a CDP command by policy', { method: message.method });
      this.answerError(client, message.id, { code: -32000, message: verdict }, shownSession);
      return;
    }
    const ownership = this.checkOwnership(client, message);
    if (ownership !== undefined) {
      this.hooks.refused?.('ownership', message.method);
      this.answerError(client, message.id, { code: -32000, message: ownership }, shownSession);
      return;
    }
    let holdsSlot = false;
    if (message.method === 'Target.createBrowserContext') {
      if (this.contexts.size + this.creating >= this.maxContexts) {
        this.hooks.refused?.('capacity', message.method);
        this.answerError(client, message.id, {
          code: CAPACITY_ERROR_CODE,
          message: `${CAPACITY_MARKER}: this browser already holds its cap of ${this.maxContexts} browser contexts (maxSessionsPerBrowser); place the lease on another browser or retry when one closes`,
        }, shownSession);
        return;
      }
      this.creating++;
      holdsSlot = true;
    }
    const id = this.nextId++;
    this.pending.set(id, {
      client, clientId: message.id, method: message.method, params: message.params, rootSession: shownSession === undefined ? sessionId : undefined, holdsSlot,
      ...(holdsSlot ? { newContextState: client.newContextState } : {}),
    });
    this.write(JSON.stringify({ id, method: message.method, ...(message.params !== undefined ? { params: message.params } : {}), sessionId }));
  }

  /** Refuses commands that name a session or context of another client; undefined lets the command through. */
  private checkOwnership(client: Client, message: ClientMessage): string | undefined {
    const params = message.params ?? {};
    switch (message.method) {
      case 'Target.disposeBrowserContext': {
        const id = params['browserContextId'];
        if (typeof id === 'string' && this.contexts.get(id)?.client !== client) {
          return `Target.disposeBrowserContext: browser context ${id} was not created by this client; a client may dispose only its own contexts`;
        }
        return undefined;
      }
      case 'Target.detachFromTarget':
      case 'Target.sendMessageToTarget': {
        const sid = params['sessionId'];
        if (typeof sid === 'string' && this.sessions.get(sid)?.client !== client) return `${message.method}: session ${sid} does not belong to this client`;
        return undefined;
      }
      default:
        return undefined;
    }
  }

  /** The `Gateway` domain: context states and load reports, answered without Chromium. */
  private gatewayCommand(client: Client, message: ClientMessage, sessionId: string, shownSession: string | undefined): void {
    const params = message.params ?? {};
    switch (message.method) {
      case 'Gateway.setContextState': {
        const state = params['state'];
        if (state !== 'warm' && state !== 'leased') {
          this.answerError(client, message.id, { code: -32602, message: 'Gateway.setContextState needs "state": "warm" or "leased"' }, shownSession);
          return;
        }
        const contextId = typeof params['browserContextId'] === 'string' ? params['browserContextId'] : this.contextOfSession(sessionId);
        const context = contextId === undefined ? undefined : this.contexts.get(contextId);
        if (context === undefined || context.client !== client) {
          this.answerError(client, message.id, { code: -32000, message: 'Gateway.setContextState: name a browser context this client created (browserContextId, or send it in a session of one of its pages)' }, shownSession);
          return;
        }
        if (context.state !== state) {
          context.state = state;
          this.loadChanged();
        }
        this.answer(client, message.id, { browserContextId: contextId, state }, shownSession);
        return;
      }
      case 'Gateway.setNewContextState': {
        // Contexts made ahead of demand are warm from their first report: marking them after they exist would show
        // them leased meanwhile (a phantom session the operator would scale on).
        const state = params['state'];
        if (state !== 'warm' && state !== 'leased') {
          this.answerError(client, message.id, { code: -32602, message: 'Gateway.setNewContextState needs "state": "warm" or "leased"' }, shownSession);
          return;
        }
        client.newContextState = state;
        this.answer(client, message.id, { state }, shownSession);
        return;
      }
      case 'Gateway.getLoad':
        this.answer(client, message.id, { ...this.load(), yours: this.contextsOf(client) }, shownSession);
        return;
      case 'Gateway.subscribeLoad':
        this.subscribers.set(sessionId, client);
        this.answer(client, message.id, { ...this.load(), yours: this.contextsOf(client) }, shownSession);
        return;
      default:
        this.hooks.refused?.('policy', message.method);
        this.answerError(client, message.id, { code: -32601, message: `'${message.method}' wasn't found (the Gateway domain has setContextState, setNewContextState, getLoad, subscribeLoad)` }, shownSession);
    }
  }

  private contextOfSession(sessionId: string): string | undefined {
    const targetId = this.sessions.get(sessionId)?.targetId;
    return targetId === undefined ? undefined : this.targets.get(targetId)?.browserContextId;
  }

  private contextsOf(client: Client): number {
    let n = 0;
    for (const c of this.contexts.values()) if (c.client === client) n++;
    return n;
  }

  // ---------------------------------------------------------------- browser → client

  private fromBrowser(text: string): void {
    if (text.length >= FAST_PATH_MIN_CHARS && this.routeLarge(text)) return;
    let message: Json;
    try {
      const value: unknown = JSON.parse(text);
      if (!isPlainObject(value)) throw new Error('not an object');
      message = value;
    } catch (error) {
      this.logger.warn('Dropped a message from Chromium that is not a JSON object', { error: (error as Error).message, length: text.length });
      return;
    }
    if (typeof message['id'] === 'number') this.fromBrowserAnswer(message['id'], message, undefined);
    else if (typeof message['method'] === 'string') this.fromBrowserEvent(message['method'], message, undefined);
  }

  /** Routes a large frame by its head and tail only; false when it must be parsed (shape unknown, or bookkeeping). */
  private routeLarge(text: string): boolean {
    const routing = peekRouting(text);
    if (routing === undefined) return false;
    if (routing.kind === 'answer') {
      const pending = this.pending.get(routing.id!);
      if (pending === undefined || NEEDS_RESULT.has(pending.method) || pending.holdsSlot) return false;
      this.pending.delete(routing.id!);
      const client = pending.client;
      if (client === undefined || client.closed) return true;
      const session = routing.sessionId !== undefined && routing.sessionId !== pending.rootSession ? routing.sessionId : undefined;
      this.toClient(client, rewriteFrame(text, routing, pending.clientId, session));
      return true;
    }
    if (routing.method!.startsWith('Target.')) return false;
    if (routing.sessionId === undefined) return true;
    const owner = this.sessions.get(routing.sessionId);
    if (owner === undefined || owner.client.closed) return true;
    const session = routing.sessionId === owner.client.root ? undefined : routing.sessionId;
    this.toClient(owner.client, rewriteFrame(text, routing, undefined, session));
    return true;
  }

  private fromBrowserAnswer(id: number, message: Json, _raw: string | undefined): void {
    const internal = this.internal.get(id);
    if (internal !== undefined) {
      this.internal.delete(id);
      clearTimeout(internal.timer);
      const error = message['error'];
      if (isPlainObject(error)) internal.reject(new Error(`CDP error ${String(error['code'])}: ${String(error['message'])}`));
      else internal.resolve(isPlainObject(message['result']) ? message['result'] : {});
      return;
    }
    const pending = this.pending.get(id);
    if (pending === undefined) return;
    this.pending.delete(id);
    if (pending.holdsSlot) this.creating--;
    const result = isPlainObject(message['result']) ? message['result'] : undefined;
    const client = pending.client;
    if (result !== undefined && client !== undefined) this.bookkeepAnswer(client, pending, result, message['sessionId']);
    if (pending.holdsSlot) this.loadChanged();
    if (client === undefined || client.closed) return;
    const out: Json = { ...message, id: pending.clientId };
    if (out['sessionId'] === pending.rootSession) delete out['sessionId'];
    this.toClient(client, JSON.stringify(out));
  }

  /** Records what an answer created or ended; a client gone by now has what it created undone at once. */
  private bookkeepAnswer(client: Client, pending: Pending, result: Json, inSession: unknown): void {
    switch (pending.method) {
      case 'Target.createBrowserContext': {
        const contextId = result['browserContextId'];
        if (typeof contextId !== 'string') return;
        this.served++;
        if (client.closed) {
          void this.call('Target.disposeBrowserContext', { browserContextId: contextId }).catch(() => undefined);
          return;
        }
        this.contexts.set(contextId, { client, state: pending.newContextState ?? 'leased' });
        return;
      }
      case 'Target.disposeBrowserContext': {
        const contextId = pending.params?.['browserContextId'];
        if (typeof contextId === 'string' && this.contexts.get(contextId)?.client === client) {
          this.contexts.delete(contextId);
          this.loadChanged();
        }
        return;
      }
      case 'Target.attachToTarget':
      case 'Target.attachToBrowserTarget': {
        const sessionId = result['sessionId'];
        if (typeof sessionId !== 'string') return;
        if (client.closed) {
          void this.call('Target.detachFromTarget', { sessionId }).catch(() => undefined);
          return;
        }
        const targetId = pending.params?.['targetId'];
        this.sessions.set(sessionId, {
          client,
          kind: pending.method === 'Target.attachToBrowserTarget' ? 'browser' : 'target',
          targetId: typeof targetId === 'string' ? targetId : undefined,
          parent: typeof inSession === 'string' ? inSession : undefined,
        });
        return;
      }
      case 'Target.detachFromTarget': {
        const sessionId = pending.params?.['sessionId'];
        if (typeof sessionId === 'string') this.forgetSession(sessionId);
        return;
      }
      default:
    }
  }

  private fromBrowserEvent(method: string, message: Json, _raw: string | undefined): void {
    const sessionId = message['sessionId'];
    const params = isPlainObject(message['params']) ? message['params'] : {};
    if (typeof sessionId !== 'string') {
      this.pipeEvent(method, params);
      return;
    }
    const owner = this.sessions.get(sessionId);
    if (owner === undefined) return;
    const client = owner.client;
    if (method === 'Target.attachedToTarget') {
      const child = params['sessionId'];
      const info = isPlainObject(params['targetInfo']) ? params['targetInfo'] : {};
      if (typeof child === 'string') {
        if (client.closed || this.isForeign(client, info['browserContextId'])) {
          this.release(sessionId, child, params['waitingForDebugger'] === true);
          return;
        } else {
          const targetId = typeof info['targetId'] === 'string' ? info['targetId'] : undefined;
          this.sessions.set(child, { client, kind: info['type'] === 'browser' ? 'browser' : 'target', targetId, parent: sessionId });
        }
      }
    } else if (method === 'Target.detachedFromTarget') {
      const child = params['sessionId'];
      if (typeof child === 'string') {
        if (this.released.delete(child)) return;
        this.forgetSession(child);
      }
    }
    if (client.closed) return;
    const out: Json = { ...message };
    if (sessionId === client.root) delete out['sessionId'];
    this.toClient(client, JSON.stringify(out));
  }

  /**
   * True when a target belongs to a context another client created (or one being disposed): a client's
   * browser-level auto-attach is not shown it, so clients neither see nor slow down each other's pages.
   */
  private isForeign(client: Client, browserContextId: unknown): boolean {
    if (typeof browserContextId !== 'string') return false;
    if (this.disposing.has(browserContextId)) return true;
    const owner = this.contexts.get(browserContextId)?.client;
    return owner !== undefined && owner !== client;
  }

  /** Lets go of a session Chromium auto-attached that no client gets: resumes the target, then detaches. */
  private release(parentSession: string, child: string, waiting: boolean): void {
    this.released.add(child);
    if (waiting) void this.call('Runtime.runIfWaitingForDebugger', {}, child).catch(() => undefined);
    void this.call('Target.detachFromTarget', { sessionId: child }, parentSession).catch(() => this.released.delete(child));
  }

  /** Events of the gateway's own target discovery. */
  private pipeEvent(method: string, params: Json): void {
    const info = isPlainObject(params['targetInfo']) ? params['targetInfo'] : undefined;
    switch (method) {
      case 'Target.targetCreated':
      case 'Target.targetInfoChanged': {
        if (info === undefined || typeof info['targetId'] !== 'string') return;
        const wasPage = this.targets.get(info['targetId'])?.type === 'page';
        const summary: TargetSummary = {
          targetId: info['targetId'],
          type: typeof info['type'] === 'string' ? info['type'] : 'other',
          url: typeof info['url'] === 'string' ? info['url'] : '',
          browserContextId: typeof info['browserContextId'] === 'string' ? info['browserContextId'] : undefined,
        };
        this.targets.set(summary.targetId, summary);
        if (wasPage !== (summary.type === 'page')) this.loadChanged();
        return;
      }
      case 'Target.targetDestroyed': {
        const targetId = params['targetId'];
        if (typeof targetId !== 'string') return;
        const was = this.targets.get(targetId);
        this.targets.delete(targetId);
        if (was?.type === 'page') this.loadChanged();
        return;
      }
      default:
    }
  }

  /** Forgets a session and every session attached under it. */
  private forgetSession(sessionId: string): void {
    if (!this.sessions.delete(sessionId)) return;
    this.subscribers.delete(sessionId);
    for (const [id, info] of this.sessions) if (info.parent === sessionId) this.forgetSession(id);
  }

  private oversized(head: string, tail: string, length: number): void {
    this.hooks.oversized?.();
    const id = /^\{"id":(\d{1,15}),/.exec(head)?.[1];
    this.logger.warn('Dropped a CDP message from Chromium above the size limit', { length, answer: id !== undefined });
    if (id === undefined) return;
    const pending = this.pending.get(Number(id));
    if (pending === undefined) return;
    this.pending.delete(Number(id));
    if (pending.holdsSlot) this.creating--;
    const session = /,"sessionId":"([0-9A-Za-z_-]{1,128})"\}$/.exec(tail)?.[1];
    if (pending.client !== undefined && !pending.client.closed) {
      this.answerError(pending.client, pending.clientId, {
        code: -32000, message: `The answer to ${pending.method} was ${length} bytes, more than the gateway routes; ask for less (smaller clip, fewer pages)`,
      }, session !== pending.rootSession ? session : undefined);
    }
  }

  // ---------------------------------------------------------------- plumbing

  private write(text: string): void {
    if (!this.transport.send(text) && this.transport.closed === undefined) this.setPaused(true);
  }

  /** Stops reading every client while the pipe is congested, so a fast client cannot grow the gateway's memory. */
  private setPaused(paused: boolean): void {
    if (this.paused === paused) return;
    this.paused = paused;
    for (const c of this.clients) {
      if (paused) c.sink.pause();
      else c.sink.resume();
    }
  }

  private toClient(client: Client, text: string): void {
    client.sink.send(text);
    if (client.sink.bufferedAmount() > this.maxClientBufferBytes) {
      this.logger.warn('Disconnected a CDP client that does not read its answers', { bufferedBytes: client.sink.bufferedAmount(), limit: this.maxClientBufferBytes });
      this.hooks.dropped?.('slow-client');
      client.sink.close(1008, 'the client did not read its answers; too much was queued for it');
      void this.disconnect(client);
    }
  }

  private answer(client: Client, id: number, result: Json, sessionId: string | undefined): void {
    this.toClient(client, JSON.stringify({ id, result, ...(sessionId !== undefined ? { sessionId } : {}) }));
  }

  private answerError(client: Client, id: number | undefined, error: CdpError, sessionId: string | undefined): void {
    this.toClient(client, JSON.stringify({ ...(id !== undefined ? { id } : {}), error, ...(sessionId !== undefined ? { sessionId } : {}) }));
  }

  private loadChanged(): void {
    if (this.loadNotifyScheduled || this.subscribers.size === 0) return;
    this.loadNotifyScheduled = true;
    queueMicrotask(() => {
      this.loadNotifyScheduled = false;
      const load = this.load();
      for (const [sessionId, client] of this.subscribers) {
        if (client.closed) continue;
        const params = { ...load, yours: this.contextsOf(client) };
        const out: Json = { method: 'Gateway.loadChanged', params };
        if (sessionId !== client.root) out['sessionId'] = sessionId;
        this.toClient(client, JSON.stringify(out));
      }
    });
  }

  /** Disposes a departed client's contexts and detaches its browser sessions. Idempotent. */
  private async disconnect(client: Client): Promise<void> {
    if (client.closed) return;
    client.closed = true;
    this.clients.delete(client);
    const contexts = [...this.contexts].filter(([, c]) => c.client === client).map(([id]) => id);
    const browserSessions = [...this.sessions].filter(([, s]) => s.client === client && s.kind === 'browser' && s.parent === undefined).map(([id]) => id);
    for (const [id, s] of this.sessions) if (s.client === client) {
      this.sessions.delete(id);
      this.subscribers.delete(id);
    }
    for (const id of contexts) this.contexts.delete(id);
    if (contexts.length > 0) this.loadChanged();
    if (this.closedReason !== undefined) return;
    for (const id of contexts) this.disposing.add(id);
    await Promise.all([
      ...contexts.map((browserContextId) => this.call('Target.disposeBrowserContext', { browserContextId }).catch((error: unknown) => {
        if (this.closedReason === undefined) this.logger.warn('Failed to dispose a departed client\'s browser context', { error: (error as Error).message });
      }).finally(() => this.disposing.delete(browserContextId))),
      ...browserSessions.map((sessionId) => this.call('Target.detachFromTarget', { sessionId }).catch(() => undefined)),
    ]);
  }

  private browserGone(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    for (const i of this.internal.values()) {
      clearTimeout(i.timer);
      i.reject(new Error(`the browser is gone: ${reason}`));
    }
    this.internal.clear();
    this.pending.clear();
    for (const client of this.clients) {
      this.hooks.dropped?.('browser-gone');
      client.sink.close(1011, 'the browser is gone');
      void this.disconnect(client);
    }
    for (const listener of this.closeListeners) listener(reason);
    this.closeListeners.clear();
  }
}

/** Answers whose result the multiplexer must read (so they are always parsed). */
const NEEDS_RESULT = new Set(['Target.createBrowserContext', 'Target.disposeBrowserContext', 'Target.attachToTarget', 'Target.attachToBrowserTarget', 'Target.detachFromTarget']);
