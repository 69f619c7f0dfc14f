import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from '#common/logger.ts';
import { secretRedactor } from '#common/redaction.ts';
import { parseTokenFile, secretsEqual } from './bearer-auth.ts';

/** The token file could not be used: the message names the file and what to fix. */
export class TokenFileError extends Error {
  override readonly name = 'TokenFileError';
}

/** The accepted bearer tokens, kept current with a file that may be replaced at any time (Kubernetes Secret volume). */
export interface TokenSource {
  /** The tokens accepted right now (never logged). */
  tokens(): readonly string[];
  /** Re-reads the file now; resolves true when the tokens changed. */
  reload(): Promise<boolean>;
  /** Stops watching. */
  close(): void;
}

/** How a token file is watched. */
export interface WatchTokenFileOptions {
  /** Fallback re-read period in ms for file systems where watch events are lost; default 2000. */
  pollIntervalMs?: number;
  /** Called after the tokens changed. */
  onChange?: () => void;
  logger?: Logger;
}

async function readTokens(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new TokenFileError(`Could not read the CDP token file ${file}: ${(error as Error).message}; mount the token Secret there or set GATEWAY_TOKEN_FILE`);
  }
  const tokens = parseTokenFile(text);
  if (tokens.length === 0) throw new TokenFileError(`The CDP token file ${file} is empty; it must hold the bearer token on one line`);
  return tokens;
}

function sameTokens(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => secretsEqual(t, b[i] ?? ''));
}

/**
 * Reads the token file (fails with a clear error when it is missing or empty) and keeps the tokens current:
 * a watch on the file's directory (Secret volumes swap a `..data` symlink, so the file itself is never written)
 * plus a periodic re-read. A later read that fails keeps the last good tokens and logs a warning.
 */
export async function watchTokenFile(file: string, options: WatchTokenFileOptions = {}): Promise<TokenSource> {
  const logger = options.logger;
  let current = await readTokens(file);
  for (const t of current) secretRedactor.add(t);
  let closed = false;
  let failing = false;
  let inflight: Promise<boolean> | undefined;

  const reload = (): Promise<boolean> => {
    inflight ??= (async () => {
      try {
        const next = await readTokens(file);
        failing = false;
        if (sameTokens(next, current)) return false;
        for (const t of next) secretRedactor.add(t);
        current = next;
        logger?.info('Reloaded CDP token file', { file, tokens: next.length });
        options.onChange?.();
        return true;
      } catch (error) {
        if (!failing) logger?.warn('Kept previous CDP tokens after token file read failed', { file, error: (error as Error).message });
        failing = true;
        return false;
      } finally {
        inflight = undefined;
      }
    })();
    return inflight;
  };

  let debounce: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    if (closed) return;
    clearTimeout(debounce);
    debounce = setTimeout(() => void reload(), 20);
  };
  let watcher: FSWatcher | undefined;
  try {
    const name = basename(file);
    watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
      if (changed === null || changed === name || changed.startsWith('..')) schedule();
    });
    watcher.on('error', () => undefined);
  } catch (error) {
    logger?.warn('Watched CDP token file by polling only', { file, error: (error as Error).message });
  }
  const poll = setInterval(() => void reload(), options.pollIntervalMs ?? 2000);
  poll.unref();

  return {
    tokens: () => current,
    reload,
    close: () => {
      closed = true;
      clearTimeout(debounce);
      clearInterval(poll);
      watcher?.close();
    },
  };
}
