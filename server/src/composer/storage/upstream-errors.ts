import { secretRedactor, type SecretRedactor } from '#common/redaction.ts';
import { ComposerError } from '../composer-error.ts';

/** Which storage call failed, for messages and fixes. */
export type StorageOperation = 'upload' | 'read';

/** The configuration settings (environment variables) a fix may name. */
export const SETTING_ENV = {
  accessToken: 'COMPOSER_MCP_COMPOSER__ACCESS_TOKEN',
  projectKey: 'COMPOSER_MCP_COMPOSER__PROJECT_KEY',
  connectorUid: 'COMPOSER_MCP_COMPOSER__CONNECTOR_UID',
  apiUrl: 'COMPOSER_MCP_COMPOSER__API_URL',
  composerUrl: 'COMPOSER_MCP_COMPOSER__COMPOSER_URL',
  apiEnv: 'COMPOSER_MCP_COMPOSER__API_ENV',
} as const;

/** True for statuses worth retrying: 5xx (the platform's transient failures). Never 4xx. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 && status <= 599;
}

/**
 * Short, safe excerpt of an upstream answer for error messages. An upstream may echo the request (its headers,
 * the token, the project key), so the whole body is redacted before it is cut: every known secret and its encoded
 * forms, `Bearer …` values, and — in a JSON body — every value under a key that names a secret. Cutting first could
 * leave half a secret that no longer matches.
 */
export function bodyExcerpt(body: string, max = 200, redactor: SecretRedactor = secretRedactor): string {
  let safe: string;
  try {
    safe = JSON.stringify(redactor.redact(JSON.parse(body)));
  } catch {
    safe = redactor.redactString(body);
  }
  const flat = safe.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** The error for a non-2xx answer of the storage API (after retries, for 5xx). */
export function storageStatusError(operation: StorageOperation, status: number, body: string, context: { uid?: string; connectorUid?: string; attempts?: number }): ComposerError {
  const detail = bodyExcerpt(body);
  const details = { status, operation, ...(detail ? { upstream: detail } : {}), ...(context.attempts !== undefined ? { attempts: context.attempts } : {}) };
  if (status === 401 || status === 403) {
    return new ComposerError(
      'UNAUTHORIZED',
      `The Composer storage API refused the ${operation} (HTTP ${status}): the configured credentials are invalid, expired or not allowed for this project.`,
      `Set a valid access token in ${SETTING_ENV.accessToken} and the matching project key in ${SETTING_ENV.projectKey}, then restart the server.`,
      { details },
    );
  }
  if (status === 404) {
    return operation === 'read'
      ? new ComposerError('NOT_FOUND', `No composition with uid ${JSON.stringify(context.uid ?? '')} exists in the Composer storage.`, 'Check the uid: use the exact uid composer_save_composition returned (it is opaque; copy it unchanged).', { details })
      : new ComposerError('NOT_FOUND', `The Composer storage API does not know the connector ${JSON.stringify(context.connectorUid ?? '')} (HTTP 404).`, `Set the connector uid of your project in ${SETTING_ENV.connectorUid}.`, { details });
  }
  if (isRetryableStatus(status)) {
    return new ComposerError('UPSTREAM_ERROR', `The Composer storage API failed the ${operation} with HTTP ${status}${context.attempts ? ` after ${context.attempts} attempts` : ''}.`, 'The platform is having trouble; try again in a minute. A retried save with the same content or idempotency key will not create a duplicate.', { details });
  }
  return new ComposerError(
    'UPSTREAM_ERROR',
    `The Composer storage API rejected the ${operation} with HTTP ${status}${detail ? `: ${detail}` : ''}.`,
    `Check the server's Composer settings (${SETTING_ENV.projectKey}, ${SETTING_ENV.apiEnv}, ${SETTING_ENV.connectorUid}) and the composition; the message above is the platform's own.`,
    { details },
  );
}

/** The ComposerError when every attempt timed out. */
export function storageTimeoutError(operation: StorageOperation, timeoutMs: number, attempts: number): ComposerError {
  return new ComposerError('UPSTREAM_TIMEOUT', `The Composer storage API did not answer the ${operation} within ${timeoutMs} ms (${attempts} attempts).`, 'Try again later; if it persists, check that the API URL is reachable from the server or raise the storage timeout.', { details: { operation, timeoutMs, attempts } });
}

/** The ComposerError when the API could not be reached at all. */
export function storageNetworkError(operation: StorageOperation, cause: unknown, attempts: number): ComposerError {
  const message = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause);
  return new ComposerError('UPSTREAM_ERROR', `Could not reach the Composer storage API for the ${operation} (${attempts} attempts): ${message}.`, `Check ${SETTING_ENV.apiUrl} and the network path from the server to the API.`, { details: { operation, attempts }, cause });
}
