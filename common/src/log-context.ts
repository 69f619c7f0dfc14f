import { AsyncLocalStorage } from 'node:async_hooks';

/** Fields that follow a unit of work (a request, a tool call, a reconcile) into every log line it writes. */
export type LogFields = Record<string, string | number | boolean | undefined>;

const storage = new AsyncLocalStorage<LogFields>();

/** Runs `fn` with `fields` added to the fields of the enclosing context; every log line written inside carries them. */
export function withLogContext<T>(fields: LogFields, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...fields }, fn);
}

/** The fields of the current context (empty outside any). */
export function currentLogContext(): LogFields {
  return storage.getStore() ?? {};
}
