import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What the HTTP edge learned about a POST before the SDK serves it, for the server factory the SDK calls while serving
 * it (the factory gets the era and the verified identity from the SDK, but not these).
 */
export interface RequestScope {
  /** Who may cancel this request's calls from another request (see callerOf). */
  caller: string | undefined;
  /** The tool this request calls as a task, when it is a 2026-07-28 tools/call that will become one. */
  taskTool: string | undefined;
  /** Aborted when the client closes the connection before the response ended (any era: the client went away). */
  disconnected: AbortSignal;
}

const storage = new AsyncLocalStorage<RequestScope>();

/** Runs `fn` (the SDK serving one POST) with `scope` visible to the factory. */
export function withRequestScope<T>(scope: RequestScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** The scope of the POST being served (undefined outside one). */
export function currentRequestScope(): RequestScope | undefined {
  return storage.getStore();
}
